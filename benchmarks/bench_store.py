"""SQLCipher (the store's own connection settings) against plain sqlite3, in one run.

The same rows (an events-like table: person_id, date, type, subtype, value_num, value_text),
the same bulk insert in one transaction, the same index and the same indexed queries, on both
engines one after the other; the ratios come from this one run. Files live in a temporary folder
deleted at the end.

    python benchmarks/bench_store.py [ROWS]      (default 2,000,000; --quick in the suite: 20,000)
"""

from __future__ import annotations

import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run_all import peak_rss_mb, row  # noqa: E402

FULL_ROWS = 2_000_000
QUICK_ROWS = 20_000
QUERIES = 2_000
# Same pragmas as app.store.database.connect, minus the key ones, for the plain side.
PLAIN_PRAGMAS = ("PRAGMA temp_store = MEMORY", "PRAGMA journal_mode = DELETE", "PRAGMA secure_delete = ON",
                 "PRAGMA cache_size = -262144")
TYPES = np.array(["checkup", "vaccination", "receipt", "diagnosis", "height", "weight", "epds", "consultation"])


def make_rows(n: int, seed: int = 1) -> tuple[list[tuple], np.ndarray]:
    """n events-like rows over n/40 people (about 40 events each) and the person ids."""
    rng = np.random.default_rng(seed)
    people = np.char.add("1", np.char.zfill(np.arange(max(n // 40, 1)).astype(str), 6))
    pid = people[rng.integers(0, len(people), n)]
    day = rng.integers(0, 2400, n).astype("timedelta64[D]") + np.datetime64("2018-04-01")
    rows = list(zip(pid.tolist(), day.astype(str).tolist(), TYPES[rng.integers(0, len(TYPES), n)].tolist(),
                    rng.integers(0, 50, n).astype(str).tolist(), rng.normal(50, 20, n).round(2).tolist(),
                    np.where(rng.random(n) < 0.5, "attended", "missed").tolist()))
    return rows, people


def measure(conn, rows: list[tuple], people: np.ndarray) -> dict:
    """Insert, index and query on an open connection (autocommit mode); seconds per step."""
    out = {}
    conn.execute("CREATE TABLE events (event_id INTEGER PRIMARY KEY, person_id TEXT, date TEXT, type TEXT,"
                 " subtype TEXT, value_num REAL, value_text TEXT)")
    t = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO events (person_id, date, type, subtype, value_num, value_text)"
                     " VALUES (?,?,?,?,?,?)", rows)
    conn.execute("COMMIT")
    out["insert"] = time.perf_counter() - t
    t = time.perf_counter()
    conn.execute("CREATE INDEX events_person ON events(person_id, date)")
    out["index"] = time.perf_counter() - t
    rng = np.random.default_rng(2)
    picks = people[rng.integers(0, len(people), QUERIES)].tolist()
    times = []
    for pid in picks:
        t = time.perf_counter()
        conn.execute("SELECT date, type, subtype, value_num FROM events WHERE person_id = ? ORDER BY date",
                     (pid,)).fetchall()
        times.append(time.perf_counter() - t)
    out["query_median"] = statistics.median(times)
    t = time.perf_counter()
    conn.execute("SELECT type, count(*) FROM events WHERE date >= '2022-01-01' GROUP BY type").fetchall()
    out["scan_groupby"] = time.perf_counter() - t
    return out


def _plain(path: Path):
    conn = sqlite3.connect(str(path), isolation_level=None)
    for pragma in PLAIN_PRAGMAS:
        conn.execute(pragma).fetchall()
    return conn


def run(size: int | None = None, quick: bool = False) -> list[dict]:
    """Rows for the suite: each step on both engines plus the SQLCipher/sqlite3 ratio."""
    from app.store.database import connect

    n = size or (QUICK_ROWS if quick else FULL_ROWS)
    rows, people = make_rows(n)
    results = {}
    with tempfile.TemporaryDirectory(prefix="mimamori-bench-store-") as tmp:
        for engine in ("sqlite3", "sqlcipher"):
            path = Path(tmp) / f"{engine}.db"
            t = time.perf_counter()
            conn = _plain(path) if engine == "sqlite3" else connect(path, secrets.token_bytes(32))
            opened = time.perf_counter() - t
            results[engine] = dict(measure(conn, rows, people), open=opened)
            conn.close()
            results[engine]["file_mb"] = path.stat().st_size / 2**20
    peak = peak_rss_mb()
    labels = {"open": "open (+ raw key)", "insert": f"insert {n:,} rows, one transaction",
              "index": "create index (person_id, date)",
              "query_median": f"indexed query, median of {QUERIES:,}", "scan_groupby": "date-range group-by scan"}
    out = []
    for step, label in labels.items():
        plain, cipher = results["sqlite3"][step], results["sqlcipher"][step]
        ratio = cipher / plain if plain > 0 else None
        out.append(row(f"{label}: sqlite3", n, plain, peak, ""))
        out.append(row(f"{label}: SQLCipher", n, cipher, peak,
                       f"ratio SQLCipher/sqlite3 = {ratio:.2f}×" if ratio else "", ratio=ratio))
    out.append(row("file size", n, None, None,
                   f"sqlite3 {results['sqlite3']['file_mb']:.0f} MB, SQLCipher {results['sqlcipher']['file_mb']:.0f} MB"))
    return out


if __name__ == "__main__":
    from benchmarks.run_all import format_table

    print(format_table(run(int(sys.argv[1]) if len(sys.argv) > 1 else None)))
