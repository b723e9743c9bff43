"""Every intermediate output of a Keras model, named by its path, from the graph that computes the result.

Keras 3's ``Functional._run_through_graph`` calls each node's operation in order; tfbridge hands it an
operation that records what each one returns, and that walks a nested model (a Functional or
Sequential used as a layer: every transfer-learning model) node by node too, rather than calling it
whole. So every inner layer's output is a tensor of the very graph (Session, eager or tf.function)
that computes the model's own outputs.

Names, one per output tensor:

- ``layer`` for a layer's (or operation node's: ``x + y``, ``keras.ops.*``) first output, ``layer:i``
  for its i-th (return_state, several outputs);
- ``layer@k`` for the k-th call (k ≥ 1) of a layer called more than once (a shared layer), counted in
  the order of its inbound nodes in the model's config (not the order the graph runs them):
  ``dense``, ``dense@1``, ``dense@1:1``;
- ``model/layer`` for a layer inside a nested model, after that model's call name:
  ``mobilenetv2_1.00_64/Conv1``, ``base@1/dense``; the nested model's own outputs follow its layers'.

Keras's own mask bookkeeping (operation nodes of the layers.json ``maskOps`` classes whose outputs only
reach ``mask`` arguments) is not listed; a user's ``ops.concatenate`` of values is. :func:`describe` reads the names from the symbolic graph without running anything;
:func:`run` computes the same list in the same order.
"""

from __future__ import annotations

from typing import Any, Callable

import keras
from keras.src import backend, tree
from keras.src.models.functional import Functional, operation_fn, unpack_singleton

from .schema import call_arguments, is_mask_op_class


def _graph(op: Any) -> Functional | None:
    """The Functional graph to walk inside a nested model, or None for anything else."""
    if isinstance(op, keras.Sequential):
        return op._functional
    return op if isinstance(op, Functional) else None


def _mask_only(graph: Functional) -> set[int]:
    """The operations of `graph` that only compute masks (as schema.mask_only_operations decides from a
    config): of a maskOps class, their outputs reaching only ``mask`` arguments and other such operations."""
    cached = getattr(graph, "_tfbridge_mask_only", None)
    if cached is not None:
        return cached
    nodes = _nodes(graph)
    only = {id(n.operation) for n in nodes if is_mask_op_class(type(n.operation).__module__, type(n.operation).__name__)}
    producer = lambda t: id(t._keras_history.operation) if hasattr(t, "_keras_history") else None  # noqa: E731
    only -= {producer(t) for t in tree.flatten(graph.outputs)}
    changed = True
    while changed:
        changed = False
        for node in nodes:
            if id(node.operation) in only:
                continue
            values, _ = call_arguments({"class_name": type(node.operation).__name__}, {"args": list(node.arguments.args), "kwargs": dict(node.arguments.kwargs)})
            for t in tree.flatten(values):
                if producer(t) in only:
                    only.discard(producer(t))
                    changed = True
    graph._tfbridge_mask_only = only
    return only


def _call_names(graph: Functional, prefix: str) -> list[str]:
    """Each node's call name, in :func:`_nodes` order: ``layer@k`` for the layer's k-th call among its
    inbound nodes in this graph, the order of its ``inbound_nodes`` in the config (as the TF.js twin
    numbers them, tfjs/flatten.ts), whatever order the graph runs them in."""
    nodes = _nodes(graph)
    in_graph = {id(n) for n in nodes}
    names = []
    for node in nodes:
        own = [n for n in node.operation._inbound_nodes if id(n) in in_graph]
        k = next(i for i, n in enumerate(own) if n is node)
        names.append(f"{prefix}{node.operation.name}" + (f"@{k}" if k else ""))
    return names


def output_name(call: str, index: int) -> str:
    return call if index == 0 else f"{call}:{index}"


def _nodes(graph: Functional) -> list:
    """The nodes `_run_through_graph` computes, in its order."""
    return [
        node
        for depth in sorted(graph._nodes_by_depth, reverse=True)
        for node in graph._nodes_by_depth[depth]
        if node.operation and not node.is_input
    ]


def describe(model: keras.Model) -> list[dict]:
    """One entry per listed output tensor: its name, the call that made it (`layer`), the class, and the
    symbolic tensor (shape, dtype). In :func:`run`'s order."""
    found: list[dict] = []

    def visit(graph: Functional, prefix: str) -> None:
        for node, call in zip(_nodes(graph), _call_names(graph, prefix)):
            op = node.operation
            inner = _graph(op)
            if inner is not None:
                visit(inner, call + "/")
            if id(op) not in _mask_only(graph):
                found.extend({"name": output_name(call, i), "layer": call, "class": type(op).__name__, "tensor": t}
                             for i, t in enumerate(node.outputs))

    visit(_graph(model), "")
    return found


def _carry_masks(given: list, standardized: list) -> None:
    """Inputs Keras converted or cast lose the mask the caller's tensors carried: put it back."""
    for original, x in zip(given, standardized):
        mask = backend.get_keras_mask(original)
        if mask is not None and x is not original and backend.get_keras_mask(x) is None:
            backend.set_keras_mask(x, mask)


def run(model: keras.Model, inputs: list) -> list:
    """Every listed output (see :func:`describe`) of `model` on `inputs` (inference: training=False)."""
    recorded: list = []

    def walk(graph: Functional, args: tuple, kwargs: dict, prefix: str) -> Any:
        given = tree.flatten(args[0])
        xs = graph._standardize_inputs(args[0])
        _carry_masks(given, xs)
        if kwargs.get("mask") is not None:  # as Functional.call applies an explicit mask
            for x, mask in zip(xs, tree.flatten(kwargs["mask"])):
                if mask is not None:
                    backend.set_keras_mask(x, mask)
        # _run_through_graph calls the nodes in _nodes' order, one call each.
        names = iter(_call_names(graph, prefix))
        mask_only = _mask_only(graph)

        def recording(op: Any) -> Callable:
            def call(*a: Any, **kw: Any) -> Any:
                name = next(names)
                inner = _graph(op)
                result = walk(inner, a, kw, name + "/") if inner is not None else operation_fn(op, training=False)(*a, **kw)
                if id(op) not in mask_only:
                    recorded.extend(tree.flatten(result))
                return result

            return call

        return unpack_singleton(graph._run_through_graph(xs, operation_fn=recording))

    graph = _graph(model)
    walk(graph, (tree.pack_sequence_as(graph._inputs_struct, list(inputs)),), {}, "")
    return recorded

