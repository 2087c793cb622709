"""Parity and ONNX Runtime CPU speed of every precision's ONNX: ``python tools/precision_table.py``.

The precision table of docs/precisions.md is this command's output: for FP32, FP16, INT8 (TensorRT format) and
INT8 (CPU format) it runs the held-out digits through a default ONNX Runtime CPU session and compares
with PyTorch FP32, then times a batch of 64 with the harness's trtexec-style loop.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from gnet.bench.harness import run_parity
from gnet.bench.runners.base import PrepareContext
from gnet.bench.runners.ort_cpu import OrtCpuRunner
from gnet.bench.stats import summarize, throughput
from gnet.bench.timing import TimingConfig, time_end_to_end
from gnet.checks.images import parity_images
from gnet.defaults import FIXTURE_CHECKPOINT
from gnet.export.api import prepare_artifacts
from gnet.export.fixture import fixture_available
from gnet.export.weights import load_weights, torch_logits
from gnet.system import cpu_model, vector_extensions

ROWS = (("FP32", "fp32", "fp32"), ("FP16", "fp16", "fp16"), ("INT8 (TensorRT format)", "int8", "int8"),
        ("INT8 (CPU format)", "int8", "int8-cpu"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", default="artifacts", help="folder of ONNX artifacts (reused when they match)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=None, help="default: the fixture's own (64)")
    args = parser.parse_args(argv)
    console = Console()
    if not fixture_available():
        console.print(f"{FIXTURE_CHECKPOINT} is missing: run `make fixture` first")
        return 1
    loaded = load_weights(str(FIXTURE_CHECKPOINT))
    size = args.image_size or loaded.image_size
    images = parity_images(loaded, None, size)
    reference = torch_logits(loaded.model, images.data)
    paths = prepare_artifacts(loaded, Path(args.artifacts), size, [variant for _, _, variant in ROWS])
    table = Table(title=f"{FIXTURE_CHECKPOINT} at {size} px: parity on {len(images)} held-out digits, "
                        f"ONNX Runtime CPU (default session) at batch {args.batch}; {cpu_model()} ({vector_extensions()})")
    for column in ("ONNX", "cos min", "max|Δ|", "top-1 agree", "accuracy (ref)", "img/s", "p50 ms", "CV"):
        table.add_column(column, justify="right")
    for label, precision, variant in ROWS:
        runner = OrtCpuRunner("default", precision)
        ctx = PrepareContext(loaded=loaded, image_size=size, threads=None, artifact=lambda _v, p=paths[variant]: p)
        try:
            runner.prepare(ctx)
            parity = run_parity(runner, images, reference, args.batch)
            latencies = time_end_to_end(runner, images.tile(args.batch), TimingConfig()).latencies_ms
        finally:
            runner.close()
        m, stats = parity.metrics, summarize(latencies)
        table.add_row(f"{label} {paths[variant].name}", f"{m.cosine_min:.5f}", f"{m.max_abs:.2e}",
                      f"{m.top1_agreement:.2%}", f"{m.accuracy:.2%} ({m.reference_accuracy:.2%})",
                      f"{throughput(args.batch, latencies):.0f}", f"{stats.median_ms:.1f}", f"{stats.cv:.1%}")
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
