"""One terminal, many staff: log in, open the user's views, log out or switch user — all
without restarting the program (issue 17).

``Shell`` owns the worker for the program's life and one ``MainWindow`` per session. Ending a
session closes every view first (so no widget keeps the previous user's data), drops every
task still queued for it, records ``logout`` in the audit log and closes the connection on the
worker thread (after the tasks before it), then shows the login dialog for the next user.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QDialog

from app.store.session_lock import record_lock_event
from app.views.context import AppContext
from app.views.main_window import MainWindow


def end_session(session, switching: bool) -> None:
    """On the worker thread: log the logout, then close the connection."""
    try:
        record_lock_event(session, "switch_user" if switching else "logout")
    finally:
        session.close()


class Shell(QObject):
    """Logs users in and out of one store. ``login(message)`` returns a Session or None."""

    window_opened = Signal(object)     # the new MainWindow
    session_ended = Signal()

    def __init__(self, worker, login: Callable[[str], object | None], settings: QSettings | None = None):
        super().__init__()
        self.worker, self._login, self.settings = worker, login, settings
        self.window: MainWindow | None = None
        # The program ends when the user closes the window, not whenever no window is
        # open: between two users only the login dialog is (see ``_window_closed``).
        app = QApplication.instance()
        if app is not None:
            app.setQuitOnLastWindowClosed(False)

    def start(self, message: str = "") -> bool:
        """Ask for a login; open the window. False when the user cancelled."""
        session = self._login(message)
        if session is None:
            return False
        self.open(session)
        return True

    def open(self, session) -> MainWindow:
        context = AppContext(session, self.worker, settings=self.settings)
        window = MainWindow(context)
        # Queued: the request comes from a button inside the window that ``end`` deletes.
        window.logout_requested.connect(self._logout_requested, Qt.ConnectionType.QueuedConnection)
        window.switch_user_requested.connect(self._switch_requested, Qt.ConnectionType.QueuedConnection)
        window.closed.connect(lambda w=window: self._window_closed(w))
        self.window = window
        window.show()
        self.window_opened.emit(window)
        return window

    @Slot()
    def _logout_requested(self) -> None:
        self.end(switching=False)

    @Slot()
    def _switch_requested(self) -> None:
        self.end(switching=True)

    def _window_closed(self, window) -> None:
        if window is self.window:        # closed by the user, not by a logout
            QApplication.quit()

    def end(self, switching: bool) -> bool:
        """End the current session and log the next user in (False: nobody logged in)."""
        window, self.window = self.window, None
        if window is None:
            return False
        session = window.context.session
        window.close()               # saves geometry and last view, detaches the idle lock
        window.close_views()
        window.deleteLater()
        # Nothing queued for the old views may run or arrive after they are gone.
        self.worker.cancel_all()
        self.worker.run(end_session, session, switching)
        self.worker.wait_idle()
        QApplication.processEvents()  # deliver the logout task
        # Delete the old widgets now, not after the next user's login dialog closes.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        self.session_ended.emit()
        message = (QApplication.translate("Shell", "Log in as the next user.") if switching
                   else QApplication.translate("Shell", "You have been logged out."))
        if self.start(message):
            return True
        QApplication.quit()
        return False


def dialog_login(db_path: Path, demo_hint: str = "") -> Callable[[str], object | None]:
    """The real login: the login dialog for ``db_path``; None when cancelled."""
    from app.views.login_dialog import LoginDialog

    def login(message: str):
        dialog = LoginDialog(db_path, demo_hint=demo_hint, message=message)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.session
    return login
