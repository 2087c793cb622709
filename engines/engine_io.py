"""Describe a TensorRT engine's (or a parsed network's) I/O tensors: names, dtypes, shapes, profile bounds.

Only names present in TensorRT 10.x, 11.x and TensorRT-RTX are used."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gnet.errors import GnetError

_NON_NUMPY = {"BF16": "bfloat16", "FP8": "fp8", "INT4": "int4", "FP4": "fp4", "E8M0": "e8m0"}


def dims(value: Any) -> tuple[int, ...]:
    """A ``trt.Dims`` (or any sequence) as a tuple of ints."""
    return tuple(int(value[i]) for i in range(len(value)))


def dtype_name(trt: Any, data_type: Any) -> str:
    """``DataType.HALF`` → ``"float16"``; types numpy lacks (BF16, FP8, ...) by their TensorRT name."""
    try:
        return np.dtype(trt.nptype(data_type)).name
    except TypeError:
        key = str(data_type).rsplit(".", 1)[-1].upper()
        return _NON_NUMPY.get(key, key.lower())


def numpy_dtype(trt: Any, data_type: Any, tensor: str) -> np.dtype:
    """The numpy dtype of a tensor's buffer, or a sentence saying gnet cannot feed this type from numpy."""
    try:
        return np.dtype(trt.nptype(data_type))
    except TypeError:
        raise GnetError(f"the engine's tensor {tensor!r} has type {dtype_name(trt, data_type)}",
                        "numpy has no equivalent", "export the ONNX with float32 or float16 I/O") from None


@dataclass(frozen=True)
class TensorSpec:
    """One I/O tensor of an engine; ``profile`` is (min, opt, max) for inputs of profile 0."""

    name: str
    is_input: bool
    dtype: str
    shape: tuple[int, ...]
    profile: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None = None

    def to_manifest(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}
        if self.profile is not None:
            lo, opt, hi = self.profile
            out["profile"] = {"min": list(lo), "opt": list(opt), "max": list(hi)}
        return out


def tensor_specs(trt: Any, engine: Any) -> list[TensorSpec]:
    """Every I/O tensor of ``engine``, inputs with their profile-0 bounds."""
    specs = []
    for i in range(engine.num_io_tensors):
        name = engine.get_tensor_name(i)
        is_input = engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT
        profile = None
        if is_input:
            lo, opt, hi = engine.get_tensor_profile_shape(name, 0)
            profile = (dims(lo), dims(opt), dims(hi))
        specs.append(TensorSpec(name, is_input, dtype_name(trt, engine.get_tensor_dtype(name)),
                                dims(engine.get_tensor_shape(name)), profile))
    return specs


def network_specs(trt: Any, network: Any, profile: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]) -> list[TensorSpec]:
    """The I/O tensors of a parsed network (a build with no engine to ask, as TensorRT-RTX's without a GPU);
    ``profile`` is the optimization profile of its one input."""
    inputs = [network.get_input(i) for i in range(network.num_inputs)]
    outputs = [network.get_output(i) for i in range(network.num_outputs)]
    specs = [TensorSpec(t.name, True, dtype_name(trt, t.dtype), dims(t.shape), profile if i == 0 else None)
             for i, t in enumerate(inputs)]
    return specs + [TensorSpec(t.name, False, dtype_name(trt, t.dtype), dims(t.shape)) for t in outputs]
