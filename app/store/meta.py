"""Installation metadata and the secrets held inside the encrypted store."""

from __future__ import annotations

import secrets as _secrets


def get(conn, key: str, default: str | None = None) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def put(conn, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))


def secret(conn, name: str) -> bytes:
    """A 32-byte per-installation secret (e.g. ``pseudonym_key`` for name HMACs),
    created on first use. It never leaves the encrypted store."""
    value = get(conn, f"secret:{name}")
    if value is None:
        value = _secrets.token_hex(32)
        put(conn, f"secret:{name}", value)
    return bytes.fromhex(value)


def is_demo(conn) -> bool:
    return get(conn, "demo", "0") == "1"
