"""The worker's operations: each takes (args, arrays) and returns (result, arrays, array names)."""

from __future__ import annotations

import builtins
import os
import platform
import time
from typing import Any, Callable

import keras
import numpy as np
import tensorflow as tf

from .errors import BadRequest, ModelError
from .models.files import load_model_file
from .models.handles import ModelHandles
from .models.model import KerasModel
from .models.onnx_export import export_onnx
from .models.runs import ModelRuns
from .models.served import ServedModels, check_seed, weights_by_layer
from .npz import read_npz
from .op_args import check_args
from .protocol import OP_SPECS, OPS, VERSION
from .proxies import ProxyChannel
from .runtime_info import cpu_info, onednn_info

Reply = tuple[dict, list[np.ndarray], list[str] | None]


class Ops:
    def __init__(self, proxies: ProxyChannel | None = None) -> None:
        self.runs = ModelRuns()
        self.handles = ModelHandles()
        self.served = ServedModels()
        self.proxies = proxies
        #: Tells the client which phase the running request is in (the executor sets it per request,
        #: when the client asked for progress); phases: "prepare", "build", "run".
        self.report: Callable[[str], None] = lambda phase: None
        # The op map: each op's handler. Its arguments are in protocol/ops.json, checked before it runs.
        self._table: dict[str, Callable[[dict, list[np.ndarray]], Reply]] = {
            "hello": self.hello,
            "echo": self.echo,
            "sleep": self.sleep,
            "raise": self.raise_,
            "model.load": self.model_load,
            "model.build": self.model_build,
            "model.run": self.model_run,
            "model.predict": self.model_predict,
            "model.weights": self.model_weights,
            "model.dispose": self.model_dispose,
            "model.save": self.model_save,
            "model.export": self.model_export,
            "model.onnx": self.model_onnx,
            "npz.load": self.npz_load,
            "serve.load": self.serve_load,
            "serve.predict": self.serve_predict,
            "serve.unload": self.serve_unload,
            "py.start": self.py_start,
            "py.put": self.py_put,
            "py.get": self.py_get,
        }
        assert set(self._table) == OPS == set(OP_SPECS), "protocol/wire.json, protocol/ops.json and Ops disagree"

    def __call__(self, op: Any, args: Any, arrays: list[np.ndarray]) -> Reply:
        handler = self._table.get(op) if isinstance(op, str) else None
        if handler is None:
            raise BadRequest(f"unknown op {op!r}; this worker knows {', '.join(sorted(self._table))}")
        if not isinstance(args, dict):
            raise BadRequest(f"args must be an object, got {type(args).__name__}")
        check_args(op, args)
        return handler(args, arrays)

    def hello(self, args: dict, arrays: list) -> Reply:
        return {
            "protocol": VERSION,
            "pid": os.getpid(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "cpu": cpu_info(),
            "onednn": onednn_info(),
            "ops": sorted(self._table),
        }, [], None

    def echo(self, args: dict, arrays: list) -> Reply:
        """The arrays back as received: the wire's round trip, with nothing else in the way."""
        return {}, arrays, None

    def sleep(self, args: dict, arrays: list) -> Reply:
        """Holds the worker for a while: a stand-in for a long computation in timeout tests."""
        seconds = args.get("seconds")
        if type(seconds) not in (int, float) or not 0 <= seconds <= 3600:
            raise BadRequest(f"sleep needs seconds between 0 and 3600, got {seconds!r}")
        time.sleep(seconds)
        return {"slept": seconds}, [], None

    def raise_(self, args: dict, arrays: list) -> Reply:
        """Raises a built-in exception, so clients can check how Python errors reach them."""
        name, message = args.get("type", "RuntimeError"), args.get("message", "")
        cls = getattr(builtins, name, None) if isinstance(name, str) else None
        if not (isinstance(cls, type) and issubclass(cls, Exception)):
            raise BadRequest(f"raise needs the name of a built-in exception, got {name!r}")
        raise cls(str(message))

    def _opened(self, model: KerasModel) -> Reply:
        return {"handle": self.handles.add(model), **model.describe()}, [], None

    def model_load(self, args: dict, arrays: list) -> Reply:
        """Opens a user's .keras / .h5 file on this worker's machine, checked before anything is deserialized."""
        return self._opened(load_model_file(args.get("path")))

    def model_build(self, args: dict, arrays: list) -> Reply:
        """Builds a model from a Keras 3 config; weights arrive named `layer/index`, or come from `seed`."""
        names = args.get("weights", [])
        weights = weights_by_layer(names, arrays)
        seed = args.get("seed")
        check_seed(seed)
        return self._opened(KerasModel.from_config(args.get("config"), weights if names else None, seed if not names else None))

    def model_run(self, args: dict, arrays: list) -> Reply:
        """Runs a model given by description: `inputs` leading arrays, then weights named `layer/index`
        (or none, and `seed`). Built on the first request with that description, cached after."""
        self.report("prepare")  # the description's digest, weights, model lookup
        count = args.get("inputs")
        if type(count) is not int or not 0 <= count <= len(arrays):
            raise BadRequest(f"model.run: args.inputs is how many of the {len(arrays)} arrays are inputs, got {count!r}")
        names = args.get("weights", [])
        weights = weights_by_layer(names, arrays[count:])
        seed = args.get("seed")
        check_seed(seed)
        model = self.runs.get(args.get("config"), weights if names else None, None if names else seed)
        mode, outputs = args.get("mode", "session"), args.get("outputs", "model")
        started = time.perf_counter()
        if not model.is_built(mode, outputs):
            self.report("build")  # a graph and session, or a function: seconds for a large model
            model.build(mode, outputs)
        self.report("run")
        names, result = model.predict(arrays[:count], mode, outputs)
        return {"mode": mode, "runMs": (time.perf_counter() - started) * 1000}, result, names

    def model_predict(self, args: dict, arrays: list) -> Reply:
        model = self.handles.get(args.get("handle"))
        mode = args.get("mode", "session")
        started = time.perf_counter()
        names, outputs = model.predict(arrays, mode, args.get("outputs", "model"))
        return {"mode": mode, "runMs": (time.perf_counter() - started) * 1000}, outputs, names

    def model_weights(self, args: dict, arrays: list) -> Reply:
        model = self.handles.get(args.get("handle"))
        names = [f"{layer}/{i}" for layer, ws in model.weights.items() for i in range(len(ws))]
        return {}, [w for ws in model.weights.values() for w in ws], names

    def model_dispose(self, args: dict, arrays: list) -> Reply:
        return {"disposed": self.handles.dispose(args.get("handle"))}, [], None

    def _keras_to_write(self, args: dict, op: str, suffix: str) -> tuple[keras.Model, str]:
        """The Keras model of args.handle and a new path for it to be written to (never over anything)."""
        model = self.handles.get(args.get("handle"))
        path = args.get("path")
        if not isinstance(path, str) or not path.endswith(suffix) or path == suffix:
            raise ModelError(f"{op} needs a path{' ending in ' + suffix if suffix else ''}; got {path!r}", file=path if isinstance(path, str) else None)
        if os.path.exists(path):
            raise ModelError(f"{path}: already exists; {op} does not overwrite", file=path)
        keras_model = getattr(model, "keras", None)
        if keras_model is None:
            raise ModelError(f"a SavedModel is one TensorFlow graph, not Keras layers: {op} needs a Keras model", file=path)
        return keras_model, path

    def model_save(self, args: dict, arrays: list) -> Reply:
        """Writes the model as a Keras 3 ``.keras`` file on this worker's machine."""
        keras_model, path = self._keras_to_write(args, "model.save", ".keras")
        keras_model.save(path)
        return {"path": os.path.abspath(path)}, [], None

    def model_export(self, args: dict, arrays: list) -> Reply:
        """Writes the model as a SavedModel (Keras's ``model.export``: a ``serving_default`` signature)."""
        keras_model, path = self._keras_to_write(args, "model.export", "")
        keras_model.export(path, verbose=False)
        return {"path": os.path.abspath(path)}, [], None

    def model_onnx(self, args: dict, arrays: list) -> Reply:
        """Writes the model as ONNX (tf2onnx, from the optional ONNX tools); `outputs="layers"`: every layer's output too."""
        self._keras_to_write(args, "model.onnx", ".onnx")
        outputs = args.get("outputs", "model")
        if outputs not in ("model", "layers"):
            raise ModelError(f"model.onnx: outputs must be model or layers, got {outputs!r}", field="outputs")
        return export_onnx(self.handles.get(args["handle"]), args["path"], outputs, args.get("opset")), [], None

    def serve_load(self, args: dict, arrays: list) -> Reply:
        """Loads and warms a pool's model version from its bytes or description, unless held already."""
        served, loaded = self.served.ensure(args, arrays)
        return {"loaded": loaded, **served.model.describe()}, [], None

    def serve_predict(self, args: dict, arrays: list) -> Reply:
        """Runs a served version. A pool sends a worker's first load of it just before, on the same queue.

        `split` lists the rows of each request a pool merged into this one: each runs on its own, so
        every caller gets exactly what an unmerged request would have (the exact batching mode).
        """
        model = self.served.get(args.get("key")).model
        mode, outputs = args.get("mode", "session"), args.get("outputs", "model")
        split = args.get("split")
        started = time.perf_counter()
        if split is None:
            names, result = model.predict(arrays, mode, outputs)
        else:
            if not isinstance(split, list) or not all(type(n) is int and n > 0 for n in split) or any(sum(split) != len(x) for x in arrays):
                raise BadRequest("serve.predict: split lists positive row counts that add up to every input's batch size")
            ends = np.cumsum(split)
            parts = [model.predict([x[end - n:end] for x in arrays], mode, outputs) for n, end in zip(split, ends)]
            names, result = parts[0][0], [np.concatenate([p[1][i] for p in parts]) for i in range(len(parts[0][1]))]
        return {"mode": mode, "runMs": (time.perf_counter() - started) * 1000}, result, names

    def serve_unload(self, args: dict, arrays: list) -> Reply:
        return {"unloaded": self.served.unload(args.get("key"))}, [], None

    def npz_load(self, args: dict, arrays: list) -> Reply:
        """The arrays of a .npz (or .npy) file on the worker's machine, by name; never unpickles (npz.py)."""
        loaded, names = read_npz(args.get("path"))
        return {}, loaded, names

    def _proxies(self) -> ProxyChannel:
        if self.proxies is None:
            raise BadRequest("this worker was started without the proxy channel (--pythonia-dir)")
        return self.proxies

    def py_start(self, args: dict, arrays: list) -> Reply:
        """Starts pythonia's Python half on its own socket; idempotent."""
        channel = self._proxies()
        channel.start()
        return {"endpoint": channel.endpoint}, [], None

    def py_put(self, args: dict, arrays: list) -> Reply:
        """Arrays into the proxies' object table, for use as arguments of proxied calls."""
        return {"ffids": self._proxies().put(arrays)}, [], None

    def py_get(self, args: dict, arrays: list) -> Reply:
        """A proxied object (anything np.asarray takes) back as one array."""
        return {}, [self._proxies().get(args.get("ffid"))], None
