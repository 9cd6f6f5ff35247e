"""Ages in whole months from a birth year-month.

Analysis tables carry only ``birth_ym`` (``YYYY-MM``), never the birth day. The age used
everywhere in the rules is the **calendar-month difference** between the birth month and
the month of the date: a child born in 2023-04 is 0 at any day of April 2023 and 3 at any
day of July 2023. Because the birth day is unknown, the true age in completed months is
that value or one less. Two consequences, kept consistently:

* band membership ("1歳6か月", "2歳以下") uses the calendar value (:func:`age_months`);
* "overdue" judgements use :func:`surely_reached`, the calendar value minus one, so a
  child is never called late before a deadline has certainly passed.

Years are whole months // 12.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def ym_index_from_text(birth_ym: pd.Series) -> np.ndarray:
    """``YYYY-MM`` strings -> months since year 0 (float, NaN for missing/bad).

    Each distinct text is parsed once (a city has a few hundred birth months, not 500,000)."""
    codes, uniques = pd.factorize(pd.Series(birth_ym).to_numpy(dtype=object), use_na_sentinel=True)
    parsed = _ym_index_parse(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    return np.append(parsed, np.nan)[codes]


def _ym_index_parse(birth_ym: pd.Series) -> np.ndarray:
    s = birth_ym.astype("string")
    year = pd.to_numeric(s.str.slice(0, 4), errors="coerce")
    month = pd.to_numeric(s.str.slice(5, 7), errors="coerce")
    bad = (month < 1) | (month > 12)
    idx = (year * 12 + month - 1).astype("float64")
    idx[bad.fillna(True)] = np.nan
    return idx.to_numpy(dtype="float64", na_value=np.nan)


def ym_index_from_dates(dates: pd.Series) -> np.ndarray:
    """Dates -> months since year 0 (float, NaN for NaT)."""
    arr = np.asarray(dates)
    if arr.dtype.kind != "M":
        arr = pd.to_datetime(pd.Series(dates)).to_numpy()
    # calendar arithmetic on datetime64 is far cheaper than the .dt accessors
    months = arr.astype("datetime64[M]").astype("int64").astype("float64") + 1970 * 12
    months[np.isnat(arr)] = np.nan
    return months


def ym_index_of(date) -> int:
    """One date -> months since year 0."""
    ts = pd.Timestamp(date)
    return ts.year * 12 + ts.month - 1


def age_months(birth_index, date_index):
    """Calendar-month age (see module docstring). Works on scalars and arrays."""
    return np.asarray(date_index, dtype="float64") - np.asarray(birth_index, dtype="float64")


def surely_reached(calendar_age):
    """Completed months the child has certainly reached (calendar age minus one, ≥ 0)."""
    return np.maximum(np.asarray(calendar_age, dtype="float64") - 1, 0)


def month_text(index) -> str:
    """Month index -> ``YYYY-MM``."""
    i = int(index)
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def age_label(months) -> str:
    """Japanese age label for a month count: ``1歳6か月``, ``4か月``."""
    m = int(months)
    if m < 12:
        return f"{m}か月"
    y, r = divmod(m, 12)
    return f"{y}歳" if r == 0 else f"{y}歳{r}か月"
