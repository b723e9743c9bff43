"""The attention models test/parity/attention-parity.test.ts runs: argv[1] names one. Prints its
model.to_json(); with a folder as argv[2], saves it there as NAME.keras (Keras's initial weights, seed 3)
with NAME.npz, inputs for tfbridge convert (token ids with trailing padding)."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

L = keras.layers


def transformer_classifier(mask_zero=False):
    """keras.io's "Text classification with Transformer", without its custom layers: token and position
    embeddings (position ids as a second input) added by layers.Add, one encoder block (MultiHeadAttention,
    Dropout, residual Add, LayerNormalization(1e-6), a Dense feed-forward), GlobalAveragePooling1D, a head."""
    maxlen, vocab, embed, heads, ff = 12, 50, 16, 2, 24
    ids = keras.Input((maxlen,), dtype="int32", name="tokens")
    positions = keras.Input((maxlen,), dtype="int32", name="positions")
    x = L.Add()([L.Embedding(vocab, embed, mask_zero=mask_zero)(ids), L.Embedding(maxlen, embed)(positions)])
    attn = L.MultiHeadAttention(num_heads=heads, key_dim=embed)(x, x)
    x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, L.Dropout(0.1)(attn)]))
    ffn = L.Dense(embed)(L.Dense(ff, activation="relu")(x))
    x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, L.Dropout(0.1)(ffn)]))
    x = L.Dropout(0.1)(L.GlobalAveragePooling1D()(x))
    out = L.Dense(2, activation="softmax")(L.Dropout(0.1)(L.Dense(20, activation="relu")(x)))
    return keras.Model([ids, positions], out)


def decoder_block():
    """A decoder step: causal self-attention, cross-attention to an encoder's output with its scores as a
    second model output, and Luong and Bahdanau attention over the same sequences."""
    target = keras.Input((6, 8), name="target")
    source = keras.Input((7, 8), name="source")
    x = L.MultiHeadAttention(2, 4, name="self_attention")(target, target, use_causal_mask=True)
    x = L.LayerNormalization()(L.Add()([target, x]))
    cross, scores = L.MultiHeadAttention(2, 4, value_dim=3, name="cross_attention")(x, source, return_attention_scores=True)
    luong = L.Attention(use_scale=True)([x, source])
    bahdanau = L.AdditiveAttention()([x, source, source], use_causal_mask=False)
    return keras.Model([target, source], [L.Concatenate()([cross, luong, bahdanau]), scores])


def masked_cross_attention():
    """Cross-attention between two padded id sequences: the value's mask is another tensor's."""
    a = keras.Input((12,), dtype="int32", name="tokens")
    b = keras.Input((12,), dtype="int32", name="positions")
    x = L.MultiHeadAttention(2, 4)(L.Embedding(50, 8, mask_zero=True)(a), L.Embedding(50, 8, mask_zero=True)(b))
    return keras.Model([a, b], L.GlobalAveragePooling1D()(x))


def masked_attention_into_lstm():
    """Masked Attention and MultiHeadAttention feeding LSTMs: Keras writes Attention's output mask as an
    ops.convert_to_tensor node (keras.src.ops.core), the LSTM's mask argument."""
    ids = keras.Input((12,), dtype="int32", name="tokens")
    e = L.Embedding(50, 4, mask_zero=True)(ids)
    a = L.Attention()([e, L.Dense(4)(e)])
    m = L.MultiHeadAttention(2, 3)(*[L.Embedding(50, 4, mask_zero=True)(ids)] * 2)
    return keras.Model(ids, L.Concatenate()([L.LSTM(2)(a), L.LSTM(2)(m)]))


def masked_residual():
    """A masked encoder block. At run time Keras's MultiHeadAttention removes the Keras mask of the tensor
    it attends over, so the residual Add sees none; the pooling still computes under the mask Keras
    recorded for it when the model was built (an explicit mask argument)."""
    ids = keras.Input((12,), dtype="int32", name="tokens")
    x = L.Embedding(50, 8, mask_zero=True)(ids)
    x = L.LayerNormalization()(L.Add()([x, L.MultiHeadAttention(2, 4)(x, x)]))
    return keras.Model(ids, L.GlobalAveragePooling1D()(L.Dense(8, activation="relu")(x)))


MODELS = {
    "masked-residual": masked_residual,
    "masked-attention-lstm": masked_attention_into_lstm,
    "masked-cross-attention": masked_cross_attention,
    "transformer": transformer_classifier,
    "transformer-masked": lambda: transformer_classifier(mask_zero=True),
    "decoder": decoder_block,
}

if __name__ == "__main__":
    name = sys.argv[1]
    keras.utils.set_random_seed(3)
    model = MODELS[name]()
    if len(sys.argv) > 2:
        import numpy as np

        model.save(os.path.join(sys.argv[2], f"{name}.keras"))
        tokens = np.array([[5, 9, 3, 7, 1, 2, 8, 4, 6, 11, 13, 17], [4, 8, 15, 16, 23, 42, 0, 0, 0, 0, 0, 0]], dtype="int32")
        np.savez(os.path.join(sys.argv[2], f"{name}.npz"), tokens=tokens, positions=np.tile(np.arange(12, dtype="int32"), (2, 1)))
    print(model.to_json())
