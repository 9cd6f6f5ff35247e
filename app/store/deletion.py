"""Deletion on request (by data source or by person) and retention per source.

A deletion physically removes the rows: every table holding the person's id (or the
source's rows) is cleared in one transaction with ``secure_delete`` on, then the file is
rebuilt with VACUUM so no freed page keeps the old bytes. The id map and identity rows go
too. The audit log is append-only and keeps only that a deletion happened: the source
key, or a keyed hash of the person id (so a repeated request can be recognised without
the log naming the person).

The tables are discovered by column name rather than listed, so tables added by later
migrations are covered without touching this module.

Copies count too. Derived text goes with what it was derived from: a stored flag whose reason
was computed from a deleted event (a child's 「母のEPDS高得点：… EPDS 15点」 from the mother's
EPDS row) is removed with that event, by source or by person. A person's quarantined raw rows
(which were never linked, so carry no person id) are found by their content: a field equal to
one of the person's 宛名番号, or a name field equal to the person's kanji name (after the
variant fold) or kana name. A namesake's quarantined row goes too: quarantine is a worklist
for a re-delivery, and keeping a possible copy of the person is the worse error.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field

import pandas as pd

from app.store import meta, roles
from app.store.audit import DELETION, now_iso
from app.store.database import transaction

# Never touched by a deletion: governance bookkeeping (the log must stay verifiable).
PROTECTED_TABLES = frozenset({"meta", "settings", "users", "terminals", "audit_log", "audit_anchors",
                              "deletion_requests", "retention_policy"})
# Columns naming the person a row is about: rows matching are removed.
PERSON_COLUMNS = ("person_id", "research_id", "related_id", "child_id", "candidate_id",
                  "person_a", "person_b")
# Columns that only point at the person from someone else's row: they are blanked.
POINTER_COLUMNS = ("mother_id", "father_id", "guardian_id")


class DeletionError(ValueError):
    """A deletion request that cannot be carried out (message in Japanese)."""


@dataclass
class DeletionResult:
    kind: str
    rows_removed: dict[str, int] = field(default_factory=dict)
    pointers_cleared: int = 0

    @property
    def total(self) -> int:
        return sum(self.rows_removed.values())


def _tables(conn) -> dict[str, list[str]]:
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    return {n: [c[1] for c in conn.execute(f'PRAGMA table_info("{n}")')]
            for n in names if n not in PROTECTED_TABLES}


def person_token(conn, person_id: str) -> str:
    """Keyed hash standing in for a deleted person's id in the log and request list."""
    key = meta.secret(conn, "deletion_receipt_key")
    return "P" + hmac.new(key, str(person_id).encode("utf-8"), hashlib.sha256).hexdigest()[:24]


def _count(result: DeletionResult, name: str, n: int) -> None:
    result.rows_removed[name] = result.rows_removed.get(name, 0) + max(n, 0)


def _delete_derived_flags(conn, tables, event_sql: str, params, result: DeletionResult) -> None:
    """Flags whose reason was computed from the events ``event_sql`` selects (trigger evidence):
    their text quotes those events, so they go before the events do."""
    if not {"flags", "evidence"} <= set(tables):
        return
    cur = conn.execute(
        "DELETE FROM flags WHERE (run_id, person_id, rule_id) IN (SELECT run_id, person_id, rule_id"
        f" FROM evidence WHERE role = 'trigger' AND event_id IN ({event_sql}))", params)
    _count(result, "flags", cur.rowcount)


_FIELD_SPLIT = re.compile(r'[,\n\r\t]')


def _delete_person_quarantine(conn, tables, person_ids: list[str], result: DeletionResult) -> None:
    """The person's quarantined raw rows, found by content (see the module docstring)."""
    if "quarantine" not in tables or "identities" not in tables:
        return
    from app.engine.names import kana_key, normalise_kanji

    marks = ",".join("?" * len(person_ids))
    numbers, kanji, kana = set(), set(), set()
    for name_kanji, name_kana, rn in conn.execute(
            f"SELECT name_kanji, name_kana, resident_numbers FROM identities WHERE person_id IN ({marks})",
            person_ids):
        try:
            numbers.update(str(n) for n in json.loads(rn or "[]") if str(n).strip())
        except ValueError:
            pass
        if normalise_kanji(name_kanji):
            kanji.add(normalise_kanji(name_kanji))
        if kana_key(name_kana):
            kana.add(kana_key(name_kana))
    if not (numbers or kanji or kana):
        return
    doomed = []
    for rowid, raw in conn.execute("SELECT rowid, raw FROM quarantine"):
        cells = [c.strip().strip('"').strip() for c in _FIELD_SPLIT.split(raw or "")]
        if any(c in numbers for c in cells) or any(
                c and (normalise_kanji(c) in kanji or kana_key(c) in kana) for c in cells):
            doomed.append(rowid)
    for i in range(0, len(doomed), 500):
        chunk = doomed[i:i + 500]
        cur = conn.execute(f"DELETE FROM quarantine WHERE rowid IN ({','.join('?' * len(chunk))})", chunk)
        _count(result, "quarantine", cur.rowcount)


def _delete_person_rows(conn, person_ids: list[str], result: DeletionResult) -> None:
    tables = _tables(conn)
    marks = ",".join("?" * len(person_ids))
    # Quarantined copies are found through the identity, so before the identity goes.
    _delete_person_quarantine(conn, tables, person_ids, result)
    # Rows that hang off the person's events (evidence, links) go before the events.
    if "events" in tables and "person_id" in tables["events"]:
        _delete_derived_flags(conn, tables, f"SELECT event_id FROM events WHERE person_id IN ({marks})",
                              person_ids, result)
        for name, columns in tables.items():
            if name != "events" and "event_id" in columns:
                cur = conn.execute(
                    f'DELETE FROM "{name}" WHERE event_id IN (SELECT event_id FROM events WHERE person_id IN ({marks}))',
                    person_ids)
                result.rows_removed[name] = result.rows_removed.get(name, 0) + cur.rowcount
    for name, columns in tables.items():
        for column in PERSON_COLUMNS:
            if column in columns:
                cur = conn.execute(f'DELETE FROM "{name}" WHERE "{column}" IN ({marks})', person_ids)
                result.rows_removed[name] = result.rows_removed.get(name, 0) + cur.rowcount
        for column in POINTER_COLUMNS:
            if column in columns:
                cur = conn.execute(f'UPDATE "{name}" SET "{column}" = \'\' WHERE "{column}" IN ({marks})', person_ids)
                result.pointers_cleared += cur.rowcount


def _vacuum(conn) -> None:
    # Outside any transaction: VACUUM rewrites the whole file, so freed pages (which
    # secure_delete has zeroed already) are not even left as free space.
    conn.execute("PRAGMA secure_delete = ON").fetchall()
    conn.execute("VACUUM")


def delete_person(session, person_id: str, reason: str = "", request_id: int | None = None) -> DeletionResult:
    """Remove everything about one person (rows, idmap, identity, evidence); log only the fact."""
    session.require(roles.DELETE_DATA)
    person_id = str(person_id).strip()
    if not person_id:
        raise DeletionError("削除する研究用IDを指定してください")
    result = DeletionResult("person")
    with transaction(session.conn):
        _delete_person_rows(session.conn, [person_id], result)
        if result.total == 0:
            # Nothing held under this id: say so (rolls back) instead of "deleted 0 rows".
            raise DeletionError(f"研究用ID {person_id} のデータはありません（IDの誤りか、既に削除済みです）")
        token = person_token(session.conn, person_id)
        _close_request(session, request_id, "person", token, reason, result.total)
        session.audit(DELETION, "person", [token], {
            "kind": "person", "rows": result.total, "tables": sorted(t for t, n in result.rows_removed.items() if n),
            "request_id": request_id})
    _vacuum(session.conn)
    return result


def delete_source(session, source: str, reason: str = "", request_id: int | None = None) -> DeletionResult:
    """Remove every row a department's source brought (a department withdraws its data).

    Persons known only from that source (e.g. 8-digit receipt-only ids: nothing left
    once the source goes) are removed as persons too, so their identity rows do not outlive the data.
    """
    session.require(roles.DELETE_DATA)
    source = source.strip()
    if not source:
        raise DeletionError("削除するデータ種別を指定してください")
    conn = session.conn
    result = DeletionResult("source")
    with transaction(conn):
        tables = _tables(conn)
        orphans: list[str] = []
        # Rows kept per delivered file (id map, quarantine) belong to the source through
        # the file it came in.
        files = [r[0] for r in conn.execute("SELECT file_name FROM sources WHERE source = ?", (source,))] \
            if "sources" in tables else []
        if files:
            marks = ",".join("?" * len(files))
            for name, columns in tables.items():
                if "file" in columns:
                    cur = conn.execute(f'DELETE FROM "{name}" WHERE file IN ({marks})', files)
                    result.rows_removed[name] = result.rows_removed.get(name, 0) + cur.rowcount
        if "events" in tables and "source" in tables["events"]:
            touched = [r[0] for r in conn.execute("SELECT DISTINCT person_id FROM events WHERE source = ?", (source,))]
            _delete_derived_flags(conn, tables, "SELECT event_id FROM events WHERE source = ?", (source,), result)
            for name, columns in tables.items():
                if name != "events" and "event_id" in columns:
                    cur = conn.execute(
                        f'DELETE FROM "{name}" WHERE event_id IN (SELECT event_id FROM events WHERE source = ?)', (source,))
                    result.rows_removed[name] = result.rows_removed.get(name, 0) + cur.rowcount
            for name, columns in tables.items():
                if "source" in columns:
                    cur = conn.execute(f'DELETE FROM "{name}" WHERE source = ?', (source,))
                    result.rows_removed[name] = result.rows_removed.get(name, 0) + cur.rowcount
            left = {r[0] for r in conn.execute("SELECT DISTINCT person_id FROM events")}
            # A person with no event left was known only through this source.
            orphans = [p for p in touched if p not in left]
        else:
            for name, columns in tables.items():
                if "source" in columns:
                    cur = conn.execute(f'DELETE FROM "{name}" WHERE source = ?', (source,))
                    result.rows_removed[name] = result.rows_removed.get(name, 0) + cur.rowcount
        if orphans:
            _delete_person_rows(conn, orphans, result)
        if result.total == 0 and request_id is None:
            raise DeletionError(f"データ種別 {source} の行はありません")
        _close_request(session, request_id, "source", source, reason, result.total)
        session.audit(DELETION, "source", [source], {
            "kind": "source", "rows": result.total, "persons_removed": len(orphans),
            "tables": sorted(t for t, n in result.rows_removed.items() if n), "request_id": request_id})
    _vacuum(conn)
    return result


def _close_request(session, request_id, kind, target, reason, rows) -> None:
    if request_id is None:
        session.conn.execute(
            "INSERT INTO deletion_requests(kind, target, reason, requested_by, requested_at,"
            " executed_by, executed_at, rows_removed) VALUES (?,?,?,?,?,?,?,?)",
            (kind, target, reason, session.user, now_iso(), session.user, now_iso(), rows))
    else:
        session.conn.execute(
            "UPDATE deletion_requests SET target=?, executed_by=?, executed_at=?, rows_removed=?"
            " WHERE request_id=?", (target, session.user, now_iso(), rows, request_id))


def request_deletion(session, kind: str, target: str, reason: str = "") -> int:
    """Record a deletion request to carry out later (data_admin); returns its id."""
    session.require(roles.DELETE_DATA)
    if kind not in ("source", "person"):
        raise DeletionError(f"不明な削除の種類です: {kind}")
    if not target.strip():
        raise DeletionError("削除の対象を指定してください")
    with transaction(session.conn):
        cur = session.conn.execute(
            "INSERT INTO deletion_requests(kind, target, reason, requested_by, requested_at)"
            " VALUES (?,?,?,?,?)", (kind, target.strip(), reason, session.user, now_iso()))
        request_id = cur.lastrowid
        # A pending person request names the person only in the request table; the log
        # gets the keyed hash.
        logged = person_token(session.conn, target.strip()) if kind == "person" else target.strip()
        session.audit("deletion_request", kind, [logged], {"request_id": request_id})
    return request_id


def execute_request(session, request_id: int) -> DeletionResult:
    session.require(roles.DELETE_DATA)
    row = session.conn.execute(
        "SELECT kind, target, reason, executed_at FROM deletion_requests WHERE request_id=?", (request_id,)).fetchone()
    if row is None:
        raise DeletionError(f"削除依頼 {request_id} はありません")
    if row[3]:
        raise DeletionError(f"削除依頼 {request_id} は実行済みです")
    if row[0] == "person":
        return delete_person(session, row[1], row[2], request_id=request_id)
    return delete_source(session, row[1], row[2], request_id=request_id)


def list_requests(session) -> pd.DataFrame:
    session.require(roles.DELETE_DATA)
    cols = ["request_id", "kind", "target", "reason", "requested_by", "requested_at",
            "executed_by", "executed_at", "rows_removed"]
    rows = session.conn.execute(f"SELECT {', '.join(cols)} FROM deletion_requests ORDER BY request_id DESC").fetchall()
    return pd.DataFrame(rows, columns=cols)


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, 28))


def retention_status(session, today: dt.date | None = None) -> pd.DataFrame:
    """Retention per source (report table 2-14) and whether a confirmation is due.

    'confirm' sources (削除に関する確認による) need the owning department's confirmation
    every review_months; due = never confirmed, or the last confirmation is that old.
    """
    session.require(roles.DELETE_DATA)
    today = today or dt.date.today()
    rows = session.conn.execute(
        "SELECT source, policy, review_months, last_confirmed, note FROM retention_policy ORDER BY source").fetchall()
    frame = pd.DataFrame(rows, columns=["source", "policy", "review_months", "last_confirmed", "note"])
    as_of = {}
    if session.conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='sources'").fetchone():
        try:
            as_of = dict(session.conn.execute("SELECT source, max(as_of) FROM sources GROUP BY source").fetchall())
        except Exception:  # noqa: BLE001 - the sources table's columns belong to the importer
            as_of = {}
    frame["as_of"] = frame["source"].map(as_of)

    def due(row) -> bool:
        if row["policy"] != "confirm":
            return False
        if not row["last_confirmed"]:
            return True
        return _add_months(dt.date.fromisoformat(row["last_confirmed"][:10]), int(row["review_months"])) <= today

    frame["due"] = frame.apply(due, axis=1) if len(frame) else pd.Series(dtype=bool)
    return frame


def due_reminders(session, today: dt.date | None = None) -> pd.DataFrame:
    """Only the sources whose retention must be confirmed with the department now."""
    frame = retention_status(session, today)
    return frame[frame["due"]].reset_index(drop=True)


def confirm_retention(session, source: str, today: dt.date | None = None) -> None:
    """The department confirmed keeping ``source``: reset its reminder."""
    session.require(roles.DELETE_DATA)
    day = (today or dt.date.today()).isoformat()
    with transaction(session.conn):
        cur = session.conn.execute("UPDATE retention_policy SET last_confirmed=? WHERE source=?", (day, source))
        if cur.rowcount == 0:
            raise DeletionError(f"不明なデータ種別です: {source}")
        session.audit("retention_confirm", "source", [source], {"date": day})
