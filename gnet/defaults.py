"""The one home of every fixed name and default: precisions, artifact file names, sizes, batches, options.

Everything else imports these; the Makefile repeats a few of them for ``make`` and a test
(``tests/test_defaults.py``) fails when the two disagree.
"""

from __future__ import annotations

from pathlib import Path

# --- precisions and the ONNX artifacts that carry them ----------------------------------------------
PRECISIONS = ("fp32", "fp16", "int8")
"""Every precision gnet writes as a file (ONNX graph, engine), in report order."""

BENCH_PRECISIONS = ("fp32", "fp16", "bf16", "int8")
"""Every precision ``gnet-bench`` measures, in report order: :data:`PRECISIONS` plus ``bf16``, which is never a
file but a runtime's execution of the FP32 graph (OpenVINO on a CPU with BF16); a runner lists which it runs."""

INT8_TARGETS = ("tensorrt", "cpu")
"""tensorrt: symmetric int8 Q/DQ for engines; cpu: u8 activations / s8 weights for ONNX Runtime on CPUs."""

IO_DTYPES = ("fp32", "fp16")

INPUT_TYPES = ("float-nchw", "uint8-nhwc")
"""What a graph's input takes (``gnet export --input-type``): float-nchw, normalized float images [N, 3, H, W]
(preprocessing done by the caller); uint8-nhwc, RGB camera frames [N, H, W, 3] as bytes (cast, layout and
normalization inside the graph, docs/precisions.md "Camera frames")."""
FLOAT_INPUT, FRAME_INPUT = INPUT_TYPES
FRAME_HEAD = "frames"
"""The prefix of the nodes and tensors a frame-input graph puts in front of its float graph (``frames/centred``,
``frames/normalized``): no FP32 tensor has it, and the diagnosis checks the head by it."""
FRAME_TAG = "_uint8"
"""What a frame-input artifact's name adds to its float one's stem:
``googlenet_fp16.onnx`` → ``googlenet_fp16_uint8.onnx``."""

ARTIFACT_NAMES = {
    "fp32": "googlenet_fp32.onnx",
    "fp16": "googlenet_fp16.onnx",
    "int8": "googlenet_int8.qdq.onnx",  # TensorRT format (symmetric int8), the one engines are built from
    "int8-cpu": "googlenet_int8_cpu.qdq.onnx",  # u8 activations / s8 weights, for ONNX Runtime on CPUs
}
"""The ONNX file of each artifact kind (``int8-cpu`` is gnet's CPU-format INT8)."""

IR_SUFFIX = ".xml"
IR_WEIGHTS_SUFFIX = ".bin"
"""An OpenVINO IR is a pair: the graph (``.xml``) and its weights (``.bin``, same stem, beside it)."""

MODEL_NAME = "googlenet"
RUNTIMES = ("auto", "tensorrt", "tensorrt-rtx")
"""``--runtime``: auto (data-centre TensorRT if it imports, else TensorRT-RTX), or one of the two by name."""
RUNTIME = "auto"
PLAN_SUFFIXES = {"tensorrt": ".plan", "tensorrt-rtx": ".rtx.plan"}
"""The plan file suffix of each runtime: both runtimes' plans can share one folder (the loader still decides
by the manifest's ``runtime`` key, never by the name)."""
PLAN_SUFFIX = PLAN_SUFFIXES["tensorrt"]
MANIFEST_SUFFIX = ".json"
TIMING_CACHE_NAME = "timing.cache"
RUNTIME_CACHE_SUFFIX = ".rtxcache"
"""TensorRT-RTX's runtime cache (kernels compiled on the GPU at load time) beside its plan:
``googlenet_fp16.rtx.plan`` → ``googlenet_fp16.rtxcache``."""
ARTIFACTS_DIR = Path("artifacts")
CALIBRATION_CACHE_DIR = ARTIFACTS_DIR / "calibration"


def artifact_name(kind: str, input_type: str = FLOAT_INPUT) -> str:
    """The ONNX file name of an artifact kind (``fp32``, ``fp16``, ``int8``, ``int8-cpu``) and input type."""
    name = ARTIFACT_NAMES[kind]
    if input_type == FRAME_INPUT:
        stem, dot, rest = name.partition(".")
        return f"{stem}{FRAME_TAG}{dot}{rest}"
    return name


def artifact_kind(precision: str, int8_target: str = "tensorrt") -> str:
    """The artifact kind a precision (and, for INT8, its format) is written as."""
    return "int8-cpu" if precision == "int8" and int8_target == "cpu" else precision


def kind_precision(kind: str) -> tuple[str, str]:
    """(precision, INT8 format) of an artifact kind, the inverse of :func:`artifact_kind`: ``int8-cpu`` → (int8, cpu),
    every other kind → (itself, tensorrt)."""
    return ("int8", "cpu") if kind == "int8-cpu" else (kind, "tensorrt")


def image_dims(image_size: int, input_type: str = FLOAT_INPUT) -> list[int]:
    """A graph's input dimensions after the batch: ``[3, S, S]`` (float-nchw) or ``[S, S, 3]`` (uint8-nhwc)."""
    return [image_size, image_size, 3] if input_type == FRAME_INPUT else [3, image_size, image_size]


def ir_name(onnx_name: str) -> str:
    """The OpenVINO IR made from an ONNX file: ``googlenet_fp32.onnx`` → ``googlenet_fp32.xml``."""
    return str(Path(onnx_name).with_suffix(IR_SUFFIX))


def plan_name(precision: str, runtime: str = "tensorrt", input_type: str = FLOAT_INPUT) -> str:
    """``googlenet_<precision>.plan`` (``.rtx.plan`` for TensorRT-RTX; ``_uint8`` before the suffix for a
    frame-input graph): the engine built from that precision's ONNX."""
    tag = FRAME_TAG if input_type == FRAME_INPUT else ""
    return f"{MODEL_NAME}_{precision}{tag}{PLAN_SUFFIXES[runtime]}"


# --- the graph's contract ---------------------------------------------------------------------------
INPUT_NAME = "input"
OUTPUT_NAME = "logits"
BATCH_DIM = "batch"
DEFAULT_OPSET = 17
EXPORTERS = ("torchscript", "dynamo")

# --- sizes and batches ------------------------------------------------------------------------------
DEFAULT_IMAGE_SIZE = 224
"""GoogLeNet's own input size: what exports default to without a checkpoint's own, and what the bench measures."""
MIN_IMAGE_SIZE = 32
MAX_IMAGE_SIZE = 1024

BENCH_BATCH = 64
"""``gnet-bench`` and ``make bench``: the batch size of the main job."""
MIN_BATCH = 1
OPT_BATCH = 64
MAX_BATCH = 256
"""The engine's optimization profile: ``gnet build`` and ``make engine`` (min/opt/max batch)."""

# --- weights ----------------------------------------------------------------------------------------
WEIGHTS = "auto"
"""Every command's ``--weights``: ImageNet if cached or downloadable, else the trained fixture, else seeded."""
FIXTURE_CHECKPOINT = ARTIFACTS_DIR / "fixture" / "googlenet_digits.pt"
FIXTURE_IMAGE_SIZE = 64
"""The fixture the tests measure on: trained at 64 px, where a parity check costs a twelfth of one at 224 px."""
FIXTURE_FULL_SIZE = DEFAULT_IMAGE_SIZE
"""The size of the fixture's second checkpoint, fine-tuned from the first: what ``--weights auto`` measures offline."""


def fixture_path(image_size: int, base: Path = FIXTURE_CHECKPOINT) -> Path:
    """The fixture checkpoint trained at ``image_size`` (``googlenet_digits.pt``, ``googlenet_digits_224.pt``)."""
    return base if image_size == FIXTURE_IMAGE_SIZE else base.with_name(f"{base.stem}_{image_size}{base.suffix}")

# --- calibration ------------------------------------------------------------------------------------
CALIBRATION_METHODS = ("minmax", "entropy", "percentile")
CALIB_METHOD = "percentile"
"""Measured on the fixture (``docs/precisions.md``, "Choosing the default calibration method"): the best worst-case cosine."""
CALIB_COUNT = 200

# --- engines ----------------------------------------------------------------------------------------
HARDWARE_COMPAT = ("none", "ampere+", "same-cc")
"""``--hardware-compat``: this GPU's architecture only, any Ampere or newer GPU, the same compute capability."""
WORKSPACE_MIB = 4096
OPT_LEVEL = 3
MAX_OPT_LEVEL = 5

# --- serving (Triton) -------------------------------------------------------------------------------
PYTRITON_VERSION = "0.7.0"
"""nvidia-pytriton: gnet uses only the ``tritonserver`` binary (Triton 2.51.0), python backend and stubs it bundles."""
TRITONCLIENT_VERSION = "2.73.0"
SERVE_HOST = "127.0.0.1"
"""``gnet serve`` listens on loopback unless ``--host`` opens it deliberately."""
HTTP_PORT, GRPC_PORT, METRICS_PORT = 8000, 8001, 8002
"""Triton's own default ports."""
SERVE_MAX_BATCH = 64
"""``max_batch_size`` of the served model and of the ONNX models in a repository (plans take their profile's max)."""
MAX_QUEUE_DELAY_US = 1000
"""How long Triton's dynamic batcher may hold a request to form a larger batch."""
MODEL_REPOSITORY = Path("model_repository")
STUB_ENV_DIRNAME = "triton-stub"
"""The python-backend stub's environment (numpy<2 and onnxruntime), inside the virtual environment: ``.venv/triton-stub``."""
RTX_RUNTIME = "tensorrt-rtx"
RTX_PLAN_SUFFIX = PLAN_SUFFIXES[RTX_RUNTIME]
"""TensorRT-RTX plans (``googlenet_<p>.rtx.plan``, manifest ``"runtime": "tensorrt-rtx"``): Triton has no backend for them."""
