"""The seed's LSTM as a one-layer Keras model (as src/models/lstm-spec.ts describes it), on the model path."""

import copy

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfbridge_worker.errors import EagerTensorInSessionError, ModelError
from tfbridge_worker.graph_mode import session_run
from tfbridge_worker.models.model import KerasModel
from tfbridge_worker.models.runs import ModelRuns, description_key

rng = np.random.default_rng(7)


def _initializer(name, seed):
    return {"module": "keras.initializers", "class_name": name, "config": {} if name == "Zeros" else {"seed": seed}, "registered_name": None}


def lstm_config(units, input_shape, seed=0, **args):
    """What lstmModel(spec) sends: an input, then the LSTM named `lstm` with seeded initializers."""
    layer = {
        "class_name": "LSTM",
        "name": "lstm",
        "config": {
            "name": "lstm", "units": units, "unit_forget_bias": True, "kernel_initializer": _initializer("GlorotUniform", seed),
            "recurrent_initializer": _initializer("Orthogonal", seed + 1), "bias_initializer": _initializer("Zeros", seed + 2), **args,
        },
        "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [], "dtype": "float32", "keras_history": ["input", 0, 0]}}], "kwargs": {}}],
    }
    source = {"class_name": "InputLayer", "name": "input", "config": {"name": "input", "batch_shape": [None, *input_shape], "dtype": "float32"}, "inbound_nodes": []}
    outputs = [["lstm", 0, i] for i in range(3 if args.get("return_state") else 1)]
    return {"class_name": "Functional", "config": {"name": "lstm_spec", "layers": [source, layer], "input_layers": [["input", 0, 0]], "output_layers": outputs}}


def model(units, input_shape, seed=0, weights=None, **args):
    return KerasModel.from_config(lstm_config(units, input_shape, seed, **args), weights, None if weights else seed)


@pytest.mark.parametrize(
    "units, input_shape, args, batch, shape",
    [(32, [10, 1], {}, 1, (1, 32)), (64, [15, 1], {}, 2, (2, 64)), (64, [10, 1], {"return_sequences": True}, 3, (3, 10, 64))],
    ids=["seed-example-1", "seed-example-2", "seed-example-3"],
)
def test_the_seed_examples_give_the_seed_shapes_in_a_v1_session(units, input_shape, args, batch, shape):
    x = rng.random((batch, *input_shape), dtype=np.float32)
    _, (out,) = model(units, input_shape, **args).predict([x], "session")
    assert out.shape == shape and out.dtype == np.float32
    assert np.all(np.isfinite(out)) and np.any(out != 0)


def test_session_eager_and_function_are_bit_identical():
    m = model(16, [12, 5], seed=3, return_sequences=True, return_state=True, go_backwards=True)
    x = rng.standard_normal((4, 12, 5), dtype=np.float32)
    names, session = m.predict([x], "session")
    assert names == ["lstm", "lstm:1", "lstm:2"]
    for mode in ("eager", "function"):
        _, other = m.predict([x], mode)
        for a, b in zip(session, other, strict=True):
            assert a.tobytes() == b.tobytes(), mode


def test_the_session_is_built_once_per_model():
    m = model(4, [3, 2])
    m.predict([rng.random((1, 3, 2), dtype=np.float32)])
    session = m._sessions[("session", "model")]
    m.predict([rng.random((5, 3, 2), dtype=np.float32)])
    assert m._sessions[("session", "model")] is session


def test_the_runs_cache_keeps_one_model_per_description():
    runs = ModelRuns(capacity=2)
    config = lstm_config(4, [3, 2])
    assert runs.get(config, None, 0) is runs.get(copy.deepcopy(config), None, 0)
    assert runs.get(config, None, 1) is not runs.get(config, None, 0)
    weights = runs.get(config, None, 0).weights
    explicit = runs.get(config, weights, None)
    assert explicit is not runs.get(config, None, 0)
    assert len(runs) == 2  # the least recently used went
    shifted = {k: [w + 1 for w in ws] for k, ws in weights.items()}
    assert description_key(config, weights, None) != description_key(config, shifted, None)


def test_explicit_weights_are_the_ones_used():
    weights = {"lstm": [rng.standard_normal((2, 12), dtype=np.float32), rng.standard_normal((3, 12), dtype=np.float32), rng.standard_normal(12, dtype=np.float32)]}
    x = rng.standard_normal((2, 4, 2), dtype=np.float32)
    _, (out, h, c) = model(3, [4, 2], weights=weights, return_state=True).predict([x])
    reference = keras.layers.LSTM(3, return_state=True)
    reference.build((None, 4, 2))
    reference.set_weights(weights["lstm"])
    ref_out, _, ref_c = (t.numpy() for t in reference(x))
    assert out.tobytes() == ref_out.tobytes()
    assert np.array_equal(h, out) and c.tobytes() == ref_c.tobytes()


def test_unit_forget_bias_sets_the_forget_gate_bias_to_one():
    bias = model(5, [2, 2]).weights["lstm"][2]
    assert np.array_equal(bias[5:10], np.ones(5, np.float32))
    assert not np.any(bias[:5]) and not np.any(bias[10:])
    assert not np.any(model(5, [2, 2], unit_forget_bias=False).weights["lstm"][2])


def test_seeded_initializers_make_weights_reproducible_and_distinct():
    a, b, c = (model(4, [2, 3], seed=s).weights["lstm"] for s in (11, 11, 12))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_a_mode_outside_the_list_is_refused():
    with pytest.raises(ModelError, match="mode must be one of session, session-unoptimized, eager, function"):
        model(2, [2, 2]).predict([np.zeros((1, 2, 2), np.float32)], "graph")


def test_the_seeds_eager_tensor_trap_is_explained():
    """The seed's code on TF 2: a Keras call outside a Graph is eager, and a Session cannot run it."""
    layer = keras.layers.LSTM(4)
    eager_output = layer(tf.constant(np.zeros((1, 3, 2), np.float32)))
    with pytest.raises(NotImplementedError):
        eager_output.eval(session=tf.compat.v1.Session())  # what TF itself says: no reason given
    with tf.compat.v1.Session() as session:
        with pytest.raises(EagerTensorInSessionError, match=r"eager tensor.*tf\.Graph\(\).*\.numpy\(\)"):
            session_run(session, eager_output)


def _session_output(m, x, **rewrite_off):
    """The model run in a fresh Session with the named Grappler optimizers switched off."""
    from tensorflow.core.protobuf import rewriter_config_pb2

    config = tf.compat.v1.ConfigProto()
    for name in rewrite_off:
        setattr(config.graph_options.rewrite_options, name, rewriter_config_pb2.RewriterConfig.OFF)
    graph = tf.Graph()
    with graph.as_default():
        placeholder = tf.compat.v1.placeholder(tf.float32, (None, *x.shape[1:]))
        keras_model = keras.saving.deserialize_keras_object(copy.deepcopy(m.config), safe_mode=True)
        output = keras_model(placeholder, training=False)
        assigns = [v._value.assign(w) for v, w in zip(keras_model.get_layer("lstm").weights, m.weights["lstm"])]
        init = tf.compat.v1.global_variables_initializer()
    with tf.compat.v1.Session(graph=graph, config=config) as session:
        session.run(init)
        session.run(assigns)
        return session.run(output, {placeholder: x})


@pytest.mark.parametrize(
    "args, optimizer",
    [
        # Constant folding turns /6 into ·(1/6) and moves it onto the other factor of the gate product.
        ({"recurrent_activation": "hard_sigmoid"}, "constant_folding"),
        # The arithmetic optimizer hoists the shared Sigmoid above the gates' Split (HoistCWiseUnaryChains).
        ({"activation": "sigmoid"}, "arithmetic_optimization"),
    ],
)
def test_where_the_session_differs_from_eager_grappler_is_why(args, optimizer):
    """What the model parity explains as `grappler` for an LSTM: measured here, with the optimizer named."""
    m = model(5, [8, 3], return_sequences=True, **args)
    x = np.random.default_rng(0).uniform(-1, 1, (3, 8, 3)).astype(np.float32)
    _, (eager,) = m.predict([x], "eager")
    _, (session,) = m.predict([x], "session")
    assert session.tobytes() != eager.tobytes()
    assert _session_output(m, x, **{optimizer: True}).tobytes() == eager.tobytes()
