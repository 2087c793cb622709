"""--ort-ablation: the configurations it times (the default, one option at a time, tuned, tuned minus each)."""

from gnet.bench.ablation import configurations


def test_configurations_cover_each_option_both_ways():
    names = [name for name, _ in configurations(2, None)]
    assert names[0] == "default" and "tuned" in names
    assert any(n.startswith("tuned − workers") for n in names) and any(n.startswith("+ I/O binding") for n in names)
    assert dict(configurations(2, None))["default"] is None
