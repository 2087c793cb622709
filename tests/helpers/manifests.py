"""A schema-valid gnet engine manifest beside a fake plan file (no TensorRT needed): what ``gnet triton-repo``
reads to configure a ``tensorrt_plan`` model."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any


def fake_plan(folder: Path, precision: str = "fp16", trt: str = "10.13.3.9", max_batch: int = 256,
              opt_batch: int = 64, version_compatible: bool = False, name: str | None = None) -> tuple[Path, dict[str, Any]]:
    """``googlenet_<precision>.plan`` (not a real engine) and its manifest ``googlenet_<precision>.json``."""
    from gnet.engines import manifest

    plan = folder / (name or f"googlenet_{precision}.plan")
    plan.write_bytes(b"not really an engine")
    sha = hashlib.sha256(plan.read_bytes()).hexdigest()
    options = {"min_batch": 1, "opt_batch": opt_batch, "max_batch": max_batch, "workspace_mib": 4096, "opt_level": 3,
               "timing_cache": None, "hardware_compat": "none", "version_compatible": version_compatible,
               "allow_mixed": False, "profiling_verbosity": "detailed"}
    doc = {
        "format": "gnet-engine-manifest", "format_version": 1, "gnet_version": "0.1.0",
        "created_utc": "2026-11-23T06:00:00Z",
        "plan": {"file": plan.name, "sha256": sha, "bytes": plan.stat().st_size},
        "model": {"name": "googlenet", "onnx_file": f"googlenet_{precision}.onnx", "onnx_sha256": sha,
                  "weights": "fixture", "weights_sha256": sha, "num_classes": 10, "image_size": 224, "opset": 17,
                  "class_names": [f"digit {i}" for i in range(10)]},
        "precision": precision,
        "tensorrt": {"version": trt, "strongly_typed": True, "hardware_compatibility": "none",
                     "version_compatible": version_compatible},
        "device": {"name": "NVIDIA H100", "compute_capability": "9.0", "total_memory_bytes": 1,
                   "driver_version": "580", "cuda_runtime_version": "13.0"},
        "host": {"os": "Linux", "machine": "x86_64"},
        "inputs": [{"name": "input", "dtype": "float32", "shape": [-1, 3, 224, 224],
                    "profile": {"min": [1, 3, 224, 224], "opt": [opt_batch, 3, 224, 224], "max": [max_batch, 3, 224, 224]}}],
        "outputs": [{"name": "logits", "dtype": "float32", "shape": [-1, 10]}],
        "preprocessing": {"layout": "NCHW"},
        "calibration": {"sha256": None},
        "build": {"seconds": 1.0, "options": options},
        "precision_proof": {"requested": precision, "expected_convolution_precision": precision.upper(), "layers": 1,
                            "layer_precisions": {}, "convolution_precisions": {}, "offending_layers": [],
                            "proven": True, "allow_mixed": False},
    }
    problems = manifest.validate(doc)
    assert not problems, problems
    manifest.write(manifest.manifest_path_for(plan), doc)
    return plan, doc
