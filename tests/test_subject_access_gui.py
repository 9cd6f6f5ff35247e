"""The family's 開示請求 from the data office's window (users view, last tab): the records shown
with their disclosure classes, an unknown ID explained, and the officer's PDF written through the
export gate — encrypted by default, refused on an unregistered terminal, every step audited."""

from __future__ import annotations

import shutil

import pytest

from app.store.keyslots import slot_path
from app.views import export_dialogs
from app.views.context import AppContext
from app.views.users_view import UsersView
from app.views.worker import ImmediateWorker
from conftest import open_as


@pytest.fixture
def admin(tmp_path, scored_store):
    path = tmp_path / "copy.db"
    shutil.copy(scored_store, path)
    shutil.copy(slot_path(scored_store), slot_path(path))
    session = open_as(path, "admin")
    yield session
    session.close()


def _view(qtbot, session) -> UsersView:
    view = UsersView(AppContext(session, ImmediateWorker()))
    qtbot.addWidget(view)
    return view


def _a_child(session) -> str:
    return session.conn.execute("SELECT person_id FROM persons WHERE kind='child' AND household_id <> ''"
                                " ORDER BY person_id LIMIT 1").fetchone()[0]


def _audit(session, action: str) -> int:
    return session.conn.execute("SELECT count(*) FROM audit_log WHERE action=?", (action,)).fetchone()[0]


def test_records_are_shown_with_their_disclosure_class(qtbot, admin):
    view = _view(qtbot, admin)
    assert view.tabs.tabText(view.tabs.count() - 1) == "開示請求"
    person = _a_child(admin)
    before = _audit(admin, "subject_access")
    view.subject_id.setText(person)
    view.show_subject()
    assert view.subject_table.rowCount() > 0 and view.subject_pdf_button.isEnabled()
    assert f"研究用ID {person}" in view.subject_summary.text() and "不開示候補" in view.subject_summary.text()
    header = [view.subject_table.horizontalHeaderItem(c).text() for c in range(view.subject_table.columnCount())]
    assert "開示区分" in header and "不開示候補の理由" in header
    alone = view.subject_table.rowCount()
    view.subject_household.setChecked(True)
    view.show_subject()
    assert view.subject_table.rowCount() >= alone and "世帯を含む" in view.subject_summary.text()
    assert _audit(admin, "subject_access") == before + 2     # every look is logged
    # another ID typed but not shown yet: no PDF of the records still on screen under it
    view.subject_id.setText("")
    qtbot.keyClicks(view.subject_id, "12345678")
    assert not view.subject_pdf_button.isEnabled()
    view.subject_id.setText(person)
    view.subject_id.textEdited.emit(person)
    assert view.subject_pdf_button.isEnabled()
    view.subject_household.setChecked(False)
    assert not view.subject_pdf_button.isEnabled()


def test_an_unknown_id_is_explained(qtbot, admin):
    view = _view(qtbot, admin)
    view.subject_id.setText("99999999")
    view.show_subject()
    assert "研究用ID 99999999 の記録はありません" in view.subject_summary.text()
    assert view.subject_table.rowCount() == 0 and not view.subject_pdf_button.isEnabled()


def test_the_officer_pdf_goes_through_the_gate(qtbot, admin, tmp_path, monkeypatch):
    from app.store.terminals import register_terminal

    view = _view(qtbot, admin)
    view.subject_id.setText(_a_child(admin))
    view.show_subject()
    out = tmp_path / "report.mmx"
    asked = []
    monkeypatch.setattr(export_dialogs, "refusal_box", lambda parent, title, message: asked.append(message))
    monkeypatch.setattr(export_dialogs, "ask_encryption", lambda parent, title: (True, "Kaiji-seikyu-2026!", False))
    monkeypatch.setattr(export_dialogs, "ask_save_path", lambda parent, title, name, encrypt: str(out))
    # an unregistered terminal: refused before any dialog, nothing written
    view.write_subject_report()
    assert asked and "登録されていません" in asked[0] and not out.exists()
    register_terminal(admin, "窓口1")
    before = _audit(admin, "export")
    view.write_subject_report()
    data = out.read_bytes()
    assert data and not data.startswith(b"%PDF")          # sealed, not a plain PDF
    assert "一覧を書き出しました" in view.message_label.text() and "暗号化" in view.message_label.text()
    assert _audit(admin, "export") == before + 1
