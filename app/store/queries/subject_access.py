"""The family's subject-access report (開示請求): fetch everything about one person (and
optionally their household), hand it to ``app.engine.subject_access``, log the read.

data_admin only (``EXPORT_SUBJECT``; docs/SECURITY.md says why). The report includes ✕,
child-guidance and DV records on purpose — marked as 不開示 candidates for the officer —
so ``export_subject`` writes it through the export gate with ``keep_never`` and encrypted
unless the officer chose plaintext after the warning.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from app.engine import subject_access as engine
from app.store import roles
from app.store.database import transaction
from app.store.frames import events_frame, persons_frame
from app.store.queries import requires

SUBJECT_ACCESS = "subject_access"
# export_subject checks by hand (the role, then the gate); the governance matrix reads these.
QUERY_CAPABILITIES = {name: (roles.EXPORT_SUBJECT,)
                      for name in ("export_subject", "prepare_subject_export", "write_subject_pdf")}
QUERY_DATA_CLASSES = {name: "subject" for name in QUERY_CAPABILITIES}
_RELATIONS = {"mother": "母", "father": "父", "guardian": "保護者", "sibling": "きょうだい", "child": "子"}


class SubjectNotFound(LookupError):
    """No record of this research ID (message for the user)."""


def _tables(conn) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _frame(conn, sql: str, params) -> pd.DataFrame:
    cur = conn.execute(sql, tuple(params))
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _members(conn, person_id: str, household: bool) -> pd.DataFrame:
    """The requester (本人) and, with ``household``, everyone linked to them by household,
    mother or a recorded relation."""
    members = {person_id: "本人"}
    if household:
        for related, relation in conn.execute(
                "SELECT related_id, relation FROM relations WHERE person_id = ?", (person_id,)).fetchall():
            members.setdefault(related, _RELATIONS.get(relation, relation))
        for other, relation in conn.execute(
                "SELECT person_id, relation FROM relations WHERE related_id = ?", (person_id,)).fetchall():
            # They name the requester as mother/guardian: they are the requester's child.
            members.setdefault(other, "子" if relation in ("mother", "father", "guardian") else _RELATIONS.get(relation, relation))
        row = conn.execute("SELECT household_id, mother_id FROM persons WHERE person_id = ?", (person_id,)).fetchone()
        if row:
            household_id, mother_id = row
            if mother_id:
                members.setdefault(mother_id, "母")
            if household_id:
                for other, kind in conn.execute(
                        "SELECT person_id, kind FROM persons WHERE household_id = ? AND person_id <> ? ORDER BY person_id",
                        (household_id, person_id)).fetchall():
                    members.setdefault(other, "きょうだい" if kind == "child" else "同一世帯の保護者等")
    return pd.DataFrame({"person_id": list(members), "relation": list(members.values())})


def _exists(conn, tables: set[str], person_id: str) -> bool:
    for table in ("persons", "identities", "events"):
        if table in tables and conn.execute(f"SELECT 1 FROM {table} WHERE person_id = ? LIMIT 1",
                                            (person_id,)).fetchone():
            return True
    return False


@requires(roles.EXPORT_SUBJECT, data_class="subject")
def subject_records(session, person_id: str, household: bool = False) -> pd.DataFrame:
    """Every record the store holds about ``person_id`` (and their household), one row each,
    in the engine's ``COLUMNS``. Raises SubjectNotFound for an unknown ID. Audited."""
    conn = session.conn
    person_id = str(person_id or "").strip()
    tables = _tables(conn)
    if not person_id or not _exists(conn, tables, person_id):
        raise SubjectNotFound(f"研究用ID {person_id or '（空）'} の記録はありません（IDの誤りか、既に削除済みです）")
    members = _members(conn, person_id, household)
    ids = list(members["person_id"])
    marks = _marks(len(ids))
    identities = _frame(conn, f"SELECT * FROM identities WHERE person_id IN ({marks})", ids) \
        if "identities" in tables else None
    persons = persons_frame(conn, person_ids=ids) if "persons" in tables else None
    events = events_frame(conn, person_ids=ids) if "events" in tables else None
    as_of = _frame(conn, "SELECT source, file_name, as_of FROM sources", ()) if "sources" in tables else None
    followups = _frame(conn, f"SELECT * FROM followups WHERE person_id IN ({marks}) ORDER BY action_date, followup_id",
                       ids) if "followups" in tables else None
    flags = scores = None
    if {"flags", "runs"} <= tables:
        flags = _frame(conn, f"SELECT f.*, r.as_of FROM flags f JOIN runs r USING (run_id) "
                             f"WHERE f.person_id IN ({marks}) AND f.flagged = 1 ORDER BY f.run_id, f.rule_id", ids)
    if {"scores", "runs"} <= tables:
        scores = _frame(conn, f"SELECT s.*, r.as_of FROM scores s JOIN runs r USING (run_id) "
                              f"WHERE s.person_id IN ({marks}) ORDER BY s.run_id", ids)
    report = engine.build_report(members, identities=identities, persons=persons, events=events,
                                 source_as_of=as_of, followups=followups, flags=flags, scores=scores)
    counts = engine.summary(report)
    with transaction(conn):
        session.audit(SUBJECT_ACCESS, "person", ids, {
            "requester": person_id, "household": household, "rows": counts["records"],
            "candidates": counts["candidates"]})
    return report


def export_subject(session, path: Path | str, person_id: str, *, household: bool = False, fmt: str = "csv",
                   encrypt: bool = True, passphrase: str | None = None, plaintext_confirmed: bool = False,
                   pdf_renderer=None):
    """Write the report through the export gate: CSV/XLSX as a table, or ``pdf`` drawn by
    ``pdf_renderer(report, title, footer) -> bytes`` (Qt lives in the views, not here)."""
    from app.store.exports import export_frame

    report, title, footer = prepare_subject_export(session, person_id, household=household, encrypt=encrypt,
                                                   passphrase=passphrase, plaintext_confirmed=plaintext_confirmed)
    if fmt in ("csv", "xlsx"):
        ids = sorted(set(report["研究用ID"])) or [person_id]
        return export_frame(session, report, path, capability=roles.EXPORT_SUBJECT, kind="subject", fmt=fmt,
                            encrypt=encrypt, passphrase=passphrase, plaintext_confirmed=plaintext_confirmed,
                            title=title, object_ids=ids, keep_never=True)
    if fmt != "pdf" or pdf_renderer is None:
        raise ValueError(f"unknown report format {fmt!r}")
    return write_subject_pdf(session, path, report, title, pdf_renderer(report, title, footer), footer,
                             person_id=person_id, encrypt=encrypt, passphrase=passphrase,
                             plaintext_confirmed=plaintext_confirmed)


def prepare_subject_export(session, person_id: str, *, household: bool = False, encrypt: bool = True,
                           passphrase: str | None = None, plaintext_confirmed: bool = False
                           ) -> tuple[pd.DataFrame, str, str]:
    """The gate's checks, then the report: (report, title, footer). The GUI paints the PDF from
    it on its own thread and writes it with ``write_subject_pdf``; the CLI goes through
    ``export_subject``."""
    from app.store.exports import check_allowed, check_encryption_choice, footer_text

    # The role, then the gate: an unregistered terminal or a missing passphrase reads nothing.
    session.require(roles.EXPORT_SUBJECT)
    check_allowed(session, roles.EXPORT_SUBJECT)
    check_encryption_choice(encrypt, passphrase, plaintext_confirmed)
    report = subject_records(session, person_id, household)
    title = f"開示請求 {str(person_id).strip()}" + ("（世帯）" if household else "")
    return report, title, footer_text(session)


def write_subject_pdf(session, path: Path | str, report: pd.DataFrame, title: str, pdf: bytes, footer: str,
                      person_id: str = "", *, encrypt: bool = True, passphrase: str | None = None,
                      plaintext_confirmed: bool = False):
    """The report's PDF (``pdf``, drawn from ``prepare_subject_export``'s result) through the
    export gate, audited with the records' IDs."""
    from app.store.audit import EXPORT
    from app.store.exports import ExportResult, write_document

    session.require(roles.EXPORT_SUBJECT)
    ids = sorted(set(report["研究用ID"])) or [person_id]
    written = write_document(session, pdf, path, capability=roles.EXPORT_SUBJECT, content_type="pdf",
                             encrypt=encrypt, passphrase=passphrase, plaintext_confirmed=plaintext_confirmed,
                             footer=footer)
    with transaction(session.conn):
        session.audit(EXPORT, "subject", ids, {"capability": roles.EXPORT_SUBJECT, "format": "pdf",
                                               "encrypted": encrypt, "rows": len(report), "file": written.name,
                                               "title": title})
    return ExportResult(written, len(report), 0, encrypt, footer)
