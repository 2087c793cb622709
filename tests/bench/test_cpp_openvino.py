"""The cpp-openvino backend: gnet-infer found (or said missing, with what to run), one real row timed by gnet-infer's
own loop under the run's rules, its parity from the logits gnet-infer returns (and failing when they are wrong), and
a gnet-infer failure as the row's one sentence."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from gnet.bench.config import BenchConfig
from gnet.bench.harness import run_benchmark
from gnet.bench.runners import BACKENDS, discover, parse_backends
from gnet.bench.runners import cpp_openvino as cpp_runner
from gnet.bench.runners.base import PrepareContext, padded
from gnet.errors import GnetError, NotAvailable
from tests.cpp import gnet_infer as cpp
from tests.helpers.bench import TINY, bench_artifacts


@pytest.fixture(scope="module")
def gnet_infer() -> Path:
    """The session's gnet-infer: the C++ tests' build in build/cpp, incremental (nothing is compiled when they or an
    earlier run built it)."""
    try:
        return cpp.build()
    except cpp.BuildFailed as exc:
        pytest.fail(str(exc), pytrace=False)


def double(folder: Path, body: str) -> Path:
    """An executable stand-in for gnet-infer: a Python script (``args`` is its command line) whose ``--version``
    works, so discovery accepts it."""
    script = folder / "gnet-infer-double"
    script.write_text(f"#!{sys.executable}\nimport subprocess, sys\nimport numpy as np\nargs = sys.argv[1:]\n"
                      f"if args == ['--version']:\n    print('gnet-infer 0.1.0 (double)')\n    sys.exit(0)\n{body}")
    script.chmod(0o755)
    return script


def bench(factory: pytest.TempPathFactory) -> dict:
    """One cpp-openvino fp32 row at batch 2, on the bench tests' seeded 64-px artifacts and three parity images."""
    config = BenchConfig(backends="cpp-openvino:default", precisions="fp32", batches=[2], timing=TINY,
                         weights="random", seed=1, image_size=64, parity_limit=3, artifacts=bench_artifacts(factory))
    return run_benchmark(config, argv=["gnet-bench", "--test"])


def test_discovery_finds_gnet_infer_and_lists_each_row(gnet_infer: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(cpp_runner.ENV, str(gnet_infer))
    assert cpp_runner.locate() == (gnet_infer, "")
    names = list(BACKENDS)
    assert names.index("cpp-openvino") == names.index("openvino-cpu") + 1
    ready, missing = discover(parse_backends("cpp-openvino"), ["fp32", "fp16", "bf16", "int8"])
    assert not missing
    assert {(r.variant, r.precision, r.artifact_kind) for r in ready} == {
        ("default", "fp32", "fp32"), ("default", "fp16", "fp16"), ("default", "int8", "int8-cpu"),
        ("trt-qdq", "int8", "int8")}  # openvino-cpu's files; no bf16 row (gnet-infer sets no bf16 hint)


def test_without_gnet_infer_discovery_says_why_and_what_to_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    gone = tmp_path / "gnet-infer"
    monkeypatch.setenv(cpp_runner.ENV, str(gone))
    ready, missing = discover(parse_backends("cpp-openvino"), ["fp32", "int8"])
    assert not ready and len(missing) == 3
    why = f"GNET_INFER names {gone}, which is not an executable file: point it at a gnet-infer, or unset it and " \
          "build one with make cpp"
    assert {m.reason for m in missing} == {why}
    with pytest.raises(NotAvailable, match="make cpp"):
        cpp_runner.CppOpenVinoRunner("default", "fp32").prepare(None)  # type: ignore[arg-type]
    broken = tmp_path / "broken-gnet-infer"  # one that cannot start, as without its OpenVINO libraries
    broken.write_text("#!/bin/sh\necho 'gnet-infer: error while loading shared libraries: libopenvino.so' >&2\n"
                      "exit 127\n")
    broken.chmod(0o755)
    monkeypatch.setenv(cpp_runner.ENV, str(broken))
    _, missing = discover(parse_backends("cpp-openvino:default"), ["fp32"])
    assert missing[0].reason == (f"{broken} does not start (gnet-infer failed (exit status 127): gnet-infer: error "
                                 "while loading shared libraries: libopenvino.so): rebuild it with make cpp")


def test_a_real_row_is_timed_by_gnet_infer_under_the_runs_rules(gnet_infer: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path_factory: pytest.TempPathFactory):
    monkeypatch.setenv(cpp_runner.ENV, str(gnet_infer))
    calls: list[list[str]] = []
    real_call = cpp_runner.call
    monkeypatch.setattr(cpp_runner, "call", lambda program, args, timeout_s: calls.append(list(map(str, args)))
                        or real_call(program, args, timeout_s))
    reports: list[dict] = []
    real_time_itself = cpp_runner.CppOpenVinoRunner.time_itself

    def time_itself(runner: cpp_runner.CppOpenVinoRunner, *args):  # keeps gnet-infer's own --bench report
        timed = real_time_itself(runner, *args)
        reports.append(runner.reports[2])
        return timed

    monkeypatch.setattr(cpp_runner.CppOpenVinoRunner, "time_itself", time_itself)
    doc = bench(tmp_path_factory)

    assert doc["unavailable"] == [] and len(doc["rows"]) == 1
    row = doc["rows"][0]
    assert (row["backend"], row["variant"], row["precision"], row["batch"]) == ("cpp-openvino", "default", "fp32", 2)
    assert row["runtime"] == "openvino" and row["artifact"] == "googlenet_fp32.onnx" and row["parity"]["passed"]
    assert row["parity"]["cosine_min"] > 0.9999  # the same OpenVINO, the same graph, f32
    settings = row["settings"]
    assert settings["program"] == str(gnet_infer) and settings["inference_precision_hint"] == "f32"
    assert settings["executed_precision"] == settings["read_back"]["runtime_precision"] == "f32"
    latency = row["latency_ms"]
    assert latency["iterations"] >= TINY.min_iterations and row["warmup_iterations"] >= 1
    (own,) = reports  # the row's figures are gnet-infer's, computed again from the latencies it exported
    assert (latency["iterations"], row["warmup_iterations"]) == (own["iterations"], own["warmup_iterations"])
    for mine, its in (("median_ms", "p50"), ("p99_ms", "p99"), ("mean_ms", "mean"), ("cv", "cv")):
        assert latency[mine] == pytest.approx(own["latency_ms"][its], rel=1e-9, abs=1e-12)
    assert row["throughput_ips"] == pytest.approx(own["throughput_img_s"], rel=1e-9)
    parity, timed = (c for c in calls if c != ["--version"])  # one call each: every parity image, then the timing
    assert parity[parity.index("--batch") + 1] == "2" and "--bench" not in parity
    assert timed[timed.index("--bench") + 1:] == ["--batch", "2", "--warmup-ms", "5.0", "--duration-s", "0.05",
                                                  "--iterations", "2", "--export-times", timed[-1]]


def test_wrong_logits_from_gnet_infer_fail_the_rows_parity(gnet_infer: Path, monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path, tmp_path_factory: pytest.TempPathFactory):
    """A double that runs the real gnet-infer and hands back its logits with the classes reversed: timed as the real
    one, and marked failed by the same comparison and tolerance as every row."""
    reverse = (f"done = subprocess.run([{str(gnet_infer)!r}, *args])\n"
               "if done.returncode == 0 and '--output-tensor' in args:\n"
               "    out = args[args.index('--output-tensor') + 1]\n"
               "    np.save(out, np.load(out)[:, ::-1])\n"
               "sys.exit(done.returncode)\n")
    monkeypatch.setenv(cpp_runner.ENV, str(double(tmp_path, reverse)))
    doc = bench(tmp_path_factory)

    (row,) = doc["rows"]
    assert not row["parity"]["passed"] and row["parity"]["violations"]
    assert row["latency_ms"]["iterations"] >= TINY.min_iterations


def test_a_gnet_infer_failure_is_its_one_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    failing = "sys.stderr.write('OpenVINO warning\\nerror: the artifact m.onnx does not exist; export one\\n')\n" \
              "sys.exit(1)\n"
    monkeypatch.setenv(cpp_runner.ENV, str(double(tmp_path, failing)))
    monkeypatch.setattr(cpp_runner.ovr, "version", lambda: None)  # no read-back of a model that does not exist
    runner = cpp_runner.CppOpenVinoRunner("default", "fp32")
    runner.prepare(PrepareContext(loaded=None, image_size=8, threads=None,  # type: ignore[arg-type]
                                  artifact=lambda kind: tmp_path / "m.onnx"))
    try:
        with pytest.raises(GnetError) as caught:
            runner.run_all(np.zeros((3, 3, 8, 8), np.float32), 2)
    finally:
        runner.close()
    assert caught.value.cause == "gnet-infer failed (exit status 1): the artifact m.onnx does not exist; export one"
    assert runner.notes == ["executed precision not read back: Python's OpenVINO is not installed"]
    assert cpp_runner.sentence("") == "it printed nothing on stderr"


def test_the_last_batch_is_padded_with_its_own_images():
    """The padding every runner's parity pass feeds (Runner.run_all; cpp-openvino sends it in one call)."""
    images = np.arange(5, dtype=np.float32).reshape(5, 1, 1, 1)
    assert padded(images, 2)[:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4, 4]
    assert padded(images, 4)[:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4, 4, 4, 4]
    assert padded(images, 5) is images
