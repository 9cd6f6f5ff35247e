"""Idle auto-lock: after N minutes without input (store setting, default 10) the window
shows only the lock page until the user re-enters the password, checked against their
key slot. While locked the case-data widgets are not shown at all (the stack hides them,
so a screenshot of the window shows the lock page only) and other windows of the
application are hidden too.

A locked terminal is often found by the next colleague: the lock page offers 利用者の切り替え
and ログアウト, which end the locked user's session (audited) without their password and
without restarting the program (the main window's shell carries them out).
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication, QHBoxLayout, QLabel, QLineEdit, QMainWindow, QPushButton, QStackedWidget, QVBoxLayout,
    QWidget,
)

from app.store.session_lock import (
    DEFAULT_IDLE_MINUTES, UnlockFailed, check_unlock_password, record_lock_event, session_idle_lock_minutes,
)
from app.views.clipboard_policy import ClipboardGuard

_ACTIVITY = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
             QEvent.Type.Wheel, QEvent.Type.TouchBegin}


class LockScreen(QWidget):
    """Password prompt shown in place of the window's content."""

    unlock_requested = Signal(str)
    switch_user_requested = Signal()
    logout_requested = Signal()

    def __init__(self, user_label: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lockScreen")
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        title = QLabel(self.tr("Locked"))
        title.setObjectName("pageHeading")
        title.setStyleSheet("font-size: 18pt; font-weight: 600;")
        layout.addWidget(title)
        layout.addWidget(QLabel(self.tr("The screen was locked after a period of inactivity. "
                                        "Enter the password of %1 to continue.").replace("%1", user_label)))
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("unlockPassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.returnPressed.connect(self._submit)
        layout.addWidget(self.password_edit)
        self.unlock_button = QPushButton(self.tr("Unlock"))
        self.unlock_button.clicked.connect(self._submit)
        layout.addWidget(self.unlock_button)
        self.error_label = QLabel("")
        self.error_label.setObjectName("unlockError")
        self.error_label.setStyleSheet("color: #a11a00;")
        layout.addWidget(self.error_label)
        layout.addSpacing(18)
        layout.addWidget(QLabel(self.tr("Someone else? Switching user or logging out ends this session; "
                                        "unsaved input is lost.")))
        others = QHBoxLayout()
        self.switch_button = QPushButton(self.tr("Switch user…"))
        self.switch_button.setObjectName("lockSwitchUser")
        self.switch_button.clicked.connect(self.switch_user_requested)
        self.logout_button = QPushButton(self.tr("Log out"))
        self.logout_button.setObjectName("lockLogout")
        self.logout_button.clicked.connect(self.logout_requested)
        others.addWidget(self.switch_button)
        others.addWidget(self.logout_button)
        others.addStretch(1)
        layout.addLayout(others)
        layout.addStretch(2)

    def _submit(self) -> None:
        password = self.password_edit.text()
        self.password_edit.clear()
        if password:
            self.unlock_requested.emit(password)

    def reset(self) -> None:
        self.password_edit.clear()
        self.error_label.clear()
        self.password_edit.setFocus()


class SessionLock(QObject):
    """Watches for user input application-wide and locks the window when idle."""

    locked_changed = Signal(bool)
    switch_user_requested = Signal()
    logout_requested = Signal()

    def __init__(self, window: QMainWindow, content: QWidget, context, minutes: int | None = None):
        super().__init__(window)
        self.window, self.content, self.context = window, content, context
        session = context.session
        self.stack = QStackedWidget()
        self.stack.setObjectName("lockStack")
        self.stack.addWidget(content)
        self.screen = LockScreen(session.display_name or session.user)
        self.stack.addWidget(self.screen)
        self.screen.unlock_requested.connect(self.try_unlock)
        self.screen.switch_user_requested.connect(self.switch_user_requested)
        self.screen.logout_requested.connect(self.logout_requested)
        self.locked = False
        self._hidden_windows: list[QWidget] = []
        self._last_restart = 0.0
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.lock)
        self.set_timeout_ms((minutes or DEFAULT_IDLE_MINUTES) * 60_000)
        if minutes is None:
            # The store's setting arrives through the task API (no store access on the GUI thread).
            context.worker.run(session_idle_lock_minutes, session, key="lock.minutes",
                               on_done=lambda m: self.set_timeout_ms(m * 60_000))
        self.clipboard_guard = ClipboardGuard(session, self)
        # Watch the window's QWindow, not the whole application: an application-wide
        # Python event filter makes PySide wrap every QObject that passes, including
        # QtWebEngine's half-built QWebEngineUrlRequestJob, which segfaults (seen with
        # the map page). All input of this window passes through its QWindow anyway.
        window.winId()  # creates the native window so windowHandle() exists
        window.windowHandle().installEventFilter(self)

    def set_timeout_ms(self, ms: int) -> None:
        self.timer.setInterval(int(ms))
        if not self.locked:
            self.timer.start()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if not self.locked and event.type() in _ACTIVITY:
            # Restarting a timer on every mouse move is wasteful; once a second is enough.
            now = time.monotonic()
            if now - self._last_restart > 1.0 or self.timer.interval() < 5000:
                self._last_restart = now
                self.timer.start()
        return False

    def lock(self) -> None:
        if self.locked:
            return
        self.locked = True
        self.timer.stop()
        self.stack.setCurrentWidget(self.screen)
        self.window.statusBar().clearMessage()
        # Dialogs and other top-level windows may show case data too.
        self._hidden_windows = [w for w in QApplication.topLevelWidgets()
                                if w.isVisible() and w is not self.window and not w.inherits("QMenu")]
        for w in self._hidden_windows:
            w.hide()
        self.screen.reset()
        self.context.worker.run(record_lock_event, self.context.session, "session_lock")
        self.locked_changed.emit(True)

    def try_unlock(self, password: str) -> None:
        self.screen.unlock_button.setEnabled(False)
        self.context.worker.run(check_unlock_password, self.context.session, password, key="lock.unlock",
                                on_done=lambda _r: self._unlocked(), on_error=self._failed)

    def _unlocked(self) -> None:
        self.screen.unlock_button.setEnabled(True)
        self.locked = False
        self.stack.setCurrentWidget(self.content)
        for w in self._hidden_windows:
            w.show()
        self._hidden_windows = []
        self.timer.start()
        self.context.worker.run(record_lock_event, self.context.session, "session_unlock")
        self.locked_changed.emit(False)

    def _failed(self, error: BaseException) -> None:
        self.screen.unlock_button.setEnabled(True)
        if isinstance(error, UnlockFailed):
            self.screen.error_label.setText(str(error))
            self.context.worker.run(record_lock_event, self.context.session, "unlock_failed")
        else:
            self.screen.error_label.setText(self.tr("The password could not be checked."))

    def detach(self) -> None:
        if self.window.windowHandle() is not None:
            self.window.windowHandle().removeEventFilter(self)
        self.clipboard_guard.detach()
        self.timer.stop()


def install_session_lock(window: QMainWindow, content: QWidget, context) -> QWidget:
    """Wrap ``content`` for the auto-lock; returns the widget to set as central widget.
    The controller is ``window.session_lock``."""
    window.session_lock = SessionLock(window, content, context)
    return window.session_lock.stack
