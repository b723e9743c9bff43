"""tf2onnx's pruning of unused nodes in one walk, where tf2onnx 1.17 walks once per graph output.

Its optimizers prune the graph dozens of times per conversion, and ``Graph.extract_sub_graph_nodes``
walks back from every output separately: up to outputs × nodes each time. A model with a graph output
per layer output (the per-layer proof's) pays that quadratically, 6 of the 17 s of MobileNetV2's here.
This walk shares one visited set across the outputs, so it keeps exactly the nodes tf2onnx's keeps
(each output node the checker admits, with every input the checker admits, subgraphs' reads of outer
tensors included); names and node order vary from run to run in tf2onnx either way.
"""

from __future__ import annotations

# The tf2onnx whose Graph.extract_sub_graph_nodes this walk was checked against (python/requirements-onnx.txt).
CHECKED_VERSION = "1.17.0"

# tf2onnx's own method once replaced, which python/tests/test_onnx_export.py compares this walk with.
replaced = None


def extract_sub_graph_nodes(graph, outputs_name, input_checker=None, remove_unused_inputs=True):
    """The nodes the outputs depend on, as tf2onnx's method of the same name returns them."""
    outputs = list(outputs_name)
    if not remove_unused_inputs:
        outputs += [placeholder.output[0] for placeholder in graph.inputs]
    admitted = (lambda node: input_checker(node) is not False) if input_checker else (lambda node: True)
    kept: set = set()
    for output in outputs:
        node = graph.get_node_by_output(output, search_in_parent_graphs=False)
        if not node or node in kept or not admitted(node):
            continue
        kept.add(node)
        pending = [node]
        while pending:
            for name in [*(top := pending.pop()).input, *top.get_implicit_inputs()]:
                source = graph.get_node_by_output(name, search_in_parent_graphs=False)
                if source and source not in kept and admitted(source):
                    kept.add(source)
                    pending.append(source)
    return list(kept)


def install(tf2onnx) -> None:
    """Puts the one walk in tf2onnx's Graph, for the version it was checked against only."""
    global replaced
    graph = tf2onnx.graph.Graph
    if tf2onnx.__version__ == CHECKED_VERSION and graph.extract_sub_graph_nodes is not extract_sub_graph_nodes:
        replaced = graph.extract_sub_graph_nodes
        graph.extract_sub_graph_nodes = extract_sub_graph_nodes
