"""Progress and cancellation for long engine work.

Engine functions take a ``progress`` argument (or None) and call ``progress.step(...)``;
the GUI passes an object whose callbacks reach a progress dialog, the CLI a quiet one,
tests a plain ``Progress()``. Cancelling raises ``Cancelled`` at the next step, so a
cancelled import can roll its transaction back and leave the store as it was.
"""

from __future__ import annotations

import threading
from typing import Callable


class Cancelled(Exception):
    """Raised inside engine work when the user cancelled it."""


class Progress:
    def __init__(self, callback: Callable[[float, str], None] | None = None):
        self._callback = callback
        self._cancel = threading.Event()
        self.fraction = 0.0
        self.message = ""

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def step(self, fraction: float, message: str = "") -> None:
        """Report progress in [0, 1] and stop here if cancelled."""
        self.check()
        self.fraction = max(0.0, min(1.0, fraction))
        self.message = message
        if self._callback is not None:
            self._callback(self.fraction, message)

    def sub(self, start: float, end: float) -> "SubProgress":
        """A view of this progress mapping [0, 1] onto [start, end]."""
        return SubProgress(self, start, end)


class SubProgress(Progress):
    def __init__(self, parent: Progress, start: float, end: float):
        super().__init__()
        self._parent, self._start, self._end = parent, start, end

    def cancel(self) -> None:
        self._parent.cancel()

    @property
    def cancelled(self) -> bool:
        return self._parent.cancelled

    def check(self) -> None:
        self._parent.check()

    def step(self, fraction: float, message: str = "") -> None:
        self._parent.step(self._start + (self._end - self._start) * fraction, message)


def ensure(progress: Progress | None) -> Progress:
    return progress if progress is not None else Progress()
