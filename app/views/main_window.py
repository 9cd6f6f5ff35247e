"""The main window: navigation by role on the left, the chosen view on the right."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMainWindow, QStackedWidget,
    QVBoxLayout, QWidget,
)

from app.store.opening import store_summary
from app.views import registry
from app.views.context import AppContext
from app.views.lock_screen import install_session_lock
from app.views.unavailable_page import NotAvailablePage


class MainWindow(QMainWindow):
    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        session = context.session
        self.summary = store_summary(session)
        self.specs = registry.views_for(session)
        self._pages: dict[str, QWidget] = {}

        title = self.tr("Mimamori — %1 (%2)").replace("%1", session.user).replace("%2", session.role_label)
        if session.demo:
            title += " " + self.tr("[デモ / demo data]")
        self.setWindowTitle(title)

        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._header())
        if not self.summary["has_case_data"] and session.role != "auditor":
            banner = QLabel(self.tr("No case data has been imported into this store yet. "
                                    "Views show real data only; they stay empty until a delivery is imported."))
            banner.setObjectName("banner")
            banner.setWordWrap(True)
            outer.addWidget(banner)
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
        self.nav.currentRowChanged.connect(self._on_nav)
        context.selection.navigate.connect(self.show_view)
        context.selection.open_child.connect(lambda _pid: self.show_view("timeline"))
        self.statusBar().showMessage(
            self.tr("Terminal %1 · schema %2").replace("%1", session.terminal_id)
            .replace("%2", str(self.summary["schema_version"])))
        self._restore()

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
        layout.addWidget(who)
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
            self.show_view(self.specs[0].key)
        if settings is None or settings.value("main/geometry") is None:
            self.resize(1280, 800)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.session_lock.detach()
        settings = self.context.settings
        if settings is not None:
            settings.setValue("main/geometry", self.saveGeometry())
            key = self.current_key()
            if key:
                settings.setValue(f"main/last_view/{self.context.session.role}", key)
        super().closeEvent(event)
