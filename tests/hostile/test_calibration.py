"""Hostile calibration caches named with --calib-cache: a NaN range, a missing tensor, an edited finite range.
Each is one sentence and exit 1 (before, a traceback from the quantizer or a silent reuse); nothing is written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gnet.precision import calibration_cache as cc
from tests.helpers.cli import assert_one_sentence_failure, invoke


@pytest.fixture(scope="module")
def made(tmp_path_factory, fixture_path: Path) -> tuple[Path, Path]:
    """A 64-px FP32 export of the fixture and a good cache for its INT8 export (16 calibration images)."""
    folder = tmp_path_factory.mktemp("calib")
    cache = folder / "ranges.json"
    result = invoke("export", "--weights", str(fixture_path), "--precision", "int8", "--calib-count", "16",
                    "--calib-cache", str(cache), "-o", str(folder / "googlenet_int8.qdq.onnx"))
    assert result.exit_code == 0, result.output
    (folder / "again").mkdir()  # each refusal below reuses this FP32 export instead of exporting it again
    shutil.copyfile(folder / "googlenet_fp32.onnx", folder / "again" / "googlenet_fp32.onnx")
    return folder, cache


def _edit(cache: Path, tmp_path: Path, change, rehash: bool) -> Path:
    payload = json.loads(cache.read_text())
    change(payload["ranges"])
    if rehash:
        payload["ranges_sha256"] = cc.ranges_sha256(payload["key"], {k: tuple(v) for k, v in payload["ranges"].items()})
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(payload))
    return edited


@pytest.mark.slow
@pytest.mark.parametrize("change, rehash, needle", [
    (lambda r: r.__setitem__(next(iter(r)), [float("nan"), 1.0]), True, "is not finite"),
    (lambda r: r.pop(next(iter(r))), True, "has no range for 1 tensors"),
    (lambda r: r.__setitem__(next(iter(r)), [r[next(iter(r))][0], r[next(iter(r))][1] * 1.01]), False,
     "do not match their checksum"),
])
def test_a_bad_named_cache_is_one_sentence(made, fixture_path: Path, tmp_path: Path, change, rehash: bool, needle: str):
    folder, cache = made
    edited = _edit(cache, tmp_path, change, rehash)
    out = folder / "again" / "googlenet_int8.qdq.onnx"
    result = invoke("export", "--weights", str(fixture_path), "--precision", "int8", "--calib-count", "16",
                    "--calib-cache", str(edited), "-o", str(out))
    assert_one_sentence_failure(result, f"calibration cache {edited} cannot be used", needle)
    assert not out.exists()
