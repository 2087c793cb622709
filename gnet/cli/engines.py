"""``gnet build`` and ``gnet info``: thin shells over :func:`gnet.pipeline.build` and :mod:`gnet.engines.info`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click
from rich.markup import escape

from gnet import defaults
from gnet.cli.common import console, err_console, handle_errors

if TYPE_CHECKING:
    from gnet.engines.build import BuildResult


@click.command("build")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--runtime", type=click.Choice(defaults.RUNTIMES), default=defaults.RUNTIME, show_default=True,
              help="tensorrt: data-centre TensorRT (builds on its GPU); tensorrt-rtx: TensorRT-RTX (builds without a "
                   "GPU, for RTX-class GPUs); auto: tensorrt if it imports, else tensorrt-rtx.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Engine file [default: googlenet_<precision>.plan (.rtx.plan for tensorrt-rtx) beside MODEL; the "
                   "manifest goes beside it as .json].")
@click.option("--min-batch", default=defaults.MIN_BATCH, show_default=True, type=int, help="Smallest batch the engine accepts.")
@click.option("--opt-batch", default=defaults.OPT_BATCH, show_default=True, type=int, help="Batch the engine is tuned for.")
@click.option("--max-batch", default=defaults.MAX_BATCH, show_default=True, type=int, help="Largest batch the engine accepts.")
@click.option("--workspace", "workspace_mib", default=defaults.WORKSPACE_MIB, show_default=True, type=int,
              help="Builder workspace limit in MiB.")
@click.option("--opt-level", default=defaults.OPT_LEVEL, show_default=True, type=click.IntRange(0, defaults.MAX_OPT_LEVEL),
              help="Builder optimization level (0 fastest build … 5 most tactics).")
@click.option("--timing-cache", type=click.Path(dir_okay=False),
              help="Timing cache file, read if present and written back [default: timing.cache beside the engine].")
@click.option("--no-timing-cache", is_flag=True, help="Build without reading or writing a timing cache.")
@click.option("--hardware-compat", type=click.Choice(defaults.HARDWARE_COMPAT), default=defaults.HARDWARE_COMPAT[0],
              show_default=True,
              help="none: this GPU's architecture only; ampere+: any Ampere or newer GPU; same-cc: same compute capability.")
@click.option("--version-compatible", is_flag=True,
              help="Let later TensorRT releases of the same major version load the engine.")
@click.option("--compute-capability", "compute_capabilities",
              help="tensorrt-rtx only: GPU architectures to build for, comma-separated among TensorRT-RTX's targets "
                   "(sm75, sm80, sm86, sm89, sm120, sm121 in 1.7), or current (this machine's GPU) "
                   "[default: TensorRT-RTX's own list].")
@click.option("--allow-mixed", is_flag=True,
              help="Keep an engine whose convolutions do not all run at the ONNX's precision (normally refused).")
@click.option("--image-size", type=click.IntRange(defaults.MIN_IMAGE_SIZE, defaults.MAX_IMAGE_SIZE),
              help="An ONNX without gnet's metadata (another exporter's): its input height and width, recorded in the "
                   "manifest and checked against the graph (with --classes; gnet's own ONNX files carry both).")
@click.option("--classes", "num_classes", type=click.IntRange(1),
              help="An ONNX without gnet's metadata: its number of output classes (with --image-size).")
@handle_errors
def build_cmd(model: str, runtime: str, output: str | None, min_batch: int, opt_batch: int, max_batch: int,
              workspace_mib: int, opt_level: int, timing_cache: str | None, no_timing_cache: bool, hardware_compat: str,
              version_compatible: bool, compute_capabilities: str | None, allow_mixed: bool, image_size: int | None,
              num_classes: int | None) -> None:
    """Build a strongly typed TensorRT or TensorRT-RTX engine from a gnet ONNX, prove its precision, write its manifest.

    The precision comes from the ONNX itself (googlenet_fp32.onnx, googlenet_fp16.onnx,
    googlenet_int8.qdq.onnx): no precision flag is set. The parsed network's precision is
    proven before building; data-centre TensorRT builds are proven again with the engine
    inspector. Without a usable runtime the ONNX is checked and the command says exactly
    what to install. An ONNX without gnet's metadata (another exporter's, or one whose metadata
    was stripped) is refused unless --image-size and --classes give its facts; its precision is
    then read from its graph (FP16 tensors, Q/DQ nodes, else FP32).

    \b
    Example:
      gnet build artifacts/googlenet_fp16.onnx --opt-batch 64 --max-batch 256
      gnet build artifacts/googlenet_fp16.onnx --runtime tensorrt-rtx --compute-capability sm86,sm89
      gnet build artifacts/googlenet_int8.qdq.onnx --runtime tensorrt -o engines/int8.plan --hardware-compat ampere+
      gnet build other_exporter.onnx --runtime tensorrt-rtx --image-size 224 --classes 1000
    """
    from gnet.engines.build_inputs import BuildOptions
    from gnet.pipeline import build

    options = BuildOptions(
        min_batch=min_batch, opt_batch=opt_batch, max_batch=max_batch, workspace_mib=workspace_mib,
        opt_level=opt_level, timing_cache=timing_cache, use_timing_cache=not no_timing_cache,
        hardware_compat=hardware_compat, version_compatible=version_compatible, allow_mixed=allow_mixed,
        runtime=runtime, compute_capabilities=compute_capabilities, image_size=image_size, num_classes=num_classes,
    )
    result = build(model, output, options).built
    for warning in result.warnings:
        err_console.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    for line in result.precision.lines():
        console.print(escape(line), highlight=False, soft_wrap=True)
    console.print(escape(_built_line(result)), highlight=False, soft_wrap=True)
    console.print(f"wrote [bold]{escape(str(result.plan))}[/] and [bold]{escape(str(result.manifest_path))}[/]"
                  + (f" (timing cache {escape(str(result.timing_cache))})" if result.timing_cache else ""), soft_wrap=True)


def _built_line(result: BuildResult) -> str:
    """``profile …; built in 1.3 s on … with TensorRT-RTX 1.7.1.116 for …``."""
    doc = result.manifest
    inputs = doc["inputs"][0]
    profile = inputs["profile"]
    where = doc["device"]["name"] if doc["device"] else "this machine's CPU (no GPU needed)"
    targets = doc["tensorrt"].get("compute_capabilities")
    aimed = ""
    if targets is not None:
        aimed = " for " + ("TensorRT-RTX's default compute capabilities" if targets == "default" else ", ".join(targets))
    return (f"profile {inputs['name']}: min {profile['min']}, opt {profile['opt']}, max {profile['max']}; "
            f"built in {result.seconds:.1f} s on {where} with {result.spec.label} {doc['tensorrt']['version']}{aimed}; "
            f"{doc['plan']['bytes'] / 1e6:.1f} MB")


@click.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@handle_errors
def info_cmd(as_json: bool) -> None:
    """List what this machine has: torch and CUDA, GPU, ONNX Runtime providers, TensorRT, TensorRT-RTX, cuda-python/pycuda.

    \b
    Example:
      gnet info
      gnet info --json > machine.json
    """
    from rich.table import Table

    from gnet.engines.info import machine_info

    rows = machine_info()
    if as_json:
        click.echo(json.dumps([{"item": r.item, "value": r.value, "ok": r.ok} for r in rows], indent=2))
        return
    table = Table(title="gnet info: what this machine has")
    table.add_column("item", no_wrap=True)
    table.add_column("")
    table.add_column("value")
    for row in rows:
        mark = "" if row.ok is None else ("[green]✓[/]" if row.ok else "[red]✗[/]")
        table.add_row(escape(row.item), mark, escape(row.value))
    console.print(table)
