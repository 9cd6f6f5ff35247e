"""The GUI's one task API: every store and engine call of a view goes through ``run``.

    context.worker.run(fn, *args, on_done=..., key="list.evidence", changes="followup")

- ``fn`` runs on the single worker thread that owns the SQLCipher connection (STYLE.md,
  Anki's taskman): connections are thread-bound and the GUI must never block on a query.
  Results come back on the GUI thread through a queued signal.
- ``key`` names what a request is *for* (one view's one slot, e.g. "list.evidence"). A newer
  request with the same key supersedes the older one: cancellation is requested (a task not
  started never runs; one that takes ``progress`` stops at its next step) and its answer is
  dropped, so a slow answer for a child no longer selected can never reach the screen.
  Only reads take a key: a write must never be superseded (a queued write would be lost).
- ``changes`` names what kind of store content the task changes ("import", "scoring",
  "followup", "rules", "users", "terminals", ...). After it succeeds ``store_changed(kind)``
  is emitted; views subscribe through ``AppContext.on_store_changed`` and reload.
- Every task error is logged (the app's logging: task name, error type and code frames only —
  never the message, which may name a child). An error the caller does not handle
  (no ``on_error``) is shown as a Japanese dialog; nothing is printed to stdout.

Tests use ``ImmediateWorker``, which runs each task at once on the calling thread so they are
deterministic; ``in_task()`` is true inside it too, which lets a test assert that every store
access happens inside a task (``StoreThreadGuard``).
"""

from __future__ import annotations

import gc
import inspect
import itertools
import logging
import re
import threading
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Iterable

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog, QWidget

from app.engine.progress import Cancelled, Progress

log = logging.getLogger("mimamori.tasks")

# The kinds of store change views can subscribe to (documented here so a new kind is a
# deliberate addition, not a typo that nobody receives).
STORE_CHANGES = ("import", "linkage", "scoring", "followup", "rules", "users", "terminals",
                 "deletion", "retention", "staffing", "boundaries", "templates", "settings")

_local = threading.local()
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def in_task() -> bool:
    """True while a task body runs (on the worker thread, or inside ImmediateWorker)."""
    return getattr(_local, "depth", 0) > 0


def _wants_progress(fn: Callable) -> bool:
    try:
        return "progress" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _task_name(fn: Callable) -> str:
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    return f"{getattr(fn, '__module__', '?')}.{name}"


def _as_kinds(changes: str | Iterable[str] | None) -> tuple[str, ...]:
    if changes is None:
        return ()
    kinds = (changes,) if isinstance(changes, str) else tuple(changes)
    unknown = [k for k in kinds if k not in STORE_CHANGES]
    if unknown:
        raise ValueError(f"unknown store change kind(s): {unknown}")
    return kinds


def log_task_error(name: str, error: BaseException) -> None:
    """Log an error without personal data: its type and where it happened, not its message
    (messages may carry a research ID, a name or an address)."""
    frames = getattr(error, "__mimamori_frames__", None) or traceback.extract_tb(error.__traceback__)
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames[-6:]))
    log.error("task %s failed: %s.%s at %s", name, type(error).__module__, type(error).__qualname__,
              where or "?")


def user_message(error: BaseException) -> str:
    """What the dialog says about ``error``: our own messages are Japanese and written for
    users; anything else (a programming error) gets a plain Japanese sentence instead."""
    text = str(error).strip()
    if text and _JAPANESE.search(text) and "Traceback" not in text:
        return text.splitlines()[0]
    return QCoreApplication.translate(
        "Tasks", "An unexpected error occurred. It was written to the application log "
                 "(without case data). Please tell the data administrator.")


def show_error_dialog(error: BaseException, parent: QWidget | None = None) -> QMessageBox:
    """A non-blocking Japanese error dialog (window-modal over the active window)."""
    parent = parent if parent is not None else QApplication.activeWindow()
    box = QMessageBox(QMessageBox.Icon.Warning, QCoreApplication.translate("Tasks", "The operation failed"),
                      QCoreApplication.translate("Tasks", "The operation could not be completed."),
                      QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("taskErrorDialog")
    box.setInformativeText(user_message(error))
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


class Task:
    """One submitted task. ``cancel()`` asks it to stop and drops its answer."""

    def __init__(self, name: str, key: str | None, changes: tuple[str, ...], on_done, on_error,
                 dialog: QProgressDialog | None, progress: Progress | None):
        self.name, self.key, self.changes = name, key, changes
        self.on_done, self.on_error = on_done, on_error
        self.dialog, self.progress = dialog, progress
        self.future: Future | None = None
        self.cancelled = False     # superseded or cancelled: the answer is dropped
        self.finished = False
        # What the worker thread may ask (a plain Event, no reference back to this Task).
        self.stop_event = threading.Event()

    def request_cancel(self) -> bool:
        """Mark dropped, stop the work if possible; True when it will never run."""
        self.cancelled = True
        self.stop_event.set()
        if self.progress is not None:
            self.progress.cancel()
        return self.future is not None and self.future.cancel()


class _TaskRunner(QObject):
    """The API both workers share; subclasses decide only where the body runs (``_start``)."""

    store_changed = Signal(str)       # kind, after a task that changed the store succeeded
    busy_changed = Signal(bool)
    task_failed = Signal(str)         # task name, after an unhandled error was reported

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._pending = 0
        self._latest: dict[str, Task] = {}
        self._open: set[Task] = set()
        self.errors_shown: list[QMessageBox] = []

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def run(self, fn: Callable, *args, on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None, key: str | None = None,
            changes: str | Iterable[str] | None = None, progress_title: str | None = None,
            parent: QWidget | None = None, **kwargs) -> Task:
        """Run ``fn(*args, **kwargs)`` as a task (see the module docstring).

        With ``progress_title`` a cancellable progress dialog is shown. A ``fn`` with a
        ``progress`` parameter receives an ``app.engine.progress.Progress``; cancelling
        (the dialog, or a newer task with the same key) raises ``Cancelled`` at its next step.
        """
        kinds = _as_kinds(changes)
        dialog = self._progress_dialog(progress_title, parent) if progress_title is not None else None
        progress = None
        if _wants_progress(fn) and "progress" not in kwargs:
            progress = Progress(self._progress_callback(dialog))
            if dialog is not None:
                dialog.canceled.connect(progress.cancel)
            kwargs["progress"] = progress
        task = Task(_task_name(fn), key, kinds, on_done, on_error, dialog, progress)
        if key is not None:
            older = self._latest.get(key)
            if older is not None and not older.finished:
                self.cancel(older)
            self._latest[key] = task
        self._pending += 1
        self._open.add(task)
        if self._pending == 1:
            self.busy_changed.emit(True)
        self._start(task, fn, args, kwargs)
        return task

    def cancel(self, task: Task) -> None:
        """Drop ``task``'s answer and stop it if it has not started or takes progress."""
        if task.finished:
            return
        if task.request_cancel():
            self._deliver(task, None, Cancelled())   # never ran: settle its bookkeeping now

    def cancel_all(self) -> None:
        """Drop every open task's answer (logout: the views they were for are gone). Reads
        (keyed tasks) are also stopped; writes still run — a queued audit entry or follow-up
        must not be lost because the user logged out right after it."""
        for task in list(self._open):
            if task.key is not None:
                self.cancel(task)
            else:
                task.cancelled = True

    def _start(self, task: Task, fn, args, kwargs) -> None:
        raise NotImplementedError

    def _progress_callback(self, dialog):
        return None

    def _progress_dialog(self, title: str, parent: QWidget | None) -> QProgressDialog:
        dialog = QProgressDialog(title, QCoreApplication.translate("Tasks", "Cancel"), 0, 1000, parent)
        dialog.setWindowTitle(title)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        return dialog

    @staticmethod
    def _execute(fn, args, kwargs):
        """The task body; returns (result, error). Runs on the worker (or calling) thread."""
        _local.depth = getattr(_local, "depth", 0) + 1
        try:
            return fn(*args, **kwargs), None
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread
            exc.__mimamori_frames__ = traceback.extract_tb(exc.__traceback__)
            return None, exc
        finally:
            _local.depth -= 1

    def _deliver(self, task: Task, result, error) -> None:
        """On the GUI thread: bookkeeping, store_changed, then the callback or the dialog."""
        if task.finished:
            return
        task.finished = True
        self._open.discard(task)
        self._pending -= 1
        if task.dialog is not None:
            task.dialog.close()
            task.dialog.deleteLater()
        if task.key is not None and self._latest.get(task.key) is task:
            del self._latest[task.key]
        if self._pending == 0:
            self.busy_changed.emit(False)
        if error is None:
            # A superseded writer still wrote: its change is announced all the same.
            for kind in task.changes:
                self.store_changed.emit(kind)
        if error is not None and not isinstance(error, Cancelled):
            log_task_error(task.name, error)      # even when nobody waits for the answer any more
        if task.cancelled:
            return
        if error is None:
            if task.on_done is not None:
                self._guarded(task, task.on_done, result)
            return
        if isinstance(error, Cancelled):
            if task.on_error is not None:
                self._guarded(task, task.on_error, error)
            return
        if task.on_error is not None:
            self._guarded(task, task.on_error, error)
        else:
            self._unhandled(task, error)

    def _guarded(self, task: Task, callback, value) -> None:
        # A callback's own error is a task error too: logged and shown, never lost in the event loop.
        try:
            callback(value)
        except Exception as exc:  # noqa: BLE001 - reported like any unhandled task error
            log_task_error(task.name + " (callback)", exc)
            self._unhandled(task, exc)

    def _unhandled(self, task: Task, error: BaseException) -> None:
        self.errors_shown.append(show_error_dialog(error))
        self.task_failed.emit(task.name)

    def shutdown(self) -> None:
        for task in list(self._open):
            task.request_cancel()


class _GuiThreadCollector(QObject):
    """Python's cyclic garbage collection, run on the GUI thread only.

    Automatic collection runs on whichever thread happens to allocate; on the worker thread
    it can free a cycle holding a Qt widget's wrapper and destroy the widget off the GUI
    thread (seen as a segfault in "Garbage-collecting" under a query). The known remedy:
    disable automatic collection while the worker exists and collect from a GUI timer."""

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self.collect)
        self._timer.start()

    @Slot()
    def collect(self) -> None:
        counts, limits = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > limits[generation]:
                gc.collect(generation)
                break

    def stop(self) -> None:
        self._timer.stop()
        if self._was_enabled:
            gc.enable()


class Worker(_TaskRunner):
    """Runs tasks on one background thread; callbacks arrive on the GUI thread."""

    _finished = Signal(int, object, object)       # task number, result, error
    _progressed = Signal(object, float, str)      # dialog, fraction, message

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mimamori-db")
        self._numbers = itertools.count(1)
        self._by_number: dict[int, Task] = {}
        self._collector = _GuiThreadCollector(self)
        self._finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self._progressed.connect(self._show_progress, Qt.ConnectionType.QueuedConnection)

    def _progress_callback(self, dialog):
        return lambda f, m: self._progressed.emit(dialog, f, m)

    def _start(self, task: Task, fn, args, kwargs) -> None:
        # The worker thread sees only a number, never the Task with its GUI callbacks: the
        # last reference to a widget's bound method must not be dropped on that thread.
        number = next(self._numbers)
        self._by_number[number] = task
        stop = task.stop_event

        def body():
            if stop.is_set():               # superseded while queued behind other work
                self._finished.emit(number, None, Cancelled())
                return
            result, error = self._execute(fn, args, kwargs)
            self._finished.emit(number, result, error)

        task.future = self._executor.submit(body)

    @Slot(int, object, object)
    def _on_finished(self, number: int, result, error) -> None:
        task = self._by_number.pop(number, None)
        if task is not None:
            self._deliver(task, result, error)

    def _deliver(self, task: Task, result, error) -> None:
        for number, known in list(self._by_number.items()):
            if known is task and task.future is not None and task.future.cancelled():
                del self._by_number[number]      # cancelled before it ran: no answer will come
        super()._deliver(task, result, error)

    @Slot(object, float, str)
    def _show_progress(self, dialog, fraction: float, message: str) -> None:
        if dialog is not None:
            dialog.setValue(int(fraction * 1000))
            if message:
                dialog.setLabelText(message)

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Block until queued tasks ran (logout, tests); their callbacks still need the event loop."""
        try:
            self._executor.submit(lambda: None).result(timeout=timeout_s)
            return True
        except Exception:  # noqa: BLE001 - a timeout just means "not idle"
            return False

    def shutdown(self) -> None:
        super().shutdown()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._collector.stop()


class ImmediateWorker(_TaskRunner):
    """Same API, runs each task at once on the calling thread (tests, snapshots).

    ``report_errors=False`` (the default) re-raises an unhandled task error after logging it,
    so a test sees it; ``True`` shows the dialog as the real worker does.
    """

    def __init__(self, parent: QObject | None = None, report_errors: bool = False):
        super().__init__(parent)
        self.report_errors = report_errors

    def _start(self, task: Task, fn, args, kwargs) -> None:
        result, error = self._execute(fn, args, kwargs)
        self._deliver(task, result, error)

    def _unhandled(self, task: Task, error: BaseException) -> None:
        if self.report_errors:
            super()._unhandled(task, error)
        else:
            raise error

    def wait_idle(self, timeout_s: float = 0.0) -> bool:
        return True


class StoreThreadGuard:
    """Records every SQL statement run on the GUI thread outside a task.

    Installed on a connection with SQLite's trace callback (called on the executing thread
    for every statement), so it sees pandas reads and cached statements alike. Tests install
    it and assert ``violations`` stays empty; ``MIMAMORI_THREAD_CHECK=1`` logs them in use.
    """

    def __init__(self, conn, log_violations: bool = False):
        self.conn = conn
        self.violations: list[str] = []
        self._log = log_violations
        conn.set_trace_callback(self._trace)

    def _trace(self, statement: str) -> None:
        if threading.current_thread() is threading.main_thread() and not in_task():
            # The statement's first words only: enough to find the caller, no values.
            head = " ".join(str(statement).split()[:4])
            self.violations.append(head)
            if self._log:
                log.warning("store accessed on the GUI thread outside a task: %s", head)

    def remove(self) -> None:
        try:
            self.conn.set_trace_callback(None)
        except Exception:  # noqa: BLE001 - the connection may be closed already
            pass
