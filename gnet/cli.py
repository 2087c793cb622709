"""``gnet``: the command line, a thin shell over the Python API of each stage."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from gnet.errors import GnetError

console = Console()
err_console = Console(stderr=True)


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a GnetError into one red sentence and exit status 1 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GnetError as exc:
            report = getattr(exc, "report", None)
            if report is not None:
                from gnet.tables import parity_table

                err_console.print(parity_table(report))
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            sys.exit(1)
        except KeyboardInterrupt:
            err_console.print("[bold red]interrupted[/]")
            sys.exit(130)

    return wrapper


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gnet")
def cli() -> None:
    """gnet: torchvision GoogLeNet → checked ONNX (FP32/FP16/INT8) → TensorRT engines, with proof of parity and speed.

    \b
    Example:
      gnet export --weights imagenet -o artifacts/googlenet_fp32.onnx
      gnet check artifacts/googlenet_fp32.onnx
    """


WEIGHTS_HELP = ("imagenet (torchvision IMAGENET1K_V1), random (with --seed), a checkpoint file, or auto "
                "(imagenet if cached or downloadable, else the trained fixture, else random)")


@cli.command("export")
@click.option("--weights", default="imagenet", show_default=True, help=WEIGHTS_HELP)
@click.option("--seed", default=0, show_default=True, help="Seed for --weights random.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output file [default: artifacts/googlenet_<precision>.onnx].")
@click.option("--image-size", type=click.IntRange(32, 1024), help="Input height and width [default: the checkpoint's, else 224].")
@click.option("--opset", default=17, show_default=True, type=click.IntRange(13, 23))
@click.option("--exporter", type=click.Choice(["torchscript", "dynamo"]), default="torchscript", show_default=True,
              help="torch.onnx exporter; dynamo writes opset 18 or newer.")
@click.option("--images", help="Folder of images for the parity check (or digits:train|eval) [default: packaged photos].")
@click.option("--transform-input/--no-transform-input", default=None,
              help="Apply torchvision's transform_input (on for imagenet; for a checkpoint, its own record, else off).")
@click.option("--parity-batches", help="Batch sizes for the parity check, e.g. 1,3,8 [default: 1,8].")
@click.option("--precision", type=click.Choice(["fp32", "fp16", "int8"]), default="fp32", show_default=True,
              help="fp16 and int8 are made from the FP32 ONNX beside the output (exported first if missing).")
@click.option("--io-dtype", type=click.Choice(["fp32", "fp16"]), default="fp32", show_default=True,
              help="FP16 only: dtype of input and logits.")
@click.option("--int8-target", type=click.Choice(["tensorrt", "cpu"]), default="tensorrt", show_default=True,
              help="tensorrt: symmetric int8 Q/DQ for engines; cpu: u8/s8 Q/DQ, fast on ONNX Runtime CPUs.")
@click.option("--calib-images", help="Calibration images: folder, digits:train or skimage:faces [default: the weights' own].")
@click.option("--calib-count", type=click.IntRange(1), help=f"Calibration images to use [default: {200}, or all if fewer].")
@click.option("--calib-method", type=click.Choice(["minmax", "entropy", "percentile"]), default=None,
              help="Range estimator [default: percentile, see README].")
@click.option("--calib-cache", type=click.Path(dir_okay=False), help="Calibration cache file [default: named by model and images under artifacts/calibration/].")
@click.option("--keep-fp", multiple=True, metavar="NODE", help="Leave this node unquantized (repeatable; names from `gnet check`).")
@friendly_errors
def export_cmd(weights: str, seed: int, output: str | None, image_size: int | None, opset: int, exporter: str,
               images: str | None, transform_input: bool | None, parity_batches: str | None, precision: str,
               io_dtype: str, int8_target: str, calib_images: str | None, calib_count: int | None,
               calib_method: str | None, calib_cache: str | None, keep_fp: tuple[str, ...]) -> None:
    """Export GoogLeNet (aux heads stripped) to ONNX in FP32, FP16 or INT8 and prove it matches PyTorch.

    \b
    Example:
      gnet export --weights imagenet -o artifacts/googlenet_fp32.onnx
      gnet export --weights my_checkpoint.pth --images val/
      gnet export --weights artifacts/fixture/googlenet_digits.pt --precision int8
      gnet export --precision int8 --int8-target cpu --calib-images train/ --calib-count 500
    """
    from gnet.export.api import export_model
    from gnet.export.precision import DEFAULT_CALIB_METHOD, CalibrationSettings
    from gnet.tables import parity_table

    calib = CalibrationSettings(images=calib_images, count=calib_count, method=calib_method or DEFAULT_CALIB_METHOD,
                                cache=calib_cache)
    with calibration_progress() as progress:
        result = export_model(
            weights=weights, output=output, seed=seed, image_size=image_size, opset=opset, images=images,
            exporter=exporter, transform_input=transform_input, batches=parse_batches(parity_batches),
            precision=precision, io_dtype=io_dtype, int8_target=int8_target, calib=calib, keep_fp=keep_fp,
            progress=progress,
        )
    for note in result.notes:
        console.print(escape(note))
    console.print(parity_table(result.parity))
    console.print(f"wrote [bold]{escape(str(result.path))}[/] (weights: {escape(result.metadata['weights'])})")


@contextlib.contextmanager
def calibration_progress() -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar that the calibration step advances (images done, images total)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("calibrating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err_console, transient=True) as bar:
        task = None

        def update(done: int, total: int) -> None:
            nonlocal task
            if task is None:
                task = bar.add_task("calibrate", total=total)
            bar.update(task, completed=done)

        yield update


@cli.command("check")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--weights", help=WEIGHTS_HELP + " [default: the weights recorded in MODEL]")
@click.option("--seed", default=0, show_default=True, help="Seed for --weights random.")
@click.option("--images", help="Folder of images (or digits:train|eval) [default: as at export].")
@click.option("--batches", "batches", help="Batch sizes, e.g. 1,8 [default: 1,8].")
@friendly_errors
def check_cmd(model: str, weights: str | None, seed: int, images: str | None, batches: str | None) -> None:
    """Re-run the parity check of an existing ONNX file against PyTorch FP32.

    \b
    Example:
      gnet check artifacts/googlenet_fp32.onnx
      gnet check artifacts/googlenet_int8.qdq.onnx --images val/
    """
    from gnet.export.api import check_model
    from gnet.tables import parity_table

    result = check_model(model, weights=weights, seed=seed, images=images, batches=parse_batches(batches))
    console.print(parity_table(result.parity))
    if result.layer_noise is not None:
        from gnet.tables import noise_table

        console.print(noise_table(result.layer_noise))
        if result.fp32_reference is None:
            console.print("(no unchanged googlenet_fp32.onnx beside the model: accumulated noise not measured)")
    if not result.parity.passed:
        err_console.print(f"[bold red]error:[/] {escape(result.parity.failure_sentence())}", highlight=False)
        sys.exit(1)
    console.print(f"[green]pass[/]: {model} matches PyTorch FP32 within the {result.parity.precision} tolerance")


@cli.command("fixture")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Checkpoint path [default: artifacts/fixture/googlenet_digits.pt].")
@click.option("--force", is_flag=True, help="Retrain even if the checkpoint exists.")
@friendly_errors
def fixture_cmd(output: str | None, force: bool) -> None:
    """Train the test fixture: GoogLeNet on scikit-learn's digits (seeded, a few minutes on a CPU).

    \b
    Example:
      gnet fixture            # what `make fixture` runs
    """
    from gnet.export.fixture import FIXTURE_CHECKPOINT, fixture_available, train_fixture

    path = output or FIXTURE_CHECKPOINT
    if fixture_available(path) and not force:
        console.print(f"{path} exists; pass --force to retrain")
        return
    record = train_fixture(path, log=console.print)
    console.print(f"wrote [bold]{path}[/] (held-out accuracy {record['held_out_accuracy']:.2%})")


def main() -> None:
    """Entry point of ``gnet``."""
    cli(prog_name="gnet")


def bench_main() -> None:
    """Entry point of ``gnet-bench`` (the same as ``gnet bench``)."""
    command = cli.commands.get("bench")
    if command is None:
        err_console.print("[bold red]error:[/] this gnet has no bench command installed")
        sys.exit(1)
    command(prog_name="gnet-bench")


from gnet.engines.commands import build_cmd, info_cmd  # noqa: E402

cli.add_command(build_cmd, "build")
cli.add_command(info_cmd, "info")

from gnet.bench.commands import bench_cmd  # noqa: E402

cli.add_command(bench_cmd, "bench")
