"""Registering terminals for export (data_admin)."""

from __future__ import annotations

from app.store import roles
from app.store.audit import now_iso
from app.store.database import transaction


def register_terminal(session, label: str = "") -> str:
    session.require(roles.MANAGE_TERMINALS)
    with transaction(session.conn):
        session.conn.execute(
            "INSERT INTO terminals(terminal_id, label, registered_by, registered_at, may_export)"
            " VALUES (?,?,?,?,1) ON CONFLICT(terminal_id) DO UPDATE SET may_export=1, label=excluded.label",
            (session.terminal_id, label, session.user, now_iso()))
        session.audit("terminal_register", "terminal", [session.terminal_id])
    return session.terminal_id


def list_terminals(session) -> list[dict]:
    """Every registered terminal (id, label, who registered it and when, may export), newest first."""
    session.require(roles.MANAGE_TERMINALS)
    rows = session.conn.execute(
        "SELECT terminal_id, label, registered_by, registered_at, may_export FROM terminals"
        " ORDER BY registered_at DESC").fetchall()
    return [dict(zip(("terminal_id", "label", "registered_by", "registered_at", "may_export"), r)) for r in rows]
