"""The TensorRT runner: compiled against TensorRT's real headers, libnvinfer loaded at run time, and every refusal
plan_loader.py makes (in its order) made here as one sentence — before any library is loaded when the plan itself is
wrong. No TensorRT library exists on these machines: a stand-in libnvinfer (a few lines of C, below) reports a
version and records that it was loaded, which is all the checks before a GPU read."""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cpp import gnet_infer as cpp
from tests.cpp.plans import fake_plan

STAND_IN = r"""
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void loaded(void) {
    const char* mark = getenv("STAND_IN_MARK");
    if (mark) { FILE* f = fopen(mark, "w"); if (f) fclose(f); }
}
int getInferLibVersion(void) { return VERSION; }
void* createInferRuntime_INTERNAL(void* logger, int version) { (void)logger; (void)version; return 0; }
"""

needs_headers = pytest.mark.skipif(cpp.tensorrt_headers() is None,
                                   reason=f"no TensorRT headers at {cpp.TENSORRT_ROOT}: the runner is not compiled")


def header_major() -> int:
    text = (cpp.TENSORRT_ROOT / "include" / "NvInferVersion.h").read_text()
    return int(re.search(r"#define TRT_MAJOR_ENTERPRISE (\d+)", text).group(1))


def tensorrt_installed() -> bool:
    for name in ("libnvinfer.so.11", "libnvinfer.so.10", "libnvinfer.so"):
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            pass
    return False


def stand_in(folder: Path, major: int, minor: int) -> dict[str, str]:
    """A libnvinfer.so.<major> reporting TensorRT major.minor.0 in ``folder``; the environment that makes
    gnet-infer load it and record that it did (``folder/loaded``)."""
    if shutil.which("cc") is None:
        pytest.skip("no C compiler (cc) for the stand-in libnvinfer")
    source = folder / "nvinfer.c"
    source.write_text(STAND_IN.replace("VERSION", str(major * 10000 + minor * 100)))
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(folder / f"libnvinfer.so.{major}"), str(source)], check=True)
    return {"LD_LIBRARY_PATH": str(folder), "STAND_IN_MARK": str(folder / "loaded")}


@pytest.fixture()
def digit(tmp_path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (8, 8), (10, 200, 10)).save(tmp_path / "digit.png")
    return tmp_path / "digit.png"


@needs_headers
def test_the_runner_is_compiled_against_the_real_headers(gnet_infer: Path):
    objects = cpp.BUILD_DIR / "CMakeFiles" / "gnet.dir"
    compiled = (objects / "src" / "tensorrt_runner.cpp.o").is_file() or any(  # a unity build includes it instead
        "tensorrt_runner.cpp" in unit.read_text() and unit.with_name(unit.name + ".o").is_file()
        for unit in objects.glob("Unity/unity_*.cxx"))
    assert compiled
    assert "tensorrt" in cpp.run(gnet_infer, "--version").stdout


@needs_headers
def test_without_tensorrt_a_plan_is_one_sentence(gnet_infer: Path, fp32_onnx: Path, tmp_path: Path, digit: Path):
    if tensorrt_installed():
        pytest.skip("TensorRT is installed here")
    plan = fake_plan(tmp_path, fp32_onnx)
    cpp.assert_one_sentence(cpp.run(gnet_infer, plan, digit), "TensorRT is not installed here", "libnvinfer")


def test_a_tensorrt_rtx_plan_is_refused_by_the_data_centre_runner(gnet_infer: Path, fp32_onnx: Path, tmp_path: Path,
                                                                  digit: Path):
    plan = fake_plan(tmp_path, fp32_onnx, runtime="tensorrt-rtx", version="1.7.1.116")
    assert plan.name == "googlenet_fp32.rtx.plan"
    cpp.assert_one_sentence(cpp.run(gnet_infer, plan, digit), "is a TensorRT-RTX plan", "TensorRT-RTX's runtime")


@pytest.mark.slow
def test_a_real_tensorrt_rtx_manifest_is_read(gnet_infer: Path, fp32_onnx: Path, tmp_path: Path, digit: Path):
    """What gnet build writes (TensorRT-RTX builds here without a GPU), not a hand-made copy, is what C++ reads."""
    pytest.importorskip("tensorrt_rtx")
    from gnet.engines.build_inputs import BuildOptions
    from gnet.pipeline import build

    source = tmp_path / fp32_onnx.name
    shutil.copy(fp32_onnx, source)
    engine = build(source, None, BuildOptions(runtime="tensorrt-rtx", min_batch=1, opt_batch=2, max_batch=2))
    cpp.assert_one_sentence(cpp.run(gnet_infer, engine.plan, digit), "is a TensorRT-RTX plan")


@needs_headers
def test_a_libnvinfer_in_the_working_directory_is_never_loaded(gnet_infer: Path, fp32_onnx: Path, tmp_path: Path,
                                                               digit: Path):
    """gnet-infer's RUNPATH holds OpenVINO's folder only: no empty entry, which would search the working directory."""
    if tensorrt_installed():
        pytest.skip("TensorRT is installed here")
    env = stand_in(tmp_path, header_major(), 1)
    plan = fake_plan(tmp_path, fp32_onnx, version=f"{header_major()}.1.0.5")
    done = cpp.run(gnet_infer, plan.name, digit, env={"STAND_IN_MARK": env["STAND_IN_MARK"]}, cwd=tmp_path)
    cpp.assert_one_sentence(done, "TensorRT is not installed here")
    assert not (tmp_path / "loaded").exists()


@needs_headers
def test_an_edited_plan_is_refused_before_any_library_is_loaded(gnet_infer: Path, fp32_onnx: Path, tmp_path: Path,
                                                                digit: Path):
    env = stand_in(tmp_path, header_major(), 1)
    plan = fake_plan(tmp_path, fp32_onnx, version=f"{header_major()}.1.0.5")
    loaded = cpp.run(gnet_infer, plan, digit, env=env)  # the untouched plan gets as far as the GPU
    cpp.assert_one_sentence(loaded)
    assert (tmp_path / "loaded").is_file() and "does not match its manifest" not in loaded.stderr
    (tmp_path / "loaded").unlink()
    plan.write_bytes(plan.read_bytes()[:-1] + b"?")  # same size, another SHA-256
    cpp.assert_one_sentence(cpp.run(gnet_infer, plan, digit, env=env), "does not match its manifest", "SHA-256")
    assert not (tmp_path / "loaded").exists()


@needs_headers
def test_past_the_library_the_checks_follow_plan_loader(gnet_infer: Path, fp32_onnx: Path, tmp_path: Path,
                                                        digit: Path):
    major = header_major()
    env = stand_in(tmp_path, major, 1)
    other = fake_plan(tmp_path, fp32_onnx, version=f"{major}.0.2.1")
    cpp.assert_one_sentence(cpp.run(gnet_infer, other, digit, env=env), "does not match this machine",
                            f"it was built with TensorRT {major}.0.2.1 but this machine has TensorRT {major}.1.0",
                            "rebuild it here with: gnet build")
    same = fake_plan(tmp_path, fp32_onnx, version=f"{major}.1.0.9")  # the library reports no build number
    sentence = cpp.assert_one_sentence(cpp.run(gnet_infer, same, digit, env=env))
    assert "no CUDA GPU is usable here" in sentence or "cannot create its runtime" in sentence  # no GPU, or a GPU


@needs_headers
def test_a_library_of_another_major_version_is_one_sentence(gnet_infer: Path, fp32_onnx: Path, tmp_path: Path,
                                                            digit: Path):
    if tensorrt_installed():
        pytest.skip("TensorRT is installed here: it would be found first")
    other = header_major() - 1
    env = stand_in(tmp_path, other, 3)
    plan = fake_plan(tmp_path, fp32_onnx, version=f"{other}.3.0.1")
    cpp.assert_one_sentence(cpp.run(gnet_infer, plan, digit, env=env), f"is TensorRT {other}.3.0",
                            f"compiled against TensorRT {header_major()}'s headers")
