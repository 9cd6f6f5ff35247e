"""Why a list is empty for a user without an area: one small helper any view can call.

A nurse account without a health-welfare centre or district sees no children (need to
know). The window must say so instead of showing an empty table that looks like "no
children need support".
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel, QWidget


def no_area_message(session) -> str | None:
    """The Japanese explanation when the session sees no district, else None."""
    if session.visible_districts() == []:
        return QCoreApplication.translate(
            "AreaNotice", "Your account has no area (health-welfare centre or district) assigned, "
            "so no children are shown. Ask the data administrator to set your area.")
    return None


def area_notice_label(session, parent: QWidget | None = None) -> QLabel | None:
    """A banner label for the top of a view, or None when the user has an area."""
    text = no_area_message(session)
    if text is None:
        return None
    label = QLabel(text, parent)
    label.setObjectName("areaNotice")
    label.setWordWrap(True)
    label.setStyleSheet("background: #fff3cd; color: #5c4400; padding: 8px; border: 1px solid #e0c060;")
    return label
