"""The login dialog: account name and password for one store file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget,
)

from app.store.opening import StoreError, open_store


class LoginDialog(QDialog):
    """Asks for user and password; ``session`` holds the open Session after accept()."""

    def __init__(self, db_path: Path, parent: QWidget | None = None, demo_hint: str = "",
                 opener=open_store, message: str = ""):
        super().__init__(parent)
        self.db_path = Path(db_path)
        self.session = None
        self._opener = opener
        self.setWindowTitle(self.tr("Mimamori — log in"))
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        heading = QLabel(self.tr("Mimamori (見守り)"))
        heading.setObjectName("pageHeading")
        layout.addWidget(heading)
        if message:   # e.g. after a logout: say what happened to the previous session
            note = QLabel(message)
            note.setObjectName("loginMessage")
            note.setWordWrap(True)
            layout.addWidget(note)
        store_label = QLabel(self.tr("Store: %1").replace("%1", str(self.db_path)))
        store_label.setWordWrap(True)
        store_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(store_label)
        form = QFormLayout()
        self.user_edit = QLineEdit()
        self.user_edit.setObjectName("user")
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("User name"), self.user_edit)
        form.addRow(self.tr("Password"), self.password_edit)
        layout.addLayout(form)
        if demo_hint:
            hint = QLabel(demo_hint)
            hint.setObjectName("banner")
            hint.setWordWrap(True)
            layout.addWidget(hint)
        self.error_label = QLabel("")
        self.error_label.setObjectName("loginError")
        self.error_label.setStyleSheet("color: #a11a00;")
        self.error_label.setWordWrap(True)
        layout.addWidget(self.error_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Log in"))
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.user_edit.setFocus()

    def try_login(self) -> None:
        user, password = self.user_edit.text().strip(), self.password_edit.text()
        if not user or not password:
            self.error_label.setText(self.tr("Enter your user name and password."))
            return
        try:
            self.session = self._opener(self.db_path, user, password)
        except StoreError as exc:
            # The store's messages are already Japanese and never contain a traceback.
            self.error_label.setText(str(exc))
            self.password_edit.clear()
            return
        self.accept()
