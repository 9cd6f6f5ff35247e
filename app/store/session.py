"""A logged-in user's handle on the store: the connection plus who is asking.

Every query function takes a Session and calls ``require`` first; person-level queries
also restrict to ``visible_districts()``. Views receive data only through those queries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from app.store import audit as audit_log
from app.store import roles
from app.store.areas import all_districts, expand
from app.store.database import connect, transaction


@dataclass
class Session:
    conn: object
    db_path: Path
    user: str
    role: str
    areas: tuple[str, ...]
    terminal_id: str
    demo: bool = False
    display_name: str = ""
    # Held in memory only, for rewrapping key slots (new users, password changes).
    db_key: bytes = field(default=b"", repr=False)
    # data_admin only: the Ed25519 key that signs account grants (accounts.py), in memory.
    sign_key: bytes | None = field(default=None, repr=False)
    # audit-verify: the verification made at login, before the login itself was written.
    preverified: object = field(default=None, repr=False)
    _caps: frozenset = field(default_factory=frozenset, repr=False)

    def __post_init__(self):
        self._caps = roles.capabilities(self.role)

    @property
    def role_label(self) -> str:
        return roles.ROLE_LABELS_JA.get(self.role, self.role)

    def can(self, capability: str) -> bool:
        return capability in self._caps

    def require(self, capability: str) -> None:
        if capability not in self._caps:
            self.audit("access_denied", detail={"capability": capability})
            raise roles.AccessDenied(capability, self.role)

    def connection_opener(self, cache_mib: int = 256):
        """A callable opening another connection to this store, or None for a session without a
        file and key in memory. For store calls that need one for a single call: the import's
        transaction on a fresh connection, the scoring load's second reader (its own thread).
        ``cache_mib``: that connection's page cache."""
        if not self.db_path or not self.db_key:
            return None
        path, key = self.db_path, self.db_key
        return lambda: connect(path, key, cache_mib)

    def visible_districts(self) -> list[str] | None:
        """Districts whose children this user may see: None = all, [] = none.

        Nurses see only their own area (need-to-know); a nurse with no area sees no
        children. Other roles see the whole city unless an area was set for them.
        """
        if self.areas:
            return expand(list(self.areas))
        if self.role == roles.NURSE:
            return []
        return None

    def district_filter_sql(self, column: str = "district") -> tuple[str, list]:
        """A SQL condition (and its parameters) restricting ``column`` to visible districts."""
        districts = self.visible_districts()
        if districts is None:
            return "1=1", []
        if not districts:
            return "0=1", []
        return f"{column} IN ({','.join('?' * len(districts))})", list(districts)

    def audit(self, action: str, object_type: str | None = None, object_ids=(),
              detail: dict | None = None) -> int:
        return audit_log.record(
            self.conn, user=self.user, role=self.role, terminal=self.terminal_id,
            action=action, object_type=object_type, object_ids=object_ids, detail=detail)

    def audit_alone(self, action: str, object_type: str | None = None, object_ids=(),
                    detail: dict | None = None) -> int:
        """``audit`` committed in its own transaction: an access logged on its own (a read), so
        views never open a transaction on the connection themselves."""
        with transaction(self.conn):
            return self.audit(action, object_type=object_type, object_ids=object_ids, detail=detail)

    def close(self) -> None:
        # Keep the newest audit head in the key-slot file too, so a store file replaced by an
        # older copy is noticed (audit.sync_outside_head). Never fatal on the way out.
        try:
            audit_log.sync_outside_head(self.conn, self.db_path)
        except Exception:  # noqa: BLE001 - a closed connection or missing slot file: nothing to keep
            pass
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001 - closing twice is harmless
            pass


def parse_areas(text: str) -> tuple[str, ...]:
    values = json.loads(text or "[]")
    return tuple(values)


def validate_areas(areas: list[str]) -> list[str]:
    """Raise ValueError for an unknown district or centre name."""
    expand(areas)
    return areas


__all__ = ["Session", "parse_areas", "validate_areas", "all_districts"]
