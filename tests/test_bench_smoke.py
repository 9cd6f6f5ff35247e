"""Smoke run of the benchmark suite on tiny sizes: it runs end to end, reports every suite,
writes JSON in the common row layout and leaves no files behind. Never judged on speed."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import run_all  # noqa: E402

STATUSES = {"ok", "not available", "skipped", "failed", "timeout"}


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """``python -m app bench --quick --json OUT`` with every temporary file under one folder."""
    base = tmp_path_factory.mktemp("bench")
    scratch = base / "tmp"
    scratch.mkdir()
    out = base / "bench.json"
    env = dict(os.environ, TMPDIR=str(scratch), QT_QPA_PLATFORM="offscreen")
    res = subprocess.run([sys.executable, "-m", "app", "bench", "--quick", "--json", str(out)],
                         cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=600)
    return res, json.loads(out.read_text("utf-8")) if out.exists() else None, scratch


def test_quick_run_completes_and_prints_the_table(quick_run):
    res, result, _ = quick_run
    assert res.returncode == 0, res.stderr[-2000:]
    assert "| suite | measurement | size | time | peak MB | note |" in res.stdout
    assert result is not None
    assert result["quick"] is True and result["sizes"] == [run_all.QUICK_SIZE]


def test_every_suite_is_reported_with_a_known_status(quick_run):
    _, result, _ = quick_run
    reported = [s["suite"] for s in result["suites"]]
    assert reported == run_all.SUITES
    for suite in result["suites"]:
        assert suite["status"] in STATUSES, suite
    for r in result["rows"]:
        assert {"suite", "name", "size", "seconds", "peak_mb", "note"} <= set(r), r
        if r.get("status", "ok") != "ok":
            assert r["seconds"] is None and r["note"], r  # explained, never a made-up figure


def test_our_own_suites_measure_something(quick_run):
    _, result, _ = quick_run
    status = {s["suite"]: s["status"] for s in result["suites"]}
    for suite in ("pipeline", "bench_store", "bench_linkage_reference", "bench_gui"):
        assert status[suite] == "ok", (suite, [r for r in result["rows"] if r["suite"] == suite])
    rows = {(r["suite"], r["name"]): r for r in result["rows"]}
    for stage in ("generate", "import+link", "score", "list after login"):
        r = rows[("pipeline", stage)]
        assert r["seconds"] > 0 and r["size"] == run_all.QUICK_SIZE and r["peak_mb"] > 0
    shown = [r["note"] for r in result["rows"] if r["suite"] == "pipeline" and r["name"] == "list after login"]
    assert len(shown) == 2 and all(" rows shown" in n for n in shown)  # the manager's and the nurse's
    ratios = [r["ratio"] for r in result["rows"] if r["suite"] == "bench_store" and r.get("ratio") is not None]
    assert len(ratios) >= 4 and all(math.isfinite(x) and x > 0 for x in ratios)
    link = [r for r in result["rows"] if r["suite"] == "bench_linkage_reference"]
    assert len(link) == 2
    measured = link if importlib.util.find_spec("recordlinkage") else link[:1]
    if len(measured) == 1:  # the reference is an optional extra (pip install -e ".[bench]")
        assert link[1]["status"] == "not available" and "recordlinkage" in link[1]["note"]
    for r in measured:
        assert 0.0 <= r["precision"] <= 1.0 and 0.0 <= r["recall"] <= 1.0 and r["seconds"] > 0
    # The generated records link almost perfectly; a broken evaluation would show up here.
    assert link[0]["recall"] > 0.9
    gui = rows[("bench_gui", "cold start to login dialog (source, median)")]
    assert gui["seconds"] > 0


def test_no_files_are_left_behind(quick_run):
    """Synthetic extracts and bench stores live only in temporary folders that are deleted."""
    _, _, scratch = quick_run
    assert list(scratch.iterdir()) == []


def test_table_formats_missing_figures_as_dashes():
    table = run_all.format_table([run_all.row("x", None, None, None, "not available", suite="s"),
                                  run_all.row("y", 13913, 0.00002, 12.0, "", suite="s")])
    lines = table.splitlines()
    assert lines[2] == "| s | x | — | — | — | not available |"
    assert lines[3] == "| s | y | 13,913 | 20 µs | 12 |  |"
