"""The subject-access report (開示請求) on paper: an A4 landscape PDF, in memory.

The rows come from ``app.engine.subject_access.build_report`` through the store's gate; this
module only draws them (Qt's own printing: QTextDocument on a QPdfWriter with the print font,
so the PDF's text layer is searchable). Every page carries the footer (who, when, terminal)
and its page number; the decision columns are left blank for the disclosure officer's pen.
"""

from __future__ import annotations

import html

import pandas as pd

HEADING = "個人情報開示請求 対象記録一覧（取扱注意・開示判断用）"
NOTE = ("この一覧は見守りが保有する記録のすべてです。開示区分と不開示候補は判断の手がかりにすぎず、"
        "開示・不開示は開示担当者が決定します。✕の記録・児童相談所の記録・DV情報は本人に渡す前に必ず判断してください。")


def report_html(report: pd.DataFrame, title: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in report.columns)
    rows = []
    for values in report.itertuples(index=False):
        cells = "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in values)
        rows.append(f"<tr>{cells}</tr>")
    from app.engine.subject_access import summary

    counts = summary(report)
    by_class = "　".join(f"{mark} {n}件" for mark, n in counts["by_class"].items())
    return (f"<h3>{html.escape(HEADING)}</h3><p>{html.escape(title)}　記録 {counts['records']}件"
            f"（{by_class}）　不開示候補 {counts['candidates']}件</p><p>{html.escape(NOTE)}</p>"
            "<table width='100%' border='1' cellspacing='0' cellpadding='2' style='border-collapse:collapse'>"
            f"<tr>{head}</tr>{''.join(rows)}</table>")


def subject_pdf_bytes(report: pd.DataFrame, title: str, footer: str) -> bytes:
    """The A4 landscape PDF of ``report`` with ``footer`` and page numbers on every page."""
    from app.views.pdf_document import PageStyle, html_pdf

    pdf, _pages = html_pdf(report_html(report, title), footer,
                           PageStyle(HEADING, landscape=True, margins_mm=(10, 10, 10, 14), body_pt=7,
                                     footer_pt=6, footer_title="開示請求"))
    return pdf
