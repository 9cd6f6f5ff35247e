"""``python -m app export --db PATH --what {list,idmap,flags,districts} --out FILE``.

Each kind is one entry of ``EXPORTERS``: a function ``(session, args) -> ExportResult``.
Engineers add their kind with one line here; a kind with no exporter yet exits with one
clear line. Every export goes through ``app.store.exports`` (terminal, role, audit).
"""

from __future__ import annotations

from pathlib import Path

from app.commands.errors import CommandError
from app.commands.session_args import add_login_args, denied, open_session, read_secret

KINDS = ("list", "idmap", "flags", "districts")


def _export_idmap(session, args):
    from app.store.exports import export_idmap

    passphrase = read_secret(args.passphrase_file, "MIMAMORI_EXPORT_PASSPHRASE", "passphrase: ") \
        if args.encrypt else None
    return export_idmap(session, args.out, encrypt=args.encrypt, passphrase=passphrase)


def _export_list(session, args):
    """The working list (issue 15): the role's children in the role's order — rank, research_id,
    district, urgent, follow_up, one 0/1 column per visible rule; score and probability only for
    roles with the score. Encrypted unless --plaintext."""
    from app.store.queries.worklist import export_list

    passphrase = read_secret(args.passphrase_file, "MIMAMORI_EXPORT_PASSPHRASE", "passphrase: ") \
        if not args.plaintext else None
    return export_list(session, args.out, encrypt=not args.plaintext, passphrase=passphrase,
                       plaintext_confirmed=args.plaintext, target=getattr(args, "target", None),
                       extracted_only=getattr(args, "extracted_only", False))


def _export_districts(session, args):
    """District figures for the chief (issue 15): district, children, extracted,
    extracted_not_followed, small counts suppressed as on the map. Encrypted unless --plaintext."""
    from app.store.exports import export_frame
    from app.store.queries.aggregates import district_export_frame
    from app.store.roles import EXPORT_PLAN

    passphrase = read_secret(args.passphrase_file, "MIMAMORI_EXPORT_PASSPHRASE", "passphrase: ") \
        if not args.plaintext else None
    frame = district_export_frame(session, getattr(args, "target", None) or "abuse")
    return export_frame(session, frame, args.out, capability=EXPORT_PLAN, kind="districts",
                        encrypt=not args.plaintext, passphrase=passphrase, plaintext_confirmed=args.plaintext,
                        title="地区別集計", object_ids=frame["district"].tolist())


def _export_flags(session, args):
    """Flags (issue 5): one row per child, 0/1 per rule; encrypted unless --plaintext."""
    from app.store.exports import export_frame
    from app.store.queries.scores import flags_export_frame
    from app.store.roles import EXPORT_FLAGS

    passphrase = read_secret(args.passphrase_file, "MIMAMORI_EXPORT_PASSPHRASE", "passphrase: ") \
        if not args.plaintext else None
    return export_frame(session, flags_export_frame(session), args.out, capability=EXPORT_FLAGS, kind="flags",
                        encrypt=not args.plaintext, passphrase=passphrase, plaintext_confirmed=args.plaintext,
                        title="flags")


# kind → "module:function" or a function; resolved lazily so a missing module is a clear error.
EXPORTERS: dict[str, object] = {
    "idmap": _export_idmap,
    "list": _export_list,
    "flags": _export_flags,
    "districts": _export_districts,
}


# --- subject access (issue 16): the family's 開示請求, data_admin, ✕ rows kept for the officer ---
def _export_subject(session, args):
    """Every record about --person (and with --household their household), with each record's
    disclosure class and blank 開示/不開示 columns; CSV/XLSX or a printable PDF; encrypted unless
    --plaintext. docs/SECURITY.md says why data_admin runs it."""
    from app.store.queries.subject_access import export_subject

    if not args.person:
        raise CommandError("export --what subject needs --person ID (the research ID of the requester)")
    fmt = args.format or ("pdf" if args.out.suffix.lower() == ".pdf" else "xlsx" if args.out.suffix.lower() == ".xlsx" else "csv")
    passphrase = read_secret(args.passphrase_file, "MIMAMORI_EXPORT_PASSPHRASE", "passphrase: ") \
        if not args.plaintext else None
    renderer = None
    if fmt == "pdf":
        import os

        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from app.views.application import make_application
        from app.views.subject_report_pdf import subject_pdf_bytes

        make_application()
        renderer = subject_pdf_bytes
    return export_subject(session, args.out, args.person, household=args.household, fmt=fmt,
                          encrypt=not args.plaintext, passphrase=passphrase,
                          plaintext_confirmed=args.plaintext, pdf_renderer=renderer)


def _add_subject_args(p) -> None:
    p.add_argument("--person", help="subject: research ID (研究用ID) of the person who asked")
    p.add_argument("--household", action="store_true", help="subject: include the household's records")
    p.add_argument("--format", choices=("csv", "xlsx", "pdf"), help="subject: default from --out's suffix, else csv")


EXPORTERS["subject"] = _export_subject
KINDS = (*KINDS, "subject")


def register(sub) -> None:
    p = sub.add_parser("export", help="export through the export gate (registered terminals only)")
    add_login_args(p)
    p.add_argument("--what", required=True, choices=KINDS)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--encrypt", action="store_true", help="seal in an encrypted .mmx container")
    p.add_argument("--plaintext", action="store_true",
                   help="write case data unencrypted (you accept the warning)")
    p.add_argument("--passphrase-file", type=Path)
    p.add_argument("--target", choices=("abuse", "postpartum"), help="list / districts: the target (default abuse)")
    p.add_argument("--extracted-only", action="store_true",
                   help="list: only the children of 抽出 (default: every child you may see, 抽出 first)")
    _add_subject_args(p)
    p.set_defaults(func=run)


def _resolve(kind: str):
    target = EXPORTERS.get(kind)
    if target is None:
        raise CommandError(f"export --what {kind}: この出力はまだ作られていません")
    if isinstance(target, str):
        import importlib

        module, _, name = target.partition(":")
        target = getattr(importlib.import_module(module), name)
    return target


def run(args) -> int:
    from app.store.exports import ExportRefused
    from app.store.roles import AccessDenied

    exporter = _resolve(args.what)
    session = open_session(args)
    try:
        result = exporter(session, args)
    except (AccessDenied, ExportRefused) as exc:
        raise denied(exc) from None
    finally:
        session.close()
    print(f"{result.path}: {result.rows} 行" + ("（暗号化）" if result.encrypted else ""))
    return 0
