"""data_admin's view: accounts (add with role/area/senior, remove, reset password), this
terminal's export registration, deletion requests, retention reminders and a family's
subject-access request (開示請求: the records shown, then the officer's PDF through the gate)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QInputDialog, QLabel,
    QLineEdit, QMessageBox, QPushButton, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget,
)

from app.engine.japanese_time import format_date, format_jst
from app.engine import catalogue
from app.store import roles
from app.store.accounts import add_user, change_password, list_accounts, remove_user
from app.store.deletion import confirm_retention, execute_request, list_requests, request_deletion, retention_status
from app.store.queries.subject_access import prepare_subject_export, subject_records, write_subject_pdf
from app.store.terminal import session_may_export
from app.store.terminals import list_terminals, register_terminal


def source_label(key: str) -> str:
    """A data source by its Japanese name from the catalogue (the key stays in tooltips and the CLI)."""
    return catalogue.source_label(key)


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    return table


def _set_rows(table: QTableWidget, rows: list[list]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.setItem(r, c, QTableWidgetItem("" if value is None else str(value)))
    table.resizeColumnsToContents()


class AddUserDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Add user"))
        form = QFormLayout(self)
        self.name_edit = QLineEdit()
        self.role_combo = QComboBox()
        for role in roles.ROLES:
            self.role_combo.addItem(roles.ROLE_LABELS_JA[role], role)
        self.area_edit = QLineEdit()
        self.area_edit.setPlaceholderText(self.tr("e.g. 中央 or 本庁, 追浜 (comma separated)"))
        self.senior_check = QCheckBox(self.tr("Senior (veteran) nurse"))
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("User name"), self.name_edit)
        form.addRow(self.tr("Role"), self.role_combo)
        form.addRow(self.tr("Area"), self.area_edit)
        form.addRow("", self.senior_check)
        form.addRow(self.tr("Initial password"), self.password_edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict:
        areas = [a.strip() for a in self.area_edit.text().replace("、", ",").split(",") if a.strip()]
        return {"name": self.name_edit.text().strip(), "role": self.role_combo.currentData(),
                "password": self.password_edit.text(), "areas": areas, "senior": self.senior_check.isChecked()}


class UsersView(QWidget):
    def __init__(self, context, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self._ready = False
        layout = QVBoxLayout(self)
        self.message_label = QLabel("")
        self.message_label.setObjectName("usersMessage")
        self.message_label.setWordWrap(True)
        layout.addWidget(self.message_label)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)

        users_page = QWidget()
        users_layout = QVBoxLayout(users_page)
        self.users_table = _table([self.tr("User"), self.tr("Role"), self.tr("Area"), self.tr("Senior"),
                                   self.tr("Password changed")])
        users_layout.addWidget(self.users_table)
        row = QHBoxLayout()
        for text, slot in ((self.tr("Add user…"), self.add_user), (self.tr("Remove user"), self.remove_user),
                           (self.tr("Reset password…"), self.reset_password)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addStretch(1)
        users_layout.addLayout(row)
        self.tabs.addTab(users_page, self.tr("Users"))

        terminal_page = QWidget()
        terminal_layout = QVBoxLayout(terminal_page)
        self.terminal_label = QLabel("")
        self.terminal_label.setWordWrap(True)
        terminal_layout.addWidget(self.terminal_label)
        self.terminals_table = _table([self.tr("Terminal"), self.tr("Name"), self.tr("Registered by"),
                                       self.tr("Registered at"), self.tr("Exports")])
        terminal_layout.addWidget(self.terminals_table, 1)
        self.register_button = QPushButton(self.tr("Register this terminal for exports"))
        self.register_button.clicked.connect(self.register_terminal)
        terminal_layout.addWidget(self.register_button)
        self.tabs.addTab(terminal_page, self.tr("Terminal"))

        deletion_page = QWidget()
        deletion_layout = QVBoxLayout(deletion_page)
        self.requests_table = _table([self.tr("No."), self.tr("Kind"), self.tr("Target"), self.tr("Reason"),
                                      self.tr("Requested"), self.tr("Executed"), self.tr("Rows removed")])
        deletion_layout.addWidget(self.requests_table)
        row = QHBoxLayout()
        for text, slot in ((self.tr("Request deletion of a source…"), lambda: self.new_request("source")),
                           (self.tr("Request deletion of a person…"), lambda: self.new_request("person")),
                           (self.tr("Carry out selected request"), self.execute_selected)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addStretch(1)
        deletion_layout.addLayout(row)
        self.tabs.addTab(deletion_page, self.tr("Deletion requests"))

        retention_page = QWidget()
        retention_layout = QVBoxLayout(retention_page)
        self.retention_table = _table([self.tr("Source"), self.tr("Policy"), self.tr("Last confirmed"),
                                       self.tr("Data as of"), self.tr("Confirmation due"), self.tr("Note")])
        retention_layout.addWidget(self.retention_table)
        confirm = QPushButton(self.tr("Department confirmed keeping the selected source"))
        confirm.clicked.connect(self.confirm_selected)
        retention_layout.addWidget(confirm)
        self.tabs.addTab(retention_page, self.tr("Retention"))
        self.tabs.addTab(self._subject_page(), self.tr("Subject access requests"))
        self.refresh()

    def _subject_page(self) -> QWidget:
        """A family's 開示請求: every record about the person (and their household), with each
        record's disclosure class; the PDF for the disclosure officer goes through the export gate."""
        from app.engine.subject_access import COLUMNS

        page = QWidget()
        layout = QVBoxLayout(page)
        note = QLabel(self.tr(
            "A family's request to see their records (開示請求): every record Mimamori holds about the person, "
            "with its disclosure class. Records marked ✕, child-guidance and DV records are listed as candidates "
            "for non-disclosure: the disclosure officer decides, not this list. Every look is recorded in the audit log."))
        note.setWordWrap(True)
        layout.addWidget(note)
        row = QHBoxLayout()
        row.addWidget(QLabel(self.tr("Research ID of the requester:")))
        self.subject_id = QLineEdit()
        self.subject_id.setObjectName("subjectId")
        self.subject_id.setMaximumWidth(160)
        self.subject_id.returnPressed.connect(self.show_subject)
        # the PDF is of the records shown: another ID or choice must be shown first
        self.subject_id.textEdited.connect(self._subject_changed)
        row.addWidget(self.subject_id)
        self.subject_household = QCheckBox(self.tr("Include the household's records"))
        self.subject_household.toggled.connect(self._subject_changed)
        row.addWidget(self.subject_household)
        show = QPushButton(self.tr("Show the records"))
        show.clicked.connect(self.show_subject)
        row.addWidget(show)
        self.subject_pdf_button = QPushButton(self.tr("Report for the disclosure officer (PDF)…"))
        self.subject_pdf_button.setEnabled(False)
        self.subject_pdf_button.clicked.connect(self.write_subject_report)
        row.addWidget(self.subject_pdf_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.subject_summary = QLabel("")
        self.subject_summary.setObjectName("subjectSummary")
        self.subject_summary.setWordWrap(True)
        layout.addWidget(self.subject_summary)
        self.subject_table = _table(list(COLUMNS))
        layout.addWidget(self.subject_table, 1)
        self._subject: tuple[str, bool] | None = None
        return page

    def is_ready(self) -> bool:
        return self._ready

    # -- loading ---------------------------------------------------------------------------
    def refresh(self) -> None:
        session = self.context.session
        self.context.worker.run(lambda: (list_accounts(session), session_may_export(session),
                                         list_requests(session), retention_status(session),
                                         list_terminals(session)),
                                key="users.load", on_done=self._show, on_error=self._error)

    def _show(self, result) -> None:
        accounts, registered, requests, retention, terminals = result
        _set_rows(self.users_table, [[a.name, roles.ROLE_LABELS_JA.get(a.role, a.role), "、".join(a.areas) or "—",
                                      "○" if a.senior else "", format_date(a.password_changed_at)] for a in accounts])
        tid = self.context.session.terminal_id
        self.terminal_label.setText(
            (self.tr("This terminal (%1) is registered: exports and prints are allowed here.") if registered
             else self.tr("This terminal (%1) is not registered: exports and prints are refused here."))
            .replace("%1", tid)
            + ("" if terminals else self.tr(" No terminal is registered yet.")))
        self.register_button.setEnabled(not registered)
        _set_rows(self.terminals_table, [
            [t["terminal_id"] + (self.tr(" (this terminal)") if t["terminal_id"] == tid else ""), t["label"] or "—",
             t["registered_by"], format_jst(t["registered_at"]), self.tr("allowed") if t["may_export"] else self.tr("refused")]
            for t in terminals])
        kinds = {"source": self.tr("Data source"), "person": self.tr("Person")}
        _set_rows(self.requests_table, [[r.request_id, kinds.get(r.kind, r.kind),
                                         source_label(r.target) if r.kind == "source" else r.target, r.reason,
                                         format_jst(r.requested_at), format_jst(r.executed_at), r.rows_removed]
                                        for r in requests.itertuples(index=False)])
        policies = {"keep": self.tr("Keep (health-promotion data)"),
                    "confirm": self.tr("Ask the department every %1 months")}
        _set_rows(self.retention_table, [[source_label(r.source),
                                          policies.get(r.policy, r.policy).replace("%1", str(r.review_months)),
                                          format_date(r.last_confirmed) or "—", format_date(r.as_of) or "—",
                                          self.tr("Due") if r.due else "", r.note]
                                         for r in retention.itertuples(index=False)])
        # The source key is what confirm_retention needs and what the CLI takes: keep it on the row.
        for row, key in enumerate(retention["source"]):
            self.retention_table.item(row, 0).setData(Qt.ItemDataRole.UserRole, key)
            self.retention_table.item(row, 0).setToolTip(self.tr("Source key: %1").replace("%1", key))
        due = int(retention["due"].sum())
        self.tabs.setTabText(3, self.tr("Retention (%1 due)").replace("%1", str(due)) if due else self.tr("Retention"))
        self._ready = True

    def _done(self, message: str):
        def show(_result=None):
            self.message_label.setText(message)
            self.refresh()
        return show

    def _error(self, error: BaseException) -> None:
        self.message_label.setText(str(error) if isinstance(error, (PermissionError, ValueError, LookupError))
                                   else self.tr("The operation failed."))

    def _selected(self, table: QTableWidget) -> str | None:
        row = table.currentRow()
        return table.item(row, 0).text() if row >= 0 and table.item(row, 0) else None

    # -- actions ---------------------------------------------------------------------------
    def add_user(self) -> None:
        dialog = AddUserDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.add_user_values(**dialog.values())

    def add_user_values(self, name: str, role: str, password: str, areas: list[str], senior: bool = False) -> None:
        self.context.worker.run(add_user, self.context.session, name, role, password, areas=areas, senior=senior,
                                changes="users",
                                on_done=self._done(self.tr("User %1 added.").replace("%1", name)), on_error=self._error)

    def remove_user(self) -> None:
        name = self._selected(self.users_table)
        if name and QMessageBox.question(self, self.tr("Remove user"),
                                         self.tr("Remove %1 and their key slot?").replace("%1", name)
                                         ) == QMessageBox.StandardButton.Yes:
            self.context.worker.run(remove_user, self.context.session, name, changes="users",
                                    on_done=self._done(self.tr("User %1 removed.").replace("%1", name)),
                                    on_error=self._error)

    def reset_password(self) -> None:
        name = self._selected(self.users_table)
        if not name:
            return
        password, ok = QInputDialog.getText(self, self.tr("Reset password"),
                                            self.tr("New password for %1:").replace("%1", name),
                                            QLineEdit.EchoMode.Password)
        if ok:
            self.context.worker.run(change_password, self.context.session, "", password, name=name, changes="users",
                                    on_done=self._done(self.tr("Password of %1 reset.").replace("%1", name)),
                                    on_error=self._error)

    def register_terminal(self) -> None:
        self.context.worker.run(register_terminal, self.context.session, "", changes="terminals",
                                on_done=self._done(self.tr("This terminal is now registered for exports.")),
                                on_error=self._error)

    def new_request(self, kind: str) -> None:
        if kind == "source":
            # Chosen by Japanese name; the store takes the key.
            keys = catalogue.delivered_sources()
            label, ok = QInputDialog.getItem(self, self.tr("Deletion request"), self.tr("Data source:"),
                                             [source_label(k) for k in keys], 0, False)
            target = keys[[source_label(k) for k in keys].index(label)] if ok else ""
        else:
            target, ok = QInputDialog.getText(self, self.tr("Deletion request"), self.tr("Research ID:"))
        if ok and target.strip():
            reason, _ = QInputDialog.getText(self, self.tr("Deletion request"), self.tr("Reason:"))
            self.context.worker.run(request_deletion, self.context.session, kind, target, reason,
                                    on_done=self._done(self.tr("Deletion request recorded.")), on_error=self._error)

    def execute_selected(self) -> None:
        request_id = self._selected(self.requests_table)
        if request_id and QMessageBox.warning(
                self, self.tr("Carry out deletion"),
                self.tr("The data will be removed physically and cannot be restored. Continue?"),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No) == QMessageBox.StandardButton.Yes:
            self.context.worker.run(execute_request, self.context.session, int(request_id), changes="deletion",
                                    on_done=self._done(self.tr("Deletion carried out.")), on_error=self._error)

    def show_subject(self) -> None:
        person, household = self.subject_id.text().strip(), self.subject_household.isChecked()
        self.context.worker.run(subject_records, self.context.session, person, household, key="users.subject",
                                on_done=lambda report: self._show_subject(person, household, report),
                                on_error=self._subject_error)

    def _show_subject(self, person: str, household: bool, report) -> None:
        from app.engine.subject_access import summary

        counts = summary(report)
        by_class = "　".join(f"{mark} {n}" for mark, n in counts["by_class"].items())
        self.subject_summary.setText(
            self.tr("Research ID %1%2: %3 records (%4), %5 of them candidates for non-disclosure.")
            .replace("%1", person).replace("%2", self.tr(" and household") if household else "")
            .replace("%3", str(counts["records"])).replace("%4", by_class).replace("%5", str(counts["candidates"])))
        _set_rows(self.subject_table, report.astype(object).where(report.notna(), "").values.tolist())
        self._subject = (person, household)
        self.subject_pdf_button.setEnabled(True)

    def _subject_changed(self, *_args) -> None:
        shown = self._subject
        self.subject_pdf_button.setEnabled(
            shown is not None and shown == (self.subject_id.text().strip(), self.subject_household.isChecked()))

    def _subject_error(self, error: BaseException) -> None:
        self._subject = None
        self.subject_table.setRowCount(0)
        self.subject_pdf_button.setEnabled(False)
        self.subject_summary.setText(str(error) if isinstance(error, (LookupError, PermissionError))
                                     else self.tr("The operation failed."))

    def write_subject_report(self) -> None:
        """The gate first (terminal, role), then encrypted-or-plain and where, then the report."""
        import datetime as dt

        from app.views import export_dialogs as dialogs

        if self._subject is None:
            return
        person, household = self._subject
        title = self.tr("Subject access report")

        def allowed() -> None:
            choice = dialogs.ask_encryption(self, title)
            if choice is None:
                return
            encrypt, passphrase, plain = choice
            name = f"開示請求_{person}_{dt.date.today():%Y%m%d}" + (".mmx" if encrypt else ".pdf")
            path = dialogs.ask_save_path(self, title, name, encrypt)
            if path:
                self.write_subject_report_to(path, person, household, passphrase, plaintext_confirmed=plain)

        dialogs.precheck_then(self, self.context.worker, self.context.session, roles.EXPORT_SUBJECT, title, allowed)

    def write_subject_report_to(self, path: str, person: str, household: bool, passphrase: str | None,
                                plaintext_confirmed: bool = False) -> None:
        """The gate and the audited read on the worker, the PDF painted here (Qt's printing on the
        GUI thread, as the visit sheet), written through the gate on the worker."""
        from app.views.subject_report_pdf import subject_pdf_bytes

        session, encrypt = self.context.session, not plaintext_confirmed

        def painted(prepared) -> None:
            report, title, footer = prepared
            pdf = subject_pdf_bytes(report, title, footer)
            self.context.worker.run(
                write_subject_pdf, session, path, report, title, pdf, footer, person, encrypt=encrypt,
                passphrase=passphrase, plaintext_confirmed=plaintext_confirmed,
                on_done=lambda result: self.message_label.setText(
                    self.tr("Report written: %1 (%2 records, %3).").replace("%1", str(result.path))
                    .replace("%2", str(result.rows))
                    .replace("%3", self.tr("encrypted") if result.encrypted else self.tr("not encrypted"))),
                on_error=self._error)

        self.context.worker.run(prepare_subject_export, session, person, household=household, encrypt=encrypt,
                                passphrase=passphrase, plaintext_confirmed=plaintext_confirmed,
                                on_done=painted, on_error=self._error)

    def confirm_selected(self) -> None:
        row = self.retention_table.currentRow()
        item = self.retention_table.item(row, 0) if row >= 0 else None
        source = item.data(Qt.ItemDataRole.UserRole) if item else None
        if source:
            self.context.worker.run(confirm_retention, self.context.session, source, changes="retention",
                                    on_done=self._done(self.tr("Retention of %1 confirmed.")
                                                       .replace("%1", source_label(source))),
                                    on_error=self._error)
