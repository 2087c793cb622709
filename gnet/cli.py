"""``gnet``: the command line, a thin shell over the Python API of each stage."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console

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
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
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


WEIGHTS_HELP = "imagenet (torchvision IMAGENET1K_V1), random (with --seed), or a checkpoint file"


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
@friendly_errors
def export_cmd(weights: str, seed: int, output: str | None, image_size: int | None, opset: int, exporter: str,
               images: str | None, transform_input: bool | None, parity_batches: str | None) -> None:
    """Export GoogLeNet (aux heads stripped) to ONNX and prove it matches PyTorch.

    \b
    Example:
      gnet export --weights imagenet -o artifacts/googlenet_fp32.onnx
      gnet export --weights my_checkpoint.pth --images val/
    """
    from gnet.export.api import export_model
    from gnet.tables import parity_table

    result = export_model(
        weights=weights, output=output, seed=seed, image_size=image_size, opset=opset, images=images,
        exporter=exporter, transform_input=transform_input, batches=parse_batches(parity_batches),
    )
    console.print(parity_table(result.parity))
    console.print(f"wrote [bold]{result.path}[/] (weights: {result.metadata['weights']})")


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
    if not result.parity.passed:
        err_console.print(f"[bold red]error:[/] {result.parity.failure_sentence()}", highlight=False)
        sys.exit(1)
    console.print(f"[green]pass[/]: {model} matches PyTorch FP32 within the {result.parity.precision} tolerance")


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
