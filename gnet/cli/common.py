"""What every command shares: the consoles, the one error handler, batch parsing and the parity tables."""

from __future__ import annotations

import functools
import math
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gnet.errors import GnetError

if TYPE_CHECKING:
    from gnet.checks.parity import ParityReport
    from gnet.checks.sqnr import LayerNoise

PIPE_WIDTH = 400
"""Output that is not a terminal (CI logs, ``| tee``, a file) renders this wide: rich would otherwise cut
every table to 80 columns ("ba…", "6.691e…"); tables never grow past their natural width."""

WEIGHTS_HELP = ("auto (ImageNet if cached or downloadable, else the trained fixture, else seeded random), imagenet "
                "(torchvision IMAGENET1K_V1), random (with --seed), or a checkpoint file")


def make_console(stderr: bool = False) -> Console:
    """A console as wide as the terminal, or :data:`PIPE_WIDTH` when the output is not a terminal.

    ``emoji=False``: user text such as ``--weights random:abc`` must print as typed, not as an emoji
    (escaping markup does not stop rich's ``:name:`` emoji codes)."""
    probe = Console(stderr=stderr, emoji=False)
    return probe if probe.is_terminal else Console(stderr=stderr, width=PIPE_WIDTH, emoji=False)


console = make_console()
err_console = make_console(stderr=True)


def print_error(exc: GnetError) -> None:
    """The one sentence a failure prints: what failed, why, and what to do."""
    text = escape(exc.what)
    if exc.why:
        text += f": {escape(exc.why)}"
    if exc.remedy:
        text += f"; {escape(exc.remedy)}"
    err_console.print(f"[bold red]error:[/] {text}", highlight=False, soft_wrap=True)


class Terminated(BaseException):
    """SIGTERM arrived: unwinds like Ctrl-C, so every ``finally`` (temp files, scratch folders, servers) runs."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a GnetError into one red sentence and exit status 1 (no traceback); Ctrl-C exits 130, SIGTERM 143."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            return func(*args, **kwargs)
        except Terminated:
            err_console.print("[bold red]terminated[/] (SIGTERM): stopped cleanly; nothing half-written was left behind")
            sys.exit(143)
        except GnetError as exc:
            from gnet.checks.parity import ParityError  # loaded already when one was raised

            if isinstance(exc, ParityError):
                err_console.print(parity_table(exc.report))
            print_error(exc)
            sys.exit(1)
        except KeyboardInterrupt:
            err_console.print("[bold red]interrupted[/]")
            sys.exit(130)
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapper


class FiniteFloat(click.FloatRange):
    """A float in a range that is also finite: click's FloatRange lets ``nan`` through (every comparison with NaN is
    false), and ``--duration-s nan`` then timed forever."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def parse_batches(value: str | None) -> list[int] | None:
    """``"1,3,8"`` → ``[1, 3, 8]``."""
    if not value:
        return None
    try:
        batches = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of integers") from None
    if not batches or min(batches) < 1:
        raise click.BadParameter("batch sizes must be positive integers")
    return batches


def parity_table(report: ParityReport) -> Table:
    """One row per batch size: the parity metrics, red where outside tolerance."""
    table = Table(title=f"{escape(report.artifact)} vs PyTorch FP32 — weights: {escape(report.weights)}; "
                        f"images: {escape(report.images)}")
    for column in ("batch", "n", "max|Δ|", "mean|Δ|", "rel max", "cos min", "top-1", "top-5", "accuracy", "ok"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in report.checks:
        m = row.metrics
        verdict = "[green]pass[/]" if row.passed else "[red]FAIL[/]"
        table.add_row(
            str(row.batch), str(m.count), f"{m.max_abs:.3e}", f"{m.mean_abs:.3e}", f"{m.rel_max:.2e}",
            f"{m.cosine_min:.6f}", f"{m.top1_agreement:.1%}" + ("" if m.top1_informative else " [yellow]n/i[/]"),
            f"{m.top5_agreement:.1%}", accuracy_text(report, m),
            verdict, style=None if row.passed else "red",
        )
    table.caption = "accuracy: candidate/reference; tolerance " + tolerance_text(report)
    caveat = next((row.metrics.top1_caveat() for row in report.checks if not row.metrics.top1_informative), "")
    if caveat:
        table.caption += f"\nn/i = {caveat}: the verdict rests on the error bounds alone"
    return table


def accuracy_text(report: ParityReport, metrics: Any) -> str:
    """Candidate/reference accuracy, or why it means nothing here (no labels, or another image size)."""
    if metrics.accuracy is None:
        return "—"
    if report.accuracy_caveat:
        return f"n/a ({report.accuracy_caveat})"
    return f"{metrics.accuracy:.1%}/{metrics.reference_accuracy:.1%}"


def tolerance_text(report: ParityReport) -> str:
    """The tolerance a report was judged by, in one line."""
    tol = report.tolerance
    text = f"{tol.precision}: rel max ≤ {tol.rel_max:g}, cos ≥ {tol.cosine_min:g}, top-1 ≥ {tol.top1_agreement:.0%}"
    if tol.max_accuracy_drop_points is not None:
        text += f", accuracy drop ≤ {tol.max_accuracy_drop_points:g} pt"
    return f"{text} ({tol.judged_on})"


def noise_table(rows: list[LayerNoise], count: int = 5, output_db: float | None = None) -> Table:
    """The ``count`` layers whose quantized input has the lowest SQNR, those worth ``--keep-fp`` marked;
    ``output_db``: the SQNR of the model's logits against FP32's, the figure keeping a layer must raise."""
    from gnet.checks.sqnr import KEEP_FP_MIN_SHARE, keep_fp_candidates

    shown = min(count, len(rows))
    title = f"where INT8 hurts: the {shown} lowest-SQNR layer inputs" if rows else "no quantized Conv/Gemm input"
    table = Table(title=title)
    for column in ("node", "op", "SQNR dB", "accumulated dB", "--keep-fp?"):
        table.add_column(column, justify="left" if column == "node" else "right", no_wrap=True)
    worth = {row.node for row in keep_fp_candidates(rows, output_db)}
    for row in rows[:count]:
        acc = "—" if row.accumulated_db is None else f"{row.accumulated_db:.1f}"
        table.add_row(escape(row.node), row.op_type, f"{row.sqnr_db:.1f}", acc, "worth it" if row.node in worth else "")
    # A u8 quantizer that does a folded ReLU's clipping is measured against the ReLU's output: that is no noise.
    table.caption = ("SQNR: the tensor (after any ReLU its quantizer folds) vs after its own Q/DQ; "
                     "accumulated: vs the FP32 model")
    if output_db is not None:
        table.caption += f"; logits vs FP32: {output_db:.1f} dB"
        if not worth:
            table.caption += (f" (no layer holds {KEEP_FP_MIN_SHARE:.0%} of all the layers' own noise with its own SQNR"
                              " below it: keeping one in floating point would gain little)")
    return table
