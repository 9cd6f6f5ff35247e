"""Forward-only schema migrations, applied in order when a store is opened.

Each migration is a file ``NNNN_name.sql`` in this folder. ``PRAGMA user_version`` holds
the number of the last one applied. Number ranges by area keep parallel work apart:
0001–0099 foundation, 0100 import/linkage, 0200 rules/scoring, 0300 working list and
follow-up, 0400 timeline, 0500 map/staffing, 0600 governance. A new migration always
takes a number above every existing one in the whole folder, never an old gap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str


def all_migrations() -> list[Migration]:
    found = []
    for entry in resources.files(__name__).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    if len(numbers) != len(set(numbers)):
        raise RuntimeError(f"duplicate migration numbers: {numbers}")
    return found


def latest_version() -> int:
    migrations = all_migrations()
    return migrations[-1].number if migrations else 0


def current_version(conn) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _applied(conn) -> set[int]:
    """Numbers already applied. The ledger table also catches a migration whose number is
    below one applied earlier (parallel work), which user_version alone would skip."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                 "number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)")
    done = {r[0] for r in conn.execute("SELECT number FROM schema_migrations")}
    if not done:
        # A store from before the ledger: everything up to user_version was applied.
        version = current_version(conn)
        done = {m.number for m in all_migrations() if m.number <= version}
    return done


def migrate(conn, up_to: int | None = None) -> list[int]:
    """Apply every pending migration (each in its own transaction); return their numbers."""
    applied = []
    done = _applied(conn)
    for migration in all_migrations():
        if migration.number in done or (up_to is not None and migration.number > up_to):
            continue
        version = max(current_version(conn), migration.number)
        # executescript commits implicitly, so the ledger row and version bump live inside
        # the script's own BEGIN/COMMIT: a failing migration leaves the store as it was.
        conn.executescript(
            "BEGIN;\n" + migration.sql
            + f"\nINSERT INTO schema_migrations(number, name) VALUES ({migration.number}, '{migration.name}');"
            + f"\nPRAGMA user_version = {version};\nCOMMIT;"
        )
        applied.append(migration.number)
    return applied
