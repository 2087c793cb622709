"""The terminal table: parity failures red, noisy rows marked, the best CPU path and what did not run."""

from __future__ import annotations

import copy
import io

from rich.console import Console

from gnet.bench.report_table import render, results_table
from gnet.system import vector_extensions


def test_table_marks_parity_failures_red_and_noisy_rows(doc: dict):
    bad = copy.deepcopy(doc)
    row = bad["rows"][-1]
    row["parity"].update(passed=False, violations=["top-1 agreement 50.0% < 99%"])
    row["cv_warning"], row["latency_ms"]["cv"] = True, 0.08
    table = results_table(bad)
    assert table.rows[-1].style == "red" and all(r.style is None for r in table.rows[:-1])
    out = io.StringIO()
    Console(file=out, width=250).print(render(bad))
    text = out.getvalue()
    assert "random (seed 1)" in text and "FAIL" in text and "⚠" in text and "top-1 agreement 50.0%" in text
    assert "best CPU path at batch 2" in text and "not run here" in text and "TensorRT" in text
    assert f"({vector_extensions()}, " in text  # every figure names the CPU's vector extensions
    assert "best of each other runtime" in text and "— deploy " in text


def test_accuracy_of_weights_trained_at_another_size_says_so(doc: dict):
    shown = copy.deepcopy(doc)
    for row in shown["rows"]:
        row["parity"]["accuracy"] = 0.159
    out = io.StringIO()
    Console(file=out, width=250).print(render(shown))
    assert set(accuracy_cells(shown)) == {"15.9%"} and "acc n/a" not in out.getvalue()
    shown["weights"]["trained_image_size"] = shown["image_size"] // 2
    out = io.StringIO()
    Console(file=out, width=250).print(render(shown))
    text = out.getvalue()
    assert set(accuracy_cells(shown)) == {"n/a"} and f"trained at {shown['image_size'] // 2} px" in text


def accuracy_cells(doc: dict) -> list[str]:
    """The accuracy column's cells (its text could appear elsewhere by chance, e.g. as a CV)."""
    return [str(cell) for cell in next(c for c in results_table(doc).columns if c.header == "acc").cells]


def test_the_reference_row_says_ref_unless_its_own_logits_fail(doc: dict):
    def verdicts(shown: dict) -> list[str]:
        return [str(cell) for cell in results_table(shown).columns[-1].cells]

    shown = copy.deepcopy(doc)
    marked = [i for i, r in enumerate(shown["rows"]) if r["parity"].get("is_reference")]
    assert len(marked) == 1
    assert "ref" in verdicts(shown)[marked[0]] and all("ref" not in v for i, v in enumerate(verdicts(shown))
                                                         if i != marked[0])
    shown["rows"][marked[0]]["parity"].update(passed=False, violations=["2 logits are NaN or infinite"])
    assert "FAIL" in verdicts(shown)[marked[0]]  # non-finite reference logits fail, never "ref"
