"""Reading Triton's log: the line that says why a server did not start."""

from __future__ import annotations

import re
from pathlib import Path

HARMLESS = ("CudaDriverHelper has not been initialized", "Failed to initialize NVML", "DCGM unable to start",
            "Unable to allocate pinned system memory")
"""What a server on a machine without a GPU always logs (none of it stops the CPU model)."""
ERROR_LINE = re.compile(r'^E\d{4} [\d:.]+\s+\d+ [^\]]+\] "?(?P<message>.*?)"?$')


def first_error(log: Path, limit: int = 300, start: int = 0) -> str:
    """The first error in a Triton log from byte ``start`` on that is not :data:`HARMLESS` ("" when none), without
    its prefix."""
    try:
        with log.open("rb") as fh:
            fh.seek(start)
            lines = fh.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    for line in lines:
        match = ERROR_LINE.match(line)
        message = match.group("message") if match else (line if line.startswith("error:") else "")
        if message and not any(h in message for h in HARMLESS):
            return clean_error(message.replace('\\"', '"'), limit)
    return ""


def clean_error(text: str, limit: int = 300) -> str:
    """Triton's error text as one sentence: its first line, without the ``\\n\\nAt:`` stack frames its python
    backend appends (escaped or not), cut at a word (with "…") when longer than ``limit``."""
    text = text.replace("\\n", "\n")
    lines = text.split("\n\nAt:", 1)[0].strip().splitlines()
    first = (lines[0] if lines else "the server failed this request").strip()
    return first if len(first) <= limit else first[:limit].rsplit(" ", 1)[0] + " …"
