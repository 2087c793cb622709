"""The bench stage's Python API: time gnet's artifacts with ``gnet-bench``'s harness (``gnet.benchmark``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnet.errors import UsageError
from gnet.pipeline import Artifact, Engine

RUNTIME_BACKENDS = {"tensorrt": "trt", "tensorrt-rtx": "trt-rtx"}
"""The bench backend that times a plan of each TensorRT edition."""
ONNX_BACKENDS = ("ort-cpu", "openvino-cpu", "cpp-openvino")
"""The bench backends that time an ONNX file on this machine's CPU."""


@dataclass
class BenchResult:
    """What :func:`benchmark` measured: ``doc`` is ``gnet-bench --json``'s document."""

    doc: dict[str, Any]

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The measured rows (what did not run is ``doc["unavailable"]``)."""
        return list(self.doc["rows"])

    def table(self, width: int | None = None) -> str:
        """The table ``gnet-bench`` prints, as text."""
        import io

        from rich.console import Console

        from gnet.bench.report_table import natural_width, render

        console = Console(width=width or natural_width(self.doc), file=io.StringIO(), highlight=False, emoji=False)
        console.print(render(self.doc))
        return console.file.getvalue()  # type: ignore[attr-defined]


def _refuse_unnamed(item: Artifact | Engine) -> None:
    """The bench times each precision's file under gnet's name in the folder: an artifact or plan under another name
    (a camera-frame graph, a renamed file) would have that file timed in its place, so it is refused."""
    from gnet.defaults import FLOAT_INPUT, artifact_kind, artifact_name, plan_name

    if isinstance(item, Engine):
        path, meta = item.plan, item.manifest
        expected = plan_name(item.precision, item.runtime)
    else:
        path, meta = item.path, item.metadata
        expected = artifact_name(artifact_kind(item.precision, str(meta.get("int8_target", "tensorrt"))))
    if meta.get("input_type", FLOAT_INPUT) != FLOAT_INPUT:
        raise UsageError(f"benchmark() cannot time {path.name}",
                         "it takes camera frames, and the bench times the float graphs it made",
                         f"benchmark {expected}, or time this one with gnet-infer --bench")
    if path.name != expected:
        raise UsageError(f"benchmark() cannot time {path.name}",
                         f"the bench times each precision's file under gnet's name, here {expected}",
                         f"name it {expected} in its folder")


def _bench_inputs(items: Sequence[Artifact | Engine]) -> tuple[Path, dict[str, Any], list[str], list[str]]:
    """(artifacts folder, the ONNX metadata, backends, precisions) for ``items``, which must share a folder."""
    folders = {(i.path if isinstance(i, Artifact) else i.plan).parent for i in items}
    if len(folders) != 1:
        raise UsageError("benchmark() takes artifacts of one folder", f"these lie in {len(folders)} folders",
                         "export and build them into one folder")
    onnx = [i for i in items if isinstance(i, Artifact)]
    engines = [i for i in items if isinstance(i, Engine)]
    for item in items:
        _refuse_unnamed(item)
    metadata = onnx[0].metadata if onnx else dict(engines[0].manifest["model"])
    backends = ([*ONNX_BACKENDS] if onnx else []) + sorted({RUNTIME_BACKENDS[e.runtime] for e in engines})
    precisions = sorted({i.precision for i in items})
    return folders.pop(), metadata, backends, precisions


def benchmark(items: Sequence[Artifact | Engine], batches: Sequence[int] = (64,), *, duration_s: float = 3.0,
              warmup_ms: float = 200.0, threads: int | None = None) -> BenchResult:
    """Time ``items`` (ONNX files on ONNX Runtime and OpenVINO on this CPU; plans on their TensorRT edition, where a
    GPU it runs on is present) with ``gnet-bench``'s harness, parity included; rows that cannot run here are listed
    with why, as in ``gnet-bench``."""
    from gnet.bench.config import BenchConfig
    from gnet.bench.harness import run_benchmark
    from gnet.bench.timing import TimingConfig

    if not items:
        raise UsageError("benchmark() needs at least one Artifact or Engine")
    folder, metadata, backends, precisions = _bench_inputs(items)
    weights = metadata.get("weights_spec") or metadata.get("weights")
    config = BenchConfig(backends=backends, precisions=precisions, batches=list(batches), threads=threads,
                         timing=TimingConfig(warmup_ms, duration_s), weights=str(weights),
                         image_size=int(metadata["image_size"]), artifacts=folder)
    config.check()
    return BenchResult(run_benchmark(config))
