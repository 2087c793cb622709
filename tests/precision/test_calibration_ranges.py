"""Calibration in bounded memory: the chunked two-pass ranges equal ONNX Runtime's one-shot ranges bit for bit,
the progress bar is monotonic and ends at the count, memory does not grow with the count, NaN is refused."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from onnxruntime.quantization import CalibrationDataReader
from onnxruntime.quantization.calibrate import create_calibrator

from gnet.checks.images import ImageSet, load_images
from gnet.precision.calibration_ranges import (
    CALIBRATION_METHODS,
    CALIBRATOR_OPTIONS,
    NonFiniteActivation,
    measure_ranges,
)


class _AllAtOnce(CalibrationDataReader):
    def __init__(self, name: str, data: np.ndarray) -> None:
        self._feeds = iter([{name: data[i:i + 8]} for i in range(0, len(data), 8)])

    def get_next(self):
        return next(self._feeds, None)


def one_shot(model: Path, images: ImageSet, method: str, work: Path) -> dict[str, tuple[float, float]]:
    """ONNX Runtime's own calibrator given every image in one ``collect_data`` (what gnet did before)."""
    name = onnx.load(str(model), load_external_data=False).graph.input[0].name
    with contextlib.redirect_stdout(io.StringIO()):
        calibrator = create_calibrator(model, None, augmented_model_path=str(work / "aug.onnx"),
                                       calibrate_method=CALIBRATION_METHODS[method],
                                       extra_options=dict(CALIBRATOR_OPTIONS[method]))
        calibrator.collect_data(_AllAtOnce(name, images.data))
        data = calibrator.compute_data()
    return {n: (float(np.asarray(d.range_value[0]).ravel()[0]), float(np.asarray(d.range_value[1]).ravel()[0]))
            for n, d in data.items()}


@pytest.mark.slow
@pytest.mark.parametrize("method", ["minmax", "percentile"])  # entropy: the same histogram path, 150 s of KL search
def test_chunked_ranges_equal_onnx_runtime_one_shot(fp32_onnx: Path, tmp_path: Path, method: str):
    images = load_images("digits:train", 64, limit=40)  # 2.5 chunks of 16: a short last chunk too
    name = onnx.load(str(fp32_onnx), load_external_data=False).graph.input[0].name
    seen: list[tuple[int, int]] = []
    chunked = measure_ranges(fp32_onnx, name, images, method, CALIBRATOR_OPTIONS[method],
                             lambda done, total: seen.append((done, total)))
    assert chunked == one_shot(fp32_onnx, images, method, tmp_path)  # bit-identical, not merely within a bin
    assert seen[-1] == (40, 40) and all(total == 40 for _, total in seen)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


PEAK = """
import resource, sys
import onnx
from gnet.precision.calibration_ranges import CALIBRATOR_OPTIONS, measure_ranges
from gnet.checks.images import load_images
images = load_images("digits:train", 64, limit=int(sys.argv[1]))
name = onnx.load({model!r}, load_external_data=False).graph.input[0].name
measure_ranges({model!r}, name, images, "percentile", CALIBRATOR_OPTIONS["percentile"])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
def test_memory_does_not_grow_with_the_image_count(fp32_onnx: Path):
    """Peak RSS at 160 images stays within 150 MiB of 32 images; one-shot grew ~3.4 MiB per image at 64 px (~430 MiB
    here). The images themselves add 128 × 48 KiB = 6 MiB."""
    code = PEAK.format(model=str(fp32_onnx))
    peaks = [int(subprocess.run([sys.executable, "-c", code, str(n)], capture_output=True, text=True, check=True)
                 .stdout.split()[-1]) for n in (32, 160)]
    assert (peaks[1] - peaks[0]) / 1024 < 150, peaks


def test_a_nan_activation_is_refused_naming_the_tensor(tmp_path: Path):
    graph = helper.make_graph(
        [helper.make_node("Log", ["input"], ["y"]), helper.make_node("Relu", ["y"], ["logits"])], "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 3, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, 3, 8, 8])])
    path = tmp_path / "log.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    images = ImageSet(data=-np.ones((4, 3, 8, 8), np.float32), names=[str(i) for i in range(4)], source="t")
    with pytest.raises(NonFiniteActivation) as err:
        measure_ranges(path, "input", images, "percentile", CALIBRATOR_OPTIONS["percentile"])
    assert err.value.tensor in {"y", "logits"} and "NaN or Inf" in err.value.what
