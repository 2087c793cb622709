"""The C++ side under test: cpp/ configured and built with CMake and Ninja into build/cpp (kept between runs, so a
rebuild compiles only what changed), and gnet-infer run as a user runs it."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from tests.helpers.paths import REPO_ROOT

SOURCE_DIR = REPO_ROOT / "cpp"
BUILD_DIR = REPO_ROOT / "build" / "cpp"
TENSORRT_ROOT = REPO_ROOT.parent / "shared" / "third_party" / "tensorrt"
"""TensorRT's public headers beside the repository (../shared/third_party/tensorrt): the TensorRT runner is
compiled against them where they exist."""


class BuildFailed(RuntimeError):
    """CMake or the compiler failed; the message holds the end of their output."""


def tensorrt_headers() -> Path | None:
    return TENSORRT_ROOT if (TENSORRT_ROOT / "include" / "NvInferRuntime.h").is_file() else None


def cmake_arguments() -> list[str]:
    """What gnet's CMake needs from this environment: the venv's OpenVINO, nlohmann/json's headers from its wheel,
    and TensorRT's headers where they exist."""
    import nlohmann_json
    import openvino.utils

    arguments = [f"-DOpenVINO_DIR={openvino.utils.get_cmake_path()}",
                 f"-DGNET_NLOHMANN_INCLUDE_DIR={nlohmann_json.get_include()}",
                 "-DCMAKE_UNITY_BUILD=ON"]  # the tests' build: one translation unit per target halves a clean build
    headers = tensorrt_headers()
    return arguments + ([f"-DTensorRT_ROOT={headers}"] if headers else [])


def _step(command: list[str]) -> None:
    done = subprocess.run(command, check=False, cwd=REPO_ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
        raise BuildFailed(f"{' '.join(command[:3])} … failed:\n{tail}")


def build() -> Path:
    """gnet-infer, configured and built (incrementally) into build/cpp; one build at a time (a lock file)."""
    missing = [tool for tool in ("cmake", "ninja") if shutil.which(tool) is None]
    if missing:
        raise BuildFailed(f"the C++ build needs {', '.join(missing)} on PATH (docs/cpp.md lists what to install)")
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    with open(BUILD_DIR.parent / "cpp.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        generator = [] if (BUILD_DIR / "CMakeCache.txt").is_file() else ["-G", "Ninja"]  # keep an existing build's
        _step(["cmake", "-S", str(SOURCE_DIR), "-B", str(BUILD_DIR), *generator, *cmake_arguments()])
        _step(["cmake", "--build", str(BUILD_DIR)])
    return BUILD_DIR / "gnet-infer"


def run(binary: Path, *args: object, env: dict[str, str] | None = None, cwd: Path | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``gnet-infer ARGS`` as a separate process (its exit status and streams are what a user sees)."""
    return subprocess.run([str(binary), *map(str, args)], check=False, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, cwd=cwd)


def assert_one_sentence(done: subprocess.CompletedProcess[str], *needles: str, status: int = 1) -> str:
    """Exit status 1, nothing on stdout, one line on stderr starting "error: " with every needle, and no sign of an
    abort or an escaped C++ exception; returns the sentence."""
    lines = done.stderr.splitlines()
    assert done.returncode == status, (done.returncode, done.stderr)
    assert done.stdout == "" and len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for marker in ("terminate called", "what():", "Aborted", "core dumped", "Traceback"):
        assert marker not in done.stderr, done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def logits_of(binary: Path, model: Path, images: np.ndarray, folder: Path, batch: int | None = None) -> np.ndarray:
    """The C++ logits of a float32 NCHW tensor, through --input-tensor / --output-tensor."""
    given, got = folder / "input.npy", folder / "logits.npy"
    np.save(given, np.ascontiguousarray(images, dtype=np.float32))
    done = run(binary, model, "--input-tensor", given, "--output-tensor", got, "--batch", batch or len(images),
               "--json", "--top-k", 1)
    assert done.returncode == 0, done.stderr
    return np.load(got)
