"""The database file holds no plaintext: a known name is absent in UTF-8 and CP932."""

from __future__ import annotations

import pytest

import sqlcipher3.dbapi2 as sqlcipher

from app.store.database import transaction

NAME = "髙橋　花子"
KANA = "タカハシ　ハナコ"


def _plain_variants():
    out = []
    for text in (NAME, KANA, "高橋", "タカハシ"):
        out.append(text.encode("utf-8"))
        try:
            out.append(text.encode("cp932"))
        except UnicodeEncodeError:
            pass
    return out


def test_file_contains_no_known_name_bytes(new_store):
    session = new_store
    with transaction(session.conn):
        session.conn.execute("UPDATE users SET display_name=? WHERE name='admin'", (NAME,))
        session.conn.execute("CREATE TABLE probe(v TEXT)")
        session.conn.executemany("INSERT INTO probe VALUES (?)", [(NAME,), (KANA,)] * 200)
    # Same values must really be there when decrypted …
    assert session.conn.execute("SELECT count(*) FROM probe WHERE v=?", (NAME,)).fetchone()[0] == 200
    session.close()
    data = session.db_path.read_bytes()
    # … and nowhere in the file on disk.
    for needle in _plain_variants():
        assert needle not in data
    assert not data.startswith(b"SQLite format 3")


def test_no_side_files_left_behind(new_store):
    session = new_store
    with transaction(session.conn):
        session.conn.execute("CREATE TABLE probe(v TEXT)")
    session.close()
    names = sorted(p.name for p in session.db_path.parent.iterdir())
    assert names == ["store.db", "store.db.keyslots.json"]


def test_plain_sqlite_cannot_read_it(new_store):
    new_store.close()
    import sqlite3

    conn = sqlite3.connect(new_store.db_path)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("SELECT * FROM sqlite_master").fetchall()
    conn.close()


def test_wrong_raw_key_is_refused(new_store):
    new_store.close()
    from app.store.database import WrongKey, connect

    with pytest.raises(WrongKey):
        connect(new_store.db_path, b"\x01" * 32)
    assert sqlcipher  # the real SQLCipher module is what the store uses
