"""Key slots: one random database key, wrapped once per user account.

Like LUKS: each account's slot holds the database key encrypted (AES-256-GCM) under a
key derived from that account's password with Argon2id. Any user opens the store with
their own password; changing a password rewraps one slot; removing a user deletes the
slot. The slots live in a small JSON file beside the database (``<db>.keyslots.json``)
because they must be readable before the database can be decrypted. The file holds no
person's data: account names, salts, wrapped keys, and failed-login counters.

Argon2id parameters (RFC 9106 "second recommended" profile scaled for a 2-core
terminal): time_cost=3, memory_cost=64 MiB, parallelism=2, 32-byte output.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SLOT_FORMAT = 1
KDF_PARAMS = {"time_cost": 3, "memory_cost": 65536, "parallelism": 2}
LOCKOUT_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60


class BadCredentials(Exception):
    """Unknown user or wrong password (deliberately not told apart)."""


class LockedOut(Exception):
    def __init__(self, seconds_left: int):
        super().__init__(f"locked for {seconds_left} s")
        self.seconds_left = seconds_left


def slot_path(db_path: Path | str) -> Path:
    return Path(str(db_path) + ".keyslots.json")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def _derive(password: str, salt: bytes, params: dict) -> bytes:
    return hash_secret_raw(
        password.encode("utf-8"), salt,
        time_cost=params["time_cost"], memory_cost=params["memory_cost"],
        parallelism=params["parallelism"], hash_len=32, type=Type.ID,
    )


def _aad(user: str) -> bytes:
    # Binding the user name into the tag stops a slot being copied under another name.
    return f"mimamori-slot-v{SLOT_FORMAT}:{user}".encode("utf-8")


@dataclass
class SlotFile:
    path: Path
    data: dict

    @classmethod
    def load(cls, db_path: Path | str) -> "SlotFile":
        path = slot_path(db_path)
        if not path.exists():
            raise FileNotFoundError(path)
        return cls(path, json.loads(path.read_text("utf-8")))

    @classmethod
    def new(cls, db_path: Path | str) -> "SlotFile":
        return cls(slot_path(db_path), {"format": SLOT_FORMAT, "slots": {}, "failures": {}})

    def save(self) -> None:
        # Write-then-rename so a crash never leaves a half-written slot file.
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, ensure_ascii=False, indent=1, sort_keys=True), "utf-8")
        os.replace(tmp, self.path)

    @property
    def users(self) -> list[str]:
        return sorted(self.data["slots"])

    def add(self, user: str, password: str, db_key: bytes) -> None:
        salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
        kek = _derive(password, salt, KDF_PARAMS)
        wrapped = AESGCM(kek).encrypt(nonce, db_key, _aad(user))
        self.data["slots"][user] = {
            "kdf": "argon2id", **KDF_PARAMS, "salt": _b64(salt),
            "nonce": _b64(nonce), "wrapped": _b64(wrapped), "created": int(time.time()),
        }

    def remove(self, user: str) -> None:
        self.data["slots"].pop(user, None)
        self.data["failures"].pop(user, None)

    def unwrap(self, user: str, password: str, now: float | None = None) -> bytes:
        """The database key, or BadCredentials / LockedOut. Records failures in the file."""
        now = time.time() if now is None else now
        fail = self.data["failures"].get(user, {})
        if fail.get("locked_until", 0) > now:
            raise LockedOut(int(fail["locked_until"] - now) + 1)
        slot = self.data["slots"].get(user)
        if slot is None:
            # Same cost as a real attempt, so timing does not tell which accounts exist.
            _derive(password, b"\0" * 16, KDF_PARAMS)
            raise BadCredentials()
        kek = _derive(password, _unb64(slot["salt"]), slot)
        try:
            key = AESGCM(kek).decrypt(_unb64(slot["nonce"]), _unb64(slot["wrapped"]), _aad(user))
        except InvalidTag:
            self._record_failure(user, now)
            raise BadCredentials() from None
        if user in self.data["failures"]:
            self.data["failures"][user]["count"] = 0
            self.save()
        return key

    def _record_failure(self, user: str, now: float) -> None:
        fail = self.data["failures"].setdefault(user, {"count": 0, "log": []})
        fail["count"] = fail.get("count", 0) + 1
        # Failed logins cannot be written to the (still locked) audit log; they wait
        # here and are moved into the log by the next successful login.
        fail.setdefault("log", []).append(int(now))
        if fail["count"] >= LOCKOUT_FAILURES:
            fail["locked_until"] = now + LOCKOUT_SECONDS
            fail["count"] = 0
        self.save()

    def take_failure_log(self) -> list[tuple[str, int]]:
        """Pending failed-login times per user; cleared once taken."""
        out = []
        for user, fail in self.data["failures"].items():
            out.extend((user, t) for t in fail.get("log", []))
            fail["log"] = []
        if out:
            self.save()
        return sorted(out, key=lambda x: x[1])
