"""The import view: folder → import → reconciliation, quarantine, review decisions, export."""

from __future__ import annotations

import pytest

from app.engine.ingest.sample import write_sample_delivery
from app.views.context import AppContext
from app.views.worker import ImmediateWorker


@pytest.fixture
def view(qtbot, new_store):
    from app.views.import_view import ImportView

    widget = ImportView(AppContext(new_store, ImmediateWorker()))
    qtbot.addWidget(widget)
    return widget


def test_import_fills_reconciliation_quarantine_and_review(view, tmp_path):
    assert not view.import_button.isEnabled()
    view.set_folder(write_sample_delivery(tmp_path / "d1"))
    view.start_import()
    files = view.files_model.frame
    assert len(files) == 7
    assert (files["rows_read"] == files["rows_imported"] + files["rows_quarantined"]).all()
    assert view.quarantine_model.rowCount() == 6
    assert view.review_model.rowCount() == 1 and view.duplicates_model.rowCount() >= 2
    assert "取り込み" in view.status_label.text() or "Import" in view.status_label.text()
    # Headers are translated (Japanese UI).
    from PySide6.QtCore import Qt

    headers = [view.files_model.headerData(i, Qt.Orientation.Horizontal) for i in range(6)]
    assert "ファイル" in headers


def test_review_accept_links_and_empties_the_list(view, tmp_path, new_store):
    view.set_folder(write_sample_delivery(tmp_path / "d1"))
    view.start_import()
    candidate = view.review_model.row(0)["candidate_id"]
    view.decide(0, accept=True)
    assert view.review_model.rowCount() == 0
    rid = new_store.conn.execute("SELECT research_id FROM idmap WHERE file='RECEIPTC.UKE' AND line=9").fetchone()[0]
    assert rid == candidate


def test_reimport_says_nothing_changed(view, tmp_path):
    view.set_folder(write_sample_delivery(tmp_path / "d1"))
    view.start_import()
    view.start_import()
    assert "変更" in view.status_label.text() or "nothing changed" in view.status_label.text()


def test_fatal_file_is_reported_with_its_name(view, tmp_path):
    folder = write_sample_delivery(tmp_path / "d1")
    (folder / "yobo.csv").write_text("宛名番号,氏名\n1,a\n", encoding="utf-8")
    view.set_folder(folder)
    view.start_import()
    assert "yobo.csv" in view.status_label.text()
    assert view.files_model.rowCount() == 0


def test_quarantine_export_goes_through_the_gate(view, tmp_path, new_store):
    from app.store.terminals import register_terminal

    view.set_folder(write_sample_delivery(tmp_path / "d1"))
    view.start_import()
    view.export_quarantine_to(str(tmp_path / "q.csv"), None)       # no passphrase: refused
    assert not (tmp_path / "q.csv.mmx").exists()
    register_terminal(new_store)
    view.export_quarantine_to(str(tmp_path / "q.csv"), "export-pass-1234!")
    assert (tmp_path / "q.csv.mmx").exists()
    assert b"2021-02-30" not in (tmp_path / "q.csv.mmx").read_bytes()
