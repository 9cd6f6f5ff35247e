"""Ages in calendar months from birth_ym, and the 'surely reached' rounding at edges."""

import numpy as np
import pandas as pd
from hypothesis import given, strategies as st

from app.engine.rules import ages


def test_calendar_month_age():
    b = ages.ym_index_from_text(pd.Series(["2023-04", "2023-12", "bad", None]))
    d = ages.ym_index_of("2023-07-01")
    got = ages.age_months(b, d)
    assert got[0] == 3 and got[1] == -5
    assert np.isnan(got[2]) and np.isnan(got[3])


def test_surely_reached_is_one_less_never_negative():
    assert list(ages.surely_reached([0, 1, 5])) == [0, 0, 4]


def test_age_label():
    assert ages.age_label(4) == "4か月"
    assert ages.age_label(18) == "1歳6か月"
    assert ages.age_label(36) == "3歳"


@given(st.integers(2000, 2030), st.integers(1, 12), st.integers(0, 100))
def test_age_matches_month_arithmetic(year, month, months_later):
    b = ages.ym_index_from_text(pd.Series([f"{year:04d}-{month:02d}"]))[0]
    date = pd.Timestamp(year=year, month=month, day=15) + pd.DateOffset(months=months_later)
    assert ages.age_months(b, ages.ym_index_of(date)) == months_later
    assert ages.month_text(b) == f"{year:04d}-{month:02d}"
