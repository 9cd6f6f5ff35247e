"""The staffing plan for section chiefs: figures per district, staff entry, the proposal, trends.

Aggregates only (``app/store/staffing_plans.load_plan_data`` → ``queries/aggregates``), small
counts already suppressed for the chief ("<5", "X") before anything reaches this widget, so
no view code can show a hidden figure by mistake. The chief enters nurses and seniors per
district (stored, audited) and sees the proposal of ``app/engine/staffing.py`` — load per
nurse before and after side by side — with its method stated. Export (CSV / xlsx) and the
printable page (A4 PDF) go through the governance gate (registered terminal, EXPORT_PLAN,
audit, footer; encrypted unless plain text is explicitly chosen). All data work runs on
``context.worker``.

    python -m app.views.staffing_view [--shot PNG]     (a throwaway demo store in a temp folder)
"""

from __future__ import annotations

import html
import sys

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QLineEdit,
    QMessageBox, QPushButton, QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout,
    QWidget,
)

from app.engine.aggregates import CITY, SUPPRESSION_NOTE, TARGET_LABELS, TARGETS, display
from app.engine.japanese_time import format_date
from app.engine.staffing import METHOD_TEXT, PLAN_COLUMNS, display_table, format_load
from app.store import roles
from app.views.theme import JAPANESE_FAMILIES

# Okabe–Ito: before = grey-blue, after = vermilion; readable with the common deficiencies.
BEFORE_COLOUR, AFTER_COLOUR = "#56B4E9", "#D55E00"
BAR_COLOUR = "#0072B2"
HIDDEN_TEXT_COLOUR = "#555555"
STAFF_COLUMNS = ("nurses", "seniors")


def _font(size: float = 9.0) -> QFont:
    families = set(QFontDatabase.families())
    for family in JAPANESE_FAMILIES:
        if family in families:
            return QFont(family, int(size))
    return QFont()


class DistrictAxis(pg.AxisItem):
    """A bottom axis that names the districts at integer positions."""

    def __init__(self, names: list[str] | None = None):
        super().__init__("bottom")
        self.names = names or []
        self.setStyle(tickFont=_font(8))

    def set_names(self, names: list[str]) -> None:
        self.names = list(names)
        self.setTicks([[(i, n) for i, n in enumerate(self.names)]])


class BarChart(pg.PlotWidget):
    """Bars per district; a hidden figure gets no bar but its ``<5`` / ``X`` written at the base."""

    def __init__(self, parent=None):
        self.axis = DistrictAxis()
        super().__init__(parent, axisItems={"bottom": self.axis})
        self.setBackground("w")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.getAxis("left").setStyle(tickFont=_font(8))

    def show_series(self, names: list[str], series: list[tuple[str, str, np.ndarray, list[str]]], title: str) -> None:
        """``series``: (label, colour, values with NaN where hidden, states) drawn side by side."""
        self.clear()
        # The colour key goes in the title: a legend inside the plot would cover a bar.
        key = "".join(f"　<span style='color:{colour}'>■</span> {html.escape(label)}"
                      for label, colour, _, _ in series) if len(series) > 1 else ""
        self.setTitle(html.escape(title) + key, size="10pt")
        self.axis.set_names(names)
        n = max(len(series), 1)
        width = 0.8 / n
        top = 0.0
        for k, (label, colour, values, states) in enumerate(series):
            x = np.arange(len(names)) - 0.4 + width * (k + 0.5)
            vals = np.asarray(values, dtype=float)
            shown = np.isfinite(vals)
            bars = pg.BarGraphItem(x=x[shown], height=vals[shown], width=width * 0.95, brush=colour,
                                   pen=pg.mkPen("#333333", width=0.5), name=label)
            self.addItem(bars)
            if shown.any():
                top = max(top, float(vals[shown].max()))
            for i in np.flatnonzero(~shown):
                text = states[i] or ("∞" if np.isinf(vals[i]) else "—")
                item = pg.TextItem(text, color=HIDDEN_TEXT_COLOUR, anchor=(0.5, 1.0))
                item.setFont(_font(8))
                item.setPos(x[i], 0)
                self.addItem(item)
        self.setXRange(-0.7, len(names) - 0.3, padding=0)
        self.setYRange(0, top * 1.15 if top > 0 else 1, padding=0)


class TrendChart(pg.PlotWidget):
    """One line per district over the runs (a hidden figure leaves a gap)."""

    PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
               "#999999", "#882255"]

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.setMenuEnabled(False)
        for side in ("left", "bottom"):
            self.getAxis(side).setStyle(tickFont=_font(8))
        self.legend = self.addLegend(offset=(-10, 5), labelTextSize="8pt")

    def show_trend(self, trends: pd.DataFrame, measure: str, runs: list, title: str) -> None:
        self.clear()
        self.legend.clear()
        self.setTitle(title, size="10pt")
        self.getAxis("bottom").setTicks([[(i, f"実行{r}") for i, r in enumerate(runs)]])
        pos = {r: i for i, r in enumerate(runs)}
        for k, (district, part) in enumerate(trends.groupby("district", sort=True)):
            x = part["run_id"].map(pos).to_numpy(dtype=float)
            y = part[measure].to_numpy(dtype=float)
            colour = self.PALETTE[k % len(self.PALETTE)]
            if not np.isfinite(y).any():
                continue   # hidden in every run: nothing to draw (the table says "<5")
            item = pg.PlotDataItem(x, y, pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6,
                                   symbolBrush=colour, connect="finite", name=district)
            self.addItem(item)
        self.setXRange(-0.3, max(len(runs) - 0.7, 0.3), padding=0)


class StaffingView(QWidget):
    """Per-district figures, staff entry, the proposal with before/after load, trends, export."""

    TABLE_KEYS = ("district", "children", "flagged", "not_followed", "visits", "nurses", "seniors",
                  "load_before", "nurses_after", "seniors_after", "load_after")
    CHART_MEASURES = ("not_followed", "flagged", "children", "visits", "nurses")

    def __init__(self, context, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.session = context.session
        self.data = None
        self._ready = False
        self._started = False
        self._filling = False
        self.can_plan = self.session.can(roles.PLAN_STAFFING)

        layout = QVBoxLayout(self)
        layout.addLayout(self._build_bar())
        self.info = QLabel()
        self.info.setWordWrap(True)
        layout.addWidget(self.info)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self._build_table())
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_charts_tab(), self.tr("Per district"))
        self.tabs.addTab(self._build_trends_tab(), self.tr("Trends over runs"))
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([360, 320])
        layout.addWidget(split, 1)

        self.method = QLabel()
        self.method.setWordWrap(True)
        self.method.setStyleSheet("color:#333333")
        layout.addWidget(self.method)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self._wire(context)

    def _build_bar(self) -> QHBoxLayout:
        """Target, staff totals and the plan's actions."""
        bar = QHBoxLayout()
        self.target = QComboBox()
        self.target.addItem(self.tr("Child abuse"), "abuse")
        self.target.addItem(self.tr("Postpartum depression / parenting anxiety"), "postpartum")
        bar.addWidget(QLabel(self.tr("Target")))
        bar.addWidget(self.target)
        self.total_nurses = QSpinBox()
        self.total_nurses.setRange(0, 999)
        self.total_seniors = QSpinBox()
        self.total_seniors.setRange(0, 999)
        self.minimum = QSpinBox()
        self.minimum.setRange(0, 20)
        self.minimum.setValue(1)
        for label, spin in ((self.tr("Nurses in the proposal"), self.total_nurses),
                            (self.tr("of whom senior"), self.total_seniors),
                            (self.tr("Minimum per district"), self.minimum)):
            bar.addWidget(QLabel(label))
            bar.addWidget(spin)
        self.recompute_button = QPushButton(self.tr("Save staff and update the proposal"))
        self.export_button = QPushButton(self.tr("Export plan…"))
        self.print_button = QPushButton(self.tr("Printable page (PDF)…"))
        bar.addStretch(1)
        for b in (self.recompute_button, self.export_button, self.print_button):
            bar.addWidget(b)
        return bar

    def _build_table(self) -> QTableWidget:
        """One row per district: need, staff now, proposal and load."""
        self.table = QTableWidget()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        # Two-line headers (the translations keep the line break) so no column is truncated.
        headers = [self.tr("District"), self.tr("Children"), self.tr("Flagged"), self.tr("Flagged,\nnot followed"),
                   self.tr("Expected visits\nper month"), self.tr("Nurses\nnow"), self.tr("of whom\nsenior"),
                   self.tr("Visits per nurse\nnow"), self.tr("Nurses\nproposed"), self.tr("Senior\nproposed"),
                   self.tr("Visits per nurse\nproposed")]
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        self.table.horizontalHeader().setMinimumHeight(46)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setWordWrap(True)
        return self.table

    def _build_charts_tab(self) -> QWidget:
        charts = QWidget()
        cl = QVBoxLayout(charts)
        cl.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel(self.tr("Chart")))
        self.chart_measure = QComboBox()
        for key, text in (("not_followed", self.tr("Flagged, not followed")), ("flagged", self.tr("Flagged")),
                          ("children", self.tr("Children")), ("visits", self.tr("Expected visits / month")),
                          ("nurses", self.tr("Nurses now and proposed"))):
            self.chart_measure.addItem(text, key)
        row.addWidget(self.chart_measure)
        row.addStretch(1)
        cl.addLayout(row)
        plots = QHBoxLayout()
        self.measure_chart = BarChart()
        self.load_chart = BarChart()
        plots.addWidget(self.measure_chart, 1)
        plots.addWidget(self.load_chart, 1)
        cl.addLayout(plots, 1)
        return charts

    def _build_trends_tab(self) -> QWidget:
        trends = QWidget()
        tl = QVBoxLayout(trends)
        tl.setContentsMargins(0, 0, 0, 0)
        trow = QHBoxLayout()
        trow.addWidget(QLabel(self.tr("Measure")))
        self.trend_measure = QComboBox()
        for key, text in (("not_followed", self.tr("Flagged, not followed")), ("flagged", self.tr("Flagged")),
                          ("visits", self.tr("Expected visits / month"))):
            self.trend_measure.addItem(text, key)
        trow.addWidget(self.trend_measure)
        trow.addStretch(1)
        tl.addLayout(trow)
        tsplit = QHBoxLayout()
        self.trend_chart = TrendChart()
        self.trend_table = QTableWidget()
        self.trend_table.verticalHeader().setVisible(False)
        tsplit.addWidget(self.trend_chart, 3)
        tsplit.addWidget(self.trend_table, 2)
        tl.addLayout(tsplit, 1)
        return trends

    def _wire(self, context) -> None:
        """Enable what the role may do and connect the signals."""
        for w in (self.total_nurses, self.total_seniors, self.minimum):
            w.setEnabled(self.can_plan)
        self.recompute_button.setEnabled(self.can_plan)
        self._set_outputs_enabled(False)  # until a proposal is shown
        self.target.currentIndexChanged.connect(lambda _: self.reload())
        self.chart_measure.currentIndexChanged.connect(lambda _: self._draw_charts())
        self.trend_measure.currentIndexChanged.connect(lambda _: self._draw_trends())
        self.recompute_button.clicked.connect(self.save_and_update)
        # A changed total recomputes the proposal (after a short pause, so typing "12" is one
        # recompute, not two): the table, charts and printout never show a stale proposal.
        self._recompute_timer = QTimer(self)
        self._recompute_timer.setSingleShot(True)
        self._recompute_timer.setInterval(400)
        self._recompute_timer.timeout.connect(self.recompute)
        self._staff_dirty = False
        for spin in (self.total_nurses, self.total_seniors, self.minimum):
            spin.valueChanged.connect(self._totals_changed)
        self.export_button.clicked.connect(self.export)
        self.print_button.clicked.connect(self.print_page)
        context.on_store_changed(self, ("scoring", "import", "followup", "deletion"),
                                 lambda _kinds: self.reload() if self._started else None)

    # -- loading -------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._started:
            self._started = True
            self.reload()

    def _totals_changed(self, _value=None) -> None:
        if self._filling or not self.can_plan:
            return
        self._set_outputs_enabled(False)
        self.status.setText(self.tr("Recomputing the proposal…"))
        self._recompute_timer.start()

    def _staff_edited(self, _value=None) -> None:
        if self._filling:
            return
        self._staff_dirty = True
        self._totals_changed()

    def _set_outputs_enabled(self, on: bool) -> None:
        """Export and print only what is on screen: off while the proposal is out of date."""
        can = on and self.can_plan and self.session.can(roles.EXPORT_PLAN)
        self.export_button.setEnabled(can)
        self.print_button.setEnabled(can)

    def recompute(self) -> None:
        """The proposal for the staff and totals now entered, nothing saved (saving is the button)."""
        self._recompute_timer.stop()
        if self._staff_dirty and hasattr(self, "_district_names"):
            staff = self.entered_staff()
            self._follow_staff_totals(staff)
            self.reload(staff=staff, save=False, totals=True)
        else:
            self.reload(totals=True)

    def _follow_staff_totals(self, staff: pd.DataFrame) -> None:
        """When the chief changed the districts' staff and the totals still equal the old staff,
        the totals follow the new staff (so the proposal redistributes the nurses entered)."""
        if self.data is None or self.data.staff is None:
            return
        before = self.data.staff.set_index("district")[["nurses", "seniors"]].sum()
        if (int(before["nurses"]) != int(staff["nurses"].sum()) or int(before["seniors"]) != int(staff["seniors"].sum())) \
                and self.total_nurses.value() == int(before["nurses"]) \
                and self.total_seniors.value() == int(before["seniors"]):
            self._filling = True
            self.total_nurses.setValue(int(staff["nurses"].sum()))
            self.total_seniors.setValue(int(staff["seniors"].sum()))
            self._filling = False

    def reload(self, staff: pd.DataFrame | None = None, save: bool = False, totals: bool = False) -> None:
        """Load figures (and the proposal) for the chosen target on the worker thread."""
        from app.store.staffing_plans import load_plan_data

        self._ready = False
        self._started = True
        self._set_outputs_enabled(False)
        if staff is None:
            self._staff_dirty = False  # the table will show the stored staff again
        kwargs = {"target": self.target.currentData(), "minimum": self.minimum.value()}
        if staff is not None:
            kwargs.update(staff=staff, save_staff=save)
        if totals:
            kwargs.update(total_nurses=self.total_nurses.value(), total_seniors=self.total_seniors.value())
        # A save is a write: never superseded (no key), it announces its change instead.
        self.context.worker.run(load_plan_data, self.session, key=None if save else "staffing.load",
                                changes="staffing" if save else None,
                                on_done=self._show, on_error=self._failed, **kwargs)

    def _failed(self, error: BaseException) -> None:
        self.status.setText(str(error) if isinstance(error, (PermissionError, ValueError))
                            else self.tr("The figures could not be loaded."))
        self._set_outputs_enabled(self.data is not None and self.data.proposal is not None)
        self._ready = True

    def _show(self, data) -> None:
        self.data = data
        notes = []
        run = data.figures.runs.get(data.target)
        if run:
            from app.store.queries.aggregates import run_label
            notes.append(run_label(run))
            if run.get("high_need"):
                notes.append(run["high_need"])
        if data.figures.message:
            notes.append(data.figures.message)
        if data.figures.suppressed:
            notes.append(SUPPRESSION_NOTE)
        if not self.can_plan:
            notes.append(self.tr("Staff entry and the proposal are for the section chief."))
        elif data.staff is not None and int(data.staff["nurses"].sum()) == 0:
            notes.append(self.tr("No staff entered yet: enter the nurses of each district, or a total for "
                                 "the proposal."))
        self.info.setText("　".join(notes))
        if data.proposal is not None:
            self._filling = True
            for spin, value in ((self.total_nurses, data.proposal.total_nurses),
                                (self.total_seniors, data.proposal.total_seniors)):
                spin.blockSignals(True)
                spin.setValue(int(value))
                spin.blockSignals(False)
            self._filling = False
            self.method.setText(METHOD_TEXT.format(minimum=data.proposal.minimum)
                                + " " + self.tr("Load = expected visits per month ÷ nurses."))
        else:
            self.method.setText("")
        self._filling = True
        self._fill_table()
        self._filling = False
        self._draw_charts()
        self._draw_trends()
        self.status.setText(self.tr("Staff entries not saved yet: the proposal shown uses them; \"Save staff "
                                    "and update the proposal\" stores them.") if self._staff_dirty else "")
        self._set_outputs_enabled(data.proposal is not None)
        self._ready = True

    def is_ready(self) -> bool:
        """True once the figures (and the proposal) are shown (for snapshot and tests)."""
        return self._ready

    # -- table ---------------------------------------------------------------------------------
    def _rows(self) -> pd.DataFrame:
        """One row per district with the figures (suppressed) and, for the chief, the proposal."""
        d = self.data
        if d.proposal is not None:
            return d.proposal.table.sort_values("district", key=lambda s: s.map(self._order())).reset_index(drop=True)
        f = d.figures.figures.district
        return f[f["target"] == d.target].reset_index(drop=True)

    def _order(self):
        from app.store.areas import all_districts
        order = {name: i for i, name in enumerate(all_districts())}
        return lambda name: order.get(name, len(order))

    def _fill_table(self) -> None:
        rows = self._rows()
        city = self.data.figures.figures.city
        city = city[city["target"] == self.data.target]
        # Areas counted in the figures but outside the plan (a child with no district) still get
        # their row, so the districts plus these rows add up to the city line as shown.
        extra = pd.DataFrame()
        if self.data.proposal is not None:
            f = self.data.figures.figures.district
            f = f[f["target"] == self.data.target]
            extra = f[~f["district"].isin(rows["district"])].reset_index(drop=True)
        self.table.setRowCount(len(rows) + len(extra) + (1 if len(city) else 0))
        self._spins: dict[tuple[int, str], QSpinBox] = {}
        for r, (_, row) in enumerate(rows.iterrows()):
            self._set(r, 0, str(row["district"]), left=True)
            for c, col in enumerate(("children", "flagged", "not_followed", "visits"), start=1):
                self._set(r, c, display(row.get(col), str(row.get(col + "_state", "") or ""), col))
            if self.data.proposal is None:
                for c in range(5, self.table.columnCount()):
                    self._set(r, c, "")
                continue
            for c, col in ((5, "nurses"), (6, "seniors")):
                spin = QSpinBox()
                spin.setRange(0, 99)
                spin.setValue(int(row.get(col) or 0))
                spin.setAlignment(Qt.AlignmentFlag.AlignRight)
                spin.setEnabled(self.can_plan)
                spin.valueChanged.connect(self._staff_edited)
                self.table.setCellWidget(r, c, spin)
                self._spins[(r, col)] = spin
            hidden = bool(row.get("visits_state"))
            self._set(r, 7, "—" if hidden else format_load(float(row["load_before"])))
            self._set(r, 8, str(int(row["nurses_after"])), bold=True)
            self._set(r, 9, str(int(row["seniors_after"])), bold=True)
            self._set(r, 10, "—" if hidden else format_load(float(row["load_after"])), bold=True)
        for k, (_, row) in enumerate(extra.iterrows()):
            r = len(rows) + k
            self._set(r, 0, str(row["district"]), left=True)
            for c, col in enumerate(("children", "flagged", "not_followed", "visits"), start=1):
                self._set(r, c, display(row.get(col), str(row.get(col + "_state", "") or ""), col))
            for c in range(5, self.table.columnCount()):
                self._set(r, c, "")
        if len(city):
            c_row = city.iloc[0]
            r = len(rows) + len(extra)
            self._set(r, 0, CITY, left=True, bold=True)
            for c, col in enumerate(("children", "flagged", "not_followed", "visits"), start=1):
                self._set(r, c, display(c_row.get(col), str(c_row.get(col + "_state", "") or ""), col), bold=True)
            if self.data.proposal is not None:
                t = self.data.proposal.table
                total_visits = c_row.get("visits")
                shown = not c_row.get("visits_state") and total_visits == total_visits
                nurses_now, nurses_after = int(t["nurses"].sum()), int(t["nurses_after"].sum())
                self._set(r, 5, str(nurses_now), bold=True)
                self._set(r, 6, str(int(t["seniors"].sum())), bold=True)
                self._set(r, 7, format_load(total_visits / nurses_now) if shown and nurses_now else "—", bold=True)
                self._set(r, 8, str(nurses_after), bold=True)
                self._set(r, 9, str(int(t["seniors_after"].sum())), bold=True)
                self._set(r, 10, format_load(total_visits / nurses_after) if shown and nurses_after else "—",
                          bold=True)
        self._district_names = rows["district"].astype(str).tolist()

    def _set(self, r: int, c: int, text: str, left: bool = False, bold: bool = False) -> None:
        item = QTableWidgetItem(text)
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        item.setTextAlignment((Qt.AlignmentFlag.AlignLeft if left else Qt.AlignmentFlag.AlignRight)
                              | Qt.AlignmentFlag.AlignVCenter)
        if bold:
            f = item.font()
            f.setBold(True)
            item.setFont(f)
        self.table.setItem(r, c, item)

    def cell_text(self, row: int, col: int) -> str:
        """What a cell shows (a spin box's value for the staff columns)."""
        w = self.table.cellWidget(row, col)
        if isinstance(w, QSpinBox):
            return str(w.value())
        item = self.table.item(row, col)
        return item.text() if item else ""

    def entered_staff(self) -> pd.DataFrame:
        """Staff per district as currently entered in the table."""
        names = getattr(self, "_district_names", [])
        return pd.DataFrame({"district": names,
                             "nurses": [self._spins[(i, "nurses")].value() for i in range(len(names))],
                             "seniors": [self._spins[(i, "seniors")].value() for i in range(len(names))]})

    def set_staff(self, district: str, nurses: int, seniors: int = 0) -> None:
        """Enter one district's staff in the table (as the chief does; also used by tests)."""
        i = self._district_names.index(district)
        self._spins[(i, "nurses")].setValue(nurses)
        self._spins[(i, "seniors")].setValue(seniors)

    def save_and_update(self) -> None:
        """Store the entered staff (audited) and recompute the proposal with the totals shown.

        The totals follow the entered staff when the chief changed the table, so "save" after
        editing districts proposes the same number of nurses redistributed.
        """
        self._recompute_timer.stop()
        staff = self.entered_staff()
        self._follow_staff_totals(staff)
        self._staff_dirty = False
        self.reload(staff=staff, save=True, totals=True)

    # -- charts --------------------------------------------------------------------------------
    def _draw_charts(self) -> None:
        if self.data is None:
            return
        rows = self._rows()
        names = rows["district"].astype(str).tolist()
        key = self.chart_measure.currentData()
        if key == "nurses" and self.data.proposal is not None:
            series = [(self.tr("now"), BEFORE_COLOUR, rows["nurses"].to_numpy(float), [""] * len(rows)),
                      (self.tr("proposed"), AFTER_COLOUR, rows["nurses_after"].to_numpy(float), [""] * len(rows))]
        else:
            key = key if key != "nurses" else "not_followed"
            states = rows.get(key + "_state", pd.Series("", index=rows.index)).fillna("").astype(str).tolist()
            series = [(self.chart_measure.currentText(), BAR_COLOUR, rows[key].to_numpy(float), states)]
        self.measure_chart.show_series(names, series, self.chart_measure.currentText())
        if self.data.proposal is not None:
            hidden = rows["visits_state"].fillna("").astype(str).tolist()
            before = np.where(np.array(hidden) != "", np.nan, rows["load_before"].to_numpy(float))
            after = np.where(np.array(hidden) != "", np.nan, rows["load_after"].to_numpy(float))
            self.load_chart.show_series(
                names, [(self.tr("now"), BEFORE_COLOUR, before, hidden),
                        (self.tr("proposed"), AFTER_COLOUR, after, hidden)],
                self.tr("Expected visits per nurse per month: now and proposed"))
            self.load_chart.show()
        else:
            self.load_chart.hide()

    def _draw_trends(self) -> None:
        if self.data is None:
            return
        t = self.data.trends
        key = self.trend_measure.currentData()
        if t is None or t.empty:
            self.trend_chart.clear()
            self.trend_table.setRowCount(0)
            return
        runs = list(dict.fromkeys(t["run_id"].tolist()))
        title = self.trend_measure.currentText()
        if len(runs) < 2:
            # One run is a point, not a trend: say so instead of a chart that looks empty.
            title += self.tr(" (one scoring run so far: the trend starts with the next run)")
        self.trend_chart.show_trend(t, key, runs, title)
        wide = t.assign(text=[display(v, str(s or ""), key) for v, s in zip(t[key], t[key + "_state"])])
        wide = wide.pivot(index="district", columns="run_id", values="text")
        self.trend_table.setRowCount(len(wide))
        self.trend_table.setColumnCount(len(runs) + 1)
        dates = t.drop_duplicates("run_id").set_index("run_id")["created_at"].map(format_date)
        self.trend_table.setHorizontalHeaderLabels(
            [self.tr("District")] + [self.tr("Run %1").replace("%1", str(r)) + f"\n{dates.get(r, '')}" for r in runs])
        for i, (district, values) in enumerate(wide.iterrows()):
            self.trend_table.setItem(i, 0, QTableWidgetItem(str(district)))
            for j, r in enumerate(runs, start=1):
                item = QTableWidgetItem(str(values.get(r, "")))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.trend_table.setItem(i, j, item)

    # -- export and print ----------------------------------------------------------------------
    def plan_frame(self) -> pd.DataFrame:
        """The plan as exported and printed: display strings per district, areas only."""
        return display_table(self._rows())

    def _ask_encryption(self, title: str):
        """(encrypt, passphrase, plaintext_confirmed) or None if the chief cancelled."""
        plain = QMessageBox.question(
            self, title, self.tr("Write the file encrypted (recommended)?"),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No) == QMessageBox.StandardButton.No
        if plain:
            from app.store.exports import PLAINTEXT_WARNING
            if QMessageBox.warning(self, title, PLAINTEXT_WARNING,
                                   QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel
                                   ) != QMessageBox.StandardButton.Ok:
                return None
            return False, None, True
        passphrase, ok = QInputDialog.getText(self, title, self.tr("Passphrase for the encrypted file:"),
                                              QLineEdit.EchoMode.Password)
        return (True, passphrase, False) if ok else None

    def export(self) -> None:
        """The gate first (terminal, role; a refusal names who can register it), then the dialogs."""
        from app.views.export_dialogs import precheck_then
        precheck_then(self, self.context.worker, self.session, roles.EXPORT_PLAN, self.tr("Export plan"),
                      self._export_checked)

    def _export_checked(self) -> None:
        title = self.tr("Export plan")
        choice = self._ask_encryption(title)
        if choice is None:
            return
        path, chosen = QFileDialog.getSaveFileName(self, title, "haichi_keikaku.xlsx",
                                                   self.tr("Excel (*.xlsx);;CSV (*.csv)"))
        if path:
            fmt = "csv" if path.lower().endswith(".csv") or "csv" in chosen.lower() else "xlsx"
            encrypt, passphrase, plain = choice
            self.export_to(path, fmt=fmt, passphrase=passphrase, plaintext_confirmed=plain)

    def export_to(self, path: str, fmt: str = "xlsx", passphrase: str | None = None,
                  plaintext_confirmed: bool = False) -> None:
        """Export the plan through the gate (also used by tests)."""
        from app.store.staffing_plans import export_plan

        if self.data is None or self.data.proposal is None:
            return
        title = f"配置計画_{TARGET_LABELS[self.data.target]}"
        self.context.worker.run(export_plan, self.session, self.plan_frame(), path, fmt=fmt,
                                encrypt=not plaintext_confirmed, passphrase=passphrase,
                                plaintext_confirmed=plaintext_confirmed, title=title[:31],
                                on_done=self._exported, on_error=self._refused)

    def _exported(self, result) -> None:
        self.status.setText(self.tr("Plan written to %1 (%2 districts).")
                            .replace("%1", str(result.path)).replace("%2", str(result.rows)))

    def _refused(self, error: BaseException) -> None:
        self.status.setText(str(error) if isinstance(error, (PermissionError, ValueError))
                            else self.tr("The operation failed."))

    def print_page(self) -> None:
        from app.views.export_dialogs import precheck_then
        precheck_then(self, self.context.worker, self.session, roles.EXPORT_PLAN, self.tr("Printable page"),
                      self._print_checked)

    def _print_checked(self) -> None:
        title = self.tr("Printable page")
        choice = self._ask_encryption(title)
        if choice is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, title, "haichi_keikaku.pdf", "PDF (*.pdf)")
        if path:
            encrypt, passphrase, plain = choice
            self.print_to(path, passphrase=passphrase, plaintext_confirmed=plain)

    def print_to(self, path: str, passphrase: str | None = None, plaintext_confirmed: bool = False) -> None:
        """Authorise the printout at the gate, render the A4 PDF here, write it (sealed unless plain)."""
        from app.store.staffing_plans import authorize_plan_print, write_plan_document

        if self.data is None or self.data.proposal is None:
            return
        encrypt = not plaintext_confirmed

        def authorised(footer: str) -> None:
            pdf = plan_pdf_bytes(self.plan_html(), footer)
            self.context.worker.run(write_plan_document, self.session, pdf, path, encrypt=encrypt,
                                    passphrase=passphrase, footer=footer, on_done=self._printed,
                                    on_error=self._refused)

        self.context.worker.run(authorize_plan_print, self.session, encrypt=encrypt, passphrase=passphrase,
                                plaintext_confirmed=plaintext_confirmed, on_done=authorised,
                                on_error=self._refused)

    def _printed(self, path) -> None:
        self.status.setText(self.tr("Printable page written to %1.").replace("%1", str(path)))

    def plan_html(self) -> str:
        """The printable page as Qt rich text: the plan table, totals, method and suppression note."""
        d = self.data
        frame = self.plan_frame()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
        body = "".join("<tr>" + "".join(f"<td align='{'left' if i == 0 else 'right'}'>{html.escape(str(v))}</td>"
                                        for i, v in enumerate(r)) + "</tr>" for r in frame.itertuples(index=False))
        run = d.figures.runs.get(d.target) or {}
        from app.store.queries.aggregates import run_label
        parts = [f"<h2>保健師配置計画（案）　{html.escape(TARGET_LABELS[d.target])}</h2>",
                 f"<p>{html.escape(run_label(run))}　{html.escape(run.get('high_need', ''))}</p>",
                 f"<p>保健師 {d.proposal.total_nurses}人（うちベテラン {d.proposal.total_seniors}人）、"
                 f"各地区の最低 {d.proposal.minimum}人</p>",
                 "<table width='100%' border='1' cellspacing='0' cellpadding='3' style='border-collapse:collapse'>"
                 f"<tr>{head}</tr>{body}</table>",
                 f"<p>{html.escape(METHOD_TEXT.format(minimum=d.proposal.minimum))}</p>"]
        if d.figures.suppressed:
            parts.append(f"<p>{html.escape(SUPPRESSION_NOTE)}</p>")
        parts.append("<p style='color:#555'>集計値のみ（個人の行は含みません）。</p>")
        return "".join(parts)


def plan_pdf_bytes(body_html: str, footer: str) -> bytes:
    """An A4 landscape PDF of ``body_html`` with ``footer`` and page numbers on every page, in memory."""
    from app.views.pdf_document import PageStyle, html_pdf

    pdf, _pages = html_pdf(body_html, footer, PageStyle("保健師配置計画", landscape=True,
                                                        margins_mm=(12, 12, 12, 15), body_pt=9, footer_pt=7))
    return pdf


def main(argv: list[str] | None = None) -> int:
    """Run the view alone on a throwaway synthetic store in a temporary folder (deleted on exit)."""
    import argparse
    import secrets
    import tempfile
    from pathlib import Path

    from app.views.application import make_application
    from app.views.context import AppContext, Selection
    from app.views.worker import ImmediateWorker

    parser = argparse.ArgumentParser(description="the staffing plan on a small synthetic city")
    parser.add_argument("--shot", help="save a screenshot to this PNG and exit")
    parser.add_argument("--children", type=int, default=600)
    args = parser.parse_args(argv)
    app = make_application()
    from app.engine.synth import generate_delivery
    from app.store.accounts import add_user
    from app.store.importing import import_delivery
    from app.store.opening import create_store, open_store
    from app.store.scoring_runs import run_active_rulesets

    password = secrets.token_urlsafe(16) + "-Aa1"
    with tempfile.TemporaryDirectory(prefix="mimamori-staffing-") as tmp:
        base = Path(tmp)
        generate_delivery(base / "delivery", children=args.children)
        admin = create_store(base / "s.db", "admin", password, check_policy=False)
        import_delivery(admin, base / "delivery")
        run_active_rulesets(admin)
        add_user(admin, "chief", roles.CHIEF, password)
        admin.close()
        session = open_store(base / "s.db", "chief", password)
        context = AppContext(session, ImmediateWorker(), Selection())
        view = StaffingView(context)
        view.setWindowTitle("見守り — 保健師配置計画（架空データ）")
        view.resize(1400, 900)
        view.show()
        try:
            if args.shot:
                for _ in range(30):
                    app.processEvents()
                view.grab().save(args.shot, "PNG")
                return 0
            return app.exec()
        finally:
            session.close()


__all__ = ["StaffingView", "plan_pdf_bytes", "TARGETS", "PLAN_COLUMNS"]


if __name__ == "__main__":
    sys.exit(main())
