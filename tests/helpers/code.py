"""gnet's own modules, read as source: what the layout and glossary tests walk."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers.paths import REPO_ROOT

STAGES = {"gnet": "gnet", "export": "gnet.export", "precision": "gnet.precision", "checks": "gnet.checks",
          "openvino_ir": "gnet.openvino_ir", "engines": "gnet.engines", "bench": "gnet.bench", "serve": "gnet.serve"}
"""Each repository folder that installs, and the import name it installs as (pyproject.toml's package-dir)."""


def package_modules() -> dict[str, Path]:
    """Every installed module's import name and file."""
    found: dict[str, Path] = {}
    for folder, package in STAGES.items():
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            parts = [p for p in path.relative_to(REPO_ROOT / folder).with_suffix("").parts if p != "__init__"]
            found[".".join([package, *parts])] = path
    return found


def defined_names(path: Path) -> set[str]:
    """The classes, functions, parameters and assigned names a module defines."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
    return names


def defined_classes(path: Path) -> set[str]:
    return {n.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ClassDef)}
