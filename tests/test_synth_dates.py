"""Property tests for the generator's date styles (what the importer must read back)."""

import datetime as dt
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.synth import mess

ERA_START = {"R": dt.date(2019, 5, 1), "H": dt.date(1989, 1, 8), "S": dt.date(1926, 12, 25)}
ERA_CODE = {"5": "R", "4": "H", "3": "S"}
DAY0 = dt.date(1970, 1, 1)

dates = st.dates(min_value=dt.date(1940, 1, 1), max_value=dt.date(2030, 12, 31))


def _from_era(letter: str, y: int, m: int, d: int) -> dt.date:
    return dt.date(ERA_START[letter].year - 1 + y, m, d)


@settings(max_examples=80, deadline=None)
@given(st.lists(dates, min_size=1, max_size=20))
def test_every_style_reads_back_to_the_same_day(ds):
    days = np.array([(d - DAY0).days for d in ds])
    iso = mess.format_dates(days, "iso")
    assert list(iso) == [d.isoformat() for d in ds]
    assert list(mess.format_dates(days, "compact")) == [d.strftime("%Y%m%d") for d in ds]
    for d, text in zip(ds, mess.format_dates(days, "slash")):
        assert text == f"{d.year}/{d.month}/{d.day}"
    for d, text in zip(ds, mess.format_dates(days, "wareki_short")):
        m = re.fullmatch(r"([RHS])(\d+)\.(\d+)\.(\d+)", text)
        assert m and _from_era(m[1], int(m[2]), int(m[3]), int(m[4])) == d
        assert d >= ERA_START[m[1]]
    for d, text in zip(ds, mess.format_dates(days, "wareki")):
        m = re.fullmatch(r"(令和|平成|昭和)(元|\d+)年(\d+)月(\d+)日", text)
        letter = {"令和": "R", "平成": "H", "昭和": "S"}[m[1]]
        y = 1 if m[2] == "元" else int(m[2])
        assert _from_era(letter, y, int(m[3]), int(m[4])) == d
    for d, text in zip(ds, mess.format_dates(days, "uke_wareki")):
        assert len(text) == 7
        assert _from_era(ERA_CODE[text[0]], int(text[1:3]), int(text[3:5]), int(text[5:7])) == d


def test_minus_one_is_empty_but_other_pre_1970_days_are_dates():
    out = mess.format_dates(np.array([-1, -2, 0]), "iso")
    assert list(out) == ["", "1969-12-30", "1970-01-01"]


@given(st.sampled_from(["iso", "slash", "slash0", "compact", "wareki", "wareki_short", "ym_wareki", "ym_iso"]),
       st.integers(0, 2**31))
@settings(max_examples=50, deadline=None)
def test_impossible_dates_are_not_calendar_days(style, seed):
    text = mess.impossible_date(style, np.random.default_rng(seed))
    if style == "compact":
        nums = [int(text[:4]), int(text[4:6]), int(text[6:8])]
    else:
        nums = [int(x) for x in re.findall(r"\d+", text)]
    month = nums[1]
    day = nums[2] if len(nums) > 2 else 1
    if month <= 12:
        try:
            dt.date(2001, month, day)  # any year: Feb 29+ is impossible in 2001
        except ValueError:
            return
        raise AssertionError(text)
