"""Plans with schema-valid manifests for the C++ loader's checks, made without TensorRT: the manifest is written as
gnet build writes it (engines/manifest.py validates it against the schema), with the ONNX's own contract; the plan
is a few bytes, which is all the checks before TensorRT's deserialization read."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import onnx

from gnet import defaults
from gnet.engines import manifest
from gnet.export import metadata


def _edition(runtime: str, version: str, version_compatible: bool) -> tuple[dict[str, Any], dict[str, Any] | None]:
    if runtime == "tensorrt-rtx":
        return {"version": version, "strongly_typed": True, "compute_capabilities": "default"}, None
    device = {"name": "NVIDIA H100", "compute_capability": "9.0", "total_memory_bytes": 1, "driver_version": "580",
              "cuda_runtime_version": "13.0"}
    return ({"version": version, "strongly_typed": True, "hardware_compatibility": "none",
             "version_compatible": version_compatible}, device)


def _options(runtime: str, version_compatible: bool) -> dict[str, Any]:
    options = {"min_batch": 1, "opt_batch": 4, "max_batch": 8, "workspace_mib": 4096, "opt_level": 3,
               "allow_mixed": False, "profiling_verbosity": "detailed"}
    if runtime == "tensorrt-rtx":
        return {**options, "compute_capabilities": "default"}
    return {**options, "timing_cache": None, "hardware_compat": "none", "version_compatible": version_compatible}


def fake_plan(folder: Path, source: Path, runtime: str = "tensorrt", version: str = "11.1.0.5",
              version_compatible: bool = False) -> Path:
    """``googlenet_<precision>.plan`` (or ``.rtx.plan``) beside ``source``'s copy in ``folder``, and its manifest."""
    meta = metadata.read(onnx.load(str(source), load_external_data=False))
    size, classes, precision = meta["image_size"], meta["num_classes"], meta["precision"]
    plan = folder / defaults.plan_name(precision, runtime)
    plan.write_bytes(b"not really an engine")
    sha = hashlib.sha256(plan.read_bytes()).hexdigest()
    tensorrt, device = _edition(runtime, version, version_compatible)
    doc = {
        "format": manifest.FORMAT, "format_version": 2, "gnet_version": "0.1.0", "created_utc": "2026-12-07T06:00:00Z",
        "runtime": runtime, "plan": {"file": plan.name, "sha256": sha, "bytes": plan.stat().st_size},
        "precision": precision,
        "model": {"name": "googlenet", "onnx_file": source.name, "onnx_sha256": sha, "weights": meta.get("weights"),
                  "weights_sha256": meta.get("weights_sha256"), "num_classes": classes, "image_size": size,
                  "opset": meta.get("opset"), "class_names": meta.get("class_names", [])},
        "calibration": {"sha256": None}, "tensorrt": tensorrt, "device": device,
        "host": {"os": "Linux", "machine": "x86_64"},
        "inputs": [{"name": "input", "dtype": "float32", "shape": [-1, 3, size, size],
                    "profile": {"min": [1, 3, size, size], "opt": [4, 3, size, size], "max": [8, 3, size, size]}}],
        "outputs": [{"name": "logits", "dtype": "float32", "shape": [-1, classes]}],
        "preprocessing": meta["preprocessing"],
        "build": {"seconds": 1.0, "options": _options(runtime, version_compatible)},
        "precision_proof": {"requested": precision, "expected_convolution_precision": precision.upper(),
                            "methods": ["network"], "proven": True, "allow_mixed": False,
                            "network": {"layers": 1, "layer_types": {}, "convolutions": 0, "convolution_precisions": {},
                                        "offending_layers": [], "proven": True},
                            "inspector": None, "inspector_skipped": "a test's plan"},
    }
    manifest.write(manifest.manifest_path_for(plan), doc)  # validated against the schema first
    return plan
