"""Writes the serving benchmark's models: each Keras config (JSON, from bench/serving.ts) built with
Keras's initializers seeded as tfbridge seeds them, saved as a .keras file and exported as a SavedModel,
so every contender loads the very same weights.

usage: python bench/serving_models.py MODELS.json OUTDIR   (MODELS.json: {name: {config, seed}})
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))

from tfbridge_worker.models.model import KerasModel  # noqa: E402


def main() -> None:
    models_file, out = sys.argv[1], sys.argv[2]
    with open(models_file, encoding="utf-8") as f:
        models = json.load(f)
    for name, entry in models.items():
        keras_model = KerasModel.from_config(entry["config"], seed=entry["seed"]).keras
        keras_model.save(os.path.join(out, f"{name}.keras"))
        keras_model.export(os.path.join(out, f"{name}-savedmodel"), format="tf_saved_model", verbose=False)


if __name__ == "__main__":
    main()
