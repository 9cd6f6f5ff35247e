"""The dialogs every export and print entry point of the GUI shares, in the gate's order:
the gate's pre-check (registered terminal, role) *before* any file dialog — a refusal says
which terminal and who can register it —, then encrypted (default) or plain after the
warning, then the save dialog in the documents folder with a dated name.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication


def precheck_then(parent, worker, session, capability: str, title: str, proceed) -> None:
    """Ask the gate on the worker (a refusal is logged there) and call ``proceed()`` only if
    this terminal and role may write the file; otherwise show the refusal and stop."""
    from app.store.exports import check_allowed

    worker.run(check_allowed, session, capability, on_done=lambda _none: proceed(),
               on_error=lambda error: refusal_box(parent, title, str(error)))


def refusal_box(parent, title: str, message: str) -> None:
    """The gate's refusal (unregistered terminal and who can register it, or the role) as a
    Japanese warning, shown *before* any file dialog."""
    from PySide6.QtWidgets import QMessageBox

    QMessageBox.warning(parent, title, message)


def ask_encryption(parent, title: str):
    """(encrypt, passphrase, plaintext_confirmed), or None if the user cancelled.

    Encrypted is the default answer; plain needs the gate's warning acknowledged."""
    from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox

    from app.store.exports import PLAINTEXT_WARNING

    question = QCoreApplication.translate("ExportDialogs",
                                          "The file contains case data. Write it encrypted (recommended)?")
    box = QMessageBox(QMessageBox.Icon.Question, title, question, parent=parent)
    sealed_text = QCoreApplication.translate("ExportDialogs", "Encrypted (.mmx)")
    plain_text = QCoreApplication.translate("ExportDialogs", "Unencrypted…")
    sealed = box.addButton(sealed_text, QMessageBox.ButtonRole.AcceptRole)
    plain = box.addButton(plain_text, QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(sealed)
    box.exec()
    if box.clickedButton() is plain:
        if QMessageBox.warning(parent, title, PLAINTEXT_WARNING,
                               QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel,
                               QMessageBox.StandardButton.Cancel) != QMessageBox.StandardButton.Ok:
            return None
        return False, None, True
    if box.clickedButton() is not sealed:
        return None
    label = QCoreApplication.translate("ExportDialogs", "Passphrase for the encrypted file:")
    passphrase, ok = QInputDialog.getText(parent, title, label,
                                          QLineEdit.EchoMode.Password)
    return (True, passphrase, False) if ok else None


def documents_folder() -> Path:
    """The user's documents folder (where the save dialog opens); the home folder where there is
    none (a fresh Linux account), so the dialog never opens in the program's working folder."""
    from PySide6.QtCore import QStandardPaths

    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(found) if found and Path(found).is_dir() else Path.home()


def ask_save_path(parent, title: str, file_name: str, encrypt: bool) -> str:
    """The save dialog: in the documents folder, with a dated name, in Japanese (Qt's own dialog
    with its Japanese translation where the platform has no native one)."""
    from PySide6.QtWidgets import QFileDialog

    sealed = QCoreApplication.translate("ExportDialogs", "Encrypted file (*.mmx)")
    plain = QCoreApplication.translate("ExportDialogs", "PDF (*.pdf)")
    pattern = sealed if encrypt else plain
    path, _ = QFileDialog.getSaveFileName(parent, title, str(documents_folder() / file_name), pattern)
    return path
