"""gnet's front door: the pipeline in typed calls, the same steps the command line runs.

    import gnet

    art = gnet.export_model(weights="auto", precision="int8", int8_target="cpu")  # an ONNX, parity proven
    assert art.check().passed                                   # re-checked against PyTorch FP32
    eng = art.build(runtime="tensorrt-rtx")                     # a plan and its manifest (no GPU needed)
    with gnet.runners.OpenVINORunner(art) as runner:            # any runtime, outside the bench
        logits = runner.infer(images)
    print(gnet.benchmark([art, eng], batches=[64]).table())     # gnet-bench's table for these files

``gnet.export`` and ``gnet.bench`` are the stages' packages; these names are the pipeline's verbs. Each call
raises :class:`gnet.errors.GnetError` (one sentence) on bad input, as the command line prints it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnet.errors import UsageError

RUNTIME_BACKENDS = {"tensorrt": "trt", "tensorrt-rtx": "trt-rtx"}
"""The bench backend that times a plan of each TensorRT edition."""
ONNX_BACKENDS = ("ort-cpu", "openvino-cpu")
"""The bench backends that time an ONNX file on this machine's CPU."""


@dataclass(frozen=True)
class Artifact:
    """A gnet ONNX file: its path and its ``gnet.*`` metadata (and the parity its export proved, when just made)."""

    path: Path
    metadata: dict[str, Any]
    parity: Any = None  # gnet.export.parity.ParityReport of the export that wrote it; None when opened

    @classmethod
    def open(cls, path: str | Path) -> Artifact:
        """An existing gnet ONNX; one sentence when it is missing, corrupt or not gnet's (a foreign ONNX goes through
        ``gnet build --image-size --classes`` or ``gnet check --weights --image-size`` instead)."""
        from gnet.export.metadata import require_gnet_metadata
        from gnet.export.ort import load_onnx

        where = Path(path)
        return cls(where, require_gnet_metadata(load_onnx(where), str(where), "artifact"))

    @property
    def precision(self) -> str:
        return str(self.metadata["precision"])

    @property
    def image_size(self) -> int:
        return int(self.metadata["image_size"])

    def check(self, images: str | Path | None = None, batches: Sequence[int] | None = None):
        """Parity against PyTorch FP32 with the weights it records (``gnet check``): a ``CheckResult``."""
        from gnet.export.api import check_model

        return check_model(self.path, images=images, batches=batches)

    def build(self, runtime: str = "auto", output: str | Path | None = None, **options: Any) -> Engine:
        """A plan of this graph and its manifest (``gnet build``); ``options`` are ``BuildOptions`` fields."""
        from gnet.engines.build import build_engine
        from gnet.engines.build_inputs import BuildOptions

        result = build_engine(self.path, output, BuildOptions(runtime=runtime, **options))
        return Engine(result.plan, result.manifest)


@dataclass(frozen=True)
class Engine:
    """A TensorRT or TensorRT-RTX plan and the manifest ``gnet build`` wrote beside it."""

    plan: Path
    manifest: dict[str, Any]

    @classmethod
    def open(cls, plan: str | Path) -> Engine:
        from gnet.engines.plan_loader import read_manifest

        doc, _spec = read_manifest(Path(plan))
        return cls(Path(plan), doc)

    @property
    def runtime(self) -> str:
        from gnet.engines.manifest import runtime_of

        return runtime_of(self.manifest)

    @property
    def precision(self) -> str:
        return str(self.manifest["precision"])


def export_model(weights: str = "auto", precision: str = "fp32", *, int8_target: str = "tensorrt",
                 image_size: int | None = None, output: str | Path | None = None, **options: Any) -> Artifact:
    """Export torchvision GoogLeNet (``weights``: auto, imagenet, random or a checkpoint) to a parity-proven ONNX of
    ``precision`` (``gnet export``); ``options`` are :func:`gnet.export.api.export_model`'s other parameters."""
    from gnet.export.api import export_model as export

    result = export(weights=weights, precision=precision, int8_target=int8_target, image_size=image_size,
                    output=output, **options)
    return Artifact(result.path, result.metadata, result.parity)


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


def _bench_inputs(items: Sequence[Artifact | Engine]) -> tuple[Path, dict[str, Any], list[str], list[str]]:
    """(artifacts folder, the ONNX metadata, backends, precisions) for ``items``, which must share a folder."""
    folders = {(i.path if isinstance(i, Artifact) else i.plan).parent for i in items}
    if len(folders) != 1:
        raise UsageError("benchmark() takes artifacts of one folder", f"these lie in {len(folders)} folders",
                         "export and build them into one folder")
    onnx = [i for i in items if isinstance(i, Artifact)]
    engines = [i for i in items if isinstance(i, Engine)]
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
