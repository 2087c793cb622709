"""``gnet bench`` (also installed as ``gnet-bench``): a thin shell over :func:`gnet.bench.harness.run_benchmark`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from gnet import defaults
from gnet.cli.common import WEIGHTS_HELP, FiniteFloat, console, err_console, handle_errors, parse_batches
from gnet.errors import UsageError

BACKEND_HELP = ("Comma-separated backends, each optionally with :variant: torch-cpu, torch-cuda, ort-cpu, openvino-cpu "
                "(or openvino), cpp-openvino (the C++ gnet-infer, after make cpp), ort-cuda, ort-trt, trt, trt-rtx, "
                "triton (e.g. ort-cpu:tuned,openvino:trt-qdq) [default: all but triton, a served model that runs only "
                "when named, and the opt-in variants torch-cpu:compile, ort-cpu:tuned and openvino-cpu:tuned, which "
                "run when they or their backend are named; unavailable ones are listed with why; with trt-rtx the "
                "TensorRT-RTX build time per precision is reported even where its plans cannot run].")


def _check_outputs(*paths: str | None) -> None:
    """Fail before measuring, not after, when an output file cannot be written."""
    from gnet.atomic import ensure_writable_dir

    for path in paths:
        if path:
            ensure_writable_dir(Path(path))


@click.command("bench", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--backend", "backends", help=BACKEND_HELP)
@click.option("--precision", "precisions",
              help=f"Comma-separated precisions among {', '.join(defaults.BENCH_PRECISIONS)} [default: all; bf16 is "
                   "OpenVINO's BF16 execution of the FP32 graph, on CPUs with BF16 only].")
@click.option("--batch", "batches", default=str(defaults.BENCH_BATCH), show_default=True, help="Batch sizes to sweep, e.g. 1,8,64.")
@click.option("--threads", type=click.IntRange(1, 1024), help="CPU threads for every CPU backend [default: each backend's own; the tuned ORT row uses the physical cores].")
@click.option("--warmup-ms", default=200.0, show_default=True, type=FiniteFloat(0), help="Warm-up time per row (trtexec's --warmUp).")
@click.option("--duration-s", default=3.0, show_default=True, type=FiniteFloat(0), help="Timed duration per row (trtexec's --duration).")
@click.option("--min-iterations", default=10, show_default=True, type=click.IntRange(1), help="Fewest timed iterations per row (trtexec's --iterations).")
@click.option("--concurrency", default="1", show_default=True,
              help="Clients sending requests at once to a served backend (triton), e.g. 1,4,16: one row per level; "
                   "a row passes only with no failed request. In-process backends have one caller.")
@click.option("--on-device", is_flag=True, help="GPU rows: also time with the input already on the GPU (compute only), beside end to end.")
@click.option("--weights", default=defaults.WEIGHTS, show_default=True, help=WEIGHTS_HELP)
@click.option("--seed", default=0, show_default=True, help="Seed for random weights.")
@click.option("--image-size", type=click.IntRange(defaults.MIN_IMAGE_SIZE, defaults.MAX_IMAGE_SIZE),
              help=f"Input height and width [default: {defaults.DEFAULT_IMAGE_SIZE}, GoogLeNet's own; weights trained at another size are judged by parity, not accuracy].")
@click.option("--images", help="Parity images: a folder (ImageFolder gives labels), digits:eval, ... [default: the weights' own].")
@click.option("--parity-images", "parity_limit", type=click.IntRange(1), help="Use at most this many parity images [default: all].")
@click.option("--artifacts", default=str(defaults.ARTIFACTS_DIR), show_default=True, type=click.Path(file_okay=False),
              help="Folder of ONNX artifacts and engines, reused when they match the weights, built when missing.")
@click.option("--json", "json_path", help="Write results + environment as JSON (schema: bench/results.schema.json).")
@click.option("--csv", "csv_path", help="Write one CSV line per row.")
@click.option("--plot", "plot_path", help="Write a PNG: throughput vs batch, latency percentiles.")
@click.option("--baseline", help="An earlier --json file: print speed-ups and regressions against it.")
@click.option("--list", "list_only", is_flag=True, help="Only list the backends and whether each can run here.")
@click.option("--ort-ablation", is_flag=True, help="Instead of the table: measure what each ONNX Runtime CPU option buys (ort-cpu, each --precision and --batch).")
@click.option("--openvino-ablation", is_flag=True, help="Instead of the table: measure what each OpenVINO CPU option buys (hints, streams, requests, threads, pinning), with ONNX Runtime's default in the same round robin.")
@handle_errors
def bench_cmd(backends: str | None, precisions: str | None, batches: str, threads: int | None, warmup_ms: float,
              duration_s: float, min_iterations: int, concurrency: str, on_device: bool, weights: str, seed: int,
              image_size: int | None, images: str | None, parity_limit: int | None, artifacts: str,
              json_path: str | None, csv_path: str | None, plot_path: str | None, baseline: str | None, list_only: bool,
              ort_ablation: bool, openvino_ablation: bool) -> None:
    """Run every backend that can run here; print one table of parity with PyTorch FP32 and speed.

    \b
    Each row: throughput in images/s (batches/s × batch), latency min/mean/median/p90/p95/p99/max
    and its coefficient of variation (⚠ above 2.5%), speed-ups over PyTorch eager FP32 and
    ONNX Runtime FP32 with default options, and cosine / max error / top-1 agreement / accuracy
    against PyTorch FP32 on the same real images (red when outside the precision's tolerance).

    \b
    Example:
      gnet-bench --batch 64
      gnet bench --backend ort-cpu,torch-cpu --precision fp32,int8 --batch 1,8,64 --json run.json --plot run.png
      gnet bench --batch 64 --baseline run.json
      gnet bench --ort-ablation --precision int8 --batch 64
      gnet bench --backend openvino,ort-cpu --precision fp32,bf16,int8 --batch 1,64
      gnet bench --openvino-ablation --precision fp32,int8 --batch 64
      gnet bench --backend ort-cpu:default,triton --precision int8 --batch 1,64 --concurrency 1,4,16
    """
    from gnet.bench.config import BenchConfig
    from gnet.bench.harness import run_benchmark
    from gnet.bench.progress import RichProgress
    from gnet.bench.timing import TimingConfig

    config = BenchConfig(
        backends=backends, precisions=precisions, batches=parse_batches(batches) or [defaults.BENCH_BATCH],
        threads=threads, timing=TimingConfig(warmup_ms, duration_s, min_iterations), on_device=on_device,
        weights=weights, seed=seed, image_size=image_size, images=images, parity_limit=parity_limit,
        artifacts=Path(artifacts), concurrency=concurrency,
    )
    if list_only:
        _list_backends(config)
        return
    config.check()
    _check_outputs(json_path, csv_path, plot_path)
    old = None
    if baseline:
        from gnet.bench.baseline import check_baseline
        from gnet.bench.report_files import read_results

        old = read_results(baseline)
        check_baseline(old, baseline)
    if ort_ablation or openvino_ablation:
        if ort_ablation and openvino_ablation:
            raise UsageError("--ort-ablation and --openvino-ablation are two runs", remedy="pass one of them")
        _ablation(config, "openvino" if openvino_ablation else "ort")
        return
    with RichProgress(err_console) as progress:
        doc = run_benchmark(config, progress, argv=_argv())
    _report(doc, json_path, csv_path, plot_path, old, baseline)
    _fail_unless_ran(doc, backends)


def _fail_unless_ran(doc: dict, backends: str | None) -> None:
    """Exit 1 (after the reports) when no row ran, a runner failed, or a backend named with --backend did not run."""
    from gnet.bench.results import run_failure
    from gnet.bench.runners import parse_backends
    from gnet.errors import GnetError

    asked = [name for name, _variant in parse_backends(backends)] if backends else None
    problem = run_failure(doc, asked)
    if problem:
        raise GnetError("the benchmark did not measure what was asked", problem)


def _argv() -> list[str] | None:
    """The command line as the user typed it (``gnet-bench …`` or ``gnet bench …``), for the JSON."""
    if not sys.argv:
        return None
    program = "gnet-bench" if Path(sys.argv[0]).name == "gnet-bench" else "gnet bench"
    return [program, *sys.argv[1:]]


def _wide(width: int) -> Console:
    """A console at least ``width`` wide: a narrow terminal wraps lines rather than hiding digits."""
    return Console(width=max(console.width, width), highlight=False, emoji=False)


def _ablation(config: Any, runtime: str) -> None:
    from gnet.bench.ablation import ablation_table, run_ablation
    from gnet.bench.openvino_ablation import run_openvino_ablation
    from gnet.bench.progress import RichProgress

    with RichProgress(err_console) as progress:
        result = (run_openvino_ablation if runtime == "openvino" else run_ablation)(config, progress)
    _wide(110).print(ablation_table(result))


def _report(doc: dict, json_path: str | None, csv_path: str | None, plot_path: str | None,
            old: dict | None, baseline: str | None) -> None:
    from gnet.bench.report_table import natural_width, render

    wide = _wide(natural_width(doc))
    wide.print(render(doc))
    if old is not None and baseline:
        from gnet.bench.baseline import baseline_table

        wide.print(baseline_table(doc, old, baseline))
    if json_path:
        from gnet.bench.report_files import write_json

        console.print(f"wrote [bold]{escape(str(write_json(doc, json_path)))}[/]")
    if csv_path:
        from gnet.bench.report_files import write_csv

        console.print(f"wrote [bold]{escape(str(write_csv(doc, csv_path)))}[/]")
    if plot_path:
        from gnet.bench.plot import plot_results

        console.print(f"wrote [bold]{escape(str(plot_results(doc, plot_path)))}[/]")


def _list_backends(config: Any) -> None:
    from rich.table import Table

    from gnet.bench.report_table import unavailable_table
    from gnet.bench.runners import discover, parse_backends, parse_precisions

    ready, missing = discover(parse_backends(config.backends), parse_precisions(config.precisions))
    table = Table(title="can run here", title_justify="left")
    for header in ("backend", "variant", "precision"):
        table.add_column(header)
    for runner in ready:
        table.add_row(runner.backend, runner.variant, runner.precision)
    console.print(table)
    missing_table = unavailable_table({"unavailable": [m.to_dict() for m in missing]})
    if missing_table is not None:
        console.print(missing_table)
