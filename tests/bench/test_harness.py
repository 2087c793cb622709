"""The harness on a real short run: every runnable combination becomes a row with consistent figures,
speed-ups against the two baselines, and settings that say what ran. No test asserts a timing."""

from __future__ import annotations

import numpy as np
import pytest

from gnet.bench.results import validate
from gnet.bench.runners.base import Runner
from gnet.bench.runners.ort_options import UNTUNED
from tests.helpers.bench import TINY


def test_rows_cover_every_runnable_combination(doc: dict):
    keys = {(r["backend"], r["variant"], r["precision"], r["batch"]) for r in doc["rows"]}
    expected = {("torch-cpu", "eager", "fp32", b) for b in (1, 2)}
    expected |= {("ort-cpu", v, p, b) for v in ("default", "tuned") for p in ("fp32", "int8") for b in (1, 2)}
    expected |= {("openvino-cpu", "default", p, b) for p in ("fp32", "int8") for b in (1, 2)}
    assert keys == expected
    assert doc["config"]["batches"] == [1, 2]
    missing = {(u["backend"], u["precision"]) for u in doc["unavailable"]}
    assert ("torch-cpu", "int8") in missing and ("trt", "fp32") in missing  # listed, never dropped


def test_row_figures_are_consistent(doc: dict):
    for r in doc["rows"]:
        lat = r["latency_ms"]
        assert lat["iterations"] >= TINY.min_iterations
        assert 0 < lat["min_ms"] <= lat["median_ms"] <= lat["p90_ms"] <= lat["p95_ms"] <= lat["p99_ms"] <= lat["max_ms"]
        assert r["throughput_ips"] == pytest.approx(r["batches_per_s"] * r["batch"])
        assert r["throughput_ips"] == pytest.approx(r["batch"] * lat["iterations"] / (lat["mean_ms"] * lat["iterations"] / 1000))
        assert r["stages_ms"] == {} and r["device"] == "cpu" and r["io"] == "end-to-end"
        assert r["parity"]["count"] == 3 and r["parity"]["passed"], r["parity"]["violations"]
        assert r["warmup_iterations"] >= 1


def test_speedups_refer_to_the_two_baselines(doc: dict):
    by_key = {(r["backend"], r["variant"], r["precision"], r["batch"]): r for r in doc["rows"]}
    for batch in (1, 2):
        eager = by_key[("torch-cpu", "eager", "fp32", batch)]
        ort = by_key[("ort-cpu", "default", "fp32", batch)]
        assert eager["speedup"]["vs_torch_cpu_eager_fp32"] == pytest.approx(1.0)
        assert ort["speedup"]["vs_ort_cpu_default_fp32"] == pytest.approx(1.0)
        int8 = by_key[("ort-cpu", "tuned", "int8", batch)]
        assert int8["speedup"]["vs_ort_cpu_default_fp32"] == pytest.approx(int8["throughput_ips"] / ort["throughput_ips"])
    best = {b["batch"]: b for b in doc["best_cpu"]}
    assert set(best) == {1, 2}
    for batch, b in best.items():
        assert b["throughput_ips"] == max(r["throughput_ips"] for r in doc["rows"] if r["batch"] == batch)
        assert set(b["per_runtime"]) == {"torch", "onnxruntime", "openvino"}  # every runtime's best, same run


def test_settings_say_what_ran(doc: dict):
    by = {(r["backend"], r["variant"], r["precision"], r["batch"]): r for r in doc["rows"]}
    assert by[("ort-cpu", "default", "fp32", 1)]["settings"]["session_options"] == "ONNX Runtime defaults"
    tuned = by[("ort-cpu", "tuned", "int8", 1)]
    assert tuned["artifact"] == "googlenet_int8_cpu.qdq.onnx"
    assert isinstance(tuned["settings"]["session_options"], dict) and tuned["settings"]["session_options"]
    layouts = tuned["settings"]["layout_by_batch"]  # the layout autotuned for each batch size
    assert set(layouts) == {"1", "2"} and "workers" not in layouts["1"]
    assert set(tuned["settings"]["autotune_img_s_by_batch"]["2"]) >= {layouts["2"], UNTUNED}  # ORT's defaults compete
    assert set(tuned["settings"]["options_by_batch"]) == {"1", "2"}
    assert by[("torch-cpu", "eager", "fp32", 1)]["artifact"] is None
    openvino = by[("openvino-cpu", "default", "int8", 2)]  # what OpenVINO compiled, read back
    assert openvino["runtime"] == "openvino" and openvino["artifact"] == "googlenet_int8_cpu.qdq.onnx"
    assert openvino["settings"]["read_back"]["runtime_precision"] in ("u8", "i8")
    assert by[("openvino-cpu", "default", "fp32", 2)]["settings"]["executed_precision"] == "f32"


def test_document_follows_its_schema_and_names_the_weights(doc: dict):
    assert validate(doc) == []
    assert doc["weights"]["name"] == "random (seed 1)" and doc["weights"]["reason"]
    env = doc["environment"]
    assert env["cpu"]["model"] and env["cpu"]["physical_cores"] >= 1
    assert env["libraries"]["onnxruntime"] and env["libraries"]["torch"]
    assert env["command_line"] == "gnet-bench --test"


def test_tiled_timing_batches_are_real_images(doc: dict):
    from gnet.checks.images import load_packaged_photos

    photos = load_packaged_photos(64).take(3)
    batch = photos.tile(8)
    assert batch.shape == (8, 3, 64, 64) and np.array_equal(batch[3], photos.data[0])


class _LogitsRunner(Runner):
    """A runner in the caller's process that answers the reference's logits, off by ``error`` for every image."""

    backend = "torch-cpu"

    def __init__(self, reference: np.ndarray, error: float) -> None:
        super().__init__("eager", "fp32")
        self.reference, self.error = reference, error

    def prepare(self, ctx) -> None:
        pass

    def run(self, images: np.ndarray) -> np.ndarray:
        rows = images[:, 0, 0, 0].astype(int)  # each image carries its own index
        return self.reference[rows % len(self.reference)] + self.error


def _measure(error: float) -> dict:
    from types import SimpleNamespace

    from gnet.bench.config import BenchConfig
    from gnet.bench.harness import measure_runner
    from gnet.bench.progress import Silent
    from gnet.checks.images import ImageSet

    data = np.arange(5, dtype=np.float32)[:, None, None, None] * np.ones((1, 3, 2, 2), np.float32)
    images = ImageSet(data, [str(i) for i in range(5)], "test")
    reference = np.random.default_rng(0).standard_normal((5, 10)).astype(np.float32)
    ctx = SimpleNamespace(loaded=SimpleNamespace(trained=True))
    rows = measure_runner(_LogitsRunner(reference, error), ctx, images, reference,
                          BenchConfig(batches=[2], timing=TINY), Silent())
    assert len(rows) == 1 and rows[0].parity_s is not None
    return rows[0].parity


def test_a_parity_pass_timed_as_the_first_iterations_passes_right_logits_and_fails_wrong_ones():
    assert _measure(0.0).passed
    failed = _measure(0.5)  # every logit off by 0.5: far outside FP32's tolerance
    assert not failed.passed and failed.violations


def test_the_eager_row_at_the_first_batch_size_is_the_reference_and_later_ones_are_judged(doc: dict):
    eager = {r["batch"]: r for r in doc["rows"] if (r["backend"], r["variant"]) == ("torch-cpu", "eager")}
    assert eager[1]["parity"].get("is_reference") is True  # batch 1 comes first: its logits are the reference
    assert "is_reference" not in eager[2]["parity"] and eager[2]["parity"]["passed"]
    assert not [r for r in doc["rows"] if r is not eager[1] and r["parity"].get("is_reference")]


class _DriftingRunner(_LogitsRunner):
    """Right at the first batch size, off by 0.5 at any other (what a batch-dependent kernel bug looks like)."""

    def run(self, images: np.ndarray) -> np.ndarray:
        self.error = 0.0 if len(images) == 2 else 0.5
        return super().run(images)


def test_a_later_batch_size_of_the_reference_runner_can_fail():
    from types import SimpleNamespace

    from gnet.bench.config import BenchConfig
    from gnet.bench.harness import measure_reference
    from gnet.bench.progress import Silent
    from gnet.checks.images import ImageSet

    data = np.arange(5, dtype=np.float32)[:, None, None, None] * np.ones((1, 3, 2, 2), np.float32)
    images = ImageSet(data, [str(i) for i in range(5)], "test")
    truth = np.random.default_rng(0).standard_normal((5, 10)).astype(np.float32)
    rows, reference = measure_reference(_DriftingRunner(truth, 0.0), SimpleNamespace(loaded=SimpleNamespace(trained=True)),
                                        images, BenchConfig(batches=[2, 3], timing=TINY), Silent())
    np.testing.assert_array_equal(reference, truth)  # the first batch size's parity logits, padding cut
    assert [r.batch for r in rows] == [2, 3]
    assert rows[0].parity.is_reference and rows[0].parity.passed
    assert not rows[1].parity.is_reference and not rows[1].parity.passed


def test_a_reference_row_that_fails_is_listed_and_the_model_computes_the_reference():
    from types import SimpleNamespace

    import torch

    from gnet.bench.config import BenchConfig
    from gnet.bench.harness import _reference
    from gnet.bench.progress import Silent
    from gnet.checks.images import ImageSet

    class Broken(_LogitsRunner):
        def prepare(self, ctx) -> None:
            raise RuntimeError("out of memory")

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 10))
    images = ImageSet(np.ones((3, 3, 2, 2), np.float32), ["a", "b", "c"], "test")
    other = _LogitsRunner(np.zeros((3, 10), np.float32), 0.0)
    other.backend = "ort-cpu"
    unavailable: list = []
    rows, reference, left = _reference([Broken(np.zeros((3, 10), np.float32), 0.0), other],
                                       SimpleNamespace(loaded=SimpleNamespace(model=model, trained=True)), images,
                                       BenchConfig(batches=[2], timing=TINY), Silent(), unavailable, 0.0)
    assert rows == [] and left == [other] and reference.shape == (3, 10)
    assert [(u.backend, u.variant, u.stage) for u in unavailable] == [("torch-cpu", "eager", "run")]
    assert "out of memory" in unavailable[0].reason
