"""gnet's error types: what failed, why, and what to do, as separate fields.

Library code raises these with their fields; the command line (``gnet.cli.common``) is the one
place that turns them into the red sentence users see. Code that must react to an error looks
at its type and fields, never at its text. Anything else that escapes is a bug in gnet and
keeps its traceback.
"""

from __future__ import annotations

import re


class GnetError(Exception):
    """A failure caused by the user's input or machine.

    ``what`` names what failed ("cannot read weights file w.pt"), ``why`` says why when that is
    not already in ``what`` ("it is corrupt or not a PyTorch checkpoint (…)"), and ``remedy`` says
    what to do ("pass --weights random --seed N").
    """

    def __init__(self, what: str, why: str = "", remedy: str = "") -> None:
        super().__init__(what, why, remedy)
        self.what = what
        self.why = why
        self.remedy = remedy

    @property
    def cause(self) -> str:
        """``what`` and ``why`` without the remedy: the clause a report records as a reason."""
        return f"{self.what}: {self.why}" if self.why else self.what

    def __str__(self) -> str:
        return f"{self.cause}; {self.remedy}" if self.remedy else self.cause


class UsageError(GnetError):
    """An option or argument has a value gnet cannot use (checked before any work starts)."""


class NotAvailable(GnetError):
    """A library, runtime or device this step needs is missing here; ``remedy`` says how to get it."""


class ArtifactError(GnetError):
    """An artifact (an ONNX file of one kind, an engine) could not be made; ``kind`` names which."""

    def __init__(self, kind: str, why: str, remedy: str = "") -> None:
        super().__init__(f"the {kind} artifact could not be made", why, remedy)
        self.kind = kind


class CompatibilityError(GnetError):
    """An engine was built for another TensorRT or GPU than this machine's."""


class CudaError(GnetError):
    """A CUDA call failed; ``what`` names the call and ``why`` CUDA's own error name."""


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of a foreign exception's message (its type name when empty), cut to ``limit``.

    Libraries (onnx, ONNX Runtime, TensorRT) raise messages spanning many lines; a GnetError
    quotes only this much of them.
    """
    text = _ANSI.sub("", str(exc)).strip()  # torch colours parts of its messages with terminal escapes
    return (text.splitlines() or [type(exc).__name__])[0][:limit]


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
