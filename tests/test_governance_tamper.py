"""Tampering as an insider would do it, and what notices (docs/SECURITY.md names these tests).

Each test changes the store or its key-slot file *around* the application (another SQLite
client with the DB key, a text editor on the JSON file, a copy of an older file) and then
uses the command line or the login as the auditor or a user would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import time

import pytest

from app.commands import main
from app.store import audit
from app.store.database import connect
from app.store.keyslots import LOCKOUT_SECONDS, SlotFile, slot_path
from app.store.opening import StoreError, open_store
from conftest import PASSWORD


@pytest.fixture
def pwfile(tmp_path):
    f = tmp_path / "pw.txt"
    f.write_text(PASSWORD + "\n")
    return f


@pytest.fixture
def store(store_with_roles):
    """A store with one account per role and some history; closed, so the files are at rest."""
    path = store_with_roles.db_path
    for i in range(60):
        store_with_roles.audit("view_child", "person", [f"P{i:04d}"])
    store_with_roles.close()
    return path


def _verify(path, pwfile, capsys, *extra, user="auditor"):
    code = main(["audit-verify", "--db", str(path), "--user", user, "--password-file", str(pwfile), *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


def _raw(path):
    """The insider's own SQLite connection: the DB key from their own slot, triggers dropped."""
    key = SlotFile.load(path).unwrap("nurse", PASSWORD)
    conn = connect(path, key)
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    conn.execute("DROP TRIGGER IF EXISTS audit_anchors_no_delete")
    conn.execute("DROP TRIGGER IF EXISTS audit_anchors_no_update")
    return conn


def _reseal_everything(conn):
    """What a DB-key holder can do with the anchor secret from meta: rehash the chain from
    the start and re-seal every anchor and the head inside the store."""
    key = audit._anchor_key(conn)
    rows = conn.execute(f"SELECT {', '.join(audit._FIELDS)} FROM audit_log ORDER BY seq").fetchall()
    prev = audit.GENESIS
    conn.execute("DELETE FROM audit_anchors")
    for values in rows:
        row = dict(zip(audit._FIELDS, values))
        h = audit._entry_hash(prev, row)
        conn.execute("UPDATE audit_log SET prev_hash=?, hash=? WHERE seq=?", (prev, h, row["seq"]))
        if row["seq"] % audit.ANCHOR_EVERY == 0:
            conn.execute("INSERT INTO audit_anchors VALUES (?,?,?)", (row["seq"], h, audit._seal(key, row["seq"], h)))
        prev = h
    last = rows[-1][0] if rows else 0
    conn.execute("UPDATE meta SET value=? WHERE key='audit_head'",
                 (json.dumps({"seq": last, "hash": prev, "mac": audit._seal(key, last, prev)}),))


def test_intact_store_verifies_and_the_kept_head_matches(store, pwfile, capsys, tmp_path):
    head = tmp_path / "usb" / "head.json"
    code, text = _verify(store, pwfile, capsys, "--save-head", str(head))
    assert code == 0, text
    kept = json.loads(head.read_text("utf-8"))
    assert kept["count"] > 60 and len(kept["hash"]) == 64 and kept["saved_at"] and kept["grant_key"]
    code, text = _verify(store, pwfile, capsys, "--against", str(head))
    assert code == 0 and "extends the head" in text


def test_verification_happens_before_the_login_is_written(store, pwfile, capsys):
    # Cut the newest entries and fix the in-store head (the old attack): the login used to
    # re-seal the head over the shortened tail before verifying.
    conn = _raw(store)
    conn.execute("DELETE FROM audit_log WHERE seq > 40")
    _reseal_everything(conn)
    conn.close()
    code, text = _verify(store, pwfile, capsys)
    assert code == 1 and "鍵ファイル" in text


def test_rollback_of_the_store_file_alone(store, pwfile, capsys, tmp_path):
    old_copy = tmp_path / "old.db"
    shutil.copy(store, old_copy)
    session = open_store(store, "nurse", PASSWORD)
    session.audit("view_child", "person", ["P9999"])
    session.close()
    shutil.copy(old_copy, store)  # the older store file under the newer key-slot file
    code, text = _verify(store, pwfile, capsys)
    assert code == 1 and "鍵ファイルに保管した操作ログの末尾情報より古くなっています" in text
    # The login does not paper over it: the slot file keeps the newer head until a data_admin
    # acknowledges the restore, which is written into the log.
    code, text = _verify(store, pwfile, capsys)
    assert code == 1
    code, text = _verify(store, pwfile, capsys, "--accept-restore", "--reason", "backup restored", user="admin")
    assert code == 0, text
    code, text = _verify(store, pwfile, capsys)
    assert code == 0, text
    session = open_store(store, "auditor", PASSWORD)
    row = session.conn.execute("SELECT detail FROM audit_log WHERE action='restore_acknowledged'").fetchone()
    assert json.loads(row[0])["reason"] == "backup restored"
    session.close()


def test_rollback_of_store_and_slot_file_is_caught_by_the_kept_head(store, pwfile, capsys, tmp_path):
    old_db, old_slots = tmp_path / "old.db", tmp_path / "old.slots"
    shutil.copy(store, old_db)
    shutil.copy(slot_path(store), old_slots)
    session = open_store(store, "nurse", PASSWORD)
    session.audit("view_child", "person", ["P9999"])
    session.close()
    head = tmp_path / "head.json"
    assert _verify(store, pwfile, capsys, "--save-head", str(head))[0] == 0
    shutil.copy(old_db, store)
    shutil.copy(old_slots, slot_path(store))
    code, text = _verify(store, pwfile, capsys)
    assert code == 0  # consistent old copies: nothing inside can tell (SECURITY.md, known limits)
    code, text = _verify(store, pwfile, capsys, "--against", str(head))
    assert code == 1 and "に保管した操作ログの末尾から続いていません" in text and "古い複製に戻された" in text


def test_truncated_log(store, pwfile, capsys, tmp_path):
    head = tmp_path / "head.json"
    assert _verify(store, pwfile, capsys, "--save-head", str(head))[0] == 0
    conn = _raw(store)
    conn.execute("DELETE FROM audit_log WHERE seq > 30")
    conn.close()
    code, text = _verify(store, pwfile, capsys)
    assert code == 1 and "末尾の" in text and "削除されています" in text
    conn = _raw(store)
    _reseal_everything(conn)
    conn.close()
    code, text = _verify(store, pwfile, capsys)
    assert code == 1 and "鍵ファイル" in text
    code, text = _verify(store, pwfile, capsys, "--against", str(head))
    assert code == 1


def test_emptied_log(store, pwfile, capsys):
    conn = _raw(store)
    conn.execute("DELETE FROM audit_log")
    conn.execute("DELETE FROM audit_anchors")
    conn.execute("DELETE FROM meta WHERE key='audit_head'")
    conn.close()
    code, text = _verify(store, pwfile, capsys)
    assert code == 1 and "ログが空ですが" in text
    # Even with the slot file's head copy removed as well (the verification above wrote a
    # login and its own entry, so the log restarted at entry 1).
    slots = SlotFile.load(store)
    slots.data.pop("audit_head")
    slots.save()
    code, text = _verify(store, pwfile, capsys)
    assert code == 1 and "データベース作成の記録から始まっていません" in text


def test_rehashed_chain_without_the_anchor_key(store, pwfile, capsys):
    conn = _raw(store)
    conn.execute("UPDATE audit_log SET user='someone_else' WHERE seq=10")
    rows = conn.execute(f"SELECT {', '.join(audit._FIELDS)} FROM audit_log ORDER BY seq").fetchall()
    prev = audit.GENESIS
    for values in rows:
        row = dict(zip(audit._FIELDS, values))
        h = audit._entry_hash(prev, row)
        conn.execute("UPDATE audit_log SET prev_hash=?, hash=? WHERE seq=?", (prev, h, row["seq"]))
        prev = h
    conn.close()
    code, text = _verify(store, pwfile, capsys)
    assert code == 1 and "書き換えられています" in text


def test_fully_resealed_rewrite_is_caught_by_the_kept_head(store, pwfile, capsys, tmp_path):
    head = tmp_path / "head.json"
    assert _verify(store, pwfile, capsys, "--save-head", str(head))[0] == 0
    conn = _raw(store)
    conn.execute("UPDATE audit_log SET user='someone_else' WHERE seq=10")
    _reseal_everything(conn)
    new_head = audit.outside_head(conn)
    conn.close()
    slots = SlotFile.load(store)
    slots.set_audit_head(new_head)  # the insider re-seals the slot file's copy too
    slots.save()
    code, text = _verify(store, pwfile, capsys)
    assert code == 0  # everything inside the store and the slot file agrees: SECURITY.md says so
    code, text = _verify(store, pwfile, capsys, "--against", str(head))
    assert code == 1 and "書き換えられた" in text


def test_edited_role_is_refused_at_login(store, pwfile, capsys):
    conn = _raw(store)
    conn.execute("UPDATE users SET role='cg_manager', areas='[]' WHERE name='nurse'")
    conn.close()
    with pytest.raises(StoreError, match="改ざん"):
        open_store(store, "nurse", PASSWORD)
    code, text = _verify(store, pwfile, capsys)
    assert code == 1 and "nurse" in text and "データ管理者の付与した内容と異なります" in text
    session = open_store(store, "auditor", PASSWORD)
    refused = session.conn.execute("SELECT user, detail FROM audit_log WHERE action='login_refused'").fetchall()
    session.close()
    assert refused and refused[0][0] == "nurse"


def test_edited_area_and_added_account_are_refused(store):
    conn = _raw(store)
    conn.execute("UPDATE users SET areas='[\"北\"]' WHERE name='nurse'")
    conn.execute("INSERT INTO users(name, role, areas, created_at, password_changed_at)"
                 " VALUES ('ghost','cg_manager','[]','x','x')")
    conn.close()
    with pytest.raises(StoreError, match="改ざん"):
        open_store(store, "nurse", PASSWORD)


def test_role_change_through_the_application_is_signed_and_audited(store, pwfile, capsys):
    code = main(["user-change", "--db", str(store), "--user", "admin", "--password-file", str(pwfile),
                 "--name", "nurse", "--area", "北"])
    assert code == 0, capsys.readouterr().err
    session = open_store(store, "nurse", PASSWORD)
    assert session.areas == ("北",)
    session.close()
    code, text = _verify(store, pwfile, capsys)
    assert code == 0, text


def test_swapped_signing_key(store, pwfile, capsys):
    # The insider makes their own grant key, re-signs a promotion, and swaps the key in meta.
    from app.store.accounts import new_grant_key, sign_grant

    conn = _raw(store)
    private, public = new_grant_key()
    conn.execute("UPDATE meta SET value=? WHERE key='grant_key'", (public,))
    conn.execute("UPDATE users SET role='cg_manager' WHERE name='nurse'")
    seq = conn.execute("SELECT seq FROM audit_log WHERE action='user_add' AND object_ids LIKE '%\"nurse\"%'").fetchone()[0]
    for (name,) in conn.execute("SELECT name FROM users").fetchall():
        grant_seq = json.loads(conn.execute("SELECT statement FROM account_grants WHERE name=?", (name,)).fetchone()[0])["audit_seq"]
        sign_grant(conn, private, name, seq if name == "nurse" else grant_seq)
    conn.close()
    with pytest.raises(StoreError, match="改ざん"):
        open_store(store, "nurse", PASSWORD)   # the slot file pins the real key
    with pytest.raises(StoreError, match="改ざん"):
        open_store(store, "admin", PASSWORD)


def test_grant_without_its_audit_entry(store, pwfile, capsys):
    # A data_admin (holding the grant key) promotes someone outside the application:
    # the signature verifies, but no audit entry made that grant.
    from app.store.accounts import sign_grant

    sign_key = SlotFile.load(store).unwrap_keys("admin", PASSWORD)[1]
    conn = _raw(store)
    conn.execute("UPDATE users SET role='cg_manager' WHERE name='nurse'")
    sign_grant(conn, sign_key, "nurse", 3)
    conn.close()
    code, text = _verify(store, pwfile, capsys)
    assert code == 1 and "その付与の記録ではありません" in text


def _lock(store, user="nurse"):
    for _ in range(5):
        with pytest.raises(StoreError):
            open_store(store, user, "wrong-password-9")


def test_edited_failure_counter_keeps_the_lock(store):
    _lock(store)
    with pytest.raises(StoreError, match="ロック"):
        open_store(store, "nurse", PASSWORD)
    data = json.loads(slot_path(store).read_text("utf-8"))
    data["failures"]["nurse"] = {"count": 0, "log": []}   # lift the lock, erase the failures
    slot_path(store).write_text(json.dumps(data), "utf-8")
    with pytest.raises(StoreError, match="ロック"):
        open_store(store, "nurse", PASSWORD)
    # Every account is locked once the seal is broken, for at most LOCKOUT_SECONDS.
    with pytest.raises(StoreError, match="ロック"):
        open_store(store, "admin", PASSWORD)
    later = time.time() + LOCKOUT_SECONDS + 5
    assert SlotFile.load(store, now=later).lock_remaining("admin", later) == 0


def test_deleted_failure_section_keeps_the_lock(store):
    _lock(store)
    data = json.loads(slot_path(store).read_text("utf-8"))
    data.pop("failures")
    data.pop("failures_seal")
    slot_path(store).write_text(json.dumps(data), "utf-8")
    with pytest.raises(StoreError, match="ロック"):
        open_store(store, "nurse", PASSWORD)


def test_resetting_the_counter_between_guesses_is_noticed(store):
    with pytest.raises(StoreError):
        open_store(store, "nurse", "wrong-password-9")
    data = json.loads(slot_path(store).read_text("utf-8"))
    data["failures"] = {}
    slot_path(store).write_text(json.dumps(data), "utf-8")
    with pytest.raises(StoreError, match="ロック"):
        open_store(store, "nurse", PASSWORD)


def test_tampering_is_written_to_the_audit_log_at_the_next_login(store, monkeypatch):
    _lock(store)
    data = json.loads(slot_path(store).read_text("utf-8"))
    data["failures"] = {}
    slot_path(store).write_text(json.dumps(data), "utf-8")
    with pytest.raises(StoreError):
        open_store(store, "nurse", PASSWORD)
    # After the lock has run out (simulated: the clock moves on), the next login records it.
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + LOCKOUT_SECONDS + 5)
    session = open_store(store, "auditor", PASSWORD)
    actions = [r[0] for r in session.conn.execute("SELECT action FROM audit_log ORDER BY seq")]
    session.close()
    assert "keyslot_tampered" in actions


def test_far_future_lock_is_bounded(store):
    slots = SlotFile.load(store)
    slots.data["failures"]["admin"] = {"count": 0, "log": [], "locked_until": time.time() + 30 * 365 * 86400}
    slots.save()   # even if the seal were forged (terminal OS access), the lock is bounded
    now = time.time()
    left = SlotFile.load(store).lock_remaining("admin", now)
    assert 0 < left <= LOCKOUT_SECONDS + 1


def test_slot_file_head_copy_is_sealed(store, pwfile, capsys):
    slots = SlotFile.load(store)
    head = dict(slots.audit_head)
    head["seq"] = head["seq"] + 5
    head["mac"] = hmac.new(b"x" * 32, b"guess", hashlib.sha256).hexdigest()
    slots.set_audit_head(head)
    slots.save()
    code, text = _verify(store, pwfile, capsys)
    assert code == 1 and "偽造" in text


def test_lock_survives_a_resealed_slot_file(store):
    # Even rewritten through the application's own code (a valid seal: someone with the
    # terminal secret), the terminal's copy outside the store folder keeps the lock.
    _lock(store)
    slots = SlotFile.load(store)
    slots.data["failures"] = {}
    slots.save()
    with pytest.raises(StoreError, match="ロック"):
        open_store(store, "nurse", PASSWORD)
    later = time.time() + LOCKOUT_SECONDS + 5
    assert SlotFile.load(store).lock_remaining("nurse", later) == 0


def test_resealed_reset_between_guesses_still_counts(store):
    for _ in range(4):
        with pytest.raises(StoreError):
            open_store(store, "nurse", "wrong-password-9")
    slots = SlotFile.load(store)
    slots.data["failures"] = {}
    slots.save()
    with pytest.raises(StoreError):
        open_store(store, "nurse", "wrong-password-9")     # the fifth guess
    with pytest.raises(StoreError, match="ロック"):
        open_store(store, "nurse", PASSWORD)
