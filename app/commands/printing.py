"""``python -m app print --what visit-sheet --child ID --out F.pdf [--plaintext]``.

The same path as the list's print button: the export gate first (registered terminal, role,
encryption choice — a refusal writes nothing and exits 3), the print logged, the children's
evidence and (for roles that may re-identify, each read logged) name, address and guardians,
the PDF made in memory, then written sealed in an ``.mmx`` container unless ``--plaintext``.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.commands.errors import CommandError
from app.commands.session_args import add_login_args, denied, open_session, read_secret

KINDS = ("visit-sheet",)


def register(sub) -> None:
    p = sub.add_parser("print", help="print a visit sheet to PDF through the export gate (registered terminals only)")
    add_login_args(p)
    p.add_argument("--what", required=True, choices=KINDS)
    p.add_argument("--child", required=True, action="append", metavar="ID",
                   help="research ID of the child (repeat for several children, one sheet each)")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--plaintext", action="store_true",
                   help="write the PDF unencrypted (you accept the warning); default: sealed .mmx")
    p.add_argument("--passphrase-file", type=Path,
                   help="passphrase for the .mmx (else $MIMAMORI_EXPORT_PASSPHRASE, else a prompt)")
    p.add_argument("--no-identity", action="store_true",
                   help="leave out name, address and guardians (printed by default for roles that may re-identify)")
    p.set_defaults(func=run)


def _application():
    """A GUI-less Qt application for the PDF writer (no display needed)."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QGuiApplication(["mimamori-print"])
    return app


def run(args) -> int:
    from app.store import roles
    from app.store.exports import ExportRefused
    from app.store.roles import AccessDenied

    passphrase = None if args.plaintext else read_secret(
        args.passphrase_file, "MIMAMORI_EXPORT_PASSPHRASE", "passphrase: ")
    session = open_session(args)
    try:
        from app.views.visit_sheet import pdf_bytes, prepare_visit_sheets, write_visit_sheet

        choice = {"encrypt": not args.plaintext, "passphrase": passphrase, "plaintext_confirmed": args.plaintext}
        reveal = session.can(roles.REIDENTIFY) and not args.no_identity
        try:
            sheets, footer = prepare_visit_sheets(session, [str(c) for c in args.child], reveal=reveal, **choice)
        except LookupError as exc:
            raise CommandError(str(exc).strip("'\"")) from None
        _application()
        rendered = pdf_bytes(sheets, footer)
        path = write_visit_sheet(session, rendered.pdf, args.out, footer=footer, **choice)
    except (AccessDenied, ExportRefused) as exc:
        raise denied(exc) from None
    finally:
        session.close()
    print(f"{path}: 訪問準備シート {rendered.children}人 {rendered.pages}ページ"
          + ("（暗号化）" if not args.plaintext else "（暗号化なし）"))
    return 0
