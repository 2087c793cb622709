"""``cpp-openvino``: gnet's C++ runner, ``gnet-infer`` (``gnet::gnet`` on OpenVINO's CPU plugin, ``cpp/``), on the
ONNX files ``openvino-cpu`` reads, timed by its own loop.

Rows (variant × precision): ``default`` fp32, fp16 and int8 (``googlenet_fp32.onnx``, ``googlenet_fp16.onnx``,
``googlenet_int8_cpu.qdq.onnx``) and ``trt-qdq`` int8 (``googlenet_int8.qdq.onnx``). gnet-infer compiles each with
the precision hint of what its graph encodes (f16 for the FP16 graph, f32 for the others, as
``openvino_ir.runtime.HINT`` says), a dynamic batch, one infer request and OpenVINO's defaults otherwise
(``--threads`` passed on). It reports nothing of what OpenVINO executes, so each row reads that back from the same
compile in Python's OpenVINO (``settings.executed_precision``; the FP16 graph runs in bf16 on a CPU with BF16 and no
FP16).

The model runs in gnet-infer's process, so nothing here times it from Python, which would time a process start and
a compile per call:

* parity: every parity image in one call (``--input-tensor`` / ``--output-tensor`` at the row's batch, the last
  batch padded as the harness pads it), compared by the harness as every row is (:meth:`CppOpenVinoRunner.run_all`);
* timing: ``gnet-infer --bench`` with the run's warm-up, duration and minimum iterations; the latency of each timed
  call (``--export-times``) becomes the row's, summarized as every row's is (:meth:`CppOpenVinoRunner.time_itself`);
* ``run``: one call for one batch, for single use; never timed.

Where gnet-infer is: :func:`locate`, the one place that decides. The bench never builds it (``make cpp`` does).
A gnet-infer failure (a non-zero exit, a signal, a timeout) is one :class:`GnetError` carrying its sentence.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from gnet.bench.runners.base import Availability, PrepareContext, Runner, padded
from gnet.defaults import PRECISIONS
from gnet.errors import GnetError, NotAvailable
from gnet.openvino_ir import runtime as ovr

ENV = "GNET_INFER"
"""An environment variable naming the gnet-infer to measure; it wins over every other place."""
BUILT = Path(__file__).resolve().parents[2] / "build" / "cpp" / "gnet-infer"
"""Where ``make cpp`` (and the C++ tests) build it: build/cpp/ in the repository this module is installed from
(``make install`` installs editable)."""
PROGRAM = "gnet-infer"
ARTIFACTS = {("default", "fp32"): "fp32", ("default", "fp16"): "fp16", ("default", "int8"): "int8-cpu",
             ("trt-qdq", "int8"): "int8"}
"""The ``prepare_artifacts`` variant each row reads (``openvino-cpu``'s files); combinations missing here are not
rows."""
SLACK_S = 600.0
"""How long one gnet-infer call may take beyond its timed duration (reading and compiling the model, the parity
images) before it is stopped and the row fails."""


def locate() -> tuple[Path | None, str]:
    """(the gnet-infer to measure, "") or (None, why not and what to run): ``$GNET_INFER`` when set, else
    build/cpp/gnet-infer in this repository, else ``gnet-infer`` on PATH."""
    named = os.environ.get(ENV, "")
    if named:
        path = Path(named).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path, ""
        return None, (f"{ENV} names {path}, which is not an executable file: point it at a gnet-infer, or unset it "
                      f"and build one with make cpp")
    if BUILT.is_file() and os.access(BUILT, os.X_OK):
        return BUILT, ""
    found = shutil.which(PROGRAM)
    if found:
        return Path(found), ""
    return None, f"gnet-infer is not built (no {BUILT}, none on PATH, {ENV} unset): build it with make cpp"


@functools.lru_cache(maxsize=8)
def _start_problem(path: str, stamp: tuple[int, int]) -> str:
    """Why ``path --version`` does not run ("" when it does); once per file version (``stamp``: mtime, size)."""
    try:
        call(Path(path), ["--version"], 60.0)
    except GnetError as exc:
        return f"{path} does not start ({exc.cause}): rebuild it with make cpp"
    return ""


def sentence(stderr: str) -> str:
    """gnet-infer's one sentence: its last ``error: …`` line without the prefix, else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
    return (errors or lines or ["it printed nothing on stderr"])[-1]


def _status(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def call(program: Path, args: list[Any], timeout_s: float) -> subprocess.CompletedProcess[str]:
    """``program ARGS``, its output captured; anything but exit status 0 raises one GnetError with its sentence."""
    command = [str(program), *map(str, args)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise GnetError(f"{PROGRAM} did not finish within {timeout_s:.0f} s", "it was stopped") from None
    except OSError as exc:
        raise GnetError(f"cannot start {program}", exc.strerror or str(exc)) from None
    if done.returncode != 0:
        raise GnetError(f"{PROGRAM} failed ({_status(done.returncode)})", sentence(done.stderr))
    return done


def _bench_output(stdout: str, times: Path, batch: int) -> tuple[dict[str, Any], list[float]]:
    """gnet-infer --bench's JSON report and its exported latencies, checked against each other and the batch asked."""
    try:
        report = json.loads(stdout)
        latencies = [float(v) for v in json.loads(times.read_text())]
    except (OSError, ValueError, TypeError) as exc:
        raise GnetError(f"{PROGRAM} --bench wrote no readable timing", f"{type(exc).__name__}: {exc}") from None
    if report.get("batch") != batch or report.get("iterations") != len(latencies) or not latencies:
        raise GnetError(f"{PROGRAM}'s --bench report does not match what it was asked",
                        f"batch {report.get('batch')} and {report.get('iterations')} iterations reported, "
                        f"{len(latencies)} latencies exported, for a batch of {batch}")
    return report, latencies


class CppOpenVinoRunner(Runner):
    """gnet-infer on OpenVINO's CPU plugin (see the module docstring for the rows and how each is measured)."""

    backend = "cpp-openvino"
    runtime = "openvino"
    device = "cpu"
    variants = ("default", "trt-qdq")
    precisions = PRECISIONS
    times_itself = True

    def __init__(self, variant: str, precision: str) -> None:
        super().__init__(variant, precision)
        self.program: Path | None = None
        self.reports: dict[int, dict[str, Any]] = {}
        """gnet-infer's own ``--bench`` JSON at each batch size timed."""
        self._threads: list[Any] = []
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    @classmethod
    def is_row(cls, variant: str, precision: str) -> bool:
        return (variant, precision) in ARTIFACTS

    @property
    def artifact_kind(self) -> str:
        return ARTIFACTS[(self.variant, self.precision)]

    def available(self) -> Availability:
        path, why = locate()
        if path is None:
            return Availability.no(why)
        stat = path.stat()
        problem = _start_problem(str(path), (stat.st_mtime_ns, stat.st_size))
        return Availability.no(problem) if problem else Availability.yes()

    def prepare(self, ctx: PrepareContext) -> None:
        start = time.perf_counter()
        self.program, why = locate()
        if self.program is None:
            raise NotAvailable(why)
        self.artifact_path = ctx.artifact(self.artifact_kind)
        self._threads = ["--threads", ctx.threads] if ctx.threads else []
        self._folder = tempfile.TemporaryDirectory(prefix="gnet-cpp-openvino-")
        self.settings.update({"program": str(self.program),
                              "options": f"gnet-infer (C++), OpenVINO defaults, hint {ovr.HINT[self.precision]}",
                              "inference_precision_hint": ovr.HINT[self.precision], "requests_in_flight": 1,
                              "threads": ctx.threads or "OpenVINO's default"})
        self.setup_s += time.perf_counter() - start
        self._read_back()

    def _read_back(self) -> None:
        """What OpenVINO executes for this file and hint, which gnet-infer does not report: read back from the same
        compile by Python's OpenVINO, the library gnet-infer runs on (an f16 hint runs in bf16 on a CPU with BF16 and
        no FP16, in f32 on one with neither). Outside ``setup_s``: no deployment pays for it."""
        assert self.artifact_path is not None
        if ovr.version() is None:
            self.notes.append("executed precision not read back: Python's OpenVINO is not installed")
            return
        back = ovr.read_back(ovr.compile_cpu(str(self.artifact_path), self.precision, name=self.artifact_path.name))
        self.settings.update({"executed_precision": ovr.executed(back), "read_back": back})

    def _ready(self) -> tuple[Path, Path, Path]:
        """(gnet-infer, the artifact, this runner's scratch folder), once ``prepare`` has found them."""
        if self.program is None or self._folder is None or self.artifact_path is None:
            raise RuntimeError(f"{self.name} is used before prepare()")
        return self.program, self.artifact_path, Path(self._folder.name)

    def _logits(self, images: np.ndarray, batch: int) -> np.ndarray:
        """gnet-infer's logits of ``images`` (a whole number of batches), ``batch`` at a time."""
        program, artifact, folder = self._ready()
        given, got = folder / "input.npy", folder / "logits.npy"
        np.save(given, np.ascontiguousarray(images, dtype=np.float32))
        try:
            call(program, [artifact, "--input-tensor", given, "--output-tensor", got, "--batch", batch, "--top-k", 1,
                           *self._threads], SLACK_S)
            logits = np.load(got)
        finally:
            given.unlink(missing_ok=True)
            got.unlink(missing_ok=True)
        if logits.ndim != 2 or len(logits) != len(images):
            raise GnetError(f"{PROGRAM} returned logits of shape {list(logits.shape)} for {len(images)} images")
        return logits.astype(np.float32, copy=False)

    def run(self, images: np.ndarray) -> np.ndarray:
        return self._logits(images, len(images))

    def run_all(self, images: np.ndarray, batch: int) -> np.ndarray:
        return self._logits(padded(images, batch), batch)[:len(images)]

    def time_itself(self, images: np.ndarray, warmup_ms: float, duration_s: float,
                    min_iterations: int) -> tuple[list[float], int]:
        program, artifact, folder = self._ready()
        given, times = folder / "batch.npy", folder / "times.json"
        np.save(given, np.ascontiguousarray(images, dtype=np.float32))
        try:
            done = call(program, [artifact, "--input-tensor", given, "--bench", "--batch", len(images),
                                  "--warmup-ms", repr(float(warmup_ms)), "--duration-s", repr(float(duration_s)),
                                  "--iterations", min_iterations, "--export-times", times, *self._threads],
                        SLACK_S + duration_s + warmup_ms / 1000.0)
            report, latencies = _bench_output(done.stdout, times, len(images))
        finally:
            given.unlink(missing_ok=True)
            times.unlink(missing_ok=True)
        self.reports[len(images)] = report
        return latencies, int(report["warmup_iterations"])

    def close(self) -> None:
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
