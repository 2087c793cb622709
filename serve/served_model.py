"""The model ``gnet serve`` serves: a gnet ONNX's contract, and the one-model repository that runs it.

The repository holds ``googlenet/config.pbtxt`` (``backend: "python"``, dynamic batching, CPU instances),
``googlenet/1/model.py`` (:mod:`gnet.serve.backend_model`), the ONNX file (copied, so a file
replaced, edited or deleted later does not change what is served, and the reverse) and ``labels.txt``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from gnet import defaults
from gnet.errors import GnetError, UsageError, first_line
from gnet.serve import backend_model
from gnet.serve.model_config import ModelSpec, render

ELEMENT_TYPES = {1: "float32", 10: "float16"}
"""ONNX TensorProto element types gnet's graphs use at their input and output."""
START_TOKEN = "gnet_start_token"
"""A model parameter holding a random value per start: ``gnet serve`` asks the answering server for it before
saying "ready", so a server that is not this start's (another process took the port) is never taken for it."""
EXPORT_REMEDY = "export one with: gnet export (see gnet export --help)"


@dataclass(frozen=True)
class Signature:
    """What a gnet ONNX takes and gives, read from the file itself."""

    channels: int
    height: int
    width: int
    classes: int
    input_dtype: str  # float32 | float16 (the graph's own input)
    output_dtype: str
    metadata: dict
    class_names: tuple[str, ...]

    @property
    def dims(self) -> tuple[int, int, int]:
        return self.channels, self.height, self.width

    @property
    def precision(self) -> str:
        return str(self.metadata.get("precision", "fp32"))

    def labels(self) -> list[str]:
        return list(self.class_names) or [str(i) for i in range(self.classes)]


def _tensor(value: object) -> tuple[list[int], str]:
    tensor = value.type.tensor_type  # type: ignore[attr-defined]
    return [d.dim_value for d in tensor.shape.dim], ELEMENT_TYPES.get(tensor.elem_type, f"type {tensor.elem_type}")


def read_signature(path: Path, command: str = "serve") -> Signature:
    """The contract of a gnet ONNX; one sentence when the file is missing, corrupt, a plan or not gnet's
    (``command``, ``serve`` or ``triton-repo``, words the refusal of a foreign ONNX)."""
    import onnx

    from gnet.export.metadata import require_gnet_metadata

    what = f"cannot serve {path}" if command == "serve" else f"cannot put {path} in a repository"
    if not path.is_file():
        raise GnetError(what, "the file does not exist", EXPORT_REMEDY)
    if path.name.endswith(defaults.RTX_PLAN_SUFFIX):
        raise UsageError(what, "it is a TensorRT-RTX plan, which no Triton backend runs",
                         "serve the ONNX it was built from (gnet serve googlenet_<precision>.onnx)")
    if path.suffix == defaults.PLAN_SUFFIX:
        raise UsageError(what, "gnet serve runs ONNX graphs on ONNX Runtime; a TensorRT plan needs Triton's "
                         "tensorrt_plan backend, which the bundled server lacks",
                         "serve the ONNX it was built from, or put the plan in a repository with gnet triton-repo "
                         "and run that on a Triton container (docs/serving.md)")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # onnx raises DecodeError and friends for a file that is not ONNX
        raise GnetError(what, f"it is not a readable ONNX file ({first_line(exc)})", EXPORT_REMEDY) from None
    # before the shapes: a foreign ONNX gets the one sentence every command gives it, whatever its names
    metadata = require_gnet_metadata(model, str(path), command)
    if metadata.get("input_type", defaults.FLOAT_INPUT) != defaults.FLOAT_INPUT:
        float_name = path.name.replace(defaults.FRAME_TAG, "", 1)
        raise UsageError(what, "it takes uint8 camera frames, and gnet's served model takes normalized float images",
                         f"serve the float graph it was made from ({float_name})" if float_name != path.name
                         else "serve a float-input graph (gnet export without --input-type)")
    inputs = {i.name: i for i in model.graph.input}
    outputs = {o.name: o for o in model.graph.output}
    if defaults.INPUT_NAME not in inputs or defaults.OUTPUT_NAME not in outputs:
        raise GnetError(what, f"it has no '{defaults.INPUT_NAME}' input and '{defaults.OUTPUT_NAME}' output, "
                        "so it is not a gnet export", EXPORT_REMEDY)
    dims, in_type = _tensor(inputs[defaults.INPUT_NAME])
    out_dims, out_type = _tensor(outputs[defaults.OUTPUT_NAME])
    if len(dims) != 4 or 0 in dims[1:] or len(out_dims) != 2 or out_dims[1] == 0 or in_type not in ("float32", "float16"):
        raise GnetError(what, f"its input is {in_type} {dims} and its output {out_dims}, not "
                        "[batch, 3, H, W] → [batch, classes] in float32 or float16", EXPORT_REMEDY)
    names = metadata.get("class_names") or []
    return Signature(dims[1], dims[2], dims[3], out_dims[1], in_type, out_type, metadata,
                     tuple(str(n) for n in names) if len(names) == out_dims[1] else ())


def copy_private(source: Path, dest: Path) -> None:
    """Copy ``source`` to ``dest``: never a hard link, which would let a later write, truncation, chmod or chown of
    the repository's file change the artifact (and the reverse). The copy is a new file with the umask's mode."""
    shutil.copyfile(source, dest)


@dataclass(frozen=True)
class ServedModel:
    """How the served model is configured (from ``gnet serve``'s options)."""

    onnx: Path
    signature: Signature
    max_batch: int = defaults.SERVE_MAX_BATCH
    instances: int = 1
    threads: int = 0  # ONNX Runtime intra-op threads per instance; 0: ORT's default
    queue_delay_us: int = defaults.MAX_QUEUE_DELAY_US
    preferred: tuple[int, ...] = ()
    start_token: str = ""

    def spec(self) -> ModelSpec:
        sig = self.signature
        return ModelSpec(name=defaults.MODEL_NAME, backend="python", max_batch=self.max_batch, dims=sig.dims,
                         classes=sig.classes, preferred=self.preferred, kind="KIND_CPU", instances=self.instances,
                         queue_delay_us=self.queue_delay_us,
                         parameters={backend_model.PARAM_ONNX_FILE: "model.onnx",
                                     backend_model.PARAM_THREADS: str(self.threads),
                                     START_TOKEN: self.start_token})

    def write_repository(self, folder: Path) -> Path:
        """Write the one-model repository into ``folder`` (which must not exist yet); returns ``folder``."""
        text = render(self.spec())
        model_dir = folder / defaults.MODEL_NAME
        (model_dir / "1").mkdir(parents=True)
        (model_dir / "config.pbtxt").write_text(text)
        (model_dir / "labels.txt").write_text("\n".join(self.signature.labels()) + "\n")
        source = resources.files("gnet.serve").joinpath("backend_model.py").read_text(encoding="utf-8")
        (model_dir / "1" / "model.py").write_text(source)
        copy_private(self.onnx, model_dir / "1" / "model.onnx")
        (model_dir / "gnet.json").write_text(json.dumps(self.signature.metadata, indent=2) + "\n")
        return folder
