"""The README and docs as a newcomer meets them: the README fits on a few screens with the quick start first, and
no repository path cited in the README, the docs or a docstring is stale."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers.paths import REPO_ROOT

CITED = re.compile(r"(?<![\w/.$~:-])((?:export|precision|checks|openvino_ir|engines|bench|serve|gnet|tests|tools|docs|\.ci)/[\w/.-]*?"
                   r"\.(?:py|md|sh|schema\.json))\b")
"""A repository file cited by path (a source module, a test, a doc, a schema); artifacts and user paths in
examples (``artifacts/…``, ``engines/int8.plan``) are not repository files."""
OTHER_REPOSITORIES = {"docs/introduction/compatibility.md"}
"""Paths in another repository that gnet's text cites by name (Triton's compatibility table)."""


def _texts() -> dict[str, str]:
    files = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
    for folder in ("export", "precision", "checks", "openvino_ir", "engines", "bench", "serve", "gnet", "tests", "tools"):
        files += sorted((REPO_ROOT / folder).rglob("*.py"))
    return {str(f.relative_to(REPO_ROOT)): f.read_text(encoding="utf-8") for f in files if f != Path(__file__)}


def stale_paths(texts: dict[str, str], root: Path = REPO_ROOT) -> list[str]:
    """``file: path`` for every cited repository path that does not exist under ``root``."""
    stale = []
    for name, text in texts.items():
        for match in CITED.finditer(text):
            if match.group(1) not in OTHER_REPOSITORIES and not (root / match.group(1)).exists():
                stale.append(f"{name}: {match.group(1)}")
    return stale


def test_no_cited_repository_path_is_stale():
    assert stale_paths(_texts()) == []


def test_the_stale_path_check_can_fail(tmp_path: Path):
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "here.py").write_text("")
    texts = {"README.md": "see `export/here.py` and `export/gone.py`, not https://x.org/docs/a.md or artifacts/x.onnx"}
    assert stale_paths(texts, tmp_path) == ["README.md: export/gone.py"]


def test_the_readme_is_a_front_page():
    lines = (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200
    quick = next(i for i, line in enumerate(lines) if line.startswith("## Quick start"))
    assert quick < 40 and any("make bench" in line for line in lines[quick:quick + 8])
    assert "gnet.export_model(" in "\n".join(lines) and "gnet.benchmark(" in "\n".join(lines)
