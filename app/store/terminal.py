"""A stable id for this terminal, and whether it is registered for exports."""

from __future__ import annotations

import hashlib
import platform
import sys
import uuid
from pathlib import Path


def _machine_identity() -> str:
    if sys.platform.startswith("win"):
        try:
            import winreg  # noqa: PLC0415 - Windows only

            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Cryptography") as key:
                return winreg.QueryValueEx(key, "MachineGuid")[0]
        except OSError:
            pass
    for candidate in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        path = Path(candidate)
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
    return f"{uuid.getnode():012x}"


def terminal_id() -> str:
    """16 hex chars derived from the OS's machine id and host name (stable across runs)."""
    raw = f"mimamori-terminal:{_machine_identity()}:{platform.node()}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def is_registered(conn, tid: str | None = None) -> bool:
    row = conn.execute(
        "SELECT may_export FROM terminals WHERE terminal_id = ?", (tid or terminal_id(),)).fetchone()
    return bool(row and row[0])


def session_may_export(session) -> bool:
    """Whether the session's own terminal is registered for exports in its store."""
    return is_registered(session.conn, session.terminal_id)
