"""Function lengths in app/ (issue 19: none over 100 lines, at most three over 80).

    python tools/function_lengths.py [--over 60]

Prints the count, the median and every function longer than ``--over`` lines (def to last line,
decorators excluded); exits 1 when a function is over 100 lines or more than three are over 80.
"""

from __future__ import annotations

import argparse
import ast
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lengths(root: Path = ROOT) -> list[tuple[int, str]]:
    rows = []
    for path in sorted((root / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                rows.append((node.end_lineno - node.lineno + 1, f"{path.relative_to(root)}:{node.lineno} {node.name}"))
    return sorted(rows, reverse=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--over", type=int, default=80)
    args = parser.parse_args(argv)
    rows = lengths()
    n = [length for length, _ in rows]
    print(f"{len(n)} functions, median {statistics.median(n)} lines, "
          f"{sum(x > 100 for x in n)} over 100, {sum(x > 80 for x in n)} over 80")
    for length, where in rows:
        if length > args.over:
            print(f"{length:5d}  {where}")
    return 1 if sum(x > 100 for x in n) or sum(x > 80 for x in n) > 3 else 0


if __name__ == "__main__":
    sys.exit(main())
