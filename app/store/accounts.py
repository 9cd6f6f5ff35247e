"""User accounts: rows in ``users`` plus one key slot each, kept in step."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from app.store import roles
from app.store.audit import now_iso
from app.store.database import transaction
from app.store.keyslots import SlotFile
from app.store.session import Session, validate_areas

_NAME = re.compile(r"^[A-Za-z0-9_.\-]{2,40}$")
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A user-facing problem with an account operation (message in Japanese)."""


def check_password_policy(password: str) -> None:
    """At least 10 characters from at least two classes (letters, digits, symbols)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください")
    classes = sum(bool(re.search(p, password)) for p in (r"[A-Za-z]", r"[0-9]", r"[^A-Za-z0-9]"))
    if classes < 2:
        raise AccountError("パスワードには英字・数字・記号のうち2種類以上を含めてください")


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise AccountError("ユーザー名は英数字と _ . - で2〜40文字にしてください")


@dataclass
class Account:
    name: str
    role: str
    areas: list[str]
    display_name: str
    senior: bool
    active: bool
    created_at: str
    password_changed_at: str


def insert_account(conn, name: str, role: str, areas: list[str], created_by: str | None,
                   display_name: str = "", senior: bool = False) -> None:
    if role not in roles.ROLES:
        raise AccountError(f"不明な役割です: {role}")
    now = now_iso()
    conn.execute(
        "INSERT INTO users(name, role, areas, display_name, senior, created_at, created_by,"
        " password_changed_at) VALUES (?,?,?,?,?,?,?,?)",
        (name, role, json.dumps(areas, ensure_ascii=False), display_name, int(senior), now, created_by, now))


def list_accounts(session: Session) -> list[Account]:
    session.require(roles.MANAGE_USERS)
    rows = session.conn.execute(
        "SELECT name, role, areas, display_name, senior, active, created_at, password_changed_at"
        " FROM users ORDER BY name").fetchall()
    return [Account(r[0], r[1], json.loads(r[2]), r[3], bool(r[4]), bool(r[5]), r[6], r[7]) for r in rows]


def add_user(session: Session, name: str, role: str, password: str,
             areas: list[str] | None = None, senior: bool = False, display_name: str = "") -> None:
    """Create an account (data_admin only): a users row and a key slot."""
    session.require(roles.MANAGE_USERS)
    check_name(name)
    check_password_policy(password)
    areas = validate_areas(list(areas or []))
    slots = SlotFile.load(session.db_path)
    if name in slots.users:
        raise AccountError(f"ユーザー {name} は既に存在します")
    with transaction(session.conn):
        insert_account(session.conn, name, role, areas, session.user, display_name, senior)
        session.audit("user_add", "user", [name], {"role": role, "areas": areas})
    slots.add(name, password, session.db_key)
    slots.save()


def remove_user(session: Session, name: str) -> None:
    """Delete an account and its key slot; the last data_admin cannot be removed."""
    session.require(roles.MANAGE_USERS)
    if name == session.user:
        raise AccountError("自分自身のアカウントは削除できません")
    admins = session.conn.execute("SELECT count(*) FROM users WHERE role='data_admin' AND name<>?", (name,)).fetchone()[0]
    row = session.conn.execute("SELECT role FROM users WHERE name=?", (name,)).fetchone()
    if row is None:
        raise AccountError(f"ユーザー {name} は存在しません")
    if row[0] == roles.DATA_ADMIN and admins == 0:
        raise AccountError("最後のデータ管理担当は削除できません")
    with transaction(session.conn):
        session.conn.execute("DELETE FROM users WHERE name=?", (name,))
        session.audit("user_remove", "user", [name])
    slots = SlotFile.load(session.db_path)
    slots.remove(name)
    slots.save()


def change_password(session: Session, old_password: str, new_password: str,
                    name: str | None = None) -> None:
    """Rewrap one slot. Own password: the old one must be right. Another user's
    (reset by data_admin): needs MANAGE_USERS."""
    target = name or session.user
    slots = SlotFile.load(session.db_path)
    if target == session.user:
        slots.unwrap(target, old_password)  # raises BadCredentials
    else:
        session.require(roles.MANAGE_USERS)
        if target not in slots.users:
            raise AccountError(f"ユーザー {target} は存在しません")
    check_password_policy(new_password)
    slots.add(target, new_password, session.db_key)
    slots.save()
    with transaction(session.conn):
        session.conn.execute("UPDATE users SET password_changed_at=? WHERE name=?", (now_iso(), target))
        session.audit("password_change", "user", [target])
