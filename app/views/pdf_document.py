"""One way to put an HTML document on A4 pages as a PDF, in memory.

Qt's own printing (QTextDocument on a QPdfWriter) with the print font, whose text layer is
real text (app/views/pdf_font.py); the body is paginated by the document and each page gets
the "取扱注意" footer (what, who printed it, when, on which terminal) and its page number. The
bytes never touch the disk here: the export gate writes them, sealed unless plain was chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QBuffer, QIODevice, QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument

from app.views.pdf_font import print_font


@dataclass(frozen=True)
class PageStyle:
    title: str                                   # the PDF's title and the footer's first words
    landscape: bool = False
    margins_mm: tuple[float, float, float, float] = (15, 12, 15, 18)   # left, top, right, bottom
    body_pt: float = 10
    footer_pt: float = 7.5
    footer_title: str = ""                       # a shorter name for the footer (default: title)


def html_pdf(body_html: str, footer: str, style: PageStyle) -> tuple[bytes, int]:
    """``body_html`` on A4 pages with ``footer`` and page numbers; (PDF bytes, page count)."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    if style.landscape:
        writer.setPageOrientation(QPageLayout.Orientation.Landscape)
    writer.setPageMargins(QMarginsF(*style.margins_mm), QPageLayout.Unit.Millimeter)
    writer.setResolution(150)
    writer.setTitle(style.title)
    writer.setCreator("Mimamori")
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError("PDF を作成できません")
    try:
        doc = QTextDocument()
        doc.documentLayout().setPaintDevice(writer)
        # The print font keeps the PDF's text layer real (大津, not the Kangxi radical ⼤津).
        doc.setDefaultFont(print_font(style.body_pt))
        doc.setHtml(body_html)
        page = writer.pageLayout().paintRectPixels(writer.resolution())
        footer_h = int(writer.resolution() * 0.35)
        body = QSizeF(page.width(), page.height() - footer_h)
        doc.setPageSize(body)
        pages = max(1, doc.pageCount())
        small = print_font(style.footer_pt)
        for n in range(pages):
            if n:
                writer.newPage()
            painter.save()
            painter.translate(0, -n * body.height())
            doc.drawContents(painter, QRectF(0, n * body.height(), body.width(), body.height()))
            painter.restore()
            painter.setFont(small)
            painter.setPen(QColor("#333333"))
            rect = QRectF(0, body.height() + 4, body.width(), footer_h - 4)
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                             f"見守り {style.footer_title or style.title}（取扱注意）  {footer}")
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                             f"{n + 1}/{pages}")
    finally:
        painter.end()
    buffer.close()
    return bytes(buffer.data()), pages
