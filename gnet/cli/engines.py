"""``gnet build`` and ``gnet info``: thin shells over :mod:`gnet.engines.build` and :mod:`gnet.engines.info`."""

from __future__ import annotations

import json

import click
from rich.markup import escape

from gnet import defaults
from gnet.cli.common import console, err_console, handle_errors


@click.command("build")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Engine file [default: googlenet_<precision>.plan beside MODEL; the manifest goes beside it as .json].")
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
@click.option("--allow-mixed", is_flag=True,
              help="Keep an engine whose convolutions do not all run at the ONNX's precision (normally refused).")
@handle_errors
def build_cmd(model: str, output: str | None, min_batch: int, opt_batch: int, max_batch: int, workspace_mib: int,
              opt_level: int, timing_cache: str | None, no_timing_cache: bool, hardware_compat: str,
              version_compatible: bool, allow_mixed: bool) -> None:
    """Build a strongly typed TensorRT engine from a gnet ONNX, prove its precision, and write its manifest.

    The precision comes from the ONNX itself (googlenet_fp32.onnx, googlenet_fp16.onnx,
    googlenet_int8.qdq.onnx): no precision flag is set. Without TensorRT or a GPU the
    ONNX is checked and the command says exactly what to install.

    \b
    Example:
      gnet build artifacts/googlenet_fp16.onnx --opt-batch 64 --max-batch 256
      gnet build artifacts/googlenet_int8.qdq.onnx -o engines/int8.plan --hardware-compat ampere+
    """
    from gnet.engines.build import build_engine
    from gnet.engines.build_inputs import BuildOptions

    options = BuildOptions(
        min_batch=min_batch, opt_batch=opt_batch, max_batch=max_batch, workspace_mib=workspace_mib,
        opt_level=opt_level, timing_cache=timing_cache, use_timing_cache=not no_timing_cache,
        hardware_compat=hardware_compat, version_compatible=version_compatible, allow_mixed=allow_mixed,
    )
    result = build_engine(model, output, options)
    for warning in result.warnings:
        err_console.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    proof = result.precision
    layers = ", ".join(f"{n} {p}" for p, n in sorted(proof.layer_precisions.items()))
    verdict = "[green]proven[/]" if proof.proven else "[yellow]unproven (--allow-mixed)[/]"
    console.print(f"precision {proof.requested}: {escape(proof.summary())}; all layers: {escape(layers)}; {verdict}",
                  highlight=False, soft_wrap=True)
    inputs = result.manifest["inputs"][0]
    profile = inputs["profile"]
    built = (f"profile {inputs['name']}: min {profile['min']}, opt {profile['opt']}, max {profile['max']}; "
             f"built in {result.seconds:.1f} s on {result.manifest['device']['name']} "
             f"with TensorRT {result.manifest['tensorrt']['version']}")
    console.print(escape(built), highlight=False, soft_wrap=True)
    console.print(f"wrote [bold]{escape(str(result.plan))}[/] and [bold]{escape(str(result.manifest_path))}[/]"
                  + (f" (timing cache {escape(str(result.timing_cache))})" if result.timing_cache else ""), soft_wrap=True)


@click.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@handle_errors
def info_cmd(as_json: bool) -> None:
    """List what this machine has: torch and CUDA, GPU, ONNX Runtime providers, TensorRT, cuda-python/pycuda.

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
