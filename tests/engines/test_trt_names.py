"""gnet's TensorRT code uses only names present in both 10.x and 11.x (and, on the path both editions share,
in TensorRT-RTX too), and the double enforces exactly that."""

from __future__ import annotations

import ast
import re

import pytest

from tests.helpers.paths import REPO_ROOT
from tests.trt_double import make_module
from tests.trt_double.strict import DATA_CENTRE_NAMES, RTX_NAMES, allowed_names, removed_names

ENGINES = REPO_ROOT / "engines"
RTX_ONLY = {"rtx_runtime.py", "rtx_targets.py"}
"""Modules reached only for TensorRT-RTX (a manifest's runtime "tensorrt-rtx", --compute-capability)."""
# Gone in 10.0 already (TRT_API.md, "Already absent in 10.0"); the 11.x removals come from the list file.
GONE_IN_10 = ["execute_async_v2", "execute_async", "num_bindings", "get_binding_shape", "get_binding_dtype",
              "get_binding_index", "get_binding_name", "binding_is_input", "set_binding_shape", "max_batch_size",
              "build_engine", "max_workspace_size"]


def _removed_members() -> set[str]:
    members = {name.split(".", 1)[1] for name in removed_names() if "." in name}
    still_bound = {m for names in allowed_names()[1].values() for m in names}
    # "precision" (ILayer.precision) is also the name of gnet's own fields; engines/ never touches an ILayer.
    return (members - still_bound - {"precision"}) | set(GONE_IN_10)


@pytest.mark.parametrize("layout", ["10.x", "11.x"])
def test_removed_names_raise_attribute_error(layout: str):
    trt = make_module(layout)
    for expr in ("trt.BuilderFlag.FP16", "trt.BuilderFlag.INT8", "trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH",
                 "trt.IInt8EntropyCalibrator2", "trt.QuantizationFlag", "trt.Builder(trt.Logger()).platform_has_fast_fp16",
                 "trt.Builder(trt.Logger()).create_builder_config().int8_calibrator",
                 "trt.Builder(trt.Logger()).create_builder_config().max_workspace_size"):
        with pytest.raises(AttributeError, match="not a TensorRT name present in both"):
            eval(expr, {"trt": trt})
    for dotted in removed_names():
        cls, _, member = dotted.partition(".")
        if not member:
            with pytest.raises(AttributeError):
                getattr(trt, cls)
        elif cls in {"BuilderFlag", "NetworkDefinitionCreationFlag", "TacticSource"} and hasattr(trt, cls):
            with pytest.raises(AttributeError):
                getattr(getattr(trt, cls), member)


def test_strongly_typed_value_differs_between_layouts():
    assert int(make_module("10.x").NetworkDefinitionCreationFlag.STRONGLY_TYPED) == 1
    assert int(make_module("11.x").NetworkDefinitionCreationFlag.STRONGLY_TYPED) == 0


def test_engines_source_touches_no_removed_tensorrt_name():
    removed = _removed_members()
    offenders = []
    for path in sorted(ENGINES.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in removed:
                offenders.append(f"{path.name}:{node.lineno} .{node.attr}")
    assert offenders == []
    text = "\n".join(p.read_text() for p in ENGINES.glob("*.py"))
    assert not re.search(r"^\s*from cuda import cudart\b", text, re.MULTILINE)  # removed in cuda-bindings 13.0
    assert "1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)" in text
    assert "hardware_compatibility_level" not in (ENGINES / "rtx_runtime.py").read_text()


def _trt_names_used(path) -> set[str]:
    """``X`` and ``X.Y`` for every ``trt.X`` / ``trt.X.Y`` in a module."""
    used = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "trt":
            used.add(node.attr)
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
                and isinstance(node.value.value, ast.Name) and node.value.value.id == "trt"):
            used.add(f"{node.value.attr}.{node.attr}")
    return used


def _unknown(used: set[str], list_file: str) -> list[str]:
    top, members = allowed_names(list_file)
    return sorted(u for u in used if ("." in u and u.split(".")[1] not in members.get(u.split(".")[0], ()))
                  or ("." not in u and u not in top))


def test_every_tensorrt_attribute_the_shared_engines_code_uses_is_in_every_edition():
    """``trt.X`` / ``trt.X.Y`` in engines/ (but the TensorRT-RTX-only modules) are in names_all_both.txt (or
    documented extras) and in tensorrt_rtx's names."""
    used = set().union(*(_trt_names_used(p) for p in sorted(ENGINES.glob("*.py")) if p.name not in RTX_ONLY))
    assert _unknown(used, DATA_CENTRE_NAMES) == []
    assert _unknown(used, RTX_NAMES) == []
    assert {"NetworkDefinitionCreationFlag.STRONGLY_TYPED", "ProfilingVerbosity.DETAILED", "ILogger",
            "MemoryPoolType.WORKSPACE", "LayerInformationFormat.JSON", "TensorIOMode.INPUT", "LayerType.CONVOLUTION",
            "IConvolutionLayer", "IDequantizeLayer"} <= used


def test_the_tensorrt_rtx_only_modules_use_only_tensorrt_rtx_names():
    used = set().union(*(_trt_names_used(ENGINES / name) for name in RTX_ONLY))
    assert _unknown(used, RTX_NAMES) == []
    assert {"EngineInvalidityDiagnostics", "CudaGraphStrategy.WHOLE_GRAPH_CAPTURE", "ComputeCapability"} <= used
    assert "ComputeCapability" in _unknown(used, DATA_CENTRE_NAMES)  # the reason they are kept apart


def test_the_network_proof_reads_only_members_both_editions_have():
    """Every attribute network_proof.py reads that is a TensorRT member name (ILayer.get_input, ITensor.dtype,
    IConvolutionLayer.kernel, IDequantizeLayer.axis, ...) exists in data-centre TensorRT and in TensorRT-RTX."""
    tree = ast.parse((ENGINES / "network_proof.py").read_text())
    own = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    own |= {t.target.id for t in ast.walk(tree) if isinstance(t, ast.AnnAssign) and isinstance(t.target, ast.Name)}
    builtin = set(dir(list)) | set(dir(dict)) | set(dir(str)) | set(dir(tuple))
    read = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} - own - builtin
    editions = [allowed_names(DATA_CENTRE_NAMES)[1], allowed_names(RTX_NAMES)[1]]
    anywhere = set().union(*(m for members in editions for m in members.values()))
    trt_members = read & anywhere
    for members in editions:
        missing = sorted(n for n in trt_members if not any(n in m for m in members.values()))
        assert missing == []
    assert {"get_layer", "num_layers", "get_input", "get_output", "num_outputs", "dtype", "kernel",
            "num_output_maps"} <= trt_members  # "axis" is also a field of gnet's own Dequantized, so not counted
