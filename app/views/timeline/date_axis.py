"""A Japanese date axis for pyqtgraph whose labels never touch.

x values are days since 1970-01-01 (``app.engine.timeline_layout``). At every zoom the axis
tries tick units from fine (6 hours) to coarse (5 years) and keeps the finest one whose
labels, measured with the axis font, leave a gap between neighbours. Labels carry only what
changed: ``2022年4月1日``, then ``2日``, ``3日`` … ``5月1日``; months as ``2022年1月``, ``2月``;
years as ``2022年`` (or ``令和4年`` with 和暦 on).

API: ``JapaneseDateAxis(wareki=False)``, ``set_wareki(bool)``, ``label_layout()`` (the last
drawn labels as (centre px, width px, text), for tests and screenshots).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontDatabase, QFontMetricsF, QGuiApplication

from app.engine.japanese_time import wareki_year

_EPOCH = np.datetime64("1970-01-01", "D")
# (kind, step). Ordered fine -> coarse; the first that fits wins.
_UNITS = [("hour", 6), ("hour", 12), ("day", 1), ("day", 2), ("day", 7), ("month", 1),
          ("month", 2), ("month", 3), ("month", 6), ("year", 1), ("year", 2), ("year", 5)]
_UNIT_DAYS = {"hour": 1 / 24, "day": 1, "month": 28, "year": 365}
_GAP_PX = 14.0
_CJK_FAMILIES = ("Noto Sans CJK JP", "IPAexGothic", "Yu Gothic UI", "Meiryo UI", "Meiryo", "MS UI Gothic")



def _year_text(day: dt.date, wareki: bool) -> str:
    return wareki_year(day) if wareki else f"{day.year}年"


def tick_values(kind: str, step: int, lo: float, hi: float) -> np.ndarray:
    """Tick positions (days) of one unit within [lo, hi]."""
    if kind == "hour":
        per = step / 24.0
        return np.arange(np.ceil(lo / per) * per, hi + 1e-9, per)
    if kind == "day":
        days = np.arange(np.ceil(lo), np.floor(hi) + 1)
        # Weeks start on Monday (1970-01-05 is day 4).
        return days[(days - (4 if step == 7 else 0)) % step == 0]
    first = np.datetime64(dt.date(1970, 1, 1) + dt.timedelta(days=int(np.floor(lo))), "M" if kind == "month" else "Y")
    last = np.datetime64(dt.date(1970, 1, 1) + dt.timedelta(days=int(np.floor(hi))), "M" if kind == "month" else "Y")
    periods = np.arange(first, last + 1)
    index = periods.astype("int64")  # months / years since 1970
    periods = periods[index % step == 0]
    days = (periods.astype("datetime64[D]") - _EPOCH).astype("int64").astype(float)
    return days[(days >= lo) & (days <= hi)]


def tick_labels(kind: str, values: np.ndarray, wareki: bool = False) -> list[str]:
    """Japanese labels for tick positions of one unit, showing only what changed."""
    labels = []
    previous: dt.date | None = None
    for value in values:
        whole = int(np.floor(value + 1e-9))
        day = dt.date(1970, 1, 1) + dt.timedelta(days=whole)
        if kind == "hour":
            hour = int(round((value - whole) * 24)) % 24
            if previous is None or previous.year != day.year:
                text = f"{_year_text(day, wareki)}{day.month}月{day.day}日" + (f" {hour}時" if hour else "")
            else:
                text = f"{day.month}月{day.day}日" if hour == 0 else f"{hour}時"
        elif kind == "day":
            if previous is None or previous.year != day.year:
                text = f"{_year_text(day, wareki)}{day.month}月{day.day}日"
            elif previous.month != day.month:
                text = f"{day.month}月{day.day}日"
            else:
                text = f"{day.day}日"
        elif kind == "month":
            if previous is None or previous.year != day.year:
                text = f"{_year_text(day, wareki)}{day.month}月"
            else:
                text = f"{day.month}月"
        else:
            text = _year_text(day, wareki)
        labels.append(text)
        previous = day
    return labels


def choose_ticks(lo: float, hi: float, size_px: float, metrics: QFontMetricsF,
                 wareki: bool = False):
    """Finest unit whose labels fit without touching: (kind, step, values, labels, minor values)."""
    span = max(hi - lo, 1e-6)
    chosen = None
    for i, (kind, step) in enumerate(_UNITS):
        if span / (_UNIT_DAYS[kind] * step) > size_px / 12:
            continue  # far too many ticks to even try
        if kind == "hour" and span > 3:
            continue  # hours only when looking at a few days
        values = tick_values(kind, step, lo, hi)
        labels = tick_labels(kind, values, wareki)
        # pyqtgraph drops a label that would stick out of the axis; drop it here instead, so
        # the first label drawn is the one carrying the year (and the layout check is honest).
        for _ in range(2):
            if len(values) and ((values[0] - lo) / span * size_px < metrics.horizontalAdvance(labels[0]) / 2):
                values = values[1:]
                labels = tick_labels(kind, values, wareki)
        while len(values) and ((hi - values[-1]) / span * size_px < metrics.horizontalAdvance(labels[-1]) / 2):
            values, labels = values[:-1], labels[:-1]
        if len(values) > 1:
            px = (values - lo) / span * size_px
            widths = np.array([metrics.horizontalAdvance(t) for t in labels])
            needed = (widths[:-1] + widths[1:]) / 2 + _GAP_PX
            if np.any(np.diff(px) < needed):
                continue
        chosen = (i, kind, step, values, labels)
        break
    if chosen is None:
        kind, step = _UNITS[-1]
        values = tick_values(kind, step, lo, hi)
        chosen = (len(_UNITS) - 1, kind, step, values, tick_labels(kind, values, wareki))
    i, kind, step, values, labels = chosen
    minor = np.array([])
    for kind2, step2 in reversed(_UNITS[:i]):
        candidate = tick_values(kind2, step2, lo, hi)
        if len(candidate) < 2 or np.min(np.diff(candidate)) / span * size_px >= 6:
            minor = candidate
            break
    return kind, step, values, labels, minor


def cjk_font(point_size: float) -> QFont:
    """The application font in a Japanese family if one is installed, at ``point_size``."""
    font = QFont(QGuiApplication.font())
    families = set(QFontDatabase.families())
    for family in _CJK_FAMILIES:
        if family in families:
            font.setFamily(family)
            break
    font.setPointSizeF(point_size)
    return font


class JapaneseDateAxis(pg.AxisItem):
    """Bottom axis for day coordinates with Japanese, non-touching labels."""

    def __init__(self, orientation: str = "bottom", wareki: bool = False, **kwargs):
        super().__init__(orientation, **kwargs)
        self._wareki = wareki
        # The application font (a CJK family after apply_theme): a non-CJK default would make
        # Qt look up a fallback font for every glyph on every repaint.
        self._font = cjk_font(9.0)
        self.setTickFont(self._font)
        self._labels: dict[float, str] = {}
        self._layout: list[tuple[float, float, str]] = []
        # Only the labelled level gets text; the minor level is ticks only.
        self.setStyle(maxTextLevel=0, autoExpandTextSpace=True)

    def set_wareki(self, on: bool) -> None:
        """Switch year labels between 西暦 (2022年) and 和暦 (令和4年)."""
        self._wareki = bool(on)
        self.picture = None
        self.update()

    def wareki(self) -> bool:
        return self._wareki

    def label_layout(self) -> list[tuple[float, float, str]]:
        """Labels of the last layout: (centre in px from the axis start, width px, text)."""
        return list(self._layout)

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 - Qt/pyqtgraph override
        metrics = QFontMetricsF(self._font)
        kind, step, values, labels, minor = choose_ticks(minVal, maxVal, size, metrics, self._wareki)
        self._labels = dict(zip(values.tolist(), labels))
        span = max(maxVal - minVal, 1e-6)
        self._layout = [((v - minVal) / span * size, metrics.horizontalAdvance(t), t)
                        for v, t in zip(values.tolist(), labels)]
        major_spacing = _UNIT_DAYS[kind] * step
        return [(major_spacing, values.tolist()), (major_spacing / 4, minor.tolist())]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph override
        return [self._labels.get(v, "") for v in values]
