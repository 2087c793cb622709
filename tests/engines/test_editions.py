"""The table of what differs between data-centre TensorRT and TensorRT-RTX, and the refusals it drives."""

from __future__ import annotations

import pytest

from gnet import defaults
from gnet.engines.build_inputs import BuildOptions
from gnet.engines.editions import RUNTIMES, TENSORRT, TENSORRT_RTX, refuse_options, spec_for
from gnet.errors import UsageError


def test_the_table_covers_every_runtime_name_and_plan_suffix():
    assert set(RUNTIMES) | {"auto"} == set(defaults.RUNTIMES) and set(RUNTIMES) == set(defaults.PLAN_SUFFIXES)
    assert TENSORRT.plan_suffix == ".plan" and TENSORRT_RTX.plan_suffix == ".rtx.plan"
    assert defaults.plan_name("int8", "tensorrt-rtx") == "googlenet_int8.rtx.plan"
    assert TENSORRT.build_needs_gpu and not TENSORRT_RTX.build_needs_gpu
    assert TENSORRT.inspector_proof and not TENSORRT_RTX.inspector_proof and TENSORRT_RTX.rtx
    for spec in RUNTIMES.values():  # every option one edition lacks has its reason
        other = set().union(*(s.options for s in RUNTIMES.values())) - spec.options
        assert other <= set(spec.why_not), spec.name
    with pytest.raises(UsageError, match="unknown runtime 'trt'"):
        spec_for("trt")


@pytest.mark.parametrize("options, spec, flag", [
    ({"hardware_compat": "same-cc"}, TENSORRT_RTX, "--hardware-compat"),
    ({"version_compatible": True}, TENSORRT_RTX, "--version-compatible"),
    ({"timing_cache": "t.cache"}, TENSORRT_RTX, "--timing-cache"),
    ({"compute_capabilities": "sm86"}, TENSORRT, "--compute-capability"),
])
def test_an_option_the_edition_lacks_is_refused_not_ignored(options: dict, spec, flag: str):
    chosen = BuildOptions(**options)
    with pytest.raises(UsageError) as err:
        chosen.check_runtime(spec)
    assert err.value.what == f"{flag} cannot be used with {spec.label} (--runtime {spec.name})"
    assert err.value.why == spec.why_not[list(options)[0]]
    other = TENSORRT if spec is TENSORRT_RTX else TENSORRT_RTX
    chosen.check_runtime(other)  # the other edition has it


def test_defaults_and_the_shared_options_are_never_refused():
    for spec in RUNTIMES.values():
        BuildOptions(workspace_mib=64, opt_level=5, allow_mixed=True, use_timing_cache=False).check_runtime(spec)
        refuse_options(spec, [])
