"""Login arguments shared by every command that opens a store."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from app.commands.errors import CommandError


def add_db_arg(parser, required: bool = True) -> None:
    parser.add_argument("--db", type=Path, required=required, help="path of the encrypted store")


def add_login_args(parser, db_required: bool = True) -> None:
    add_db_arg(parser, db_required)
    parser.add_argument("--user", help="account name (default: $MIMAMORI_USER)")
    parser.add_argument("--password-file", type=Path,
                        help="file whose first line is the password (else $MIMAMORI_PASSWORD, else a prompt)")


def read_secret(file: Path | None, env: str, prompt: str) -> str:
    if file is not None:
        try:
            return file.read_text("utf-8").splitlines()[0]
        except (OSError, IndexError) as exc:
            raise CommandError(f"cannot read password file {file}: {exc.__class__.__name__}") from None
    if os.environ.get(env):
        return os.environ[env]
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    raise CommandError(f"no password: give --password-file or set {env}")


def login_user(args) -> str:
    user = args.user or os.environ.get("MIMAMORI_USER")
    if not user:
        raise CommandError("no user: give --user NAME (or set MIMAMORI_USER)")
    return user


def open_session(args, verify_first: bool = False):
    """Log in from the command line; every failure is one clear line."""
    from app.store.opening import StoreError, open_store

    user = login_user(args)
    password = read_secret(args.password_file, "MIMAMORI_PASSWORD", f"password for {user}: ")
    try:
        return open_store(args.db, user, password, verify_first=verify_first)
    except StoreError as exc:
        from app.commands.errors import describe

        raise CommandError(*describe(exc)) from None


def denied(exc) -> CommandError:
    return CommandError(str(exc), exit_code=3)
