"""What a tuned row keeps: the fastest candidate, or the runtime's defaults unless beaten by the margin."""

from __future__ import annotations

from gnet.bench.runners.autotune import keep


def test_without_a_margin_the_fastest_is_kept():
    assert keep({"defaults": 100.0, "a": 101.0, "b": 99.0}) == "a"
    assert keep({"defaults": 100.0, "a": 101.0}, "defaults") == "a"


def test_with_a_margin_the_defaults_stay_unless_clearly_beaten():
    measured = {"defaults": 100.0, "a": 104.9, "b": 90.0}
    assert keep(measured, "defaults", 0.05) == "defaults"  # 4.9% is noise here
    assert keep({**measured, "a": 105.0}, "defaults", 0.05) == "a"
    assert keep({"defaults": 100.0, "a": 80.0}, "defaults", 0.05) == "defaults"
