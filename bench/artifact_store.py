"""The ONNX artifacts a benchmark needs, each built or reused once, only when a runner that can run here asks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gnet.errors import ArtifactError, GnetError

if TYPE_CHECKING:
    from gnet.bench.progress import Progress
    from gnet.export.weights import LoadedModel


class ArtifactStore:
    """``store(kind)`` → the ONNX file of that kind for these weights and size (see ``prepare_artifacts``).

    A kind that could not be made raises :class:`~gnet.errors.ArtifactError` every time it is
    asked for again, without a second attempt.
    """

    def __init__(self, loaded: LoadedModel, folder: Path, image_size: int, progress: Progress) -> None:
        self.loaded = loaded
        self.folder = folder
        self.image_size = image_size
        self.progress = progress
        self._paths: dict[str, Path] = {}
        self._errors: dict[str, ArtifactError] = {}

    def __call__(self, kind: str) -> Path:
        if kind in self._errors:
            raise self._errors[kind]
        if kind not in self._paths:
            from gnet.export.api import prepare_artifacts

            self.progress.message(f"artifact {kind}: reusing or building it in {self.folder}")
            try:
                self._paths.update(prepare_artifacts(self.loaded, self.folder, self.image_size, [kind]))
            except GnetError as exc:
                self._errors[kind] = ArtifactError(kind, exc.cause, exc.remedy)
                raise self._errors[kind] from None
        return self._paths[kind]
