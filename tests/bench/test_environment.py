"""What a results file records about the machine: CPU model and vector extensions, libraries, command line."""

from __future__ import annotations

from gnet import system
from gnet.bench import environment


def test_the_cpu_block_names_its_vector_extensions():
    env = environment.collect(["gnet-bench", "--batch", "64"])
    cpu = env["cpu"]
    assert cpu["model"] == system.cpu_model() and cpu["vector_extensions"] == system.vector_extensions()
    assert cpu["flags"] == system.cpu_flags() and cpu["physical_cores"] >= 1
    assert env["command_line"] == "gnet-bench --batch 64"
    assert env["libraries"]["onnxruntime"] and env["libraries"]["python"]


def test_the_openvino_block_says_what_openvino_sees():
    from gnet.openvino_ir import runtime as openvino_runtime

    env = environment.collect([])
    assert env["openvino"]["version"] == env["libraries"]["openvino"] == openvino_runtime.version()
    assert env["openvino"]["optimization_capabilities"] == openvino_runtime.capabilities()
