"""``python -m app demo``: build the demo municipality into an encrypted demo store and
open the GUI. The demo store says デモ in the window title; its accounts exist only here.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from app.commands.errors import CommandError
from app.store.demo_location import DEMO_PASSWORD, demo_store_path

# account -> (role, areas, display name)
DEMO_ACCOUNTS = {
    "admin": ("data_admin", [], "デモ データ管理担当"),
    "nurse": ("nurse", ["中央"], "デモ 保健師（中央）"),
    "nurse_minami": ("nurse", ["南"], "デモ 保健師（南）"),
    "manager": ("cg_manager", [], "デモ 児相管理職"),
    "chief": ("chief", [], "デモ 課長"),
    "auditor": ("auditor", [], "デモ 監査担当"),
}
DEMO_TERMINAL_LABEL = "デモ端末（デモストアを作成した端末）"
DEMO_USER_FOR_ROLE = {"data_admin": "admin", "nurse": "nurse", "cg_manager": "manager",
                      "chief": "chief", "auditor": "auditor"}


def register(sub) -> None:
    p = sub.add_parser("demo", help="generate the demo municipality into a demo store and open the GUI")
    p.add_argument("--db", type=Path, help="demo store path (default: per-user data folder)")
    p.add_argument("--children", type=int, default=13913)
    p.add_argument("--seed", type=int, default=20240401)
    p.add_argument("--fresh", action="store_true", help="delete an existing demo store first")
    p.add_argument("--no-gui", action="store_true", help="build the store only")
    p.set_defaults(func=run)


def _say(message: str) -> None:
    print(message, flush=True)


def build_demo_store(path: Path, children: int = 13913, seed: int = 20240401, progress=None):
    """Create the store, its demo accounts and its data (generated, imported, scored)."""
    _pipeline()  # before the store exists: a missing package leaves no half-built demo store
    session = create_demo_store(path)
    steps = load_demo_data(session, children, seed)
    session.close()
    return steps


def create_demo_store(path: Path):
    """An empty demo store with one account per role (the only place they exist)."""
    from app.store.accounts import add_user
    from app.store.opening import create_store
    from app.store.terminals import register_terminal

    session = create_store(path, "admin", DEMO_PASSWORD, demo=True)
    for name, (role, areas, display) in DEMO_ACCOUNTS.items():
        if name != "admin":
            add_user(session, name, role, DEMO_PASSWORD, areas=areas, display_name=display)
    session.conn.execute("UPDATE users SET display_name=? WHERE name='admin'", (DEMO_ACCOUNTS["admin"][2],))
    # A demo runs on the machine that built it, so printing and exports work out of the box;
    # a real store never registers a terminal by itself (its data admin does, audited).
    register_terminal(session, DEMO_TERMINAL_LABEL)
    return session


def _pipeline():
    """The demo's stages; a missing package (scikit-learn, …) is one line naming it."""
    try:
        from app.engine.synth import generate_delivery
        from app.store.importing import import_delivery
        from app.store.scoring_runs import run_active_rulesets
        from app.store.staffing_plans import store_boundaries

        # Scoring imports these only when it fits and measures (app/engine/calibration.py keeps
        # them off the working list's start-up path): check them here, before any store exists.
        import scipy.ndimage  # noqa: F401
        import scipy.special  # noqa: F401
        import sklearn.isotonic  # noqa: F401
        import sklearn.linear_model  # noqa: F401
    except ImportError as exc:
        raise CommandError(f"demo: required package {exc.name} is not installed (run tools/setup.sh)") from exc
    return generate_delivery, import_delivery, run_active_rulesets, store_boundaries


def load_demo_data(session, children: int, seed: int) -> list[str]:
    """Generate, import and score the demo municipality with the real pipeline.

    A missing dependency (scikit-learn, …) stops the demo with one line naming it: a demo
    without scores would look like a working one.
    """
    done: list[str] = []
    generate_delivery, import_delivery, run_active_rulesets, store_boundaries = _pipeline()
    with tempfile.TemporaryDirectory(prefix="mimamori-demo-") as tmp:
        # Synthetic extracts live only in this temporary folder, removed after import.
        t0 = time.perf_counter()
        generate_delivery(Path(tmp) / "delivery", children=children, seed=seed)
        done.append(f"generated {children} children in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        import_delivery(session, Path(tmp) / "delivery")
        done.append(f"imported in {time.perf_counter() - t0:.1f} s")
        store_boundaries(session, Path(tmp) / "delivery")
    t0 = time.perf_counter()
    run_active_rulesets(session)
    done.append(f"scored in {time.perf_counter() - t0:.1f} s")
    enter_demo_staff(session)
    done.append("demo staff entered by the demo chief")
    return done


def enter_demo_staff(admin_session) -> None:
    """The demo chief enters a plausible staff table: 24 nurses, 6 of them senior, shared
    out by district population (a real chief types these into the staffing view)."""
    import pandas as pd

    from app.store.areas import district_table
    from app.store.opening import open_store
    from app.store.staffing_plans import set_district_staff

    chief = open_store(admin_session.db_path, "chief", DEMO_PASSWORD)
    try:
        import csv

        from app.resource_files import resource_path

        with open(resource_path("reference", "yokosuka_districts.csv"), encoding="utf-8") as fh:
            pop = {r["district"]: int(r["pop2015"]) for r in csv.DictReader(fh)}
        districts = [d for d, _ in district_table()]
        total = sum(pop.values())
        nurses = {d: max(1, round(24 * pop[d] / total)) for d in districts}
        seniors = {d: 1 if pop[d] >= sorted(pop.values())[-6] else 0 for d in districts}
        set_district_staff(chief, pd.DataFrame({"district": districts, "nurses": [nurses[d] for d in districts],
                                                "seniors": [seniors[d] for d in districts]}))
    finally:
        chief.close()


def demo_hint() -> str:
    names = ", ".join(f"{n}（{r}）" for n, (r, _, _) in DEMO_ACCOUNTS.items())
    return f"デモ用アカウント: {names} — パスワードはすべて {DEMO_PASSWORD}"


def run(args) -> int:
    from app.store.keyslots import slot_path

    path = args.db or demo_store_path()
    if not args.no_gui:
        # Say it now, not after a minute of building the store.
        from app.commands.gui import check_display

        check_display()
    if args.fresh:
        for p in (path, slot_path(path)):
            if p.exists():
                p.unlink()
    if path.exists():
        _say(f"demo store exists: {path} (use --fresh to rebuild)")
    else:
        if slot_path(path).exists():
            raise CommandError(f"a key-slot file without its store exists: {slot_path(path)}; use --fresh")
        _say(f"building the demo store at {path} …")
        for line in build_demo_store(path, args.children, args.seed):
            _say(f"demo: {line}")
    if args.no_gui:
        return 0
    from app.commands.gui import run_gui

    return run_gui(path, demo_hint=demo_hint())
