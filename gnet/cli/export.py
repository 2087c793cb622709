"""``gnet export``, ``gnet check``, ``gnet openvino`` and ``gnet fixture``: thin shells over :mod:`gnet.pipeline`,
:mod:`gnet.checks.check` and :mod:`gnet.openvino_ir.export`."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click
from rich.markup import escape

from gnet import defaults
from gnet.cli.common import (
    WEIGHTS_HELP,
    console,
    err_console,
    handle_errors,
    noise_table,
    parity_table,
    parse_batches,
    print_error,
)
from gnet.errors import GnetError


@click.command("export")
@click.option("--weights", default=defaults.WEIGHTS, show_default=True, help=WEIGHTS_HELP)
@click.option("--seed", default=0, show_default=True, help="Seed for --weights random.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output file [default: artifacts/googlenet_<precision>.onnx].")
@click.option("--image-size", type=click.IntRange(defaults.MIN_IMAGE_SIZE, defaults.MAX_IMAGE_SIZE),
              help=f"Input height and width [default: the checkpoint's, else {defaults.DEFAULT_IMAGE_SIZE}].")
@click.option("--opset", default=defaults.DEFAULT_OPSET, show_default=True, type=click.IntRange(13, 23))
@click.option("--exporter", type=click.Choice(defaults.EXPORTERS), default=defaults.EXPORTERS[0], show_default=True,
              help="torch.onnx exporter; dynamo writes opset 18 or newer.")
@click.option("--images", help="Folder of images for the parity check (or digits:train|eval) [default: packaged photos].")
@click.option("--transform-input/--no-transform-input", default=None,
              help="Apply torchvision's transform_input (on for imagenet; for a checkpoint, its own record, else off).")
@click.option("--parity-batches", help="Batch sizes for the parity check, e.g. 1,3,8 [default: 1,8].")
@click.option("--precision", type=click.Choice(defaults.PRECISIONS), default="fp32", show_default=True,
              help="fp16 and int8 are made from the FP32 ONNX beside the output (exported first if missing).")
@click.option("--io-dtype", type=click.Choice(defaults.IO_DTYPES), default="fp32", show_default=True,
              help="FP16 only: dtype of input and logits.")
@click.option("--int8-target", type=click.Choice(defaults.INT8_TARGETS), default="tensorrt", show_default=True,
              help="tensorrt: symmetric int8 Q/DQ for engines; cpu: u8/s8 Q/DQ, fast on ONNX Runtime CPUs.")
@click.option("--calib-images", help="Calibration images: folder, digits:train or skimage:faces [default: the weights' own].")
@click.option("--calib-count", type=click.IntRange(1),
              help=f"Calibration images to use [default: {defaults.CALIB_COUNT}, or all if fewer].")
@click.option("--calib-method", type=click.Choice(defaults.CALIBRATION_METHODS), default=defaults.CALIB_METHOD,
              show_default=True, help="Range estimator (measured in docs/precisions.md).")
@click.option("--calib-cache", type=click.Path(dir_okay=False),
              help="Calibration cache file [default: named by model and images under artifacts/calibration/].")
@click.option("--keep-fp", multiple=True, metavar="NODE", help="Leave this node unquantized (repeatable; names from `gnet check`).")
@click.option("--input-type", type=click.Choice(defaults.INPUT_TYPES), default=defaults.FLOAT_INPUT, show_default=True,
              help="uint8-nhwc: a graph that takes RGB camera frames as bytes [N, H, W, 3] and normalizes them itself "
                   "(googlenet_<precision>_uint8.onnx, made from the float graph beside it).")
@handle_errors
def export_cmd(weights: str, seed: int, output: str | None, image_size: int | None, opset: int, exporter: str,
               images: str | None, transform_input: bool | None, parity_batches: str | None, precision: str,
               io_dtype: str, int8_target: str, calib_images: str | None, calib_count: int | None,
               calib_method: str, calib_cache: str | None, keep_fp: tuple[str, ...], input_type: str) -> None:
    """Export GoogLeNet (aux heads stripped) to ONNX in FP32, FP16 or INT8 and prove it matches PyTorch.

    \b
    Example:
      gnet export --weights imagenet -o artifacts/googlenet_fp32.onnx
      gnet export --weights my_checkpoint.pth --images val/
      gnet export --weights artifacts/fixture/googlenet_digits.pt --precision int8
      gnet export --precision int8 --int8-target cpu --calib-images train/ --calib-count 500
      gnet export --precision fp16 --input-type uint8-nhwc
    """
    from gnet.pipeline import export_model
    from gnet.precision.calibration import CalibrationSettings

    calib = CalibrationSettings(images=calib_images, count=calib_count, method=calib_method, cache=calib_cache)
    with calibration_progress() as progress:
        result = export_model(
            weights=weights, output=output, seed=seed, image_size=image_size, opset=opset, images=images,
            exporter=exporter, transform_input=transform_input, batches=parse_batches(parity_batches),
            precision=precision, io_dtype=io_dtype, int8_target=int8_target, calib=calib, keep_fp=keep_fp,
            progress=progress, input_type=input_type,
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


@click.command("check")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--weights", help=WEIGHTS_HELP + " [default: the weights recorded in MODEL]")
@click.option("--seed", default=0, show_default=True, help="Seed for --weights random.")
@click.option("--images", help="Folder of images (or digits:train|eval) [default: as at export].")
@click.option("--batches", "batches", help="Batch sizes, e.g. 1,8 [default: 1,8].")
@click.option("--image-size", type=click.IntRange(defaults.MIN_IMAGE_SIZE, defaults.MAX_IMAGE_SIZE),
              help="An ONNX without gnet's metadata: its input height and width [default: the graph's, if static].")
@handle_errors
def check_cmd(model: str, weights: str | None, seed: int, images: str | None, batches: str | None,
              image_size: int | None) -> None:
    """Re-run the parity check of an existing ONNX file (or OpenVINO IR .xml) against PyTorch FP32.

    An ONNX without gnet's metadata (another exporter's, or one whose metadata was stripped) is
    checked only with --weights (the weights it was made from) and its image size (--image-size,
    else its graph's static input size); its precision is read from its graph.

    \b
    Example:
      gnet check artifacts/googlenet_fp32.onnx
      gnet check artifacts/googlenet_int8.qdq.onnx --images val/
      gnet check artifacts/googlenet_int8_cpu.qdq.xml
      gnet check other_exporter.onnx --weights my_checkpoint.pth --image-size 224
    """
    from gnet.checks.check import check_model

    result = check_model(model, weights=weights, seed=seed, images=images, batches=parse_batches(batches),
                         image_size=image_size)
    for note in result.notes:
        console.print(escape(note))
    console.print(parity_table(result.parity))
    if result.layer_noise is not None:
        console.print(noise_table(result.layer_noise, output_db=result.logits_sqnr_db))
        if result.fp32_reference is None:
            console.print("(no unchanged googlenet_fp32.onnx beside the model: accumulated noise not measured)")
    if result.passed:
        console.print(f"[green]pass[/]: {escape(model)} matches PyTorch FP32 within the {result.parity.precision} "
                      "tolerance")
        return
    if not result.parity.passed:
        from gnet.checks.parity import ParityError

        where = result.divergence.sentence() if result.divergence else ""
        print_error(ParityError(result.parity, where=where))
        sys.exit(1)
    # Right logits on this CPU, which computes FP16 layers in FP32, and NaN on a GPU: the range check fails it.
    print_error(GnetError(f"{Path(model).name} leaves FP16's range on {result.parity.images}",
                          result.overflow.sentence(), "a runtime that computes in FP16 returns NaN or infinity"))
    sys.exit(1)


@click.command("openvino")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help=f"The IR's .xml (its .bin goes beside it) [default: MODEL with {defaults.IR_SUFFIX}].")
@click.option("--weights", help=WEIGHTS_HELP + " [default: the weights recorded in MODEL]")
@click.option("--seed", default=0, show_default=True, help="Seed for --weights random.")
@click.option("--images", help="Folder of images (or digits:train|eval) for the parity check [default: as at export].")
@click.option("--batches", "batches", help="Batch sizes for the parity check, e.g. 1,8 [default: 1,8].")
@handle_errors
def openvino_cmd(model: str, output: str | None, weights: str | None, seed: int, images: str | None,
                 batches: str | None) -> None:
    """Convert a gnet ONNX file to an OpenVINO IR (.xml + .bin) and prove it matches PyTorch FP32.

    \b
    The IR keeps FP32 weights as they are (no FP16 compression) and carries gnet's metadata; it is
    written only when OpenVINO on this CPU runs it within the precision's tolerance.
    Example:
      gnet openvino artifacts/googlenet_int8_cpu.qdq.onnx     # → artifacts/googlenet_int8_cpu.qdq.xml + .bin
      gnet openvino artifacts/googlenet_fp32.onnx -o deploy/googlenet.xml
    """
    from gnet.openvino_ir.export import export_openvino

    result = export_openvino(model, output=output, weights=weights, seed=seed, images=images,
                             batches=parse_batches(batches))
    for note in result.notes:
        console.print(escape(note))
    console.print(parity_table(result.parity))
    console.print(f"wrote [bold]{escape(str(result.path))}[/] and [bold]{escape(result.weights_path.name)}[/] "
                  f"(weights: {escape(str(result.metadata.get('weights', '?')))})")


@click.command("fixture")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help=f"The 64-px checkpoint's path; the 224-px one is written beside it [default: {defaults.FIXTURE_CHECKPOINT}].")
@click.option("--force", is_flag=True, help="Retrain even if the checkpoints exist.")
@click.option("--tests-only", is_flag=True,
              help="Only the 64-px checkpoint, the one the tests measure (about 1 minute; what `make test` runs).")
@handle_errors
def fixture_cmd(output: str | None, force: bool, tests_only: bool) -> None:
    """Train the test fixture: GoogLeNet on scikit-learn's digits, right at 64 px (what the tests measure) and,
    fine-tuned, at 224 px (what the offline benchmark measures); seeded, two to five minutes on two CPU cores.
    Each checkpoint trained is also kept under ~/.cache/gnet (or $GNET_CACHE_DIR), keyed by the recipe, the
    releases and the CPU, so another clone on this machine copies it instead of training again.

    \b
    Example:
      gnet fixture                # what `make fixture` and `make bench` run
      gnet fixture --tests-only   # what `make test` runs
    """

    from gnet.export.fixture import (cached_checkpoint, fine_tune_fixture, fixture_available, keep_cached,
                                     restore_cached, train_fixture)

    base = Path(output or defaults.FIXTURE_CHECKPOINT)
    full = defaults.fixture_path(defaults.FIXTURE_FULL_SIZE, base)
    log = lambda text: console.print(escape(text))
    steps = ((base, lambda: train_fixture(base, log=log)), (full, lambda: fine_tune_fixture(base, full, log=log)))
    for path, train in steps[:1] if tests_only else steps:
        if fixture_available(path) and not force:
            console.print(f"{escape(str(path))} exists; pass --force to retrain")
            continue
        if not force and restore_cached(path):
            console.print(f"wrote [bold]{escape(str(path))}[/] from the checkpoint this recipe trained on this "
                          f"machine before ({escape(str(cached_checkpoint(path.name)))}; --force retrains)")
            continue
        record = train()
        console.print(f"wrote [bold]{escape(str(path))}[/] (held-out accuracy at {record['image_size']} px "
                      f"{record['held_out_accuracy']:.2%})")
        if (trouble := keep_cached(path)) is not None:
            console.print(f"note: {escape(trouble)}", style="yellow")
