"""Creating and opening a store: the only way to get a Session."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from app.store import audit as audit_log
from app.store import meta, migrations
from app.store.accounts import check_name, check_password_policy, insert_account
from app.store.audit import now_iso
from app.store.database import WrongKey, connect, transaction
from app.store.keyslots import BadCredentials, LockedOut, SlotFile, slot_path
from app.store.session import Session, parse_areas
from app.store.terminal import terminal_id


class StoreError(Exception):
    """A problem opening or creating a store, worded for the user (Japanese)."""


def create_store(path: Path | str, user: str, password: str, demo: bool = False,
                 check_policy: bool = True) -> Session:
    """A new encrypted store whose first account ``user`` is a data_admin."""
    path = Path(path)
    if path.exists() or slot_path(path).exists():
        raise StoreError(f"既にデータベースがあります: {path}")
    check_name(user)
    if check_policy:
        check_password_policy(password)
    path.parent.mkdir(parents=True, exist_ok=True)
    db_key = secrets.token_bytes(32)
    conn = connect(path, db_key)
    migrations.migrate(conn)
    tid = terminal_id()
    with transaction(conn):
        meta.put(conn, "created_at", now_iso())
        meta.put(conn, "demo", "1" if demo else "0")
        meta.secret(conn, "pseudonym_key")
        meta.secret(conn, "audit_anchor_key")
        insert_account(conn, user, "data_admin", [], None)
    slots = SlotFile.new(path)
    slots.add(user, password, db_key)
    slots.save()
    session = Session(conn, path, user, "data_admin", (), tid, demo=demo, db_key=db_key)
    with transaction(conn):
        session.audit("store_create", detail={"demo": demo})
    return session


def open_store(path: Path | str, user: str, password: str) -> Session:
    """Log in: unwrap this user's slot, open the database, migrate, audit the login.

    Raises StoreError with a clear Japanese message for every expected failure.
    """
    path = Path(path)
    if not path.exists():
        raise StoreError(f"データベースが見つかりません: {path}")
    try:
        slots = SlotFile.load(path)
    except FileNotFoundError:
        raise StoreError(f"鍵ファイルが見つかりません: {slot_path(path)}") from None
    except (ValueError, KeyError):
        raise StoreError(f"鍵ファイルが壊れています: {slot_path(path)}") from None
    try:
        db_key = slots.unwrap(user, password)
    except BadCredentials:
        raise StoreError("ユーザー名またはパスワードが違います") from None
    except LockedOut as exc:
        minutes = (exc.seconds_left + 59) // 60
        raise StoreError(f"ログインの失敗が続いたため、このアカウントはあと約{minutes}分ロックされています") from None
    try:
        conn = connect(path, db_key)
    except WrongKey:
        raise StoreError("データベースを開けません（鍵が一致しないか、ファイルが壊れています）") from None
    migrations.migrate(conn)
    row = conn.execute("SELECT role, areas, display_name, active FROM users WHERE name = ?", (user,)).fetchone()
    if row is None or not row[3]:
        conn.close()
        raise StoreError("このアカウントは無効です")
    session = Session(conn, path, user, row[0], parse_areas(row[1]), terminal_id(),
                      demo=meta.is_demo(conn), display_name=row[2], db_key=db_key)
    with transaction(conn):
        # Failed attempts waited in the slot file while the log was locked.
        for failed_user, ts in slots.take_failure_log():
            audit_log.record(conn, user=failed_user, role="-", terminal=session.terminal_id,
                             action="login_failed", object_type="user", object_ids=[failed_user],
                             detail={"at": ts})
        session.audit("login")
    return session


def store_summary(session: Session) -> dict:
    """What the window needs to know about the store, without case contents."""
    tables = {r[0] for r in session.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    people = 0
    if "persons" in tables:
        people = session.conn.execute("SELECT count(*) FROM persons").fetchone()[0]
    return {"demo": session.demo, "has_case_data": people > 0, "persons": people,
            "schema_version": migrations.current_version(session.conn),
            "created_at": meta.get(session.conn, "created_at")}


__all__ = ["StoreError", "create_store", "open_store", "store_summary", "json"]
