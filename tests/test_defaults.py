"""One home for every fixed name: the Makefile's copies must agree with ``gnet.defaults``."""

from __future__ import annotations

import re

from gnet import defaults
from tests.helpers.paths import REPO_ROOT


def makefile_variables() -> dict[str, str]:
    """``NAME ?= value`` and ``NAME := value`` assignments of the Makefile."""
    found = {}
    for line in (REPO_ROOT / "Makefile").read_text().splitlines():
        match = re.match(r"^([A-Za-z_0-9]+)\s*[?:]?=\s*(.*?)\s*$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def test_makefile_artifact_names_and_defaults_match_gnet_defaults():
    make = makefile_variables()
    assert make["ARTIFACTS"] == str(defaults.ARTIFACTS_DIR)
    for precision in defaults.PRECISIONS:
        assert make[f"ONNX_{precision}"] == defaults.artifact_name(precision), precision
    assert make["FIXTURE"] == str(defaults.FIXTURE_CHECKPOINT).replace(str(defaults.ARTIFACTS_DIR), "$(ARTIFACTS)", 1)
    assert make["WEIGHTS"] == defaults.WEIGHTS
    assert make["BATCH"] == str(defaults.BENCH_BATCH) == str(defaults.OPT_BATCH)
    assert make["MAX_BATCH"] == str(defaults.MAX_BATCH)
    assert make["PRECISION"] in defaults.PRECISIONS
    assert make["RUNTIME"] == defaults.RUNTIME and make["RUNTIME"] in defaults.RUNTIMES
    assert make["PYTRITON_VERSION"] == defaults.PYTRITON_VERSION
    assert make["TRITONCLIENT_VERSION"] == defaults.TRITONCLIENT_VERSION


def test_the_makefile_check_reads_what_it_claims():
    make = makefile_variables()
    assert {"ARTIFACTS", "WEIGHTS", "BATCH", "MAX_BATCH", "ONNX_fp32"} <= set(make)


def test_names_follow_from_one_another():
    assert defaults.artifact_kind("int8", "cpu") == "int8-cpu"
    assert defaults.artifact_kind("int8", "tensorrt") == "int8"
    assert defaults.artifact_kind("fp16", "cpu") == "fp16"
    assert set(defaults.ARTIFACT_NAMES) == {*defaults.PRECISIONS, "int8-cpu"}
    assert defaults.plan_name("fp16") == "googlenet_fp16.plan"
    assert defaults.plan_name("fp16", "tensorrt-rtx") == "googlenet_fp16.rtx.plan"
    assert set(defaults.PLAN_SUFFIXES) | {"auto"} == set(defaults.RUNTIMES)
    assert defaults.MIN_BATCH <= defaults.OPT_BATCH <= defaults.MAX_BATCH
    assert defaults.CALIB_METHOD in defaults.CALIBRATION_METHODS


def test_calibration_methods_match_onnx_runtime_mapping():
    from gnet.precision.calibration import CALIBRATION_METHODS

    assert tuple(CALIBRATION_METHODS) == defaults.CALIBRATION_METHODS


def test_bench_precisions_are_the_file_precisions_plus_bf16():
    assert set(defaults.BENCH_PRECISIONS) == {*defaults.PRECISIONS, "bf16"}
    assert [p for p in defaults.BENCH_PRECISIONS if p in defaults.PRECISIONS] == list(defaults.PRECISIONS)  # same order
    assert "bf16" not in defaults.ARTIFACT_NAMES  # never a file
    assert defaults.ir_name(defaults.artifact_name("int8-cpu")) == "googlenet_int8_cpu.qdq.xml"


def test_make_install_installs_tensorrt_rtx_so_the_real_tensorrt_tests_run():
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert any(dep.startswith("tensorrt-rtx") for dep in project["optional-dependencies"]["rtx"])
    extras = re.search(r"pip install --quiet[^'\n]* -e '\.\[([a-z,-]+)\]'", (REPO_ROOT / "Makefile").read_text())
    assert extras and {"dev", "rtx", "openvino"} <= set(extras.group(1).split(","))  # openvino: issue 13
