"""A model as an ONNX file, by tf2onnx from the very tf.function the worker runs (optional tools).

tf2onnx's Keras entry points do not read Keras 3 models (``from_keras`` fails on ``keras_tensor_N``),
so the model's eager call is traced as a ``tf.function`` over its input signature and converted from
there. With ``outputs="layers"`` the function returns every listed layer output (walk.py), so a proof
can compare each layer with the Session; the ONNX outputs are then named as the Session names them.

tf2onnx and onnx are not in python/requirements.txt: ``tfbridge setup --onnx`` adds
python/requirements-onnx.txt. Without them this raises a ModelError that says so.
"""

from __future__ import annotations

import logging
import os
import re

import tensorflow as tf

from ..errors import ModelError
from ..protocol import MODELS
from . import onnx_pruning, walk

# tf2onnx 1.17 writes opsets 7..18 (protocol/models.json's onnxOpsets, which the CLI checks too).
DEFAULT_OPSET = MODELS["onnxOpsets"]["default"]
OPSETS = range(MODELS["onnxOpsets"]["min"], MODELS["onnxOpsets"]["max"] + 1)
_UNSUPPORTED = re.compile(r"Tensorflow op \[(?P<node>[^:\]]+): (?P<op>[^\]]+)\] is not supported")


def _tools():
    try:
        import onnx
        import tf2onnx
    except ImportError as exc:
        raise ModelError(
            f"the worker's Python env has no ONNX tools ({exc.name} is missing): run `npx tfbridge setup --onnx` "
            "(in a clone: `make setup`), which installs python/requirements-onnx.txt", setup="onnx",
        ) from exc
    onnx_pruning.install(tf2onnx)
    return onnx, tf2onnx


class _Unsupported(logging.Handler):
    """Collects the ops tf2onnx has no ONNX conversion for: it logs them and writes the model anyway."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.found: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        match = _UNSUPPORTED.search(record.getMessage())
        if match:
            self.found.append((match["node"], match["op"]))


def _layer_of(node: str, names: list[str]) -> str | None:
    """The Keras layer a TF node name belongs to, if any: `functional_1/tv_1/StringSplit` → `tv` (the
    traced graph's scopes carry a `_N` suffix the layer's own name may lack)."""
    for part in node.split("/")[1:]:
        for candidate in (part, re.sub(r"_\d+$", "", part)):
            if candidate in names:
                return candidate
    return None


def _erfc(ctx, node, name, args):
    """Erfc (exact gelu: ``0.5·x·erfc(-x/√2)``), which tf2onnx does not convert, as ``1 - Erf``."""
    import numpy as np
    from tf2onnx import utils

    node.type = "Erf"
    one = ctx.make_const(utils.make_name(f"{name}_one"), np.array(1, dtype=utils.map_onnx_to_numpy_type(ctx.get_dtype(node.output[0]))))
    ctx.insert_new_node_on_output("Sub", node.output[0], name=utils.make_name(f"{name}_erfc"), inputs=[one.output[0], node.output[0]])


def _without_xla_calls(tf2onnx, graph_def, inputs: list[str], outputs: list[str]):
    """Keras runs a grouped convolution as a function compiled with XLA (``jit_compile=True``, marked
    no-inline); Grappler does not inline such calls, and tf2onnx cannot convert a call. Without those
    marks the function is an ordinary one: inlined, its Conv2D becomes ONNX's grouped Conv."""
    marked = [f for f in graph_def.library.function if "_XlaMustCompile" in f.attr]
    calls = [n for n in graph_def.node if "_XlaMustCompile" in n.attr]
    if not marked and not calls:
        return graph_def
    for function in marked:
        for mark in ("_XlaMustCompile", "_noinline"):
            if mark in function.attr:
                del function.attr[mark]
    for node in calls:
        del node.attr["_XlaMustCompile"]
    with tf.Graph().as_default():  # Grappler runs on a graph, as tf2onnx's own freezing does
        tf.import_graph_def(graph_def, name="")
        return tf2onnx.tf_loader.tf_optimize(inputs, outputs, graph_def)


def _convert(tf2onnx, concrete, n_inputs: int, opset: int):
    """tf2onnx's ``from_function``, except for captured tensors: it makes every input of the concrete
    function an ONNX input, and a layer's captured constants (EfficientNet's Normalization mean and
    variance) are inputs there. They become constants here, as the variables already do."""
    inputs = [t.name for t in concrete.inputs[:n_inputs]]
    outputs = [t.name for t in concrete.outputs]
    captured = {t.name: value for t, value in zip(concrete.inputs[n_inputs:], concrete.captured_inputs) if t.dtype != tf.dtypes.resource}
    with tf.device("/cpu:0"):
        frozen = tf2onnx.tf_loader.from_function(concrete, inputs + list(captured), outputs)
        for node in frozen.node:
            value = captured.get(f"{node.name}:0")
            if value is not None and node.op == "Placeholder":
                node.op = "Const"
                dtype = node.attr["dtype"].type
                node.attr.clear()
                node.attr["dtype"].type = dtype
                node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value.numpy()))
        frozen = _without_xla_calls(tf2onnx, frozen, inputs, outputs)
        renamed = tf2onnx.convert.tensor_names_from_structed(concrete, inputs, outputs)
        proto, _ = tf2onnx.convert.from_graph_def(
            frozen, name=concrete.name, input_names=inputs, output_names=outputs, opset=opset, tensors_to_rename=renamed,
            custom_op_handlers={"Erfc": (_erfc, [])},
        )
    return proto


def _subgraphs(node):
    """The graphs in a node's attributes (If's branches, Loop's body), which may read outer tensors by name."""
    for attribute in node.attribute:
        yield from ([attribute.g] if attribute.HasField("g") else [])
        yield from attribute.graphs


def _tensor_names(graph) -> set[str]:
    return {v for n in graph.node for v in [*n.input, *n.output]} | {v for n in graph.node for g in _subgraphs(n) for v in _tensor_names(g)}


def _rename(graph, renamed: dict[str, str]) -> None:
    """Renames tensors wherever they are read or written, subgraphs included."""
    for node in graph.node:
        node.output[:] = [renamed.get(v, v) for v in node.output]
        node.input[:] = [renamed.get(v, v) for v in node.input]
        for inner in _subgraphs(node):
            _rename(inner, renamed)
            for value in inner.output:
                value.name = renamed.get(value.name, value.name)


def export_onnx(model, path: str, outputs: str = "model", opset: int | None = None) -> dict:
    """Writes `model` (a KerasModel) to `path` as ONNX; returns {path, opset, tf2onnx, onnx, outputs}."""
    onnx, tf2onnx = _tools()
    opset = DEFAULT_OPSET if opset is None else opset
    if opset not in OPSETS:
        raise ModelError(f"opset {opset}: tf2onnx {tf2onnx.__version__} writes opsets {OPSETS.start} to {OPSETS.stop - 1}", field="opset")
    keras_model = model.keras
    if outputs == "layers":
        names = [o["name"] for o in model.layer_outputs]
        run = lambda xs: walk.run(keras_model, xs)  # noqa: E731
    else:
        names = [o["name"] for o in model.outputs]
        run = lambda xs: keras_model(xs, training=False)  # noqa: E731
    signature = [tf.TensorSpec([None, *i["shape"][1:]], i["dtype"], name=i["name"]) for i in model.inputs]

    @tf.function(input_signature=signature)
    def function(*xs):
        result = run(list(xs))
        flat = list(result) if isinstance(result, (list, tuple)) else [result]
        # Keys sort as the outputs do, so tf2onnx's outputs keep this order whatever it sorts by.
        return {f"o{i:06d}": t for i, t in enumerate(flat)}

    unsupported = _Unsupported()
    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.addHandler(unsupported)
    logger.setLevel(logging.ERROR)
    try:
        proto = _convert(tf2onnx, function.get_concrete_function(*signature), len(signature), opset)
    except Exception as exc:
        ops = ", ".join(sorted({op for _, op in unsupported.found}))
        raise ModelError(f"tf2onnx {tf2onnx.__version__} could not convert the model: {type(exc).__name__}: {exc}" + (f" (unsupported TensorFlow ops: {ops})" if ops else "")) from exc
    finally:
        logger.removeHandler(unsupported)
        logger.setLevel(level)
    if unsupported.found:
        layers = [o["layer"] for o in model.layer_outputs]
        named = [f"{op} (node {node}" + (f", layer {layer}" if (layer := _layer_of(node, layers)) else "") + ")" for node, op in unsupported.found]
        first = _layer_of(unsupported.found[0][0], layers)
        raise ModelError(f"tf2onnx {tf2onnx.__version__} has no ONNX conversion for: {'; '.join(named)}", layer=first, op=unsupported.found[0][1])

    graph = proto.graph
    if len(graph.output) != len(names):
        raise ModelError(f"tf2onnx wrote {len(graph.output)} outputs for the {len(names)} asked for")
    renamed = {o.name: names[i] for i, o in enumerate(sorted(graph.output, key=lambda o: o.name))}
    taken = _tensor_names(graph) - set(renamed)
    clash = sorted(taken & set(renamed.values()))
    if clash:
        raise ModelError(f"the ONNX graph already has a tensor named {clash[0]!r}: cannot name a layer output so", layer=clash[0])
    _rename(graph, renamed)
    for value in graph.output:
        value.name = renamed[value.name]
    order = {name: i for i, name in enumerate(names)}
    outputs_sorted = sorted(graph.output, key=lambda o: order[o.name])
    del graph.output[:]
    graph.output.extend(outputs_sorted)
    proto.producer_name = "tfbridge (tf2onnx)"
    try:
        onnx.checker.check_model(proto)
    except Exception as exc:
        raise ModelError(f"the ONNX model tf2onnx wrote does not pass onnx's checker: {exc}") from exc
    onnx.save(proto, path)
    return {"path": os.path.abspath(path), "opset": opset, "tf2onnx": tf2onnx.__version__, "onnx": onnx.__version__, "outputs": names}
