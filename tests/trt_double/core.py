"""The double's TensorRT objects: builder, parser, config, engine, context, inspector.

Faithful where gnet's code can go wrong, simple elsewhere:
- the parser really parses the ONNX with ``onnx`` and reports a failing node by name
  (unsupported op, asymmetric quantization) through ``ParserError``;
- the builder refuses a dynamic input without an optimization profile, a profile that
  does not fit the ONNX, and a workspace below ``Behaviour.min_workspace_bytes``
  (returning None, as TensorRT does), and reads/extends the timing cache;
- a 10.x network created without the STRONGLY_TYPED bit is weakly typed: its FP16
  tensors run in FP32, the "asked for FP16, silently got FP32" case; 11.x ignores the flag;
- the plan is a header (profile, options, per-layer precisions, versions) plus the ONNX;
- the engine/context run that ONNX with ONNX Runtime on the CPU, reading and writing the
  fake device memory at the addresses given by ``set_tensor_address``, honouring
  ``set_input_shape`` and the profile bounds.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx

from tests.trt_double import fake_cuda
from tests.trt_double.network import ITensor, build_layers
from tests.trt_double.rtx import IRuntimeConfig, engine_validity
from tests.trt_double.strict import Strict

PLAN_MAGIC = b"GNET-TRT-DOUBLE-PLAN\n"
CACHE_MAGIC = b"GNET-TRT-DOUBLE-TIMING-CACHE\n"
SUPPORTED_OPS = {
    "Conv", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool", "Concat", "Gemm", "MatMul", "Add", "Mul", "Sub",
    "Div", "Flatten", "Reshape", "LRN", "Dropout", "Softmax", "QuantizeLinear", "DequantizeLinear", "Cast", "Identity",
    "Constant", "BatchNormalization", "Transpose", "Pad", "Clip", "Shape", "Gather", "Unsqueeze", "Squeeze", "Slice",
    "Sigmoid",
}
FUSED_AWAY = {"QuantizeLinear", "DequantizeLinear", "Constant", "Identity", "Dropout"}
FORMATS = {
    "FP32": "Row major linear FP32 format (kLINEAR)",
    "FP16": "Channel major FP16 format where channel % 8 == 0 (kHWC8)",
    "INT8": "Thirty-two wide channel vectorized row major Int8 format (kCHW32)",
    "INT32": "Row major linear INT32 format (kLINEAR)",
    "INT64": "Row major linear INT64 format (kLINEAR)",
}
LAYER_TYPES = {"Conv": ("CaskConvolution", "Convolution"), "Gemm": ("CaskGemmMatrixMultiply", "Gemm"),
               "MatMul": ("CaskGemmMatrixMultiply", "MatrixMultiply"), "Relu": ("PointWiseV2", "PointWise"),
               "MaxPool": ("CaskPooling", "Pooling"), "AveragePool": ("CaskPooling", "Pooling"),
               "GlobalAveragePool": ("CaskPooling", "Pooling"), "Concat": ("NoOp", "Concatenation"),
               "Flatten": ("Shuffle", "Shuffle"), "Reshape": ("Shuffle", "Shuffle"), "Cast": ("Cast", "Cast")}
_ELEM_TO_PREC = {onnx.TensorProto.FLOAT: "FP32", onnx.TensorProto.FLOAT16: "FP16", onnx.TensorProto.INT8: "INT8",
                 onnx.TensorProto.INT32: "INT32", onnx.TensorProto.INT64: "INT64"}
_PREC_TO_DT = {"FP32": "FLOAT", "FP16": "HALF", "INT8": "INT8", "INT32": "INT32", "INT64": "INT64"}
_PREC_TO_NAME = {"FP32": "Float", "FP16": "Half", "INT8": "Int8", "INT32": "Int32", "INT64": "Int64"}


@dataclass
class Behaviour:
    """Knobs tests turn to make the double misbehave the way real TensorRT can."""

    fail_build: bool = False
    min_workspace_bytes: int = 1 << 20
    force_conv_precision: str | None = None  # e.g. "FP32": a tactic fallback the proof must catch
    capture_fails: bool = False  # execute_async_v3 returns False while the stream is capturing
    builds: list[dict[str, Any]] = field(default_factory=list)  # headers of every plan built, for assertions
    validity: tuple[str, int] = ("VALID", 0)  # rtx: what Runtime.get_engine_validity answers for a plan
    cache_rejects: bool = False  # rtx: IRuntimeCache.deserialize refuses (another GPU, driver or version)


# The module sets these when it is made (see tests.trt_double.make_module).
class _Ctx:
    trt: Any = None
    behaviour: Behaviour = Behaviour()


def _trt() -> Any:
    return _Ctx.trt


class Dims(tuple, Strict):
    _TRT_CLASS = "Dims"

    def __repr__(self) -> str:
        return f"({', '.join(map(str, self))})"


# ----------------------------------------------------------------------------------------------
class Logger(Strict):
    _TRT_CLASS = "Logger"

    def __init__(self, min_severity: Any = None) -> None:
        self.min_severity = min_severity if min_severity is not None else _trt().Logger.WARNING
        self._messages: list[tuple[str, str]] = []

    def log(self, severity: Any, msg: str) -> None:
        self._messages.append((str(severity), msg))
        _trt()._log.append(msg)


class ILogger:
    """The logger interface users subclass (not strict: a subclass keeps its own attributes, as with pybind)."""

    def __init__(self) -> None:
        pass

    def log(self, severity: Any, msg: str) -> None:
        pass


class ParserError(Strict):
    _TRT_CLASS = "ParserError"

    def __init__(self, code: Any, node: int, node_name: str, node_operator: str, desc: str) -> None:
        self._code, self._node, self._name, self._op, self._desc = code, node, node_name, node_operator, desc

    def code(self) -> Any:
        return self._code

    def node(self) -> int:
        return self._node

    def node_name(self) -> str:
        return self._name

    def node_operator(self) -> str:
        return self._op

    def desc(self) -> str:
        return self._desc

    def __str__(self) -> str:
        return f"In node {self._node} with name: {self._name} and operator: {self._op} ({self._desc})"


def _value_shape(value: onnx.ValueInfoProto) -> tuple[int, ...]:
    return tuple(d.dim_value if d.HasField("dim_value") else -1 for d in value.type.tensor_type.shape.dim)


class INetworkDefinition(Strict):
    _TRT_CLASS = "INetworkDefinition"

    def __init__(self, flags: int, strongly_typed: bool) -> None:
        self._flags = flags
        self._strongly_typed = strongly_typed
        self._model: onnx.ModelProto | None = None
        self._parsed: tuple[list[Any], dict[str, ITensor]] | None = None

    def _network(self) -> tuple[list[Any], dict[str, ITensor]]:
        if self._parsed is None:
            self._parsed = build_layers(self._model) if self._model is not None else ([], {})
        return self._parsed

    @property
    def flags(self) -> int:
        return self._flags

    def _inputs(self) -> list[onnx.ValueInfoProto]:
        if self._model is None:
            return []
        inits = {t.name for t in self._model.graph.initializer}
        return [i for i in self._model.graph.input if i.name not in inits]

    @property
    def num_inputs(self) -> int:
        return len(self._inputs())

    def get_input(self, index: int) -> ITensor:
        return self._network()[1][self._inputs()[index].name]

    @property
    def num_outputs(self) -> int:
        return len(self._model.graph.output) if self._model is not None else 0

    def get_output(self, index: int) -> ITensor:
        return self._network()[1][self._model.graph.output[index].name]

    @property
    def num_layers(self) -> int:
        return len(self._network()[0])

    def get_layer(self, index: int) -> Any:
        return self._network()[0][index]


class OnnxParser(Strict):
    _TRT_CLASS = "OnnxParser"

    def __init__(self, network: INetworkDefinition, logger: Logger) -> None:
        self._network, self._logger = network, logger
        self._errors: list[ParserError] = []

    @property
    def num_errors(self) -> int:
        return len(self._errors)

    def get_error(self, index: int) -> ParserError:
        return self._errors[index]

    def clear_errors(self) -> None:
        self._errors.clear()

    def parse_from_file(self, model: str) -> bool:
        try:
            with open(model, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            self._fail(-1, "", "", f"cannot open {model}: {exc.strerror}", "MODEL_DESERIALIZE_FAILED")
            return False
        return self.parse(data)

    def _fail(self, node: int, name: str, op: str, desc: str, code: str = "UNSUPPORTED_NODE") -> None:
        self._errors.append(ParserError(getattr(_trt().ErrorCode, code), node, name, op, desc))
        self._logger.log(_trt().Logger.ERROR, desc)

    def parse(self, model: bytes, path: str | None = None) -> bool:
        try:
            proto = onnx.load_from_string(bytes(model))
        except Exception as exc:  # DecodeError
            self._fail(-1, "", "", f"Failed to parse ONNX model: {exc}", "MODEL_DESERIALIZE_FAILED")
            return False
        inits = {t.name: t for t in proto.graph.initializer}
        for i, node in enumerate(proto.graph.node):
            if node.domain not in ("", "ai.onnx") or node.op_type not in SUPPORTED_OPS:
                self._fail(i, node.name, node.op_type, f"No importer registered for op: {node.op_type}")
            elif node.op_type in ("QuantizeLinear", "DequantizeLinear") and len(node.input) > 2:
                zero = inits.get(node.input[2])
                if zero is not None and np.any(onnx.numpy_helper.to_array(zero) != 0):
                    self._fail(i, node.name, node.op_type, "TensorRT only supports symmetric quantization. "
                                                           "The zero point for the QuantizeLinear/DequantizeLinear operator must be all zeros.",
                               "INVALID_NODE")
        if self._errors:
            return False
        self._network._model = proto
        return True


class IOptimizationProfile(Strict):
    _TRT_CLASS = "IOptimizationProfile"

    def __init__(self) -> None:
        self._shapes: dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]] = {}
        self._valid = True

    def set_shape(self, input: str, min: Any, opt: Any, max: Any) -> None:  # noqa: A002 (TensorRT's names)
        shapes = tuple(tuple(int(d) for d in s) for s in (min, opt, max))
        lo, mid, hi = shapes
        if not (len(lo) == len(mid) == len(hi) and all(a <= b <= c for a, b, c in zip(lo, mid, hi))):
            self._valid = False  # TensorRT logs an error and marks the profile invalid
            _trt()._log.append(f"IOptimizationProfile::setDimensions: inconsistent min/opt/max for {input}")
            return
        self._shapes[input] = shapes  # type: ignore[assignment]

    def get_shape(self, input: str) -> list[Dims]:  # noqa: A002
        return [Dims(s) for s in self._shapes.get(input, ((), (), ()))]

    def __bool__(self) -> bool:
        return self._valid


class ITimingCache(Strict):
    _TRT_CLASS = "ITimingCache"

    def __init__(self, version: str, entries: dict[str, str] | None = None) -> None:
        self._version = version
        self._entries = dict(entries or {})

    def serialize(self) -> IHostMemory:
        body = json.dumps({"version": self._version, "entries": self._entries}, sort_keys=True).encode()
        return IHostMemory(CACHE_MAGIC + body)

    def combine(self, input_cache: ITimingCache, ignore_mismatch: bool) -> bool:
        if input_cache._version != self._version and not ignore_mismatch:
            return False
        self._entries.update(input_cache._entries)
        return True

    def reset(self) -> bool:
        self._entries.clear()
        return True


class IHostMemory(bytes, Strict):
    """Serialized data; supports the buffer protocol like the real IHostMemory."""

    _TRT_CLASS = "IHostMemory"

    @property
    def nbytes(self) -> int:
        return len(self)

    @property
    def dtype(self) -> Any:
        return _trt().DataType.UINT8


class IBuilderConfig(Strict):
    _TRT_CLASS = "IBuilderConfig"

    def __init__(self) -> None:
        t = _trt()
        self._pools: dict[Any, int] = {t.MemoryPoolType.WORKSPACE: 8 << 30}
        self._flags: set[Any] = set()
        self._profiles: list[IOptimizationProfile] = []
        self._cache: ITimingCache | None = None
        self._opt_level = 3
        self.profiling_verbosity = t.ProfilingVerbosity.LAYER_NAMES_ONLY
        self.hardware_compatibility_level = t.HardwareCompatibilityLevel.NONE
        self._targets: list[Any] = []  # TensorRT-RTX's compute capabilities (empty: its default list)

    @property
    def num_compute_capabilities(self) -> int:
        return len(self._targets)

    @num_compute_capabilities.setter
    def num_compute_capabilities(self, count: int) -> None:
        self._targets = [_trt().ComputeCapability.NONE] * int(count)

    def set_compute_capability(self, compute_capability: Any, index: int) -> bool:
        if not 0 <= int(index) < len(self._targets):
            return False
        self._targets[int(index)] = compute_capability
        return True

    def get_compute_capability(self, index: int) -> Any:
        return self._targets[int(index)]

    def set_memory_pool_limit(self, pool: Any, pool_size: int) -> None:
        self._pools[pool] = int(pool_size)

    def get_memory_pool_limit(self, pool: Any) -> int:
        return self._pools.get(pool, 0)

    @property
    def builder_optimization_level(self) -> int:
        return self._opt_level

    @builder_optimization_level.setter
    def builder_optimization_level(self, level: int) -> None:
        if not 0 <= int(level) <= 5:
            raise ValueError(f"builder_optimization_level must be 0..5, got {level}")
        self._opt_level = int(level)

    def set_flag(self, flag: Any) -> None:
        self._flags.add(flag)

    def clear_flag(self, flag: Any) -> None:
        self._flags.discard(flag)

    def get_flag(self, flag: Any) -> bool:
        return flag in self._flags

    def add_optimization_profile(self, profile: IOptimizationProfile) -> int:
        if not profile._valid or not profile._shapes:
            return -1
        self._profiles.append(profile)
        return len(self._profiles) - 1

    @property
    def num_optimization_profiles(self) -> int:
        return len(self._profiles)

    def create_timing_cache(self, serialized_timing_cache: bytes) -> ITimingCache | None:
        data = bytes(serialized_timing_cache)
        if not data:
            return ITimingCache(str(_trt().__version__))
        if not data.startswith(CACHE_MAGIC):
            _trt()._log.append("createTimingCache: corrupted timing cache")
            return None
        doc = json.loads(data[len(CACHE_MAGIC):])
        return ITimingCache(doc["version"], doc["entries"])

    def set_timing_cache(self, cache: ITimingCache, ignore_mismatch: bool) -> bool:
        if cache._version != str(_trt().__version__) and not ignore_mismatch:
            return False
        self._cache = cache
        return True

    def get_timing_cache(self) -> ITimingCache | None:
        return self._cache


# ----------------------------------------------------------------------------------------------
def _types(model: onnx.ModelProto) -> tuple[dict[str, int], dict[str, tuple[int, ...]]]:
    inferred = onnx.shape_inference.infer_shapes(model)
    types: dict[str, int] = {}
    shapes: dict[str, tuple[int, ...]] = {}
    for value in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output):
        types[value.name] = value.type.tensor_type.elem_type
        shapes[value.name] = _value_shape(value)
    for init in inferred.graph.initializer:
        types[init.name] = init.data_type
        shapes[init.name] = tuple(init.dims)
    return types, shapes


def _layers(model: onnx.ModelProto, strongly_typed: bool, force_conv: str | None) -> list[dict[str, Any]]:
    """One inspector layer per compute node, with the precision TensorRT would pick."""
    types, shapes = _types(model)
    producers = {out: node for node in model.graph.node for out in node.output}
    inits = {t.name for t in model.graph.initializer}
    constants = {out for node in model.graph.node if node.op_type == "Constant" for out in node.output}

    def precision(tensor: str) -> str:
        producer = producers.get(tensor)
        if producer is not None and producer.op_type == "DequantizeLinear":
            return "INT8"  # explicit quantization: the DQ fuses into its consumer, which runs in INT8
        found = _ELEM_TO_PREC.get(types.get(tensor, onnx.TensorProto.FLOAT), "FP32")
        if found == "FP16" and not strongly_typed:
            return "FP32"  # weak typing without a precision flag: FP16 tensors silently run in FP32
        return found

    layers = []
    for i, node in enumerate(model.graph.node):
        if node.op_type in FUSED_AWAY:
            continue
        acts = [t for t in node.input if t and t not in inits and t not in constants]
        in_prec = precision(acts[0]) if acts else "FP32"
        out_prec = precision(node.output[0])
        if node.op_type == "Conv" and force_conv:
            in_prec = out_prec = force_conv
        layer_type, param = LAYER_TYPES.get(node.op_type, (node.op_type, node.op_type))

        def tensor(name: str, prec: str) -> dict[str, Any]:
            return {"Name": name, "Location": "Device", "Dimensions": list(shapes.get(name, ())),
                    "Format/Datatype": FORMATS.get(prec, FORMATS["FP32"])}

        layers.append({
            "Name": node.name or f"{node.op_type}_{i}",
            "LayerType": layer_type,
            "Inputs": [tensor(t, in_prec) for t in acts[:1]],
            "Outputs": [tensor(node.output[0], out_prec)],
            "ParameterType": param,
            "TacticName": f"double_{layer_type.lower()}_{in_prec.lower()}",
            "StreamId": 0,
            "Metadata": f"[ONNX Layer: {node.name}]",
        })
    return layers


class Builder(Strict):
    _TRT_CLASS = "Builder"

    def __init__(self, logger: Logger) -> None:
        self._logger = logger

    def create_network(self, flags: int = 0) -> INetworkDefinition:
        t = _trt()
        strongly = t._layout == "11.x" or bool(int(flags) & (1 << int(t.NetworkDefinitionCreationFlag.STRONGLY_TYPED)))
        return INetworkDefinition(int(flags), strongly)

    def create_builder_config(self) -> IBuilderConfig:
        return IBuilderConfig()

    def create_optimization_profile(self) -> IOptimizationProfile:
        return IOptimizationProfile()

    def _error(self, msg: str) -> None:
        self._logger.log(_trt().Logger.ERROR, msg)

    def build_serialized_network(self, network: INetworkDefinition, config: IBuilderConfig) -> IHostMemory | None:
        t, behaviour = _trt(), _Ctx.behaviour
        model = network._model
        if model is None:
            self._error("Network must have at least one output")
            return None
        if behaviour.fail_build:
            self._error("Error Code 10: Internal Error (Could not find any implementation for node /conv1/Conv.)")
            return None
        if config.get_memory_pool_limit(t.MemoryPoolType.WORKSPACE) < behaviour.min_workspace_bytes:
            self._error("Error Code 4: Internal Error (insufficient workspace for any tactic)")
            return None
        inputs = network._inputs()
        profile_shapes: dict[str, list[list[int]]] = {}
        for value in inputs:
            dims = _value_shape(value)
            found = next((p._shapes[value.name] for p in config._profiles if value.name in p._shapes), None)
            if found is None:
                if any(d < 0 for d in dims):
                    self._error("Error Code 4: API Usage Error (Network has dynamic or shape inputs, "
                                "but no optimization profile has been defined.)")
                    return None
                found = (dims, dims, dims)
            for shape in found:
                if len(shape) != len(dims) or any(d >= 0 and d != s for d, s in zip(dims, shape)):
                    self._error(f"Error Code 4: API Usage Error (profile shape {list(shape)} does not fit input "
                                f"{value.name} {list(dims)})")
                    return None
            profile_shapes[value.name] = [list(s) for s in found]

        layers = _layers(model, network._strongly_typed, behaviour.force_conv_precision)
        hits = misses = 0
        if config._cache is not None:
            opt = {k: v[1] for k, v in profile_shapes.items()}
            for layer in layers:
                key = f"{layer['LayerType']}|{layer['Name']}|{layer['Inputs'][0]['Format/Datatype'] if layer['Inputs'] else ''}|{opt}"
                if key in config._cache._entries:
                    hits += 1
                else:
                    misses += 1
                    config._cache._entries[key] = layer["TacticName"]
        types, _ = _types(model)
        io = []
        for value in inputs:
            io.append({"name": value.name, "mode": "INPUT", "shape": list(_value_shape(value)),
                       "dtype": _PREC_TO_DT[_ELEM_TO_PREC[types[value.name]]]})
        for value in model.graph.output:
            io.append({"name": value.name, "mode": "OUTPUT", "shape": list(_value_shape(value)),
                       "dtype": _PREC_TO_DT[_ELEM_TO_PREC[types[value.name]]]})
        header = {
            "trt_version": str(t.__version__),
            "strongly_typed": network._strongly_typed,
            "network_flags": network._flags,
            "profiles": profile_shapes,
            "io": io,
            "layers": layers,
            "builder_flags": sorted(str(f) for f in config._flags),
            "version_compatible": t.BuilderFlag.VERSION_COMPATIBLE in config._flags,
            "opt_level": config._opt_level,
            "workspace": config.get_memory_pool_limit(t.MemoryPoolType.WORKSPACE),
            "hardware_compatibility_level": str(config.hardware_compatibility_level),
            "profiling_verbosity": str(config.profiling_verbosity),
            "compute_capabilities": [str(c) for c in config._targets],
            "timing_cache_hits": hits,
            "timing_cache_misses": misses,
        }
        behaviour.builds.append(header)
        head = json.dumps(header).encode()
        return IHostMemory(PLAN_MAGIC + struct.pack("<Q", len(head)) + head + model.SerializeToString())


# ----------------------------------------------------------------------------------------------
class Runtime(Strict):
    _TRT_CLASS = "Runtime"

    def __init__(self, logger: Logger) -> None:
        self._logger = logger
        self.engine_host_code_allowed = False

    def get_engine_validity(self, buffer: Any) -> tuple[Any, int]:
        return engine_validity(bytes(memoryview(buffer)), PLAN_MAGIC)

    def deserialize_cuda_engine(self, serialized_engine: Any) -> ICudaEngine | None:
        t = _trt()
        data = bytes(memoryview(serialized_engine))
        if not data.startswith(PLAN_MAGIC):
            self._logger.log(t.Logger.ERROR, "Error Code 1: Serialization (Serialization assertion magicTagRead == kMAGIC_TAG failed.)")
            return None
        (size,) = struct.unpack("<Q", data[len(PLAN_MAGIC): len(PLAN_MAGIC) + 8])
        start = len(PLAN_MAGIC) + 8
        header = json.loads(data[start: start + size])
        if header["trt_version"] != str(t.__version__):
            same_major = header["trt_version"].split(".")[0] == str(t.__version__).split(".")[0]
            if not (header["version_compatible"] and same_major):
                self._logger.log(t.Logger.ERROR, "Error Code 6: API Usage Error (The engine plan file is not "
                                 "compatible with this version of TensorRT)")
                return None
        if header["version_compatible"] and not self.engine_host_code_allowed:
            self._logger.log(t.Logger.ERROR, "Error Code 1: version-compatible plans need engine_host_code_allowed")
            return None
        return ICudaEngine(header, data[start + size:])


class ICudaEngine(Strict):
    _TRT_CLASS = "ICudaEngine"

    def __init__(self, header: dict[str, Any], onnx_bytes: bytes) -> None:
        self._header, self._onnx = header, onnx_bytes
        self._io = {t["name"]: t for t in header["io"]}
        self._session: Any = None

    def _ort(self) -> Any:
        if self._session is None:
            from gnet.checks.ort import cpu_session

            self._session = cpu_session(self._onnx, threads=1)
        return self._session

    @property
    def num_io_tensors(self) -> int:
        return len(self._header["io"])

    def get_tensor_name(self, index: int) -> str:
        return self._header["io"][index]["name"]

    def get_tensor_mode(self, name: str) -> Any:
        t = _trt()
        io = self._io.get(name)
        return t.TensorIOMode.NONE if io is None else getattr(t.TensorIOMode, io["mode"])

    def get_tensor_dtype(self, name: str) -> Any:
        return getattr(_trt().DataType, self._io[name]["dtype"])

    def get_tensor_shape(self, name: str) -> Dims:
        return Dims(self._io[name]["shape"])

    def get_tensor_profile_shape(self, name: str, profile_index: int) -> list[Dims]:
        if profile_index != 0 or self._io[name]["mode"] != "INPUT":
            raise RuntimeError("get_tensor_profile_shape is for inputs of an existing profile")
        return [Dims(s) for s in self._header["profiles"][name]]

    @property
    def num_optimization_profiles(self) -> int:
        return 1

    @property
    def num_layers(self) -> int:
        return len(self._header["layers"])

    @property
    def device_memory_size_v2(self) -> int:
        return 1 << 20

    @property
    def hardware_compatibility_level(self) -> Any:
        t = _trt()
        return next(v for v in t.HardwareCompatibilityLevel if str(v) == self._header["hardware_compatibility_level"])

    @property
    def profiling_verbosity(self) -> Any:
        t = _trt()
        return next(v for v in t.ProfilingVerbosity if str(v) == self._header["profiling_verbosity"])

    def create_execution_context(self, strategy: Any = None) -> IExecutionContext:
        context = IExecutionContext(self)
        if isinstance(strategy, IRuntimeConfig):  # TensorRT-RTX's second overload
            context._runtime_config = strategy
        return context

    def create_runtime_config(self) -> IRuntimeConfig:
        return IRuntimeConfig()

    def create_engine_inspector(self) -> EngineInspector:
        return EngineInspector(self)

    def serialize(self) -> IHostMemory:
        head = json.dumps(self._header).encode()
        return IHostMemory(PLAN_MAGIC + struct.pack("<Q", len(head)) + head + self._onnx)


class EngineInspector(Strict):
    _TRT_CLASS = "EngineInspector"

    def __init__(self, engine: ICudaEngine) -> None:
        self._engine = engine
        self.execution_context = None

    def _detailed(self) -> bool:
        return self._engine._header["profiling_verbosity"] == str(_trt().ProfilingVerbosity.DETAILED)

    def get_layer_information(self, layer_index: int, format: Any) -> str:  # noqa: A002
        entry = self._engine._header["layers"][layer_index]
        if not self._detailed():
            return json.dumps(entry["Name"]) if format == _trt().LayerInformationFormat.JSON else entry["Name"]
        return json.dumps(entry) if format == _trt().LayerInformationFormat.JSON else str(entry)

    def get_engine_information(self, format: Any) -> str:  # noqa: A002
        t = _trt()
        header = self._engine._header
        layers = header["layers"] if self._detailed() else [entry["Name"] for entry in header["layers"]]
        if format != t.LayerInformationFormat.JSON:
            return "\n".join(str(layer) for layer in layers)
        doc: dict[str, Any] = {"Layers": layers}
        if t._layout == "11.x":
            doc["I/O Tensors"] = [{
                "Name": io["name"], "IOMode": io["mode"].title(), "DataType": _PREC_TO_NAME[
                    next(k for k, v in _PREC_TO_DT.items() if v == io["dtype"])],
                "Dimensions": io["shape"], "Location": "Device", "IsShapeInferenceIO": False,
                "ProfileInfo": ([{"MinShape": s[0], "OptShape": s[1], "MaxShape": s[2], "Format": FORMATS["FP32"]}
                                 for s in [header["profiles"][io["name"]]]] if io["mode"] == "INPUT" else []),
            } for io in header["io"]]
        else:
            doc["Bindings"] = [io["name"] for io in header["io"]]
        return json.dumps(doc)


_NP = {"FLOAT": np.float32, "HALF": np.float16, "INT8": np.int8, "INT32": np.int32, "INT64": np.int64}


class IExecutionContext(Strict):
    _TRT_CLASS = "IExecutionContext"

    def __init__(self, engine: ICudaEngine) -> None:
        self._engine = engine
        self._shapes: dict[str, tuple[int, ...]] = {}
        self._addresses: dict[str, int] = {}
        self._enqueues = 0
        self._runtime_config: IRuntimeConfig | None = None

    def _error(self, msg: str) -> None:
        _trt()._log.append(msg)

    def set_input_shape(self, name: str, shape: Any) -> bool:
        io = self._engine._io.get(name)
        shape = tuple(int(d) for d in shape)
        if io is None or io["mode"] != "INPUT":
            self._error(f"setInputShape: {name} is not an input tensor")
            return False
        lo, _, hi = self._engine._header["profiles"][name]
        if len(shape) != len(lo) or any(not a <= s <= b for a, s, b in zip(lo, shape, hi)):
            self._error(f"IExecutionContext::setInputShape: Error Code 3: API Usage Error (Parameter check failed, "
                        f"condition: {list(shape)} within [{lo}, {hi}])")
            return False
        self._shapes[name] = shape
        return True

    def _batch(self) -> int | None:
        inputs = [n for n, io in self._engine._io.items() if io["mode"] == "INPUT"]
        return self._shapes[inputs[0]][0] if inputs and inputs[0] in self._shapes else None

    def get_tensor_shape(self, name: str) -> Dims:
        io = self._engine._io[name]
        if io["mode"] == "INPUT":
            return Dims(self._shapes.get(name, io["shape"]))
        batch = self._batch()
        return Dims(tuple(batch if d < 0 and batch is not None else d for d in io["shape"]))

    def set_tensor_address(self, name: str, memory: int) -> bool:
        if name not in self._engine._io:
            self._error(f"setTensorAddress: {name} is not an I/O tensor")
            return False
        self._addresses[name] = int(memory)
        return True

    def get_tensor_address(self, name: str) -> int:
        return self._addresses.get(name, 0)

    @property
    def all_binding_shapes_specified(self) -> bool:
        return all(n in self._shapes for n, io in self._engine._io.items() if io["mode"] == "INPUT")

    def infer_shapes(self) -> list[str]:
        return [n for n, io in self._engine._io.items() if io["mode"] == "INPUT" and n not in self._shapes]

    @property
    def active_optimization_profile(self) -> int:
        return 0

    def set_optimization_profile_async(self, profile_index: int, stream_handle: int) -> bool:
        return profile_index == 0

    def execute_async_v3(self, stream_handle: int) -> bool:
        found = fake_cuda.lookup_stream(stream_handle)
        if found is None:
            self._error("enqueueV3: invalid stream handle")
            return False
        device, stream = found
        if stream.capture is not None and _Ctx.behaviour.capture_fails:
            self._error("enqueueV3: this engine is not capturable")
            return False
        missing = [n for n in self._engine._io if n not in self._addresses] + self.infer_shapes()
        if missing:
            self._error(f"enqueueV3: Error Code 3: API Usage Error (address or shape not set for {missing})")
            return False
        plan = []
        for name, io in self._engine._io.items():
            shape = tuple(self.get_tensor_shape(name))
            dtype = np.dtype(_NP[io["dtype"]])
            plan.append((name, io["mode"], shape, dtype, self._addresses[name]))
        session = self._engine._ort()
        self._enqueues += 1
        if self._runtime_config is not None:
            self._runtime_config._compiled({p[0]: list(p[2]) for p in plan if p[1] == "INPUT"})

        inputs = [p for p in plan if p[1] == "INPUT"]
        outputs = [p for p in plan if p[1] == "OUTPUT"]

        def run() -> None:  # reads the device memory when the stream gets here, not at enqueue time
            feeds = {name: np.frombuffer(device.read(ptr, int(np.prod(shape)) * dt.itemsize).tobytes(), dt).reshape(shape)
                     for name, _mode, shape, dt, ptr in inputs}
            values = session.run([p[0] for p in outputs], feeds)
            for (name, _mode, shape, dt, ptr), value in zip(outputs, values, strict=True):
                if tuple(value.shape) != shape:
                    raise fake_cuda.FakeCudaError(f"double: {name} came out {value.shape}, context said {shape}")
                device.write(ptr, np.ascontiguousarray(value, dtype=dt))

        device.enqueue(stream, run)
        return True
