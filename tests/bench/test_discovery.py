"""Backend discovery: every selected combination either runs here or is listed with its reason."""

from __future__ import annotations

import pytest

from gnet.bench.runners import BACKENDS, OPT_IN, OPT_IN_VARIANTS, discover, opted_out, parse_backends, parse_precisions
from gnet.bench.runners.base import Availability
from gnet.bench.runners.torch_cpu import TorchCpuRunner
from gnet.errors import GnetError


def test_every_combination_is_accounted_for():
    ready, missing = discover(parse_backends(None), parse_precisions(None))
    expected = sum(cls.is_row(v, p) for name, cls in BACKENDS.items() if name not in OPT_IN
                   for v in cls.variants if (name, v) not in OPT_IN_VARIANTS for p in parse_precisions(None))
    assert len(ready) + len(missing) == expected
    assert not {r.precision for r in ready + missing if r.backend != "openvino-cpu"} & {"bf16"}  # no such rows
    assert all(m.reason and m.stage == "discovery" for m in missing)
    names = {(r.backend, r.variant, r.precision) for r in ready}
    # onnxruntime and PyTorch are dependencies: these always run on a CPU
    assert ("torch-cpu", "eager", "fp32") in names
    assert {("ort-cpu", "default", p) for p in ("fp32", "fp16", "int8")} <= names
    assert not {(b, v) for b, v, _ in names} & set(OPT_IN_VARIANTS)  # the opt-in variants wait to be named
    reasons = {(m.backend, m.variant, m.precision): m.reason for m in missing}
    assert "FP16" in reasons[("torch-cpu", "eager", "fp16")]
    assert "INT8" in reasons[("torch-cpu", "eager", "int8")]


def test_an_opt_in_variant_runs_only_when_named_and_a_default_run_says_so():
    default = parse_backends(None)
    assert ("torch-cpu", "compile") in OPT_IN_VARIANTS and ("torch-cpu", "eager") in default
    assert not [b for b in default if b[0] == "torch-cpu" and b[1] in (None, "compile")]
    left_out = opted_out(default, ["fp32", "int8"])  # int8 is no torch-cpu row that can run: not listed
    assert [(u.backend, u.variant, u.precision) for u in left_out] == [
        ("torch-cpu", "compile", "fp32"), ("ort-cpu", "tuned", "fp32"), ("ort-cpu", "tuned", "int8"),
        ("openvino-cpu", "tuned", "fp32"), ("openvino-cpu", "tuned", "int8")]
    assert "torch-cpu:compile" in left_out[0].reason and "--backend ort-cpu:tuned" in left_out[1].reason
    assert "--backend openvino-cpu:tuned (or openvino-cpu)" in left_out[3].reason
    assert opted_out(parse_backends("torch-cpu"), ["fp32"]) == []  # named whole: its compile row runs
    assert opted_out(parse_backends("torch-cpu:compile"), ["fp32"]) == []
    assert ("torch-cpu", None) in parse_backends("torch-cpu")


def test_a_served_backend_runs_only_when_named():
    assert "triton" in OPT_IN and "triton" not in [name for name, _ in parse_backends(None)]
    assert parse_backends("triton:grpc,ort-cpu:default") == [("ort-cpu", "default"), ("triton", "grpc")]
    ready, missing = discover(parse_backends("triton"), ["int8"])
    found = {(r.variant, r.artifact_kind) for r in ready} | {(m.variant, "int8-cpu") for m in missing}
    assert found == {("http", "int8-cpu"), ("grpc", "int8-cpu")}  # INT8 on a CPU: gnet's CPU-format graph
    assert all(m.reason for m in missing)


def test_gpu_backends_say_why_without_a_gpu():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    ready, missing = discover(parse_backends("torch-cuda,ort-cuda,ort-trt,trt"), ["fp32"])
    assert not ready
    by_backend = {m.backend: m.reason for m in missing}
    assert set(by_backend) == {"torch-cuda", "ort-cuda", "ort-trt", "trt"}
    assert "CUDA" in by_backend["torch-cuda"]
    assert "TensorRT" in by_backend["trt"] or "tensorrt" in by_backend["trt"]
    for reason in by_backend.values():
        assert "\n" not in reason and "Traceback" not in reason


def test_a_probe_that_breaks_is_a_reason_not_a_crash(monkeypatch):
    def broken(self) -> Availability:
        raise RuntimeError("driver exploded")

    monkeypatch.setattr(TorchCpuRunner, "available", broken)
    ready, missing = discover([("torch-cpu", "eager")], ["fp32"])
    assert not ready and "driver exploded" in missing[0].reason


def test_compile_needs_a_compiler(monkeypatch):
    monkeypatch.setattr("gnet.bench.runners.torch_cpu.cxx_compiler", lambda: None)
    ready, missing = discover([("torch-cpu", "compile")], ["fp32"])
    assert not ready and "compiler" in missing[0].reason


def test_backend_and_precision_parsing():
    # Canonical order whatever the order typed (torch-cpu eager, the baseline, runs before anything
    # else touches the process's allocator), duplicates once.
    assert parse_backends("ort-cpu:tuned, torch-cpu, ort-cpu:default, ort-cpu:tuned") == [
        ("torch-cpu", None), ("ort-cpu", "default"), ("ort-cpu", "tuned")]
    assert parse_backends("ort-cpu:tuned,ort-cpu") == [("ort-cpu", None)]
    assert parse_precisions("int8,fp32") == ["fp32", "int8"]
    assert parse_precisions("int8,bf16") == ["bf16", "int8"] and parse_precisions(None) == ["fp32", "fp16", "bf16", "int8"]
    assert parse_backends("openvino:tuned,openvino-cpu:default") == [("openvino-cpu", "default"), ("openvino-cpu", "tuned")]
    with pytest.raises(GnetError, match="unknown backend 'tensorflow'"):
        parse_backends("tensorflow")
    with pytest.raises(GnetError, match="no variant 'fast'"):
        parse_backends("ort-cpu:fast")
    with pytest.raises(GnetError, match="unknown precision 'int4'"):
        parse_precisions("bf16,int4")


@pytest.mark.parametrize("casts", [True, False])
def test_fp16_onnx_rows_leave_a_default_run_only_where_onnx_runtime_casts_them_to_fp32(monkeypatch, casts):
    """The capability is faked both ways, so the verdict is the same on every CPU."""
    from gnet.bench.runners import left_out_by_default
    from gnet.bench.runners import ort_cpu

    monkeypatch.setattr(ort_cpu, "fp16_runs_as_fp32", lambda: casts)
    ready, _ = discover(parse_backends("ort-cpu,torch-cpu:eager"), parse_precisions(None))
    kept, left = left_out_by_default(ready)
    left_rows = {(u.backend, u.variant, u.precision) for u in left}
    assert left_rows == ({("ort-cpu", v, "fp16") for v in ("default", "tuned")} if casts else set())
    assert len(kept) + len(left) == len(ready) and all(r.precision != "fp16" for r in kept) == casts
    assert all("FP32" in u.reason and "--precision fp16" in u.reason for u in left)


def test_the_fp16_probe_asks_onnx_runtime_and_a_failing_probe_keeps_the_rows(monkeypatch):
    import onnxruntime as ort

    from gnet.bench.runners import ort_cpu

    ort_cpu.fp16_runs_as_fp32.cache_clear()
    assert isinstance(ort_cpu.fp16_runs_as_fp32(), bool)
    ort_cpu.fp16_runs_as_fp32.cache_clear()

    def broken(*args, **kwargs):
        raise RuntimeError("no session")

    monkeypatch.setattr(ort, "InferenceSession", broken)
    try:
        assert ort_cpu.fp16_runs_as_fp32() is False
    finally:
        ort_cpu.fp16_runs_as_fp32.cache_clear()
