"""The one way a timestamp or date is written for a person: Japan time, the office's format.

The store keeps instants as ISO 8601 with an offset (the audit log writes UTC,
``2026-11-29T10:43:01+00:00``) and dates as ``YYYY-MM-DD``. A caseworker reads neither: she reads
``2026/11/29 19:43`` (JST, 西暦) or, where the office writes 和暦, ``令和8年11月29日 19:43``.
Every view, tooltip, PDF footer and export header shown to a person goes through
:func:`format_jst` (and :func:`format_date` for plain dates). Exports for machines keep ISO.
"""

from __future__ import annotations

import datetime as dt

from app.engine.ingest.dates import ERAS as ERA_STARTS

JST = dt.timezone(dt.timedelta(hours=9), "JST")

# Era start dates, newest first: the same table the importer reads 和暦 with (one table).
ERAS = tuple(sorted(((start, name) for name, start in ERA_STARTS.items()), reverse=True))


def wareki_year(day: dt.date) -> str:
    """``令和3年`` for a date in 2021 (``元年`` for the first year of an era)."""
    for start, name in ERAS:
        if day >= start:
            year = day.year - start.year + 1
            return f"{name}{'元' if year == 1 else year}年"
    return f"{day.year}年"


def wareki_date(day: dt.date) -> str:
    """``令和8年11月29日`` (``令和元年5月1日`` for an era's first year)."""
    return f"{wareki_year(day)}{day.month}月{day.day}日"


def _missing(value) -> bool:
    """None, NaN/NaT (pandas gives these for empty cells) or a blank string."""
    if value is None:
        return True
    if isinstance(value, float) or hasattr(value, "to_pydatetime"):
        return value != value
    return isinstance(value, str) and not value.strip()


def to_jst(value) -> dt.datetime | None:
    """An aware datetime in JST. Strings are ISO 8601; a naive time is taken as UTC (how the
    store writes instants), a pandas Timestamp/NaT and None are accepted."""
    if _missing(value):
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if not isinstance(value, dt.datetime):
        raise TypeError(f"not a point in time: {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(JST)


def format_jst(value, wareki: bool = False, seconds: bool = False) -> str:
    """A point in time for a person, in Japan time: ``2026/11/29 19:43`` (西暦) or
    ``令和8年11月29日 19:43`` (``wareki=True``). Empty string for a missing value. A bare date
    (``2026-11-29`` or a ``date``) is written as a date, never shifted."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return format_date(value, wareki)
    if isinstance(value, str) and len(value.strip()) == 10:
        return format_date(value, wareki)
    moment = to_jst(value)
    if moment is None:
        return ""
    clock = moment.strftime("%H:%M:%S" if seconds else "%H:%M")
    day = wareki_date(moment.date()) if wareki else moment.strftime("%Y/%m/%d")
    return f"{day} {clock}"


def format_date(value, wareki: bool = False) -> str:
    """A calendar date for a person: ``2026/11/29`` or ``令和8年11月29日``; '' when missing."""
    if _missing(value):
        return ""
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, str) and len(value.strip()) > 10:
        value = to_jst(value)  # a point in time: its date in Japan, not in UTC
    if isinstance(value, dt.datetime):
        value = to_jst(value).date() if value.tzinfo is not None or value.hour or value.minute else value.date()
    if isinstance(value, str):
        value = dt.date.fromisoformat(value.strip()[:10])
    return wareki_date(value) if wareki else value.strftime("%Y/%m/%d")
