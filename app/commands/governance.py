"""Governance commands: decrypt-export, delete, audit-export, retention."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.commands.errors import CommandError
from app.commands.session_args import add_login_args, denied, open_session, read_secret


def register(sub) -> None:
    p = sub.add_parser("decrypt-export", help="decrypt a .mmx export written by Mimamori")
    p.add_argument("file", type=Path)
    p.add_argument("--out", type=Path, required=True, help="where to write the decrypted CSV/XLSX")
    p.add_argument("--passphrase-file", type=Path,
                   help="file whose first line is the passphrase (else $MIMAMORI_EXPORT_PASSPHRASE, else a prompt)")
    p.set_defaults(func=run_decrypt)

    p = sub.add_parser("delete", help="physically delete a data source's or a person's data (data_admin)")
    add_login_args(p)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--source", help="データ種別 key, e.g. receipt, epds")
    target.add_argument("--person", help="research_id (研究用ID)")
    target.add_argument("--request", type=int, help="carry out a recorded deletion request")
    p.add_argument("--reason", default="")
    p.set_defaults(func=run_delete)

    p = sub.add_parser("audit-export", help="export the audit log through the export gate (auditor)")
    add_login_args(p)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--filter-user")
    p.add_argument("--action")
    p.add_argument("--from", dest="start", help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", help="last day, YYYY-MM-DD")
    p.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    p.add_argument("--plaintext", action="store_true",
                   help="write without encryption (you accept that anyone with the file can read it)")
    # The old spelling keeps working; --plaintext is the name every export command uses.
    p.add_argument("--plain", dest="plaintext", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--passphrase-file", dest="export_passphrase_file", type=Path)
    p.set_defaults(func=run_audit_export)

    p = sub.add_parser("retention", help="retention per source and the confirmations due (data_admin)")
    add_login_args(p)
    p.add_argument("--confirm", metavar="SOURCE", help="record that the department confirmed keeping SOURCE")
    p.set_defaults(func=run_retention)


def run_decrypt(args) -> int:
    from app.store.exports import DecryptError, decrypt_container
    from app.store.owner_only import write_owner_only

    passphrase = read_secret(args.passphrase_file, "MIMAMORI_EXPORT_PASSPHRASE", "passphrase: ")
    try:
        header, payload = decrypt_container(args.file.read_bytes(), passphrase)
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.__class__.__name__}") from None
    except DecryptError as exc:
        raise CommandError(str(exc)) from None
    write_owner_only(args.out, payload)  # decrypted case data: owner only
    print(f"decrypted {header.get('name', args.file.name)} ({header.get('content_type')}) → {args.out}")
    print(f"出力元: {header.get('footer', '')}")
    return 0


def run_delete(args) -> int:
    from app.store.deletion import DeletionError, delete_person, delete_source, execute_request
    from app.store.roles import AccessDenied

    session = open_session(args)
    try:
        if args.request is not None:
            result = execute_request(session, args.request)
        elif args.source:
            result = delete_source(session, args.source, args.reason)
        else:
            result = delete_person(session, args.person, args.reason)
    except AccessDenied as exc:
        raise denied(exc) from None
    except DeletionError as exc:
        raise CommandError(str(exc)) from None
    finally:
        session.close()
    tables = ", ".join(f"{t} {n}" for t, n in sorted(result.rows_removed.items()) if n)
    print(f"deleted {result.total} rows ({tables or 'none'}); store vacuumed")
    return 0


def run_audit_export(args) -> int:
    from app.store.exports import PLAINTEXT_WARNING, ExportRefused, export_audit_log
    from app.store.roles import AccessDenied

    session = open_session(args)
    try:
        passphrase = None
        if args.plaintext:
            print(f"警告: {PLAINTEXT_WARNING}", file=sys.stderr)
        else:
            passphrase = read_secret(args.export_passphrase_file, "MIMAMORI_EXPORT_PASSPHRASE",
                                     "passphrase for the export: ")
        result = export_audit_log(session, args.out, encrypt=not args.plaintext, passphrase=passphrase,
                                  plaintext_confirmed=args.plaintext, fmt=args.format,
                                  user=args.filter_user, action=args.action, start=args.start, end=args.end)
    except AccessDenied as exc:
        raise denied(exc) from None
    except ExportRefused as exc:
        raise CommandError(str(exc), exit_code=3) from None
    finally:
        session.close()
    print(f"exported {result.rows} entries → {result.path}" + (" (encrypted)" if result.encrypted else " (PLAIN)"))
    return 0


def run_retention(args) -> int:
    from app.store.deletion import DeletionError, confirm_retention, retention_status
    from app.store.roles import AccessDenied

    session = open_session(args)
    try:
        if args.confirm:
            confirm_retention(session, args.confirm)
        frame = retention_status(session)
    except AccessDenied as exc:
        raise denied(exc) from None
    except DeletionError as exc:
        raise CommandError(str(exc)) from None
    finally:
        session.close()
    for row in frame.itertuples(index=False):
        mark = "要確認" if row.due else ""
        print(f"{row.source:16} {row.policy:8} {row.last_confirmed or '-':12} {mark:4} {row.note}")
    return 0
