"""Where the parity bounds come from: ``python tools/tolerance_study.py [--weights PATH] [--image-size N]``.

For each precision's good graph and for gnet's graphs broken on purpose (``tests/helpers/broken_graphs.py``:
the ways Q/DQ and FP16 graphs break in practice), it runs the held-out digits through ONNX Runtime (default
session, as ``gnet check`` and the bench do) and OpenVINO (CPU), compares with PyTorch FP32 and prints cosine,
relative max error, top-1 agreement and what ``checks/tolerances.py`` says, with the diagnosis of each broken
graph. docs/tolerances.md holds the measured table and the margins the bounds keep.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import onnx
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: `tests` imports

from gnet.checks.diagnosis import locate_divergence  # noqa: E402
from gnet.checks.images import parity_images
from gnet.checks.metrics import compare_logits  # noqa: E402
from gnet.checks.ort import cpu_session, run_batched  # noqa: E402
from gnet.checks.tolerances import tolerance_for  # noqa: E402
from gnet.defaults import FIXTURE_CHECKPOINT  # noqa: E402
from gnet.export.api import prepare_artifacts
from gnet.export.weights import (
    load_weights,  # noqa: E402
    torch_logits,  # noqa: E402
)
from gnet.openvino_ir.runtime import compile_cpu, infer_batched  # noqa: E402
from gnet.system import cpu_model, vector_extensions  # noqa: E402
from tests.helpers.broken_graphs import FP16_BREAKS, INT8_BREAKS  # noqa: E402

VARIANTS = {"fp32": "fp32", "fp16": "fp16", "int8": "int8", "int8-cpu": "int8"}


def _runs(path: Path, precision: str, data, batch: int):
    yield "ONNX Runtime", run_batched(cpu_session(path), data, batch)
    yield "OpenVINO", infer_batched(compile_cpu(str(path), precision, name=path.name), data, batch)


def _cases(paths: dict[str, Path], work: Path):
    for variant, path in paths.items():
        yield f"{variant} (good)", path, VARIANTS[variant], None
    for variant in ("int8", "int8-cpu"):
        for name, edit in INT8_BREAKS.items():
            yield f"{variant}: {name}", _broken(paths[variant], edit, work, f"{variant}-{name}"), "int8", paths["fp32"]
    for name, edit in FP16_BREAKS.items():
        yield f"fp16: {name}", _broken(paths["fp16"], edit, work, name), "fp16", paths["fp32"]


def _broken(path: Path, edit, work: Path, tag: str) -> Path:
    model, _ = edit(onnx.load(str(path)))
    out = work / (tag.replace(" ", "_") + ".onnx")
    onnx.save(model, str(out))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=str(FIXTURE_CHECKPOINT))
    parser.add_argument("--image-size", type=int, default=None, help="default: the size the weights were trained at")
    parser.add_argument("--artifacts", default=None, help="folder of ONNX artifacts (default: a temporary one)")
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args(argv)
    console = Console()
    loaded = load_weights(args.weights)
    size = args.image_size or loaded.image_size
    images = parity_images(loaded, None, size)
    reference = torch_logits(loaded.model, images.data)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.artifacts or tmp)
        paths = prepare_artifacts(loaded, folder, size, list(VARIANTS))
        table = Table(title=f"{args.weights} at {size} px, {len(images)} held-out digits, batch {args.batch}; "
                            f"{cpu_model()} ({vector_extensions()})")
        for column in ("graph", "runtime", "cos min", "rel max", "top-1", "acc", "verdict", "diagnosis"):
            table.add_column(column)
        for label, path, precision, fp32 in _cases(paths, Path(tmp)):
            tolerance = tolerance_for(precision, loaded.trained)
            diagnosis = locate_divergence(path, fp32, images) if fp32 else None
            for runtime, logits in _runs(path, precision, images.data, args.batch):
                m = compare_logits(reference, logits, images.labels)
                verdict = "pass" if tolerance.passes(m) else "FAIL"
                cells = (label, runtime, f"{m.cosine_min:.6f}", f"{m.rel_max:.3g}", f"{m.top1_agreement:.2%}",
                         f"{m.accuracy:.2%}" if m.accuracy is not None else "-", verdict,
                         diagnosis.sentence() if diagnosis else "")
                table.add_row(*cells)
                print(" | ".join(cells), flush=True)  # as it goes: the whole study takes minutes
        console.print(table)
    return 0

if __name__ == "__main__":
    sys.exit(main())
