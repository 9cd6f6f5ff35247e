"""``python -m app [gui] [--db PATH]``: the desktop application."""

from __future__ import annotations

import os
from pathlib import Path


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


def run_gui(db: Path | None, demo_hint: str = "") -> int:
    from PySide6.QtWidgets import QDialog, QMessageBox

    from app.views.application import make_application, settings
    from app.views.context import AppContext
    from app.views.login_dialog import LoginDialog
    from app.views.main_window import MainWindow
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
    dialog = LoginDialog(path, demo_hint=demo_hint)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.session is None:
        return 0
    settings().setValue("store/last_path", str(path))
    worker = Worker()
    context = AppContext(dialog.session, worker, settings=settings())
    window = MainWindow(context)
    window.show()
    code = app.exec()
    worker.shutdown()
    dialog.session.close()
    return code
