"""``python -m app [gui] [--db PATH]``: the desktop application."""

from __future__ import annotations

import os
from pathlib import Path

from app.commands.errors import CommandError


def register(sub) -> None:
    p = sub.add_parser("gui", help="open the desktop application (the default)")
    p.add_argument("--db", type=Path, help="store to open (default: the last one, else the demo store)")
    p.set_defaults(func=run)


def choose_store(explicit: Path | None) -> Path | None:
    from app.commands.demo import demo_store_path
    from app.views.application import settings

    if explicit:
        return explicit
    if os.environ.get("MIMAMORI_DB"):
        return Path(os.environ["MIMAMORI_DB"])
    last = settings().value("store/last_path")
    if last and Path(str(last)).exists():
        return Path(str(last))
    demo = demo_store_path()
    return demo if demo.exists() else None


def run(args) -> int:
    return run_gui(getattr(args, "db", None))


def check_display() -> None:
    """Refuse in one line, before Qt aborts the process, when no window can open here."""
    from app.display_check import gui_problem

    problem = gui_problem()
    if problem:
        raise CommandError(problem, exit_code=4)


def run_gui(db: Path | None, demo_hint: str = "") -> int:
    check_display()
    from PySide6.QtWidgets import QMessageBox

    from app.views.application import make_application, settings
    from app.views.shell import Shell, dialog_login
    from app.views.worker import Worker

    app = make_application()
    path = choose_store(db)
    if path is None or not path.exists():
        QMessageBox.information(
            None, "見守り",
            "データベースが見つかりません。\n"
            "デモを始めるには: python -m app demo\n"
            "新しく作るには: python -m app init --db PATH --user NAME")
        return 1
    worker = Worker()
    # One shell for the program's life: logging out or switching user opens the login
    # dialog again instead of ending the program (a shared terminal, issue 17).
    shell = Shell(worker, dialog_login(path, demo_hint), settings=settings())
    if not shell.start():
        worker.shutdown()
        return 0
    settings().setValue("store/last_path", str(path))
    code = app.exec()
    if shell.window is not None:
        session = shell.window.context.session
        shell.window.close_views()
        worker.cancel_all()
        worker.shutdown()
        session.close()
    else:
        worker.shutdown()
    return code
