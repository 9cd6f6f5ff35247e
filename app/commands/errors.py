"""The one place where a command's failure becomes one line on stderr and an exit code.

Commands raise ``CommandError`` for what they foresee. Everything else that escapes a
command is translated here by ``describe`` — never a traceback, never a silent 0
(set ``MIMAMORI_DEBUG=1`` to see the traceback as well). Exit codes: 1 a check failed
(audit-verify) or an unexpected error, 2 bad input or a store that cannot be used,
3 refused (role, terminal, export gate), 4 the database file is damaged, 130 interrupted.
"""

from __future__ import annotations

EXIT_FAILED, EXIT_BAD_INPUT, EXIT_REFUSED, EXIT_DAMAGED = 1, 2, 3, 4


class CommandError(Exception):
    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def describe(exc: BaseException, db_path=None) -> tuple[str, int]:
    """(one line, exit code) for an exception that escaped a command."""
    # Imported lazily: `python -m app --help` must not load the store.
    from app.store.database import DatabaseError
    from app.store.opening import DAMAGED, RESTORE_HINT, StoreError, looks_damaged
    from app.store.roles import AccessDenied

    if isinstance(exc, CommandError):
        return _one_line(exc), exc.exit_code
    if isinstance(exc, StoreError):
        return _one_line(exc), EXIT_DAMAGED if DAMAGED in str(exc) else EXIT_BAD_INPUT
    if isinstance(exc, AccessDenied):
        return _one_line(exc), EXIT_REFUSED
    try:
        from app.store.exports import ExportRefused
    except ImportError:  # pragma: no cover - the gate is part of every build
        ExportRefused = ()  # noqa: N806
    if ExportRefused and isinstance(exc, ExportRefused):
        return _one_line(exc), EXIT_REFUSED
    if isinstance(exc, DatabaseError):
        where = f": {db_path}" if db_path else ""
        if looks_damaged(exc, db_path):
            return f"{DAMAGED}{where}（{_one_line(exc)}）。{RESTORE_HINT}", EXIT_DAMAGED
        return f"データベースの操作に失敗しました{where}: {_one_line(exc)}", EXIT_FAILED
    if isinstance(exc, IsADirectoryError):
        return f"ファイルの代わりにフォルダーが指定されています: {exc.filename}", EXIT_BAD_INPUT
    if isinstance(exc, FileNotFoundError):
        return f"ファイルが見つかりません: {exc.filename}", EXIT_BAD_INPUT
    if isinstance(exc, PermissionError):
        return f"ファイルにアクセスできません: {getattr(exc, 'filename', '') or _one_line(exc)}", EXIT_REFUSED
    if isinstance(exc, OSError):
        what = f"{getattr(exc, 'filename', '') or ''} {exc.strerror or _one_line(exc)}".strip()
        return f"ファイルの読み書きに失敗しました: {what}", EXIT_FAILED
    if isinstance(exc, (LookupError, ValueError)):
        # Domain errors (unknown child, unknown source, bad rule) carry a message for the user.
        return _one_line(exc) or exc.__class__.__name__, EXIT_BAD_INPUT
    return f"予期しないエラー（{exc.__class__.__name__}）: {_one_line(exc)}", EXIT_FAILED
