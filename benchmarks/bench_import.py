"""Benchmark: import + link of a generated delivery into a fresh encrypted store.

    python benchmarks/bench_import.py --children 13913
    python benchmarks/bench_import.py --children 200000

Generates the synthetic municipality into a temporary folder (removed afterwards), imports it
through ``app.store.importing.import_delivery`` (reading, linkage, events, one transaction),
and prints wall time per phase, peak memory (ru_maxrss of this process) and the pairwise
precision/recall of the research IDs against the generator's truth/records.csv.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def pairwise(idmap: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Pairwise precision/recall of research IDs over records present in both tables.

    Records waiting in review (empty research_id) count as unlinked singletons.
    """
    m = idmap.merge(truth, on=["file", "line"])

    def pairs(groups) -> int:
        n = groups.size()
        return int((n * (n - 1) // 2).sum())

    linked = m[m["research_id"] != ""]
    tp = pairs(linked.groupby(["research_id", "true_person_id"]))
    predicted = pairs(linked.groupby("research_id"))
    true = pairs(m.groupby("true_person_id"))
    return {"records": len(m), "in_review": int((m["research_id"] == "").sum()),
            "precision": tp / predicted if predicted else 1.0, "recall": tp / true if true else 1.0,
            "pairs_true": true, "pairs_predicted": predicted}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=13913)
    parser.add_argument("--seed", type=int, default=20240401)
    parser.add_argument("--folder", type=Path, help="use an existing delivery instead of generating")
    args = parser.parse_args()

    from app.engine.progress import Progress
    from app.store.importing import import_delivery
    from app.store.opening import create_store

    with tempfile.TemporaryDirectory(prefix="mimamori-bench-") as tmp:
        tmp = Path(tmp)
        folder = args.folder
        if folder is None:
            from app.engine.synth import generate_delivery

            t0 = time.perf_counter()
            folder = tmp / "delivery"
            generate_delivery(folder, children=args.children, seed=args.seed)
            print(f"generate {args.children} children: {time.perf_counter() - t0:.1f} s")
        session = create_store(tmp / "bench.db", "admin", "bench-pass-1234")
        phases: list[tuple[float, str]] = []
        progress = Progress(lambda f, m: phases.append((time.perf_counter(), m)))
        t0 = time.perf_counter()
        summary = import_delivery(session, folder, progress=progress)
        total = time.perf_counter() - t0
        marks = {}
        for t, m in phases:
            marks.setdefault(m, t)
        read_done = marks.get("読み込み完了", t0)
        write_start = marks.get("データベースに書き込んでいます", t0)
        # Events are built inside the write, a chunk at a time (app/engine/ingest/linked.py).
        print(f"import+link: {total:.1f} s (read {read_done - t0:.1f} s, link+persons "
              f"{write_start - read_done:.1f} s, events+write {t0 + total - write_start:.1f} s)")
        print(f"persons {summary.persons}, events {summary.events}, review {summary.review}, "
              f"duplicates {summary.duplicates}, quarantined {summary.quarantined}, "
              f"reconciled {summary.reconciled()}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (ru_maxrss, includes generation): {peak:.0f} MB")
        truth_path = folder / "truth" / "records.csv"
        if truth_path.exists():
            cur = session.conn.execute("SELECT file, line, research_id FROM idmap")
            idmap = pd.DataFrame(cur.fetchall(), columns=["file", "line", "research_id"])
            truth = pd.read_csv(truth_path, dtype={"file": str, "true_person_id": str})
            res = pairwise(idmap, truth)
            print(f"pairwise precision {res['precision']:.5f}, recall {res['recall']:.5f} over "
                  f"{res['records']} records ({res['in_review']} waiting in review)")
        session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
