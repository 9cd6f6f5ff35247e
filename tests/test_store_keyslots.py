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
