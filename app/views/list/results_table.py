"""② The results table: one row per child (or household) over :class:`ChildTableModel`.

Header clicks sort through the model's pandas sort (``setSortingEnabled`` makes Qt call
``model.sort`` on ``sortIndicatorChanged``). Double-click or Enter opens the timeline.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from app.models.child_table_model import ChildTableModel, PersonIdRole


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
        self.doubleClicked.connect(lambda idx: self._activate(idx.row()))
        model.modelReset.connect(self._restore_current)
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
