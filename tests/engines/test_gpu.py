"""The device-buffer layer on a real GPU through cuda-python (and, where TensorRT or TensorRT-RTX is installed,
a real build and run, or TensorRT-RTX's refusal of a GPU it does not support).

Skipped where torch sees no CUDA GPU or cuda-python cannot open one. Run on a GPU machine with
``pytest -m gpu tests/engines/test_gpu.py``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from gnet.engines.allocations import Allocations
from gnet.engines.cuda_python_binding import CudaPythonBinding
from gnet.errors import GnetError

pytestmark = pytest.mark.gpu


def _open_backend() -> CudaPythonBinding:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch sees no CUDA GPU")
    try:
        return CudaPythonBinding()
    except (ImportError, GnetError) as exc:
        pytest.skip(f"cuda-python cannot open a GPU: {exc}")


@pytest.fixture()
def cuda():
    backend = _open_backend()
    yield backend
    backend.close()


def test_device_info_matches_torch(cuda):
    import torch

    info = cuda.device_info()
    assert info.name and info.total_memory_bytes > 0
    assert info.compute_capability == "{}.{}".format(*torch.cuda.get_device_capability(info.index))
    assert info.driver_version != "none" and info.cuda_runtime_version != "none"


def test_allocation_and_free(cuda):
    scope = Allocations(cuda)
    pointers = [scope.malloc(n) for n in (1, 4096, 64 << 20)]
    assert len(set(pointers)) == 3 and all(p > 0 for p in pointers)
    pinned = scope.pinned((256, 1000), np.float32)
    assert pinned.shape == (256, 1000) and pinned.dtype == np.float32 and pinned.flags.c_contiguous
    pinned[...] = 1.5  # the pinned pages are ordinary writable host memory
    scope.release(pointers[2])
    scope.close()
    scope.close()  # idempotent


def test_host_device_round_trip_through_pinned_memory_on_a_non_default_stream(cuda):
    scope = Allocations(cuda)
    try:
        stream = scope.stream()
        assert cuda.stream_handle(stream) != 0  # not the legacy default stream
        src = scope.pinned((8, 3, 224, 224), np.float32)
        dst = scope.pinned((8, 3, 224, 224), np.float32)
        src[...] = np.random.default_rng(0).normal(size=src.shape)
        dst[...] = 0
        dev = scope.malloc(src.nbytes)
        cuda.copy_htod_async(dev, src, stream)
        cuda.copy_dtoh_async(dst, dev, stream)
        cuda.stream_synchronize(stream)
        np.testing.assert_array_equal(dst, src)
        half = scope.pinned((5,), np.float16)
        back = scope.pinned((5,), np.float16)
        half[...] = [0.5, -1.0, 2.0, 65504.0, 0.0]
        dev16 = scope.malloc(half.nbytes)
        cuda.copy_htod_async(dev16, half, stream)
        cuda.copy_dtoh_async(back, dev16, stream)
        cuda.stream_synchronize(stream)
        np.testing.assert_array_equal(back, half)
    finally:
        scope.close()


def test_stream_sync_and_event_timing(cuda):
    scope = Allocations(cuda)
    try:
        stream = scope.stream()
        host = scope.pinned((64 << 20,), np.uint8)
        dev = scope.malloc(host.nbytes)
        start, end = scope.event(), scope.event()
        cuda.event_record(start, stream)
        for _ in range(4):
            cuda.copy_htod_async(dev, host, stream)
        cuda.event_record(end, stream)
        cuda.event_synchronize(end)
        assert cuda.event_elapsed_ms(start, end) > 0.0
        cuda.stream_synchronize(stream)
    finally:
        scope.close()


def test_cuda_graph_capture_of_a_copy_and_replay(cuda):
    scope = Allocations(cuda)
    try:
        stream = scope.stream()
        n = 1 << 20
        host_in, host_out = scope.pinned((n,), np.float32), scope.pinned((n,), np.float32)
        src, dst = scope.malloc(host_in.nbytes), scope.malloc(host_in.nbytes)
        host_in[...] = 1.0
        cuda.copy_htod_async(src, host_in, stream)
        cuda.stream_synchronize(stream)
        cuda.begin_capture(stream)
        try:
            cuda.copy_dtod_async(dst, src, host_in.nbytes, stream)
        except BaseException:
            cuda.abort_capture(stream)
            raise
        graph = scope.adopt_graph(cuda.end_capture(stream))
        for value in (2.0, 3.0):  # replay sees new data in the same buffers
            host_in[...] = value
            cuda.copy_htod_async(src, host_in, stream)
            cuda.graph_launch(graph, stream)
            cuda.copy_dtoh_async(host_out, dst, stream)
            cuda.stream_synchronize(stream)
            assert np.all(host_out == value)
    finally:
        scope.close()


def test_a_cuda_error_is_a_one_sentence_gnet_error(cuda):
    with pytest.raises(GnetError, match="CUDA call cudaMalloc failed: cudaError"):
        cuda.malloc(1 << 60)  # an exabyte: out of memory


@pytest.mark.skipif(importlib.util.find_spec("tensorrt") is None, reason="TensorRT is not installed")
@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_real_tensorrt_build_and_run(cuda, tmp_path: Path, precision: str):
    """On a GPU machine with TensorRT: gnet's real build, precision proof and runtime, compared with ONNX Runtime.

    Built with allow_mixed so the run is checked even if the proof fails; the proof is asserted at the end.
    """
    from gnet.checks.ort import cpu_session
    from gnet.engines.build import build_engine
    from gnet.engines.build_inputs import BuildOptions
    from gnet.engines.engine_runner import EngineRunner
    from tests.trt_double.fixtures import tiny_onnx
    onnx_path = tiny_onnx(tmp_path, precision)
    result = build_engine(onnx_path, options=BuildOptions(min_batch=1, opt_batch=4, max_batch=8, opt_level=1,
                                                          allow_mixed=True, runtime="tensorrt"))
    print(precision, result.precision.to_dict())  # what the real inspector said, for the record (-s)
    images = np.random.default_rng(0).normal(size=(5, 3, 16, 16)).astype(np.float32)
    expected = cpu_session(onnx_path).run(None, {"input": images})[0]
    for graphs in (False, True):
        with EngineRunner(result.plan, cuda_graphs=graphs) as runner:
            got = runner.infer(images)
            again = runner.infer(images)
        tol = {"fp32": 1e-3, "fp16": 3e-2, "int8": 1e-1}[precision]
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
        np.testing.assert_array_equal(got, again)
    # last, so a proof that misreads this TensorRT's inspector strings still lets the run above be checked
    assert result.precision.proven, result.precision.to_dict()


@pytest.mark.skipif(importlib.util.find_spec("tensorrt_rtx") is None, reason="TensorRT-RTX is not installed")
def test_real_tensorrt_rtx_plan_runs_here_or_is_refused_in_one_sentence(cuda, tmp_path: Path):
    """A plan built ahead of time: on a GPU TensorRT-RTX supports it runs, matches ONNX Runtime and leaves its
    runtime cache; on any other (the H100, compute capability 9.0) EngineRunner refuses it before loading."""
    from gnet.checks.ort import cpu_session
    from gnet.engines import rtx_targets
    from gnet.engines.build import build_engine
    from gnet.engines.build_inputs import BuildOptions
    from gnet.engines.engine_runner import EngineRunner
    from gnet.errors import CompatibilityError
    from tests.helpers.rtx import real_rtx
    from tests.trt_double.fixtures import tiny_onnx

    trt = real_rtx()
    onnx_path = tiny_onnx(tmp_path, "fp16")
    result = build_engine(onnx_path, options=BuildOptions(min_batch=1, opt_batch=4, max_batch=8, runtime="tensorrt-rtx"))
    cc = cuda.device_info().compute_capability
    if not rtx_targets.supports(trt, cc):
        with pytest.raises(CompatibilityError) as err:
            EngineRunner(result.plan)
        print(err.value)  # the sentence, for the record (-s)
        assert f"runs only on GPUs of compute capability {rtx_targets.supported_text(trt)}, and this GPU has " \
               f"compute capability {cc}" in str(err.value)
        return
    images = np.random.default_rng(0).normal(size=(5, 3, 16, 16)).astype(np.float32)
    expected = cpu_session(onnx_path).run(None, {"input": images})[0]
    for graphs in (False, True):
        with EngineRunner(result.plan, cuda_graphs=graphs) as runner:
            np.testing.assert_allclose(runner.infer(images), expected, rtol=3e-2, atol=3e-2)
    assert (tmp_path / "googlenet_fp16.rtxcache").is_file()
