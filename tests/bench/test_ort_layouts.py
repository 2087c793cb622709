"""The layouts ort-cpu:tuned chooses from, ORT's own defaults among them."""

from __future__ import annotations

from gnet.bench.runners.ort_options import UNTUNED


def test_tuned_chooses_among_batch_spreads_and_ort_defaults():
    from gnet.bench.runners.ort_options import DEFAULT, layouts, tuned

    base = tuned(2)
    found = layouts(base, 2)
    assert found[UNTUNED] == DEFAULT.replace(threads=2)  # doing nothing is always a candidate
    spreads = {(t.workers, t.sub_batch) for name, t in found.items() if name != UNTUNED}
    assert spreads == {(1, 0), (1, 16), (1, 32), (2, 0), (2, 16)}
    assert all(t.replace(workers=base.workers, sub_batch=base.sub_batch) == base
               for name, t in found.items() if name != UNTUNED)  # the other options stay as tuned() set them
