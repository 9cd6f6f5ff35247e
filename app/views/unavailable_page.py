"""The honest page for a view that is not built yet, or that this role may not open."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class MessagePage(QWidget):
    """A calm, centred message: a heading and an explanation."""

    def __init__(self, heading: str, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        title = QLabel(heading)
        title.setObjectName("pageHeading")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body = QLabel(text)
        body.setWordWrap(True)
        body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body.setFixedWidth(620)
        body.setMinimumHeight(body.heightForWidth(620))
        layout.addWidget(title)
        layout.addWidget(body, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        self.setProperty("ready", True)


class NotAvailablePage(MessagePage):
    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(
            self.tr("%1: not available yet").replace("%1", title),
            self.tr("This view has not been built yet. Nothing is shown here, so that no one "
                    "mistakes sample data for real data."),
            parent)
