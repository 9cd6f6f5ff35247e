"""Opening the SQLCipher database and the few pragmas that keep case data off the disk.

The database key is 32 random bytes handed to SQLCipher as a raw key (``x'…'``), so an
open costs no KDF (TECH_NOTES: 0.3 ms instead of ~85 ms); the password KDF runs once per
login in ``keyslots`` instead.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import sqlcipher3.dbapi2 as sqlcipher

from app.store.owner_only import create_owner_only

DatabaseError = sqlcipher.DatabaseError
Connection = sqlcipher.Connection


class WrongKey(Exception):
    """The key does not decrypt this file (or it is not a Mimamori database)."""


def connect(path: Path | str, raw_key: bytes, cache_mib: int = 256) -> Connection:
    """Open (or create) the encrypted database at ``path`` with a 32-byte raw key.
    ``cache_mib``: its page cache (a helper connection that reads each page once needs little)."""
    if len(raw_key) != 32:
        raise ValueError("the database key must be 32 bytes")
    # check_same_thread=False: the GUI hands the connection to its single worker thread
    # after login; all later use is on that one thread (app/views/worker.py).
    # Created (or narrowed) to owner-only before SQLite opens it: its journal files take the
    # database file's mode.
    create_owner_only(path)
    conn = _open_keyed(path, raw_key)
    for pragma in (
        # Temporary tables and sort spills stay in memory: nothing plaintext in /tmp.
        "PRAGMA temp_store = MEMORY",
        # The rollback journal holds encrypted pages only (SQLCipher encrypts it too);
        # DELETE mode leaves no -wal/-shm files lying beside the store between sessions.
        "PRAGMA journal_mode = DELETE",
        "PRAGMA secure_delete = ON",
        "PRAGMA foreign_keys = ON",
        f"PRAGMA cache_size = -{int(cache_mib) * 1024}",
        # cipher_memory_security stays OFF (SQLCipher's default): ON mlocks and wipes every
        # allocation — measured 1.8 M mlock + 1.8 M munlock calls and 38 s of system time in
        # one scoring run of the demo. The terminal is dedicated and offline; pages on disk,
        # the journal and temp data remain encrypted either way.
        "PRAGMA cipher_memory_security = OFF",
    ):
        conn.execute(pragma).fetchall()
    return conn


# SQLCipher's page size and HMAC are not written in the (encrypted) file: every open must name
# the ones the file was created with. New stores use 16 KiB pages and HMAC-SHA256; stores made
# before use SQLCipher 4's defaults (4 KiB, HMAC-SHA512), and for one afternoon 16 KiB with
# HMAC-SHA512. Measured on the demo city (13,913 children, quiet-ish machine): 16 KiB pages took
# the import 7.6 → 7.0 s (its COMMIT 0.64 → 0.45 s: a quarter as many pages, each with its own
# IV and HMAC; 64 KiB gave the same as 16 KiB); HMAC-SHA256, which this CPU computes in
# hardware (1.3 GB/s against SHA-512's 0.7 GB/s here), took import + score a further ~0.4 s
# (every page is authenticated on each write and each read). A 256-bit key with SHA-256 is the
# usual HMAC strength; the pages stay AES-256 encrypted. A wrong setting fails on the first read
# like a wrong key, so an open tries each in turn; a new (empty) file takes the first.
CIPHER_SETTINGS = ((16384, "HMAC_SHA256"), (16384, "HMAC_SHA512"), (4096, "HMAC_SHA512"))


def _open_keyed(path: Path | str, raw_key: bytes) -> Connection:
    error = None
    for page_size, hmac in CIPHER_SETTINGS:
        conn = sqlcipher.connect(str(path), check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{raw_key.hex()}'\"")
        conn.execute(f"PRAGMA cipher_page_size = {page_size}")
        conn.execute(f"PRAGMA cipher_hmac_algorithm = {hmac}")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except DatabaseError as exc:
            conn.close()
            error = exc
    raise WrongKey(str(error)) from error


@contextlib.contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """One atomic unit: everything inside commits together or not at all."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


# A missing value in a bulk write, bound as a NaN float: SQLite keeps no NaN and stores it as
# NULL, whatever the column (tests/test_store_iso_dates.py checks it on this build). sqlcipher3
# binds a float directly but passes None through its adapter lookup first: measured, 1.1 µs a
# None (a row of five values with two None 2.7 µs, with NaN 0.5 µs); the demo's import wrote
# ~0.5 M of them (dates, value_num, relations' since/until).
NULL = float("nan")


def iso_dates(values) -> list:
    """Dates as 'YYYY-MM-DD' text for SQLite, :data:`NULL` (a NaN) for a missing date.

    Each distinct day is formatted once (a delivery repeats days a lot): measured on a million
    dates, a per-value ``strftime`` took 11.7 s, ``np.datetime_as_string`` over all of them
    1.0-1.5 s, this ~0.15 s. Distinct days are found by hashing, not sorting, and a column
    that already holds datetimes is not parsed again (``to_datetime`` samples it value by
    value): the demo's 497,707 event dates 0.066 s → 0.010 s CPU.
    """
    s = pd.Series(values)
    if s.dtype.kind != "M":
        s = pd.to_datetime(s)
    days = s.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    codes, unique = pd.factorize(days.view("int64"))
    text = np.datetime_as_string(unique.astype("datetime64[D]"), unit="D").astype(object)
    out = text[codes]
    out[np.isnat(days)] = NULL
    return out.tolist()
