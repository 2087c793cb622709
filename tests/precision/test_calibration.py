"""Calibration ranges are cached by model, images and method, and a stale cache is never reused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gnet.checks.images import load_images
from gnet.errors import GnetError
from gnet.precision import calibration_cache
from gnet.precision.calibration import calibrate

pytestmark = pytest.mark.slow


def test_calibration_cache_is_reused_and_never_stale(fixture_path: Path, workdir: Path, int8_trt):
    fp32 = workdir / "googlenet_fp32.onnx"
    images = load_images("digits:train", 64, limit=32)
    first = calibrate(fp32, images, "minmax", cache_dir=workdir / "cache2")
    again = calibrate(fp32, images, "minmax", cache_dir=workdir / "cache2")
    assert not first.reused and again.reused and again.ranges == first.ranges
    # other images → another key, so the cached ranges are not reused
    other = calibrate(fp32, load_images("digits:train", 64, limit=16), "minmax", cache_dir=workdir / "cache2")
    assert not other.reused
    # an explicitly named cache made for another model is refused
    stale = workdir / "named.json"
    payload = json.loads(first.cache_path.read_text())
    payload["key"]["onnx_sha256"] = "0" * 64  # a whole, consistent cache of another model: its checksum holds
    payload["ranges_sha256"] = calibration_cache.ranges_sha256(payload["key"], payload["ranges"])
    stale.write_text(json.dumps(payload))
    with pytest.raises(GnetError, match="different onnx"):
        calibrate(fp32, images, "minmax", cache=stale)
