"""Issue 17, one terminal, many staff: ログアウト / 利用者の切り替え in the window and on the idle
lock, without restarting; the previous user's data is gone from every widget; audited."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLabel, QWidget

from app.views.shell import Shell
from app.views.worker import Worker
from conftest import open_as


def _texts(widget: QWidget) -> str:
    """Everything a person could read in ``widget``: labels, window titles, item views."""
    parts = [widget.windowTitle()]
    for label in widget.findChildren(QLabel):
        parts.append(label.text())
    for view in widget.findChildren(QAbstractItemView):
        model = view.model()
        if model is None:
            continue
        for r in range(min(model.rowCount(), 200)):
            try:
                columns = model.columnCount(QModelIndex())
            except TypeError:          # list models keep columnCount private
                columns = 1
            for c in range(columns):
                value = model.index(r, c).data()
                if value is not None:
                    parts.append(str(value))
    return "\n".join(parts)


def _wait_idle(qtbot, worker):
    qtbot.waitUntil(lambda: not worker.busy, timeout=30000)


def _actions(path, user):
    session = open_as(path, "admin")
    rows = session.conn.execute("SELECT action FROM audit_log WHERE user = ? ORDER BY seq", (user,)).fetchall()
    session.close()
    return [r[0] for r in rows]


def test_nurse_switches_to_manager_and_her_data_is_gone(qtbot, scored_store, tmp_path):
    path = scored_store
    queue = ["nurse", "manager"]
    messages = []

    def login(message):
        messages.append(message)
        return open_as(path, queue.pop(0)) if queue else None

    worker = Worker()
    shell = Shell(worker, login)
    try:
        assert shell.start()
        nurse_window = shell.window
        nurse_session = nurse_window.context.session
        assert nurse_session.role == "nurse"
        _wait_idle(qtbot, worker)
        listed = nurse_window.page("list")
        qtbot.waitUntil(lambda: listed.evidence.evidence is not None, timeout=30000)
        nurse_child = listed.evidence.evidence.person_id
        nurse_rows = {listed.model.person_at(r) for r in range(listed.model.rowCount())}
        nurse_selection = nurse_window.context.selection
        assert nurse_child in _texts(nurse_window)

        nurse_window.switch_button.click()                # the header's 利用者の切り替え
        qtbot.waitUntil(lambda: shell.window is not nurse_window, timeout=30000)

        manager_window = shell.window
        assert manager_window is not None and manager_window is not nurse_window
        assert manager_window.context.session.role == "cg_manager"
        assert messages[-1] == "次の利用者としてログインしてください。"
        qtbot.wait(20)                                    # deferred deletes of the old window
        assert not shiboken6.isValid(nurse_window)
        # The nurse's connection is closed; her session was ended in the audit log.
        try:
            nurse_session.conn.execute("SELECT 1")
            closed = False
        except Exception:  # noqa: BLE001 - sqlcipher3.ProgrammingError on a closed connection
            closed = True
        assert closed
        assert _actions(path, "nurse")[-1] == "switch_user"

        # No widget of the application still shows the nurse or her selection.
        _wait_idle(qtbot, worker)
        for top in QApplication.topLevelWidgets():
            if not shiboken6.isValid(top) or not top.isVisible():
                continue
            text = _texts(top)
            assert "nurse ·" not in text and "保健師" not in text.split("—")[0]
            assert top is manager_window or top.windowTitle() == ""
        # A fresh selection: the manager does not inherit the child the nurse was looking at.
        assert manager_window.context.selection is not nurse_selection
        assert manager_window.context.selection.current_child in (None, manager_window.page("list").current_child())
        assert nurse_rows                               # she did see children before
    finally:
        if shell.window is not None:
            shell.window.close()
            shell.window.close_views()
            s = shell.window.context.session
            worker.cancel_all()
            worker.shutdown()
            s.close()
        else:
            worker.shutdown()


def test_logout_from_the_lock_screen_then_nobody_logs_in(qtbot, scored_store, monkeypatch):
    queue = ["nurse"]
    quits = []
    monkeypatch.setattr(QApplication, "quit", staticmethod(lambda: quits.append(True)))

    def login(message):
        return open_as(scored_store, queue.pop(0)) if queue else None

    worker = Worker()
    shell = Shell(worker, login)
    try:
        assert shell.start()
        window = shell.window
        _wait_idle(qtbot, worker)
        lock = window.session_lock
        lock.lock()
        assert lock.locked and lock.screen.isVisible()
        # The next colleague does not know the nurse's password: she logs the session out.
        lock.screen.logout_button.click()
        qtbot.waitUntil(lambda: shell.window is None, timeout=30000)
        assert shell.window is None and quits == [True]      # nobody logged in: the program ends
        qtbot.wait(20)
        assert not shiboken6.isValid(window)
        actions = _actions(scored_store, "nurse")
        assert actions[-1] == "logout" and "session_lock" in actions
    finally:
        worker.shutdown()


def test_menu_offers_logout_and_switch_user(qtbot, scored_store):
    from app.views.context import AppContext
    from app.views.main_window import MainWindow
    from app.views.worker import ImmediateWorker

    session = open_as(scored_store, "chief")
    window = MainWindow(AppContext(session, ImmediateWorker(), settings=None))
    qtbot.addWidget(window)
    menu_texts = [a.text() for m in window.menuBar().actions() for a in m.menu().actions()]
    assert menu_texts == ["利用者の切り替え…", "ログアウト"]
    requested = []
    window.logout_requested.connect(lambda: requested.append("logout"))
    window.switch_user_requested.connect(lambda: requested.append("switch"))
    window.logout_action.trigger()
    window.switch_action.trigger()
    window.logout_button.click()
    assert requested == ["logout", "switch", "logout"]
    assert window.switch_button.text() == "利用者の切り替え…"
    window.close()
    window.close_views()
    qtbot.wait(10)
    session.close()
