"""User accounts: rows in ``users`` plus one key slot each, kept in step.

Each account's role, areas, senior flag and active flag are also a **grant**: a canonical
JSON statement signed with the data_admins' Ed25519 grant key (``account_grants``). The
private key is wrapped only in data_admin key slots; the public key is pinned in ``meta``
and in the key-slot file. Anyone holding the DB key can edit ``users``, but not re-sign:
the login checks the user's own grant, ``audit-verify`` checks every grant, and each grant
names the audit entry that made it (docs/SECURITY.md, mechanism 6).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.store import meta, roles
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


GRANT_KEY = "grant_key"
# Audit actions that may make a grant (the grant names the entry's seq).
GRANT_ACTIONS = ("store_create", "user_add", "user_change", "user_remove", "grants_bootstrap")


def new_grant_key() -> tuple[bytes, str]:
    """(32-byte Ed25519 private key, public key as hex)."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    return raw, public_hex(raw)


def public_hex(private_raw: bytes) -> str:
    public = Ed25519PrivateKey.from_private_bytes(private_raw).public_key()
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def _statement(conn, name: str, audit_seq: int) -> str | None:
    row = conn.execute("SELECT role, areas, senior, active FROM users WHERE name = ?", (name,)).fetchone()
    if row is None:
        return None
    return json.dumps({"name": name, "role": row[0], "areas": json.loads(row[1] or "[]"),
                       "senior": bool(row[2]), "active": bool(row[3]), "audit_seq": int(audit_seq)},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sign_grant(conn, sign_key: bytes, name: str, audit_seq: int) -> None:
    """Sign the current ``users`` row of ``name`` (call inside the change's transaction)."""
    statement = _statement(conn, name, audit_seq)
    if statement is None:
        conn.execute("DELETE FROM account_grants WHERE name = ?", (name,))
        return
    signature = Ed25519PrivateKey.from_private_bytes(sign_key).sign(statement.encode("utf-8")).hex()
    conn.execute("INSERT INTO account_grants(name, statement, signature) VALUES (?,?,?) "
                 "ON CONFLICT(name) DO UPDATE SET statement=excluded.statement, signature=excluded.signature",
                 (name, statement, signature))


def check_grant(conn, name: str, public: str | None = None, with_entry: bool = True) -> str | None:
    """Why ``name``'s users row is not what a data_admin signed, or None when it is.

    ``with_entry``: also require the audit entry the grant names (audit-verify; a login
    skips it, so that a damaged log is reported by the verification, not a refused login)."""
    public = public or meta.get(conn, GRANT_KEY)
    if public is None:
        return "データベースにアカウント署名鍵がありません"
    row = conn.execute("SELECT statement, signature FROM account_grants WHERE name = ?", (name,)).fetchone()
    if row is None:
        return f"アカウント {name} に署名された権限がありません（アプリケーションの外で追加されています）"
    statement, signature = row
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(bytes.fromhex(signature),
                                                                         statement.encode("utf-8"))
    except (InvalidSignature, ValueError):
        return f"アカウント {name} の権限はアカウント署名鍵で署名されていません（偽造されています）"
    granted = json.loads(statement)
    current = _statement(conn, name, granted.get("audit_seq", 0))
    if current is None:
        return f"アカウント {name} は権限の署名だけがあり、アカウントがありません"
    if json.loads(current) != granted:
        return (f"アカウント {name} の役割・担当地区・状態が、データ管理者の付与した内容と異なります"
                "（アプリケーションの外で編集されています）")
    if not with_entry:
        return None
    entry = conn.execute("SELECT action, object_ids FROM audit_log WHERE seq = ?", (granted["audit_seq"],)).fetchone()
    if entry is None or entry[0] not in GRANT_ACTIONS or name not in json.loads(entry[1] or "[]"):
        return f"アカウント {name} の権限が示す操作ログ {granted['audit_seq']} 件目は、その付与の記録ではありません"
    return None


def check_all_grants(conn) -> list[str]:
    """Problems with any account's grant (empty = every account is as granted)."""
    public = meta.get(conn, GRANT_KEY)
    if public is None:
        return []  # a store from before grants; the first data_admin login signs them
    names = [r[0] for r in conn.execute("SELECT name FROM users ORDER BY name")]
    orphans = [r[0] for r in conn.execute("SELECT name FROM account_grants WHERE name NOT IN (SELECT name FROM users)")]
    problems = [p for p in (check_grant(conn, n, public) for n in names) if p]
    return problems + [f"a grant for {n} remains without an account" for n in orphans]


def bootstrap_grants(conn, sign_key: bytes, audit_seq: int) -> None:
    """Sign every existing account (a store made before grants), from a data_admin's login."""
    meta.put(conn, GRANT_KEY, public_hex(sign_key))
    for (name,) in conn.execute("SELECT name FROM users").fetchall():
        sign_grant(conn, sign_key, name, audit_seq)


def _require_sign_key(session) -> bytes:
    if not session.sign_key:
        raise AccountError("このアカウントには署名鍵がありません（他のデータ管理担当にパスワードの再設定を依頼してください）")
    return session.sign_key


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
    sign_key = _require_sign_key(session)
    slots = SlotFile.load(session.db_path)
    if name in slots.users:
        raise AccountError(f"ユーザー {name} は既に存在します")
    with transaction(session.conn):
        insert_account(session.conn, name, role, areas, session.user, display_name, senior)
        seq = session.audit("user_add", "user", [name], {"role": role, "areas": areas, "senior": senior})
        sign_grant(session.conn, sign_key, name, seq)
    slots.add(name, password, session.db_key, sign_key if role == roles.DATA_ADMIN else None)
    slots.save()


def change_account(session, name: str, role: str | None = None, areas: list[str] | None = None,
                   active: bool | None = None) -> None:
    """Change an account's role, areas or active flag (data_admin): audited old → new, re-signed.

    A data_admin's key slot carries the grant key; an account promoted to data_admin gets it
    at its next password reset (the key can only be wrapped under a known password)."""
    session.require(roles.MANAGE_USERS)
    sign_key = _require_sign_key(session)
    row = session.conn.execute("SELECT role, areas, active FROM users WHERE name=?", (name,)).fetchone()
    if row is None:
        raise AccountError(f"ユーザー {name} は存在しません")
    new_role = row[0] if role is None else role
    if new_role not in roles.ROLES:
        raise AccountError(f"不明な役割です: {new_role}")
    new_areas = json.loads(row[1]) if areas is None else validate_areas(list(areas))
    new_active = bool(row[2]) if active is None else bool(active)
    with transaction(session.conn):
        session.conn.execute("UPDATE users SET role=?, areas=?, active=? WHERE name=?",
                             (new_role, json.dumps(new_areas, ensure_ascii=False), int(new_active), name))
        seq = session.audit("user_change", "user", [name], {
            "old": {"role": row[0], "areas": json.loads(row[1]), "active": bool(row[2])},
            "new": {"role": new_role, "areas": new_areas, "active": new_active}})
        sign_grant(session.conn, sign_key, name, seq)


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
        session.conn.execute("DELETE FROM account_grants WHERE name=?", (name,))
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
    row = session.conn.execute("SELECT role FROM users WHERE name=?", (target,)).fetchone()
    # A data_admin's slot carries the grant key too (only the session's own copy can be rewrapped).
    sign_key = session.sign_key if row and row[0] == roles.DATA_ADMIN else None
    slots.add(target, new_password, session.db_key, sign_key)
    slots.save()
    with transaction(session.conn):
        session.conn.execute("UPDATE users SET password_changed_at=? WHERE name=?", (now_iso(), target))
        session.audit("password_change", "user", [target])
