"""The tf_keras workaround users are told to use, for each reference model.

Run by convert_all.py with TF_USE_LEGACY_KERAS=1 (so tf.keras is tf_keras, Keras 2):
  1. try tf.keras.models.load_model on the native .keras (recorded; it does not work),
  2. rebuild the same architecture with tf.keras (make_models.py's builders, with `keras` bound to
     tf.keras) and set the Keras 3 model's trained weights (WORKDIR/NAME/weights.npz),
  3. save it as .h5 and convert with --input_format=keras to a TF.js layers model.
Writes WORKDIR/legacy.json: per model the path entry for compare.mjs, plus tf_keras's own
outputs' max abs error against Keras 3 (before TF.js is involved).
"""

import json
import os
import sys
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if os.environ.get("TF_USE_LEGACY_KERAS") != "1":
    raise SystemExit("legacy_build.py: run with TF_USE_LEGACY_KERAS=1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_keras  # noqa: E402
import tensorflowjs  # noqa: E402
from tensorflowjs.converters import converter  # noqa: E402

# make_models.py does `import keras` / `from keras import layers`: give it tf.keras instead.
sys.modules["keras"] = tf.keras
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "convert"))
from make_models import MODELS  # noqa: E402


def first_line(exc):
    msg = str(exc).strip().splitlines()
    line = msg[0] if msg else ""
    # tf_keras's deserialization error goes on to print the whole model config on the same line.
    line = line.split(" Full object config:")[0]
    return f"{type(exc).__name__}: {line}"


def main(workdir):
    result = {"tf_keras": tf_keras.__version__, "tensorflow": tf.__version__,
              "tensorflowjs": tensorflowjs.__version__, "models": {}}
    for name, (builder, _seed) in MODELS.items():
        mdir = os.path.join(workdir, name)
        out = os.path.join(mdir, "b_tf_keras_h5")
        entry = {"kind": "layers", "dir": out, "convertError": None}
        result["models"][name] = entry
        try:
            tf.keras.models.load_model(os.path.join(workdir, name + ".keras"))
            entry["loadNativeKeras"] = None
        except Exception as e:
            entry["loadNativeKeras"] = first_line(e)
        try:
            model = builder()
            w = np.load(os.path.join(mdir, "weights.npz"))
            model.set_weights([w[f"arr_{i}"] for i in range(len(w.files))])
            inputs = dict(np.load(os.path.join(workdir, name + ".inputs.npz")))
            x = [inputs[t.name.split(":")[0]] for t in model.inputs]
            y = model.predict(x if len(x) > 1 else x[0], verbose=0)
            entry["tfKerasOutputs"] = [np.asarray(t).ravel().astype("float64").tolist()
                                       for t in (y if isinstance(y, list) else [y])]
            h5 = os.path.join(mdir, name + ".tf_keras.h5")
            model.save(h5)
        except Exception as e:
            traceback.print_exc(file=sys.stderr)
            entry["convertError"] = "tf_keras rebuild: " + first_line(e)
            continue
        try:
            converter.convert(["--input_format=keras", h5, out])
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            traceback.print_exc(file=sys.stderr)
            entry["convertError"] = first_line(e)
        tf.keras.backend.clear_session()
    with open(os.path.join(workdir, "legacy.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1])
