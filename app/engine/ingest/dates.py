"""Dates as departments write them: 西暦, 和暦, compact, full-width, year-month, UKE era codes.

``parse_date`` reads one value; ``parse_date_series`` reads a column once per distinct value
(a delivery repeats the same few thousand dates millions of times) and returns the dates plus
the Japanese reason for every value it could not read, so the row can be quarantined.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import numpy as np
import pandas as pd

# Era start dates; the first year of each era is 元年 (= 1).
ERAS = {
    "明治": dt.date(1868, 1, 25),
    "大正": dt.date(1912, 7, 30),
    "昭和": dt.date(1926, 12, 25),
    "平成": dt.date(1989, 1, 8),
    "令和": dt.date(2019, 5, 1),
}
ERA_LETTERS = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和"}
# UKE 和暦 codes (GYYMMDD / GYYMM): 1 明治 … 5 令和.
UKE_ERA_CODES = {"1": "明治", "2": "大正", "3": "昭和", "4": "平成", "5": "令和"}

_ERA_RE = re.compile(
    r"^(明治|大正|昭和|平成|令和|[MTSHR])\s*(元|\d{1,2})\s*[年.\-/]\s*(\d{1,2})\s*"
    r"(?:[月.\-/]\s*(\d{1,2})\s*日?)?\s*月?$",
    re.IGNORECASE,
)
# A trailing time of day (受付日時 "2022-04-04 10:07"): the day is what the frames keep.
_TIME_RE = re.compile(r"^(.+?)[ T]\d{1,2}:\d{2}(?::\d{2})?$")
_WEST_RE = re.compile(r"^(\d{4})\s*[年.\-/]\s*(\d{1,2})\s*(?:[月.\-/]\s*(\d{1,2})\s*日?)?\s*月?$")


class DateError(ValueError):
    """A value that is not a date; ``reason`` is Japanese for the quarantine list."""


def _date(year: int, month: int, day: int, raw: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DateError(f"日付「{raw}」は存在しない日付です") from None


def _era_date(era: str, year: int, month: int, day: int, raw: str) -> dt.date:
    start = ERAS[era]
    value = _date(start.year + year - 1, month, day, raw)
    # A year-month value in the starting month of an era is fine (R1.5 = 2019-05).
    if value < start and not (day == 1 and (value.year, value.month) == (start.year, start.month)):
        raise DateError(f"日付「{raw}」は{era}の始まり（{start.isoformat()}）より前です")
    # "H31.5.x" written after the change of era means 令和元年5月x日: the same calendar day,
    # so no correction is needed — only do not reject it as out of range.
    return value


def parse_date(value: object, *, uke: bool = False) -> tuple[dt.date | None, str]:
    """Read one date. Returns (date or None if empty, precision ``day``/``month``/``""``).

    Raises DateError with a Japanese reason for anything that is not a readable date.
    ``uke=True`` reads 7/5-digit values as UKE era codes (GYYMMDD / GYYMM).
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None, ""
    raw = str(value)
    s = unicodedata.normalize("NFKC", raw).strip()  # full-width digits, ㋿/㍻ → 令和/平成
    if not s:
        return None, ""
    timed = _TIME_RE.match(s)
    if timed:
        s = timed.group(1).strip()
    if s.isdigit():
        if len(s) == 8:
            return _date(int(s[:4]), int(s[4:6]), int(s[6:]), raw), "day"
        if len(s) == 6:
            return _date(int(s[:4]), int(s[4:6]), 1, raw), "month"
        if len(s) in (7, 5) and s[0] in UKE_ERA_CODES:
            era = UKE_ERA_CODES[s[0]]
            day = int(s[5:7]) if len(s) == 7 else 1
            return _era_date(era, int(s[1:3]), int(s[3:5]), day, raw), "day" if len(s) == 7 else "month"
        raise DateError(f"日付「{raw}」の桁数が読めません")
    m = _WEST_RE.match(s)
    if m:
        day = m.group(3)
        return _date(int(m.group(1)), int(m.group(2)), int(day or 1), raw), "day" if day else "month"
    m = _ERA_RE.match(s)
    if m:
        era = m.group(1)
        era = ERA_LETTERS.get(era.upper(), era)
        year = 1 if m.group(2) == "元" else int(m.group(2))
        if year < 1:
            raise DateError(f"日付「{raw}」の年が0です")
        day = m.group(4)
        return _era_date(era, year, int(m.group(3)), int(day or 1), raw), "day" if day else "month"
    raise DateError(f"日付「{raw}」を読めません")


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date_values(uniq, *, uke: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``parse_date`` over distinct values: (datetime64[ns] array with NaT for empty/bad,
    object array of reasons, "" where the value was empty or read)."""
    days: list[dt.date | None] = [None] * len(uniq)
    reasons = np.full(len(uniq), "", dtype=object)
    for i, u in enumerate(uniq):
        if _ISO_DAY.fullmatch(u):
            # 2019-03-18, the form most extracts use: what parse_date reads it as, without
            # its normalising and pattern tries (a day that does not exist goes the long way).
            try:
                days[i] = dt.date(int(u[:4]), int(u[5:7]), int(u[8:]))
                continue
            except ValueError:
                pass
        try:
            days[i], _ = parse_date(u, uke=uke)
        except DateError as exc:
            reasons[i] = str(exc)
    parsed = np.array(days, dtype="datetime64[D]").astype("datetime64[ns]") if len(days) else \
        np.array([], dtype="datetime64[ns]")
    return parsed, reasons


def parse_date_series(values: pd.Series, *, uke: bool = False) -> tuple[pd.Series, pd.Series]:
    """Vectorised ``parse_date``: (datetime64 series with NaT for empty/bad, reason series).

    The reason is "" where the value was empty or read; else the Japanese reason. Each
    distinct value is parsed once (factorize), then spread back with numpy indexing.
    """
    values = values.fillna("").astype(str)
    codes, uniq = pd.factorize(values)
    parsed, reasons = parse_date_values(uniq, uke=uke)
    return (pd.Series(parsed[codes], index=values.index),
            pd.Series(reasons[codes], index=values.index, dtype=object))
