"""The GUI shell: login dialog, navigation by role, honest pages, remembered geometry."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from app.views import registry
from app.views.context import AppContext
from app.views.login_dialog import LoginDialog
from app.views.main_window import MainWindow
from app.views.worker import ImmediateWorker
from conftest import PASSWORD, open_as

EXPECTED_VIEWS = {
    "nurse": ["list", "timeline"],
    "cg_manager": ["list", "timeline", "map", "staffing", "rules"],
    "chief": ["map", "staffing"],
    "data_admin": ["map", "staffing", "import", "rules", "users"],
    "auditor": ["audit"],
}
USER_FOR_ROLE = {"nurse": "nurse", "cg_manager": "manager", "chief": "chief",
                 "data_admin": "admin", "auditor": "auditor"}


def test_login_dialog_wrong_password_shows_message(qtbot, store_with_roles):
    dialog = LoginDialog(store_with_roles.db_path)
    qtbot.addWidget(dialog)
    dialog.user_edit.setText("nurse")
    dialog.password_edit.setText("wrong-password")
    dialog.try_login()
    assert dialog.session is None
    assert dialog.error_label.text() == "ユーザー名またはパスワードが違います"
    assert dialog.password_edit.text() == ""


def test_login_dialog_accepts_right_password(qtbot, store_with_roles):
    dialog = LoginDialog(store_with_roles.db_path)
    qtbot.addWidget(dialog)
    dialog.user_edit.setText("nurse")
    dialog.password_edit.setText(PASSWORD)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.try_login()
    assert dialog.session.role == "nurse"
    dialog.session.close()


@pytest.mark.parametrize("role", list(EXPECTED_VIEWS))
def test_navigation_offers_the_views_of_the_role(qtbot, store_with_roles, role, tmp_path, monkeypatch):
    # The real views, except the QtWebEngine map: tests/test_map_view.py covers it with a
    # teardown that lets Chromium's threads finish (here it crashed once at store close).
    real = registry.load_view_class
    monkeypatch.setattr(registry, "load_view_class", lambda key: None if key == "map" else real(key))
    session = open_as(store_with_roles.db_path, USER_FOR_ROLE[role])
    window = MainWindow(AppContext(session, ImmediateWorker(), settings=None))
    assert window.view_keys == EXPECTED_VIEWS[role]
    for key in window.view_keys:  # a user can move between all of them
        window.show_view(key)
        assert window.stack.currentWidget() is window.page(key)
    assert "見守り" in window.windowTitle()
    # Views go before the connection they read from.
    window.close()
    window.deleteLater()
    qtbot.wait(10)
    session.close()


def test_demo_store_says_demo_in_title(qtbot, tmp_path):
    from app.store.opening import create_store

    session = create_store(tmp_path / "d.db", "admin", PASSWORD, demo=True)
    window = MainWindow(AppContext(session, ImmediateWorker(), settings=None))
    qtbot.addWidget(window)
    assert "デモ" in window.windowTitle()
    session.close()


def test_not_built_view_is_honest(qtbot, store_with_roles, monkeypatch):
    session = open_as(store_with_roles.db_path, "auditor")
    monkeypatch.setattr(registry, "load_view_class", lambda key: None)
    window = MainWindow(AppContext(session, ImmediateWorker(), settings=None))
    qtbot.addWidget(window)
    from PySide6.QtWidgets import QLabel

    texts = " ".join(label.text() for label in window.page("audit").findChildren(QLabel))
    assert "まだ利用できません" in texts
    session.close()


def test_geometry_and_last_view_are_remembered(qtbot, store_with_roles, tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    session = open_as(store_with_roles.db_path, "manager")
    window = MainWindow(AppContext(session, ImmediateWorker(), settings=settings))
    qtbot.addWidget(window)
    window.resize(611, 477)  # the offscreen screen is 800×800
    window.show_view("staffing")
    window.close()
    window2 = MainWindow(AppContext(session, ImmediateWorker(), settings=settings))
    qtbot.addWidget(window2)
    assert window2.current_key() == "staffing"
    assert window2.size().width() == 611
    session.close()


def test_status_bar_says_whether_this_terminal_may_export(qtbot, tmp_path):
    # in words a caseworker reads (the hex id and the schema version only in the tooltip)
    from app.store.opening import create_store
    from app.store.terminals import register_terminal

    session = create_store(tmp_path / "t.db", "admin", PASSWORD)
    try:
        window = MainWindow(AppContext(session, ImmediateWorker(), settings=None))
        qtbot.addWidget(window)
        text = window.terminal_status.text()
        assert "未登録" in text and "書き出し・印刷はできません" in text
        assert session.terminal_id not in text and "スキーマ" not in text
        assert session.terminal_id in window.terminal_status.toolTip()
        register_terminal(session, "中央センター窓口1")
        window = MainWindow(AppContext(session, ImmediateWorker(), settings=None))
        qtbot.addWidget(window)
        assert window.terminal_status.text() == "この端末：中央センター窓口1 — 書き出し・印刷のできる登録済みの端末"
    finally:
        session.close()
