"""Reading Triton's log: the line that says why a server did not start."""

from __future__ import annotations

import re
from pathlib import Path

HARMLESS = ("CudaDriverHelper has not been initialized", "Failed to initialize NVML", "DCGM unable to start",
            "Unable to allocate pinned system memory")
"""What a server on a machine without a GPU always logs (none of it stops the CPU model)."""
ERROR_LINE = re.compile(r'^E\d{4} [\d:.]+\s+\d+ [^\]]+\] "?(?P<message>.*?)"?$')


def first_error(log: Path, limit: int = 300) -> str:
    """The first error in a Triton log that is not :data:`HARMLESS` ("" when none), without its prefix."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for line in lines:
        match = ERROR_LINE.match(line)
        message = match.group("message") if match else (line if line.startswith("error:") else "")
        if message and not any(h in message for h in HARMLESS):
            return message.replace('\\"', '"')[:limit]
    return ""
