"""What a SavedModel's graph may do: refused before TensorFlow loads it when it reaches files.

A SavedModel is a TensorFlow program. Its graph runs no Python, but TensorFlow ops can read and write
files (``ReadFile``, ``WriteFile``, readers, file datasets, summaries, ``PrintV2`` to a file,
``ImmutableConst``'s memory map), and a loader runs its initializers and its signatures. This scan
reads ``saved_model.pb`` as data and refuses a graph whose live part (everything the object graph or
the MetaGraph's own nodes reach, through function calls) holds such an op. Checkpoint ops
(``SaveV2``, ``RestoreV2``) are allowed only where the MetaGraph's saver alone reaches them: the TF1
loader restores the model's own variables through them. It is a list of known ops, not a sandbox:
ops TensorFlow adds later are not on it.
"""

from __future__ import annotations

from tensorflow.core.protobuf import saved_model_pb2

from ..errors import ModelError

#: Ops that open, read, write or list files (or run Python) wherever they are.
FILE_OPS: frozenset[str] = frozenset({
    "ReadFile", "WriteFile", "MatchingFiles", "MatchingFilesDataset", "ImmutableConst", "FileSystemSetConfiguration",
    "WholeFileReader", "WholeFileReaderV2", "TextLineReader", "TextLineReaderV2", "TFRecordReader", "TFRecordReaderV2",
    "FixedLengthRecordReader", "FixedLengthRecordReaderV2", "LMDBReader", "IdentityReader", "IdentityReaderV2",
    "TextLineDataset", "TFRecordDataset", "TFRecordDatasetV2", "FixedLengthRecordDataset", "FixedLengthRecordDatasetV2",
    "CSVDataset", "CSVDatasetV2", "ExperimentalCSVDataset", "SqlDataset", "ExperimentalSqlDataset", "LMDBDataset", "ExperimentalLMDBDataset",
    "LoadDataset", "SaveDataset", "SaveDatasetV2", "SnapshotDataset", "SnapshotDatasetV2", "CacheDataset", "CacheDatasetV2",
    "DatasetToTFRecord", "ExperimentalDatasetToTFRecord", "LoadAndRemapMatrix",
    "CreateSummaryFileWriter", "CreateSummaryDbWriter", "WriteSummary", "WriteScalarSummary", "WriteHistogramSummary",
    "WriteImageSummary", "WriteAudioSummary", "WriteGraphSummary", "WriteRawProtoSummary", "ImportEvent", "FlushSummaryWriter",
    "DebugIdentity", "DebugIdentityV2", "DebugIdentityV3", "DebugNanCount", "DebugNumericSummary", "DebugNumericSummaryV2",
    "PyFunc", "PyFuncStateless", "EagerPyFunc",
})
#: The checkpoint ops a saver uses: allowed only in what the saver alone reaches.
CHECKPOINT_OPS: frozenset[str] = frozenset({"SaveV2", "Save", "SaveSlices", "RestoreV2", "Restore", "RestoreSlice", "MergeV2Checkpoints"})


def _called(node) -> list[str]:
    """The functions a node calls: every function-valued attribute (`f`, branches, bodies, lists)."""
    names = []
    for value in node.attr.values():
        if value.func.name:
            names.append(value.func.name)
        names.extend(f.name for f in value.list.func)
    return names


def _refused(node) -> str | None:
    if node.op in FILE_OPS:
        return node.op
    if node.op == "PrintV2" and node.attr["output_stream"].s.decode(errors="replace").startswith("file://"):
        return "PrintV2 to a file"
    return None


def check_graph_ops(pb_path: str, shown: str) -> None:
    """@raises ModelError naming the op and the function (or node) that holds it."""
    model = saved_model_pb2.SavedModel()
    with open(pb_path, "rb") as f:
        model.ParseFromString(f.read())
    for meta in model.meta_graphs:
        functions = {f.signature.name: f for f in meta.graph_def.library.function}
        saver_nodes = {meta.saver_def.save_tensor_name.partition(":")[0], meta.saver_def.restore_op_name.partition(":")[0]} - {""}
        objects = meta.object_graph_def
        live_roots = [*objects.concrete_functions.keys()]
        for node in objects.nodes:
            live_roots.extend(node.function.concrete_functions)
            if node.bare_concrete_function.concrete_function_name:
                live_roots.append(node.bare_concrete_function.concrete_function_name)
        saver_roots = []
        for node in meta.graph_def.node:
            if node.name in saver_nodes:
                saver_roots.extend(_called(node))
                continue
            op = _refused(node) or (node.op if node.op in CHECKPOINT_OPS else None)
            if op:
                raise ModelError(f"{shown}: the SavedModel's graph runs {op} (node {node.name}), which reaches files; tfbridge does not load it", file=shown)
            live_roots.extend(_called(node))

        def reach(roots: list[str]) -> set[str]:
            seen: set[str] = set()
            todo = [r for r in roots if r in functions]
            while todo:
                name = todo.pop()
                if name in seen:
                    continue
                seen.add(name)
                todo.extend(c for n in functions[name].node_def for c in _called(n) if c in functions and c not in seen)
            return seen

        live = reach(live_roots)
        for name in live | reach(saver_roots):
            for node in functions[name].node_def:
                op = _refused(node) or (node.op if name in live and node.op in CHECKPOINT_OPS else None)
                if op:
                    raise ModelError(f"{shown}: the SavedModel's graph runs {op} (in function {name}), which reaches files; tfbridge does not load it", file=shown)
