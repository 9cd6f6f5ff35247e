"""The GUI's one task API (issue 19 part 4): newer requests supersede older ones, store changes
reach the views that subscribe, errors become a Japanese dialog and a log entry without
personal data (never stdout), and the store is never touched on the GUI thread."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget

from app.engine.progress import Cancelled
from app.views.context import AppContext
from app.views.worker import ImmediateWorker, StoreThreadGuard, Worker, in_task
from conftest import open_as
from task_helpers import DeferredWorker


@pytest.fixture
def worker(qtbot):
    w = Worker()
    yield w
    w.shutdown()


def test_newer_request_with_the_same_key_drops_the_older_answer():
    worker = DeferredWorker()
    got = []
    worker.run(lambda: "A", key="pane", on_done=got.append)
    worker.run(lambda: "B", key="pane", on_done=got.append)
    worker.run(lambda: "other", key="elsewhere", on_done=got.append)
    worker.finish(1)          # B answers first
    worker.finish(0)          # A's late answer: superseded, dropped
    worker.finish(0)
    assert got == ["B", "other"]
    assert not worker.busy


def test_superseding_cancels_a_running_task_at_its_next_step(qtbot, worker):
    started, stopped = threading.Event(), []

    def slow(progress):
        started.set()
        for i in range(200):
            progress.step(i / 200)
            time.sleep(0.01)
        return "finished"

    got = []
    worker.run(slow, key="k", on_done=got.append, on_error=lambda e: stopped.append(type(e)))
    assert started.wait(5)
    t0 = time.monotonic()
    worker.run(lambda: "newer", key="k", on_done=got.append)
    qtbot.waitUntil(lambda: got == ["newer"], timeout=5000)
    # The old task stopped at its next step (not after its 2 s), and its answer never arrived.
    assert time.monotonic() - t0 < 1.0
    assert stopped == []          # a superseded task's error callback is not called either
    qtbot.wait(50)
    assert got == ["newer"]


def test_a_queued_task_that_is_superseded_never_runs(qtbot, worker):
    gate, ran = threading.Event(), []
    worker.run(gate.wait, 5)                      # occupies the worker thread
    worker.run(lambda: ran.append("old"), key="k")
    worker.run(lambda: ran.append("new"), key="k")
    gate.set()
    qtbot.waitUntil(lambda: not worker.busy, timeout=5000)
    assert ran == ["new"]


def test_store_changed_after_a_writing_task_and_only_on_success():
    worker = ImmediateWorker()
    kinds = []
    worker.store_changed.connect(kinds.append)
    worker.run(lambda: 1, changes="scoring")
    worker.run(lambda: 1, changes=("followup", "import"))
    worker.run(lambda: 1 / 0, changes="rules", on_error=lambda e: None)
    assert kinds == ["scoring", "followup", "import"]
    with pytest.raises(ValueError):
        worker.run(lambda: 1, changes="scorring")     # a typo is an error, not a silent no-op


def test_subscribed_view_refreshes_now_if_shown_else_when_shown(qtbot):
    class _Session:
        role = "cg_manager"

    context = AppContext(_Session(), ImmediateWorker())
    shown, hidden = QWidget(), QWidget()
    qtbot.addWidget(shown)
    qtbot.addWidget(hidden)
    shown.show()
    calls = {"shown": [], "hidden": []}
    context.on_store_changed(shown, ("scoring",), lambda k: calls["shown"].append(k))
    context.on_store_changed(hidden, ("scoring", "import"), lambda k: calls["hidden"].append(k))
    context.worker.run(lambda: None, changes="scoring")
    context.worker.run(lambda: None, changes="import")
    context.worker.run(lambda: None, changes="users")       # nobody here subscribed to it
    assert calls["shown"] == [frozenset({"scoring"})]
    assert calls["hidden"] == []                              # hidden: no work nobody sees …
    hidden.show()
    assert calls["hidden"] == [frozenset({"scoring", "import"})]   # … but never stale once opened


def test_unhandled_error_is_a_japanese_dialog_and_a_log_line_without_personal_data(qtbot, worker, caplog, capfd):
    def fails():
        raise ValueError("山田 花子 R0001234 横須賀市本町1-2")

    def crashes():
        raise KeyError("R0001234")

    with caplog.at_level(logging.ERROR, logger="mimamori.tasks"):
        worker.run(fails)
        worker.run(crashes)
        qtbot.waitUntil(lambda: len(worker.errors_shown) == 2, timeout=5000)
    first, second = worker.errors_shown
    assert isinstance(first, QMessageBox) and first.isVisible()
    assert first.windowTitle() == "処理の失敗" and first.text() == "処理を完了できませんでした。"
    # Our own Japanese messages are shown as they are; a programming error gets a plain sentence.
    assert first.informativeText().startswith("山田 花子")
    assert second.informativeText().startswith("予期しないエラーが発生しました")
    log_text = caplog.text
    assert "ValueError" in log_text and "KeyError" in log_text and "test_task_api.py" in log_text
    for private in ("山田", "R0001234", "本町"):
        assert private not in log_text
    out = capfd.readouterr()
    assert "R0001234" not in out.out and "R0001234" not in out.err
    for box in worker.errors_shown:
        box.close()


def test_a_handled_error_is_logged_but_not_shown(qtbot, worker, caplog):
    seen = []
    with caplog.at_level(logging.ERROR, logger="mimamori.tasks"):
        worker.run(lambda: [][1], on_error=seen.append)
        qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert isinstance(seen[0], IndexError)
    assert worker.errors_shown == []
    assert "IndexError" in caplog.text


def test_cancelled_work_is_neither_logged_nor_shown(qtbot, worker, caplog):
    def cancelled():
        raise Cancelled()

    with caplog.at_level(logging.ERROR, logger="mimamori.tasks"):
        worker.run(cancelled)
        qtbot.waitUntil(lambda: not worker.busy, timeout=5000)
        qtbot.wait(20)
    assert worker.errors_shown == [] and caplog.text == ""


def test_guard_sees_store_access_on_the_gui_thread_outside_a_task(store_with_roles):
    """The guard used below must be able to fail."""
    guard = StoreThreadGuard(store_with_roles.conn)
    try:
        store_with_roles.conn.execute("SELECT 1").fetchone()            # on the GUI thread: caught
        assert guard.violations == ["SELECT 1"]
        ImmediateWorker().run(lambda: store_with_roles.conn.execute("SELECT 2").fetchone())
        assert guard.violations == ["SELECT 1"]                          # inside a task: allowed
        assert not in_task()
    finally:
        guard.remove()


ROLE_USERS = {"nurse": "nurse", "cg_manager": "manager", "data_admin": "admin", "chief": "chief", "auditor": "auditor"}


@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_no_store_access_on_the_gui_thread(qtbot, scored_store, role, monkeypatch):
    """Every view of every role, opened in the main window with the real worker thread:
    not one SQL statement runs on the GUI thread outside a task."""
    from app.views import registry
    from app.views.main_window import MainWindow

    # The QtWebEngine map page is left out as in test_gui_shell (its own test covers it);
    # its data comes through the same task API.
    real = registry.load_view_class
    monkeypatch.setattr(registry, "load_view_class", lambda key: None if key == "map" else real(key))
    session = open_as(scored_store, ROLE_USERS[role])
    guard = StoreThreadGuard(session.conn)
    worker = Worker()
    window = MainWindow(AppContext(session, worker, settings=None))
    window.show()
    try:
        for key in window.view_keys:
            window.show_view(key)
            qtbot.wait(30)
        qtbot.waitUntil(lambda: not worker.busy, timeout=30000)
        if "list" in window.view_keys:
            page = window.page("list")
            qtbot.waitUntil(lambda: page.evidence.evidence is not None or page.model.rowCount() == 0, timeout=30000)
        assert window.summary is not None            # the banner's facts arrived through a task
        assert guard.violations == []
    finally:
        window.close()
        window.close_views()
        worker.cancel_all()
        worker.shutdown()
        window.deleteLater()
        qtbot.wait(10)
        guard.remove()
        session.close()


def test_main_window_title_names_the_app_once_and_admin_lands_on_import(qtbot, store_with_roles):
    from app.views.main_window import MainWindow

    session = open_as(store_with_roles.db_path, "admin")
    window = MainWindow(AppContext(session, ImmediateWorker(), settings=None))
    qtbot.addWidget(window)
    assert window.windowTitle().count("見守り") == 1 and window.windowTitle().endswith("— 見守り")
    assert window.current_key() == "import"
    window.close()
    session.close()


@pytest.mark.parametrize("user", ["manager", "admin"])
def test_every_view_fits_a_1366x768_screen(qtbot, scored_store, user, monkeypatch):
    """The opening size on a 1366×768 screen (less a task bar) is at least every view's
    minimum, so nothing is cut off."""
    from PySide6.QtCore import QRect

    from app.views import registry
    from app.views.main_window import MainWindow, initial_size

    real = registry.load_view_class
    monkeypatch.setattr(registry, "load_view_class", lambda key: None if key == "map" else real(key))
    session = open_as(scored_store, user)
    window = MainWindow(AppContext(session, ImmediateWorker(), settings=None))
    qtbot.addWidget(window)
    size = initial_size(QRect(0, 0, 1366, 728))
    assert size.width() <= 1366 and size.height() <= 728
    for key in window.view_keys:
        window.show_view(key)
        hint = window.minimumSizeHint()
        assert hint.width() <= size.width() and hint.height() <= size.height(), (key, hint)
    window.close()
    window.close_views()
    qtbot.wait(10)
    session.close()


def test_no_print_in_the_views():
    """Errors go to the log and dialogs; a windowed build has no console to print to."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "app" / "views"
    offenders = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_main = {n for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in {"main", "_preview"}
                   for n in ast.walk(node)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
                    and node not in in_main):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []



def test_the_application_log_is_a_file_in_the_user_data_folder(qapp, tmp_path, monkeypatch):
    """Task errors land in a file (a windowed build has no console), under the user's
    application-data folder — here the test's temporary XDG_DATA_HOME."""
    import logging.handlers

    from app.views import application
    from app.views.worker import log_task_error

    logger = logging.getLogger("mimamori")
    before = list(logger.handlers)
    try:
        path = application.configure_logging()
        if path is None:   # an earlier test's make_application configured it already
            path = next(h.baseFilename for h in logger.handlers
                        if isinstance(h, logging.handlers.RotatingFileHandler))
        try:
            raise LookupError("R0009999 佐藤")
        except LookupError as exc:
            log_task_error("test.task", exc)
        for h in logger.handlers:
            h.flush()
        text = open(path, encoding="utf-8").read()
        assert "LookupError" in text and "R0009999" not in text and "佐藤" not in text
        assert "pytest-of-" in str(path)       # the tests' temporary XDG_DATA_HOME, never the real one
    finally:
        for h in logger.handlers:
            if h not in before:
                logger.removeHandler(h)
                h.close()
