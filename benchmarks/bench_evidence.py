"""Evidence-pane benchmark (issue 15): the time from "this child is selected" to the evidence
the pane shows — ``app.store.queries.worklist.child_evidence`` for one child, as the worker calls
it — on an encrypted store of N generated children, scored with the active rule sets.

    python -m app bench --only evidence --sizes 13913 --json out.json

Rows named ``evidence``: ``seconds`` is the median, ``median_ms`` / ``p95_ms`` / ``max_ms`` over
``CHILDREN`` children (the first 20 of the manager's list, where evidence is richest, and random
others), each call on a warm connection as in the running application. Targets: < 150 ms at
13,913 children, < 300 ms at 200,000.

The store is built in a temporary folder deleted afterwards (generate → import → score), or an
existing store is measured when ``MIMAMORI_BENCH_EVIDENCE_DB`` names one (with
``MIMAMORI_BENCH_EVIDENCE_USER`` / ``MIMAMORI_BENCH_PASSWORD`` of a cg_manager account) — a
200,000-child build takes about ten minutes.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZED = True
CHILDREN = 60


def _build(folder: Path, size: int, password: str) -> Path:
    from app.engine.synth import generate_delivery
    from app.store.accounts import add_user
    from app.store.importing import import_delivery
    from app.store.opening import create_store
    from app.store.scoring_runs import run_active_rulesets

    generate_delivery(folder / "delivery", children=size)
    admin = create_store(folder / "bench.db", "bench", password, check_policy=False)
    try:
        import_delivery(admin, folder / "delivery")
        run_active_rulesets(admin)
        add_user(admin, "bench_manager", "cg_manager", password)
    finally:
        admin.close()
    return folder / "bench.db"


def measure(db: Path, user: str, password: str, size: int | None) -> list[dict]:
    from benchmarks.run_all import peak_rss_mb, row

    from app.store.opening import open_store
    from app.store.queries.worklist import child_evidence, worklist_data

    session = open_store(db, user, password)
    try:
        data = worklist_data(session)
        ordered = data.frame.sort_values("rank")["person_id"].astype(str).tolist()
        rng = np.random.default_rng(0)
        others = rng.choice(ordered[20:], size=min(CHILDREN - 20, max(len(ordered) - 20, 0)), replace=False)
        sample = ordered[:20] + [str(p) for p in others]
        child_evidence(session, sample[0], run_id=data.run_id)  # warm the connection's page cache once
        times, rows_seen = [], 0
        for pid in sample:
            t = time.perf_counter()
            ev = child_evidence(session, pid, run_id=data.run_id)
            times.append((time.perf_counter() - t) * 1000)
            rows_seen += len(ev.rows)
    finally:
        session.close()
    median, p95 = statistics.median(times), float(np.percentile(times, 95))
    return [row("evidence", size, median / 1000, peak_rss_mb(),
                f"child_evidence median {median:.0f} ms, p95 {p95:.0f} ms over {len(times)} children "
                f"({rows_seen / len(times):.1f} evidence rows each)",
                median_ms=round(median, 1), p95_ms=round(p95, 1), max_ms=round(max(times), 1),
                children=len(times))]


def _measure_apart(db: Path, user: str, password: str, size: int | None) -> list[dict]:
    """Measure in a fresh process, as the running application would: the process that just
    imported and scored a city holds gigabytes of garbage that slows every allocation."""
    env = dict(os.environ, MIMAMORI_BENCH_PASSWORD=password)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")])
    res = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--measure", str(db), user, str(size or 0)],
                         capture_output=True, text=True, env=env, check=False)
    for line in reversed(res.stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError(f"evidence measurement failed: {(res.stderr or res.stdout).strip().splitlines()[-1:]}")


def run(size: int | None, quick: bool) -> list[dict]:
    existing = os.environ.get("MIMAMORI_BENCH_EVIDENCE_DB")
    if existing:
        return _measure_apart(Path(existing), os.environ.get("MIMAMORI_BENCH_EVIDENCE_USER", "manager"),
                              os.environ["MIMAMORI_BENCH_PASSWORD"], size)
    size = 300 if quick else (size or 13913)
    password = "b3-" + secrets.token_urlsafe(18)   # letters, digits and a symbol: meets the policy
    with tempfile.TemporaryDirectory(prefix="mimamori-bench-evidence-") as tmp:
        db = _build(Path(tmp), size, password)
        return _measure_apart(db, "bench_manager", password, size)


MARK = "@@EVIDENCE@@"

if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        got = measure(Path(sys.argv[2]), sys.argv[3], os.environ["MIMAMORI_BENCH_PASSWORD"], int(sys.argv[4]) or None)
        print(MARK + json.dumps(got, ensure_ascii=False, default=str), flush=True)
    else:
        for r in run(int(sys.argv[1]) if len(sys.argv) > 1 else 13913, False):
            print(r)
