"""Loading TensorRT-RTX plans: the pre-load validity check (real tensorrt_rtx, no GPU here), and EngineRunner's
runtime cache and CUDA-graph strategy (the strict double's rtx layout: the real runtime needs a GPU)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gnet.checks.ort import cpu_session
from gnet.engines import rtx_runtime
from gnet.engines.engine_runner import EngineRunner
from gnet.engines.rtx_runtime import NO_GPU, plan_check, refuse_unusable
from gnet.engines.trt_logger import logger_for
from gnet.errors import CompatibilityError
from tests.helpers.rtx import real_rtx
from tests.trt_double import FakeDevice
from tests.trt_double.fixtures import build_tiny

SUPPORTED = "7.5, 8.0, 8.6, 8.9, 12.0 and 12.1"


@pytest.fixture()
def real_plan(tmp_path: Path) -> Path:
    """A real TensorRT-RTX plan of the tiny FP16 model, with its manifest."""
    return build_tiny(tmp_path, "fp16", runtime="tensorrt-rtx", compute_capabilities="sm89").plan


def test_without_a_gpu_the_real_check_cannot_tell_and_says_so(real_plan: Path):
    trt = real_rtx()
    runtime = trt.Runtime(logger_for(trt))
    data = real_plan.read_bytes()
    check = plan_check(trt, runtime, data, None)
    assert check.validity == "INVALID" and check.reasons == (NO_GPU,) and not check.usable
    assert plan_check(trt, runtime, data[:64]).reasons == (NO_GPU,)  # it reads only the header: SHA-256 catches this
    malformed = plan_check(trt, runtime, b"\0" * 100)
    assert malformed.reasons == ("it is not a TensorRT-RTX plan (its header is malformed)",)
    with pytest.raises(CompatibilityError) as err:
        refuse_unusable(malformed, real_plan, real_plan.parent / "googlenet_fp16.onnx")
    assert str(err.value).startswith("googlenet_fp16.rtx.plan cannot run here: it is not a TensorRT-RTX plan")
    with pytest.raises(CompatibilityError, match="cannot query a GPU here .*; run it on a machine with a supported"):
        refuse_unusable(check, real_plan, real_plan.parent / "googlenet_fp16.onnx")


def test_engine_runner_refuses_a_real_plan_before_loading_it_here(real_plan: Path):
    with pytest.raises(CompatibilityError, match=r"^googlenet_fp16.rtx.plan cannot run here: TensorRT-RTX cannot query a GPU"):
        EngineRunner(real_plan, device=FakeDevice(compute_capability="8.9"))


@pytest.mark.parametrize("cc, bits, needle", [
    ("9.0", 2, f"TensorRT-RTX 1.7.1.116 runs only on GPUs of compute capability {SUPPORTED}, and this GPU has "
               "compute capability 9.0"),
    ("8.6", 2, "it was built for sm89, not for this GPU's compute capability 8.6"),
    ("8.9", 1 | 4, "it was built by another TensorRT-RTX version than this 1.7.1.116; and this machine's CUDA driver is "
                   "too old for it"),
    ("8.9", 16, "this GPU has too little memory for it"),
])
def test_each_diagnostic_bit_is_a_clause_of_one_sentence(rtx_double, tmp_path: Path, cc: str, bits: int, needle: str):
    plan = build_tiny(tmp_path, "fp32", runtime="tensorrt-rtx", compute_capabilities="sm89").plan
    rtx_double._behaviour.validity = ("INVALID", bits)
    with pytest.raises(CompatibilityError) as err:
        EngineRunner(plan, device=FakeDevice(compute_capability=cc))
    text = str(err.value)
    assert text.startswith("googlenet_fp32.rtx.plan cannot run here: ") and needle in text
    assert "--runtime tensorrt-rtx --compute-capability current" in text


def test_the_h100_sentence_names_its_compute_capability_and_the_supported_ones():
    """What the lent H100 answered for every plan (INVALID, UNSUPPORTED_CC), put through the real enum."""
    trt = real_rtx()

    class H100Runtime:
        def get_engine_validity(self, buffer):
            return trt.EngineValidity.INVALID, int(trt.EngineInvalidityDiagnostics.UNSUPPORTED_CC)

    check = plan_check(trt, H100Runtime(), b"", "9.0", "default")
    assert check.reasons == (f"TensorRT-RTX {trt.__version__} runs only on GPUs of compute capability {SUPPORTED}, "
                             "and this GPU has compute capability 9.0",)


def _images(batch: int) -> np.ndarray:
    return np.random.default_rng(batch).normal(size=(batch, 3, 16, 16)).astype(np.float32)


def test_an_rtx_plan_runs_and_keeps_its_runtime_cache_beside_it(rtx_double, tmp_path: Path):
    plan = build_tiny(tmp_path, "fp32", runtime="tensorrt-rtx").plan
    cache = tmp_path / "googlenet_fp32.rtxcache"
    reference = cpu_session(tmp_path / "googlenet_fp32.onnx")
    with EngineRunner(plan, device=FakeDevice(compute_capability="8.9")) as runner:
        assert runner.spec.rtx and runner.runtime_cache_path == cache and not runner._runtime_cache.loaded
        for batch in (1, 4):
            images = _images(batch)
            np.testing.assert_allclose(runner.infer(images), reference.run(None, {"input": images})[0], rtol=1e-5, atol=1e-6)
    saved = json.loads(cache.read_bytes().split(b"\n", 1)[1])
    assert len(saved["entries"]) == 2  # the "kernels" of both batch shapes
    with EngineRunner(plan, device=FakeDevice(compute_capability="8.9")) as again:
        assert again._runtime_cache.loaded and not again.warnings
    rtx_double._behaviour.cache_rejects = True  # another GPU, driver or TensorRT-RTX made it
    with EngineRunner(plan, device=FakeDevice(compute_capability="8.9")) as rejected:
        assert rejected.warnings == [f"the runtime cache {cache} was made for another GPU, driver or TensorRT-RTX; "
                                     "a new one is started"]


def test_runtime_cache_path_and_opt_out(rtx_double, tmp_path: Path):
    plan = build_tiny(tmp_path, "fp32", runtime="tensorrt-rtx").plan
    custom = tmp_path / "caches" / "mine.bin"
    custom.parent.mkdir()
    with EngineRunner(plan, device=FakeDevice(compute_capability="8.9"), runtime_cache=custom) as runner:
        runner.infer(_images(2))
    assert custom.is_file() and not (tmp_path / "googlenet_fp32.rtxcache").exists()
    with EngineRunner(plan, device=FakeDevice(compute_capability="8.9"), runtime_cache=False) as runner:
        runner.infer(_images(2))
        assert runner.runtime_cache_path is None
    assert not (tmp_path / "googlenet_fp32.rtxcache").exists()
    assert rtx_runtime.default_cache_path(Path("a/googlenet_int8.rtx.plan")) == Path("a/googlenet_int8.rtxcache")


def test_cuda_graphs_are_tensorrt_rtxs_own(rtx_double, tmp_path: Path):
    plan = build_tiny(tmp_path, "fp16", runtime="tensorrt-rtx").plan
    device = FakeDevice(compute_capability="8.9")
    with EngineRunner(plan, device=device, cuda_graphs=True) as runner:
        runner.infer(_images(3))
        runner.infer(_images(3))
        config = runner._context._runtime_config
        assert runner.runtime_graphs and config.cuda_graph_strategy == rtx_double.CudaGraphStrategy.WHOLE_GRAPH_CAPTURE
        assert runner.captured_batches == [] and runner.graph_fallback is None  # gnet's own capture is not used
    with EngineRunner(plan, device=FakeDevice(compute_capability="8.9")) as plain:
        assert plain._context._runtime_config.cuda_graph_strategy == rtx_double.CudaGraphStrategy.DISABLED
    assert device.leaks() == {}
