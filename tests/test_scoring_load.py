"""frames.read_columns (the column-text reader behind a scoring run's events) against a plain
row fetch, on the values that could trip it: separators inside values, NULLs, doubles that
need 17 digits, texts in numeric columns, rowid gaps, chunk edges. Stdlib sqlite3, no person."""

import sqlite3

import numpy as np
import pandas as pd

from app.store.frames import read_columns

ROWS = [
    (1, "a", "2024-01-02", 0.1 + 0.2, 7, "x"),
    (2, "b\x1fc", None, None, None, ""),          # a separator inside a value: read row by row
    (3, "日本語", "2023-12-31", 1 / 3, 12, "{}"),
    (10, "", "2024-02-29", -0.0, "abc", "y"),       # rowid gap; a text in a numeric column
    (11, "a", "2024-01-02", 2938.0, 4, "x,y"),
    (12, "it's", None, 1e-310, 5, None),            # subnormal double; NULL text
    (40, "z", "2020-03-11", 123456789.123456789, 6, "z"),
]


def _db():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, date TEXT, num REAL, line INTEGER,"
                 " note TEXT)")
    conn.executemany("INSERT INTO t VALUES (?,?,?,?,?,?)", ROWS)
    return conn


def test_columns_equal_a_row_fetch_at_every_chunk_size():
    conn = _db()
    kinds = {"id": "id", "name": "text", "date": "date", "num": "num", "line": "num", "note": "text"}
    rows = conn.execute("SELECT * FROM t ORDER BY rowid").fetchall()
    assert [r[3] for r in rows][:2] == [0.1 + 0.2, None]
    for chunk in (1, 2, 3, 100):
        got = read_columns(conn, "t", kinds, chunk_rows=chunk)
        assert got["id"].tolist() == [r[0] for r in rows]
        assert list(np.asarray(got["name"], dtype=object)) == [r[1] for r in rows]
        assert [None if pd.isna(v) else v for v in np.asarray(got["note"], dtype=object)] == [r[5] for r in rows]
        assert list(pd.to_datetime(pd.Series([r[2] for r in rows]))) == list(pd.Series(got["date"]))
        assert [None if pd.isna(v) else v for v in np.asarray(got["_date_text"], dtype=object)] == [r[2] for r in rows]
        expected = pd.to_numeric(pd.Series([r[3] for r in rows], dtype=object)).to_numpy(float)
        assert np.array_equal(got["num"], expected, equal_nan=True)  # bit for bit, 0.1 + 0.2 included
        line = pd.to_numeric(pd.Series([r[4] for r in rows], dtype=object), errors="coerce").to_numpy(float)
        assert np.array_equal(got["line"], line, equal_nan=True) and np.isnan(got["line"][3])


def test_where_filter_and_empty_table():
    conn = _db()
    got = read_columns(conn, "t", {"id": "id", "name": "text"}, "name IN (?, ?)", ["a", "z"], chunk_rows=2)
    assert got["id"].tolist() == [1, 11, 40]
    conn.execute("DELETE FROM t")
    empty = read_columns(conn, "t", {"id": "id", "name": "text", "date": "date", "num": "num"})
    assert len(empty["id"]) == len(empty["name"]) == len(empty["date"]) == len(empty["num"]) == 0


def test_a_second_thread_reading_every_other_range_gives_the_same_columns(tmp_path):
    """read_columns(second=…): the odd ranges through another connection on another thread,
    put back in rowid order (chunk sizes that leave one, several and uneven ranges)."""
    path = tmp_path / "t.db"
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, date TEXT, num REAL, line INTEGER,"
                 " note TEXT)")
    conn.executemany("INSERT INTO t VALUES (?,?,?,?,?,?)", ROWS)
    conn.commit()
    kinds = {"id": "id", "name": "text", "date": "date", "num": "num", "line": "num", "note": "text"}
    opened = []

    def second():
        opened.append(1)
        return sqlite3.connect(path, check_same_thread=False)

    for chunk in (1, 2, 3, 100):
        alone = read_columns(conn, "t", kinds, chunk_rows=chunk)
        shared = read_columns(conn, "t", kinds, chunk_rows=chunk, second=second)
        assert shared.keys() == alone.keys()
        for c in alone:
            assert pd.Series(shared[c]).equals(pd.Series(alone[c])), (chunk, c)  # NaN/NULL equal too
        assert shared["id"].tolist() == [r[0] for r in ROWS]
    assert len(opened) == 3  # one range alone (chunk 100) is read without a second thread
    filtered = read_columns(conn, "t", {"id": "id", "name": "text"}, "name IN (?, ?)", ["a", "z"], chunk_rows=2,
                            second=second)
    assert filtered["id"].tolist() == [1, 11, 40]
