"""``python -m app snapshot``: render one view offscreen exactly as the logged-in role sees
it and save a PNG (for tests, README and notes)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from app.commands.errors import CommandError
from app.commands.session_args import add_login_args, open_session

VIEW_CHOICES = ["list", "timeline", "map", "staffing", "import", "audit", "rules", "users"]
ROLE_CODES = ["nurse", "cg_manager", "chief", "data_admin", "auditor"]
# README's demo-account table names people by account ("manager", "admin"): accept those too.
ROLE_ALIASES = {"manager": "cg_manager", "admin": "data_admin"}


def _role(value: str) -> str:
    import argparse

    role = ROLE_ALIASES.get(value, value)
    if role not in ROLE_CODES:
        raise argparse.ArgumentTypeError(
            f"unknown role '{value}' (choose from {', '.join(ROLE_CODES)}; manager and admin also work)")
    return role


def register(sub) -> None:
    p = sub.add_parser("snapshot", help="render a view offscreen to a PNG, as the user's role sees it")
    add_login_args(p, db_required=False)
    p.add_argument("--role", type=_role, metavar="ROLE",
                   help=f"demo stores only: log in as that role's demo account ({', '.join(ROLE_CODES)})")
    p.add_argument("--view", required=True, choices=VIEW_CHOICES)
    p.add_argument("--child", help="research ID of the child to show (timeline, list)")
    p.add_argument("--run", type=int, default=None, metavar="RUN_ID",
                   help="timeline: the flags and as-of date of this scoring run, as when opened from the list")
    p.add_argument("--tab", type=int, default=None, metavar="N",
                   help="show the view's N-th tab first (0-based; a view without tabs has only tab 0)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--size", default="1400x900", help="window size WxH")
    p.set_defaults(func=run)


def _login(args):
    from app.commands.demo import DEMO_PASSWORD, DEMO_USER_FOR_ROLE, demo_store_path
    from app.store.opening import StoreError, open_store

    if args.db is None:
        args.db = demo_store_path()
    if args.role:
        if args.user:
            raise CommandError("give either --role (demo stores) or --user, not both")
        try:
            session = open_store(args.db, DEMO_USER_FOR_ROLE[args.role], DEMO_PASSWORD)
        except StoreError as exc:
            raise CommandError(f"--role works only with a demo store: {exc}") from None
        if not session.demo:
            session.close()
            raise CommandError("--role works only with a demo store; log in with --user instead")
        return session
    return open_session(args)


def wait_until_ready(app, page, timeout_s: float = 30.0) -> bool:
    """Process events until the page says it is ready (property ``ready`` or method)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        app.processEvents()
        ready = getattr(page, "is_ready", None)
        state = ready() if callable(ready) else page.property("ready")
        if state is None or state:
            break
        time.sleep(0.02)
    # Let layouts and late paints settle.
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    return True


def view_tabs(page):
    """The view's own tab bar: its ``tabs`` attribute by convention, else the outermost
    QTabWidget inside it; None for a view without tabs."""
    from PySide6.QtWidgets import QTabWidget

    tabs = getattr(page, "tabs", None)
    if isinstance(tabs, QTabWidget):
        return tabs

    def depth(w):
        n = 0
        while w is not None and w is not page:
            w, n = w.parentWidget(), n + 1
        return n

    found = page.findChildren(QTabWidget)
    return min(found, key=depth) if found else None


def tab_count(page) -> int:
    tabs = view_tabs(page)
    return tabs.count() if tabs is not None else 1


def select_tab(page, index: int) -> None:
    """Show the page's tab ``index`` (0-based) or raise CommandError naming the tabs there are."""
    tabs = view_tabs(page)
    count = tabs.count() if tabs is not None else 1
    if not 0 <= index < count:
        names = ", ".join(f"{i}={tabs.tabText(i)}" for i in range(count)) if tabs is not None else "0"
        raise CommandError(f"no tab {index} in this view (tabs: {names})")
    if tabs is not None:
        tabs.setCurrentIndex(index)


def open_view(session, view: str, child: str | None = None, size=(1400, 900), run: int | None = None):
    """The main window as the session's role sees it, showing ``view`` (and ``child``), ready.
    Returns (app, window, page); the caller disposes of the window with ``dispose``."""
    from app.views.application import make_application
    from app.views.context import AppContext
    from app.views.main_window import MainWindow
    from app.views.worker import ImmediateWorker

    app = make_application()
    context = AppContext(session, ImmediateWorker(), settings=None)
    window = MainWindow(context)
    if view not in window.view_keys:
        dispose(app, window)
        raise CommandError(f"the role {session.role} may not open the view '{view}'", exit_code=3)
    window.resize(*size)
    window.show_view(view)
    page = window.page(view)
    if child:
        context.selection.child_selected.emit(child)
        if run is None:
            context.selection.open_child.emit(child)
        else:
            context.selection.open_child_in_run.emit(child, int(run))
        window.show_view(view)
    window.show()
    wait_until_ready(app, page)
    return app, window, page


def render(session, view: str, out: Path, child: str | None = None, size=(1400, 900),
           tab: int | None = None, run: int | None = None) -> Path:
    from app.store.database import transaction

    app, window, page = open_view(session, view, child, size, run)
    try:
        if tab is not None:
            select_tab(page, tab)
            wait_until_ready(app, page)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(out), "PNG"):
            raise CommandError(f"could not write {out}")
        with transaction(session.conn):
            detail = {k: v for k, v in (("child", child), ("tab", tab), ("run", run)) if v is not None}
            session.audit("snapshot", "view", [view], detail or None)
    finally:
        dispose(app, window)
    return out


def _check_child(session, child: str) -> None:
    """An unknown child, or one outside the user's districts, is an error, not an empty picture."""
    known = session.conn.execute("SELECT district FROM persons WHERE person_id = ?", (child,)).fetchone() \
        if session.conn.execute("SELECT 1 FROM sqlite_master WHERE name='persons'").fetchone() else None
    if known is None:
        raise CommandError(f"研究用ID {child} の子どもはいません")
    districts = session.visible_districts()
    if districts is not None and known[0] not in districts:
        raise CommandError(f"研究用ID {child} の子どもは担当地区の外です", exit_code=3)


def dispose(app, window) -> None:
    """Close and delete the window now: a second render in the same process (tests, a loop over
    tabs) must not leave the first one's views receiving events after their session closed."""
    from PySide6.QtCore import QEvent

    close_views = getattr(window, "close_views", None)
    if callable(close_views):
        close_views()
    window.close()
    window.deleteLater()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()


def run(args) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        w, h = (int(x) for x in args.size.lower().split("x"))
    except ValueError:
        raise CommandError("--size must look like 1400x900") from None
    if args.view == "timeline" and not args.child:
        raise CommandError("snapshot --view timeline needs --child ID (the research ID of the child to show)")
    session = _login(args)
    try:
        if args.child:
            _check_child(session, args.child)
        out = render(session, args.view, args.out, args.child, (w, h), tab=args.tab, run=args.run)
    finally:
        session.close()
    print(f"wrote {out}")
    return 0
