"""The visit sheet on paper: A4 PDF with Qt's own printing (QTextDocument on a QPdfWriter).

Content comes from ``app/engine/visit_sheet.py``; printing goes through the export gate
(``app.store.exports``: registered terminal, role, encryption choice, audit) and every page
carries the gate's footer (user, time, terminal). The PDF is made in memory and written only
by the gate: sealed in an ``.mmx`` container unless plain was chosen after the warning. The
staff-only facts start on their own page under an unmistakable heading, so the first page can
lie on the family's table. Text is drawn with ``pdf_font.print_font`` so that the PDF's text
layer (search, copy, ``pdftotext``) is the text that was drawn.
"""

from __future__ import annotations

import datetime as dt
import html
import time
from dataclasses import dataclass
from pathlib import Path


from app.engine.visit_sheet import DISCUSS, NO_IDENTITY_NOTE, STAFF, VisitSheet, build_sheets
from app.views.pdf_document import PageStyle, html_pdf
from app.views.theme import DISCLOSURE_STYLE

DISCUSS_HEAD = f"{DISCLOSURE_STYLE[DISCUSS][1]} ご家族と話してよい事実"
STAFF_HEAD = f"{DISCLOSURE_STYLE[STAFF][1]} 職員のみ — ご家族に伝えない・見せないこと"
JST = dt.timezone(dt.timedelta(hours=9))


def prepare_visit_sheets(session, person_ids: list[str], run_id=None, reveal: bool = False, *,
                         encrypt: bool = True, passphrase: str | None = None,
                         plaintext_confirmed: bool = False) -> tuple[list[VisitSheet], str]:
    """Check and log the print at the gate, then gather the sheets (worker thread, no Qt).

    With ``reveal`` (the user chose 「氏名を表示」) the children's and guardians' names and the
    address come from the identity query, which requires the re-identification capability and
    logs the read. The encryption choice is checked here, before anything is gathered."""
    from app.store import roles
    from app.store.exports import authorize_print, check_allowed, check_encryption_choice
    from app.store.queries.worklist import child_evidence

    session.require(roles.PRINT_VISIT_SHEET)
    check_allowed(session, roles.PRINT_VISIT_SHEET)
    check_encryption_choice(encrypt, passphrase, plaintext_confirmed)
    footer = authorize_print(session, roles.PRINT_VISIT_SHEET, "visit_sheet", list(person_ids))
    evidences = [child_evidence(session, pid, run_id=run_id) for pid in person_ids]
    identities = None
    if reveal:
        from app.store.queries.identity import identities as identity_rows

        people = list(dict.fromkeys([str(ev.person_id) for ev in evidences] + [
            str(m.person_id) for ev in evidences for m in ev.household.itertuples(index=False)
            if len(ev.household)]))
        identities = identity_rows(session, people, purpose="visit_sheet")
    return build_sheets(evidences, identities), footer


def write_visit_sheet(session, pdf: bytes, path, *, encrypt: bool = True, passphrase: str | None = None,
                      plaintext_confirmed: bool = False, footer: str = "") -> Path:
    """Write the authorised sheet's PDF through the gate (sealed unless plain was chosen)."""
    from app.store import roles
    from app.store.exports import write_document

    return write_document(session, pdf, path, capability=roles.PRINT_VISIT_SHEET, content_type="pdf",
                          encrypt=encrypt, passphrase=passphrase, plaintext_confirmed=plaintext_confirmed,
                          footer=footer)


def default_file_name(person_ids: list[str], encrypt: bool = True, today: dt.date | None = None) -> str:
    """訪問シート_YYYYMMDD_<id>.pdf(.mmx): dated, one child's id (or the count for several)."""
    day = (today or dt.datetime.now(JST).date()).strftime("%Y%m%d")
    who = person_ids[0] if len(person_ids) == 1 else f"{len(person_ids)}人"
    return f"訪問シート_{day}_{who}.pdf" + (".mmx" if encrypt else "")


def _facts_table(facts, colour: str) -> str:
    if not facts:
        return "<p>（該当なし）</p>"
    rows = "".join(
        f"<tr><td width='14%'>{html.escape(f.date)}</td><td>{html.escape(f.text)}</td>"
        f"<td width='28%' style='color:#555'>{html.escape(f.source)}</td></tr>" for f in facts)
    return (f"<table width='100%' cellspacing='0' cellpadding='3' border='1' "
            f"style='border-color:{colour}; border-collapse:collapse'>{rows}</table>")


def _identity_html(sheet: VisitSheet) -> str:
    """Whom to visit and where; or, without the logged reveal, how to get it."""
    who = sheet.identity
    if who is None:
        return f"<p style='color:#555'>{html.escape(NO_IDENTITY_NOTE)}</p>"
    guardians = "、".join(f"{rel}：{name}" + (f"（{kana}）" if kana else "") for rel, name, kana in who.guardians)
    cells = [("氏名", who.name + (f"（{who.kana}）" if who.kana else "")), ("生年月日", who.birth_date),
             ("住所", who.address or "（住所の記録がありません）"), ("保護者", guardians or "（記録がありません）")]
    rows = "".join(f"<tr><td width='16%'><b>{k}</b></td><td>{html.escape(v)}</td></tr>" for k, v in cells)
    return f"<table width='100%' cellspacing='0' cellpadding='3' border='1' style='border-collapse:collapse'>{rows}</table>"


def sheet_html(sheets: list[VisitSheet]) -> str:
    """The whole document as Qt rich text (one child per page, staff facts on the next page)."""
    green, orange = DISCLOSURE_STYLE[DISCUSS][0], DISCLOSURE_STYLE[STAFF][0]
    never_symbol = DISCLOSURE_STYLE["never"][1]
    parts = []
    for i, s in enumerate(sheets):
        brk = " style='page-break-before:always'" if i else ""
        parts.append(f"<h2{brk}>訪問準備シート　{html.escape(s.title)}</h2>")
        parts.append(f"<p>{html.escape(s.meta)}</p>")
        parts.append(_identity_html(s))
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


@dataclass
class RenderedSheet:
    pdf: bytes
    pages: int
    children: int
    seconds: float


def pdf_bytes(sheets: list[VisitSheet], footer: str) -> RenderedSheet:
    """``sheets`` as an A4 PDF in memory, ``footer`` and page numbers on every page.

    Nothing touches the disk here: the gate writes the bytes (sealed unless plain was chosen)."""
    t0 = time.perf_counter()
    pdf, pages = html_pdf(sheet_html(sheets), footer, PageStyle("訪問準備シート"))
    return RenderedSheet(pdf, pages, len(sheets), time.perf_counter() - t0)
