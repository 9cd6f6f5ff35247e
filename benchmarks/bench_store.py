"""What encryption costs: SQLCipher with the store's key and settings against the *same*
SQLCipher build without a key (so the ratio is encryption alone, not two SQLite versions), in
one run. The stdlib sqlite3 (an older SQLite here) is measured too, for reference.

The same rows (an events-like table: person_id, date, type, subtype, value_num, value_text),
the same bulk insert in one transaction, the same index, the same indexed queries, a scan, and a
scattered update of 5 % of the rows — with ``secure_delete`` ON (the store's setting: freed
bytes are zeroed, which the deletion proof relies on) and OFF, to show what that setting costs.
Files live in a temporary folder deleted at the end.

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
    # Scattered updates (a review decision or a follow-up moves rows of many people): 5 % of the
    # rows, by primary key, in one transaction. value_text grows, so pages are rewritten.
    total = conn.execute("SELECT max(event_id) FROM events").fetchone()[0]
    order = np.random.default_rng(3).permutation(total) + 1
    share = max(1, total // 20)
    for k, mode in enumerate(("ON", "OFF")):
        ids = order[k * share:(k + 1) * share].tolist()  # two disjoint 5 % samples
        conn.execute(f"PRAGMA secure_delete = {mode}").fetchall()
        t = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("UPDATE events SET value_text = value_text || ' (確認済み)' WHERE event_id = ?",
                         ((i,) for i in ids))
        conn.execute("COMMIT")
        out[f"update_secure_{mode.lower()}"] = time.perf_counter() - t
    conn.execute("PRAGMA secure_delete = ON").fetchall()
    return out


def _plain(path: Path, module=sqlite3):
    conn = module.connect(str(path), isolation_level=None)
    for pragma in PLAIN_PRAGMAS:
        conn.execute(pragma).fetchall()
    return conn


ENGINES = {"sqlite3": "stdlib sqlite3", "unkeyed": "SQLCipher build, no key", "sqlcipher": "SQLCipher, keyed"}


def _open(engine: str, path: Path):
    import sqlcipher3.dbapi2 as sqlcipher

    from app.store.database import connect

    if engine == "sqlite3":
        return _plain(path)
    if engine == "unkeyed":
        return _plain(path, sqlcipher)
    return connect(path, secrets.token_bytes(32))


def run(size: int | None = None, quick: bool = False) -> list[dict]:
    """Rows for the suite: each step on the three engines; the ratio is keyed / unkeyed."""
    n = size or (QUICK_ROWS if quick else FULL_ROWS)
    rows, people = make_rows(n)
    results, versions = {}, {}
    with tempfile.TemporaryDirectory(prefix="mimamori-bench-store-") as tmp:
        for engine in ENGINES:
            path = Path(tmp) / f"{engine}.db"
            t = time.perf_counter()
            conn = _open(engine, path)
            opened = time.perf_counter() - t
            versions[engine] = conn.execute("SELECT sqlite_version()").fetchone()[0]
            results[engine] = dict(measure(conn, rows, people), open=opened)
            conn.close()
            results[engine]["file_mb"] = path.stat().st_size / 2**20
    peak = peak_rss_mb()
    labels = {"open": "open (+ raw key)", "insert": f"insert {n:,} rows, one transaction",
              "index": "create index (person_id, date)",
              "query_median": f"indexed query, median of {QUERIES:,}", "scan_groupby": "date-range group-by scan",
              "update_secure_on": "update 5 % of rows, secure_delete ON",
              "update_secure_off": "update 5 % of rows, secure_delete OFF"}
    out = []
    for step, label in labels.items():
        base, cipher = results["unkeyed"][step], results["sqlcipher"][step]
        ratio = cipher / base if base > 0 else None
        out.append(row(f"{label}: sqlite3 {versions['sqlite3']}", n, results["sqlite3"][step], peak, ""))
        out.append(row(f"{label}: SQLCipher unkeyed", n, base, peak, f"SQLite {versions['unkeyed']}"))
        out.append(row(f"{label}: SQLCipher", n, cipher, peak,
                       f"ratio keyed/unkeyed = {ratio:.2f}×" if ratio else "", ratio=ratio))
    on, off = results["sqlcipher"]["update_secure_on"], results["sqlcipher"]["update_secure_off"]
    out.append(row("secure_delete cost on scattered updates", n, None, None,
                   f"ON/OFF = {on / off:.2f}× on the keyed store" if off > 0 else ""))
    out.append(row("file size", n, None, None, ", ".join(
        f"{ENGINES[e]} {results[e]['file_mb']:.0f} MB" for e in ENGINES)))
    return out


if __name__ == "__main__":
    from benchmarks.run_all import format_table

    print(format_table(run(int(sys.argv[1]) if len(sys.argv) > 1 else None)))
