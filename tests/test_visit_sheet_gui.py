"""The list's print action on a real store: the gate refuses on an unregistered terminal *before*
any file dialog (naming who can register it); on a registered one the sheet is written sealed,
the dialog opening in the documents folder with a dated name."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PASSWORD, open_as

PASSPHRASE = "visit-sheet-Pass-9876"


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    from app.engine.synth import generate_delivery
    from app.store.accounts import add_user
    from app.store.importing import import_delivery
    from app.store.opening import create_store
    from app.store.scoring_runs import run_active_rulesets

    base = tmp_path_factory.mktemp("sheet_gui")
    generate_delivery(base / "delivery", children=120, seed=11)
    admin = create_store(base / "store.db", "admin", PASSWORD)
    add_user(admin, "nurse", "nurse", PASSWORD, areas=["中央"])
    import_delivery(admin, base / "delivery")
    run_active_rulesets(admin)
    admin.close()
    return base / "store.db"


def _view(qtbot, session):
    from app.views.context import AppContext, Selection
    from app.views.list_view import ListView
    from app.views.worker import ImmediateWorker

    view = ListView(AppContext(session, ImmediateWorker(), Selection()))
    qtbot.addWidget(view)
    view.reload()
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=20000)
    view.table.selectRow(0)
    return view


def test_unregistered_terminal_refused_before_the_file_dialog(small_store, qtbot, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from app.views import export_dialogs as vs

    calls = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: calls.append(("warning", a[2]))))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: calls.append(("file",)) or ("", "")))
    monkeypatch.setattr(vs, "ask_encryption", lambda *a: calls.append(("encryption",)))
    nurse = open_as(small_store, "nurse")
    try:
        view = _view(qtbot, nurse)
        view._sheet_clicked()
        refused = nurse.conn.execute("SELECT count(*) FROM audit_log WHERE action = 'export_refused'").fetchone()[0]
    finally:
        nurse.close()
    assert [c[0] for c in calls] == ["warning"]           # no encryption question, no file dialog
    assert "登録されていません" in calls[0][1] and "データ管理担当" in calls[0][1]
    assert refused >= 1


def test_registered_terminal_writes_a_sealed_dated_sheet(small_store, qtbot, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    from app.store.exports import decrypt_container
    from app.store.terminals import register_terminal
    from app.views import export_dialogs as vs

    admin = open_as(small_store, "admin")
    register_terminal(admin, "test")
    admin.close()
    asked = {}

    def save_dialog(parent, title, start, pattern):
        asked.update(start=start, pattern=pattern)
        return str(tmp_path / Path(start).name), pattern

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_dialog))
    monkeypatch.setattr(vs, "ask_encryption", lambda *a: (True, PASSPHRASE, False))
    nurse = open_as(small_store, "nurse")
    try:
        view = _view(qtbot, nurse)
        pid = view.table.selected_people()[0]
        view._sheet_clicked()
    finally:
        nurse.close()
    start = Path(asked["start"])
    assert start.parent == vs.documents_folder()
    assert start.name.startswith("訪問シート_") and start.name.endswith(f"_{pid}.pdf.mmx")
    written = Path(view.last_sheet["path"])
    assert written.parent == tmp_path and written.suffix == ".mmx"
    _, payload = decrypt_container(written.read_bytes(), PASSPHRASE)
    assert payload.startswith(b"%PDF")


def test_evidence_pane_views_are_audited_like_timeline_views(small_store, qtbot):
    import json

    nurse = open_as(small_store, "nurse")
    try:
        view = _view(qtbot, nurse)
        pid = view.table.selected_people()[0]
        qtbot.waitUntil(lambda: nurse.conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'view_child' AND object_ids LIKE ?",
            (f"%{pid}%",)).fetchone()[0] > 0, timeout=10000)
        detail = nurse.conn.execute("SELECT detail FROM audit_log WHERE action = 'view_child' AND object_ids LIKE ? "
                                    "ORDER BY seq DESC LIMIT 1", (f"%{pid}%",)).fetchone()[0]
    finally:
        nurse.close()
    assert json.loads(detail)["view"] == "evidence"


@pytest.mark.parametrize("role_user, view_name, method", [
    ("chief", "staffing", "export"), ("chief", "staffing", "print_page"),
    ("auditor", "audit", "export"), ("admin", "import", "export_quarantine")])
def test_every_export_entry_point_asks_the_gate_before_any_dialog(store_with_roles, qtbot, monkeypatch,
                                                                  role_user, view_name, method):
    """Staffing export/print, audit-log export, quarantine export: on an unregistered terminal the
    refusal (naming who can register it) comes first, and no question or file dialog opens."""
    from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

    from app.views.context import AppContext
    from app.views.worker import ImmediateWorker

    calls = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: calls.append(("warning", a[2]))))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: calls.append(("question",))))
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: calls.append(("text",)) or ("", False)))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: calls.append(("file",)) or ("", "")))
    session = store_with_roles if role_user == "admin" else open_as(store_with_roles.db_path, role_user)
    try:
        if view_name == "staffing":
            from app.views.staffing_view import StaffingView as View
        elif view_name == "audit":
            from app.views.audit_view import AuditView as View
        else:
            from app.views.import_view import ImportView as View
        view = View(AppContext(session, ImmediateWorker()))
        qtbot.addWidget(view)
        getattr(view, method)()
    finally:
        if session is not store_with_roles:
            session.close()
    assert [c[0] for c in calls] == ["warning"], calls
    assert "登録されていません" in calls[0][1] and "データ管理担当" in calls[0][1]
