"""The store's one date formatter: same text as strftime, NULL (a NaN) for missing dates; and
that a NaN bound in a bulk write is stored as NULL in every kind of column."""

import datetime as dt
import math

import pandas as pd
from hypothesis import given, strategies as st

from app.store.database import NULL, connect, iso_dates

dates = st.one_of(st.none(), st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))


def _missing_as_none(values: list) -> list:
    return [None if isinstance(v, float) and math.isnan(v) else v for v in values]


@given(st.lists(dates, max_size=60))
def test_iso_dates_match_strftime(values):
    expected = [None if v is None else v.strftime("%Y-%m-%d") for v in values]
    got = iso_dates([None if v is None else pd.Timestamp(v) for v in values])
    assert _missing_as_none(got) == expected
    assert all(isinstance(v, str) or v is NULL for v in got)


def test_iso_dates_accepts_text_and_nat():
    assert _missing_as_none(iso_dates(["2024-02-29", pd.NaT, None])) == ["2024-02-29", None, None]
    assert iso_dates(pd.Series([], dtype="datetime64[ns]")) == []


def test_nan_is_stored_as_null_in_every_column(tmp_path):
    # the bulk writes rely on it (app/store/database.py NULL): checked on this SQLCipher build
    conn = connect(tmp_path / "s.db", b"k" * 32)
    conn.execute("CREATE TABLE t(a TEXT, b REAL, c INTEGER, d TEXT NOT NULL DEFAULT '', e)")
    conn.executemany("INSERT INTO t(a, b, c, e) VALUES (?,?,?,?)",
                     [(NULL, NULL, NULL, NULL), (*iso_dates([pd.NaT]), float("nan"), NULL, "x")])
    assert conn.execute("SELECT typeof(a), typeof(b), typeof(c), a IS NULL AND b IS NULL AND c IS NULL"
                        " FROM t").fetchall() == [("null", "null", "null", 1)] * 2
    # a NOT NULL column refuses it like None, it is no silent text 'nan'
    try:
        conn.execute("INSERT INTO t(d) VALUES (?)", (NULL,))
    except Exception as exc:  # noqa: BLE001 - sqlcipher3's IntegrityError
        assert "NOT NULL" in str(exc)
    else:
        raise AssertionError("NaN went into a NOT NULL column")
    conn.close()
