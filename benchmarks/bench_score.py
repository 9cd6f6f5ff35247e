"""Scoring benchmark: evaluate the rule sets over the frames of a generated city.

    python benchmarks/bench_score.py [--sizes 13913,200000] [--quick]

The base city (up to 13,913 children) goes through the real engine path: the generator writes
the extracts into a temporary folder (deleted at the end: synthetic data counts as person data),
``read_delivery`` + ``process_delivery`` link them and build the events frame. Larger sizes
repeat the base city with fresh ids (persons, households, mothers, events), so 200,000
children have the same mix of events. Timed: ``app.engine.scoring.evaluate`` per rule set,
without and with the held-out validation; wall and CPU seconds (``os.getloadavg`` is printed:
on a loaded machine the wall time measures the queue). Targets (issue 5): 13,913 < 2 s,
200,000 < 30 s.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZED = True
BASE = 13913
AS_OF = "2025-03-31"


def base_frames(children: int):
    """persons, events, relations of a generated city, through the engine's import path."""
    from app.engine.ingest.delivery import read_delivery
    from app.engine.ingest.linked import process_delivery
    from app.engine.pseudonyms import Keyer
    from app.engine.synth import generate_delivery

    with tempfile.TemporaryDirectory(prefix="mimamori-bench-score-") as tmp:
        generate_delivery(Path(tmp) / "d", children=children)
        processed = process_delivery(read_delivery(Path(tmp) / "d"), Keyer(b"bench-score-key-0123456789abcdef"),
                                     rng=np.random.default_rng(0))
    events = processed.events.copy()
    events.insert(0, "event_id", np.arange(1, len(events) + 1, dtype=np.int64))
    return processed.persons, events, processed.relations


def tile(persons, events, relations, copies: int):
    """The same city ``copies`` times with distinct ids (suffix per copy)."""
    if copies <= 1:
        return persons, events, relations

    def rep(frame, id_cols):
        parts = []
        for k in range(copies):
            f = frame.copy()
            for c in id_cols:
                s = f[c].fillna("").astype(str)
                f[c] = np.where(s != "", s + f"-{k}", "")
            parts.append(f)
        return pd.concat(parts, ignore_index=True)

    p = rep(persons, ["person_id", "household_id", "mother_id"])
    e = rep(events, ["person_id", "household_id"])
    e["event_id"] = np.arange(1, len(e) + 1, dtype=np.int64)
    r = rep(relations, ["person_id", "related_id"])
    return p, e, r


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(size: int | None, quick: bool) -> list[dict]:
    from app.engine.rules import shipped_ruleset
    from app.engine.scoring import evaluate

    size = size or BASE
    base = 300 if quick else min(size, BASE)
    t = time.perf_counter()
    p, e, r = base_frames(base)
    prep = time.perf_counter() - t
    copies = max(1, round(size / base)) if not quick else 1
    p, e, r = tile(p, e, r, copies)
    rows = []
    for name, validate in (("report_2023", False), ("improved", False), ("postpartum", False), ("improved", True)):
        rs = shipped_ruleset(name)
        t, c = time.perf_counter(), time.process_time()
        res = evaluate(p, e, r, rs, AS_OF, validate=validate)
        sec, cpu = time.perf_counter() - t, time.process_time() - c
        # CPU seconds next to wall time: on a shared machine the wall time mostly measures the queue
        rows.append({"name": f"score {name}" + (" +validation" if validate else ""), "size": int(res.matrix.shape[0]),
                     "seconds": round(sec, 3), "cpu_seconds": round(cpu, 3), "peak_mb": round(peak_mb(), 1),
                     "note": f"{len(e):,} events, {len(rs.flag_rules)} rules, {len(res.evidence):,} evidence rows"
                             f" (base city {base:,} × {copies}; building it took {prep:.1f} s)"})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="13913,200000")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    import os
    print(f"load average before: {os.getloadavg()}")
    for size in [int(s) for s in args.sizes.split(",")]:
        for row in run(size, args.quick):
            print(f"{row['name']:32s} {row['size']:>8,} children {row['seconds']:8.2f} s wall"
                  f" {row['cpu_seconds']:8.2f} s cpu"
                  f" peak {row['peak_mb']:8.0f} MB  {row['note']}")


if __name__ == "__main__":
    main()
