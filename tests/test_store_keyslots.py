"""Key slots and accounts: wrong password, lockout, password change, user removal."""

from __future__ import annotations

import json

import pytest

from app.store import keyslots
from app.store.accounts import AccountError, add_user, change_password, remove_user
from app.store.opening import StoreError, create_store, open_store
from app.store.roles import AccessDenied
from conftest import PASSWORD, open_as


def test_right_password_opens_and_logs_in(store_with_roles):
    path = store_with_roles.db_path
    session = open_as(path, "nurse")
    assert session.role == "nurse"
    assert session.visible_districts() == ["本庁", "逸見", "衣笠", "大津"]
    actions = [r[0] for r in session.conn.execute("SELECT action FROM audit_log ORDER BY seq")]
    assert actions[-1] == "login"
    session.close()


@pytest.mark.parametrize("user,password", [("nurse", "wrong-password-1"), ("nobody", PASSWORD)])
def test_wrong_password_or_unknown_user_same_clear_message(store_with_roles, user, password):
    with pytest.raises(StoreError) as err:
        open_store(store_with_roles.db_path, user, password)
    assert str(err.value) == "ユーザー名またはパスワードが違います"


def test_failed_logins_are_audited_at_next_login(store_with_roles):
    path = store_with_roles.db_path
    with pytest.raises(StoreError):
        open_store(path, "chief", "not-the-password-1")
    session = open_as(path, "admin")
    rows = session.conn.execute(
        "SELECT user, action FROM audit_log WHERE action='login_failed'").fetchall()
    assert rows == [("chief", "login_failed")]
    session.close()


def test_lockout_after_repeated_failures(store_with_roles):
    path = store_with_roles.db_path
    for _ in range(keyslots.LOCKOUT_FAILURES):
        with pytest.raises(StoreError):
            open_store(path, "chief", "not-the-password-1")
    with pytest.raises(StoreError, match="ロック"):
        open_store(path, "chief", PASSWORD)  # even the right password waits
    open_as(path, "nurse").close()          # other accounts are not affected


def test_password_change_rewraps_only_that_slot(store_with_roles):
    path = store_with_roles.db_path
    before = json.loads(keyslots.slot_path(path).read_text())["slots"]
    session = open_as(path, "nurse")
    change_password(session, PASSWORD, "new-password-99")
    session.close()
    after = json.loads(keyslots.slot_path(path).read_text())["slots"]
    assert after["nurse"]["wrapped"] != before["nurse"]["wrapped"]
    assert {k: v for k, v in after.items() if k != "nurse"} == {k: v for k, v in before.items() if k != "nurse"}
    with pytest.raises(StoreError):
        open_store(path, "nurse", PASSWORD)
    open_store(path, "nurse", "new-password-99").close()


def test_password_change_needs_the_old_password(store_with_roles):
    session = open_as(store_with_roles.db_path, "nurse")
    with pytest.raises(keyslots.BadCredentials):
        change_password(session, "wrong-old-pass-1", "new-password-99")
    session.close()


def test_password_policy(new_store):
    for weak in ("short1!", "onlyletterslong", "1234567890123"):
        with pytest.raises(AccountError):
            add_user(new_store, "weak", "nurse", weak)


def test_user_removal_removes_the_slot(store_with_roles):
    path = store_with_roles.db_path
    remove_user(store_with_roles, "chief")
    assert "chief" not in json.loads(keyslots.slot_path(path).read_text())["slots"]
    with pytest.raises(StoreError):
        open_store(path, "chief", PASSWORD)
    with pytest.raises(AccountError):
        remove_user(store_with_roles, "admin")  # not oneself


def test_only_data_admin_manages_users(store_with_roles):
    session = open_as(store_with_roles.db_path, "manager")
    with pytest.raises(AccessDenied):
        add_user(session, "x_user", "nurse", PASSWORD)
    session.close()


def test_unknown_area_is_refused(new_store):
    with pytest.raises(ValueError):
        add_user(new_store, "n2", "nurse", PASSWORD, areas=["月面"])


def test_create_refuses_existing_store(new_store):
    with pytest.raises(StoreError):
        create_store(new_store.db_path, "admin", PASSWORD)


def test_missing_or_broken_slot_file_is_a_clear_message(new_store):
    path = new_store.db_path
    keyslots.slot_path(path).write_text("{not json")
    with pytest.raises(StoreError, match="鍵ファイル"):
        open_store(path, "admin", PASSWORD)
    keyslots.slot_path(path).unlink()
    with pytest.raises(StoreError, match="鍵ファイル"):
        open_store(path, "admin", PASSWORD)


# --- issue 16: the slot file's sealed sections, the grant key, older files and stores ---

def test_only_data_admin_slots_carry_the_grant_key(store_with_roles):
    from app.store.keyslots import SlotFile

    slots = SlotFile.load(store_with_roles.db_path)
    assert "sign_wrapped" in slots.data["slots"]["admin"]
    assert all("sign_wrapped" not in slots.data["slots"][u] for u in ("nurse", "manager", "chief", "auditor"))
    assert slots.unwrap_keys("nurse", PASSWORD)[1] is None
    from app.store.accounts import public_hex

    assert public_hex(slots.unwrap_keys("admin", PASSWORD)[1]) == slots.grant_key


def test_second_admin_gets_the_grant_key_and_keeps_it_after_a_reset(store_with_roles):
    from app.store.accounts import add_user, change_password
    from app.store.keyslots import SlotFile

    add_user(store_with_roles, "admin2", "data_admin", PASSWORD)
    change_password(store_with_roles, "", "another-pass-77", name="admin2")
    key = SlotFile.load(store_with_roles.db_path).unwrap_keys("admin2", "another-pass-77")[1]
    assert key == store_with_roles.sign_key
    session = open_store(store_with_roles.db_path, "admin2", "another-pass-77")
    add_user(session, "nurse2", "nurse", PASSWORD, areas=["北"])   # admin2 can sign grants
    session.close()
    open_store(store_with_roles.db_path, "nurse2", PASSWORD).close()


def test_format_1_slot_file_is_sealed_and_noted(store_with_roles):
    from app.store.keyslots import slot_path

    path = store_with_roles.db_path
    store_with_roles.close()
    data = json.loads(slot_path(path).read_text("utf-8"))
    data["format"] = 1
    data.pop("failures_seal")
    slot_path(path).write_text(json.dumps(data), "utf-8")
    session = open_store(path, "auditor", PASSWORD)
    actions = [r[0] for r in session.conn.execute("SELECT action FROM audit_log ORDER BY seq")]
    session.close()
    # A store that had seen the sealed format notices the downgrade as well.
    assert "keyslot_upgraded" in actions and "keyslot_downgraded" in actions
    assert json.loads(slot_path(path).read_text("utf-8"))["format"] == 2


def test_store_from_before_grants_is_signed_at_the_first_admin_login(store_with_roles):
    from app.store.database import connect
    from app.store.keyslots import SlotFile

    path = store_with_roles.db_path
    store_with_roles.close()
    # Make it look like a store made before grants existed.
    slots = SlotFile.load(path)
    key = slots.unwrap("admin", PASSWORD)
    slots.data.pop("grant_key")
    for slot in slots.data["slots"].values():
        slot.pop("sign_wrapped", None)
        slot.pop("sign_nonce", None)
    slots.save()
    conn = connect(path, key)
    conn.execute("DELETE FROM account_grants")
    conn.execute("DELETE FROM meta WHERE key='grant_key'")
    conn.close()
    open_store(path, "nurse", PASSWORD).close()          # legacy: allowed until an admin signs
    admin = open_store(path, "admin", PASSWORD)
    assert admin.sign_key is not None
    assert admin.conn.execute("SELECT count(*) FROM account_grants").fetchone()[0] == 6
    admin.close()
    from app.store.audit_queries import full_verification

    nurse = open_store(path, "nurse", PASSWORD)
    assert full_verification(nurse.conn, path).ok
    nurse.close()
