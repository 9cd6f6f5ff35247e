"""The append-only, hash-chained audit log.

Each entry's hash covers its fields and the previous entry's hash, so changing,
deleting or reordering any entry breaks the chain from that point on; ``verify`` names
the first broken entry. Triggers refuse UPDATE and DELETE inside SQLite; the chain
catches edits made around them (e.g. with a copied key and another SQLite client).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

GENESIS = "0" * 64
_FIELDS = ("seq", "ts", "user", "role", "terminal", "action", "object_type", "object_ids", "detail")


def _entry_hash(prev_hash: str, row: dict) -> str:
    payload = json.dumps([prev_hash] + [row[f] for f in _FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def record(conn, *, user: str, role: str, terminal: str, action: str,
           object_type: str | None = None, object_ids=(), detail: dict | None = None,
           ts: str | None = None) -> int:
    """Append one entry; returns its sequence number. Pass ids, never case contents."""
    last = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    row = {
        "seq": seq, "ts": ts or now_iso(), "user": user, "role": role, "terminal": terminal,
        "action": action, "object_type": object_type,
        "object_ids": json.dumps([str(i) for i in object_ids], ensure_ascii=False),
        "detail": json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
    }
    row_hash = _entry_hash(prev, row)
    conn.execute(
        "INSERT INTO audit_log(seq, ts, user, role, terminal, action, object_type, object_ids,"
        " detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (*[row[f] for f in _FIELDS], prev, row_hash))
    return seq


@dataclass
class Verification:
    ok: bool
    entries: int
    first_broken: int | None = None
    reason: str = ""


def verify(conn) -> Verification:
    """Walk the chain from the start; report the first entry that does not fit."""
    prev, expected_seq, count = GENESIS, 1, 0
    cursor = conn.execute(
        "SELECT seq, ts, user, role, terminal, action, object_type, object_ids, detail,"
        " prev_hash, hash FROM audit_log ORDER BY seq")
    for values in cursor:
        row = dict(zip(_FIELDS, values[:9]))
        count += 1
        if row["seq"] != expected_seq:
            return Verification(False, count, expected_seq, f"entry {expected_seq} is missing (next is {row['seq']})")
        if values[9] != prev:
            return Verification(False, count, row["seq"], "does not follow the previous entry (reordered or removed)")
        if _entry_hash(prev, row) != values[10]:
            return Verification(False, count, row["seq"], "contents were changed")
        prev, expected_seq = values[10], expected_seq + 1
    return Verification(True, count)
