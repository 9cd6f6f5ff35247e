"""What every view receives: the session, the worker (the task API), and the shared selection.

Views talk to each other only through ``Selection``'s signals (never by looking up another
view and guessing its method names), and learn about store changes only through
``AppContext.on_store_changed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from PySide6.QtCore import QEvent, QObject, QSettings, Signal
from PySide6.QtWidgets import QWidget


class Selection(QObject):
    """The selection that follows the user across views."""

    child_selected = Signal(str)      # a research_id became the current child
    open_child = Signal(str)          # open this child's timeline (newest run of the default target)
    # Open it as scored in this run (research_id, run_id): the working list passes the run it
    # shows, so the timeline's flags and "today" are the list's, not another run's.
    open_child_in_run = Signal(str, int)
    # Ask whoever shows this child's timeline to ring a flag's evidence: (research_id,
    # rule_id or "", event ids). Emitted after open_child; the timeline keeps it until
    # that child's record has loaded.
    highlight = Signal(str, str, list)
    district_selected = Signal(str)   # a district was chosen (e.g. clicked on the map)
    navigate = Signal(str)            # switch the main window to a view key

    def __init__(self):
        super().__init__()
        self.current_child: str | None = None
        self.current_district: str | None = None
        # (child, run) of the last open request: a timeline created by that request (the main
        # window builds pages on first use) reads it, since it missed the signal itself.
        self.opened: tuple[str, int | None] | None = None
        self.child_selected.connect(self._remember_child)
        self.open_child.connect(lambda person_id: self._remember_open(person_id, None))
        self.open_child_in_run.connect(self._remember_open)
        self.district_selected.connect(self._remember_district)

    def _remember_child(self, person_id: str) -> None:
        self.current_child = person_id

    def _remember_open(self, person_id: str, run_id: int | None) -> None:
        self.opened = (person_id, run_id)

    def run_for(self, person_id: str) -> int | None:
        """The run the last open request asked for, if it was for ``person_id``."""
        return self.opened[1] if self.opened and self.opened[0] == person_id else None

    def _remember_district(self, district: str) -> None:
        self.current_district = district


class StoreSubscription(QObject):
    """Calls ``refresh(kinds)`` after store changes of the subscribed kinds: at once when the
    widget is on screen, else when it is next shown, with every kind seen meanwhile (a hidden
    view must not do work nobody sees, but must never show the old state once opened)."""

    def __init__(self, widget: QWidget, kinds: Iterable[str], refresh: Callable[[frozenset], None]):
        super().__init__(widget)
        self.widget, self.kinds, self.refresh = widget, frozenset(kinds), refresh
        self.waiting: set[str] = set()
        self.refreshes = 0
        widget.installEventFilter(self)

    def changed(self, kind: str) -> None:
        if kind not in self.kinds:
            return
        self.waiting.add(kind)
        if self.widget.isVisible():
            self._refresh()

    def _refresh(self) -> None:
        kinds, self.waiting = frozenset(self.waiting), set()
        self.refreshes += 1
        self.refresh(kinds)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        # While the widget is being destroyed Qt may still call in after the Python side of
        # this object is gone (a fresh wrapper without attributes): ignore those calls.
        if event.type() == QEvent.Type.Show and getattr(self, "waiting", None) and watched is self.widget:
            self._refresh()
        return False


@dataclass
class AppContext:
    session: object              # app.store.session.Session
    worker: object               # Worker or ImmediateWorker (app/views/worker.py)
    selection: Selection = field(default_factory=Selection)
    settings: QSettings | None = None

    @property
    def role(self) -> str:
        return self.session.role

    def on_store_changed(self, widget: QWidget, kinds: Iterable[str],
                         refresh: Callable[[frozenset], None]) -> StoreSubscription:
        """Subscribe ``widget`` to store changes of ``kinds``; ``refresh`` receives the kinds
        that happened (see ``StoreSubscription``). The subscription lives as long as the widget."""
        subscription = StoreSubscription(widget, kinds, refresh)
        signal = getattr(self.worker, "store_changed", None)
        if signal is not None:
            signal.connect(subscription.changed)
        return subscription
