"""Python half of the converter comparison: Keras's own outputs and every tensorflowjs_converter path.

Usage (from run.sh, in .venv-converter):  python convert_all.py WORKDIR
WORKDIR holds NAME.keras and NAME.inputs.npz from test/convert/make_models.py. For each model this
writes WORKDIR/NAME/... (converted outputs) and WORKDIR/jobs.json, which compare.mjs loads in Node.

Paths tried, each with the converter's own code (tensorflowjs.converters.converter.convert, the
function the tensorflowjs_converter command calls with its argv):
  a_keras_native    --input_format=keras on the native .keras file
  a_keras_keras_default  --input_format=keras_keras on the .keras file (no --output_format)
  a_keras_keras     --input_format=keras_keras --output_format=tfjs_layers_model on the .keras file
  a_keras_h5        --input_format=keras on a Keras 3 .h5 (model.save("x.h5"))
  b_tf_keras_h5     the tf_keras workaround: same model rebuilt under TF_USE_LEGACY_KERAS=1 with the
                    same weights, saved as .h5, --input_format=keras (legacy_build.py, a subprocess)
  c_graph           model.export() then --input_format=tf_saved_model (graph model)
  c_graph_cfv2      the same with --control_flow_v2
  d_saved_model     no conversion: the export directory for tf.node.loadSavedModel (Node only)
"""

import json
import os
import shutil
import subprocess
import sys
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import keras  # noqa: E402  (Keras 3: this venv's tensorflow-cpu 2.21 depends on keras 3.15)

from tensorflowjs.converters import converter  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "convert"))
from make_models import MODELS  # noqa: E402


def first_line(exc):
    """The line a user sees last in the traceback: 'Type: message' (message's first line)."""
    msg = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {msg[0] if msg else ''}"


def run_converter(args):
    """Runs the converter with argv `args`; returns None or the error's first line."""
    try:
        converter.convert(args)
        return None
    except BaseException as e:  # argparse exits with SystemExit on bad flags
        if isinstance(e, KeyboardInterrupt):
            raise
        traceback.print_exc(file=sys.stderr)
        return first_line(e)


def as_list(y):
    return [np.asarray(t) for t in (y if isinstance(y, (list, tuple)) else [y])]


def main(workdir):
    jobs = {"keras": keras.__version__, "models": []}
    for name in MODELS:
        src = os.path.join(workdir, name + ".keras")
        inputs = dict(np.load(os.path.join(workdir, name + ".inputs.npz")))
        mdir = os.path.join(workdir, name)
        shutil.rmtree(mdir, ignore_errors=True)
        os.makedirs(mdir)

        model = keras.saving.load_model(src)
        order = [t.name for t in model.inputs]
        x = [inputs[n] for n in order]
        ref = as_list(model.predict(x if len(x) > 1 else x[0], verbose=0))
        np.savez(os.path.join(mdir, "weights.npz"), *model.get_weights())

        entry = {
            "name": name,
            "inputs": {n: {"dtype": str(inputs[n].dtype), "shape": list(inputs[n].shape),
                           "data": inputs[n].ravel().tolist()} for n in order},
            "reference": [{"shape": list(r.shape), "data": r.ravel().astype("float64").tolist()}
                          for r in ref],
            "paths": {},
        }

        # (a) the native file, as users first try it. keras_keras unzips next to its input, so the
        # .keras gets a folder of its own.
        own = os.path.join(mdir, "native")
        os.makedirs(own)
        native = os.path.join(own, name + ".keras")
        shutil.copy(src, native)
        for key, args in [
            ("a_keras_native", ["--input_format=keras", native]),
            ("a_keras_keras_default", ["--input_format=keras_keras", native]),
            ("a_keras_keras", ["--input_format=keras_keras", "--output_format=tfjs_layers_model",
                               native]),
        ]:
            out = os.path.join(mdir, key)
            entry["paths"][key] = {"kind": "layers", "dir": out,
                                   "convertError": run_converter(args + [out])}

        h5 = os.path.join(mdir, name + ".keras3.h5")
        out = os.path.join(mdir, "a_keras_h5")
        try:
            model.save(h5)
            err = run_converter(["--input_format=keras", h5, out])
        except Exception as e:
            err = "model.save(.h5): " + first_line(e)
        entry["paths"]["a_keras_h5"] = {"kind": "layers", "dir": out, "convertError": err}

        # (c) graph models from model.export(), and (d) the export itself.
        export = os.path.join(mdir, "export")
        try:
            model.export(export, verbose=False)
            export_err = None
        except Exception as e:
            traceback.print_exc(file=sys.stderr)
            export_err = "model.export(): " + first_line(e)
        for key, extra in [("c_graph", []), ("c_graph_cfv2", ["--control_flow_v2=true"])]:
            out = os.path.join(mdir, key)
            err = export_err or run_converter(
                ["--input_format=tf_saved_model"] + extra + [export, out])
            entry["paths"][key] = {"kind": "graph", "dir": out, "convertError": err}
        entry["paths"]["d_saved_model"] = {"kind": "saved_model", "dir": export,
                                           "convertError": export_err}
        jobs["models"].append(entry)
        keras.backend.clear_session()

    # (b) the tf_keras workaround, in a process of its own (TF_USE_LEGACY_KERAS is read at import).
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
    proc = subprocess.run([sys.executable, os.path.join(HERE, "legacy_build.py"), workdir],
                          env=env)
    if proc.returncode != 0:
        raise SystemExit(f"legacy_build.py failed ({proc.returncode})")
    with open(os.path.join(workdir, "legacy.json")) as f:
        legacy = json.load(f)
    for entry in jobs["models"]:
        b = legacy["models"][entry["name"]]
        # tf_keras's own outputs against Keras 3's, before TF.js is involved.
        tk = b.pop("tfKerasOutputs", None)
        b["tfKerasMaxAbsError"] = None if tk is None else max(
            float(np.max(np.abs(np.asarray(t) - np.asarray(r["data"]))))
            for t, r in zip(tk, entry["reference"]))
        entry["paths"]["b_tf_keras_h5"] = b
    jobs["tf_keras"] = legacy["tf_keras"]
    jobs["tensorflow"] = legacy["tensorflow"]
    jobs["tensorflowjs"] = legacy["tensorflowjs"]

    with open(os.path.join(workdir, "jobs.json"), "w") as f:
        json.dump(jobs, f)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: convert_all.py WORKDIR")
    main(sys.argv[1])
