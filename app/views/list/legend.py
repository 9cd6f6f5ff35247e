"""Disclosure classes: the icon (shape + colour) and the always-visible legend.

Colour is never the only cue (DOMAIN.md): each class has its own shape (○ △ ✕), its own
Okabe–Ito colour and a text label, and the legend explains all three.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from app.views.theme import DISCLOSURE_STYLE, disclosure_colour, disclosure_label, disclosure_symbol

CLASSES = ("discuss", "staff", "never")
_ICON_CACHE: dict[tuple[str, int], QPixmap] = {}


def disclosure_pixmap(cls: str, size: int = 16) -> QPixmap:
    """A small drawing of the class's shape in its colour: circle, triangle or cross."""
    key = (cls, size)
    if key in _ICON_CACHE:
        return _ICON_CACHE[key]
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = disclosure_colour(cls)
    pen = QPen(colour, max(2.0, size / 7))
    p.setPen(pen)
    m = size * 0.18
    r = QRectF(m, m, size - 2 * m, size - 2 * m)
    if cls == "discuss":
        p.drawEllipse(r)
    elif cls == "staff":
        path = QPainterPath(QPointF(r.center().x(), r.top()))
        path.lineTo(r.bottomRight())
        path.lineTo(r.bottomLeft())
        path.closeSubpath()
        p.setBrush(QColor(colour.red(), colour.green(), colour.blue(), 90))
        p.drawPath(path)
    else:
        p.drawLine(r.topLeft(), r.bottomRight())
        p.drawLine(r.topRight(), r.bottomLeft())
    p.end()
    _ICON_CACHE[key] = pm
    return pm


def disclosure_icon(cls: str) -> QIcon:
    return QIcon(disclosure_pixmap(cls, 16))


def disclosure_text(cls: str) -> str:
    """Symbol and label together, e.g. "△ 職員のみ": readable without colour."""
    return f"{disclosure_symbol(cls)} {disclosure_label(cls)}"


class DisclosureLegend(QWidget):
    """One line, always visible above the evidence: what each mark means."""

    def __init__(self, parent=None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        title = QLabel(self.tr("Legend:"))
        title.setStyleSheet("font-weight:600;")
        row.addWidget(title)
        self.items: dict[str, QLabel] = {}
        for cls in CLASSES:
            icon = QLabel()
            icon.setPixmap(disclosure_pixmap(cls, 18))
            row.addWidget(icon)
            text = QLabel(disclosure_text(cls))
            text.setStyleSheet(f"color:{DISCLOSURE_STYLE[cls][0]}; font-weight:600;")
            text.setObjectName(f"legend_{cls}")
            row.addWidget(text)
            self.items[cls] = text
            row.addSpacing(10)
        row.addStretch(1)
