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

    p = sub.add_parser("audit-verify", help="check the audit log's hash chain")
    add_login_args(p)
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


def run_audit_verify(args) -> int:
    from app.store.audit_queries import verify_log
    from app.store.roles import AccessDenied

    session = open_session(args)
    try:
        result = verify_log(session)
    except AccessDenied as exc:
        raise denied(exc) from None
    finally:
        session.close()
    if result.ok:
        print(f"audit log intact: {result.entries} entries")
        return 0
    raise CommandError(f"audit log broken at entry {result.first_broken}: {result.reason}", exit_code=1)
