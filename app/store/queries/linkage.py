"""Import bookkeeping for data_admin: deliveries, reconciliation, quarantine, review, duplicates."""

from __future__ import annotations

import json

import pandas as pd

from app.store import roles
from app.store.database import transaction
from app.store.queries import requires


def _frame(conn, sql: str, params=()) -> pd.DataFrame:
    cur = conn.execute(sql, tuple(params))
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


@requires(roles.IMPORT, data_class="admin")
def deliveries(session) -> pd.DataFrame:
    """Imported deliveries, newest first (counts only)."""
    return _frame(session.conn, "SELECT delivery_id, folder_name, as_of, imported_at, imported_by, summary"
                                " FROM deliveries ORDER BY delivery_id DESC")


@requires(roles.IMPORT, data_class="admin")
def reconciliation(session, delivery_id: int | None = None) -> pd.DataFrame:
    """Per file: read, imported, quarantined (read = imported + quarantined)."""
    if delivery_id is None:
        row = session.conn.execute("SELECT max(delivery_id) FROM deliveries").fetchone()
        delivery_id = row[0]
    if delivery_id is None:
        return pd.DataFrame(columns=["file", "source", "as_of", "rows_read", "rows_imported",
                                     "rows_quarantined"])
    summary = session.conn.execute("SELECT summary FROM deliveries WHERE delivery_id=?",
                                   (delivery_id,)).fetchone()
    files = json.loads(summary[0]).get("files", []) if summary else []
    return pd.DataFrame(files, columns=["file", "source", "as_of", "rows_read", "rows_imported",
                                        "rows_quarantined"])


@requires(roles.VIEW_QUARANTINE, data_class="admin")
def quarantine(session, file: str | None = None) -> pd.DataFrame:
    """Quarantined rows: file, line, reason (Japanese), raw row text (audited: raw may hold names)."""
    sql = "SELECT file, line, reason, raw FROM quarantine"
    params: tuple = ()
    if file:
        sql += " WHERE file=?"
        params = (file,)
    frame = _frame(session.conn, sql + " ORDER BY file, line", params)
    with transaction(session.conn):
        session.audit("quarantine_show", "quarantine", [], {"rows": len(frame), "file": file or ""})
    return frame


@requires(roles.REVIEW_LINKAGE, data_class="admin")
def review_list(session, status: str = "pending") -> pd.DataFrame:
    """Near-miss records with their candidate and evidence, the record's and the candidate's
    names side by side so the reviewer can judge (audited as a re-identification)."""
    frame = _frame(session.conn, """
        SELECT r.record_id, r.file, r.line, r.source, r.candidate_id, r.score, r.evidence,
               r.name_kanji, r.name_kana, r.birth_date, r.sex,
               i.name_kanji AS cand_name_kanji, i.name_kana AS cand_name_kana,
               i.birth_date AS cand_birth_date, i.sex AS cand_sex, r.status
        FROM review_items r LEFT JOIN identities i ON i.person_id = r.candidate_id
        WHERE r.status = ? ORDER BY r.score DESC, r.file, r.line""", (status,))
    with transaction(session.conn):
        session.audit("review_list_show", "review_item", frame["record_id"].tolist()[:1000],
                      {"rows": len(frame)})
    return frame


@requires(roles.REVIEW_LINKAGE, data_class="admin")
def duplicate_list(session) -> pd.DataFrame:
    """重複リスト: homonyms, ambiguous records and twins, never merged automatically."""
    return _frame(session.conn, "SELECT person_a, person_b, kind, detail FROM duplicates"
                                " ORDER BY kind, person_a, person_b")


@requires(roles.IMPORT, data_class="admin")
def idmap(session) -> pd.DataFrame:
    """The research-ID map (file, line, research_id) of the latest delivery of each file."""
    return _frame(session.conn, "SELECT file, line, research_id FROM idmap ORDER BY file, line")
