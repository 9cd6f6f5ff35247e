"""The working list's table model: numpy column arrays plus the array of displayed rows.

Filtering and sorting are computed by ``app.engine.worklist`` in pandas/numpy and swapped in
between ``beginResetModel``/``endResetModel``; QSortFilterProxyModel took 1–39 s per change
at 200,000 rows where this takes tens of milliseconds (TECH_NOTES.md). ``data()`` formats
only the cells Qt asks for (the visible ones), straight from the column arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont

from app.engine import worklist
from app.engine.worklist import FLAG_PREFIX, SearchIndex, WorklistFilter

# Named custom roles (STYLE.md): views and tests ask for these, never for column numbers.
PersonIdRole = Qt.ItemDataRole.UserRole + 1
HouseholdIdRole = Qt.ItemDataRole.UserRole + 2
FlagIdsRole = Qt.ItemDataRole.UserRole + 3       # list of flagged rule ids of the row
ColumnKeyRole = Qt.ItemDataRole.UserRole + 4     # the frame column behind a header section
RawValueRole = Qt.ItemDataRole.UserRole + 5      # the unformatted value
FollowedRole = Qt.ItemDataRole.UserRole + 6
UrgentRole = Qt.ItemDataRole.UserRole + 7       # 至急: the mother's EPDS 問10 ≥ 1 (bool)


# data() is called for a dozen roles per visible cell on every repaint; answering the ones
# this model never sets with one set lookup keeps a repaint of a full window cheap.
_HANDLED_ROLES = frozenset({
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.TextAlignmentRole,
    Qt.ItemDataRole.ForegroundRole, PersonIdRole, HouseholdIdRole, FlagIdsRole, ColumnKeyRole,
    RawValueRole, FollowedRole, UrgentRole, Qt.ItemDataRole.FontRole,
})


@dataclass(frozen=True)
class ColumnSpec:
    key: str           # frame column, or "flags" for the compact flag column
    header: str        # translated header text
    kind: str = "text"  # text | int | bool | date | flags | score | months


@dataclass(frozen=True)
class RuleInfo:
    """What the list needs to know about a rule to show its flag."""

    rule_id: str
    label: str
    short: str          # two or three characters for the compact flag column
    disclosure: str = "staff"
    threshold: str = ""


class ChildTableModel(QAbstractTableModel):
    """Rows of a results frame (children or households), filtered and sorted in pandas."""

    rows_changed = Signal(int, int)  # shown, total

    def __init__(self, parent=None):
        super().__init__(parent)
        self._frame = pd.DataFrame()
        self._columns: list[ColumnSpec] = []
        self._arrays: dict[str, np.ndarray] = {}
        self._rows = np.zeros(0, dtype=np.int64)
        self._total = 0
        self._index: SearchIndex | None = None
        self._filter = worklist.default_filter()
        self._sort: tuple[str, bool] = worklist.DEFAULT_SORT
        self._rules: dict[str, RuleInfo] = {}
        self._flag_matrix = np.zeros((0, 0), dtype=bool)
        self._flag_ids: list[str] = []
        self._position: dict[str, int] = {}
        self._muted = QBrush(QColor("#6b7780"))
        self._urgent_brush = QBrush(QColor("#b00020"))
        self._bold = QFont()
        self._bold.setBold(True)

    # --- data in -------------------------------------------------------------------
    def set_frame(self, frame: pd.DataFrame, columns: list[ColumnSpec], rules: list[RuleInfo] | None = None,
                  index: SearchIndex | None = None, total: int | None = None) -> None:
        """Show ``frame`` (a results frame or its household grouping) with ``columns``.

        ``index`` may be built beforehand on the worker thread (it is the costly part at
        200,000 rows); it must have been built over this very frame. ``total`` is what "of N"
        counts when the frame holds only part of the list (the working list's rows); None:
        the frame's length.
        """
        self.beginResetModel()
        if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0:
            frame, index = frame.reset_index(drop=True), None
        self._frame = frame
        self._total = len(frame) if total is None else int(total)
        self._columns = [c for c in columns if c.key == "flags" or c.key in self._frame]
        self._rules = {r.rule_id: r for r in (rules or [])}
        self._arrays = {c: self._frame[c].to_numpy() for c in self._frame.columns if not c.startswith(FLAG_PREFIX)}
        flag_cols = worklist.flag_columns(self._frame)
        self._flag_ids = [c[len(FLAG_PREFIX):] for c in flag_cols]
        self._flag_matrix = (self._frame[flag_cols].to_numpy(dtype=bool) if flag_cols
                             else np.zeros((len(self._frame), 0), dtype=bool))
        self._index = index if index is not None and index.frame is frame else SearchIndex(self._frame)
        ids = self._frame["person_id"].astype(str) if "person_id" in self._frame else pd.Series(dtype=str)
        # research ID -> frame position (the first row: in household mode one row per household)
        self._position = dict(zip(ids.to_numpy()[::-1], np.arange(len(ids))[::-1]))
        self._rows = worklist.displayed_rows(self._frame, self._filter, self._index, self._sort)
        self.endResetModel()
        self.rows_changed.emit(len(self._rows), self._total)

    def set_filter(self, spec: WorklistFilter) -> None:
        """Apply the filter bar's conditions (pandas), keeping the current sort."""
        self._filter = spec
        self._refresh()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:  # noqa: N802
        """Qt's sort entry point (header clicks): a pandas/numpy sort of the shown rows."""
        if not 0 <= column < len(self._columns):
            return
        key = self._columns[column].key
        if key == "flags":
            key = "flag_count"
        self.sort_by(key, order == Qt.SortOrder.AscendingOrder)

    def sort_by(self, key: str, ascending: bool = True) -> None:
        if key not in self._frame:
            return
        self._sort = (key, ascending)
        if self._index is None:
            return
        self.beginResetModel()
        self._rows = worklist.sort_rows(self._rows, self._index, key, ascending)
        self.endResetModel()

    def _refresh(self) -> None:
        if self._index is None:
            return
        self.beginResetModel()
        self._rows = worklist.displayed_rows(self._frame, self._filter, self._index, self._sort)
        self.endResetModel()
        self.rows_changed.emit(len(self._rows), self._total)

    # --- accessors -------------------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        return self._frame

    @property
    def current_filter(self) -> WorklistFilter:
        return self._filter

    @property
    def current_sort(self) -> tuple[str, bool]:
        return self._sort

    def displayed_positions(self) -> np.ndarray:
        """Frame positions in display order (a copy)."""
        return self._rows.copy()

    def column_keys(self) -> list[str]:
        return [c.key for c in self._columns]

    def column_of(self, key: str) -> int:
        keys = self.column_keys()
        return keys.index(key) if key in keys else -1

    def row_of_person(self, person_id: str) -> int:
        """Display row of a research ID, -1 when filtered out or absent."""
        pos = self._position.get(str(person_id))
        if pos is None or not len(self._rows):
            return -1
        # Integer comparison over the displayed rows: well under a millisecond at 200,000.
        hits = np.flatnonzero(self._rows == pos)
        return int(hits[0]) if len(hits) else -1

    def person_at(self, row: int) -> str | None:
        if 0 <= row < len(self._rows):
            return str(self._arrays["person_id"][self._rows[row]])
        return None

    def rule_info(self, rule_id: str) -> RuleInfo | None:
        return self._rules.get(rule_id)

    def flags_at(self, row: int) -> list[str]:
        if not 0 <= row < len(self._rows) or not self._flag_ids:
            return []
        mask = self._flag_matrix[self._rows[row]]
        return [rid for rid, on in zip(self._flag_ids, mask) if on]

    # --- Qt model interface ---------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._columns):
            if role == Qt.ItemDataRole.DisplayRole:
                return self._columns[section].header
            if role == ColumnKeyRole:
                return self._columns[section].key
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return str(section + 1)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if role not in _HANDLED_ROLES or not index.isValid():
            return None
        row, col = index.row(), index.column()
        if row >= len(self._rows) or col >= len(self._columns):
            return None
        pos = self._rows[row]
        spec = self._columns[col]
        if role == PersonIdRole:
            return str(self._arrays["person_id"][pos])
        if role == HouseholdIdRole:
            arr = self._arrays.get("household_id")
            return None if arr is None else str(arr[pos])
        if role == FlagIdsRole:
            return self.flags_at(row)
        if role == FollowedRole:
            arr = self._arrays.get("followed")
            return None if arr is None else bool(arr[pos])
        if role == UrgentRole:
            return self._urgent(pos)
        if spec.key == "rank" and self._urgent(pos):
            return self._urgent_data(pos, role)
        if role == Qt.ItemDataRole.FontRole:
            return None
        if role == ColumnKeyRole:
            return spec.key
        if spec.key == "flags":
            return self._flag_data(pos, role)
        value = self._arrays[spec.key][pos]
        if role == RawValueRole:
            return value
        if role == Qt.ItemDataRole.DisplayRole:
            return _format(value, spec.kind)
        if role == Qt.ItemDataRole.ToolTipRole and spec.key in ("reasons", "stale_sources") and value:
            return str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and spec.kind in ("int", "score", "months"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and spec.key == "followup_status" and value == worklist.NOT_FOLLOWED:
            return QBrush(QColor("#a33b00"))
        if role == Qt.ItemDataRole.ForegroundRole and spec.kind == "date":
            return self._muted
        return None

    def _urgent(self, pos: int) -> bool:
        arr = self._arrays.get("urgent")
        return bool(arr[pos]) if arr is not None else False

    def _urgent_data(self, pos: int, role):
        """The order cell of an urgent child: 「至急 1」 in bold red (word and colour, never colour alone)."""
        rank = self._arrays["rank"][pos]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.tr("Urgent %1").replace("%1", str(rank))
        if role == RawValueRole:
            return rank
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._urgent_brush
        if role == Qt.ItemDataRole.FontRole:
            return self._bold
        if role == Qt.ItemDataRole.ToolTipRole:
            when = self._arrays.get("urgent_date")
            date = _format(when[pos], "date") if when is not None else ""
            return self.tr("Urgent: the mother answered EPDS item 10 (thoughts of self-harm) with 1 or more"
                           " (%1). Always at the top of the list.").replace("%1", date)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _flag_data(self, pos: int, role):
        if not self._flag_ids:
            return None
        on = [rid for rid, f in zip(self._flag_ids, self._flag_matrix[pos]) if f]
        if role == Qt.ItemDataRole.DisplayRole:
            return " ".join(self._rules[r].short if r in self._rules else r for r in on)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = []
            for r in on:
                info = self._rules.get(r)
                lines.append(f"{info.label}（{info.threshold}）" if info and info.threshold else
                             (info.label if info else r))
            return "\n".join(lines)
        if role == RawValueRole:
            return on
        return None


def _format(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == "bool":
        return "●" if bool(value) else ""
    if kind == "date":
        if value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
            return ""
        try:
            ts = pd.Timestamp(value)
        except (TypeError, ValueError):
            return str(value)
        return "" if pd.isna(ts) else ts.strftime("%Y-%m-%d")
    if kind == "score":
        try:
            f = float(value)
        except (TypeError, ValueError):
            return ""
        return "" if np.isnan(f) else f"{f:.2f}"
    if kind == "months":
        return worklist.age_text(value)
    if isinstance(value, float) and np.isnan(value):
        return ""
    return str(value)
