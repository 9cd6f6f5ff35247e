"""``python -m app bench``: run the benchmark suite (benchmarks/run_all.py) and print its table.

Benchmarks run on generated data in temporary folders that are deleted afterwards; the encrypted
bench store and the synthetic extracts never outlive the run. They live in the source checkout,
not in the frozen program (which ships no benchmark code nor recordlinkage).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from app.commands.errors import CommandError


def _runner_path() -> Path:
    return Path(__file__).resolve().parent.parent.parent / "benchmarks" / "run_all.py"


def _load_runner():
    path = _runner_path()
    if getattr(sys, "frozen", False) or not path.exists():
        raise CommandError("ベンチマークはソースのチェックアウトから実行します（benchmarks/run_all.py が見つかりません）")
    spec = importlib.util.spec_from_file_location("benchmarks.run_all", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("benchmarks.run_all", module)
    spec.loader.exec_module(module)
    return module


def register(sub) -> None:
    p = sub.add_parser("bench", help="measure generation, import, scoring, store, linkage and GUI speed")
    p.add_argument("--sizes", default="13913,200000", help="children for the sized benchmarks")
    p.add_argument("--quick", action="store_true", help="tiny sizes (about a minute): a smoke run")
    p.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    p.add_argument("--only", help="comma-separated suites (pipeline, bench_store, bench_gui, …)")
    p.add_argument("--markdown", type=Path, help="also write the run as a Markdown section to this file")
    p.set_defaults(func=run)


def run(args) -> int:
    runner = _load_runner()
    try:
        return runner.main_with(args)
    except SystemExit as exc:  # the runner's argument errors
        raise CommandError(str(exc)) from None
