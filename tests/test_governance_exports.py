"""The export gate: registered terminal, role, never-reveal rows, encryption by default,
footer, audit; and the decrypt-export command."""

from __future__ import annotations

import io
import subprocess
import sys

import pandas as pd
import pytest

from app.store import roles
from app.store.exports import (
    ExportRefused, DecryptError, authorize_print, decrypt_container, export_audit_log, export_frame,
)
from app.store.session import Session
from app.store.terminals import register_terminal

PASS = "export-pass-42"


def _as(store, role, areas=()):
    return Session(store.conn, store.db_path, f"u_{role}", role, tuple(areas), store.terminal_id)


@pytest.fixture
def frame():
    return pd.DataFrame({
        "person_id": ["1000001", "1000002", "1000003", "1000004"],
        "type": ["checkup", "dv", "custody", "vaccination"],
        "source": ["kenshin", "dv", "jisou", "yobo"],
        "disclosure": ["discuss", "never", "never", "staff"],
        "value_text": ["missed", "DVSECRET", "CUSTODYSECRET", "MR"],
    })


def _last_audit(store):
    return store.conn.execute("SELECT action, user, detail FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()


def test_unregistered_terminal_is_refused_with_a_clear_message(new_store, frame, tmp_path):
    manager = _as(new_store, roles.CG_MANAGER)
    with pytest.raises(ExportRefused) as info:
        export_frame(manager, frame, tmp_path / "x.csv", capability=roles.EXPORT_LIST, passphrase=PASS)
    message = str(info.value)
    assert "登録されていません" in message and new_store.terminal_id in message and "\n" not in message
    assert not list(tmp_path.glob("x.csv*"))
    action, user, detail = _last_audit(new_store)
    assert action == "export_refused" and "terminal_not_registered" in detail
    with pytest.raises(ExportRefused):
        authorize_print(_as(new_store, roles.NURSE, ["中央"]), what="visit_sheet")


def test_role_without_capability_is_refused(new_store, frame, tmp_path):
    register_terminal(new_store)
    # a nurse exports her own list (issue 15) but not the flags table
    with pytest.raises(ExportRefused, match="権限"):
        export_frame(_as(new_store, roles.NURSE, ["中央"]), frame, tmp_path / "x.csv",
                     capability=roles.EXPORT_FLAGS, passphrase=PASS)
    with pytest.raises(ExportRefused):
        export_audit_log(_as(new_store, roles.CG_MANAGER), tmp_path / "log.csv", passphrase=PASS)


def test_encrypted_by_default_never_rows_stripped_footer_and_audit(new_store, frame, tmp_path):
    register_terminal(new_store)
    manager = _as(new_store, roles.CG_MANAGER)
    result = export_frame(manager, frame, tmp_path / "list.csv", capability=roles.EXPORT_LIST,
                          passphrase=PASS, object_ids=frame["person_id"])
    assert result.encrypted and result.path.name == "list.csv.mmx"
    raw = result.path.read_bytes()
    assert b"1000001" not in raw and b"missed" not in raw
    header, payload = decrypt_container(raw, PASS)
    text = payload.decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text), comment="#", dtype=str)
    assert list(back["person_id"]) == ["1000001", "1000004"]
    assert "DVSECRET" not in text and "CUSTODYSECRET" not in text
    assert f"出力者: {manager.user}" in text and f"端末: {manager.terminal_id}" in text
    assert header["user"] == manager.user and header["terminal"] == manager.terminal_id
    action, user, detail = _last_audit(new_store)
    assert action == "export" and user == manager.user and '"removed_never": 2' in detail
    with pytest.raises(DecryptError):
        decrypt_container(raw, "wrong-pass-99")
    tampered = bytearray(raw)
    tampered[20] ^= 1  # inside the authenticated header
    with pytest.raises(DecryptError):
        decrypt_container(bytes(tampered), PASS)


def test_plaintext_needs_an_explicit_choice(new_store, frame, tmp_path):
    register_terminal(new_store)
    manager = _as(new_store, roles.CG_MANAGER)
    with pytest.raises(ExportRefused, match="明示的"):
        export_frame(manager, frame, tmp_path / "p.csv", capability=roles.EXPORT_LIST, encrypt=False)
    result = export_frame(manager, frame, tmp_path / "p.xlsx", capability=roles.EXPORT_LIST, fmt="xlsx",
                          encrypt=False, plaintext_confirmed=True)
    from openpyxl import load_workbook

    sheet = load_workbook(result.path).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert "DVSECRET" not in values and any(str(v).startswith("出力者") for v in values)
    assert "出力者" in sheet.oddFooter.center.text
    # A weak passphrase is refused rather than silently accepted.
    with pytest.raises(ExportRefused, match="パスフレーズ"):
        export_frame(manager, frame, tmp_path / "w.csv", capability=roles.EXPORT_LIST, passphrase="short")


def test_audit_log_export_and_decrypt_command(new_store, tmp_path):
    register_terminal(new_store)
    auditor = _as(new_store, roles.AUDITOR)
    result = export_audit_log(auditor, tmp_path / "log.csv", passphrase=PASS, action="terminal_register")
    assert result.rows == 1
    pass_file = tmp_path / "pass.txt"
    pass_file.write_text(PASS + "\n", "utf-8")
    out = tmp_path / "log_plain.csv"
    done = subprocess.run([sys.executable, "-m", "app", "decrypt-export", str(result.path), "--out", str(out),
                           "--passphrase-file", str(pass_file)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "terminal_register" in out.read_text("utf-8-sig")
    pass_file.write_text("not-the-pass-1\n", "utf-8")
    done = subprocess.run([sys.executable, "-m", "app", "decrypt-export", str(result.path), "--out",
                           str(tmp_path / "no.csv"), "--passphrase-file", str(pass_file)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "パスフレーズが違う" in done.stderr
