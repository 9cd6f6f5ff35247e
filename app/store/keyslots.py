"""Key slots: one random database key, wrapped once per user account.

Like LUKS: each account's slot holds the database key encrypted (AES-256-GCM) under a
key derived from that account's password with Argon2id. Any user opens the store with
their own password; changing a password rewraps one slot; removing a user deletes the
slot. The slots live in a small JSON file beside the database (``<db>.keyslots.json``)
because they must be readable before the database can be decrypted. The file holds no
person's data: account names, salts, wrapped keys, and failed-login counters.

data_admin slots also wrap the Ed25519 key that signs account grants (``accounts.py``);
its public half is pinned here (``grant_key``) as well as in the store.

The failure counters and locks must be written before anyone has logged in, so they
cannot go into the encrypted store. They are sealed instead with HMAC(terminal secret),
a key kept in the OS user's data folder on the terminal, not beside the store: editing
or deleting them in the file breaks the seal, and a broken seal locks every account for
``LOCKOUT_SECONDS`` and is recorded for the audit log (docs/SECURITY.md, mechanism 7).

Argon2id parameters (RFC 9106 "second recommended" profile scaled for a 2-core
terminal): time_cost=3, memory_cost=64 MiB, parallelism=2, 32-byte output.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.store.owner_only import restrict_to_owner, write_owner_only

SLOT_FORMAT = 1          # the AAD label of wrapped keys (unchanged, so old slots still open)
FILE_FORMAT = 2          # 2: sealed failures, grant key, audit head copy
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


def _sign_aad(user: str) -> bytes:
    return f"mimamori-grant-key-v1:{user}".encode("utf-8")


def state_dir() -> Path:
    """Per-user data folder on this terminal (not the store's folder)."""
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "Mimamori"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "mimamori"
    return base


def terminal_secret() -> tuple[bytes, bool]:
    """(32-byte terminal secret, created just now?). Seals the failure counters."""
    path = state_dir() / "terminal.key"
    try:
        value = bytes.fromhex(path.read_text("ascii").strip())
        if len(value) == 32:
            return value, False
    except (OSError, ValueError):
        pass
    value = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    write_owner_only(tmp, value.hex().encode("ascii"))
    os.replace(tmp, path)
    return value, True


def _failure_seal(secret: bytes, data: dict) -> str:
    body = json.dumps({"failures": data.get("failures", {}), "notes": data.get("notes", [])},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hmac.new(secret, ("mimamori-failures:" + body).encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass
class SlotFile:
    path: Path
    data: dict
    # The file format found on disk (1 = before sealing); the store remembers the newest it saw.
    loaded_format: int = FILE_FORMAT

    @classmethod
    def load(cls, db_path: Path | str, now: float | None = None) -> "SlotFile":
        path = slot_path(db_path)
        if not path.exists():
            raise FileNotFoundError(path)
        restrict_to_owner(path)  # a slot file left readable by an older version is narrowed
        data = json.loads(path.read_text("utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("slots"), dict):
            raise ValueError("not a key-slot file")
        data.setdefault("failures", {})
        data.setdefault("notes", [])
        slots = cls(path, data, loaded_format=int(data.get("format", 1)))
        slots._check_seal(time.time() if now is None else now)
        return slots

    @classmethod
    def new(cls, db_path: Path | str) -> "SlotFile":
        return cls(slot_path(db_path), {"format": FILE_FORMAT, "slots": {}, "failures": {}, "notes": []})

    def _check_seal(self, now: float) -> None:
        """Refuse edited failure counters: a broken seal locks every account (see module doc)."""
        secret, fresh = terminal_secret()
        if self.loaded_format < FILE_FORMAT:
            # Written before sealing existed: seal it now (the store notices a downgrade at login).
            self.note("keyslot_upgraded", {"from_format": self.loaded_format}, now)
            self.save()
            return
        seal = self.data.get("failures_seal")
        if isinstance(seal, str) and hmac.compare_digest(seal, _failure_seal(secret, self.data)):
            return
        if fresh:
            # This terminal has never sealed anything (a new or reinstalled terminal).
            self.note("keyslot_sealed_new_terminal", {}, now)
        else:
            for user in self.users:
                entry = self.data["failures"].setdefault(user, {"count": 0, "log": []})
                if not isinstance(entry, dict):
                    entry = self.data["failures"][user] = {"count": 0, "log": []}
                entry["count"] = 0
                entry["locked_until"] = now + LOCKOUT_SECONDS
            self.note("keyslot_tampered", {"what": "failure counters or locks edited outside the application",
                                           "seal": "missing" if seal is None else "wrong"}, now)
        self.save()

    def note(self, action: str, detail: dict, now: float | None = None) -> None:
        """Something for the audit log, written there at the next successful login."""
        self.data.setdefault("notes", []).append(
            {"action": action, "at": int(time.time() if now is None else now), "detail": detail})

    def save(self) -> None:
        self.data["format"] = FILE_FORMAT
        self.data["failures_seal"] = _failure_seal(terminal_secret()[0], self.data)
        # Write-then-rename so a crash never leaves a half-written slot file.
        tmp = self.path.with_suffix(".tmp")
        write_owner_only(tmp, json.dumps(self.data, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8"))
        os.replace(tmp, self.path)

    @property
    def grant_key(self) -> str | None:
        return self.data.get("grant_key")

    def pin_grant_key(self, public_hex: str) -> None:
        self.data["grant_key"] = public_hex

    @property
    def audit_head(self) -> dict | None:
        return self.data.get("audit_head")

    def set_audit_head(self, head: dict) -> None:
        self.data["audit_head"] = head

    @property
    def users(self) -> list[str]:
        return sorted(self.data["slots"])

    def add(self, user: str, password: str, db_key: bytes, sign_key: bytes | None = None) -> None:
        """(Re)write ``user``'s slot; ``sign_key`` (data_admin only) is wrapped beside the DB key."""
        salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
        kek = _derive(password, salt, KDF_PARAMS)
        wrapped = AESGCM(kek).encrypt(nonce, db_key, _aad(user))
        slot = {
            "kdf": "argon2id", **KDF_PARAMS, "salt": _b64(salt),
            "nonce": _b64(nonce), "wrapped": _b64(wrapped), "created": int(time.time()),
        }
        if sign_key is not None:
            sign_nonce = secrets.token_bytes(12)
            slot["sign_nonce"] = _b64(sign_nonce)
            slot["sign_wrapped"] = _b64(AESGCM(kek).encrypt(sign_nonce, sign_key, _sign_aad(user)))
        self.data["slots"][user] = slot

    def remove(self, user: str) -> None:
        self.data["slots"].pop(user, None)
        self.data["failures"].pop(user, None)

    def unwrap(self, user: str, password: str, now: float | None = None) -> bytes:
        """The database key, or BadCredentials / LockedOut. Records failures in the file."""
        return self.unwrap_keys(user, password, now)[0]

    def lock_remaining(self, user: str, now: float) -> int:
        """Seconds this account stays locked. Never more than LOCKOUT_SECONDS from now,
        whatever the file says: an edited far-future lock cannot shut anyone out for years."""
        fail = self.data["failures"].get(user)
        try:
            until = float(fail.get("locked_until", 0)) if isinstance(fail, dict) else 0.0
            until = max(until, float(self._mirror().get(user, {}).get("locked_until", 0)))
        except (TypeError, ValueError, AttributeError):
            until = now + LOCKOUT_SECONDS
        until = min(until, now + LOCKOUT_SECONDS)
        return int(until - now) + 1 if until > now else 0

    def unwrap_keys(self, user: str, password: str, now: float | None = None) -> tuple[bytes, bytes | None]:
        """(database key, grant-signing key or None), or BadCredentials / LockedOut."""
        now = time.time() if now is None else now
        left = self.lock_remaining(user, now)
        if left:
            raise LockedOut(left)
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
        sign_key = None
        if "sign_wrapped" in slot:
            try:
                sign_key = AESGCM(kek).decrypt(_unb64(slot["sign_nonce"]), _unb64(slot["sign_wrapped"]),
                                               _sign_aad(user))
            except InvalidTag:
                sign_key = None  # reported by the login's grant check, not as a wrong password
        if user in self.data["failures"] and self.data["failures"][user].get("count"):
            self.data["failures"][user]["count"] = 0
            self.save()
        mirror = self._mirror()
        if user in mirror:
            mirror.pop(user)
            self._save_mirror(mirror)
        return key, sign_key

    def _record_failure(self, user: str, now: float) -> None:
        fail = self.data["failures"].setdefault(user, {"count": 0, "log": []})
        mirror = self._mirror()
        # The count is the higher of the file's and the terminal's copy: resetting the file
        # between guesses does not reset the count.
        fail["count"] = max(int(fail.get("count", 0)), int(mirror.get(user, {}).get("count", 0))) + 1
        # Failed logins cannot be written to the (still locked) audit log; they wait
        # here and are moved into the log by the next successful login.
        fail.setdefault("log", []).append(int(now))
        if fail["count"] >= LOCKOUT_FAILURES:
            fail["locked_until"] = now + LOCKOUT_SECONDS
            fail["count"] = 0
        mirror[user] = {"count": fail["count"], "locked_until": fail.get("locked_until", 0)}
        self._save_mirror(mirror)
        self.save()

    # The terminal's copy of counts and locks: kept in the OS user's data folder, outside the
    # store's folder, so even a key-slot file rewritten with a valid seal keeps the lock.
    def _mirror_path(self) -> Path:
        digest = hashlib.sha256(str(self.path.resolve()).encode("utf-8")).hexdigest()[:24]
        return state_dir() / "locks" / f"{digest}.json"

    def _mirror(self) -> dict:
        try:
            data = json.loads(self._mirror_path().read_text("utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _save_mirror(self, mirror: dict) -> None:
        path = self._mirror_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(mirror), "utf-8")
        os.replace(tmp, path)

    def take_failure_log(self) -> list[tuple[str, int]]:
        """Pending failed-login times per user; cleared once taken."""
        out = []
        for user, fail in self.data["failures"].items():
            out.extend((user, t) for t in fail.get("log", []))
            fail["log"] = []
        if out:
            self.save()
        return sorted(out, key=lambda x: x[1])

    def take_notes(self) -> list[dict]:
        """Pending notes for the audit log (tampering noticed, upgrades); cleared once taken."""
        notes = list(self.data.get("notes", []))
        if notes:
            self.data["notes"] = []
            self.save()
        return notes
