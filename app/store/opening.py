"""Creating and opening a store: the only way to get a Session."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from app.store import audit as audit_log
from app.store import meta, migrations, roles
from app.store.accounts import (GRANT_KEY, bootstrap_grants, check_grant, check_name, check_password_policy,
                                insert_account, new_grant_key, public_hex, sign_grant)
from app.store.audit import now_iso
from app.store.database import DatabaseError, WrongKey, connect, transaction
from app.store.keyslots import FILE_FORMAT, BadCredentials, LockedOut, SlotFile, slot_path
from app.store.session import Session, parse_areas
from app.store.terminal import terminal_id

DAMAGED = "データベースが壊れています"
RESTORE_HINT = "最新のバックアップ（データベースと鍵ファイルの組）から復元してください"
_DAMAGE_WORDS = ("malformed", "corrupt", "not a database", "disk i/o error", "database disk image",
                 "hmac check failed", "file is encrypted")


class StoreError(Exception):
    """A problem opening or creating a store, worded for the user (Japanese)."""


def looks_damaged(exc: BaseException, path: Path | str | None = None) -> bool:
    """An SQLite/SQLCipher error whose wording says the file itself is damaged.

    SQLCipher answers a page whose HMAC fails by making the connection read-only, so
    "readonly" on a file the OS lets us write means damage too."""
    text = str(exc).lower()
    if any(word in text for word in _DAMAGE_WORDS):
        return True
    if "readonly" in text and path is not None:
        import os

        return Path(path).is_file() and os.access(path, os.W_OK)
    return False


def integrity_problems(conn, limit: int = 5) -> list[str]:
    """What SQLCipher's page HMACs and SQLite's quick_check find wrong (empty = intact)."""
    problems: list[str] = []
    try:
        problems += [str(r[0]) for r in conn.execute("PRAGMA cipher_integrity_check").fetchall()][:limit]
        rows = [str(r[0]) for r in conn.execute(f"PRAGMA quick_check({int(limit)})").fetchall()]
        problems += [r for r in rows if r != "ok"]
    except DatabaseError as exc:
        problems.append(str(exc))
    return problems


def _check_path(path: Path) -> None:
    if path.is_dir():
        raise StoreError(f"--db にフォルダーが指定されています。データベースファイルを指定してください: {path}")
    if not path.exists():
        raise StoreError(f"データベースが見つかりません: {path}")


def create_store(path: Path | str, user: str, password: str, demo: bool = False,
                 check_policy: bool = True) -> Session:
    """A new encrypted store whose first account ``user`` is a data_admin."""
    path = Path(path)
    if path.exists() or slot_path(path).exists():
        raise StoreError(f"既にデータベースがあります: {path}")
    check_name(user)
    if check_policy:
        check_password_policy(password)
    if path.parent.is_file():
        raise StoreError(f"保存先のフォルダーがファイルです: {path.parent}")
    path.parent.mkdir(parents=True, exist_ok=True)
    db_key = secrets.token_bytes(32)
    sign_key, sign_public = new_grant_key()
    conn = connect(path, db_key)
    migrations.migrate(conn)
    tid = terminal_id()
    with transaction(conn):
        meta.put(conn, "created_at", now_iso())
        meta.put(conn, "demo", "1" if demo else "0")
        meta.put(conn, "keyslots_format", str(FILE_FORMAT))
        meta.put(conn, GRANT_KEY, sign_public)
        meta.secret(conn, "pseudonym_key")
        meta.secret(conn, "audit_anchor_key")
        insert_account(conn, user, "data_admin", [], None)
    slots = SlotFile.new(path)
    slots.add(user, password, db_key, sign_key)
    slots.pin_grant_key(sign_public)
    slots.save()
    session = Session(conn, path, user, "data_admin", (), tid, demo=demo, db_key=db_key, sign_key=sign_key)
    with transaction(conn):
        seq = session.audit("store_create", "user", [user], {"demo": demo})
        sign_grant(conn, sign_key, user, seq)
    audit_log.sync_outside_head(conn, path)
    return session


def open_store(path: Path | str, user: str, password: str, *, verify_first: bool = False) -> Session:
    """Log in: unwrap this user's slot, open the database, migrate, check the account's
    signed grant, audit the login.

    ``verify_first`` (audit-verify): verify the log, the slot head and every grant before
    anything is written, and keep the result on ``session.preverified``.
    Raises StoreError with a clear Japanese message for every expected failure.
    """
    path = Path(path)
    _check_path(path)
    try:
        slots = SlotFile.load(path)
    except FileNotFoundError:
        raise StoreError(f"鍵ファイルが見つかりません: {slot_path(path)}") from None
    except (ValueError, KeyError, TypeError):
        raise StoreError(f"鍵ファイルが壊れています: {slot_path(path)}") from None
    try:
        db_key, sign_key = slots.unwrap_keys(user, password)
    except BadCredentials:
        raise StoreError("ユーザー名またはパスワードが違います") from None
    except LockedOut as exc:
        minutes = (exc.seconds_left + 59) // 60
        raise StoreError("ログインの失敗が続いたか鍵ファイルが改ざんされたため、"
                         f"このアカウントはあと約{minutes}分ロックされています") from None
    try:
        conn = connect(path, db_key)
    except WrongKey:
        raise StoreError(f"{DAMAGED}（または鍵ファイルと一致しません）: {path}。{RESTORE_HINT}") from None
    try:
        return _login(conn, path, slots, user, password, db_key, sign_key, verify_first)
    except DatabaseError as exc:
        damaged = looks_damaged(exc, path) or bool(integrity_problems(conn))
        conn.close()
        if damaged:
            raise StoreError(f"{DAMAGED}: {path}（{exc}）。{RESTORE_HINT}") from None
        raise


def _login(conn, path: Path, slots: SlotFile, user: str, password: str, db_key: bytes,
           sign_key: bytes | None, verify_first: bool) -> Session:
    migrations.migrate(conn)
    row = conn.execute("SELECT role, areas, display_name, active FROM users WHERE name = ?", (user,)).fetchone()
    if row is None or not row[3]:
        conn.close()
        raise StoreError("このアカウントは無効です")
    session = Session(conn, path, user, row[0], parse_areas(row[1]), terminal_id(),
                      demo=meta.is_demo(conn), display_name=row[2], db_key=db_key, sign_key=sign_key)
    if verify_first:
        from app.store.audit_queries import full_verification

        session.preverified = full_verification(conn, path, slots)
    notes = slots.take_notes()
    problem, bootstrap = _grant_problem(conn, slots, session)
    if meta.get(conn, "keyslots_format") and slots.loaded_format < FILE_FORMAT:
        notes.append({"action": "keyslot_downgraded", "at": None,
                      "detail": {"file_format": slots.loaded_format}})
    with transaction(conn):
        # Failed attempts and noticed tampering waited in the slot file while the log was locked.
        for failed_user, ts in slots.take_failure_log():
            audit_log.record(conn, user=failed_user, role="-", terminal=session.terminal_id,
                             action="login_failed", object_type="user", object_ids=[failed_user],
                             detail={"at": ts})
        for note in notes:
            session.audit(note["action"], "keyslots", [], {"at": note.get("at"), **note.get("detail", {})})
        meta.put(conn, "keyslots_format", str(FILE_FORMAT))
        if problem:
            session.audit("login_refused", "user", [user], {"reason": problem})
        elif bootstrap:
            seq = session.audit("grants_bootstrap", "user",
                                [r[0] for r in conn.execute("SELECT name FROM users ORDER BY name")])
            bootstrap_grants(conn, session.sign_key, seq)
        else:
            session.audit("login")
    if problem:
        session.close()
        raise StoreError(f"このアカウントの権限情報が改ざんされている疑いがあります（{problem}）。"
                         "データ管理担当と監査担当に連絡してください")
    if bootstrap:
        # The grant key is wrapped in this admin's slot only; others get it at a password reset.
        slots.add(user, password, db_key, session.sign_key)
        slots.pin_grant_key(public_hex(session.sign_key))
        slots.save()
        with transaction(conn):
            session.audit("login")
    audit_log.sync_outside_head(conn, path)
    return session


def _grant_problem(conn, slots: SlotFile, session: Session) -> tuple[str | None, bool]:
    """(why this login must be refused, whether to sign the grants of an older store now)."""
    public = meta.get(conn, GRANT_KEY)
    if public is None:
        if slots.grant_key:
            return "アカウント署名鍵がデータベースから削除されています", False
        if session.role == roles.DATA_ADMIN:
            session.sign_key, _ = new_grant_key()
            return None, True
        return None, False  # a store from before grants: the first data_admin login signs them
    if slots.grant_key and slots.grant_key != public:
        return "データベースのアカウント署名鍵が、鍵ファイルに固定した鍵と異なります", False
    if session.role == roles.DATA_ADMIN and session.sign_key and public_hex(session.sign_key) != public:
        return "このデータ管理者の署名鍵がデータベースのアカウント署名鍵と一致しません", False
    return check_grant(conn, session.user, public, with_entry=False), False


def store_summary(session: Session) -> dict:
    """What the window needs to know about the store, without case contents."""
    tables = {r[0] for r in session.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    people = 0
    if "persons" in tables:
        people = session.conn.execute("SELECT count(*) FROM persons").fetchone()[0]
    # this terminal's registration (the export and print gate): its label as registered
    row = (session.conn.execute("SELECT label, may_export FROM terminals WHERE terminal_id=?",
                                (session.terminal_id,)).fetchone() if "terminals" in tables else None)
    return {"demo": session.demo, "has_case_data": people > 0, "persons": people,
            "schema_version": migrations.current_version(session.conn),
            "created_at": meta.get(session.conn, "created_at"),
            "terminal_registered": bool(row and row[1]), "terminal_label": (row[0] or "") if row else ""}


__all__ = ["StoreError", "create_store", "open_store", "store_summary", "json"]
