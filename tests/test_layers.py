"""Layer rules import-linter cannot see (the import contracts are in pyproject.toml, run by .ci/run)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _conn_uses(path: Path) -> list[str]:
    return [f"{path.name}:{node.lineno}" for node in ast.walk(ast.parse(path.read_text("utf-8")))
            if isinstance(node, ast.Attribute) and node.attr == "conn"
            and not (isinstance(node.value, ast.Name) and node.value.id == "self")]  # an object's own


def test_views_and_models_never_reach_the_raw_connection(tmp_path):
    """They pass the session to store functions; only the store touches ``session.conn``."""
    found = []
    for package in ("views", "models"):
        for path in sorted((ROOT / "app" / package).rglob("*.py")):
            found += _conn_uses(path)
    assert found == []
    probe = tmp_path / "probe.py"
    probe.write_text("x = session.conn\ny = self.session.conn\n", "utf-8")
    assert len(_conn_uses(probe)) == 2  # the check itself can fail
