"""Timeline benchmark: open a child with N events (build + first paint), then zoom + repaint.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_timeline.py [--events 2000] [--repeat 5]

Uses the fictional SAMPLE child padded with receipts (nothing is written to disk). Reports
medians in milliseconds. Target (issue 7): open well under 500 ms; zoom without rebuilding
items (the script checks that no lane item is created while zooming).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from app.views.application import make_application
    from app.views.timeline.sample import sample_timeline_data
    from app.views.timeline_view import TimelineView

    app = make_application()
    data = sample_timeline_data(args.events)
    view = TimelineView(None)
    view.resize(1400, 900)
    view.show()
    app.processEvents()

    opens, model_times = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        view.set_data(data)
        t1 = time.perf_counter()
        view.plot.repaint()
        view.grab()   # forces a full paint of every item
        t2 = time.perf_counter()
        opens.append((t2 - t0) * 1000)
        model_times.append((t1 - t0) * 1000)

    items_before = list(view.plot._items)
    lo, hi = view.model.day_range()
    zooms = []
    spans = [hi - lo, 365, 183, 31, 7, 1.5, 31, 365, hi - lo]
    for _ in range(args.repeat):
        for span in spans:
            centre = (lo + hi) / 2
            t0 = time.perf_counter()
            view.plot.set_day_range(centre - span / 2, centre + span / 2)
            view.plot.viewport().repaint()   # synchronous repaint, as after a wheel step
            zooms.append((time.perf_counter() - t0) * 1000)
    rebuilt = view.plot._items != items_before

    n = len(data.events)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"events: {n}; load average while measuring: {load:.1f} on {os.cpu_count()} cores")
    print(f"open (model + items + first paint): median {statistics.median(opens):.0f} ms "
          f"(min {min(opens):.0f}, max {max(opens):.0f}); of which set_data {statistics.median(model_times):.0f} ms")
    print(f"zoom + repaint (day .. whole life): median {statistics.median(zooms):.1f} ms "
          f"(max {max(zooms):.1f}) over {len(zooms)} zooms")
    print(f"items rebuilt while zooming: {'YES' if rebuilt else 'no'}")
    return 0 if not rebuilt else 1


if __name__ == "__main__":
    sys.exit(main())
