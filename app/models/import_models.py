"""Table models of the import view: a read-only model over a pandas frame.

The frames are small (a delivery's files, its quarantine and review list), so the model keeps
the frame and formats cells on demand; sorting is done in pandas (TECH_NOTES: never in a proxy).
"""

from __future__ import annotations

import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt


class FrameTableModel(QAbstractTableModel):
    """Rows of a DataFrame; ``headers`` maps column → displayed (translated) title."""

    def __init__(self, headers: dict[str, str] | None = None, parent=None):
        super().__init__(parent)
        self._frame = pd.DataFrame()
        self._columns: list[str] = []
        self._headers = headers or {}

    @property
    def frame(self) -> pd.DataFrame:
        """All columns (displayed or not), in the displayed row order."""
        return self._frame

    def set_frame(self, frame: pd.DataFrame) -> None:
        self.beginResetModel()
        self._frame = frame.reset_index(drop=True)
        self._columns = ([c for c in self._headers if c in frame.columns] if self._headers
                         else list(frame.columns))
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self._frame)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        value = self._frame[self._columns[index.column()]].iat[index.row()]
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return ""
        return str(value)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            col = self._columns[section] if section < len(self._columns) else ""
            return self._headers.get(col, str(col))
        return str(section + 1)

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        if column >= len(self._columns):
            return
        self.beginResetModel()
        self._frame = self._frame.sort_values(self._columns[column], kind="stable",
                                              ascending=order == Qt.SortOrder.AscendingOrder,
                                              ignore_index=True)
        self.endResetModel()

    def row(self, index: int) -> dict:
        return self._frame.iloc[index].to_dict()


class ReviewTableModel(FrameTableModel):
    """The linkage review list: the stored evidence (field levels as JSON) is shown as Japanese
    sentences; the JSON stays available as ``evidence_json`` for code that needs the levels."""

    def set_frame(self, frame: pd.DataFrame) -> None:
        from app.engine.linkage import review_reasons

        if "evidence" in frame.columns:
            frame = frame.assign(evidence_json=frame["evidence"],
                                 evidence=frame["evidence"].map(review_reasons))
        super().set_frame(frame)
