"""Issue 19: no function in app/ over 100 lines, at most three over 80 (AST only, no imports of app)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    # tools/ is not a package: load the same check the CLI runs, so the two cannot drift apart
    spec = importlib.util.spec_from_file_location("function_lengths", ROOT / "tools" / "function_lengths.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_function_in_app_is_too_long():
    rows = _tool().lengths(ROOT)
    assert len(rows) > 500, "the walk found too few functions: is it reading app/?"
    over_100 = [where for length, where in rows if length > 100]
    over_80 = [f"{length} {where}" for length, where in rows if length > 80]
    assert not over_100, f"functions over 100 lines: {over_100}"
    assert len(over_80) <= 3, f"more than three functions over 80 lines: {over_80}"


def test_the_check_counts_def_to_last_line(tmp_path):
    # a synthetic tree: one 101-line function must be caught, a decorator is not counted
    body = "\n".join(f"    x{i} = {i}" for i in range(99))
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "m.py").write_text(f"@staticmethod\ndef long():\n{body}\n    return 0\n", "utf-8")
    assert _tool().lengths(tmp_path) == [(101, "app/m.py:2 long")]
