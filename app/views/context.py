"""What every view receives: the session, the worker, and the shared selection."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QSettings, Signal


class Selection(QObject):
    """The selection that follows the user across views."""

    child_selected = Signal(str)      # a research_id became the current child
    open_child = Signal(str)          # open this child's timeline
    district_selected = Signal(str)   # a district was chosen (e.g. clicked on the map)
    navigate = Signal(str)            # switch the main window to a view key

    def __init__(self):
        super().__init__()
        self.current_child: str | None = None
        self.current_district: str | None = None
        self.child_selected.connect(self._remember_child)
        self.district_selected.connect(self._remember_district)

    def _remember_child(self, person_id: str) -> None:
        self.current_child = person_id

    def _remember_district(self, district: str) -> None:
        self.current_district = district


@dataclass
class AppContext:
    session: object              # app.store.session.Session
    worker: object               # Worker or ImmediateWorker
    selection: Selection = field(default_factory=Selection)
    settings: QSettings | None = None

    @property
    def role(self) -> str:
        return self.session.role
