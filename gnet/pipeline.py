"""gnet's pipeline in one place: PyTorch → ONNX → precision graph → engine, each artifact made once and reused.

The command line (``gnet export``, ``gnet build``), the bench and the Python front door all call these::

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

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gnet import defaults
from gnet.errors import ArtifactError, GnetError

if TYPE_CHECKING:
    import numpy as np

    from gnet.checks.check import CheckResult
    from gnet.checks.images import ImageSet
    from gnet.engines.build import BuildResult
    from gnet.engines.build_inputs import BuildOptions
    from gnet.export.weights import LoadedModel


@dataclass(frozen=True)
class Artifact:
    """A gnet ONNX file: its path and its ``gnet.*`` metadata (and the parity its export proved, when just made)."""

    path: Path
    metadata: dict[str, Any]
    parity: Any = None  # gnet.checks.parity.ParityReport of the export that wrote it; None when opened
    notes: list[str] = field(default_factory=list)  # what the export chose on the user's behalf (weights, ranges)

    @classmethod
    def open(cls, path: str | Path) -> Artifact:
        """An existing gnet ONNX; one sentence when it is missing, corrupt or not gnet's (a foreign ONNX goes through
        ``gnet build --image-size --classes`` or ``gnet check --weights --image-size`` instead)."""
        from gnet.checks.ort import load_onnx
        from gnet.export.metadata import require_gnet_metadata

        where = Path(path)
        return cls(where, require_gnet_metadata(load_onnx(where), str(where), "artifact"))

    @property
    def precision(self) -> str:
        return str(self.metadata["precision"])

    @property
    def image_size(self) -> int:
        return int(self.metadata["image_size"])

    def check(self, images: str | Path | None = None, batches: Sequence[int] | None = None) -> CheckResult:
        """Parity against PyTorch FP32 with the weights it records (``gnet check``)."""
        from gnet.checks.check import check_model

        return check_model(self.path, images=images, batches=batches)

    def build(self, runtime: str = "auto", output: str | Path | None = None, **options: Any) -> Engine:
        """A plan of this graph and its manifest (``gnet build``); ``options`` are ``BuildOptions`` fields."""
        from gnet.engines.build_inputs import BuildOptions

        return build(self.path, output, BuildOptions(runtime=runtime, **options))


@dataclass(frozen=True)
class Engine:
    """A TensorRT or TensorRT-RTX plan and the manifest ``gnet build`` wrote beside it."""

    plan: Path
    manifest: dict[str, Any]
    built: BuildResult | None = None  # what the build proved and cost, when this call built it

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
    return Artifact(result.path, result.metadata, result.parity, list(result.notes))


def build(onnx: str | Path, output: str | Path | None = None, options: BuildOptions | None = None) -> Engine:
    """An ONNX file (gnet's, or a foreign one with ``options.image_size``/``num_classes``) → a plan proven to run the
    precision its graph encodes, and its manifest (``gnet build``)."""
    from gnet.engines.build import build_engine

    result = build_engine(onnx, output, options)
    return Engine(result.plan, result.manifest, result)


class Messages(Protocol):
    """Where the pipeline says what it is doing (the bench's progress display, or nothing)."""

    def message(self, text: str) -> None: ...


class ArtifactStore:
    """``store(kind)`` → the ONNX file of that kind (``fp32``, ``fp16``, ``int8``, ``int8-cpu``) for these weights and
    size, reused from ``folder`` when it matches, else exported there (see :func:`gnet.export.api.prepare_artifacts`).

    A kind that could not be made raises :class:`~gnet.errors.ArtifactError` every time it is
    asked for again, without a second attempt.
    """

    def __init__(self, loaded: LoadedModel, folder: Path, image_size: int, progress: Messages,
                 evaluation: ImageSet | None = None, reference: np.ndarray | None = None) -> None:
        self.loaded = loaded
        self.folder = folder
        self.image_size = image_size
        self.progress = progress
        self.evaluation, self.reference = evaluation, reference  # the export's parity images and logits, if known
        self._paths: dict[str, Path] = {}
        self._errors: dict[str, ArtifactError] = {}
        self.seconds: dict[str, float] = {}  # kind → wall-clock seconds spent reusing or exporting it

    def __call__(self, kind: str) -> Path:
        if kind in self._errors:
            raise self._errors[kind]
        if kind not in self._paths:
            from gnet.export.api import prepare_artifacts

            self.progress.message(f"artifact {kind}: reusing or building it in {self.folder}")
            start = time.perf_counter()
            try:
                self._paths.update(prepare_artifacts(self.loaded, self.folder, self.image_size, [kind],
                                                     evaluation=self.evaluation, reference=self.reference))
            except GnetError as exc:
                self._errors[kind] = ArtifactError(kind, exc.cause, exc.remedy)
                raise self._errors[kind] from None
            finally:
                self.seconds[kind] = time.perf_counter() - start
        return self._paths[kind]


@dataclass(frozen=True)
class Plan:
    """A plan ready for a run: where it is, its manifest, and whether this call built it."""

    path: Path
    manifest: dict[str, Any]
    built_now: bool


def matching_manifest(plan: Path, onnx: Path, runtime: str, max_batch: int) -> dict[str, Any] | None:
    """The manifest of ``plan`` when the plan can be reused for ``onnx``, ``runtime`` and ``max_batch``; else None.

    A plan is reused when it was built by the same TensorRT edition (the manifest's ``runtime``), from this very
    ONNX (``onnx_sha256``), with a profile that reaches the largest batch, and is still the plan its manifest records
    (size and SHA-256: a truncated or edited plan is rebuilt, never reused)."""
    from gnet.engines import manifest as manifest_mod
    from gnet.export.hashing import sha256_file

    manifest_path = manifest_mod.manifest_path_for(plan)
    if not plan.is_file() or not manifest_path.is_file():
        return None
    try:
        doc = manifest_mod.read(manifest_path)
    except GnetError:
        return None
    if manifest_mod.runtime_of(doc) != runtime or doc["model"]["onnx_sha256"] != sha256_file(onnx):
        return None
    if manifest_mod.plan_mismatch(doc, plan.read_bytes()):
        return None
    top = ((doc.get("inputs") or [{}])[0].get("profile") or {}).get("max") or [0]
    return doc if int(top[0]) >= max_batch else None


def ensure_plan(onnx: Path, precision: str, runtime: str, batches: list[int]) -> Plan:
    """Reuse the matching plan beside ``onnx`` (the edition's plan name, ``googlenet_<p>.plan`` /
    ``googlenet_<p>.rtx.plan``), or build it there (profile 1 / the largest batch asked / at least MAX_BATCH)."""
    from gnet.engines.build_inputs import BuildOptions, default_plan_path

    max_batch = max([defaults.MAX_BATCH, *batches])
    plan = default_plan_path(onnx, precision, runtime)
    found = matching_manifest(plan, onnx, runtime, max_batch)
    if found is not None:
        return Plan(plan, found, False)
    opt = max(batches) if batches else defaults.OPT_BATCH
    engine = build(onnx, plan, BuildOptions(min_batch=1, opt_batch=opt, max_batch=max_batch, runtime=runtime))
    return Plan(plan, engine.manifest, True)
