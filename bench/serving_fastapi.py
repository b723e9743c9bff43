"""The usual Python microservice, for bench/serving.ts to compare with: FastAPI + uvicorn serving
Keras models through a tf.function, in TensorFlow Serving's REST shape (`instances` → `predictions`).

uvicorn bench.serving_fastapi:app --port P   (env TFBRIDGE_BENCH_MODELS: {"name": "path.keras", ...}); the bench
runs one such process per worker.
"""

import json
import os

import keras
import numpy as np
import tensorflow as tf
from fastapi import Body, FastAPI, HTTPException

app = FastAPI()
_models = {}
for _name, _path in json.loads(os.environ["TFBRIDGE_BENCH_MODELS"]).items():
    _model = keras.saving.load_model(_path, compile=False)
    _spec = _model.inputs[0]
    _fn = tf.function(lambda x, m=_model: m(x, training=False), input_signature=[tf.TensorSpec([None, *_spec.shape[1:]], _spec.dtype)])
    _fn(np.zeros([1, *_spec.shape[1:]], _spec.dtype))  # warm-up: trace before traffic
    _models[_name] = (_fn, _spec.dtype)


@app.post("/v1/models/{name}:predict")
def predict(name: str, body: dict = Body(...)) -> dict:
    if name not in _models:
        raise HTTPException(404, f"model {name} is not served here")
    fn, dtype = _models[name]
    x = np.asarray(body["instances"], dtype=dtype)
    return {"predictions": np.asarray(fn(x)).tolist()}


@app.get("/healthz")
def healthz() -> dict:
    return {"ready": True}
