"""② The results table: one row per child (or household) over :class:`ChildTableModel`.

Header clicks sort through the model's pandas sort (``setSortingEnabled`` makes Qt call
``model.sort`` on ``sortIndicatorChanged``). Double-click or Enter opens the timeline.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QStyledItemDelegate, QTableView

from app.models.child_table_model import ChildTableModel, ColumnKeyRole, PersonIdRole, RawValueRole
from app.views.theme import DISCLOSURE_STYLE


class FlagBadgeDelegate(QStyledItemDelegate):
    """The flag column as compact badges: the class's symbol + a short name, framed in the
    disclosure colour (so colour is never the only cue); the tooltip lists rule and threshold."""

    def paint(self, painter: QPainter, option, index) -> None:
        if index.data(ColumnKeyRole) != "flags":
            super().paint(painter, option, index)
            return
        model = index.model()
        rule_ids = index.data(RawValueRole) or []
        self.initStyleOption(option, index)
        option.text = ""
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = option.font
        font.setPointSizeF(max(7.5, font.pointSizeF() * 0.85))
        painter.setFont(font)
        fm = QFontMetrics(font)
        x = option.rect.left() + 3
        top, h = option.rect.top() + 3, option.rect.height() - 6
        for rid in rule_ids:
            info = model.rule_info(rid)
            cls = info.disclosure if info else "staff"
            colour, symbol, _ = DISCLOSURE_STYLE.get(cls, ("#777777", "?", "o"))
            text = f"{symbol}{info.short if info else rid}"
            w = fm.horizontalAdvance(text) + 8
            if x + w > option.rect.right() - 2:
                painter.setPen(QColor("#444444"))
                painter.drawText(QRectF(x, top, 14, h), int(Qt.AlignmentFlag.AlignCenter), "…")
                break
            rect = QRectF(x, top, w, h)
            painter.setPen(QPen(QColor(colour), 1.4))
            painter.setBrush(QColor(255, 255, 255, 235))
            painter.drawRoundedRect(rect, 3, 3)
            painter.setPen(QColor("#1d2b33"))
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
            x += w + 3
        painter.restore()


class ResultsTable(QTableView):
    child_activated = Signal(str)   # double-click / Enter: open the timeline
    child_current = Signal(str)     # the current row's research ID changed

    def __init__(self, model: ChildTableModel, parent=None):
        super().__init__(parent)
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().setDefaultSectionSize(24)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setSectionsMovable(True)
        self.setSortingEnabled(True)
        self._badges = FlagBadgeDelegate(self)
        self.setItemDelegate(self._badges)
        self.doubleClicked.connect(lambda idx: self._activate(idx.row()))
        model.modelReset.connect(self._restore_current)
        model.modelReset.connect(self._fit_order_column)
        self._current: str | None = None

    def setModel(self, model) -> None:  # noqa: N802 - Qt override
        super().setModel(model)
        self.selectionModel().currentRowChanged.connect(self._row_changed)

    def model(self) -> ChildTableModel:  # narrow the type for callers
        return super().model()

    def _row_changed(self, current, _previous) -> None:
        if current.isValid():
            pid = current.data(PersonIdRole)
            if pid and pid != self._current:
                self._current = pid
                self.child_current.emit(pid)

    def _fit_order_column(self) -> None:
        # 「至急 12」 must stay readable: the order column is at least as wide as that text
        col = self.model().column_of("rank")
        if col >= 0:
            wanted = self.fontMetrics().horizontalAdvance(self.tr("Urgent %1").replace("%1", "9999")) + 16
            if self.columnWidth(col) < wanted:
                self.setColumnWidth(col, wanted)

    def _restore_current(self) -> None:
        # After a filter/sort reset keep the same child selected when it is still shown.
        if self._current is None:
            return
        row = self.model().row_of_person(self._current)
        if row >= 0:
            self.blockSignals(True)
            self.selectRow(row)
            self.blockSignals(False)
            self.scrollTo(self.model().index(row, 0), QAbstractItemView.ScrollHint.EnsureVisible)

    def select_person(self, person_id: str) -> bool:
        row = self.model().row_of_person(person_id)
        if row < 0:
            return False
        self.selectRow(row)
        self.setCurrentIndex(self.model().index(row, 0))
        return True

    def selected_people(self) -> list[str]:
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()})
        return [p for p in (self.model().person_at(r) for r in rows) if p]

    def _activate(self, row: int) -> None:
        pid = self.model().person_at(row)
        if pid:
            self.child_activated.emit(pid)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self._activate(self.currentIndex().row())
            return
        super().keyPressEvent(event)
