"""model.onnx: a Keras 3 model through tf2onnx, outputs named as the Session names them; what cannot
convert is refused by op and layer. Needs the optional ONNX tools (a clone's .venv has them)."""

import keras
import onnx
import pytest

from tfbridge_worker.errors import ModelError
from tfbridge_worker.models.model import KerasModel
from tfbridge_worker.ops import Ops

L = keras.layers


def branching_model() -> KerasModel:
    x = keras.Input(shape=(6, 3), name="series")
    seq, h, c = L.LSTM(5, return_sequences=True, return_state=True, name="lstm")(x)
    dense = L.Dense(4, name="dense")
    y = L.Concatenate(name="join")([dense(h), dense(c)])
    return KerasModel.opened(keras.Model(x, [L.GlobalAveragePooling1D(name="pool")(seq), y]), "memory")


def test_every_layer_output_is_an_onnx_output_named_as_the_session_names_it(tmp_path):
    model = branching_model()
    ops, handle = opened(model)
    written = ops("model.onnx", {"handle": handle, "path": str(tmp_path / "layers.onnx"), "outputs": "layers"}, [])[0]
    names = [o["name"] for o in model.layer_outputs]
    assert sorted(names) == ["dense", "dense@1", "join", "lstm", "lstm:1", "lstm:2", "pool"]
    assert written["outputs"] == names and written["opset"] == 17
    assert [o.name for o in onnx.load(written["path"]).graph.output] == names
    graph = onnx.load(ops("model.onnx", {"handle": handle, "path": str(tmp_path / "model.onnx")}, [])[0]["path"]).graph
    assert [o.name for o in graph.output] == [o["name"] for o in model.outputs] == ["pool", "join"]
    assert [i.name for i in graph.input] == ["series"]


def opened(model: KerasModel) -> tuple[Ops, str]:
    """The worker's ops with `model` in their handle table, and its handle."""
    ops = Ops()
    return ops, ops.handles.add(model)


def test_paths_and_opsets_are_checked_before_anything_is_written(tmp_path):
    ops, handle = opened(branching_model())
    (tmp_path / "taken.onnx").write_bytes(b"")
    for args, field in [
        ({"path": str(tmp_path / "taken.onnx")}, "already exists"),
        ({"path": str(tmp_path / "model.pb")}, "ending in .onnx"),
        ({"path": str(tmp_path / "a.onnx"), "opset": 30}, "opset 30"),
        ({"path": str(tmp_path / "a.onnx"), "outputs": "every"}, "outputs must be"),
    ]:
        with pytest.raises(ModelError, match=field):
            ops("model.onnx", {"handle": handle, **args}, [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.onnx"]


def test_an_op_without_an_onnx_conversion_is_named_with_its_layer(tmp_path):
    text = keras.Input(shape=(1,), dtype="string", name="text")
    tokens = L.TextVectorization(vocabulary=["the", "cat"], output_sequence_length=4, name="tokens")(text)
    model = KerasModel.opened(keras.Model(text, L.Embedding(4, 2, name="embed")(tokens)), "memory")
    with pytest.raises(ModelError, match=r"no ONNX conversion for: .*(StaticRegexReplace|StringLower).*layer tokens") as raised:
        ops, handle = opened(model)
        ops("model.onnx", {"handle": handle, "path": str(tmp_path / "text.onnx")}, [])
    assert raised.value.details["layer"] == "tokens"
    assert not (tmp_path / "text.onnx").exists()


def test_captured_constants_are_constants_not_onnx_inputs(tmp_path):
    # Regression: Normalization given its mean and variance keeps them as tensors the tf.function
    # captures; tf2onnx's from_function made each an ONNX input (EfficientNet's had "normalization_1/Sub/y:0").
    x = keras.Input(shape=(3,), name="x")
    y = L.Dense(2, name="dense")(L.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 5.0, 6.0], name="norm")(x))
    ops, handle = opened(KerasModel.opened(keras.Model(x, y), "memory"))
    for outputs in ("model", "layers"):
        path = ops("model.onnx", {"handle": handle, "path": str(tmp_path / f"{outputs}.onnx"), "outputs": outputs}, [])[0]["path"]
        assert [i.name for i in onnx.load(path).graph.input] == ["x"]


def test_grouped_convolutions_and_exact_gelu_convert(tmp_path):
    # Regression (ConvNeXt): Keras compiles a grouped Conv2D with XLA, a call tf2onnx could not convert,
    # and exact gelu is Erfc, which tf2onnx has no conversion for. Both were refused by name.
    x = keras.Input(shape=(8, 8, 8), name="image")
    y = L.Conv2D(8, 3, groups=8, padding="same", name="depthwise")(x)
    y = L.Dense(4, activation="gelu", name="dense")(L.Conv2D(8, 3, groups=2, padding="same", name="grouped")(y))
    ops, handle = opened(KerasModel.opened(keras.Model(x, y), "memory"))
    graph = onnx.load(ops("model.onnx", {"handle": handle, "path": str(tmp_path / "m.onnx"), "outputs": "layers"}, [])[0]["path"]).graph
    groups = sorted(a.i for n in graph.node if n.op_type == "Conv" for a in n.attribute if a.name == "group")
    assert groups == [2, 8]
    kinds = {n.op_type for n in graph.node}
    assert "Erf" in kinds and not kinds & {"Erfc", "PartitionedCall", "StatefulPartitionedCall"}


def test_a_layer_output_read_inside_a_subgraph_is_renamed_there_too(tmp_path):
    # Regression (the ONNX sweep, random-0-118): Resizing with pad_to_aspect_ratio becomes an If whose
    # branch reads an earlier layer's output from the outer graph; renaming only the outer graph left the
    # branch reading a tensor that no longer existed, and onnx's checker refused the file.
    x = keras.Input(shape=(6, 5, 1), name="image")
    y = L.Resizing(5, 6, pad_to_aspect_ratio=True, name="resize")(L.Softmax(name="soft")(x))
    ops, handle = opened(KerasModel.opened(keras.Model(x, L.Dense(2, name="dense")(L.Flatten(name="flat")(y))), "memory"))
    path = ops("model.onnx", {"handle": handle, "path": str(tmp_path / "layers.onnx"), "outputs": "layers"}, [])[0]["path"]
    assert [o.name for o in onnx.load(path).graph.output] == ["soft", "resize", "flat", "dense"]


def test_pruning_in_one_walk_keeps_what_tf2onnx_keeps_walking_once_per_output(tmp_path):
    # tf2onnx 1.17 walks back from each output on its own, outputs × nodes per pruning: 6 of the 17 s of
    # MobileNetV2's per-layer export. The one walk must keep the very nodes tf2onnx's own method keeps.
    import tf2onnx
    from tf2onnx.graph import GraphUtil

    from tfbridge_worker.models import onnx_pruning

    x = keras.Input(shape=(6, 5, 1), name="image")
    y = L.Resizing(5, 6, pad_to_aspect_ratio=True, name="resize")(L.Softmax(name="soft")(x))  # an If reading outer tensors
    models = {"branching": branching_model(), "resizing": KerasModel.opened(keras.Model(x, L.Dense(2, name="dense")(L.Flatten(name="flat")(y))), "memory")}
    for name, model in models.items():
        ops, handle = opened(model)
        path = ops("model.onnx", {"handle": handle, "path": str(tmp_path / f"{name}.onnx"), "outputs": "layers"}, [])[0]["path"]
        assert tf2onnx.graph.Graph.extract_sub_graph_nodes is onnx_pruning.extract_sub_graph_nodes, "the pinned tf2onnx gets the one walk"
        graph = GraphUtil.create_graph_from_onnx_model(onnx.load(path))
        assert any(n.get_body_graphs() for n in graph.get_nodes()) == (name == "resizing")
        no_transposes = lambda node: node.type != "Transpose"  # noqa: E731
        for outputs, checker, remove_unused_inputs in [
            (graph.outputs, None, True), (graph.outputs, None, False), (graph.outputs[:1], None, True), (graph.outputs, no_transposes, True),
        ]:
            tf2onnx_kept = onnx_pruning.replaced(graph, outputs, checker, remove_unused_inputs=remove_unused_inputs)
            kept = onnx_pruning.extract_sub_graph_nodes(graph, outputs, checker, remove_unused_inputs=remove_unused_inputs)
            assert len(kept) == len(set(kept)) and set(kept) == set(tf2onnx_kept), (name, len(outputs), checker, remove_unused_inputs)
            assert len(kept) >= len(outputs)
        assert len(onnx_pruning.extract_sub_graph_nodes(graph, graph.outputs[:1])) < len(graph.get_nodes()), "a case that prunes something"
