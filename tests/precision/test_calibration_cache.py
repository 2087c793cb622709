"""The calibration cache: a checksum over key and ranges refuses an edited file, every range must be finite with
low ≤ high, and exactly the tensors ONNX Runtime calibrates must be there (what quantize_static would otherwise
turn into a traceback or, for infinity and inverted ranges, silently into a broken model)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

import onnx
import pytest

from gnet.checks.images import load_images
from gnet.precision import calibration_cache as cc
from gnet.precision.calibration import calibrate

KEY = {"onnx_sha256": "a" * 64, "images_sha256": "b" * 64, "method": "percentile", "count": 2, "options": "{}"}
RANGES = {"input": (-2.1, 2.6), "x": (0.0, 3.5)}


def _write(path: Path, ranges=RANGES, key=KEY) -> Path:
    payload = {"format": cc.CACHE_FORMAT, "key": key, "images": ["a", "b"], "ranges": ranges,
               "ranges_sha256": cc.ranges_sha256(key, ranges)}
    path.write_text(json.dumps(payload))
    return path


def test_cache_round_trip(tmp_path: Path):
    key, ranges = cc.parse_payload(tmp_path, _write(tmp_path / "c.json").read_text())
    assert key == KEY and ranges == RANGES
    cc.validate_ranges(tmp_path, ranges, set(RANGES))


@pytest.mark.parametrize("edit", [
    lambda p: p["ranges"].__setitem__("x", [0.0, 3.4]),  # a finite hand edit
    lambda p: p["key"].__setitem__("onnx_sha256", "c" * 64),  # ranges moved onto another model's key
    lambda p: p["ranges"].pop("x"),
])
def test_edited_cache_is_refused(tmp_path: Path, edit):
    path = _write(tmp_path / "c.json")
    payload = json.loads(path.read_text())
    edit(payload)
    path.write_text(json.dumps(payload))
    with pytest.raises(cc.CacheError, match="checksum"):
        cc.parse_payload(path, path.read_text())


@pytest.mark.parametrize("bad,why", [((math.nan, 1.0), "not finite"), ((0.0, math.inf), "not finite"),
                                     ((2.0, 1.0), "above its high")])
def test_bad_range_is_refused_even_with_a_valid_checksum(tmp_path: Path, bad, why):
    ranges = {**RANGES, "x": bad}
    path = _write(tmp_path / "c.json", ranges)  # json writes NaN/Infinity tokens; parse reads them back
    _, parsed = cc.parse_payload(path, path.read_text())
    with pytest.raises(cc.CacheError, match=why) as err:
        cc.validate_ranges(path, parsed, set(RANGES))
    assert err.value.tensor == "x"


def test_missing_and_extra_tensors_are_refused(tmp_path: Path):
    with pytest.raises(cc.CacheError, match="no range for 1 tensors"):
        cc.validate_ranges(tmp_path, {"input": (0.0, 1.0)}, set(RANGES))
    with pytest.raises(cc.CacheError, match="the model lacks"):
        cc.validate_ranges(tmp_path, {**RANGES, "ghost": (0.0, 1.0)}, set(RANGES))


def test_required_tensors_match_ort_calibrator(fp32_onnx: Path, tmp_path: Path):
    ranges = calibrate(fp32_onnx, load_images("digits:train", 64, limit=4), "minmax", cache_dir=tmp_path).ranges
    assert cc.calibrated_tensors(onnx.load(str(fp32_onnx))) == set(ranges)


def test_format_1_cache_is_stale(tmp_path: Path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"format": 1, "key": KEY, "images": [], "ranges": RANGES}))
    with pytest.raises(cc.CacheError, match="cache format 1"):
        cc.parse_payload(path, path.read_text())


def test_writer_refuses_nan(tmp_path: Path):
    from gnet.precision.calibration import CalibrationKey

    with pytest.raises(ValueError):
        cc.dump_payload(cc.make_payload(CalibrationKey(**KEY), [], {"x": (math.nan, 1.0)}))
    assert asdict(CalibrationKey(**KEY)) == KEY
