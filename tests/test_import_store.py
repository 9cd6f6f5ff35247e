"""Importing into the encrypted store: atomicity, idempotence, stable IDs, review, roles, CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.engine.ingest.sample import write_sample_delivery
from app.store import frames
from app.store.importing import ImportFailed, decide_review, import_delivery
from app.store.queries import identity as identity_q
from app.store.queries import linkage as linkage_q
from app.store.roles import AccessDenied

from conftest import PASSWORD, open_as

DATA_TABLES = ["persons", "identities", "relations", "events", "sources", "quarantine", "idmap",
               "link_keys", "review_items", "duplicates", "deliveries", "linkage_decisions"]


def snapshot(conn) -> dict:
    return {t: sorted(map(tuple, conn.execute(f"SELECT * FROM {t}").fetchall()), key=repr)
            for t in DATA_TABLES}


def idmap(conn) -> dict:
    return {(f, line): r for f, line, r in conn.execute("SELECT file, line, research_id FROM idmap")}


@pytest.fixture
def deliveries(tmp_path):
    return write_sample_delivery(tmp_path / "d1"), write_sample_delivery(tmp_path / "d2", version=2)


def test_import_reconciles_and_fills_every_table(new_store, deliveries):
    summary = import_delivery(new_store, deliveries[0])
    assert summary.reconciled() and not summary.already_imported
    conn = new_store.conn
    for table in ("persons", "identities", "relations", "events", "sources", "quarantine", "idmap"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
    rec = linkage_q.reconciliation(new_store)
    assert (rec["rows_read"] == rec["rows_imported"] + rec["rows_quarantined"]).all()
    src = frames.sources_frame(conn).set_index("file_name")
    assert str(src.loc["jumin.csv", "as_of"].date()) == "2024-12-01"
    # Analysis tables hold no names; identities do.
    persons = frames.persons_frame(conn)
    assert "name_kanji" not in persons.columns and persons["birth_ym"].str.fullmatch(r"\d{4}-\d{2}|").all()
    ev = frames.events_frame(conn)
    assert ev["date"].dtype.kind == "M" and ev["event_id"].is_unique


def test_reimport_of_the_same_delivery_changes_nothing(new_store, deliveries):
    import_delivery(new_store, deliveries[0])
    before = snapshot(new_store.conn)
    again = import_delivery(new_store, deliveries[0])
    assert again.already_imported
    assert snapshot(new_store.conn) == before


def test_research_ids_stay_stable_across_deliveries(new_store, deliveries):
    import_delivery(new_store, deliveries[0])
    first = idmap(new_store.conn)
    summary = import_delivery(new_store, deliveries[1])
    second = idmap(new_store.conn)
    assert not summary.already_imported
    assert all(second[k] == v for k, v in first.items() if k in second)
    assert ("jumin.csv", 19) in second and second[("jumin.csv", 19)] not in first.values()
    # A newer extract replaces the older one's rows of that source (no doubled events).
    conn = new_store.conn
    heights = conn.execute("SELECT value_num FROM events WHERE type='height' AND source_file='kenshin.csv'"
                           " AND source_line=2").fetchall()
    assert heights == [(63.3,)]
    as_of = dict(conn.execute("SELECT file_name, as_of FROM sources"))
    assert as_of["jumin.csv"] == "2025-01-05"


def test_a_fatal_file_leaves_the_store_exactly_as_it_was(new_store, deliveries, tmp_path):
    import_delivery(new_store, deliveries[0])
    before = snapshot(new_store.conn)
    broken = tmp_path / "broken"
    shutil.copytree(deliveries[1], broken)
    (broken / "yobo.csv").write_text("宛名番号,氏名\n1,a\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as exc:
        import_delivery(new_store, broken)
    assert exc.value.file == "yobo.csv" and "ワクチン" in exc.value.reason
    assert snapshot(new_store.conn) == before


def test_a_cancel_after_reading_leaves_the_store_as_it_was(new_store, deliveries):
    from app.engine.progress import Cancelled, Progress

    progress = Progress()
    calls = []

    def cancel_late(fraction, message):
        calls.append(fraction)
        if fraction > 0.8:
            progress.cancel()

    progress._callback = cancel_late
    with pytest.raises(Cancelled):
        import_delivery(new_store, deliveries[0], progress=progress)
    assert new_store.conn.execute("SELECT count(*) FROM persons").fetchone()[0] == 0


def test_review_decisions_move_rows_and_persist_into_the_next_delivery(new_store, deliveries):
    import_delivery(new_store, deliveries[0])
    items = linkage_q.review_list(new_store)
    assert len(items) == 1
    item = items.iloc[0]
    assert item["name_kanji"] == "濱田　葵" and item["cand_name_kanji"] == "濱田 葵"
    target = decide_review(new_store, item["record_id"], accept=True)
    assert target == item["candidate_id"]
    conn = new_store.conn
    assert idmap(conn)[("RECEIPTC.UKE", 9)] == target
    assert conn.execute("SELECT count(*) FROM events WHERE person_id=?", (item["record_id"],)).fetchone()[0] == 0
    import_delivery(new_store, deliveries[1])
    assert idmap(conn)[("RECEIPTC.UKE", 9)] == target
    assert linkage_q.review_list(new_store).empty


def test_rejected_review_item_becomes_its_own_person(new_store, deliveries):
    import_delivery(new_store, deliveries[0])
    item = linkage_q.review_list(new_store).iloc[0]
    target = decide_review(new_store, item["record_id"], accept=False)
    assert target != item["candidate_id"] and len(target) == 8
    assert idmap(new_store.conn)[("RECEIPTC.UKE", 9)] == target
    import_delivery(new_store, deliveries[1])
    assert idmap(new_store.conn)[("RECEIPTC.UKE", 9)] not in ("", item["candidate_id"])


def test_duplicate_list_and_quarantine_for_data_admin(new_store, deliveries):
    import_delivery(new_store, deliveries[0])
    dup = linkage_q.duplicate_list(new_store)
    assert {"homonym", "twins"} <= set(dup["kind"])
    q = linkage_q.quarantine(new_store)
    assert len(q) == 6 and q["reason"].str.len().gt(0).all()
    assert "氏名" in q.set_index(["file", "line"]).loc[("kenshin.csv", 11), "reason"]


def test_roles_identity_reads_are_checked_and_audited(store_with_roles, deliveries):
    import_delivery(store_with_roles, deliveries[0])
    path = store_with_roles.db_path
    conn = store_with_roles.conn
    child = conn.execute("SELECT research_id FROM idmap WHERE file='jumin.csv' AND line=4").fetchone()[0]
    manager = open_as(path, "manager")
    try:
        who = identity_q.identity(manager, child, purpose="test")
        assert who["name_kanji"] == "髙橋　一郎"
        n = manager.conn.execute("SELECT count(*) FROM audit_log WHERE action='identity_show'").fetchone()[0]
        assert n == 1
        with pytest.raises(AccessDenied):
            linkage_q.quarantine(manager)
    finally:
        manager.close()
    chief = open_as(path, "chief")
    try:
        with pytest.raises(AccessDenied):
            identity_q.identity(chief, child)
    finally:
        chief.close()
    nurse = open_as(path, "nurse")   # area 中央: the child lives in 久里浜 (南)
    try:
        assert identity_q.identity(nurse, child) is None
    finally:
        nurse.close()


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=cwd, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[1]),
                               "QT_QPA_PLATFORM": "offscreen", "HOME": str(cwd)})


def test_cli_import_and_export_idmap(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD + "\n", encoding="utf-8")
    write_sample_delivery(tmp_path / "d1")
    db = str(tmp_path / "s.db")
    login = ["--db", db, "--user", "admin", "--password-file", str(pw)]
    assert _cli("init", "--db", db, "--user", "admin", "--password-file", str(pw), cwd=tmp_path).returncode == 0
    out = _cli("import", *login, str(tmp_path / "d1"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "jumin.csv" in out.stdout
    assert _cli("terminal-register", *login, cwd=tmp_path).returncode == 0
    out = _cli("export", *login, "--what", "idmap", "--out", str(tmp_path / "idmap.csv"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = (tmp_path / "idmap.csv").read_text("utf-8-sig").splitlines()
    assert lines[0] == "file,line,research_id"
    assert "RECEIPTC.UKE,9," in lines            # waiting in review: empty research_id
    bad = _cli("import", *login, str(tmp_path / "nowhere"), cwd=tmp_path)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1
