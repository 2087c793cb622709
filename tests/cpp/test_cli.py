"""gnet-infer's command line: top-k with class names, the JSON list, --bench's JSON, tensors in and out, and output
files written atomically."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from gnet.checks.images import digits_split, digits_to_pil
from tests.cpp import gnet_infer as cpp


@pytest.fixture()
def digits(tmp_path: Path) -> list[Path]:
    """Three held-out digits as PNG files, and their labels in the file names."""
    _, images, labels = digits_split("eval")
    paths = [tmp_path / f"digit_{label}.png" for label in labels[:3]]
    for image, path in zip(digits_to_pil(images[:3]), paths):
        image.save(path)
    return paths


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def test_the_json_list_holds_top_k_softmax_scores_in_input_order(gnet_infer: Path, fp32_onnx: Path,
                                                                 digits: list[Path], tmp_path: Path):
    done = cpp.run(gnet_infer, fp32_onnx, *reversed(digits), "--top-k", 3, "--json", "--output-tensor",
                   tmp_path / "y.npy")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    answers, logits = json.loads(done.stdout), np.load(tmp_path / "y.npy")
    probabilities = softmax(logits.astype(np.float64))

    assert logits.dtype == np.float32 and logits.shape == (3, 10)
    assert [a["image"] for a in answers] == [str(p) for p in reversed(digits)]
    for answer, row, path in zip(answers, probabilities, reversed(digits)):
        assert [t["index"] for t in answer["top"]] == list(np.argsort(-row)[:3])
        assert [t["label"] for t in answer["top"]] == [str(t["index"]) for t in answer["top"]]  # the digits' names
        assert [t["score"] for t in answer["top"]] == pytest.approx(list(np.sort(row)[::-1][:3]), rel=1e-6)
        assert answer["top"][0]["label"] == path.stem.split("_")[1]  # the fixture reads these digits right


def test_the_text_report_and_top_k_beyond_the_classes(gnet_infer: Path, fp32_onnx: Path, digits: list[Path]):
    done = cpp.run(gnet_infer, fp32_onnx, digits[0], "--top-k", 50)
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and lines[0] == str(digits[0]) and len(lines) == 1 + 10  # ten classes, no more
    assert lines[1].strip().endswith(f"{digits[0].stem.split('_')[1]}  (index {digits[0].stem.split('_')[1]})")


def test_json_to_a_file_is_written_atomically_and_never_over_an_image(gnet_infer: Path, fp32_onnx: Path,
                                                                       digits: list[Path], tmp_path: Path):
    out = tmp_path / "answers.json"
    out.write_text("the previous answers")
    before = digits[1].read_bytes()
    done = cpp.run(gnet_infer, fp32_onnx, digits[0], "--json", digits[1], "--json=" + str(out))
    assert done.returncode == 0 and done.stdout == "", done.stderr
    assert [a["image"] for a in json.loads(out.read_text())] == [str(digits[0]), str(digits[1])]
    assert digits[1].read_bytes() == before  # "--json image.png" takes image.png as an image, not as the output
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary left
    cpp.run(gnet_infer, fp32_onnx, tmp_path / "gone.png", "--json", out)
    assert json.loads(out.read_text())[0]["image"] == str(digits[0])  # a failed run leaves the previous file


def test_bench_prints_one_json_object_as_trtexec_times(gnet_infer: Path, fp32_onnx: Path, digits: list[Path],
                                                       tmp_path: Path):
    done = cpp.run(gnet_infer, fp32_onnx, *digits, "--bench", "--batch", 4, "--iterations", 5, "--duration-s", 0,
                   "--warmup-ms", 0, "--output-tensor", tmp_path / "y.npy")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    doc = json.loads(done.stdout)
    latency = doc["latency_ms"]

    assert doc["format"] == "gnet-infer-bench" and doc["format_version"] == 1
    assert (doc["artifact"], doc["runtime"], doc["precision"], doc["batch"]) == (str(fp32_onnx), "openvino", "fp32", 4)
    assert doc["iterations"] >= 5 and doc["warmup_iterations"] >= 1 and doc["warmup_ms"] == 0
    assert 0 < latency["min"] <= latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    assert latency["min"] <= latency["mean"] <= latency["max"] and latency["cv"] >= 0
    assert doc["throughput_img_s"] == pytest.approx(4 * 1000 / latency["mean"], rel=1e-6)
    batch_logits = np.load(tmp_path / "y.npy")  # the timed batch: the three images, then the first again
    assert batch_logits.shape == (4, 10) and np.array_equal(batch_logits[3], batch_logits[0])


def test_sigterm_removes_the_temporary_output(gnet_infer: Path, fp32_onnx: Path, digits: list[Path], tmp_path: Path):
    out = tmp_path / "timing.json"
    process = subprocess.Popen([str(gnet_infer), str(fp32_onnx), str(digits[0]), "--bench", "--duration-s", "60",
                                "--json", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".timing.json.*")) and time.monotonic() < deadline:  # the temporary file exists
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == -signal.SIGTERM  # ended by the signal, as a shell reports with 143
    assert not out.exists() and not list(tmp_path.glob(".timing.json.*"))


def test_help_version_and_usage_errors(gnet_infer: Path):
    help_text = cpp.run(gnet_infer, "--help")
    assert help_text.returncode == 0 and "--input-tensor" in help_text.stdout and help_text.stderr == ""
    assert cpp.run(gnet_infer, "--version").stdout.startswith("gnet-infer 0.1.0 (runners: openvino")
    for args, problem in ((["m.onnx"], "missing IMAGE"), (["m.onnx", "x.png", "--batch", "two"], "whole number"),
                          (["m.onnx", "x.png", "--top-k"], "--top-k needs a value")):
        done = cpp.run(gnet_infer, *args)
        assert done.returncode == 2 and done.stderr.startswith("usage: gnet-infer") and problem in done.stderr
