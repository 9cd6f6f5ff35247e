"""Application-wide look: a calm palette, Japanese fonts, and the disclosure colours.

Disclosure classes are always shown by colour AND an icon AND a text label; colour is
never the only cue (DOMAIN.md). The colours are from the Okabe–Ito palette, which stays
distinguishable under the common colour-vision deficiencies.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor, QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

# class -> (colour, symbol, pyqtgraph symbol)
DISCLOSURE_STYLE = {
    "discuss": ("#009E73", "○", "o"),   # bluish green: may discuss with the family
    "staff": ("#E69F00", "△", "t1"),    # orange: staff only
    "never": ("#D55E00", "✕", "x"),     # vermillion: never reveal
}


def disclosure_label(cls: str) -> str:
    labels = {
        "discuss": QCoreApplication.translate("Disclosure", "May discuss with the family"),
        "staff": QCoreApplication.translate("Disclosure", "Staff only"),
        "never": QCoreApplication.translate("Disclosure", "Never reveal"),
    }
    return labels.get(cls, cls)


def disclosure_colour(cls: str) -> QColor:
    return QColor(DISCLOSURE_STYLE.get(cls, ("#777777", "?", "o"))[0])


def disclosure_symbol(cls: str) -> str:
    return DISCLOSURE_STYLE.get(cls, ("#777777", "?", "o"))[1]


JAPANESE_FAMILIES = ("Noto Sans CJK JP", "IPAexGothic", "Yu Gothic UI", "Meiryo UI", "Meiryo", "MS UI Gothic")

STYLESHEET = """
QWidget { font-size: 10.5pt; }
QLabel#pageHeading { font-size: 15pt; font-weight: 600; color: #2b3a42; }
QLabel#demoBadge { background: #fff3c4; color: #5c4400; border: 1px solid #d9b84a;
                   border-radius: 3px; padding: 2px 8px; font-weight: 600; }
QListWidget#navigation { background: #f3f5f7; border: none; border-right: 1px solid #d5dbe0;
                         font-size: 11pt; }
QListWidget#navigation::item { padding: 10px 14px; }
QListWidget#navigation::item:selected { background: #dbe7f0; color: #14323f; }
QLabel#banner { background: #eef4f8; border: 1px solid #c8d8e4; padding: 6px 10px; color: #1f3b4d; }
"""


def apply_theme(app: QApplication) -> None:
    families = set(QFontDatabase.families())
    for family in JAPANESE_FAMILIES:
        if family in families:
            font = QFont(family)
            font.setPointSizeF(10.5)
            app.setFont(font)
            break
    app.setStyleSheet(STYLESHEET)
