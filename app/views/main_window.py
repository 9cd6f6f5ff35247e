"""The main window: navigation by role on the left, the chosen view on the right.

The window never touches the store itself: what it shows about the store (the empty-store
banner, the schema version) arrives through the task API like every view's data. Logging out
and switching user are requests (``logout_requested``, ``switch_user_requested``) that the
shell (app/views/shell.py) carries out: it closes this window, ends the session and logs the
next user in, without restarting the program.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect, QSize, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QApplication, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMainWindow, QPushButton,
    QStackedWidget, QVBoxLayout, QWidget,
)

from app.store.opening import store_summary
from app.views import registry
from app.views.application import APP_DISPLAY_NAME
from app.views.context import AppContext
from app.views.lock_screen import install_session_lock
from app.views.unavailable_page import NotAvailablePage


# The size the window opens at when nothing is remembered: large enough for every view,
# small enough for the 1366×768 screens of municipal terminals (issue 17).
PREFERRED_SIZE = QSize(1280, 800)


def initial_size(available: QRect) -> QSize:
    """The opening size on a screen whose free area is ``available``."""
    return QSize(min(PREFERRED_SIZE.width(), available.width() - 24),
                 min(PREFERRED_SIZE.height(), available.height() - 40))


class MainWindow(QMainWindow):
    logout_requested = Signal()
    switch_user_requested = Signal()
    closed = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        session = context.session
        self.summary: dict | None = None
        self.specs = registry.views_for(session)
        self._pages: dict[str, QWidget] = {}
        self.setWindowTitle(window_title(session))

        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._header())
        self.banner = QLabel(self.tr("No case data has been imported into this store yet. "
                                     "Views show real data only; they stay empty until a delivery is imported."))
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        outer.addWidget(self.banner)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(210)
        self.stack = QStackedWidget()
        for spec in self.specs:
            item = QListWidgetItem(registry.view_title(spec.key))
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            self.nav.addItem(item)
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        outer.addLayout(body, 1)
        # Idle auto-lock and clipboard policy wrap the whole content (app/views/lock_screen.py).
        self.setCentralWidget(install_session_lock(self, central, context))
        self.session_lock.logout_requested.connect(self.logout_requested)
        self.session_lock.switch_user_requested.connect(self.switch_user_requested)
        self._account_menu()
        self.nav.currentRowChanged.connect(self._on_nav)
        context.selection.navigate.connect(self.show_view)
        context.selection.open_child.connect(self._open_child)
        context.selection.open_child_in_run.connect(lambda person_id, _run: self._open_child(person_id))
        # what staff need of the terminal: registered for export and print or not (the hex id and
        # the schema version are for support: the label's tooltip)
        self.terminal_status = QLabel()
        self.terminal_status.setObjectName("terminalStatus")
        self.statusBar().addWidget(self.terminal_status)
        self._load_summary()
        context.on_store_changed(self, ("import", "deletion"), lambda _kinds: self._load_summary())
        self._restore()

    def _load_summary(self) -> None:
        self.context.worker.run(store_summary, self.context.session, key="main.summary",
                                on_done=self._show_summary)

    def _show_summary(self, summary: dict) -> None:
        self.summary = summary
        self.banner.setVisible(not summary["has_case_data"] and self.context.session.role != "auditor")
        label = summary.get("terminal_label", "")
        if summary.get("terminal_registered"):
            text = (self.tr("This terminal: %1 (registered for export and print)").replace("%1", label) if label
                    else self.tr("This terminal is registered for export and print"))
        else:
            text = self.tr("This terminal is not registered: export and print are not available here")
        self.terminal_status.setText(text)
        self.terminal_status.setToolTip(
            self.tr("Terminal ID %1 · database version %2").replace("%1", self.context.session.terminal_id)
            .replace("%2", str(summary["schema_version"])))

    def _account_menu(self) -> None:
        menu = self.menuBar().addMenu(self.tr("Account"))
        self.switch_action = QAction(self.tr("Switch user…"), self)
        self.switch_action.setObjectName("switchUserAction")
        self.switch_action.triggered.connect(self.switch_user_requested)
        self.logout_action = QAction(self.tr("Log out"), self)
        self.logout_action.setObjectName("logoutAction")
        self.logout_action.triggered.connect(self.logout_requested)
        menu.addAction(self.switch_action)
        menu.addAction(self.logout_action)

    def _open_child(self, _person_id: str) -> None:
        self.show_view("timeline")

    def _header(self) -> QWidget:
        session = self.context.session
        header = QWidget()
        header.setObjectName("header")
        header.setStyleSheet("#header { background: #24475a; } #header QLabel { color: white; }")
        layout = QHBoxLayout(header)
        layout.setContentsMargins(14, 8, 14, 8)
        name = QLabel(self.tr("Mimamori 見守り"))
        name.setStyleSheet("font-size: 14pt; font-weight: 600;")
        layout.addWidget(name)
        if session.demo:
            badge = QLabel(self.tr("デモ — synthetic data, not real people"))
            badge.setObjectName("demoBadge")
            badge.setStyleSheet("color: #5c4400;")
            layout.addWidget(badge)
        layout.addStretch(1)
        who = QLabel(f"{session.display_name or session.user} · {session.role_label}")
        who.setObjectName("sessionUser")
        layout.addWidget(who)
        # On the header too, not only in the menu: on a shared terminal the next colleague
        # should see at once how to take over.
        self.switch_button = QPushButton(self.tr("Switch user…"))
        self.switch_button.setObjectName("switchUserButton")
        self.logout_button = QPushButton(self.tr("Log out"))
        self.logout_button.setObjectName("logoutButton")
        for button in (self.switch_button, self.logout_button):
            button.setStyleSheet("QPushButton { color: white; background: #36627a; border: 1px solid #8fb3c6;"
                                 " border-radius: 3px; padding: 3px 10px; }"
                                 "QPushButton:hover { background: #41758f; }")
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            layout.addWidget(button)
        self.switch_button.clicked.connect(self.switch_user_requested)
        self.logout_button.clicked.connect(self.logout_requested)
        return header

    @property
    def view_keys(self) -> list[str]:
        return [s.key for s in self.specs]

    def page(self, key: str) -> QWidget:
        """The page for a view key, created on first use."""
        if key not in self._pages:
            cls = registry.load_view_class(key)
            if cls is None:
                page = NotAvailablePage(registry.view_title(key))
            else:
                page = cls(self.context)
            self._pages[key] = page
            self.stack.addWidget(page)
        return self._pages[key]

    def show_view(self, key: str) -> None:
        if key not in self.view_keys:
            return
        row = self.view_keys.index(key)
        if self.nav.currentRow() != row:
            self.nav.setCurrentRow(row)  # re-enters through _on_nav
        else:
            self.stack.setCurrentWidget(self.page(key))

    def current_key(self) -> str | None:
        row = self.nav.currentRow()
        return self.view_keys[row] if 0 <= row < len(self.view_keys) else None

    def _on_nav(self, row: int) -> None:
        if 0 <= row < len(self.specs):
            self.stack.setCurrentWidget(self.page(self.specs[row].key))

    def _restore(self) -> None:
        settings = self.context.settings
        last = None
        if settings is not None:
            geometry = settings.value("main/geometry")
            if isinstance(geometry, QByteArray):
                self.restoreGeometry(geometry)
            last = settings.value(f"main/last_view/{self.context.session.role}")
        if last in self.view_keys:
            self.show_view(last)
        elif self.specs:
            self.show_view(registry.landing_view(self.context.session) or self.specs[0].key)
        screen = self.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry() if screen is not None else QRect(0, 0, 1366, 728)
        if settings is None or settings.value("main/geometry") is None:
            self.resize(initial_size(available))
        elif self.width() > available.width() or self.height() > available.height():
            # Remembered on a larger screen: never open partly off this one.
            self.resize(self.size().boundedTo(available.size()))

    def close_views(self) -> None:
        """Close every page (ending their timers and web pages) before the session ends."""
        for page in list(self._pages.values()):
            page.close()
            self.stack.removeWidget(page)
            page.deleteLater()
        self._pages.clear()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.session_lock.detach()
        # Open error dialogs belong to this session; the next user must not see them.
        for box in getattr(self.context.worker, "errors_shown", []):
            try:
                box.close()
            except RuntimeError:
                pass
        settings = self.context.settings
        if settings is not None:
            settings.setValue("main/geometry", self.saveGeometry())
            key = self.current_key()
            if key:
                settings.setValue(f"main/last_view/{self.context.session.role}", key)
        super().closeEvent(event)
        self.closed.emit()


def window_title(session) -> str:
    """The user, the role and (demo stores) デモ, then the application's name once.

    Ending with the application display name keeps Qt from appending it a second time
    (QPlatformWindow::formatWindowTitle appends it unless the title ends with it)."""
    app_name = APP_DISPLAY_NAME
    who = QApplication.translate("MainWindow", "%1 (%2)").replace("%1", session.display_name or session.user) \
        .replace("%2", session.role_label)
    if session.demo:
        who += " " + QApplication.translate("MainWindow", "[demo data]")
    return f"{who} — {app_name}"
