"""The follow-up dialog: what the nurse did (status, date, note, next action date)."""

from __future__ import annotations

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFormLayout,
                               QLabel, QPlainTextEdit, QVBoxLayout)

from app.engine.worklist import FOLLOWUP_STATUSES


class FollowupDialog(QDialog):
    def __init__(self, who: str, current_status: str = FOLLOWUP_STATUSES[0], parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Record follow-up"))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Child: %1").replace("%1", who)))
        form = QFormLayout()
        self.status = QComboBox()
        for s in FOLLOWUP_STATUSES:
            self.status.addItem(s, s)
        # Suggest the next step of the workflow after the current one.
        i = FOLLOWUP_STATUSES.index(current_status) if current_status in FOLLOWUP_STATUSES else 0
        self.status.setCurrentIndex(min(i + 1, 2) if i < 2 else i)
        self.date = QDateEdit(QDate.currentDate())
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText(self.tr("What was done and found (staff only)"))
        self.has_next = QCheckBox(self.tr("Next action on"))
        self.next_date = QDateEdit(QDate.currentDate().addDays(14))
        self.next_date.setCalendarPopup(True)
        self.next_date.setDisplayFormat("yyyy-MM-dd")
        self.next_date.setEnabled(False)
        self.has_next.toggled.connect(self.next_date.setEnabled)
        form.addRow(self.tr("Status"), self.status)
        form.addRow(self.tr("Date"), self.date)
        form.addRow(self.tr("Note"), self.note)
        form.addRow(self.has_next, self.next_date)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def values(self) -> dict:
        """status, date (ISO), note, next_action_date (ISO or None)."""
        return {
            "status": self.status.currentData(),
            "date": self.date.date().toString("yyyy-MM-dd"),
            "note": self.note.toPlainText().strip(),
            "next_action_date": self.next_date.date().toString("yyyy-MM-dd") if self.has_next.isChecked() else None,
        }
