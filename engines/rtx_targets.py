"""TensorRT-RTX's compute-capability targets, read from its ``ComputeCapability`` enum (never a copied list).

TensorRT-RTX 1.7 names NONE, CURRENT, SM75, SM80, SM86, SM89, SM120 and SM121: RTX-class GPUs, no
SM90 (the H100). ``--compute-capability sm86,sm89`` picks targets; ``current`` builds for the GPU in
this machine (and so needs one at build time); no option keeps TensorRT-RTX's default list.
"""

from __future__ import annotations

from typing import Any

from gnet.errors import UsageError

CURRENT = "current"
NOT_TARGETS = ("NONE", "CURRENT")


def targets(trt: Any) -> list[str]:
    """``["sm75", "sm80", …]``: the GPU architectures this TensorRT-RTX can build for."""
    members = getattr(trt.ComputeCapability, "__members__", None) or {m.name: m for m in trt.ComputeCapability}
    ordered = sorted(members.items(), key=lambda item: int(item[1]))  # SM75 = 75, ..., SM121 = 121
    return [name.lower() for name, _ in ordered if name not in NOT_TARGETS]


def cc_text(target: str) -> str:
    """``"sm86"`` → ``"8.6"``, ``"sm120"`` → ``"12.0"`` (how GPUs report their compute capability)."""
    digits = target[2:]
    return f"{digits[:-1]}.{digits[-1]}"


def supported_text(trt: Any) -> str:
    """``"7.5, 8.0, 8.6, 8.9, 12.0 and 12.1"``: for sentences about GPUs TensorRT-RTX cannot run on."""
    found = [cc_text(t) for t in targets(trt)]
    return ", ".join(found[:-1]) + f" and {found[-1]}" if len(found) > 1 else "".join(found)


def supports(trt: Any, compute_capability: str) -> bool:
    """Whether a GPU of ``compute_capability`` ("8.9") is one this TensorRT-RTX can target."""
    return compute_capability in {cc_text(t) for t in targets(trt)}


def parse(trt: Any, text: str | None) -> list[Any]:
    """``"sm86,sm89"`` → ``[ComputeCapability.SM86, ComputeCapability.SM89]``; None → [] (the default list)."""
    if text is None:
        return []
    names = [t.strip().lower() for t in str(text).split(",") if t.strip()]
    known = targets(trt)
    unknown = [n for n in names if n not in (*known, CURRENT)]
    if unknown or not names:
        raise UsageError(f"--compute-capability {text!r} is not a comma-separated list of {', '.join(known)} "
                         f"(or {CURRENT} alone)",
                         f"TensorRT-RTX {trt.__version__} targets only these",
                         "for example --compute-capability sm86,sm89")
    if CURRENT in names and len(names) > 1:
        raise UsageError(f"--compute-capability {CURRENT} cannot be combined with other targets",
                         remedy=f"pass {CURRENT} alone, or name the targets")
    if len(set(names)) != len(names):
        raise UsageError(f"--compute-capability {text!r} names a target twice")
    return [getattr(trt.ComputeCapability, n.upper()) for n in names]
