"""``ort-cpu:tuned``'s candidates: each way of spreading a batch over the cores, and ORT's own defaults.

Which layout wins depends on the CPU, the image size and the precision, so ``ort-cpu:tuned`` times
them where the benchmark runs (:func:`gnet.bench.runners.autotune.fastest_layout`).
"""

from __future__ import annotations

from gnet.bench.runners.ort_options import DEFAULT, OrtTuning

UNTUNED = "ONNX Runtime's default options"


def layouts(base: OrtTuning, cores: int) -> dict[str, OrtTuning]:
    """The configurations ``ort-cpu:tuned`` chooses from: ``base`` with each way of spreading a batch over
    the cores (which is fastest depends on the CPU, the image size and the precision), and ORT's own
    defaults, so the tuned row never settles for something it measured slower than doing nothing
    (see :func:`gnet.bench.runners.autotune.fastest_layout`)."""
    spreads = {
        f"{cores} intra-op threads": {"workers": 1, "sub_batch": 0},
        f"{cores} intra-op threads, chunks of 16": {"workers": 1, "sub_batch": 16},
        f"{cores} intra-op threads, chunks of 32": {"workers": 1, "sub_batch": 32},
        f"{cores} workers": {"workers": cores, "sub_batch": 0},
        f"{cores} workers, chunks of 16": {"workers": cores, "sub_batch": 16},
    }
    found = {name: base.replace(**spread) for name, spread in spreads.items()}
    found[UNTUNED] = DEFAULT.replace(threads=base.threads)
    return found
