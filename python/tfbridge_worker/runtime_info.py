"""What in this process changes TensorFlow's numbers: the CPU's vector ISA and whether oneDNN is on.

TF 2.21 on x86 runs oneDNN kernels by default; on CPUs with AVX-512 they move softmax and matmul
results by a few ULP against TF's own kernels (tfjs-node's too, differently), and on other CPUs change
nothing. A parity verdict is only meaningful together with these facts, so every report carries them.
"""

from __future__ import annotations

import os
import platform

from .protocol import RUNTIME

ISA_FLAGS: tuple[str, ...] = tuple(RUNTIME["isaFlags"])
ONEDNN_ENV: str = RUNTIME["onednnEnv"]


def cpu_info() -> dict:
    """The CPU model and its ISA extensions that matter for TF's kernels (Linux: /proc/cpuinfo)."""
    model, flags = None, set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = (part.strip() for part in line.partition(":"))
                if key in ("model name", "Hardware") and model is None:
                    model = value
                elif key in ("flags", "Features") and not flags:
                    flags.update(value.split())
    except OSError:
        pass
    model = model or platform.processor() or platform.machine()
    return {"model": model, "arch": platform.machine(), "isa": [f for f in ISA_FLAGS if f in flags]}


def onednn_info() -> dict:
    """Whether this TensorFlow runs oneDNN's kernels, and the TF_ENABLE_ONEDNN_OPTS that decided it."""
    from tensorflow.python.util import _pywrap_util_port

    return {"enabled": bool(_pywrap_util_port.IsMklEnabled()), "env": os.environ.get(ONEDNN_ENV)}
