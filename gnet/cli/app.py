"""The ``gnet`` command group: every stage's commands registered in one place."""

from __future__ import annotations

import click

from gnet.cli.bench import bench_cmd
from gnet.cli.engines import build_cmd, info_cmd
from gnet.cli.export import check_cmd, export_cmd, fixture_cmd, openvino_cmd
from gnet.cli.serve import serve_cmd, triton_repo_cmd, triton_stub_env_cmd


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gnet")
def cli() -> None:
    """gnet: torchvision GoogLeNet → checked ONNX (FP32/FP16/INT8) → TensorRT engines, with proof of parity and speed.

    \b
    Example:
      gnet export -o artifacts/googlenet_fp32.onnx
      gnet check artifacts/googlenet_fp32.onnx
    """


for command in (export_cmd, check_cmd, openvino_cmd, build_cmd, info_cmd, bench_cmd, fixture_cmd, serve_cmd,
                triton_repo_cmd, triton_stub_env_cmd):
    cli.add_command(command)


def main() -> None:
    """Entry point of ``gnet``."""
    cli(prog_name="gnet")


def bench_main() -> None:
    """Entry point of ``gnet-bench`` (the same as ``gnet bench``)."""
    bench_cmd(prog_name="gnet-bench")
