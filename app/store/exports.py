"""The one gate every export and print goes through.

``export_frame`` and ``authorize_print`` check, in order: the terminal is registered by
data_admin for exports, the role has the export capability, and then they strip every
"never reveal" row, add a footer (user, time, terminal), write, and log the operation.
Case data is written encrypted unless the caller passes an explicit plaintext choice
(the view shows ``PLAINTEXT_WARNING`` first); an idmap (no case contents) may be plain.

Encrypted container (``.mmx``), documented here because other tools may read it:

    b"MMX1"                      4 bytes magic
    header length                4 bytes, big-endian unsigned
    header                       UTF-8 JSON: format, cipher "AES-256-GCM", kdf "argon2id",
                                 time_cost, memory_cost (KiB), parallelism, salt (base64, 16 B),
                                 nonce (base64, 12 B), name, content_type, created, user, terminal
    ciphertext                   AES-256-GCM(key, nonce, payload, aad = magic + length + header)

key = Argon2id(passphrase, salt) with the header's parameters, 32 bytes. The header is
authenticated, so changing any field makes decryption fail. ``python -m app decrypt-export``
reverses it.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.engine import catalogue
from app.store import roles
from app.store.accounts import AccountError, check_password_policy
from app.store.audit import EXPORT, PRINT, now_iso
from app.store.database import transaction
from app.store.owner_only import write_owner_only
from app.store.terminal import is_registered

MAGIC = b"MMX1"
CONTAINER_SUFFIX = ".mmx"
KDF_PARAMS = {"time_cost": 3, "memory_cost": 65536, "parallelism": 2}
# Rows of these classes are never exported or printed, whoever asks (DOMAIN.md: DV and
# child-guidance records must never reach the family or leave the terminal).
NEVER_SOURCES = catalogue.never_sources()
NEVER_TYPES = catalogue.never_types()
# Kinds whose content is not case data and may be written as plain CSV without a warning.
PLAIN_ALLOWED_KINDS = frozenset({"idmap"})
PLAINTEXT_WARNING = ("暗号化せずに書き出すと、ファイルを手にした人は誰でも内容を読めます。"
                     "端末の外へ持ち出さず、用が済んだら確実に削除してください。")


class ExportRefused(PermissionError):
    """The export or print is not allowed; the message is one Japanese line for the user."""


class DecryptError(ValueError):
    """Wrong passphrase, or not an intact Mimamori export."""


@dataclass
class ExportResult:
    path: Path
    rows: int
    removed_never: int
    encrypted: bool
    footer: str


def footer_text(session, ts: str | None = None) -> str:
    """The line every export and print carries: who, when, on which terminal."""
    from app.engine.japanese_time import format_jst  # the one format a person reads times in

    when = format_jst(ts or now_iso(), seconds=True)
    return f"出力者: {session.user}（{session.role_label}） / 出力日時: {when}（日本時間） / 端末: {session.terminal_id}"


def check_allowed(session, capability: str) -> None:
    """Raise ExportRefused unless this terminal is registered and the role may do it.

    A refusal is logged too, so the auditor sees attempts as well as exports.
    """
    if not is_registered(session.conn, session.terminal_id):
        _log_refusal(session, capability, "terminal_not_registered")
        raise ExportRefused(unregistered_terminal_message(session))
    if not session.can(capability):
        _log_refusal(session, capability, "role")
        raise ExportRefused(
            f"{session.role_label}の権限ではこの出力はできません（{capability}）。")


def unregistered_terminal_message(session) -> str:
    """One line for the user: this terminal may not write files, and who can register it (the
    data admins by name, so a nurse knows whom to ask)."""
    names = [r[0] or r[1] for r in session.conn.execute(
        "SELECT display_name, name FROM users WHERE role = ? AND active ORDER BY name", (roles.DATA_ADMIN,))]
    who = f"データ管理担当（{'、'.join(names)}）" if names else "データ管理担当"
    return (f"この端末（ID {session.terminal_id}）は出力を許可された端末として登録されていません"
            f"（書き出し・印刷はできません）。端末を登録できるのは{who}です。")


def _log_refusal(session, capability: str, reason: str) -> None:
    with transaction(session.conn):
        session.audit("export_refused", detail={"capability": capability, "reason": reason})


def strip_never(frame):
    """The frame without "never reveal" rows; returns (frame, rows removed)."""
    keep = None
    for column, values in (("disclosure", {"never"}), ("source", NEVER_SOURCES), ("type", NEVER_TYPES)):
        if column in frame.columns:
            mask = ~frame[column].isin(values)
            keep = mask if keep is None else keep & mask
    if keep is None:
        return frame, 0
    return frame[keep], int((~keep).sum())


def _csv_bytes(frame, footer: str, notes=()) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\r\n")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for note in notes:
        writer.writerow([f"# {note}"])
    writer.writerow([f"# {footer}"])
    # UTF-8 with BOM: Excel on the terminal opens it with the right encoding.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_bytes(frame, footer: str, title: str, notes=()) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = (title or "export")[:31]
    sheet.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        sheet.append([None if v is None or v != v else (v if isinstance(v, (int, float, str)) else str(v))
                      for v in row])
    sheet.append([])
    for note in notes:
        sheet.append([note])
    sheet.append([footer])
    # The footer is printed on every page too, not only after the last row.
    sheet.oddFooter.center.text = footer.replace("&", "&&")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _derive(passphrase: str, salt: bytes, params: dict) -> bytes:
    return hash_secret_raw(passphrase.encode("utf-8"), salt, time_cost=params["time_cost"],
                           memory_cost=params["memory_cost"], parallelism=params["parallelism"],
                           hash_len=32, type=Type.ID)


def encrypt_container(payload: bytes, passphrase: str, header_fields: dict) -> bytes:
    """Seal ``payload`` in the container format above."""
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    header = {"format": 1, "cipher": "AES-256-GCM", "kdf": "argon2id", **KDF_PARAMS,
              "salt": base64.b64encode(salt).decode("ascii"),
              "nonce": base64.b64encode(nonce).decode("ascii"), **header_fields}
    header_bytes = json.dumps(header, ensure_ascii=False, sort_keys=True).encode("utf-8")
    prefix = MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes
    key = _derive(passphrase, salt, KDF_PARAMS)
    return prefix + AESGCM(key).encrypt(nonce, payload, prefix)


def read_header(data: bytes) -> tuple[dict, bytes, bytes]:
    """(header, authenticated prefix, ciphertext) of a container; DecryptError if malformed."""
    if len(data) < 8 or data[:4] != MAGIC:
        raise DecryptError("見守りの暗号化出力ファイルではありません")
    (length,) = struct.unpack(">I", data[4:8])
    if len(data) < 8 + length:
        raise DecryptError("ファイルが途中で切れています")
    try:
        header = json.loads(data[8:8 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DecryptError("ファイルのヘッダーが壊れています") from None
    return header, data[:8 + length], data[8 + length:]


def decrypt_container(data: bytes, passphrase: str) -> tuple[dict, bytes]:
    """(header, payload); DecryptError for a wrong passphrase or a changed file."""
    header, prefix, ciphertext = read_header(data)
    if header.get("format") != 1 or header.get("cipher") != "AES-256-GCM" or header.get("kdf") != "argon2id":
        raise DecryptError("対応していない形式です")
    params = {k: int(header[k]) for k in KDF_PARAMS}
    key = _derive(passphrase, base64.b64decode(header["salt"]), params)
    try:
        payload = AESGCM(key).decrypt(base64.b64decode(header["nonce"]), ciphertext, prefix)
    except InvalidTag:
        raise DecryptError("パスフレーズが違うか、ファイルが変更されています") from None
    return header, payload


def check_encryption_choice(encrypt: bool, passphrase: str | None, plaintext_confirmed: bool) -> None:
    """The one rule for every export and printout: encrypted with a passphrase that meets the
    password policy, or plain only after the user confirmed the warning."""
    if not encrypt and not plaintext_confirmed:
        raise ExportRefused("暗号化しない出力には、警告を確認したうえでの明示的な選択が必要です。")
    if encrypt:
        if not passphrase:
            raise ExportRefused("暗号化のパスフレーズを入力してください。")
        try:
            check_password_policy(passphrase)
        except AccountError as exc:
            raise ExportRefused(str(exc).replace("パスワード", "パスフレーズ")) from None


def export_frame(session, frame, path: Path | str, *, capability: str, kind: str = "case",
                 fmt: str = "csv", encrypt: bool = True, passphrase: str | None = None,
                 plaintext_confirmed: bool = False, title: str = "",
                 object_ids=(), keep_never: bool = False, notes: tuple[str, ...] = ()) -> ExportResult:
    """Write ``frame`` through the gate. Returns what was written.

    ``notes``: lines written after the rows and before the footer (a legend the reader needs,
    such as each column's disclosure class: the screen's colours do not reach a file).

    ``keep_never``: only for the subject-access report (EXPORT_SUBJECT), whose ✕ rows are
    there for the disclosure officer to decide on; every other export strips them.
    ``fmt`` is ``csv`` or ``xlsx`` (the payload); with ``encrypt`` (the default) it is
    sealed in a ``.mmx`` container under ``passphrase``. Plain case data needs
    ``plaintext_confirmed=True`` (the user saw PLAINTEXT_WARNING and chose it).
    """
    check_allowed(session, capability)
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"unknown export format {fmt!r}")
    check_encryption_choice(encrypt, passphrase, plaintext_confirmed or kind in PLAIN_ALLOWED_KINDS)
    if keep_never and capability != roles.EXPORT_SUBJECT:
        raise ValueError("keep_never is only for the subject-access report")
    frame, removed = (frame, 0) if keep_never else strip_never(frame)
    ts = now_iso()
    footer = footer_text(session, ts)
    payload = _csv_bytes(frame, footer, notes) if fmt == "csv" else _xlsx_bytes(frame, footer, title, notes)
    path = Path(path)
    if encrypt:
        if path.suffix != CONTAINER_SUFFIX:
            path = path.with_name(path.name + CONTAINER_SUFFIX)
        data = encrypt_container(payload, passphrase, {
            "name": path.name.removesuffix(CONTAINER_SUFFIX), "content_type": fmt, "created": ts,
            "user": session.user, "terminal": session.terminal_id, "footer": footer})
    else:
        data = payload
    path.parent.mkdir(parents=True, exist_ok=True)
    write_owner_only(path, data)
    with transaction(session.conn):
        session.audit(EXPORT, kind, list(object_ids), {
            "capability": capability, "format": fmt, "encrypted": encrypt, "rows": len(frame),
            "removed_never": removed, "file": path.name, "title": title})
    return ExportResult(path, len(frame), removed, encrypt, footer)


def authorize_print(session, capability: str = roles.PRINT_VISIT_SHEET, what: str = "",
                    object_ids=()) -> str:
    """Check and log a print; returns the footer to put on every printed page."""
    check_allowed(session, capability)
    ts = now_iso()
    with transaction(session.conn):
        session.audit(PRINT, what or None, list(object_ids), {"capability": capability})
    return footer_text(session, ts)


def write_document(session, data: bytes, path: Path | str, *, capability: str, content_type: str = "pdf",
                   encrypt: bool = True, passphrase: str | None = None, plaintext_confirmed: bool = False,
                   footer: str = "") -> Path:
    """Write an already authorised printout (``authorize_print``) such as a PDF: sealed in the
    ``.mmx`` container unless plain was chosen after the warning. Checked again here, so a
    terminal unregistered in between or a missing passphrase writes nothing."""
    check_allowed(session, capability)
    check_encryption_choice(encrypt, passphrase, plaintext_confirmed)
    path = Path(path)
    if encrypt:
        if path.suffix != CONTAINER_SUFFIX:
            path = path.with_name(path.name + CONTAINER_SUFFIX)
        data = encrypt_container(data, passphrase, {
            "name": path.name.removesuffix(CONTAINER_SUFFIX), "content_type": content_type, "created": now_iso(),
            "user": session.user, "terminal": session.terminal_id, "footer": footer})
    path.parent.mkdir(parents=True, exist_ok=True)
    write_owner_only(path, data)
    return path


def export_idmap(session, path: Path | str, encrypt: bool = False, passphrase: str | None = None) -> ExportResult:
    """The research-id map (no case contents) as CSV; plain is allowed for this kind."""
    import pandas as pd

    tables = {r[0] for r in session.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    check_allowed(session, roles.EXPORT_IDMAP)
    if "idmap" not in tables:
        raise ExportRefused("IDマップがまだありません（データが取り込まれていません）。")
    cursor = session.conn.execute("SELECT * FROM idmap")
    frame = pd.DataFrame(cursor.fetchall(), columns=[d[0] for d in cursor.description])
    return export_frame(session, frame, path, capability=roles.EXPORT_IDMAP, kind="idmap",
                        encrypt=encrypt, passphrase=passphrase, title="idmap")


def export_audit_log(session, path: Path | str, *, encrypt: bool = True, passphrase: str | None = None,
                     plaintext_confirmed: bool = False, fmt: str = "csv", **filters) -> ExportResult:
    """The (filtered) audit log through the gate; auditor only."""
    from app.store.audit_queries import search_log

    check_allowed(session, roles.EXPORT_AUDIT)
    frame = search_log(session, limit=None, log_search=False, **filters)
    return export_frame(session, frame, path, capability=roles.EXPORT_AUDIT, kind="audit_log",
                        fmt=fmt, encrypt=encrypt, passphrase=passphrase,
                        plaintext_confirmed=plaintext_confirmed, title="audit_log")
