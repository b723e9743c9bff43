"""A SavedModel whose graph reaches files is refused before TensorFlow loads it (issue 23 #12)."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfbridge_worker.errors import ModelError
from tfbridge_worker.models.savedmodel import SavedModelGraph


def _save(module, path, signature):
    tf.saved_model.save(module, str(path), signatures={"serving_default": signature})


def test_a_signature_that_reads_and_writes_files_is_refused_and_nothing_ran(tmp_path):
    marker = tmp_path / "marker"

    class Hostile(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.float32)])
        def serve(self, x):
            tf.io.write_file(str(marker), "ran")
            return {"y": x, "host": tf.io.read_file("/etc/hostname")}

    module = Hostile()
    _save(module, tmp_path / "sm", module.serve)
    with pytest.raises(ModelError, match=r"runs (WriteFile|ReadFile) \(in function .*\), which reaches files"):
        SavedModelGraph(str(tmp_path / "sm"))
    assert not marker.exists()


def test_a_function_no_signature_names_is_scanned_too(tmp_path):
    class Hidden(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.float32)])
        def serve(self, x):
            return {"y": x * 2}

        @tf.function(input_signature=[])
        def leak(self):
            return tf.io.matching_files("/etc/*")

    module = Hidden()
    module.leak.get_concrete_function()
    _save(module, tmp_path / "sm", module.serve)
    with pytest.raises(ModelError, match=r"runs MatchingFiles"):
        SavedModelGraph(str(tmp_path / "sm"))


def test_a_print_to_a_file_is_refused_and_to_stderr_is_not(tmp_path):
    import sys

    for name, stream, refused in (("file", f"file://{tmp_path}/printed", True), ("stderr", sys.stderr, False)):
        class Printing(tf.Module):
            @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.float32)])
            def serve(self, x):
                tf.print(x, output_stream=stream)
                return {"y": x}

        module = Printing()
        _save(module, tmp_path / name, module.serve)
        if refused:
            with pytest.raises(ModelError, match=r"PrintV2 to a file"):
                SavedModelGraph(str(tmp_path / name))
        else:
            SavedModelGraph(str(tmp_path / name)).close()


def test_a_keras_export_with_its_saver_and_a_lookup_table_loads_and_runs(tmp_path):
    """Checkpoint ops in the saver's own functions (the TF1 loader restores variables through them) are fine."""
    ids = keras.Input((3,), dtype="int32")
    model = keras.Model(ids, keras.layers.Dense(2)(keras.layers.Embedding(10, 4)(ids)))
    model.export(str(tmp_path / "sm"), verbose=False)
    graph = SavedModelGraph(str(tmp_path / "sm"))
    x = np.array([[1, 2, 3]], np.int32)
    (_, (session,)), (_, (eager,)) = graph.predict([x], "session"), graph.predict([x], "eager")
    assert session.shape == (1, 3, 2) and np.array_equal(session, eager)
    graph.close()
