"""Real short benchmark runs on the CPU (random weights, 64 px, batches 1–2), and every report made from them.

No test asserts a timing: only that the figures exist, are consistent, and are reported.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from gnet.bench.baseline import baseline_table, caveats, compare, regressions
from gnet.bench.harness import BenchConfig, run_benchmark
from gnet.bench.plot import plot_results
from gnet.bench.report_files import CSV_COLUMNS, read_results, to_csv, write_csv, write_json
from gnet.bench.report_table import render, results_table
from gnet.bench.runners.ort_runner import UNTUNED
from gnet.bench.schema import validate
from gnet.bench.timing import TimingConfig
from gnet.errors import GnetError

TINY = TimingConfig(warmup_ms=5.0, duration_s=0.05, min_iterations=2)


def bench_artifacts(factory: pytest.TempPathFactory) -> Path:
    """One artifacts folder for every bench test module (prepare_artifacts reuses what matches)."""
    path = factory.getbasetemp() / "bench-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict:
    config = BenchConfig(
        backends="torch-cpu:eager,ort-cpu,trt", precisions="fp32,int8", batches=[2, 1], timing=TINY,
        weights="random", seed=1, image_size=64, parity_limit=3, artifacts=bench_artifacts(tmp_path_factory),
    )
    return run_benchmark(config, argv=["gnet-bench", "--test"])


def test_rows_cover_every_runnable_combination(doc: dict):
    keys = {(r["backend"], r["variant"], r["precision"], r["batch"]) for r in doc["rows"]}
    expected = {("torch-cpu", "eager", "fp32", b) for b in (1, 2)}
    expected |= {("ort-cpu", v, p, b) for v in ("default", "tuned") for p in ("fp32", "int8") for b in (1, 2)}
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


def test_document_follows_its_schema_and_names_the_weights(doc: dict):
    assert validate(doc) == []
    assert doc["weights"]["name"] == "random (seed 1)" and doc["weights"]["reason"]
    env = doc["environment"]
    assert env["cpu"]["model"] and env["cpu"]["physical_cores"] >= 1
    assert env["libraries"]["onnxruntime"] and env["libraries"]["torch"]
    assert env["command_line"] == "gnet-bench --test"


def test_schema_catches_broken_documents(doc: dict):
    broken = copy.deepcopy(doc)
    del broken["rows"][0]["latency_ms"]["p99_ms"]
    broken["rows"][1]["precision"] = "bf16"
    broken["unexpected"] = 1
    problems = validate(broken)
    assert any("p99_ms" in p for p in problems)
    assert any("bf16" in p for p in problems)
    assert any("unexpected" in p for p in problems)


def test_json_and_csv_round_trip(doc: dict, tmp_path: Path):
    path = write_json(doc, tmp_path / "out" / "run.json")
    again = read_results(path)
    assert again["rows"][0]["throughput_ips"] == pytest.approx(doc["rows"][0]["throughput_ips"])
    lines = list(csv.DictReader(io.StringIO(to_csv(doc))))
    assert len(lines) == len(doc["rows"]) and tuple(lines[0]) == CSV_COLUMNS
    assert lines[0]["weights"] == "random (seed 1)"
    write_csv(doc, tmp_path / "run.csv")
    assert (tmp_path / "run.csv").read_text().startswith("weights,image_size,backend")
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave nothing behind


def test_nan_metrics_become_null_in_json(doc: dict, tmp_path: Path):
    odd = copy.deepcopy(doc)
    odd["rows"][0]["parity"]["cosine_min"] = float("nan")
    text = (write_json(odd, tmp_path / "nan.json")).read_text()
    assert "NaN" not in text and json.loads(text)["rows"][0]["parity"]["cosine_min"] is None
    assert validate(json.loads(text)) == []
    Console(file=io.StringIO(), width=200).print(render(json.loads(text)))  # a null metric still renders


def test_table_marks_parity_failures_red_and_noisy_rows(doc: dict):
    bad = copy.deepcopy(doc)
    row = bad["rows"][-1]
    row["parity"].update(passed=False, violations=["top-1 agreement 50.0% < 99%"])
    row["cv_warning"], row["latency_ms"]["cv"] = True, 0.08
    table = results_table(bad)
    assert table.rows[-1].style == "red" and all(r.style is None for r in table.rows[:-1])
    out = io.StringIO()
    Console(file=out, width=250).print(render(bad))
    text = out.getvalue()
    assert "random (seed 1)" in text and "FAIL" in text and "⚠" in text and "top-1 agreement 50.0%" in text
    assert "best CPU path at batch 2" in text and "not run here" in text and "TensorRT" in text


def test_baseline_comparison(doc: dict):
    same = compare(doc, doc)
    assert all(c.verdict == "same" and c.ratio == pytest.approx(1.0) for c in same)
    assert caveats(doc, doc) == [] and regressions(doc, doc) == []
    old = copy.deepcopy(doc)
    rows = old["rows"]
    for r in rows:
        r["latency_ms"]["cv"] = 0.0
    rows[0]["throughput_ips"] *= 2.0   # was twice as fast → now slower
    rows[1]["throughput_ips"] *= 0.5   # was half as fast → now faster
    rows[2]["parity"]["passed"] = True
    gone = copy.deepcopy(rows[3])
    gone["batch"] = 256
    rows.append(gone)
    current = copy.deepcopy(doc)
    for r in current["rows"]:
        r["latency_ms"]["cv"] = 0.0
    current["rows"][2]["parity"]["passed"] = False
    verdicts = {c.key: c for c in compare(current, old)}
    assert verdicts[tuple(list(doc["rows"][0][k] for k in ("backend", "variant", "precision", "batch", "io")))].verdict == "slower"
    assert verdicts[tuple(list(doc["rows"][1][k] for k in ("backend", "variant", "precision", "batch", "io")))].verdict == "faster"
    assert sum(c.verdict == "gone" for c in verdicts.values()) == 1
    assert len(regressions(current, old)) == 2  # the slower row and the parity regression
    old["image_size"] = 224
    assert any("image size" in c for c in caveats(current, old))
    out = io.StringIO()
    Console(file=out, width=200).print(baseline_table(current, old, "old.json"))
    assert "regression" in out.getvalue() and "parity now FAILS" in out.getvalue()


def test_plot_is_a_png(doc: dict, tmp_path: Path):
    path = plot_results(doc, tmp_path / "plot.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    single = copy.deepcopy(doc)
    single["rows"] = [r for r in single["rows"] if r["batch"] == 1]
    assert plot_results(single, tmp_path / "single.png").is_file()  # one batch size: a bar chart


def test_bad_baseline_files(tmp_path: Path, doc: dict):
    (tmp_path / "garbage.json").write_text("{not json")
    with pytest.raises(GnetError, match="is not a JSON file"):
        read_results(tmp_path / "garbage.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(GnetError, match="not a gnet bench results file"):
        read_results(tmp_path / "other.json")
    broken = copy.deepcopy(doc)
    del broken["environment"]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    with pytest.raises(GnetError, match="does not follow the gnet bench results schema"):
        read_results(tmp_path / "broken.json")
    with pytest.raises(GnetError, match="does not exist"):
        read_results(tmp_path / "missing.json")


def test_tiled_timing_batches_are_real_images(doc: dict):
    from gnet.export.images import load_packaged_photos

    photos = load_packaged_photos(64).take(3)
    batch = photos.tile(8)
    assert batch.shape == (8, 3, 64, 64) and np.array_equal(batch[3], photos.data[0])


def test_tuned_ort_splits_and_chunks_without_changing_the_logits(tmp_path_factory: pytest.TempPathFactory):
    """Workers × sub-batches × fixed shapes × I/O binding give the default session's logits, in order."""
    from gnet.bench.runners.base import PrepareContext
    from gnet.bench.runners.ort_runner import OrtCpuRunner, chunk_sizes, tuned
    from gnet.export.images import load_packaged_photos
    from gnet.export.weights import load_random

    assert chunk_sizes(5, 2) == [2, 2, 1] and chunk_sizes(4, 0) == [4] and chunk_sizes(3, 8) == [3]
    loaded = load_random(1)
    from gnet.bench.harness import ArtifactStore, Silent

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


def test_tuned_chooses_among_batch_spreads_and_ort_defaults():
    from gnet.bench.runners.ort_runner import DEFAULT, layouts, tuned

    base = tuned(2)
    found = layouts(base, 2)
    assert found[UNTUNED] == DEFAULT.replace(threads=2)  # doing nothing is always a candidate
    spreads = {(t.workers, t.sub_batch) for name, t in found.items() if name != UNTUNED}
    assert spreads == {(1, 0), (1, 16), (1, 32), (2, 0), (2, 16)}
    assert all(t.replace(workers=base.workers, sub_batch=base.sub_batch) == base
               for name, t in found.items() if name != UNTUNED)  # the other options stay as tuned() set them


def test_importing_the_command_module_first_works():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "import gnet.bench.commands as c; print(c.bench_cmd.name)"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "bench", proc.stderr


def test_schema_agrees_with_jsonschema_where_installed(doc: dict):
    jsonschema = pytest.importorskip("jsonschema")
    from gnet.bench.schema import schema

    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.Draft202012Validator(schema()).validate(json.loads(json.dumps(doc)))
