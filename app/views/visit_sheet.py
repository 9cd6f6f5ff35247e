"""The visit sheet on paper: A4 PDF with Qt's own printing (QTextDocument on a QPdfWriter).

Content comes from ``app/engine/visit_sheet.py``; printing goes through the export gate
(``app.store.exports.authorize_print``: registered terminal, role, audit) and every page
carries the gate's footer (user, time, terminal). The staff-only facts start on their own
page under an unmistakable heading, so the first page can lie on the family's table.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument

from app.engine.visit_sheet import DISCUSS, STAFF, VisitSheet, build_sheets
from app.views.theme import DISCLOSURE_STYLE, JAPANESE_FAMILIES

DISCUSS_HEAD = f"{DISCLOSURE_STYLE[DISCUSS][1]} ご家族と話してよい事実"
STAFF_HEAD = f"{DISCLOSURE_STYLE[STAFF][1]} 職員のみ — ご家族に伝えない・見せないこと"


def prepare_visit_sheets(session, person_ids: list[str], run_id=None) -> tuple[list[VisitSheet], str]:
    """Check and log the print at the gate, then gather the sheets (worker thread, no Qt)."""
    from app.store import roles
    from app.store.exports import authorize_print
    from app.store.queries.worklist import child_evidence

    session.require(roles.PRINT_VISIT_SHEET)
    footer = authorize_print(session, roles.PRINT_VISIT_SHEET, "visit_sheet", list(person_ids))
    evidences = [child_evidence(session, pid, run_id=run_id) for pid in person_ids]
    return build_sheets(evidences), footer


def _facts_table(facts, colour: str) -> str:
    if not facts:
        return "<p>（該当なし）</p>"
    rows = "".join(
        f"<tr><td width='16%'>{html.escape(f.date)}</td><td>{html.escape(f.text)}</td>"
        f"<td width='24%' style='color:#555'>{html.escape(f.source)}</td></tr>" for f in facts)
    return (f"<table width='100%' cellspacing='0' cellpadding='3' border='1' "
            f"style='border-color:{colour}; border-collapse:collapse'>{rows}</table>")


def sheet_html(sheets: list[VisitSheet]) -> str:
    """The whole document as Qt rich text (one child per page, staff facts on the next page)."""
    green, orange = DISCLOSURE_STYLE[DISCUSS][0], DISCLOSURE_STYLE[STAFF][0]
    never_symbol = DISCLOSURE_STYLE["never"][1]
    parts = []
    for i, s in enumerate(sheets):
        brk = " style='page-break-before:always'" if i else ""
        parts.append(f"<h2{brk}>訪問準備シート　{html.escape(s.title)}</h2>")
        parts.append(f"<p>{html.escape(s.meta)}</p>")
        parts.append("<h3>連絡のきっかけ（ご家族がご存じの事実から）</h3><ul>"
                     + "".join(f"<li>{html.escape(p)}</li>" for p in s.pretexts) + "</ul>")
        parts.append(f"<h3 style='color:{green}'>{DISCUSS_HEAD}</h3>")
        parts.append(_facts_table(s.discuss, green))
        parts.append("<h3>伺うこと</h3><ul>" + "".join(f"<li>{html.escape(q)}</li>" for q in s.questions) + "</ul>")
        parts.append(f"<h2 style='page-break-before:always; color:{orange}'>{STAFF_HEAD}</h2>")
        parts.append(f"<p style='color:{orange}'><b>{DISCLOSURE_STYLE[STAFF][1]} このページは職員用です。"
                     f"ご家族に見せたり読み上げたりしないでください。</b>（{html.escape(s.title)}）</p>")
        parts.append(_facts_table(s.staff, orange))
        parts.append(f"<p style='color:#555'>{never_symbol} 「伝えてはならない」区分の事実は印刷されません"
                     f"（{s.omitted_never}件を除外）。</p>")
    return "".join(parts)


def _font() -> QFont:
    families = set(QFontDatabase.families())
    for family in JAPANESE_FAMILIES:
        if family in families:
            return QFont(family, 10)
    return QFont()


def render_pdf(sheets: list[VisitSheet], path: str | Path, footer: str) -> dict:
    """Write ``sheets`` to an A4 PDF at ``path`` with ``footer`` and page numbers on every page."""
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(15, 12, 15, 18), QPageLayout.Unit.Millimeter)
    writer.setResolution(150)
    writer.setTitle("訪問準備シート")
    writer.setCreator("Mimamori")
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"PDF を書き込めません: {path}")
    try:
        doc = QTextDocument()
        doc.documentLayout().setPaintDevice(writer)
        doc.setDefaultFont(_font())
        doc.setHtml(sheet_html(sheets))
        page = writer.pageLayout().paintRectPixels(writer.resolution())
        footer_h = int(writer.resolution() * 0.35)
        body = QSizeF(page.width(), page.height() - footer_h)
        doc.setPageSize(body)
        pages = max(1, doc.pageCount())
        small = _font()
        small.setPointSizeF(7.5)
        for n in range(pages):
            if n:
                writer.newPage()
            painter.save()
            painter.translate(0, -n * body.height())
            doc.drawContents(painter, QRectF(0, n * body.height(), body.width(), body.height()))
            painter.restore()
            painter.setFont(small)
            painter.setPen(QColor("#333333"))
            painter.drawText(QRectF(0, body.height() + 4, body.width(), footer_h - 4),
                             int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                             f"見守り 訪問準備シート（取扱注意）  {footer}")
            painter.drawText(QRectF(0, body.height() + 4, body.width(), footer_h - 4),
                             int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), f"{n + 1}/{pages}")
    finally:
        painter.end()
    return {"path": str(path), "pages": pages, "children": len(sheets)}
