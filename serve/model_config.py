"""Triton model configurations (``config.pbtxt``), built with Triton's own schema and checked before use.

A configuration is assembled as a ``tritonclient.grpc.model_config_pb2.ModelConfig`` message (so a field
or enum name Triton does not know cannot be written), printed with protobuf's text format, and
:func:`validate` parses the text back with the same schema — which rejects unknown fields, unknown enum
values and syntax errors — then checks what the schema cannot: a batch size of at least one, preferred
batch sizes within it, one input and one output, and no CPU instances for a TensorRT plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gnet import defaults
from gnet.errors import GnetError, NotAvailable, first_line

TYPE_BY_DTYPE = {"float32": "TYPE_FP32", "float16": "TYPE_FP16"}
"""numpy / manifest dtype names → Triton data types."""


def schema() -> Any:
    """``model_config_pb2`` (from tritonclient); NotAvailable when tritonclient is not installed."""
    try:
        from tritonclient.grpc import model_config_pb2
    except ImportError:
        from gnet.serve.bundle import INSTALL_REMEDY

        raise NotAvailable("writing Triton configurations needs tritonclient", "it is not installed",
                           INSTALL_REMEDY) from None
    return model_config_pb2


@dataclass(frozen=True)
class ModelSpec:
    """What one Triton model's configuration says."""

    name: str
    max_batch: int
    dims: tuple[int, ...]  # one image: (3, H, W)
    classes: int
    preferred: tuple[int, ...]
    kind: str  # KIND_CPU | KIND_GPU
    instances: int = 1
    platform: str = ""  # onnxruntime_onnx | tensorrt_plan (or empty with a backend)
    backend: str = ""  # python
    input_type: str = "TYPE_FP32"
    output_type: str = "TYPE_FP32"
    model_file: str = ""
    labels: str = "labels.txt"
    queue_delay_us: int = defaults.MAX_QUEUE_DELAY_US
    parameters: dict[str, str] = field(default_factory=dict)
    tensorrt: dict[str, str] = field(default_factory=dict)  # ONNX on GPU: ONNX Runtime's TensorRT accelerator


def build(spec: ModelSpec) -> Any:
    """The ``ModelConfig`` message of ``spec``."""
    pb = schema()
    config = pb.ModelConfig(name=spec.name, platform=spec.platform, backend=spec.backend, max_batch_size=spec.max_batch)
    if spec.model_file:
        config.default_model_filename = spec.model_file
    config.input.add(name=defaults.INPUT_NAME, data_type=pb.DataType.Value(spec.input_type), dims=list(spec.dims))
    config.output.add(name=defaults.OUTPUT_NAME, data_type=pb.DataType.Value(spec.output_type), dims=[spec.classes],
                      label_filename=spec.labels)
    config.dynamic_batching.preferred_batch_size.extend(spec.preferred)
    config.dynamic_batching.max_queue_delay_microseconds = spec.queue_delay_us
    config.instance_group.add(kind=pb.ModelInstanceGroup.Kind.Value(spec.kind), count=spec.instances)
    config.version_policy.latest.num_versions = 1
    for key, value in spec.parameters.items():
        config.parameters[key].string_value = value
    if spec.tensorrt:
        accelerator = config.optimization.execution_accelerators.gpu_execution_accelerator.add(name="tensorrt")
        accelerator.parameters.update(spec.tensorrt)
    return config


def render(spec: ModelSpec) -> str:
    """``config.pbtxt`` text of ``spec``, validated."""
    from google.protobuf import text_format

    text = text_format.MessageToString(build(spec))
    validate(text, f"config.pbtxt of {spec.name}")
    return text


def _problems(config: Any) -> list[str]:
    problems = []
    if config.max_batch_size < 1:
        problems.append("max_batch_size must be at least 1")
    if any(b < 1 or b > config.max_batch_size for b in config.dynamic_batching.preferred_batch_size):
        problems.append("a preferred batch size lies outside 1..max_batch_size")
    if len(config.input) != 1 or len(config.output) != 1:
        problems.append("a gnet model has exactly one input and one output")
    if not config.platform and not config.backend:
        problems.append("neither platform nor backend is set")
    kinds = {group.kind for group in config.instance_group}
    if config.platform == "tensorrt_plan" and kinds - {schema().ModelInstanceGroup.KIND_GPU}:
        problems.append("a TensorRT plan runs on GPU instances only")
    if any(group.count < 1 for group in config.instance_group):
        problems.append("an instance group needs a count of at least 1")
    return problems


def validate(text: str, where: str = "config.pbtxt") -> Any:
    """Parse ``text`` as Triton's ``ModelConfig`` and check it; GnetError naming the first problem."""
    from google.protobuf import text_format

    config = schema().ModelConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as exc:
        raise GnetError(f"{where} is not a valid Triton model configuration", first_line(exc)) from None
    problems = _problems(config)
    if problems:
        raise GnetError(f"{where} is not a usable Triton model configuration", "; ".join(problems))
    return config


def preferred_sizes(max_batch: int, opt: int | None = None) -> tuple[int, ...]:
    """Powers of two from 8 up to the maximum, the maximum itself and the profile's opt batch."""
    sizes = {b for b in (8, 16, 32, 64, 128, 256, 512, 1024) if b <= max_batch} | {max_batch}
    if opt:
        sizes.add(min(opt, max_batch))
    return tuple(sorted(sizes))
