"""The data_admin's import view: choose a delivery folder, import it with progress and cancel,
check the per-file reconciliation (read = imported + quarantined), read and export the
quarantine, and decide the linkage review list (accept / reject) and read the duplicate list.

Every store call runs on the worker (one thread owns the connection); the view never filters
by role itself — the queries in app/store/queries/linkage.py check the capabilities.

Run alone on a throw-away store with the sample delivery: ``python -m app.views.import_view``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractItemView, QFileDialog, QHBoxLayout, QInputDialog, QLabel, QLineEdit, QMessageBox,
    QPushButton, QTableView, QTabWidget, QVBoxLayout, QWidget,
)

from app.models.import_models import FrameTableModel, ReviewTableModel
from app.store import roles
from app.store.exports import ExportRefused, export_frame
from app.store.importing import ImportFailed, decide_review, import_delivery
from app.store.queries import linkage as linkage_q


def _table(model: FrameTableModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.horizontalHeader().setStretchLastSection(True)

    def fit_columns() -> None:
        # Every column but the last (which stretches) as wide as its text, within reason, so a
        # file name or a quarantine reason is readable rather than cut to "生年月日が…".
        for c in range(max(model.columnCount() - 1, 0)):
            view.resizeColumnToContents(c)
            view.setColumnWidth(c, min(view.columnWidth(c), 360))

    model.modelReset.connect(fit_columns)
    return view


class ImportView(QWidget):
    """See the module docstring. Public methods are also what the tests drive."""

    def __init__(self, context, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.session = context.session
        self.folder: Path | None = None
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.choose_button = QPushButton(self.tr("Choose delivery folder…"))
        self.choose_button.clicked.connect(self.choose_folder)
        self.folder_label = QLabel(self.tr("No folder chosen"))
        self.import_button = QPushButton(self.tr("Import"))
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.start_import)
        bar.addWidget(self.choose_button)
        bar.addWidget(self.folder_label, 1)
        bar.addWidget(self.import_button)
        layout.addLayout(bar)
        self.status_label = QLabel("")
        self.status_label.setObjectName("importStatus")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)

        self.tabs = QTabWidget()
        self.files_model = FrameTableModel({
            "file": self.tr("File"), "source": self.tr("Source"), "as_of": self.tr("Extracted on"),
            "rows_read": self.tr("Read"), "rows_imported": self.tr("Imported"),
            "rows_quarantined": self.tr("Quarantined")})
        self.tabs.addTab(_table(self.files_model), self.tr("Files"))

        quarantine_page = QWidget()
        q_layout = QVBoxLayout(quarantine_page)
        self.quarantine_model = FrameTableModel({
            "file": self.tr("File"), "line": self.tr("Line"), "reason": self.tr("Reason"),
            "raw": self.tr("Row as delivered")})
        q_layout.addWidget(_table(self.quarantine_model), 1)
        self.export_quarantine_button = QPushButton(self.tr("Export quarantine…"))
        self.export_quarantine_button.clicked.connect(self.export_quarantine)
        q_layout.addWidget(self.export_quarantine_button)
        self.tabs.addTab(quarantine_page, self.tr("Quarantine"))

        review_page = QWidget()
        r_layout = QVBoxLayout(review_page)
        self.review_model = ReviewTableModel({
            "file": self.tr("File"), "line": self.tr("Line"), "score": self.tr("Score"),
            "name_kanji": self.tr("Name in the row"), "name_kana": self.tr("Kana in the row"),
            "birth_date": self.tr("Birth date in the row"),
            "cand_name_kanji": self.tr("Candidate name"), "cand_name_kana": self.tr("Candidate kana"),
            "cand_birth_date": self.tr("Candidate birth date"), "evidence": self.tr("Evidence")})
        self.review_table = _table(self.review_model)
        r_layout.addWidget(self.review_table, 1)
        buttons = QHBoxLayout()
        self.accept_button = QPushButton(self.tr("Same person (link)"))
        self.reject_button = QPushButton(self.tr("Different person"))
        self.accept_button.clicked.connect(lambda: self.decide_selected(True))
        self.reject_button.clicked.connect(lambda: self.decide_selected(False))
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.reject_button)
        buttons.addStretch(1)
        r_layout.addLayout(buttons)
        self.tabs.addTab(review_page, self.tr("Review list"))

        self.duplicates_model = FrameTableModel({
            "kind": self.tr("Kind"), "person_a": self.tr("Research ID A"),
            "person_b": self.tr("Research ID B"), "detail": self.tr("Detail")})
        self.tabs.addTab(_table(self.duplicates_model), self.tr("Duplicate list"))
        layout.addWidget(self.tabs, 1)

        can_quarantine = self.session.can(roles.VIEW_QUARANTINE)
        can_review = self.session.can(roles.REVIEW_LINKAGE)
        self.export_quarantine_button.setEnabled(can_quarantine)
        self.accept_button.setEnabled(can_review)
        self.reject_button.setEnabled(can_review)
        # Its own import and decisions refresh it directly; a deletion elsewhere does too.
        context.on_store_changed(self, ("deletion",), lambda _kinds: self.refresh())
        self.refresh()

    # -- folder and import -------------------------------------------------------------
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose delivery folder"))
        if folder:
            self.set_folder(Path(folder))

    def set_folder(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder_label.setText(str(self.folder))
        self.import_button.setEnabled(True)

    def start_import(self) -> None:
        if self.folder is None:
            return
        self.import_button.setEnabled(False)
        self.status_label.setText(self.tr("Importing…"))
        self.context.worker.run(import_delivery, self.session, self.folder, changes="import", on_done=self._imported,
                                on_error=self._import_failed, progress_title=self.tr("Importing delivery"),
                                parent=self)

    def _imported(self, summary) -> None:
        self.import_button.setEnabled(True)
        if summary.already_imported:
            self.status_label.setText(self.tr("This delivery was already imported; nothing changed."))
        else:
            text = self.tr("Imported: %1 persons, %2 events; %3 rows quarantined, %4 waiting in review.")
            for i, n in enumerate((summary.persons, summary.events, summary.quarantined, summary.review), 1):
                text = text.replace(f"%{i}", str(n))
            if not summary.reconciled():
                text += " " + self.tr("Counts do not reconcile (read ≠ imported + quarantined).")
            self.status_label.setText(text)
        self.refresh()

    def _import_failed(self, error: BaseException) -> None:
        self.import_button.setEnabled(True)
        from app.engine.progress import Cancelled

        if isinstance(error, Cancelled):
            self.status_label.setText(self.tr("Import cancelled; the store is unchanged."))
        elif isinstance(error, ImportFailed):
            self.status_label.setText(self.tr("Import stopped; the store is unchanged.") + f" {error.file}: {error.reason}")
        else:
            self.status_label.setText(str(error) if isinstance(error, PermissionError)
                                      else self.tr("The import failed."))

    # -- tables ----------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the four tables from the store (each through its role-checked query)."""
        worker, session = self.context.worker, self.session
        if session.can(roles.IMPORT):
            worker.run(linkage_q.reconciliation, session, key="import.files", on_done=self._show_files,
                       on_error=self._error)
        if session.can(roles.VIEW_QUARANTINE):
            worker.run(linkage_q.quarantine, session, key="import.quarantine", on_done=self.quarantine_model.set_frame,
                       on_error=self._error)
        if session.can(roles.REVIEW_LINKAGE):
            worker.run(linkage_q.review_list, session, key="import.review", on_done=self.review_model.set_frame,
                       on_error=self._error)
            worker.run(linkage_q.duplicate_list, session, key="import.duplicates",
                       on_done=self.duplicates_model.set_frame,
                       on_error=self._error)

    def _show_files(self, frame) -> None:
        # データ種別 as the departments name it (住民基本台帳 …), not the internal key.
        from app.engine.ingest.profiles import source_specs

        kinds = {key: spec.kind for key, spec in source_specs().items()}
        self.files_model.set_frame(frame.assign(source=frame["source"].map(kinds).fillna(frame["source"])))

    def decide_selected(self, accept: bool) -> None:
        rows = self.review_table.selectionModel().selectedRows() if self.review_table.selectionModel() else []
        if not rows:
            self.status_label.setText(self.tr("Select a row of the review list first."))
            return
        self.decide(rows[0].row(), accept)

    def decide(self, row: int, accept: bool) -> None:
        """Accept or reject review row ``row`` (also used by tests)."""
        record_id = self.review_model.row(row)["record_id"]
        self.context.worker.run(decide_review, self.session, record_id, accept, changes="linkage",
                                on_done=lambda _: self._decided(accept), on_error=self._error)

    def _decided(self, accept: bool) -> None:
        self.status_label.setText(self.tr("Linked to the candidate.") if accept
                                  else self.tr("Kept as a different person."))
        self.refresh()

    def export_quarantine(self) -> None:
        """The gate first (terminal, role; a refusal names who can register it), then the dialogs."""
        from app.views.export_dialogs import precheck_then
        precheck_then(self, self.context.worker, self.session, roles.VIEW_QUARANTINE, self.tr("Export quarantine"),
                      self._export_quarantine_checked)

    def _export_quarantine_checked(self) -> None:
        passphrase, ok = QInputDialog.getText(self, self.tr("Export quarantine"),
                                              self.tr("Passphrase for the encrypted file:"),
                                              QLineEdit.EchoMode.Password)
        if not ok:
            return
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export quarantine"), "quarantine.csv")
        if path:
            self.export_quarantine_to(path, passphrase)

    def export_quarantine_to(self, path: str, passphrase: str | None, plaintext_confirmed: bool = False) -> None:
        """Export the quarantine list through the export gate (encrypted unless confirmed)."""
        frame = self.quarantine_model.frame.copy()
        self.context.worker.run(export_frame, self.session, frame, path, capability=roles.VIEW_QUARANTINE,
                                kind="quarantine", encrypt=not plaintext_confirmed, passphrase=passphrase,
                                plaintext_confirmed=plaintext_confirmed, title="quarantine",
                                on_done=self._exported, on_error=self._error)

    def _exported(self, result) -> None:
        self.status_label.setText(self.tr("Exported %1 rows to %2")
                                  .replace("%1", str(result.rows)).replace("%2", str(result.path)))

    def _error(self, error: BaseException) -> None:
        self.status_label.setText(str(error) if isinstance(error, (ExportRefused, PermissionError, ValueError))
                                  else self.tr("The operation failed."))


def _preview() -> int:  # pragma: no cover - manual preview
    import sys
    import tempfile

    from PySide6.QtWidgets import QApplication

    from app.engine.ingest.sample import write_sample_delivery
    from app.store.opening import create_store
    from app.views.context import AppContext
    from app.views.worker import ImmediateWorker

    app = QApplication.instance() or QApplication(sys.argv)
    tmp = Path(tempfile.mkdtemp(prefix="mimamori-import-preview-"))
    session = create_store(tmp / "preview.db", "admin", "preview-pass-1234")
    view = ImportView(AppContext(session, ImmediateWorker()))
    view.set_folder(write_sample_delivery(tmp / "delivery"))
    view.resize(1100, 650)
    view.show()
    QMessageBox.information(view, "Mimamori", "Sample delivery in a temporary folder; press Import.")
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_preview())
