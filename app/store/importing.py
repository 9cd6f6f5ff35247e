"""Persist a delivery: read, link and write everything in ONE transaction.

The delivery is read and linked completely before the transaction opens, so a fatal file
(unreadable, missing a required column) or a cancel leaves the store exactly as it was. Events
are built inside the transaction a chunk at a time and written at once, each source's raw rows
dropped when its events are written (memory bounded by a chunk, not the delivery); a failure or
a cancel there rolls the whole transaction back. The
same delivery (same files, same bytes) imported again changes nothing. A newer delivery
replaces, per source, what the older one brought (each departmental extract is a full
extract), keeps research IDs through the hashed link keys, and keeps data_admin decisions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from app.engine.ingest.csvreader import IngestError
from app.engine.ingest.delivery import read_delivery
from app.engine.ingest.linked import Processed, process_delivery
from app.engine.ingest.profiles import MappingProfile
from app.engine.progress import Progress, ensure
from app.engine.pseudonyms import Keyer
from app.store import audit as audit_log
from app.store import meta, roles
from app.store.audit import now_iso
from app.store.database import iso_dates, transaction


class ImportFailed(Exception):
    """A fatal problem: nothing was written. ``file`` and ``reason`` are for the user."""

    def __init__(self, file: str, reason: str):
        super().__init__(f"{file}: {reason}")
        self.file, self.reason = file, reason


@dataclass
class FileSummary:
    file: str
    source: str
    as_of: str
    rows_read: int
    rows_imported: int
    rows_quarantined: int


@dataclass
class ImportSummary:
    delivery_id: int
    already_imported: bool
    files: list[FileSummary] = field(default_factory=list)
    persons: int = 0
    events: int = 0
    review: int = 0
    duplicates: int = 0
    quarantined: int = 0
    ignored_files: list[str] = field(default_factory=list)

    def reconciled(self) -> bool:
        """read = imported + quarantined for every file."""
        return all(f.rows_read == f.rows_imported + f.rows_quarantined for f in self.files)




def load_profiles(conn) -> dict[str, MappingProfile]:
    """Mapping profiles kept in the store, by source."""
    return {r[0]: MappingProfile.from_json(r[1])
            for r in conn.execute("SELECT source, body FROM mapping_profiles")}


def save_profile(session, profile: MappingProfile) -> None:
    """Store (or replace) a mapping profile; data_admin only, audited."""
    session.require(roles.IMPORT)
    with transaction(session.conn):
        session.conn.execute(
            "INSERT INTO mapping_profiles(source, body, updated_by, updated_at) VALUES (?,?,?,?) "
            "ON CONFLICT(source) DO UPDATE SET body=excluded.body, updated_by=excluded.updated_by, "
            "updated_at=excluded.updated_at", (profile.source, profile.to_json(), session.user, now_iso()))
        session.audit("mapping_profile_save", "mapping_profile", [profile.source])


def _summary(conn, delivery_id: int, already: bool) -> ImportSummary:
    row = conn.execute("SELECT summary FROM deliveries WHERE delivery_id=?", (delivery_id,)).fetchone()
    data = json.loads(row[0]) if row else {}
    files = [FileSummary(**f) for f in data.get("files", [])]
    return ImportSummary(delivery_id, already, files, data.get("persons", 0), data.get("events", 0),
                         data.get("review", 0), data.get("duplicates", 0), data.get("quarantined", 0),
                         data.get("ignored_files", []))


def import_delivery(session, folder: Path | str, progress: Progress | None = None,
                    rng: np.random.Generator | None = None) -> ImportSummary:
    """Import the delivery in ``folder`` (see the module docstring). Raises ImportFailed."""
    session.require(roles.IMPORT)
    progress = ensure(progress)
    conn = session.conn
    folder = Path(folder)
    try:
        delivery = read_delivery(folder, load_profiles(conn), progress.sub(0.0, 0.35))
    except IngestError as exc:
        with transaction(conn):
            session.audit("import_failed", "delivery", [], {"file": exc.file, "folder": folder.name})
        raise ImportFailed(exc.file, exc.reason) from None
    known = conn.execute("SELECT delivery_id FROM deliveries WHERE fingerprint=?",
                         (delivery.fingerprint,)).fetchone()
    if known:
        with transaction(conn):
            session.audit("import_skipped", "delivery", [known[0]], {"reason": "same_delivery"})
        progress.step(1.0, "同じデータは取り込み済みです")
        return _summary(conn, known[0], True)
    keyer = Keyer(meta.secret(conn, "pseudonym_key"))
    known_keys = dict(conn.execute("SELECT key_hash, person_id FROM link_keys"))
    taken = {r[0] for r in conn.execute("SELECT person_id FROM persons")}
    taken |= {r[0] for r in conn.execute("SELECT person_id FROM link_keys")}
    decisions = dict(conn.execute("SELECT pair_key, decision FROM linkage_decisions"))
    processed = process_delivery(delivery, keyer, known_keys, taken, decisions, rng,
                                 progress.sub(0.35, 0.85))
    progress.step(0.87, "データベースに書き込んでいます")
    wconn = _writer_connection(session)
    try:
        with transaction(wconn):
            delivery_id = _write(session, wconn, delivery, processed, progress.sub(0.87, 0.99))
    finally:
        if wconn is not conn:
            wconn.close()
    progress.step(1.0, "取り込み完了")
    return _summary(conn, delivery_id, False)


def _writer_connection(session):
    """A fresh connection for the bulk write.

    Measured: inserting into a connection that has already run the migrations and other
    statements was about 5× slower (per row) than into a newly opened connection to the same
    file with the same key; the import's one transaction therefore runs on its own connection.
    """
    opener = session.connection_opener()
    return opener() if opener else session.conn


# Rows written to a table above which its indexes are dropped and built again (below, keeping
# them is as cheap).
REBUILD_INDEXES_ABOVE = 20_000


class _IndexesRebuilt:
    """Drop a table's own indexes for a bulk insert and build them again afterwards.

    Building an index once over sorted data is cheaper than maintaining it row by row; all of
    it happens inside the import's transaction, so a failure restores the indexes too.
    """

    def __init__(self, conn, table: str, rows: int):
        self.conn, self.table, self.active = conn, table, rows > REBUILD_INDEXES_ABOVE
        self.indexes: list[tuple[str, str]] = []

    def __enter__(self):
        if self.active:
            # Partial indexes too: each row inserted evaluates every partial index's WHERE, and
            # building one again is a single pass over pages already in the cache. Measured at
            # 13,913 children (497,707 events, 16 KiB pages): the two partial indexes of events
            # cost 0.12 s kept during the insert, 0.02 s each built afterwards.
            self.indexes = self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name=? AND sql IS NOT NULL",
                (self.table,)).fetchall()
            for name, _ in self.indexes:
                self.conn.execute(f"DROP INDEX {name}")
        return self

    def __exit__(self, *exc):
        for _, sql in self.indexes:
            self.conn.execute(sql)
        return False


def _delete_keys(conn, table: str, column: str, keys: pd.Series) -> None:
    """Delete rows about to be rewritten (nothing to do in an empty table: the first import)."""
    if conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None:
        return
    conn.executemany(f"DELETE FROM {table} WHERE {column}=?", ((k,) for k in keys))


def _audit(session, conn, action: str, object_type: str, object_ids, detail: dict) -> None:
    audit_log.record(conn, user=session.user, role=session.role, terminal=session.terminal_id,
                     action=action, object_type=object_type, object_ids=object_ids, detail=detail)


def _write(session, conn, delivery, p: Processed, progress: Progress | None = None) -> int:
    """All writes of one import (called inside the transaction on ``conn``), in this order.

    Upserts are written as DELETE + plain INSERT on purpose: measured on sqlcipher3 0.6.4, once a
    connection has run an ``INSERT OR REPLACE``/``ON CONFLICT`` statement, later bulk inserts on
    it ran 3–5× slower per row.
    """
    files = [f.file for f in delivery.files]
    quarantined = len(delivery.quarantine)
    did, summary = _write_delivery(session, conn, delivery, p)
    # Everything but the events first, then the events (the bulk): measured at 50,000 children
    # (1,798,746 events, a 497 MB file, more than the 256 MB page cache; load 5–6) the other
    # tables took 15.2 s written after the events and 10.0 s before them, the whole write 41.1 s
    # and 33.3 s; at 13,913 (all in the cache) both orders were within the noise (8.4–11.1 s).
    # Each frame is dropped once written.
    _write_idmap(conn, files, p)
    _write_persons(conn, did, p)
    _write_sources(conn, did, delivery, summary["files"])
    _write_linkage(conn, did, files, p)
    n_persons, n_review = len(p.persons), len(p.review)
    p.release_written()
    # Building the events consumes the delivery's raw rows (released source by source).
    n_events = _write_events(conn, did, sorted({f.source for f in delivery.files}), p, ensure(progress))
    summary["events"] = n_events
    conn.execute("UPDATE deliveries SET summary=? WHERE delivery_id=?",
                 (json.dumps(summary, ensure_ascii=False), did))
    _audit(session, conn, "import", "delivery", [did], {
        "files": len(files), "persons": n_persons, "events": n_events, "review": n_review,
        "quarantined": quarantined, "folder": delivery.folder.name})
    return did


def _write_idmap(conn, files: list[str], p: Processed) -> None:
    """研究用ID対応表 rows of this delivery's files (a newer delivery of a file replaces them)."""
    conn.executemany("DELETE FROM idmap WHERE file=?", ((f,) for f in files))
    im = p.idmap
    conn.executemany("INSERT INTO idmap(file, line, research_id) VALUES (?,?,?)",
                     zip(im["file"].tolist(), im["line"].astype(int).tolist(),
                         im["research_id"].fillna("").tolist()))


def _write_delivery(session, conn, delivery, p: Processed) -> tuple[int, dict]:
    """The deliveries row with its per-file summary (its event count is filled in at the end)."""
    imported = {f.file: 0 for f in delivery.files}
    counts = p.idmap.groupby("file").size().to_dict()
    imported.update({k: int(v) for k, v in counts.items()})
    file_summaries = [dict(file=f.file, source=f.source, as_of=f.as_of.isoformat() if f.as_of else "",
                           rows_read=f.rows_read, rows_imported=imported.get(f.file, 0),
                           rows_quarantined=f.rows_quarantined) for f in delivery.files]
    summary = {"files": file_summaries, "persons": len(p.persons), "events": 0,
               "review": len(p.review), "duplicates": len(p.duplicates),
               "quarantined": len(delivery.quarantine), "ignored_files": delivery.ignored}
    cur = conn.execute(
        "INSERT INTO deliveries(fingerprint, folder_name, as_of, imported_at, imported_by, summary) "
        "VALUES (?,?,?,?,?,?)", (delivery.fingerprint, delivery.folder.name, p.as_of.isoformat(),
                                 now_iso(), session.user, json.dumps(summary, ensure_ascii=False)))
    return cur.lastrowid, summary


def _text(values: pd.Series) -> list:
    """Text column for SQLite: missing as ''."""
    return values.fillna("").astype(str).tolist()


def _write_events(conn, did: int, sources: list[str], p: Processed, progress: Progress) -> int:
    """A newer extract of a source replaces that source's events (follow-ups stay).

    Events are built and inserted a chunk at a time (Processed.event_chunks); each column goes to
    executemany as one list built in C (``tolist``) rather than converted row by row.
    """
    # one statement, one scan: events has no index on source (migration 0830)
    conn.execute(f"DELETE FROM events WHERE source IN ({','.join('?' * len(sources))}) AND delivery_id IS NOT NULL",
                 sources)
    n = 0
    with _IndexesRebuilt(conn, "events", p.event_source.source_rows()):
        for ev in p.event_chunks(release=True, progress=progress):
            # a missing value_num stays NaN: stored as NULL, bound without None's cost (database.NULL)
            conn.executemany(
                "INSERT INTO events(person_id, household_id, date, type, subtype, value_num, value_text, attrs,"
                " source, source_file, source_line, disclosure, delivery_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                zip(_text(ev["person_id"]), _text(ev["household_id"]), iso_dates(ev["date"]),
                    ev["type"].tolist(), _text(ev["subtype"]), ev["value_num"].to_numpy(dtype=float).tolist(),
                    _text(ev["value_text"]),
                    ev["attrs"].tolist(), ev["source"].tolist(), ev["source_file"].tolist(),
                    ev["source_line"].astype(int).tolist(), ev["disclosure"].tolist(), [did] * len(ev)))
            n += len(ev)
    return n


def _write_persons(conn, did: int, p: Processed) -> None:
    """Persons, identities and relations: upsert (persons of earlier deliveries not in this one stay)."""
    # Rows go in primary-key order: random-order inserts into a large encrypted file touch a
    # random page each (measured several times slower once the page cache is full).
    ps = p.persons.sort_values("person_id")
    _delete_keys(conn, "persons", "person_id", ps["person_id"])
    with _IndexesRebuilt(conn, "persons", len(ps)):
        conn.executemany(
            "INSERT INTO persons(person_id, kind, sex, birth_ym, household_id, district, town,"
            " nationality, resident_from, resident_to, moved_in, mother_id, delivery_id)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            zip(ps["person_id"], ps["kind"], ps["sex"], ps["birth_ym"], ps["household_id"], ps["district"],
                ps["town"], ps["nationality"], iso_dates(ps["resident_from"]), iso_dates(ps["resident_to"]),
                ps["moved_in"].astype(int).tolist(), ps["mother_id"], [did] * len(ps)))
    ids = p.identities.sort_values("person_id")
    _delete_keys(conn, "identities", "person_id", ids["person_id"])
    conn.executemany(
        "INSERT INTO identities(person_id, name_kanji, name_kana, birth_date, sex,"
        " resident_numbers, household_number, town, address_note) VALUES (?,?,?,?,?,?,?,?,?)",
        ids[["person_id", "name_kanji", "name_kana", "birth_date", "sex", "resident_numbers",
             "household_number", "town", "address_note"]].itertuples(index=False, name=None))
    # (numpy sorts the texts in C, same order as sort_values on this unique key: 200,000 children's
    # 1.2 M relations 2.0 → 1.4 s)
    rel = p.relations.take(np.lexsort(tuple(p.relations[c].to_numpy().astype("U")
                                            for c in ("relation", "related_id", "person_id"))))
    if len(rel):
        _delete_keys(conn, "relations", "person_id", pd.Series(rel["person_id"].unique()))
        with _IndexesRebuilt(conn, "relations", len(rel)):
            conn.executemany(
                "INSERT INTO relations(person_id, related_id, relation, since, until) VALUES (?,?,?,?,?)",
                zip(rel["person_id"], rel["related_id"], rel["relation"], iso_dates(rel["since"]), iso_dates(rel["until"])))


def _write_sources(conn, did: int, delivery, file_summaries: list[dict]) -> None:
    """Per-file as-of dates and counts, and the quarantined rows with their reasons."""
    files = [f.file for f in delivery.files]
    for f in file_summaries:
        fi = next(x for x in delivery.files if x.file == f["file"])
        conn.execute("DELETE FROM sources WHERE source=? AND file_name=?", (f["source"], f["file"]))
        conn.execute(
            "INSERT INTO sources(source, file_name, as_of, delivery_id, department, rows_read,"
            " rows_imported, rows_quarantined, encoding) VALUES (?,?,?,?,?,?,?,?,?)",
            (f["source"], f["file"], f["as_of"] or None, did, fi.department, f["rows_read"],
             f["rows_imported"], f["rows_quarantined"], fi.encoding))
    conn.executemany("DELETE FROM quarantine WHERE file=?", ((f,) for f in files))
    q = delivery.quarantine
    conn.executemany("INSERT INTO quarantine(delivery_id, file, line, reason, raw) VALUES (?,?,?,?,?)",
                     zip([did] * len(q), q["file"], q["line"].astype(int).tolist(), q["reason"], q["raw"]))


def _write_linkage(conn, did: int, files: list[str], p: Processed) -> None:
    """Link keys, pending review items (with the record's own name for the reviewer), duplicates."""
    lk = p.link_keys.sort_values("key_hash")
    _delete_keys(conn, "link_keys", "key_hash", lk["key_hash"])
    conn.executemany("INSERT INTO link_keys(key_hash, person_id) VALUES (?,?)",
                     lk[["key_hash", "person_id"]].itertuples(index=False, name=None))
    conn.executemany("DELETE FROM review_items WHERE file=? AND status='pending'", ((f,) for f in files))
    rv = p.review
    if len(rv):
        # The record's own name and birth date, so the reviewer can compare (restricted table).
        conn.executemany("DELETE FROM review_items WHERE record_id=?", ((x,) for x in rv["record_id"]))
        conn.executemany(
            "INSERT INTO review_items(record_id, file, line, source, candidate_id, score, evidence,"
            " pair_key, name_kanji, name_kana, birth_date, sex, status, delivery_id)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'pending',?)",
            zip(rv["record_id"], rv["file"], rv["line"].astype(int).tolist(), rv["source"], rv["candidate_id"],
                rv["score"].astype(float).tolist(), rv["evidence"], rv["pair_key"],
                rv["name_kanji"], rv["name_kana"], rv["birth_date"], rv["sex"],
                [did] * len(rv)))
    conn.execute("DELETE FROM duplicates")
    d = p.duplicates.drop_duplicates(["person_a", "person_b", "kind"])
    conn.executemany("INSERT INTO duplicates(person_a, person_b, kind, detail, delivery_id)"
                     " VALUES (?,?,?,?,?)", zip(d["person_a"], d["person_b"], d["kind"], d["detail"],
                                                [did] * len(d)))


def decide_review(session, record_id: str, accept: bool) -> str:
    """Accept (link to the candidate) or reject (own person) one review item; returns the person.

    The decision is stored by its pair key and applies again to the same record in later
    deliveries. Everything moves in one transaction: events, idmap, the item's status.
    """
    session.require(roles.REVIEW_LINKAGE)
    conn = session.conn
    row = conn.execute("SELECT file, line, source, candidate_id, pair_key, birth_date, sex, name_kanji,"
                       " name_kana, status, evidence FROM review_items WHERE record_id=?",
                       (record_id,)).fetchone()
    if row is None:
        raise KeyError(record_id)
    file, line, source, candidate, pair_key, birth, sex, kanji, kana, status, evidence = row
    # One item can stand for several rows of one identity (a person's monthly receipts).
    try:
        item_rows = [(str(f), int(n)) for f, n in json.loads(evidence or "{}").get("rows", [])]
    except (ValueError, TypeError, AttributeError):
        item_rows = []
    item_rows = item_rows or [(file, line)]
    if status != "pending":
        raise ValueError("この項目は既に判断済みです")
    with transaction(conn):
        if accept:
            target = candidate
        else:
            taken = {r[0] for r in conn.execute("SELECT person_id FROM persons")}
            rng = np.random.default_rng()
            while True:
                target = str(int(rng.integers(10_000_000, 90_000_000)))
                if target not in taken:
                    break
            birth_ym = birth[:7] if birth else ""
            as_of = conn.execute("SELECT max(as_of) FROM deliveries").fetchone()[0]
            # Same definition as the engine: aged 0–6, i.e. before the 7th birthday.
            cutoff = (pd.Timestamp(as_of) - pd.DateOffset(years=7) + pd.Timedelta(days=1)).date().isoformat() \
                if as_of else "0000"
            conn.execute("INSERT INTO persons(person_id, kind, sex, birth_ym) VALUES (?,?,?,?)",
                         (target, "child" if birth and birth >= cutoff else "adult", sex, birth_ym))
            conn.execute("INSERT INTO identities(person_id, name_kanji, name_kana, birth_date, sex)"
                         " VALUES (?,?,?,?,?)", (target, kanji, kana, birth, sex))
        hh = conn.execute("SELECT household_id FROM persons WHERE person_id=?", (target,)).fetchone()
        conn.execute("UPDATE events SET person_id=?, household_id=? WHERE person_id=?",
                     (target, hh[0] if hh else "", record_id))
        conn.executemany("UPDATE idmap SET research_id=? WHERE file=? AND line=?",
                         [(target, f, n) for f, n in item_rows])
        conn.execute("UPDATE link_keys SET person_id=? WHERE person_id=?", (target, record_id))
        conn.execute("UPDATE review_items SET status=? WHERE record_id=?",
                     ("accepted" if accept else "rejected", record_id))
        conn.execute("INSERT OR REPLACE INTO linkage_decisions(pair_key, decision, record_id, candidate_id,"
                     " decided_by, decided_at) VALUES (?,?,?,?,?,?)",
                     (pair_key, "accept" if accept else "reject", record_id, candidate, session.user, now_iso()))
        session.audit("linkage_decision", "review_item", [record_id, candidate],
                      {"decision": "accept" if accept else "reject"})
    return target
