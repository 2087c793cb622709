"""ort-cpu:tuned splits and chunks batches without changing the logits."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.bench import bench_artifacts


def test_tuned_ort_splits_and_chunks_without_changing_the_logits(tmp_path_factory: pytest.TempPathFactory):
    """Workers × sub-batches × fixed shapes × I/O binding give the default session's logits, in order."""
    from gnet.bench.runners.base import PrepareContext
    from gnet.bench.runners.ort_cpu import OrtCpuRunner, chunk_sizes
    from gnet.bench.runners.ort_options import tuned
    from gnet.checks.images import load_packaged_photos
    from gnet.export.weights import load_random

    assert chunk_sizes(5, 2) == [2, 2, 1] and chunk_sizes(4, 0) == [4] and chunk_sizes(3, 8) == [3]
    loaded = load_random(1)
    from gnet.bench.progress import Silent
    from gnet.pipeline import ArtifactStore

    store = ArtifactStore(loaded, bench_artifacts(tmp_path_factory), 64, Silent())
    ctx = PrepareContext(loaded, 64, None, store, [5])
    images = load_packaged_photos(64).tile(5)
    plain = OrtCpuRunner("default", "fp32")
    plain.prepare(ctx)
    expected = plain.run(images)
    plain.close()
    for tuning in (tuned(2).replace(sub_batch=2), tuned(2).replace(workers=1, sub_batch=0, io_binding=False),
                   tuned(3).replace(fixed_batch=False, sub_batch=1)):
        runner = OrtCpuRunner("tuned", "fp32", tuning)
        runner.prepare(ctx)
        for batch in (5, 1, 5):
            got = runner.run(images[:batch])
            assert got.shape == (batch, 1000)
            np.testing.assert_allclose(got, expected[:batch], rtol=1e-5, atol=1e-5)
        runner.close()


def test_the_optimized_copy_is_reused_only_while_both_files_are_what_was_recorded(tmp_path):
    """Issue 19: a cache was reused by modification time, so a truncated copy was "fresh"."""
    from gnet.bench.runners.ort_options import ensure_optimized
    from gnet.export.hashing import record_path
    from tests.trt_double.fixtures import tiny_onnx

    artifact = tiny_onnx(tmp_path, "fp32")
    cached = ensure_optimized(artifact)
    assert record_path(cached).is_file()
    first = cached.stat().st_mtime_ns
    assert ensure_optimized(artifact) == cached and cached.stat().st_mtime_ns == first  # reused
    whole = cached.read_bytes()
    cached.write_bytes(whole[: len(whole) // 2])
    assert ensure_optimized(artifact).read_bytes() == whole  # rewritten, not reused


@pytest.mark.parametrize("casts", [True, False])
def test_an_fp16_row_says_what_onnx_runtime_really_ran(tmp_path_factory: pytest.TempPathFactory, monkeypatch, casts):
    """The capability is faked both ways: where ONNX Runtime casts FP16 to FP32, the best-path sentence must not
    say "runs fp16"."""
    from gnet.bench.progress import Silent
    from gnet.bench.runners import ort_cpu
    from gnet.bench.runners.base import PrepareContext
    from gnet.export.weights import load_random
    from gnet.pipeline import ArtifactStore

    monkeypatch.setattr(ort_cpu, "fp16_runs_as_fp32", lambda: casts)
    loaded = load_random(1)
    ctx = PrepareContext(loaded, 64, None, ArtifactStore(loaded, bench_artifacts(tmp_path_factory), 64, Silent()), [2])
    runner = ort_cpu.OrtCpuRunner("default", "fp16")
    runner.prepare(ctx)
    runner.close()
    said = runner.settings.get("executed_precision")
    assert (said == "fp32 between the casts ONNX Runtime inserts") if casts else said is None
