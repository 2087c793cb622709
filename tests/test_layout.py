"""The shape of the code: no import cycle among gnet's modules, small modules and functions.

The cycle check counts every import (module level, inside functions, and ``TYPE_CHECKING`` blocks):
an import hidden inside a function is still a dependency, and hiding a cycle there is how the
command modules once reached back into the command line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.code import package_modules
from tests.helpers.paths import REPO_ROOT

MAX_FUNCTION_LINES = 60


def gnet_imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The gnet modules ``path`` imports, wherever the import statement sits."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gnet"):
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names if alias.name.startswith("gnet"))
    return {name for name in out if name in known}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_among_gnet_modules():
    modules = package_modules()
    assert "gnet.cli.app" in modules and "gnet.bench.runners.base" in modules
    graph = {name: gnet_imports(path, modules) for name, path in modules.items()}
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"a"}}) == [["a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("folder", ["gnet", "export", "precision", "checks", "openvino_ir", "engines", "bench", "serve", "tools"])
def test_functions_stay_small(folder: str):
    """Functions, not modules: a module with one job may be long (a cap on modules split them into fragments)."""
    too_long = []
    for path in sorted((REPO_ROOT / folder).rglob("*.py")):
        text = path.read_text()
        name = path.relative_to(REPO_ROOT)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}:{node.lineno} {node.name}() {length} lines")
    assert too_long == []


def test_tests_and_tools_are_not_installed():
    import gnet

    installed = Path(gnet.__file__).resolve().parent
    assert not (installed / "tests").exists()
    import tomllib

    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert not [p for p in config["packages"] if "tests" in p or "tools" in p]
    assert "gnet.tests" not in config["package-dir"]
