"""The seven reference models of issue 12, trained briefly and saved as native Keras 3 files.

Usage: .venv/bin/python test/convert/make_models.py OUTDIR

Writes OUTDIR/NAME.keras and OUTDIR/NAME.inputs.npz (keys = the model's input names, batch of 3)
for each NAME in MODELS. Deterministic: every model is built, trained and given inputs from its
own fixed seed, so a run's files do not depend on which other models were built before it; the
weights (model.weights.h5 inside the zip) and the .npz files are byte-identical across runs, while
config.json and metadata.json carry Keras's object ids and the save date. Prints nothing but errors
(MAKE_MODELS_TIMING=1 prints each model's seconds to stderr). Only layers and arguments from
protocol/layers.json are used. About 12 s for all seven on 2 idle cores, plus 7-10 s to import TF.
"""

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

import keras  # noqa: E402
from keras import layers  # noqa: E402

BATCH = 3
TRAIN_N = 32  # samples per fit; one epoch of 4 batches of 8
TRAIN_BATCH = 8
VOCAB = 20


def lstm():
    """The seed model: one LSTM and a Dense head."""
    x = keras.Input(shape=(10, 1), name="series")
    h = layers.LSTM(16, name="lstm")(x)
    y = layers.Dense(1, name="out")(h)
    return keras.Model(x, y, name="lstm")


def embedding_bigru():
    """Embedding with mask_zero feeding a Bidirectional GRU (reset_after=True, the Keras default)."""
    x = keras.Input(shape=(12,), dtype="int32", name="tokens")
    h = layers.Embedding(VOCAB, 8, mask_zero=True, name="embed")(x)
    h = layers.Bidirectional(layers.GRU(12, name="gru"), name="bigru")(h)
    y = layers.Dense(2, activation="softmax", name="out")(h)
    return keras.Model(x, y, name="embedding_bigru")


def conv1d_causal_lstm():
    """A causal Conv1D front end and two stacked LSTMs."""
    x = keras.Input(shape=(16, 3), name="signal")
    h = layers.Conv1D(8, 3, padding="causal", dilation_rate=2, activation="relu", name="conv")(x)
    h = layers.LSTM(16, return_sequences=True, name="lstm_1")(h)
    h = layers.LSTM(8, name="lstm_2")(h)
    y = layers.Dense(1, name="out")(h)
    return keras.Model(x, y, name="conv1d_causal_lstm")


def lstm_encoder_decoder():
    """Seq2seq: the encoder's final states are the decoder LSTM's initial_state; two inputs."""
    enc_in = keras.Input(shape=(8, 4), name="encoder_input")
    dec_in = keras.Input(shape=(6, 5), name="decoder_input")
    _, h, c = layers.LSTM(16, return_state=True, name="encoder")(enc_in)
    d = layers.LSTM(16, return_sequences=True, name="decoder")(dec_in, initial_state=[h, c])
    y = layers.TimeDistributed(layers.Dense(5, activation="softmax", name="proj"), name="head")(d)
    return keras.Model([enc_in, dec_in], y, name="lstm_encoder_decoder")


def simplernn_layernorm():
    """SimpleRNN (sequences) with LayerNormalization, then a second SimpleRNN."""
    x = keras.Input(shape=(10, 4), name="series")
    h = layers.SimpleRNN(16, return_sequences=True, name="rnn_1")(x)
    h = layers.LayerNormalization(name="norm")(h)
    h = layers.SimpleRNN(8, name="rnn_2")(h)
    y = layers.Dense(1, name="out")(h)
    return keras.Model(x, y, name="simplernn_layernorm")


def gru_reset_before():
    """GRU with reset_after=False (the Keras 2 / CuDNN-incompatible variant TF.js implements)."""
    x = keras.Input(shape=(10, 3), name="series")
    h = layers.GRU(16, reset_after=False, name="gru")(x)
    y = layers.Dense(1, name="out")(h)
    return keras.Model(x, y, name="gru_reset_before")


def lstm_relu_hardsigmoid_bn():
    """LSTM with relu / hard_sigmoid (Keras 3's hard_sigmoid differs from Keras 2's) and BatchNorm."""
    x = keras.Input(shape=(10, 3), name="series")
    h = layers.LSTM(16, activation="relu", recurrent_activation="hard_sigmoid",
                    return_sequences=True, name="lstm")(x)
    h = layers.BatchNormalization(name="bn")(h)
    h = layers.GlobalAveragePooling1D(name="pool")(h)
    y = layers.Dense(1, name="out")(h)
    return keras.Model(x, y, name="lstm_relu_hardsigmoid_bn")


# file name -> (builder, seed)
MODELS = {
    "lstm": (lstm, 101),
    "embedding-bigru": (embedding_bigru, 102),
    "conv1d-causal-lstm": (conv1d_causal_lstm, 103),
    "lstm-encoder-decoder": (lstm_encoder_decoder, 104),
    "simplernn-layernorm": (simplernn_layernorm, 105),
    "gru-reset-before": (gru_reset_before, 106),
    "lstm-relu-hardsigmoid-bn": (lstm_relu_hardsigmoid_bn, 107),
}


def random_inputs(model, n, rng):
    """A dict input name -> array for n samples: float normals, or int ids with trailing zero padding."""
    out = {}
    for t in model.inputs:
        name = t.name  # Keras 3: an Input's tensor carries the Input's name
        shape = (n,) + tuple(t.shape[1:])
        if "int" in str(t.dtype):
            ids = rng.integers(1, VOCAB, size=shape).astype("int32")
            # Trailing padding of a different length per row (row 0 none), so the mask matters.
            steps = shape[1]
            for i in range(n):
                pad = (i * 5) % steps
                if pad:
                    ids[i, steps - pad:] = 0
            out[name] = ids
        else:
            out[name] = rng.standard_normal(shape).astype("float32")
    return out


def build_and_save(name, builder, seed, outdir):
    keras.utils.set_random_seed(seed)
    model = builder()
    rng = np.random.default_rng(seed)
    train_x = random_inputs(model, TRAIN_N, rng)
    out_shape = (TRAIN_N,) + tuple(model.outputs[0].shape[1:])
    train_y = rng.standard_normal(out_shape).astype("float32")
    if out_shape[-1] > 1:  # the two-unit and five-unit heads are softmax classifiers
        train_y = keras.utils.to_categorical(
            rng.integers(0, out_shape[-1], size=out_shape[:-1]), out_shape[-1]).astype("float32")
        loss = "categorical_crossentropy"
    else:
        loss = "mse"
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss,
                  run_eagerly=True)  # four steps: eager is faster than tracing the graph
    # A single-input model takes its array bare (a one-key dict makes Keras warn about structure).
    if len(train_x) == 1:
        train_x = next(iter(train_x.values()))
    model.fit(train_x, train_y, batch_size=TRAIN_BATCH, epochs=1, shuffle=False, verbose=0)
    model.save(os.path.join(outdir, name + ".keras"))

    inputs = random_inputs(model, BATCH, np.random.default_rng(seed + 1000))
    np.savez(os.path.join(outdir, name + ".inputs.npz"), **inputs)


def main(argv):
    if len(argv) != 2:
        print("usage: make_models.py OUTDIR", file=sys.stderr)
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    for name, (builder, seed) in MODELS.items():
        t0 = time.perf_counter()
        build_and_save(name, builder, seed, outdir)
        if os.environ.get("MAKE_MODELS_TIMING"):
            print(f"{name}: {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
