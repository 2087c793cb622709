"""What each ONNX Runtime CPU option buys: ``gnet bench --ort-ablation``.

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
from dataclasses import dataclass, fields
from typing import Any

from rich.table import Table

from gnet.bench.runners.ort_cpu import OrtCpuRunner
from gnet.bench.runners.ort_options import DEFAULT, OrtTuning, tuned
from gnet.bench.stats import summarize
from gnet.bench.timing import round_robin
from gnet.system import physical_cores


def single_options(cores: int) -> dict[str, dict[str, Any]]:
    """One change at a time from ORT's defaults, named as the README names them."""
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


def run_ablation(config: Any, progress: Any) -> dict[str, Any]:
    """Time every configuration of :func:`configurations` for ort-cpu, per precision and batch."""
    from pathlib import Path

    from gnet.bench.artifact_store import ArtifactStore
    from gnet.bench.runners import PrepareContext, parse_precisions
    from gnet.export.api import parity_images
    from gnet.export.weights_choice import choose_weights

    config.check()
    precisions = parse_precisions(config.precisions)
    batches = sorted(set(config.batches))
    chosen = choose_weights(config.weights, config.seed)
    size = config.size
    progress.message(f"weights: {chosen.loaded.weights} — {chosen.reason}; image size {size}")
    images = parity_images(chosen.loaded, config.images, size, config.parity_limit)
    store = ArtifactStore(chosen.loaded, Path(config.artifacts), size, progress)
    ctx = PrepareContext(chosen.loaded, size, config.threads, store, batches)
    cores = config.threads or physical_cores()
    configs = configurations(cores, config.threads)
    rows: list[AblationRow] = []
    progress.start(len(precisions) * len(batches))
    for precision in precisions:
        for batch in batches:
            runners = []
            for name, tuning in configs:
                runner = OrtCpuRunner("default" if tuning is None else "tuned", precision, tuning)
                runner.prepare(ctx)
                runner.prepare_batch(batch)
                runners.append((name, runner, AblationRow(precision, batch, name, dict(runner.settings), [])))
            data = images.tile(batch)
            try:
                progress.row(f"ort-cpu {precision} batch {batch}: {len(runners)} configurations, round robin")
                latencies = round_robin([r for _, r, _ in runners], data, config.timing, progress.tick)
                for (_, _, row), values in zip(runners, latencies):
                    row.latencies_ms = values
                progress.row_done()
            finally:
                for _, runner, row in runners:
                    runner.close()
                    rows.append(row)
    return {"weights": chosen.loaded.weights, "image_size": size, "rows": rows,
            "duration_s": config.timing.duration_s}


def ablation_table(result: dict[str, Any]) -> Table:
    table = Table(title=f"ONNX Runtime CPU options — weights: {result['weights']}; {result['image_size']} px; "
                        "round robin, one batch per configuration per round; img/s = batch / median latency", title_justify="left")
    for header in ("precision", "batch", "configuration", "img/s", "vs default", "batches", "CV"):
        table.add_column(header, justify="left" if header in ("precision", "configuration") else "right")
    reference: dict[tuple[str, int], float] = {}
    for row in result["rows"]:
        if row.name == "default":
            reference[(row.precision, row.batch)] = row.ips
    for row in result["rows"]:
        ref = reference.get((row.precision, row.batch))
        ratio = row.ips / ref if ref else float("nan")
        style = "bold" if row.name in ("default", "tuned") else None
        table.add_row(row.precision, str(row.batch), row.name, f"{row.ips:.1f}", f"{ratio:.2f}×",
                      str(len(row.latencies_ms)), f"{row.cv:.1%}", style=style)
    return table
