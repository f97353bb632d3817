"""Imports point one way: dashboard → pipelines → geo (checked on the import statements of every source file)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"geo": ("pipelines", "dashboard"), "pipelines": ("dashboard",)}


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_upward_imports(package):
    upward = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN[package]
    ]
    assert upward == []


def test_only_the_store_and_the_repositories_write_sql_in_pipelines():
    """Outside pipelines/store/ and the incident family's repositories no pipelines module runs SQL."""
    family = ("repository.py", "recent.py", "open311_reads.py")  # incidents; recent_incidents; Open311's reads
    allowed = {ROOT / "pipelines" / "incidents" / name for name in family}
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "pipelines").rglob("*.py"))
        if "store" not in path.relative_to(ROOT / "pipelines").parts[:1]
        and path not in allowed
        and ".execute(" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
