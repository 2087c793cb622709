"""The SQNR arithmetic on small hand-built Q/DQ graphs: float64, and a folded ReLU is not noise."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from gnet.checks.images import ImageSet
from gnet.checks.sqnr import layer_noise, qdq_pairs, sqnr_db
from gnet.errors import GnetError

CHANNELS = 4


def _graph(path: Path, nodes: list, inits: dict[str, np.ndarray]) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, CHANNELS, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, CHANNELS, 8, 8])
    initializers = [numpy_helper.from_array(v, k) for k, v in inits.items()]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], initializers),
                              opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"wa": rng.normal(size=(CHANNELS, CHANNELS, 3, 3)).astype(np.float32),
            "wb": rng.normal(size=(CHANNELS, CHANNELS, 3, 3)).astype(np.float32)}


def _conv(name: str, src: str, weight: str, dst: str):
    return helper.make_node("Conv", [src, weight], [dst], name=name, pads=[1, 1, 1, 1])


def _images(gain: float = 1.0) -> ImageSet:
    data = (gain * np.random.default_rng(1).normal(size=(4, CHANNELS, 8, 8))).astype(np.float32)
    return ImageSet(data=data, names=[f"i{i}" for i in range(4)], source="synthetic")


def _fp32(tmp: Path) -> Path:
    """x → Conv A → Relu → "a" → Conv B → y: the FP32 graph both quantized graphs come from."""
    nodes = [_conv("A", "x", "wa", "a_pre"), helper.make_node("Relu", ["a_pre"], ["a"], name="relu"),
             _conv("B", "a", "wb", "y")]
    return _graph(tmp / "fp32.onnx", nodes, _weights())


def _qdq(tmp: Path, name: str, fold_relu: bool, scale: float, zp: np.ndarray) -> Path:
    """Q/DQ on B's input; ``fold_relu``: the CPU format's shape, Conv A writes "a" itself and the u8
    quantizer (zero point 0) does the ReLU; otherwise the TensorRT format's, the Relu node kept."""
    first = [_conv("A", "x", "wa", "a")] if fold_relu else [
        _conv("A", "x", "wa", "a_pre"), helper.make_node("Relu", ["a_pre"], ["a"], name="relu")]
    nodes = [*first,
             helper.make_node("QuantizeLinear", ["a", "s", "zp"], ["a_q"], name="q"),
             helper.make_node("DequantizeLinear", ["a_q", "s", "zp"], ["a_dq"], name="dq"),
             _conv("B", "a_dq", "wb", "y")]
    inits = {**_weights(), "s": np.array(scale, np.float32), "zp": zp}
    return _graph(tmp / f"{name}.onnx", nodes, inits)


def _a_max(tmp: Path, gain: float = 1.0) -> float:
    """The largest value of "a" on the images: the calibrated maximum a MinMax calibrator would find."""
    from gnet.checks.ort import cpu_session

    model = onnx.load(str(_fp32(tmp)))
    model.graph.output.append(helper.make_tensor_value_info("a", TensorProto.FLOAT, None))
    path = tmp / "fp32_a.onnx"
    onnx.save(model, str(path))
    return float(cpu_session(path).run(["a"], {"x": _images(gain).data})[0].max())


def test_sqnr_is_float64_so_fp16_tensors_do_not_overflow():
    signal = np.full(4096, 100.0, np.float16)  # ‖signal‖² = 4.1e7, beyond float16's 65504
    noisy = signal + np.float16(1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sqnr_db([signal], [noisy]) == pytest.approx(40.0, abs=1e-6)  # 20·log10(100/1)
    assert sqnr_db(signal, signal) == math.inf
    with pytest.raises(GnetError, match="inf or NaN"):
        sqnr_db(signal, np.full(4096, np.inf, np.float16))
    with pytest.raises(GnetError, match="4096 values against 2"):
        sqnr_db(signal, np.zeros(2))


@pytest.mark.parametrize("folded", [True, False], ids=["cpu-u8-relu-folded", "tensorrt-s8"])
def test_the_relu_a_u8_quantizer_folds_is_not_counted_as_noise(tmp_path: Path, folded: bool):
    top = _a_max(tmp_path)
    zp, scale = (np.array(0, np.uint8), top / 255) if folded else (np.array(0, np.int8), top / 127)
    qdq = _qdq(tmp_path, "qdq", folded, scale, zp)
    assert [p.folds_relu for p in qdq_pairs(onnx.load(str(qdq)))] == [folded]
    (row,) = layer_noise(qdq, _images(), _fp32(tmp_path))
    assert (row.node, row.tensor) == ("B", "a")
    # 8-bit (7-bit for s8) rounding of a ReLU output: well above 30 dB; the ReLU's clipping counted as noise
    # would make it about 3 dB (half the pre-ReLU signal's power is negative).
    assert row.sqnr_db > 30
    assert row.accumulated_db == pytest.approx(row.sqnr_db, abs=0.01)  # only one quantizer: the same noise


def test_saturation_above_the_quantizer_range_is_still_noise(tmp_path: Path):
    top = _a_max(tmp_path)
    qdq = _qdq(tmp_path, "narrow", True, top / 4 / 255, np.array(0, np.uint8))  # a range a quarter too short
    (row,) = layer_noise(qdq, _images())
    assert row.sqnr_db < 15 and row.accumulated_db is None


def test_an_fp16_reference_model_is_compared_in_float64_without_warnings(tmp_path: Path):
    from gnet.precision.fp16 import convert_fp16

    gain = 30.0  # "a" then holds values in the hundreds: its squares summed overflow float16
    qdq = _qdq(tmp_path, "qdq", True, _a_max(tmp_path, gain) / 255, np.array(0, np.uint8))
    fp16 = tmp_path / "fp16.onnx"
    onnx.save(convert_fp16(onnx.load(str(_fp32(tmp_path)))), str(fp16))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "overflow encountered in dot" must not happen
        (row,) = layer_noise(qdq, _images(gain), fp16)
    (exact,) = layer_noise(qdq, _images(gain), _fp32(tmp_path))
    assert math.isfinite(row.accumulated_db) and row.accumulated_db == pytest.approx(exact.accumulated_db, abs=1.0)


def test_noise_table_names_the_candidates_and_the_end_to_end_figure():
    from rich.console import Console

    from gnet.checks.sqnr import LayerNoise
    from gnet.cli.common import noise_table

    def text(table) -> str:
        console = Console(width=200, record=True)
        console.print(table)
        return console.export_text()

    rows = [LayerNoise("/a/Conv", "Conv", "t", 21.04, 18.0), LayerNoise("/b/Conv", "Conv", "u", math.inf, None)]
    table = noise_table(rows, output_db=17.26)
    shown = text(table)
    assert "the 2 lowest-SQNR" in shown and "21.0" in shown and "inf" in shown
    assert "logits vs FP32: 17.3 dB (no layer holds 25% of all the layers' own noise" in table.caption
    assert "worth it" not in shown
    marked = [line for line in text(noise_table(rows, output_db=25.0)).splitlines() if "worth it" in line]
    assert len(marked) == 1 and "/a/Conv" in marked[0]  # 21.0 dB under the logits' 25: its noise dominates
    assert "logits vs FP32" not in noise_table(rows).caption and "worth it" not in text(noise_table(rows))
    assert "no quantized Conv/Gemm input" in text(noise_table([]))


def _rows(*sqnr_db: float):
    from gnet.checks.sqnr import LayerNoise

    return [LayerNoise(f"/l{i}/Conv", "Conv", f"t{i}", db, None) for i, db in enumerate(sqnr_db)]


def _marked(rows, output_db) -> list[str]:
    from gnet.checks.sqnr import keep_fp_candidates

    return [row.node for row in keep_fp_candidates(rows, output_db)]


def test_a_layer_is_marked_only_when_it_holds_a_large_share_of_the_layers_own_noise():
    from gnet.checks.sqnr import KEEP_FP_MIN_SHARE, noise_shares

    # Twenty layers of similar noise, all below the logits' 45 dB (this CPU's good TensorRT-format graph): the
    # loudest holds about a tenth of the noise and keeping it gained 0.045 dB; the old rule marked all twenty.
    similar = _rows(37.1, 38.4, 38.5, 38.6, *[39.0 + 0.2 * i for i in range(16)])
    shares = noise_shares(similar)
    assert sum(shares) == pytest.approx(1.0) and max(shares) < KEEP_FP_MIN_SHARE
    assert _marked(similar, 45.2) == []
    # One layer 20 dB louder than the rest: it holds most of the noise, and it alone is marked.
    dominant = _rows(17.0, *[37.0 + 0.2 * i for i in range(20)])
    assert noise_shares(dominant)[0] > 0.8 and _marked(dominant, 36.3) == ["/l0/Conv"]
    # Two equally loud ones hold half each: both marked; three hold a third each, four a quarter: still marked.
    assert _marked(_rows(17.0, 17.0, 40.0, 40.0), 35.0) == ["/l0/Conv", "/l1/Conv"]
    assert _marked(_rows(*[17.0] * 4), 30.0) == [f"/l{i}/Conv" for i in range(4)]
    assert _marked(_rows(*[17.0] * 5), 30.0) == []  # a fifth each: none is worth it alone


def test_a_dominant_layer_is_not_marked_above_the_logits_sqnr_or_without_finite_logits():
    import math

    dominant = _rows(30.0, 50.0, 50.0)
    assert _marked(dominant, 31.0) == ["/l0/Conv"]
    assert _marked(dominant, 29.0) == []  # its own noise is quieter than what reaches the logits
    assert _marked(dominant, None) == [] and _marked(dominant, math.inf) == [] and _marked(dominant, math.nan) == []


def test_noise_shares_do_not_overflow_and_handle_silent_and_signal_free_layers():
    import math

    from gnet.checks.sqnr import noise_shares

    assert noise_shares(_rows(-4000.0, -4000.0)) == pytest.approx([0.5, 0.5])  # 10^400 each: no OverflowError
    assert noise_shares(_rows(10.0, math.inf)) == [1.0, 0.0]  # a layer without noise holds none of it
    assert noise_shares(_rows(math.inf, math.inf)) == [0.0, 0.0] and noise_shares([]) == []
    assert noise_shares(_rows(-math.inf, 10.0)) == [1.0, 0.0]  # no signal at all: all the noise
    assert _marked(_rows(math.inf, math.inf), 40.0) == []
