"""The store's one date formatter: same text as strftime, None for missing dates."""

import datetime as dt

import pandas as pd
from hypothesis import given, strategies as st

from app.store.database import iso_dates

dates = st.one_of(st.none(), st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))


@given(st.lists(dates, max_size=60))
def test_iso_dates_match_strftime(values):
    expected = [None if v is None else v.strftime("%Y-%m-%d") for v in values]
    assert iso_dates([None if v is None else pd.Timestamp(v) for v in values]) == expected


def test_iso_dates_accepts_text_and_nat():
    assert iso_dates(["2024-02-29", pd.NaT, None]) == ["2024-02-29", None, None]
    assert iso_dates(pd.Series([], dtype="datetime64[ns]")) == []
