"""``gnet bench`` / ``gnet-bench`` on the command line: one sentence and exit 1 for bad input, files on request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gnet.cli.app import bench_main
from tests.helpers.bench import bench_artifacts
from tests.helpers.cli import assert_one_sentence_failure, invoke

FAST = ["--weights", "random", "--seed", "1", "--image-size", "64", "--warmup-ms", "5", "--duration-s", "0.05",
        "--min-iterations", "2", "--parity-images", "2"]


def _bench(*args: str):
    return invoke("bench", *args)


_one_sentence_failure = assert_one_sentence_failure


def test_help_has_an_example():
    result = _bench("--help")
    assert result.exit_code == 0 and "Example" in result.output and "--on-device" in result.output


def test_gnet_bench_entry_point(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["gnet-bench", "--help"])
    with pytest.raises(SystemExit) as stop:
        bench_main()
    assert stop.value.code == 0 and "Example" in capsys.readouterr().out


def test_bad_backend_name():
    _one_sentence_failure(_bench("--backend", "tensorflow"), "unknown backend 'tensorflow'", "ort-cpu")
    _one_sentence_failure(_bench("--backend", "ort-cpu:turbo"), "no variant 'turbo'")
    _one_sentence_failure(_bench("--precision", "int4"), "unknown precision 'int4'", "bf16")
    _one_sentence_failure(_bench("--ort-ablation", "--openvino-ablation"), "two runs")


def test_unwritable_output_fails_before_measuring(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = _bench("--backend", "ort-cpu", *FAST, "--json", str(blocker / "run.json"))
    _one_sentence_failure(result, "cannot create the output folder")
    folder = tmp_path / "folder.png"
    folder.mkdir()
    _one_sentence_failure(_bench("--backend", "ort-cpu", *FAST, "--plot", str(folder)), "is a folder")


def test_bad_baseline_file(tmp_path: Path):
    bad = tmp_path / "old.json"
    bad.write_text("not json at all")
    _one_sentence_failure(_bench("--backend", "ort-cpu", *FAST, "--baseline", str(bad)), "is not a JSON file")
    _one_sentence_failure(_bench("--backend", "ort-cpu", *FAST, "--baseline", str(tmp_path / "none.json")), "does not exist")


def test_list_backends():
    result = _bench("--list", "--precision", "fp32")
    assert result.exit_code == 0, result.output
    assert "ort-cpu" in result.output and "not run here" in result.output and "trt" in result.output


def test_a_real_run_writes_every_file_and_compares_with_itself(tmp_path: Path, tmp_path_factory):
    art = bench_artifacts(tmp_path_factory)
    out = tmp_path / "reports"
    args = ["--backend", "ort-cpu:default,torch-cpu:eager", "--precision", "fp32", "--batch", "1", *FAST,
            "--artifacts", str(art)]
    first = _bench(*args, "--json", str(out / "run.json"), "--csv", str(out / "run.csv"), "--plot", str(out / "run.png"))
    assert first.exit_code == 0, first.output
    for name in ("run.json", "run.csv", "run.png"):
        assert (out / name).is_file()
        assert name in first.output
    doc = json.loads((out / "run.json").read_text())
    assert doc["weights"]["name"] == "random (seed 1)" and len(doc["rows"]) == 2
    assert "random (seed 1)" in first.output and "pass" in first.output
    assert (out / "run.png").read_bytes()[:4] == b"\x89PNG"
    second = _bench(*args, "--baseline", str(out / "run.json"))
    assert second.exit_code == 0, second.output
    assert "against the baseline" in second.output


def test_openvino_ablation_times_openvinos_options_beside_onnx_runtime(tmp_path_factory):
    result = _bench("--openvino-ablation", "--precision", "int8", "--batch", "2", *FAST,
                    "--artifacts", str(bench_artifacts(tmp_path_factory)))
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "OpenVINO CPU options" in text and "vs OpenVINO's defaults" in text
    for name in ("OpenVINO's defaults", "throughput hint, 2 requests", "no CPU pinning",
                 "ONNX Runtime's default session, same artifact"):
        assert name in text
