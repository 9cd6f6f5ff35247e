"""Every tab of every view, for every role that opens it, shows a person Japanese only: no source
key, role or action code, raw English word, UTC offset, ISO timestamp or JSON.

The views are opened the way ``python -m app snapshot --tab N`` opens them (the same functions),
on the session's small scored store, and everything they display is read back: widget texts,
combo items, tab titles, item-model cells and headers (the display role), and the texts drawn
in pyqtgraph scenes. Tooltips may carry the stored code on purpose (exact searches) and are not
walked; so are widgets marked ``machine_text`` (the rule-set TOML editor is a machine format).
"""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton, QAbstractItemView, QComboBox, QGraphicsSimpleTextItem, QGraphicsTextItem,
    QGraphicsView, QGroupBox, QHeaderView, QLabel, QLineEdit, QPlainTextEdit, QTabBar, QTextEdit, QWidget,
)

from app.commands.snapshot import dispose, open_view, select_tab, tab_count, wait_until_ready
from app.engine import catalogue
from app.store import roles
from app.views import registry
from app.views.audit_view import ACTION_LABELS_JA
from conftest import open_as

ACCOUNT_FOR_ROLE = {"nurse": "nurse", "cg_manager": "manager", "chief": "chief", "data_admin": "admin",
                    "auditor": "auditor"}
MAX_ROWS = 60  # rows read per model: the codes would show in the first rows as much as in any

# Words a person must never read on screen (matched as whole words, case-sensitive: the
# catalogue's "EPDS"/"DV" are Japanese usage, the keys "epds"/"dv" are not).
ENGLISH_WORDS = {"confirm", "keep", "person", "aggregates", "burst", "outside_area", "abuse", "postpartum",
                 "True", "False", "None", "nan", "NaN", "NaT"}


def internal_tokens() -> set[str]:
    return (set(catalogue.sources()) | set(roles.ROLES) | set(ACTION_LABELS_JA) | ENGLISH_WORDS)


FILE_NAME = re.compile(r"[\w.-]+\.(?:csv|CSV|xlsx|xls|uke|UKE|txt|json|toml)\b")
PATTERNS = [
    (re.compile(r"[+-]\d\d:\d\d\b"), "UTC offset"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d"), "ISO timestamp"),
    (re.compile(r"T\d\d:\d\d:\d\d"), "ISO time"),
    (re.compile(r"\{\s*\""), "JSON"),
]


def offending(text: str, tokens: set[str], accounts: set[str]) -> list[str]:
    """The internal tokens in ``text`` (a cell that is exactly an account name is a name)."""
    if not text or text.strip() in accounts:
        return []
    # A delivered file's name is what the data admin sees on disk (kenshin.csv): a name, not a code.
    text = FILE_NAME.sub("", text)
    found = [label for pattern, label in PATTERNS if pattern.search(text)]
    words = set(re.findall(r"(?<![A-Za-z0-9_])[A-Za-z][A-Za-z0-9_]*(?![A-Za-z0-9_])", text))
    found += sorted((words & tokens) - accounts)
    return found


def displayed_texts(page: QWidget):
    """(where, text) for everything the page displays."""
    for w in [page, *page.findChildren(QWidget)]:
        if w.property("machine_text"):
            continue
        name = type(w).__name__
        if isinstance(w, (QLabel, QAbstractButton)):
            yield name, w.text()
        elif isinstance(w, QGroupBox):
            yield name, w.title()
        elif isinstance(w, QLineEdit):
            yield name, w.text()
            yield name, w.placeholderText()
        elif isinstance(w, (QTextEdit, QPlainTextEdit)):
            yield name, w.toPlainText()
        if isinstance(w, QTabBar):
            for i in range(w.count()):
                yield name, w.tabText(i)
        if isinstance(w, QComboBox):
            for i in range(w.count()):
                yield name, w.itemText(i)
        if isinstance(w, QAbstractItemView) and not isinstance(w, QHeaderView) and w.model() is not None:
            model = w.model()
            hidden = getattr(w, "isColumnHidden", lambda c: False)
            columns = [c for c in range(model.columnCount()) if not hidden(c)]
            for c in columns:
                yield f"{name} header", str(model.headerData(c, Qt.Orientation.Horizontal) or "")
            for r in range(min(model.rowCount(), MAX_ROWS)):
                for c in columns:
                    value = model.data(model.index(r, c), Qt.ItemDataRole.DisplayRole)
                    if value is not None:
                        yield f"{name} cell", str(value)
        if isinstance(w, QGraphicsView) and w.scene() is not None:
            for item in w.scene().items():
                if isinstance(item, QGraphicsTextItem):
                    yield "plot text", item.toPlainText()
                elif isinstance(item, QGraphicsSimpleTextItem):
                    yield "plot text", item.text()


def around(text: str, token: str) -> str:
    """The part of ``text`` where the token shows (what a reader of the failure needs)."""
    pattern = next((p for p, label in PATTERNS if label == token), None)
    m = pattern.search(text) if pattern else re.search(rf"(?<![A-Za-z0-9_]){re.escape(token)}(?![A-Za-z0-9_])", text)
    start = max(0, m.start() - 30) if m else 0
    return text[start:start + 80]


def a_child(session) -> str | None:
    districts = session.visible_districts()
    rows = session.conn.execute("SELECT person_id, district FROM persons WHERE kind='child' ORDER BY person_id")
    for pid, district in rows:
        if districts is None or district in districts:
            return pid
    return None


@pytest.mark.parametrize("role", list(ACCOUNT_FOR_ROLE))
def test_every_tab_shows_no_internal_code(qapp, scored_store, role):
    session = open_as(scored_store, ACCOUNT_FOR_ROLE[role])
    tokens = internal_tokens()
    accounts = {r[0] for r in session.conn.execute("SELECT name FROM users")} \
        if session.conn.execute("SELECT 1 FROM sqlite_master WHERE name='users'").fetchone() else set()
    accounts |= set(ACCOUNT_FOR_ROLE.values()) | {"nurse_noarea"}
    problems: list[str] = []
    seen_tabs = 0
    try:
        for spec in registry.views_for(session):
            child = a_child(session) if spec.key == "timeline" else None
            app, window, page = open_view(session, spec.key, child, (1366, 768))
            try:
                for tab in range(tab_count(page)):
                    select_tab(page, tab)
                    wait_until_ready(app, page, timeout_s=20)
                    seen_tabs += 1
                    for where, text in displayed_texts(page):
                        for token in offending(text, tokens, accounts):
                            problems.append(f"{spec.key} tab {tab} {where}: {token!r} in {around(text, token)!r}")
            finally:
                dispose(app, window)
    finally:
        session.close()
    assert seen_tabs >= 1
    assert not problems, f"{len(problems)} internal codes shown to {role}:\n" + "\n".join(
        sorted(set(problems))[:60])


def test_the_check_finds_what_it_looks_for():
    tokens = internal_tokens()
    assert offending("2026-11-29T10:43:01+00:00", tokens, set()) == ["UTC offset", "ISO timestamp", "ISO time"]
    assert offending('{"kanji_level": "exact"}', tokens, set()) == ["JSON"]
    assert offending("jisou 2025-03-01", tokens, set()) == ["jisou"]
    assert offending("confirm", tokens, set()) == ["confirm"]
    assert offending("ログイン（login）", tokens, set()) == ["login"]
    assert offending("EPDS 2025/03/17", tokens, set()) == []
    assert offending("nurse", tokens, {"nurse"}) == []  # an account called nurse is a name
    assert offending("保健師 cg_manager", tokens, {"nurse"}) == ["cg_manager"]


def test_every_action_the_app_records_has_a_japanese_label():
    # The auditor reads the log in Japanese: an action recorded anywhere in app/ (a literal
    # given to audit()/audit_alone()/record(action=…), or a constant of app.store.audit or of the
    # recording module) must be in ACTION_LABELS_JA, not shown as its code.
    import importlib
    import re
    from pathlib import Path

    from app.store import audit as audit_module

    root = Path(__file__).resolve().parents[1]
    constants = {k: v for k, v in vars(audit_module).items() if k.isupper() and isinstance(v, str)}
    recorded = set()
    for path in (root / "app").rglob("*.py"):
        text = path.read_text("utf-8")
        recorded |= set(re.findall(r'\b(?:audit|audit_alone)\(\s*"([a-z_]+)"', text))
        recorded |= set(re.findall(r'\brecord\((?:[^()]|\([^()]*\))*?\baction="([a-z_]+)"', text, re.S))
        module = importlib.import_module(".".join(path.relative_to(root).with_suffix("").parts))
        for name in re.findall(r'\b(?:audit|audit_alone)\(\s*([A-Z][A-Z_]+)\b', text):
            value = getattr(module, name, None) or constants.get(name)
            assert value, f"{path.name}: audit({name}) — cannot resolve the action"
            recorded.add(value)
    missing = sorted(a for a in recorded if a not in ACTION_LABELS_JA)
    assert not missing, f"actions without a Japanese label for the audit view: {missing}"
