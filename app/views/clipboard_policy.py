"""No case data in the clipboard unless the role may export.

``ClipboardGuard`` watches the application clipboard: whatever this application puts
there is cleared again at once for a role without an export capability (a nurse), so
Ctrl+C in any view — present or future — cannot carry case data out. Views that copy on
purpose call ``copy_text``, which applies the same rule and says why when it refuses.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject, Qt
from PySide6.QtGui import QClipboard, QGuiApplication

from app.store import roles

# Holding any of these means the role may take bulk data off the screen in some form.
# EXPORT_LIST is not among them: a nurse holds it for her own list, which leaves through the
# export gate (registered terminal, audited, encrypted by default); the clipboard is none of
# those, so holding it alone must not open the clipboard.
COPY_CAPABILITIES = (roles.EXPORT_FLAGS, roles.EXPORT_IDMAP, roles.EXPORT_AUDIT, roles.EXPORT_PLAN)


def may_copy(session) -> bool:
    return any(session.can(c) for c in COPY_CAPABILITIES)


def refusal_text() -> str:
    return QCoreApplication.translate("Clipboard", "Your role may not copy case data to the clipboard.")


def copy_text(session, text: str) -> bool:
    """Put ``text`` on the clipboard if the role may; returns whether it did."""
    if not may_copy(session):
        return False
    QGuiApplication.clipboard().setText(text)
    return True


class ClipboardGuard(QObject):
    """Clears what this application copied when the session's role may not copy."""

    def __init__(self, session, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.cleared = 0
        self._clipboard = QGuiApplication.clipboard()
        self._clipboard.dataChanged.connect(self._on_changed)

    def _on_changed(self) -> None:
        if self._clipboard is None or may_copy(self.session) or not self._clipboard.text(QClipboard.Mode.Clipboard):
            return
        # ownsClipboard() is unreliable on some platforms (offscreen, Wayland): the guard
        # runs while our window is active, so what changed came from this application.
        if (QGuiApplication.applicationState() != Qt.ApplicationState.ApplicationActive
                and not self._clipboard.ownsClipboard()):
            return
        self.cleared += 1
        self._clipboard.clear(QClipboard.Mode.Clipboard)

    def detach(self) -> None:
        if self._clipboard is None:
            return
        try:
            self._clipboard.dataChanged.disconnect(self._on_changed)
        except (RuntimeError, TypeError):
            pass
        self._clipboard = None
