"""The timeline plot: lanes, numeric series (second x-linked ViewBox) and an overview range bar.

``TimelinePlot(parent)`` is a ``pg.GraphicsLayoutWidget`` with three rows sharing the x axis
(days since 1970-01-01): the lane plot (one ScatterPlotItem per lane, vaccine due windows as
one BarGraphItem, "not yet resident" shading, a few text notes, highlight rings), the series
plot (one numeric series with growth-reference bands), and a thin overview whose draggable
region is the range slider.

API (the view uses only this):
- ``set_model(model)`` build every item once for a ``TimelineModel``;
- ``set_series(key)`` switch the numeric series (``SERIES`` keys);
- ``set_day_range(lo, hi)`` / ``day_range()`` the visible x range;
- ``clear_child()`` show nothing;
- ``highlight_rows(rows)`` ring these event rows (empty clears);
- ``describe_at(x, y, plot="lanes")`` tooltip text of the mark nearest to a data point;
- ``wareki(on)`` 和暦 labels on the date axes;
- signals ``mark_clicked(int row)``, ``hovered(str text)``.
Items are built only in ``set_model``/``set_series``; zoom and pan only move the view.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QGraphicsItem, QToolTip

from app.engine import timeline_layout as tl
from app.models.timeline_model import (DISCLOSURE_STYLE, MARK_SIZE, SERIES, WINDOW_STYLE,
                                       TimelineModel)
from app.views.timeline.date_axis import JapaneseDateAxis, cjk_font

LEFT_AXIS_WIDTH = 190
HIT_PX = 8.0  # how close (pixels) the pointer must be to a mark to describe it
NO_DATA_TEXT = "データなし（転入前）"
NO_DATA_AFTER_TEXT = "データなし（転出後）"
_SHADE = QBrush(QColor(110, 110, 110, 70), Qt.BrushStyle.BDiagPattern)


class TimelinePlot(pg.GraphicsLayoutWidget):
    mark_clicked = Signal(int)
    hovered = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.model: TimelineModel | None = None
        self._series_key = "weight"
        self._series_rows = np.array([], dtype=int)
        self._series_xy = (np.array([]), np.array([]))
        self._syncing = False
        self.last_hover_text = ""

        self.lanes_axis = JapaneseDateAxis("bottom")
        self.lanes = self.addPlot(row=0, col=0, axisItems={"bottom": self.lanes_axis})
        self.series_axis = JapaneseDateAxis("bottom")
        self.series = self.addPlot(row=1, col=0, axisItems={"bottom": self.series_axis})
        self.overview_axis = JapaneseDateAxis("bottom")
        self.overview = self.addPlot(row=2, col=0, axisItems={"bottom": self.overview_axis})
        layout = self.ci.layout
        layout.setRowStretchFactor(0, 5)
        layout.setRowStretchFactor(1, 2)
        self.overview.setMaximumHeight(70)
        for plot in (self.lanes, self.series, self.overview):
            plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
            # Zooming x never changes the left axes: paint them from a pixmap cache instead of
            # replaying their (CJK) text on every frame — the largest cost of a repaint.
            plot.getAxis("left").setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            plot.getAxis("left").setTickFont(cjk_font(9.5))
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.showGrid(x=True, y=False, alpha=0.15)
        self.lanes.setMouseEnabled(x=True, y=False)
        self.series.setMouseEnabled(x=True, y=False)
        self.overview.setMouseEnabled(x=False, y=False)
        self.series.setXLink(self.lanes)
        self.overview.getAxis("left").setTicks([[]])
        self.overview.getAxis("left").setLabel("全期間")
        self.lanes.getAxis("left").setStyle(tickTextOffset=6)

        self.region = pg.LinearRegionItem(brush=QBrush(QColor(0, 114, 178, 40)),
                                          pen=pg.mkPen("#0072B2", width=2))
        self.region.setZValue(10)
        self.overview.addItem(self.region)
        self.region.sigRegionChanged.connect(self._region_moved)
        self.lanes.getViewBox().sigXRangeChanged.connect(self._view_moved)
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.scene().sigMouseClicked.connect(self._mouse_clicked)
        self._items: list = []
        self._series_items: list = []

    # -- building ----------------------------------------------------------------
    def set_model(self, model: TimelineModel) -> None:
        """Build every item for ``model`` (the only place lane items are created)."""
        self.model = model
        for plot, item in self._items:
            plot.removeItem(item)
        self._items = []
        lo, hi = model.day_range()
        y_lo = min((lane.y for lane in model.lanes), default=0) - 0.7
        self.lanes.getAxis("left").setTicks([[(lane.y, lane.label) for lane in model.lanes]])

        for lane in model.lanes:
            marks = model.marks[lane.key]
            if len(marks.x) == 0:
                continue
            item = pg.ScatterPlotItem(x=marks.x, y=marks.y, symbol=marks.symbols, brush=marks.brushes,
                                      pen=marks.pens, size=MARK_SIZE + (4 if lane.key == "flags" else 0),
                                      pxMode=True)
            self._add(self.lanes, item)

        if len(model.windows):
            w = model.windows
            brushes = [pg.mkBrush(WINDOW_STYLE[s][0]) for s in w["status"]]
            pens = [pg.mkPen("#B00000", width=1.5) if s == "overdue" else pg.mkPen("#9AA9B5", width=0.8)
                    for s in w["status"]]
            bars = pg.BarGraphItem(x0=w["start"].to_numpy(), x1=w["end"].to_numpy(),
                                   y0=w["y"].to_numpy() - 0.28, y1=w["y"].to_numpy() + 0.28,
                                   brushes=brushes, pens=pens)
            bars.setZValue(-5)
            self._add(self.lanes, bars)

        note_font = cjk_font(8.0)
        for x, y, text in model.notes:
            label = pg.TextItem(text, color="#7A0000", anchor=(0, 1.05))
            label.setFont(note_font)
            label.setPos(x, y + 0.05)
            self._add(self.lanes, label)

        for a, b in tl.non_resident_spans(model.data.child, lo, hi):
            for plot in (self.lanes, self.series, self.overview):
                shade = pg.LinearRegionItem(values=(a, b), movable=False, brush=_SHADE,
                                            pen=pg.mkPen(None))
                shade.setZValue(-10)
                self._add(plot, shade)
            # Labelled at the boundary, pointing into the shaded span, so a short span (a move
            # soon after birth) never pushes the label over the lane names.
            before = a <= lo + 1
            boundary = tl.date_of(b if before else a)
            date_text = f"{boundary.year}年{boundary.month}月{boundary.day}日"
            text = f"◀ {NO_DATA_TEXT}｜転入 {date_text}" if before else f"転出 {date_text}｜{NO_DATA_AFTER_TEXT} ▶"
            label = pg.TextItem(text, color="#444444", anchor=(0, 0) if before else (1, 0),
                                fill=pg.mkBrush(255, 255, 255, 220))
            label.setFont(cjk_font(8.5))
            label.setPos(b if before else a, 0.75)
            self._add(self.lanes, label)

        self.highlight = pg.ScatterPlotItem(symbol="o", size=24, brush=pg.mkBrush(None),
                                            pen=pg.mkPen("#C2185B", width=3))
        self.highlight.setZValue(20)
        self._add(self.lanes, self.highlight)

        # Overview: every mark as a tick, to see where the record is dense.
        xs = np.concatenate([m.x for m in model.marks.values()]) if model.marks else np.array([])
        ys = np.concatenate([m.y for m in model.marks.values()]) if model.marks else np.array([])
        overview = pg.ScatterPlotItem(x=xs, y=ys, symbol="s", size=3, pen=None,
                                      brush=pg.mkBrush(90, 90, 90, 160))
        self._add(self.overview, overview)

        vb = self.lanes.getViewBox()
        span = hi - lo
        vb.setLimits(xMin=lo - span * 0.1, xMax=hi + span * 0.1, minXRange=1.0,
                     maxXRange=max(span * 1.2, 7 * 365.0))
        self.lanes.setYRange(y_lo, 0.8, padding=0)
        self.overview.setXRange(lo, hi, padding=0)
        self.overview.setYRange(y_lo, 0.8, padding=0)
        self.set_series(self._series_key)
        self.set_day_range(lo, hi)

    def clear_child(self) -> None:
        """Remove every item (no child shown). Not ``clear``: GraphicsLayoutWidget binds that
        name to its layout's clear, which would remove the plots themselves."""
        for plot, item in self._items:
            plot.removeItem(item)
        for item in self._series_items:
            self.series.removeItem(item)
        self._items, self._series_items = [], []
        self._series_rows, self._series_xy = np.array([], dtype=int), (np.array([]), np.array([]))
        self.lanes.getAxis("left").setTicks([[]])
        self.model = None

    def _add(self, plot, item) -> None:
        plot.addItem(item)
        self._items.append((plot, item))

    def set_series(self, key: str) -> None:
        """Show numeric series ``key`` (with growth percentile bands for height/weight)."""
        if key not in SERIES:
            raise KeyError(key)
        self._series_key = key
        for item in self._series_items:
            self.series.removeItem(item)
        self._series_items = []
        if self.model is None:
            return
        data = self.model.series(key)
        label, unit = SERIES[key]
        self.series.getAxis("left").setLabel(f"{label}" + (f"（{unit}）" if unit else ""))
        bands = data["bands"]
        if bands is not None and len(bands):
            low = pg.PlotDataItem(bands["x"].to_numpy(), bands["p3"].to_numpy(), pen=pg.mkPen("#8FB8D8", width=1))
            high = pg.PlotDataItem(bands["x"].to_numpy(), bands["p97"].to_numpy(), pen=pg.mkPen("#8FB8D8", width=1))
            fill = pg.FillBetweenItem(low, high, brush=pg.mkBrush(143, 184, 216, 60))
            mid = pg.PlotDataItem(bands["x"].to_numpy(), bands["p50"].to_numpy(),
                                  pen=pg.mkPen("#5A8DB8", width=1, style=Qt.PenStyle.DashLine))
            for item in (fill, low, high, mid):
                self.series.addItem(item)
                self._series_items.append(item)
            caption = pg.TextItem("3・50・97パーセンタイル（令和5年乳幼児身体発育調査）", color="#3A6A90",
                                  anchor=(0, 0))
            caption.setPos(float(bands["x"].iloc[0]), float(bands["p97"].max()))
            self.series.addItem(caption)
            self._series_items.append(caption)
        extra = []
        if key == "kaup" and self.model.birth is not None:
            k = tl.kaup_bands(self.model.birth)
            bars = pg.BarGraphItem(x0=k["x0"].to_numpy(), x1=k["x1"].to_numpy(), y0=k["low"].to_numpy(),
                                   y1=k["high"].to_numpy(), brush=pg.mkBrush(143, 184, 216, 60),
                                   pen=pg.mkPen("#8FB8D8"))
            caption = pg.TextItem("カウプ指数の標準範囲（月齢別）", color="#3A6A90", anchor=(0, 1))
            caption.setPos(float(k["x0"].iloc[0]), float(k["high"].max()) + 0.3)
            extra += [bars, caption]
            data_range = [k["low"].to_numpy(), k["high"].to_numpy()]
        elif key == "epds":
            for i, (score, text) in enumerate(tl.EPDS_LINES):
                # Lower line's label below it, upper line's above: the two never touch.
                anchor = (0, 0) if i == 0 else (0, 1)
                line = pg.InfiniteLine(pos=score, angle=0, movable=False,
                                       pen=pg.mkPen("#B00000", width=1, style=Qt.PenStyle.DashLine),
                                       label=text, labelOpts={"position": 0.01, "color": "#B00000",
                                                              "anchors": [anchor, anchor]})
                extra.append(line)
            data_range = [np.array([0.0, 30.0])]
        else:
            data_range = []
        for item in extra:
            self.series.addItem(item)
            self._series_items.append(item)
        rows = data["rows"]
        disclosure = self.model.events["disclosure"].to_numpy(dtype=object)[rows] if len(rows) else []
        symbols = [DISCLOSURE_STYLE.get(d, DISCLOSURE_STYLE["staff"])["symbol"] for d in disclosure]
        brushes = [pg.mkBrush(DISCLOSURE_STYLE.get(d, DISCLOSURE_STYLE["staff"])["color"]) for d in disclosure]
        curve = pg.PlotDataItem(data["x"], data["y"], pen=pg.mkPen("#333333", width=1.5))
        self.series.addItem(curve)
        # pyqtgraph 0.14: setClipToView only after the item is in its ViewBox (TECH_NOTES).
        curve.setClipToView(True)
        # Points separately: clipping would drop points but not their per-point brushes.
        points = pg.ScatterPlotItem(x=data["x"], y=data["y"], symbol=symbols, brush=brushes,
                                    pen=pg.mkPen("#333333"), size=10)
        self.series.addItem(points)
        self._series_items += [curve, points]
        self._series_rows = rows
        self._series_xy = (data["x"], data["y"])
        ys = [data["y"], *data_range] + ([bands["p3"].to_numpy(), bands["p97"].to_numpy()] if bands is not None else [])
        values = np.concatenate([np.asarray(v, dtype=float) for v in ys]) if ys else np.array([])
        values = values[np.isfinite(values)]
        if len(values):
            pad = (values.max() - values.min()) * 0.1 or 1.0
            self.series.setYRange(values.min() - pad, values.max() + pad, padding=0)

    # -- range --------------------------------------------------------------------
    def set_day_range(self, lo: float, hi: float) -> None:
        self.lanes.setXRange(lo, hi, padding=0)

    def day_range(self) -> tuple[float, float]:
        lo, hi = self.lanes.getViewBox().viewRange()[0]
        return float(lo), float(hi)

    def _view_moved(self, _vb, rng) -> None:
        if self._syncing:
            return
        self._syncing = True
        self.region.setRegion(rng)
        self._syncing = False

    def _region_moved(self) -> None:
        if self._syncing:
            return
        self._syncing = True
        lo, hi = self.region.getRegion()
        if hi - lo >= 1.0:
            self.lanes.setXRange(lo, hi, padding=0)
        self._syncing = False

    def wareki(self, on: bool) -> None:
        for axis in (self.lanes_axis, self.series_axis, self.overview_axis):
            axis.set_wareki(on)

    # -- highlight, hover, click ------------------------------------------------------
    def highlight_rows(self, rows) -> None:
        """Ring the marks of these event rows; an empty list clears the rings."""
        if self.model is None:
            return
        ids = [self.model.event_id_at(int(r)) for r in rows]
        x, y = self.model.position_of(ids)
        self.highlight.setData(x=x, y=y)

    def highlighted_count(self) -> int:
        return len(self.highlight.data) if self.model is not None else 0

    def _nearest(self, plot, x: float, y: float):
        """('event', row) / ('flag', i) / ('window', i) nearest to data point (x, y), or None."""
        model = self.model
        if model is None:
            return None
        vb = plot.getViewBox()
        px_per_day = vb.width() / max(vb.viewRange()[0][1] - vb.viewRange()[0][0], 1e-9)
        if plot is self.series:
            xs, ys = self._series_xy
            if len(xs) == 0:
                return None
            px_per_unit = vb.height() / max(vb.viewRange()[1][1] - vb.viewRange()[1][0], 1e-9)
            d = np.hypot((xs - x) * px_per_day, (ys - y) * px_per_unit)
            i = int(np.nanargmin(d))
            return ("event", int(self._series_rows[i])) if d[i] <= HIT_PX * 1.5 else None
        lane = min(model.lanes, key=lambda ln: abs(ln.y - y), default=None)
        if lane is None or abs(lane.y - y) > 0.45:
            return None
        marks = model.marks[lane.key]
        if len(marks.x):
            d = np.abs(marks.x - x) * px_per_day + np.abs(marks.y - y) * 4
            i = int(np.argmin(d))
            if d[i] <= HIT_PX:
                return ("flag", i) if lane.key == "flags" else ("event", int(marks.rows[i]))
        w = model.windows
        if len(w):
            inside = np.flatnonzero((w["y"].to_numpy() == lane.y) & (w["start"].to_numpy() <= x)
                                    & (w["end"].to_numpy() >= x))
            if len(inside):
                return ("window", int(inside[0]))
        return None

    def describe(self, hit) -> str:
        if hit is None or self.model is None:
            return ""
        kind, i = hit
        if kind == "flag":
            return self.model.flag_tooltip(i)
        if kind == "window":
            return self.model.window_tooltip(i)
        return self.model.tooltip(i)

    def describe_at(self, x: float, y: float, plot: str = "lanes") -> str:
        """Tooltip text for data point (x, y) of the lane or series plot ("" if nothing there)."""
        target = self.series if plot == "series" else self.lanes
        return self.describe(self._nearest(target, x, y))

    def _plot_at(self, scene_pos):
        for plot in (self.lanes, self.series):
            if plot.getViewBox().sceneBoundingRect().contains(scene_pos):
                return plot
        return None

    def _mouse_moved(self, scene_pos) -> None:
        plot = self._plot_at(scene_pos)
        text = ""
        if plot is not None:
            point = plot.getViewBox().mapSceneToView(scene_pos)
            text = self.describe(self._nearest(plot, point.x(), point.y()))
        if text != self.last_hover_text:
            self.last_hover_text = text
            self.hovered.emit(text)
            if text:
                global_pos = self.mapToGlobal(self.mapFromScene(QPointF(scene_pos)))
                QToolTip.showText(global_pos, text, self)
            else:
                QToolTip.hideText()

    def _mouse_clicked(self, event) -> None:
        plot = self._plot_at(event.scenePos())
        if plot is None:
            return
        point = plot.getViewBox().mapSceneToView(event.scenePos())
        hit = self._nearest(plot, point.x(), point.y())
        if hit is not None and hit[0] == "event":
            self.mark_clicked.emit(hit[1])
