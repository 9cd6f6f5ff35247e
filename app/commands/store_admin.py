"""Store administration: init, user-add, user-remove, passwd, terminal-register, audit-verify."""

from __future__ import annotations

from pathlib import Path

from app.commands.errors import CommandError
from app.commands.session_args import add_db_arg, add_login_args, denied, open_session, read_secret


def register(sub) -> None:
    p = sub.add_parser("init", help="create a new encrypted store; NAME becomes its first data_admin")
    add_db_arg(p)
    p.add_argument("--user", required=True)
    p.add_argument("--password-file", type=Path)
    p.set_defaults(func=run_init)

    p = sub.add_parser("user-add", help="add an account (data_admin)")
    add_login_args(p)
    p.add_argument("--new", required=True, metavar="NAME")
    p.add_argument("--role", required=True, choices=["nurse", "cg_manager", "chief", "data_admin", "auditor"])
    p.add_argument("--area", action="append", default=[],
                   help="district or health-welfare centre (中央/北/南/西); repeat for several")
    p.add_argument("--senior", action="store_true", help="a senior (veteran) nurse")
    p.add_argument("--new-password-file", type=Path)
    p.set_defaults(func=run_user_add)

    p = sub.add_parser("user-remove", help="remove an account and its key slot (data_admin)")
    add_login_args(p)
    p.add_argument("--name", required=True)
    p.set_defaults(func=run_user_remove)

    p = sub.add_parser("passwd", help="change your own password")
    add_login_args(p)
    p.add_argument("--new-password-file", type=Path)
    p.set_defaults(func=run_passwd)

    p = sub.add_parser("terminal-register", help="allow exports on this terminal (data_admin)")
    add_login_args(p)
    p.add_argument("--label", default="")
    p.set_defaults(func=run_terminal_register)

    p = sub.add_parser("user-change", help="change an account's role, areas or status (data_admin; audited, re-signed)")
    add_login_args(p)
    p.add_argument("--name", required=True)
    p.add_argument("--role", choices=["nurse", "cg_manager", "chief", "data_admin", "auditor"])
    p.add_argument("--area", action="append", help="replaces the areas; repeat for several")
    status = p.add_mutually_exclusive_group()
    status.add_argument("--deactivate", action="store_true")
    status.add_argument("--activate", action="store_true")
    p.set_defaults(func=run_user_change)

    p = sub.add_parser("audit-verify", help="check the audit log before anything is written (docs/SECURITY.md)")
    add_login_args(p)
    p.add_argument("--save-head", type=Path, metavar="FILE",
                   help="auditor: write the current head (count, hash, time) for keeping outside the store")
    p.add_argument("--against", type=Path, metavar="FILE",
                   help="fail when the store no longer extends a head kept with --save-head")
    p.add_argument("--accept-restore", action="store_true",
                   help="data_admin: record that the store was restored from an older copy")
    p.add_argument("--reason", default="", help="with --accept-restore: why (recorded in the log)")
    p.set_defaults(func=run_audit_verify)


def run_init(args) -> int:
    from app.store.accounts import AccountError
    from app.store.opening import StoreError, create_store

    password = read_secret(args.password_file, "MIMAMORI_PASSWORD", f"new password for {args.user}: ")
    try:
        session = create_store(args.db, args.user, password)
    except (StoreError, AccountError) as exc:
        raise CommandError(str(exc)) from None
    session.close()
    print(f"created {args.db} with data_admin account {args.user}")
    return 0


def run_user_add(args) -> int:
    from app.store.accounts import AccountError, add_user
    from app.store.roles import AccessDenied

    session = open_session(args)
    try:
        password = read_secret(args.new_password_file, "MIMAMORI_NEW_PASSWORD", f"password for {args.new}: ")
        add_user(session, args.new, args.role, password, areas=args.area, senior=args.senior)
    except AccessDenied as exc:
        raise denied(exc) from None
    except (AccountError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    finally:
        session.close()
    print(f"added {args.new} ({args.role})")
    return 0


def run_user_remove(args) -> int:
    from app.store.accounts import AccountError, remove_user
    from app.store.roles import AccessDenied

    session = open_session(args)
    try:
        remove_user(session, args.name)
    except AccessDenied as exc:
        raise denied(exc) from None
    except AccountError as exc:
        raise CommandError(str(exc)) from None
    finally:
        session.close()
    print(f"removed {args.name}")
    return 0


def run_passwd(args) -> int:
    from app.store.accounts import AccountError, change_password
    from app.store.keyslots import BadCredentials

    old = read_secret(args.password_file, "MIMAMORI_PASSWORD", "current password: ")
    session = open_session(args)
    try:
        new = read_secret(args.new_password_file, "MIMAMORI_NEW_PASSWORD", "new password: ")
        change_password(session, old, new)
    except (AccountError, BadCredentials) as exc:
        raise CommandError(str(exc) or "パスワードが違います") from None
    finally:
        session.close()
    print("password changed")
    return 0


def run_terminal_register(args) -> int:
    from app.store.roles import AccessDenied
    from app.store.terminals import register_terminal

    session = open_session(args)
    try:
        tid = register_terminal(session, args.label)
    except AccessDenied as exc:
        raise denied(exc) from None
    finally:
        session.close()
    print(f"registered terminal {tid}")
    return 0


def run_user_change(args) -> int:
    from app.store.accounts import AccountError, change_account
    from app.store.roles import AccessDenied

    active = True if args.activate else (False if args.deactivate else None)
    if args.role is None and args.area is None and active is None:
        raise CommandError("nothing to change: give --role, --area, --activate or --deactivate")
    session = open_session(args)
    try:
        change_account(session, args.name, role=args.role, areas=args.area, active=active)
    except AccessDenied as exc:
        raise denied(exc) from None
    except (AccountError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    finally:
        session.close()
    print(f"changed {args.name}")
    return 0


def _read_head(path: Path) -> dict:
    import json

    try:
        head = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CommandError(f"cannot read the kept head {path}: {exc.__class__.__name__}") from None
    if not isinstance(head, dict) or "count" not in head or "hash" not in head:
        raise CommandError(f"{path} is not a Mimamori audit head file")
    return head


def run_audit_verify(args) -> int:
    import json

    from app.store.audit_queries import accept_restore, save_head, verify_log
    from app.store.roles import AccessDenied

    kept = _read_head(args.against) if args.against else None
    if args.save_head and args.save_head.is_dir():
        raise CommandError(f"--save-head needs a file name, not a folder: {args.save_head}")
    # Verify before the login is written: the login must not re-seal a tampered tail.
    session = open_session(args, verify_first=True)
    try:
        if args.accept_restore:
            seq = accept_restore(session, args.reason)
            print(f"restore acknowledged in entry {seq}; the key-slot file now keeps the restored head")
            return 0
        result = verify_log(session, against=kept)
        head = save_head(session) if (args.save_head and result.ok) else None
    except AccessDenied as exc:
        raise denied(exc) from None
    finally:
        session.close()
    if not result.ok:
        where = f" at entry {result.first_broken}" if result.first_broken else ""
        raise CommandError(f"audit log NOT intact{where}: {result.reason}", exit_code=1)
    extends = f"; extends the head kept on {kept.get('saved_at')} (entry {kept['count']})" if kept else ""
    print(f"audit log intact: {result.entries} entries (verified before this login was written){extends}")
    if head is not None:
        try:
            args.save_head.parent.mkdir(parents=True, exist_ok=True)
            args.save_head.write_text(json.dumps(head, ensure_ascii=False, indent=1) + "\n", "utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {args.save_head}: {exc.__class__.__name__}") from None
        print(f"head saved: entry {head['count']} {head['hash'][:16]}… → {args.save_head} (keep it off this terminal)")
    return 0
