"""gnet: GoogLeNet from PyTorch to checked ONNX and TensorRT engines, with proof of parity and speed.

The pipeline in Python (:mod:`gnet.pipeline`; the command line runs the same calls)::

    import gnet

    art = gnet.export_model(weights="auto", precision="int8", int8_target="cpu")
    assert art.check().passed
    eng = art.build(runtime="tensorrt-rtx")
    with gnet.runners.OpenVINORunner(art) as runner:
        logits = runner.infer(images)
    print(gnet.benchmark([art, eng], batches=[64]).table())

Names are loaded on first use, so ``import gnet`` (and the command line's start) stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
__all__ = ["Artifact", "BenchResult", "Engine", "benchmark", "export_model", "runners"]

_HOMES = {"Artifact": "gnet.pipeline", "Engine": "gnet.pipeline", "export_model": "gnet.pipeline",
          "BenchResult": "gnet.bench.api", "benchmark": "gnet.bench.api"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    if name == "runners":
        return importlib.import_module("gnet.runners")
    raise AttributeError(f"module 'gnet' has no attribute {name!r}")
