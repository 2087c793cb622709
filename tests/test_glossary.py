"""One meaning per word (docs/design.md, Glossary), checked on the names of gnet's modules, classes, functions,
parameters and attributes. Each rule is a function of (module, names) so that a test can show it fail."""

from __future__ import annotations

import re

from tests.helpers.code import defined_classes, defined_names, package_modules

BACKEND_HOMES = ("gnet.bench", "gnet.cli.bench", "gnet.serve")
"""A backend is a family of gnet-bench rows; in ``gnet.serve`` it is Triton's word (its python backend, the
``backend`` field of a model config, ``--backend-directory``), kept where Triton's own files are meant."""
VARIANT_HOMES = ("gnet.bench", "gnet.cli.bench", "gnet.runners")
"""A variant is a bench backend's configuration (one row); an artifact's fp32/int8-cpu is its kind."""
RUNTIME_MODULES = {"gnet.openvino_ir.runtime": "the OpenVINO runtime", "gnet.engines.rtx_runtime": "TensorRT-RTX"}
"""Modules named for a runtime: each wraps exactly one library."""


def _home(module: str, homes: tuple[str, ...]) -> bool:
    return any(module == h or module.startswith(h + ".") for h in homes)


def backend_misuses(module: str, names: set[str]) -> list[str]:
    if _home(module, BACKEND_HOMES):
        return []
    return sorted(f"{module}: {n}" for n in names | {module.rsplit(".", 1)[-1]} if "backend" in n.lower())


def variant_misuses(module: str, names: set[str]) -> list[str]:
    if _home(module, VARIANT_HOMES):
        return []
    return sorted(f"{module}: {n}" for n in names if "variant" in n.lower())


def runtime_module_misuses(module: str) -> list[str]:
    """A module named ``runtime``/``runtimes`` or ``*_runtime`` must wrap one runtime (a library), never run plans
    of either edition (that is ``engine_runner``) or list the editions (that is ``editions``)."""
    leaf = module.rsplit(".", 1)[-1]
    return [module] if re.search(r"runtimes?$", leaf) and module not in RUNTIME_MODULES else []


def test_each_glossary_word_keeps_one_meaning():
    found: list[str] = []
    for module, path in package_modules().items():
        names = defined_names(path)
        found += backend_misuses(module, names) + variant_misuses(module, names) + runtime_module_misuses(module)
    assert found == []


def test_one_availability_type_and_parity_types_in_checks():
    classes = {m: defined_classes(p) for m, p in package_modules().items()}
    assert [m for m, c in classes.items() if "Availability" in c] == ["gnet.availability"]
    parity = {m for m, c in classes.items() if any(n.startswith("Parity") for n in c)}
    assert parity and all(m.startswith("gnet.checks.") for m in parity)
    assert not [m for m, c in classes.items() if any(n.endswith("Backend") for n in c)]


def test_the_glossary_rules_can_fail():
    assert backend_misuses("gnet.engines.cuda_binding", {"CudaBackend"}) == ["gnet.engines.cuda_binding: CudaBackend"]
    assert backend_misuses("gnet.bench.runners.base", {"backend"}) == []
    assert variant_misuses("gnet.export.api", {"artifact_variant"}) == ["gnet.export.api: artifact_variant"]
    assert runtime_module_misuses("gnet.engines.runtime") == ["gnet.engines.runtime"]
    assert runtime_module_misuses("gnet.engines.runtimes") == ["gnet.engines.runtimes"]
    assert runtime_module_misuses("gnet.openvino_ir.runtime") == []
