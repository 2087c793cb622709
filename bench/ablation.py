"""What each CPU runtime option buys: ``gnet bench --ort-ablation`` (here) and ``--openvino-ablation``
(:mod:`gnet.bench.openvino_ablation`, which uses :func:`measure` and :func:`ablation_table` too).

For each precision and batch size, every configuration below is timed in the same run,
interleaved in short blocks (round robin, a few batches per configuration per round, the
order rotating each round; the first batch of each block is not recorded, so no configuration
inherits the previous one's spinning threads), and each figure is the batch size over the
median latency: a machine that gets busier or quieter mid-run then shifts every
configuration alike instead of favouring whichever ran first:

* ``default``: ``InferenceSession(path)`` with nothing set (the reference);
* ``+ option``: the default plus that one option;
* ``tuned``: every option of :func:`gnet.bench.runners.ort_options.tuned`;
* ``tuned − option``: tuned without that one option (what removing it costs).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from rich.table import Table

from gnet.bench.runners.base import PrepareContext, Runner
from gnet.bench.runners.ort_cpu import OrtCpuRunner
from gnet.bench.runners.ort_options import DEFAULT, OrtTuning, tuned
from gnet.bench.stats import summarize
from gnet.bench.timing import round_robin
from gnet.errors import UsageError
from gnet.system import physical_cores


def single_options(cores: int) -> dict[str, dict[str, Any]]:
    """One change at a time from ORT's defaults, named as ``docs/bench.md`` names them."""
    return {
        f"threads={cores}": {"threads": cores},
        "graph level extended (no NCHWc layout)": {"graph_optimization": "extended"},
        "graph level basic": {"graph_optimization": "basic"},
        "parallel execution (inter-op)": {"parallel_execution": True},
        "fixed batch (free-dimension override)": {"fixed_batch": True},
        "I/O binding, preallocated output": {"io_binding": True},
        "no memory arena": {"cpu_mem_arena": False},
        "no memory pattern": {"mem_pattern": False},
        "no spinning": {"allow_spinning": False},
        "denormals as zero": {"denormal_as_zero": True},
        "dynamic block base 4": {"dynamic_block_base": 4},
        "optimized-model cache": {"optimized_model_cache": True},
        "sub-batches of 16": {"sub_batch": 16},
        f"{cores} workers (batch split, {cores} threads shared)": {"workers": cores, "threads": cores},
    }


@dataclass
class AblationRow:
    precision: str
    batch: int
    name: str
    settings: dict[str, Any]
    latencies_ms: list[float]

    @property
    def ips(self) -> float:
        """Images per second at the median latency (robust to another process's bursts)."""
        return self.batch / (statistics.median(self.latencies_ms) / 1000.0)

    @property
    def cv(self) -> float:
        return summarize(self.latencies_ms).cv


def configurations(cores: int, threads: int | None) -> list[tuple[str, OrtTuning | None]]:
    best = tuned(threads)
    out: list[tuple[str, OrtTuning | None]] = [("default", None)]
    out += [(f"+ {name}", DEFAULT.replace(**change)) for name, change in single_options(cores).items()]
    out.append(("tuned", best))
    for field in fields(best):
        value = getattr(best, field.name)
        if value != getattr(DEFAULT, field.name) and field.name != "threads":
            out.append((f"tuned − {field.name}", best.replace(**{field.name: getattr(DEFAULT, field.name)})))
    return out


Build = Callable[[str, PrepareContext], list[tuple[str, Runner]]]
"""(precision, context) → the named, unprepared runners one ablation times side by side."""


def measure(config: Any, progress: Any, precisions: list[str], build: Build, title: str,
            reference: str) -> dict[str, Any]:
    """Time ``build``'s runners per precision and batch, in one round robin each (see the module docstring).

    ``title`` heads the table; ``reference`` names the configuration the others are divided by."""
    from pathlib import Path

    from gnet.checks.images import parity_images
    from gnet.export.weights_choice import choose_weights
    from gnet.pipeline import ArtifactStore

    config.check()
    batches = sorted(set(config.batches))
    chosen = choose_weights(config.weights, config.seed, image_size=config.size)
    size = config.size
    progress.message(f"weights: {chosen.loaded.weights} — {chosen.reason}; image size {size}")
    images = parity_images(chosen.loaded, config.images, size, config.parity_limit)
    store = ArtifactStore(chosen.loaded, Path(config.artifacts), size, progress)
    ctx = PrepareContext(chosen.loaded, size, config.threads, store, batches)
    rows: list[AblationRow] = []
    progress.start(len(precisions) * len(batches))
    for precision in precisions:
        for batch in batches:
            runners = []
            try:
                for name, runner in build(precision, ctx):
                    runners.append((runner, AblationRow(precision, batch, name, {}, [])))
                    runner.prepare(ctx)
                    runner.prepare_batch(batch)
                    runners[-1][1].settings = dict(runner.settings)
                progress.row(f"{precision} batch {batch}: {len(runners)} configurations, round robin")
                latencies = round_robin([r for r, _ in runners], images.tile(batch), config.timing, progress.tick)
                for (_, row), values in zip(runners, latencies):
                    row.latencies_ms = values
                    rows.append(row)
                progress.row_done()
            finally:
                for runner, _ in runners:
                    runner.close()
    return {"weights": chosen.loaded.weights, "image_size": size, "rows": rows,
            "duration_s": config.timing.duration_s, "title": title, "reference": reference}


def run_ablation(config: Any, progress: Any) -> dict[str, Any]:
    """``--ort-ablation``: time every configuration of :func:`configurations` for ort-cpu, per precision and batch."""
    from gnet.bench.runners import parse_precisions

    cores = config.threads or physical_cores()
    configs = configurations(cores, config.threads)
    precisions = [p for p in parse_precisions(config.precisions) if p in OrtCpuRunner.precisions]
    if not precisions:
        raise UsageError("ONNX Runtime runs none of the precisions asked for",
                         remedy=f"pass --precision among {', '.join(OrtCpuRunner.precisions)}")

    def build(precision: str, ctx: PrepareContext) -> list[tuple[str, Runner]]:
        return [(name, OrtCpuRunner("default" if tuning is None else "tuned", precision, tuning))
                for name, tuning in configs]

    return measure(config, progress, precisions, build, "ONNX Runtime CPU options", "default")


def ablation_table(result: dict[str, Any]) -> Table:
    table = Table(title=f"{result['title']} — weights: {result['weights']}; {result['image_size']} px; "
                        "round robin, one batch per configuration per round; img/s = batch / median latency",
                  title_justify="left")
    for header in ("precision", "batch", "configuration", "img/s", f"vs {result['reference']}", "batches", "CV"):
        table.add_column(header, justify="left" if header in ("precision", "configuration") else "right")
    reference: dict[tuple[str, int], float] = {}
    for row in result["rows"]:
        if row.name == result["reference"]:
            reference[(row.precision, row.batch)] = row.ips
    for row in result["rows"]:
        ref = reference.get((row.precision, row.batch))
        ratio = row.ips / ref if ref else float("nan")
        style = "bold" if row.name in (result["reference"], "tuned") else None
        table.add_row(row.precision, str(row.batch), row.name, f"{row.ips:.1f}", f"{ratio:.2f}×",
                      str(len(row.latencies_ms)), f"{row.cv:.1%}", style=style)
    return table
