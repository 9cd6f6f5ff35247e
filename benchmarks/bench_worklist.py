"""Working-list benchmark: filter and sort latency at 200,000 rows, engine alone and through
the Qt table model (reset + first paint of the visible rows).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_worklist.py [--rows 200000] [--repeat 5]

Uses the fictional results frame of ``app/views/list/sample.py`` (kept in memory, nothing is
written to disk). Reports medians in milliseconds. Target (issue 6): under 100 ms per change.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from app.engine import worklist as w
    from app.views.list.sample import sample_results

    t = time.perf_counter()
    frame = sample_results(args.rows)
    print(f"rows: {len(frame):,}  (sample frame built in {(time.perf_counter() - t):.1f} s)")
    t = time.perf_counter()
    index = w.SearchIndex(frame)
    for col in ("town", "reasons", "age_months", "score", "followup_date"):
        index.sort_key(col)
    print(f"search index + sort keys (once per load): {(time.perf_counter() - t) * 1000:.0f} ms")

    filters = {
        "working list (抽出, not followed, 至急 always)": w.default_filter(),
        "district + age band": w.WorklistFilter(districts=("追浜",), age_min=12, age_max=23),
        "any of two rules": w.WorklistFilter(any_rules=("epds", "night_visit")),
        "follow-up state + move-in": w.WorklistFilter(statuses=("連絡済み",), moved_in_only=True),
        "free text in reasons (EPDS)": w.WorklistFilter(text="EPDS"),
        "free text, two words": w.WorklistFilter(text="予防接種 体重"),
        "everything combined": w.WorklistFilter(districts=("追浜", "浦賀"), age_max=35, any_rules=("growth",),
                                                not_followed_only=True, text="健診"),
    }
    print("\nengine (filter + sort by need), median ms:")
    for name, spec in filters.items():
        ms = _median_ms(lambda: w.displayed_rows(frame, spec, index), args.repeat)
        print(f"  {name:42s} {ms:7.1f}")
    fresh = w.SearchIndex(frame)
    print("\nfirst sort by a column (its full order computed once, then cached), ms:")
    for col in ("town", "reasons", "age_months", "score", "followup_date"):
        t = time.perf_counter()
        fresh.order(col, True)
        print(f"  {col:16s} {(time.perf_counter() - t) * 1000:7.1f}")
    rows = np.arange(len(frame))
    print("\nengine sort of all rows (cached order), median ms:")
    for col in ("town", "reasons", "age_months", "score", "followup_date"):
        for asc in (True, False):
            ms = _median_ms(lambda: w.sort_rows(rows, index, col, asc), args.repeat)
            print(f"  {col:16s} {'asc' if asc else 'desc':4s} {ms:7.1f}")
    t = time.perf_counter()
    w.group_households(frame)
    print(f"\nhousehold grouping (once per switch): {(time.perf_counter() - t) * 1000:.0f} ms")

    # Through Qt: model reset + a repaint of the visible rows, as the user sees a change.
    from PySide6.QtWidgets import QApplication

    from app.models.child_table_model import ChildTableModel, ColumnSpec, RuleInfo
    from app.views.list.results_table import ResultsTable
    from app.views.list.sample import SAMPLE_RULES

    app = QApplication.instance() or QApplication([])
    model = ChildTableModel()
    cols = [ColumnSpec(k, k, kind) for k, kind in (
        ("rank", "int"), ("score", "score"), ("pseudonym", "text"), ("person_id", "text"), ("district", "text"),
        ("town", "text"), ("age_months", "months"), ("flags", "flags"), ("followup_status", "text"),
        ("status_since", "text"), ("moved_in_recent", "bool"), ("stale_sources", "text"), ("reasons", "text"))]
    rules = [RuleInfo(k, v[0], w.flag_short(k, v[0]), v[2], v[3]) for k, v in SAMPLE_RULES.items()]
    t = time.perf_counter()
    model.set_frame(frame, cols, rules)
    print(f"\nmodel load (set_frame incl. index): {(time.perf_counter() - t) * 1000:.0f} ms")
    view = ResultsTable(model)
    view.resize(1200, 800)
    view.show()
    app.processEvents()

    def through_qt(action):
        def run():
            action()
            view.viewport().repaint()
        return run

    print("\nthrough the Qt model (reset + repaint), median ms:")
    for name, spec in filters.items():
        ms = _median_ms(through_qt(lambda: model.set_filter(spec)), args.repeat)
        print(f"  filter: {name:42s} {ms:7.1f}")
    model.set_filter(w.WorklistFilter())
    for key in ("town", "reasons", "score", "age_months"):
        col = model.column_of(key)
        ms = _median_ms(through_qt(lambda: model.sort(col)), args.repeat)
        print(f"  sort all {len(frame):,} rows by {key:10s} {ms:7.1f}")


if __name__ == "__main__":
    main()
