"""Rich tables shared by the commands."""

from __future__ import annotations

from rich.table import Table

from gnet.export.parity import ParityReport
from gnet.export.sqnr import LayerNoise


def parity_table(report: ParityReport) -> Table:
    """One row per batch size: the parity metrics, red where outside tolerance."""
    table = Table(title=f"{report.artifact} vs PyTorch FP32 — weights: {report.weights}; images: {report.images}")
    for column in ("batch", "n", "max|Δ|", "mean|Δ|", "rel max", "cos min", "top-1", "top-5", "accuracy", "ok"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in report.rows:
        m = row.metrics
        acc = "—" if m.accuracy is None else f"{m.accuracy:.1%}/{m.reference_accuracy:.1%}"
        verdict = "[green]pass[/]" if row.passed else "[red]FAIL[/]"
        style = None if row.passed else "red"
        table.add_row(
            str(row.batch), str(m.count), f"{m.max_abs:.3e}", f"{m.mean_abs:.3e}", f"{m.rel_max:.2e}",
            f"{m.cosine_min:.6f}", f"{m.top1_agreement:.1%}", f"{m.top5_agreement:.1%}", acc, verdict, style=style,
        )
    table.caption = "accuracy: candidate/reference; tolerance " + tolerance_text(report)
    return table


def tolerance_text(report: ParityReport) -> str:
    """The tolerance a report was judged by, in one line."""
    tol = report.tolerance
    text = f"{tol.precision}: rel max ≤ {tol.rel_max:g}, cos ≥ {tol.cosine_min:g}, top-1 ≥ {tol.top1_agreement:.0%}"
    if tol.max_accuracy_drop_points is not None:
        text += f", accuracy drop ≤ {tol.max_accuracy_drop_points:g} pt"
    return f"{text} ({tol.judged_on})"


def noise_table(rows: list[LayerNoise], count: int = 5) -> Table:
    """The ``count`` layers whose quantized input has the lowest SQNR (candidates for ``--keep-fp``)."""
    table = Table(title=f"where INT8 hurts: the {min(count, len(rows))} lowest-SQNR layer inputs")
    for column in ("node (for --keep-fp)", "op", "SQNR dB", "accumulated dB"):
        table.add_column(column, justify="left" if column.startswith("node") else "right", no_wrap=True)
    for row in rows[:count]:
        acc = "—" if row.accumulated_db is None else f"{row.accumulated_db:.1f}"
        table.add_row(row.node, row.op_type, f"{row.sqnr_db:.1f}", acc)
    table.caption = "SQNR: the tensor before vs after its own Q/DQ; accumulated: vs the FP32 model"
    return table
