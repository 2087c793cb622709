"""Whether something can run here, and if not, why: the one availability type every stage reports with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Availability:
    """``ok``, or ``reason`` (one clause saying why not) and ``remedy`` (what would fix it, when known)."""

    ok: bool
    reason: str = ""
    remedy: str = ""

    @classmethod
    def yes(cls) -> Availability:
        return cls(True)

    @classmethod
    def no(cls, reason: str, remedy: str = "") -> Availability:
        return cls(False, reason, remedy)
