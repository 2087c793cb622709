"""Compare calibration methods on the trained fixture: ``python tools/calibration_study.py``.

For each method and INT8 target it calibrates on ``digits:train`` (200 images),
quantizes, and measures parity against PyTorch FP32 on the 540 held-out digits.
The calibration table of docs/precisions.md is this command's output.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from gnet.checks.parity import ParityError
from gnet.defaults import FIXTURE_CHECKPOINT, INT8_TARGETS
from gnet.export.api import export_model
from gnet.export.fixture import fixture_available
from gnet.precision.calibration import CALIBRATION_METHODS, CalibrationSettings
from gnet.system import cpu_model, vector_extensions


def main() -> int:
    console = Console()
    if not fixture_available():
        console.print(f"{FIXTURE_CHECKPOINT} is missing: run `make fixture` first")
        return 1
    table = Table(title=f"calibration methods on the fixture ({FIXTURE_CHECKPOINT}); 200 calibration / 540 held-out digits; "
                        f"{cpu_model()} ({vector_extensions()})")
    for column in ("target", "method", "s (calibrate, quantize, check)", "cos min", "top-1 agree", "accuracy", "drop (pt)"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory(prefix="gnet-study-") as tmp:
        for target in INT8_TARGETS:
            for method in CALIBRATION_METHODS:
                start = time.monotonic()
                try:
                    report = export_model(
                        weights=str(FIXTURE_CHECKPOINT), output=Path(tmp) / f"{target}_{method}.onnx", precision="int8",
                        int8_target=target, calib=CalibrationSettings(method=method, cache_dir=str(Path(tmp) / "cache")),
                        batches=[64],
                    ).parity
                except ParityError as failed:  # still worth a row: it is the comparison being made
                    report = failed.report
                m = report.checks[0].metrics
                verdict = "" if report.passed else " (fails)"
                table.add_row(target, method + verdict, f"{time.monotonic() - start:.1f}", f"{m.cosine_min:.5f}",
                              f"{m.top1_agreement:.2%}", f"{m.accuracy:.2%}", f"{m.accuracy_drop:+.2f}")
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
