"""Session safety on the store side: the idle-lock setting and re-checking a password
against the user's key slot when the screen is unlocked (no Qt here)."""

from __future__ import annotations

import hmac
import json

from app.store import roles
from app.store.audit import now_iso
from app.store.database import transaction
from app.store.keyslots import BadCredentials, LockedOut, SlotFile

IDLE_LOCK_KEY = "session.idle_lock_minutes"
DEFAULT_IDLE_MINUTES = 10


class UnlockFailed(Exception):
    """Wrong password or the account is locked out; the message is for the user (Japanese)."""


def idle_lock_minutes(conn) -> int:
    """Minutes of inactivity before the window locks (settings table, default 10)."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (IDLE_LOCK_KEY,)).fetchone()
    try:
        minutes = int(json.loads(row[0])) if row else DEFAULT_IDLE_MINUTES
    except (TypeError, ValueError):
        minutes = DEFAULT_IDLE_MINUTES
    return max(1, minutes)


def session_idle_lock_minutes(session) -> int:
    """``idle_lock_minutes`` of the session's store (views pass the session, never its connection)."""
    return idle_lock_minutes(session.conn)


def set_idle_lock_minutes(session, minutes: int) -> None:
    """Change the idle-lock delay for every user of this store (data_admin)."""
    session.require(roles.MANAGE_USERS)
    if not 1 <= int(minutes) <= 120:
        raise ValueError("自動ロックまでの時間は1〜120分にしてください")
    with transaction(session.conn):
        session.conn.execute(
            "INSERT INTO settings(key, version, value, updated_by, updated_at) VALUES (?, 1, ?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value=excluded.value, updated_by=excluded.updated_by,"
            " updated_at=excluded.updated_at", (IDLE_LOCK_KEY, json.dumps(int(minutes)), session.user, now_iso()))
        session.audit("setting_change", "setting", [IDLE_LOCK_KEY], {"value": int(minutes)})


def check_unlock_password(session, password: str) -> None:
    """Raise UnlockFailed unless ``password`` opens this user's key slot to this store's key.

    Failures count towards the same lockout as failed logins (5 → 15 minutes).
    """
    try:
        key = SlotFile.load(session.db_path).unwrap(session.user, password)
    except BadCredentials:
        raise UnlockFailed("パスワードが違います") from None
    except LockedOut as exc:
        minutes = (exc.seconds_left + 59) // 60
        raise UnlockFailed(f"失敗が続いたため、あと約{minutes}分ロック解除できません") from None
    if not hmac.compare_digest(key, session.db_key):
        raise UnlockFailed("パスワードが違います")


def record_lock_event(session, action: str) -> None:
    """Log 'session_lock' / 'session_unlock' / 'unlock_failed'."""
    with transaction(session.conn):
        session.audit(action)
