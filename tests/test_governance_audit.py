"""Audit trail: the chain, the HMAC anchors and the sealed head catch modified, deleted,
reordered and rewritten entries; the auditor's search and unusual-access report."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from app.store import audit, roles
from app.store.audit_queries import search_log, unusual_access, verify_log
from app.store.database import transaction
from app.store.opening import create_store
from app.store.session import Session

PASSWORD = "governance-test-1"


@pytest.fixture
def store(tmp_path):
    session = create_store(tmp_path / "a.db", "admin", PASSWORD)
    with transaction(session.conn):
        for i in range(120):
            session.audit("view_child", "person", [f"10000{i:02d}"], {"n": i})
    yield session
    session.close()


def _unprotect(conn):
    # An attacker holding the key can drop the triggers; the chain must still tell.
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")


def test_intact_log_verifies(store):
    result = audit.verify(store.conn)
    assert result.ok, result.reason
    assert result.entries == 121
    # Anchors were written every ANCHOR_EVERY entries.
    anchors = [r[0] for r in store.conn.execute("SELECT seq FROM audit_anchors ORDER BY seq")]
    assert anchors == [50, 100]


def test_triggers_refuse_update_and_delete(store):
    with pytest.raises(Exception, match="append-only"):
        store.conn.execute("UPDATE audit_log SET user='x' WHERE seq=3")
    with pytest.raises(Exception, match="append-only"):
        store.conn.execute("DELETE FROM audit_log WHERE seq=3")


def test_modified_entry_is_reported(store):
    _unprotect(store.conn)
    store.conn.execute("UPDATE audit_log SET object_ids='[\"9999999\"]' WHERE seq=37")
    result = audit.verify(store.conn)
    assert not result.ok and result.first_broken == 37
    assert "内容が書き換えられています" in result.reason


def test_deleted_entry_is_reported(store):
    _unprotect(store.conn)
    store.conn.execute("DELETE FROM audit_log WHERE seq=64")
    result = audit.verify(store.conn)
    assert not result.ok and result.first_broken == 64


def test_deleted_tail_is_reported(store):
    _unprotect(store.conn)
    store.conn.execute("DELETE FROM audit_log WHERE seq > 110")
    result = audit.verify(store.conn)
    assert not result.ok and result.first_broken == 111
    assert "末尾" in result.reason


def test_reordered_entries_are_reported(store):
    _unprotect(store.conn)
    rows = {r[0]: r[1:] for r in store.conn.execute(
        "SELECT seq, ts, user, role, terminal, action, object_type, object_ids, detail, prev_hash, hash"
        " FROM audit_log WHERE seq IN (20, 21)")}
    # Swap two entries' contents (including their hashes) keeping the sequence numbers.
    for seq, other in ((20, 21), (21, 20)):
        store.conn.execute(
            "UPDATE audit_log SET ts=?, user=?, role=?, terminal=?, action=?, object_type=?, object_ids=?,"
            " detail=?, prev_hash=?, hash=? WHERE seq=?", (*rows[other], seq))
    result = audit.verify(store.conn)
    assert not result.ok and result.first_broken == 20


def test_whole_chain_rewritten_is_caught_by_the_anchors(store):
    """Rebuild every SHA-256 hash after changing entry 10: the chain walk passes,
    the HMAC anchors (key inside the store, not in the rewriter's scheme) do not."""
    _unprotect(store.conn)
    store.conn.execute("UPDATE audit_log SET user='someone_else' WHERE seq=10")
    prev = audit.GENESIS
    for values in store.conn.execute(
            "SELECT seq, ts, user, role, terminal, action, object_type, object_ids, detail FROM audit_log ORDER BY seq").fetchall():
        row = dict(zip(audit._FIELDS, values))
        new_hash = audit._entry_hash(prev, row)
        store.conn.execute("UPDATE audit_log SET prev_hash=?, hash=? WHERE seq=?", (prev, new_hash, row["seq"]))
        prev = new_hash
    result = audit.verify(store.conn)
    assert not result.ok
    assert result.first_broken == 1 and "書き換えられています" in result.reason


def test_verify_log_role_and_logging(store):
    auditor = Session(store.conn, store.db_path, "aud", roles.AUDITOR, (), store.terminal_id)
    nurse = Session(store.conn, store.db_path, "n", roles.NURSE, ("中央",), store.terminal_id)
    assert verify_log(auditor).ok
    with pytest.raises(roles.AccessDenied):
        verify_log(nurse)
    last = store.conn.execute("SELECT action, user FROM audit_log ORDER BY seq DESC LIMIT 2").fetchall()
    assert ("audit_verify", "aud") in last
    # Logging the denial and the verification kept the chain valid.
    assert audit.verify(store.conn).ok


def test_search_filters_by_user_action_period(store):
    auditor = Session(store.conn, store.db_path, "aud", roles.AUDITOR, (), store.terminal_id)
    with transaction(store.conn):
        audit.record(store.conn, user="nurse1", role="nurse", terminal="t", action="export",
                     ts="2024-01-15T10:00:00+09:00")
        audit.record(store.conn, user="nurse1", role="nurse", terminal="t", action="view_child",
                     object_ids=["1000001"], ts="2024-02-15T10:00:00+09:00")
    assert len(search_log(auditor, user="nurse1")) == 2
    assert list(search_log(auditor, user="nurse1", action="export")["ts"]) == ["2024-01-15T10:00:00+09:00"]
    assert len(search_log(auditor, start="2024-02-01", end="2024-02-28")) == 1
    assert len(search_log(auditor, action="view_child")) == 121
    with pytest.raises(roles.AccessDenied):
        search_log(Session(store.conn, store.db_path, "c", roles.CHIEF, (), store.terminal_id))


def test_unusual_access_bursts_and_outside_area(store):
    auditor = Session(store.conn, store.db_path, "aud", roles.AUDITOR, (), store.terminal_id)
    store.conn.execute("INSERT INTO users(name, role, areas, created_at, password_changed_at)"
                       " VALUES ('n_chuo', 'nurse', ?, 'x', 'x')", (json.dumps(["中央"]),))
    base = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    with transaction(store.conn):
        # 30 different children in 6 minutes: a burst.
        for i in range(30):
            audit.record(store.conn, user="n_chuo", role="nurse", terminal="t", action="view_child",
                         object_ids=[f"20000{i:02d}"], detail={"district": "本庁"},
                         ts=(base + dt.timedelta(seconds=12 * i)).isoformat())
        # Slow, normal work later the same day: 10 children an hour apart, one outside 中央.
        for i in range(10):
            audit.record(store.conn, user="n_chuo", role="nurse", terminal="t", action="view_child",
                         object_ids=[f"30000{i:02d}"], detail={"district": "浦賀" if i == 3 else "本庁"},
                         ts=(base + dt.timedelta(hours=2 + i)).isoformat())
    report = unusual_access(auditor, start="2024-05-01", end="2024-05-01")
    bursts = report[report["kind"] == "burst"]
    assert len(bursts) == 1 and bursts.iloc[0]["user"] == "n_chuo" and bursts.iloc[0]["children"] == 30
    outside = report[report["kind"] == "outside_area"]
    assert len(outside) == 1 and outside.iloc[0]["children"] == 1 and "浦賀" in outside.iloc[0]["note"]
    # A stricter threshold finds nothing in the slow part alone.
    assert unusual_access(auditor, start="2024-05-01", end="2024-05-01", burst_children=40).query("kind=='burst'").empty
