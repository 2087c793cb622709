"""Which precision proofs a build made, their joint verdict, and the manifest section that records them.

The network proof (``network_proof.py``) always runs, before building, on every machine. The
inspector proof (``precision_proof.py``) runs after a data-centre TensorRT build, which always has
its GPU: it reads the kernels the engine really chose. A TensorRT-RTX plan compiles its kernels on
the GPU that loads it, so its build has no inspector to read; the manifest says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gnet.engines.network_proof import NetworkProof
from gnet.engines.precision_proof import PrecisionReport
from gnet.errors import GnetError

RTX_NO_INSPECTOR = ("TensorRT-RTX compiles its kernels on the GPU that loads the plan, so there is no engine to "
                    "inspect at build time")


@dataclass
class Proofs:
    """The network proof, and the inspector proof when one was made (else why not)."""

    network: NetworkProof
    inspector: PrecisionReport | None = None
    inspector_skipped: str | None = None

    @property
    def requested(self) -> str:
        return self.network.requested

    @property
    def methods(self) -> list[str]:
        return ["network"] + (["inspector"] if self.inspector is not None else [])

    @property
    def proven(self) -> bool:
        return self.network.proven and (self.inspector is None or self.inspector.proven)

    @property
    def allow_mixed(self) -> bool:
        return self.network.allow_mixed

    def shortfall(self, plan_name: str) -> str:
        """What is not proven, as clauses (empty when proven)."""
        parts = [self.network.shortfall(plan_name)]
        if self.inspector is not None:
            parts.append(self.inspector.shortfall(plan_name))
        return "; and ".join(p for p in parts if p)

    def failure(self, plan_name: str) -> GnetError:
        return GnetError(self.shortfall(plan_name),
                         remedy="nothing was written; pass --allow-mixed to keep such an engine")

    def lines(self) -> list[str]:
        """What the build prints: one line per proof that ran."""
        verdict = "proven" if self.network.proven else "NOT proven (kept: --allow-mixed)"
        out = [f"precision {self.requested}: network proof: {self.network.summary()}; {verdict}"]
        if self.inspector is not None:
            layers = ", ".join(f"{n} {p}" for p, n in sorted(self.inspector.layer_precisions.items()))
            verdict = "proven" if self.inspector.proven else "NOT proven (kept: --allow-mixed)"
            out.append(f"precision {self.requested}: inspector proof: {self.inspector.summary()}; "
                       f"all layers: {layers}; {verdict}")
        return out

    def to_dict(self) -> dict[str, Any]:
        """The manifest's ``precision_proof`` (format version 2)."""
        inspector = None
        if self.inspector is not None:
            inspector = {k: v for k, v in self.inspector.to_dict().items()
                         if k not in ("requested", "expected_convolution_precision", "allow_mixed")}
        return {
            "requested": self.requested,
            "expected_convolution_precision": self.network.expected,
            "methods": self.methods,
            "proven": self.proven,
            "allow_mixed": self.allow_mixed,
            "network": self.network.to_dict(),
            "inspector": inspector,
            **({"inspector_skipped": self.inspector_skipped} if self.inspector_skipped else {}),
        }
