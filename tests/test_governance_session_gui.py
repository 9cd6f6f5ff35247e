"""Session safety in the GUI: idle auto-lock hides the content until the password is
re-entered; the clipboard keeps no case data for a role that may not export; a nurse
without an area is told why she sees no children."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QApplication

from app.store.session_lock import idle_lock_minutes, set_idle_lock_minutes
from app.views.area_notice import area_notice_label, no_area_message
from app.views.context import AppContext
from app.views.main_window import MainWindow
from app.views.worker import ImmediateWorker
from conftest import PASSWORD, open_as


def _window(qtbot, session):
    window = MainWindow(AppContext(session, ImmediateWorker(), settings=None))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _actions(session, n=3):
    return [r[0] for r in session.conn.execute("SELECT action FROM audit_log ORDER BY seq DESC LIMIT ?", (n,))]


def test_idle_lock_hides_content_until_the_password(qtbot, store_with_roles):
    assert idle_lock_minutes(store_with_roles.conn) == 10
    session = open_as(store_with_roles.db_path, "nurse")
    window = _window(qtbot, session)
    lock = window.session_lock
    assert lock.timer.interval() == 10 * 60_000 and not lock.locked
    lock.set_timeout_ms(300)
    qtbot.waitUntil(lambda: lock.locked, timeout=3000)
    assert not lock.content.isVisible() and lock.screen.isVisible()
    assert "session_lock" in _actions(session)
    # A screenshot of the locked window is the lock page only: the content is not painted.
    assert window.centralWidget().currentWidget() is lock.screen

    lock.screen.password_edit.setText("wrong-password-1")
    qtbot.mouseClick(lock.screen.unlock_button, Qt.MouseButton.LeftButton)
    assert lock.locked and lock.screen.error_label.text() == "パスワードが違います"
    assert "unlock_failed" in _actions(session)

    lock.screen.password_edit.setText(PASSWORD)
    qtbot.mouseClick(lock.screen.unlock_button, Qt.MouseButton.LeftButton)
    assert not lock.locked and lock.content.isVisible()
    assert "session_unlock" in _actions(session)
    session.close()


def test_activity_postpones_the_lock(qtbot, store_with_roles):
    session = open_as(store_with_roles.db_path, "nurse")
    window = _window(qtbot, session)
    lock = window.session_lock
    lock.set_timeout_ms(400)
    for _ in range(6):
        qtbot.wait(150)
        # Real input reaches the widgets through the window's QWindow, where the lock listens.
        QApplication.sendEvent(window.windowHandle(), QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Shift, Qt.KeyboardModifier.NoModifier))
    assert not lock.locked
    qtbot.waitUntil(lambda: lock.locked, timeout=3000)
    session.close()


def test_idle_minutes_setting_is_used_and_admin_only(qtbot, store_with_roles):
    set_idle_lock_minutes(store_with_roles, 3)
    session = open_as(store_with_roles.db_path, "nurse")
    window = _window(qtbot, session)
    assert window.session_lock.timer.interval() == 3 * 60_000
    import pytest

    from app.store.roles import AccessDenied

    with pytest.raises(AccessDenied):
        set_idle_lock_minutes(session, 60)
    session.close()


def test_clipboard_is_cleared_for_a_nurse_but_not_for_a_manager(qtbot, store_with_roles):
    clipboard = QGuiApplication.clipboard()
    session = open_as(store_with_roles.db_path, "nurse")
    window = _window(qtbot, session)
    # The guard acts while the application is active (a user at the window); make it so,
    # whatever earlier tests left behind.
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QGuiApplication.applicationState() == Qt.ApplicationState.ApplicationActive,
                    timeout=2000)
    clipboard.setText("1000001 missed checkup")
    qtbot.waitUntil(lambda: clipboard.text() == "", timeout=2000)
    assert window.session_lock.clipboard_guard.cleared >= 1
    window.close()
    session.close()
    manager = open_as(store_with_roles.db_path, "manager")
    window = _window(qtbot, manager)
    clipboard.setText("1000001 missed checkup")
    qtbot.wait(50)
    assert clipboard.text() == "1000001 missed checkup"
    clipboard.clear()
    manager.close()


def test_nurse_without_area_is_told_why(qtbot, store_with_roles):
    nobody = open_as(store_with_roles.db_path, "nurse_noarea")
    label = area_notice_label(nobody)
    qtbot.addWidget(label)
    assert "担当地区" in label.text()
    nurse = open_as(store_with_roles.db_path, "nurse")
    assert no_area_message(nurse) is None and area_notice_label(nurse) is None
    nobody.close()
    nurse.close()


def test_audit_view_filters_and_exports_through_the_gate(qtbot, store_with_roles, tmp_path):
    from app.store.terminals import register_terminal
    from app.views.audit_view import AuditView

    auditor = open_as(store_with_roles.db_path, "auditor")
    view = AuditView(AppContext(auditor, ImmediateWorker(), settings=None))
    qtbot.addWidget(view)
    assert view.is_ready() and view.log_table.rowCount() > 0
    view.user_combo.setCurrentIndex(view.user_combo.findData("admin"))
    view.search()
    users = {view.log_table.item(r, 2).text() for r in range(view.log_table.rowCount())}
    assert users == {"admin"}
    view.export_to(str(tmp_path / "log.csv"), passphrase="export-pass-42")
    assert "登録されていません" in view.status_label.text()
    register_terminal(store_with_roles)
    view.export_to(str(tmp_path / "log.csv"), passphrase="export-pass-42")
    assert (tmp_path / "log.csv.mmx").exists()
    auditor.close()


def test_audit_view_names_registered_terminals(qtbot, store_with_roles):
    # a registered terminal by the name it was registered with; what the entry records (its id)
    # in the tooltip; an unregistered one by its id
    from app.store.terminals import register_terminal
    from app.views.audit_view import AuditView

    register_terminal(store_with_roles, "中央センター窓口1")
    auditor = open_as(store_with_roles.db_path, "auditor")
    view = AuditView(AppContext(auditor, ImmediateWorker(), settings=None))
    qtbot.addWidget(view)
    view.search()
    cells = [view.log_table.item(r, 4) for r in range(view.log_table.rowCount())]
    assert {c.text() for c in cells} == {"中央センター窓口1"}
    assert all(auditor.terminal_id in c.toolTip() for c in cells)
    auditor.conn.execute("UPDATE terminals SET label = '' WHERE terminal_id = ?", (auditor.terminal_id,))
    view.search()
    assert view.log_table.item(0, 4).text() == auditor.terminal_id
    auditor.close()


def test_users_view_adds_a_user_and_registers_the_terminal(qtbot, store_with_roles):
    from app.views.users_view import UsersView

    view = UsersView(AppContext(store_with_roles, ImmediateWorker(), settings=None))
    qtbot.addWidget(view)
    assert view.is_ready() and view.users_table.rowCount() == 6
    view.add_user_values("nurse_kita", "nurse", "kita-pass-123", ["北"], senior=True)
    assert view.users_table.rowCount() == 7
    view.register_terminal()
    assert store_with_roles.terminal_id in view.terminal_label.text()
    assert view.retention_table.rowCount() >= 17


def test_audit_view_names_a_failure_outside_the_chain_in_japanese(qtbot, store_with_roles):
    """A grant edited around the application breaks no entry of the chain: the view says what
    failed, in Japanese, without an entry number it does not have ("entry None" before)."""
    import json

    from app.views.audit_view import AuditView

    conn = store_with_roles.conn
    statement = json.loads(conn.execute("SELECT statement FROM account_grants WHERE name='nurse'").fetchone()[0])
    assert statement  # the nurse has a signed grant to tamper with
    conn.execute("UPDATE users SET role='cg_manager' WHERE name='nurse'")  # around the application
    conn.commit()
    auditor = open_as(store_with_roles.db_path, "auditor")
    view = AuditView(AppContext(auditor, ImmediateWorker(), settings=None))
    qtbot.addWidget(view)
    view.verify()
    text = view.status_label.text()
    assert "None" not in text and "改ざん検査で問題が見つかりました" in text
    assert "データ管理者の付与した内容と異なります" in text
    auditor.close()
