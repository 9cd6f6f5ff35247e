"""The single worker thread that owns the database connection and runs long engine work.

Every store call from the GUI goes through ``Worker.run`` so the SQLCipher connection is
only ever used on one thread (STYLE.md, Anki's taskman), and the GUI thread never blocks
on imports or scoring. Results and errors come back on the GUI thread through a queued
signal. Tests use ``ImmediateWorker``, which runs each task at once, so they are
deterministic.
"""

from __future__ import annotations

import inspect
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from app.engine.progress import Cancelled, Progress


def _wants_progress(fn: Callable) -> bool:
    try:
        return "progress" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class _Task:
    def __init__(self, on_done, on_error, dialog):
        self.on_done, self.on_error, self.dialog = on_done, on_error, dialog


class Worker(QObject):
    """Runs callables on one background thread; callbacks arrive on the GUI thread."""

    _finished = Signal(object, object, object)   # task, result, error
    _progressed = Signal(object, float, str)      # dialog, fraction, message
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mimamori-db")
        self._pending = 0
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._progressed.connect(self._show_progress, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def run(self, fn: Callable, *args, on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None,
            progress_title: str | None = None, parent: QWidget | None = None, **kwargs) -> Future:
        """Run ``fn(*args, **kwargs)`` on the worker thread.

        With ``progress_title`` a cancellable progress dialog is shown and ``fn`` receives
        ``progress=`` (an ``app.engine.progress.Progress``); cancelling raises
        ``Cancelled`` inside the work at its next step.
        """
        dialog = None
        if progress_title is not None:
            dialog = QProgressDialog(progress_title, self.tr("Cancel"), 0, 1000, parent)
            dialog.setWindowTitle(progress_title)
            dialog.setWindowModality(Qt.WindowModality.WindowModal)
            dialog.setMinimumDuration(300)
            dialog.setAutoClose(False)
            dialog.setAutoReset(False)
        if _wants_progress(fn) and "progress" not in kwargs:
            progress = Progress(lambda f, m: self._progressed.emit(dialog, f, m))
            if dialog is not None:
                dialog.canceled.connect(progress.cancel)
            kwargs["progress"] = progress
        task = _Task(on_done, on_error, dialog)
        self._pending += 1
        self.busy_changed.emit(True)

        def call():
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to on_error on the GUI thread
                exc.__traceback_text__ = traceback.format_exc()
                self._finished.emit(task, None, exc)
            else:
                self._finished.emit(task, result, None)

        return self._executor.submit(call)

    def call(self, fn: Callable, *args, **kwargs):
        """Run on the worker thread and wait for the result (short reads only)."""
        future: Future = self._executor.submit(fn, *args, **kwargs)
        return future.result()

    @Slot(object, object, object)
    def _deliver(self, task: _Task, result, error) -> None:
        self._pending -= 1
        if task.dialog is not None:
            task.dialog.close()
            task.dialog.deleteLater()
        if self._pending == 0:
            self.busy_changed.emit(False)
        if error is None:
            if task.on_done is not None:
                task.on_done(result)
        elif task.on_error is not None:
            task.on_error(error)
        elif not isinstance(error, Cancelled):
            print(getattr(error, "__traceback_text__", repr(error)))

    @Slot(object, float, str)
    def _show_progress(self, dialog, fraction: float, message: str) -> None:
        if dialog is not None:
            dialog.setValue(int(fraction * 1000))
            if message:
                dialog.setLabelText(message)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


class ImmediateWorker(QObject):
    """Same interface, runs each task at once on the calling thread (tests, snapshots)."""

    busy_changed = Signal(bool)
    busy = False

    def run(self, fn, *args, on_done=None, on_error=None, progress_title=None, parent=None, **kwargs):
        if _wants_progress(fn) and "progress" not in kwargs:
            kwargs["progress"] = Progress()
        future: Future = Future()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - same contract as Worker
            future.set_exception(exc)
            if on_error is not None:
                on_error(exc)
            elif not isinstance(exc, Cancelled):
                raise
        else:
            future.set_result(result)
            if on_done is not None:
                on_done(result)
        return future

    def call(self, fn, *args, **kwargs):
        return fn(*args, **kwargs)

    def shutdown(self) -> None:
        pass
