"""Run every Mimamori benchmark, print one table and write JSON.

    python benchmarks/run_all.py [--sizes 13913,200000] [--quick] [--json OUT] [--only NAME,...]
    python -m app bench …            (the same, from the application's command line)

Benchmarks are measurements, never pass/fail tests: a suite that fails or is missing is
reported in the table as such, and the run goes on.

The common interface of a benchmark module ``benchmarks/bench_<area>.py``::

    SIZED = True            # optional: run once per --sizes value (else once, with size=None)
    def run(size: int | None, quick: bool) -> list[dict]:
        # each row: name (str), size (int | None), seconds (float | None),
        #           peak_mb (float | None), note (str); extra keys are kept in the JSON.

``quick`` asks for tiny inputs (the whole quick suite must finish in about a minute).
Each module runs in a fresh Python process (its own peak memory, a crash stays contained,
a time limit applies). A module that does not exist yet, or has no ``run``, is listed as
"not available" — never replaced by made-up figures.

The pipeline (generate → import+link → score) is measured here, through the application's
contract functions, one stage per process, in a temporary folder deleted at the end:
synthetic extracts count as person data and never stay on disk.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_SIZES = [13913, 200000]
QUICK_SIZE = 300
# Suites in table order: "pipeline" is built in; the rest are modules benchmarks/<name>.py.
SUITES = [
    "pipeline",
    "bench_generate", "bench_import", "bench_score", "bench_duckdb",
    "bench_store", "bench_linkage_reference",
    "bench_worklist", "bench_evidence", "bench_timeline", "bench_map", "bench_gui",
]
# Short names accepted by --only (``--only evidence`` = bench_evidence).
ALIASES = {"evidence": "bench_evidence"}
# Suites that build their own store inside one process (generate + import + score + measure)
# get longer than one pipeline stage: 200,000 children take about ten minutes to build;
# bench_duckdb runs 13 engine processes over its generated city.
SUITE_TIMEOUT_S = {"bench_evidence": 1800, "bench_duckdb": 1800}
# Suites whose own figures the built-in pipeline already gives at every size; in a full run
# they are run once at the smallest size only, to keep the whole suite within 15 minutes.
# (bench_score is not among them: it scores 200,000 children by tiling a generated city, which
# is the only scoring figure at that size when the pipeline's import cannot reach it in time.)
PIPELINE_COVERED = {"bench_generate", "bench_import"}
ROW_MARK = "@@BENCH-ROWS@@"
# Every benchmark process runs under the same shiboken6 6.12 / Python 3.11 guard as the
# application (app/views/timeline/__init__.py: None/True/False made immortal); without it a
# script making millions of Qt calls aborts with "none_dealloc", which the app never would.
GUARD = "import app.views.timeline"
FULL_TIMEOUT_S = 600
QUICK_TIMEOUT_S = 120


def peak_rss_mb() -> float | None:
    """Peak resident memory of this process so far, in MiB (None if the OS does not say)."""
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return round(peak / 1024 if sys.platform != "darwin" else peak / 2**20, 1)
    except ImportError:  # Windows
        try:
            import psutil

            return round(psutil.Process().memory_info().peak_wset / 2**20, 1)
        except Exception:
            return None


def children_peak_mb() -> float:
    """Peak resident memory of the largest child process that has ended, in MiB (0: none, or
    the OS does not say). Finished multiprocessing children are reaped first."""
    import multiprocessing

    multiprocessing.active_children()
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return round(peak / 1024 if sys.platform != "darwin" else peak / 2**20, 1)
    except ImportError:  # Windows: not measured
        return 0.0


def row(name: str, size: int | None, seconds: float | None, peak_mb: float | None = None,
        note: str = "", **extra) -> dict:
    """One result row in the common layout."""
    out = {"name": name, "size": size, "seconds": None if seconds is None else round(seconds, 7),
           "peak_mb": peak_mb, "note": note}
    out.update(extra)
    return out


def machine() -> dict:
    """The machine the figures belong to."""
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "machine": platform.machine()}
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            fields = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        info["os"] = fields.get("PRETTY_NAME", "").strip('"')
    except OSError:
        info["os"] = platform.system()
    if hasattr(os, "getloadavg"):
        # Other work on the machine skews wall times: the load average says how much there was.
        info["load_average_1min"] = round(os.getloadavg()[0], 2)
    try:
        import psutil

        info["memory_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
    except Exception:
        pass
    for module in ("PySide6", "pandas", "numpy", "sklearn", "pyqtgraph", "folium", "recordlinkage"):
        try:
            info[module] = importlib.import_module(module).__version__
        except Exception:
            pass
    try:
        import sqlcipher3

        info["sqlcipher"] = sqlcipher3.connect(":memory:").execute("PRAGMA cipher_version").fetchone()[0]
    except Exception:
        pass
    return info


# --- the built-in pipeline -------------------------------------------------------------------

def _stage(stage: str, size: int, folder: Path, password: str) -> list[dict]:
    """One pipeline stage, run inside its own process (see ``_run_stage``)."""
    delivery = folder / "delivery"
    db = folder / "bench.db"
    if stage == "generate":
        from app.engine.synth import generate_delivery

        t = time.perf_counter()
        s = generate_delivery(delivery, children=size)
        wall = time.perf_counter() - t
        return [row("generate", size, wall, peak_rss_mb(),
                    f"{s.persons} persons, {getattr(s, 'receipts', '?')} receipts")]
    if stage == "import":
        from app.store.importing import import_delivery
        from app.store.opening import create_store

        from app.engine.progress import Progress

        # The helper process that reads some of a large delivery's files (app/engine/ingest/
        # delivery.py) has memory of its own, which this process's ru_maxrss does not count: the
        # peak reported is the larger of this process's and (its peak by the end of the read +
        # the helper's peak), an upper bound of the two together (no sampling in the timing).
        at_read: list[float] = []
        progress = Progress(lambda f, m: at_read.append(peak_rss_mb() or 0) if m == "読み込み完了" else None)
        session = create_store(db, "bench", password, check_policy=False)
        try:
            t = time.perf_counter()
            summary = import_delivery(session, delivery, progress=progress)
            wall = time.perf_counter() - t
        finally:
            session.close()
        note = ", ".join(f"{k} {v}" for k, v in vars(summary).items()
                         if isinstance(v, (int, float)) and not isinstance(v, bool))[:160] \
            if hasattr(summary, "__dict__") else ""
        helper = children_peak_mb()
        peak = max(peak_rss_mb() or 0, (at_read[0] if at_read else 0) + helper)
        return [row("import+link", size, wall, peak, note + (f"; helper process peak {helper:.0f} MB" if helper else ""))]
    if stage == "score":
        try:
            from app.store.scoring_runs import run_active_rulesets
        except ImportError:
            return [row("score", size, None, None, "not available (app.store.scoring_runs missing)",
                        status="not available")]
        from app.store.opening import open_store

        session = open_store(db, "bench", password)
        try:
            t = time.perf_counter()
            run_active_rulesets(session)
            wall = time.perf_counter() - t
        finally:
            session.close()
        return [row("score", size, wall, peak_rss_mb(), "all active rule sets")]
    if stage == "list":
        return _list_after_login(size, db, password)
    raise ValueError(stage)


def _list_after_login(size: int, db: Path, password: str) -> list[dict]:
    """From the password to a filled working list, as each role's window shows it.

    The real main window with the real list view, its query and its table model, offscreen; the
    worker runs tasks at once (the same code the worker thread runs, without the thread hop).
    Login (Argon2id key unwrap) is included: it is part of what the user waits for. The list
    after login reads the working list's rows (the run's order down to its last 抽出/至急
    child); ``list all children`` is the wait after a click on 「全件」, which reads every child.
    """
    from app.store.accounts import add_user
    from app.store.opening import open_store
    from app.views.application import make_application
    from app.views.context import AppContext
    from app.views.main_window import MainWindow
    from app.views.worker import ImmediateWorker

    admin = open_store(db, "bench", password)
    try:
        add_user(admin, "bench_manager", "cg_manager", password)
        add_user(admin, "bench_nurse", "nurse", password, areas=["中央"])
    finally:
        admin.close()
    app = make_application()
    rows = []
    for user, label in (("bench_manager", "cg_manager, whole city"), ("bench_nurse", "nurse, 中央 centre")):
        t = time.perf_counter()
        session = open_store(db, user, password)
        window = MainWindow(AppContext(session, ImmediateWorker(), settings=None))
        window.show_view("list")
        page = window.page("list")
        app.processEvents()
        wall = time.perf_counter() - t
        shown, read, total = page.model.rowCount(), len(page.model.frame), page.data.total if page.data else 0
        rows.append(row("list after login", size, wall, peak_rss_mb(),
                        f"{label}: {shown} rows shown, {read} of {total} children read"))
        t = time.perf_counter()
        page.conditions.show_everyone()
        app.processEvents()
        wall = time.perf_counter() - t
        rows.append(row("list all children", size, wall, peak_rss_mb(),
                        f"{label}: 全件 clicked, {page.model.rowCount()} rows shown"))
        window.close()
        session.close()
    return rows


def _child_env(password: str | None = None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")
    if password is not None:
        env["MIMAMORI_BENCH_PASSWORD"] = password
    return env


def _in_child(args: list[str], timeout: float, password: str | None = None) -> tuple[str, list[dict], str]:
    """Run ``run_all.py --child …`` in a fresh process; (status, rows, error text)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=str(ROOT),
                             env=_child_env(password))
    except subprocess.TimeoutExpired:
        return "timeout", [], f"timed out after {timeout:.0f} s"
    for line in reversed(res.stdout.splitlines()):
        if line.startswith(ROW_MARK):
            return "ok", json.loads(line[len(ROW_MARK):]), ""
    return "failed", [], f"exit {res.returncode}: {_error_line(res)}"


def _error_line(res: subprocess.CompletedProcess) -> str:
    """The line of a failed child's output that says what went wrong."""
    lines = res.stderr.strip().splitlines() or res.stdout.strip().splitlines() or ["no output"]
    for line in lines:
        if line.startswith("Fatal Python error"):
            return line[:200]
    for line in reversed(lines):
        if "Error" in line or "Exception" in line:
            return line.strip()[:200]
    return lines[-1].strip()[:200]


def run_pipeline(size: int, timeout: float) -> tuple[str, list[dict]]:
    """generate → import+link → score → list after login at ``size`` children, each stage in its
    own process."""
    rows: list[dict] = []
    password = secrets.token_urlsafe(18)
    with tempfile.TemporaryDirectory(prefix="mimamori-bench-") as tmp:
        stages = ["generate", "import", "score", "list"]
        for i, stage in enumerate(stages):
            status, got, err = _in_child(["--stage", stage, "--size", str(size), "--dir", tmp],
                                         timeout, password)
            if status != "ok":
                rows.append(row(stage, size, None, None, f"{status}: {err}", status=status))
                rows.extend(row(later, size, None, None, f"not run: {stage} did not finish", status="not run")
                            for later in stages[i + 1:])
                return status, rows
            rows.extend(got)
    return "ok", rows


# --- modules of the other areas ----------------------------------------------------------------

# Scripts written before the run() interface: how to call them from the command line, for a
# full run (given the size) and for a quick one. Their printed lines are quoted as rows.
SCRIPT_ARGS = {
    "bench_generate": (lambda size: [str(size)], ["300"]),
    "bench_import": (lambda size: ["--children", str(size)], ["--children", "300"]),
    "bench_worklist": (lambda size: ["--rows", "200000"], ["--rows", "2000", "--repeat", "1"]),
    "bench_timeline": (lambda size: ["--events", "2000"], ["--events", "200", "--repeat", "1"]),
}


def module_status(name: str) -> tuple[str, str]:
    """How benchmarks/<name>.py can be run, judged without importing it:
    ("run", "") with the run(size, quick) interface, ("script", "") through SCRIPT_ARGS,
    ("missing", why) otherwise."""
    path = ROOT / "benchmarks" / f"{name}.py"
    if not path.exists():
        return "missing", "not available (script not written yet)"
    text = path.read_text("utf-8", errors="replace")
    if "\ndef run(" in text:
        return "run", ""
    if name in SCRIPT_ARGS:
        return "script", ""
    return "missing", f"not available: {path.name} has no run(size, quick) (run it by hand)"


def run_script(name: str, size: int | None, quick: bool, timeout: float) -> tuple[str, list[dict]]:
    """Run an interface-less script; each line it prints becomes a row (its own figures, quoted)."""
    full, quick_args = SCRIPT_ARGS[name]
    args = quick_args if quick else full(size)
    script = ROOT / "benchmarks" / f"{name}.py"
    launcher = (f"import sys, runpy; {GUARD}; sys.argv = {[str(script), *args]!r}; "
                f"runpy.run_path({str(script)!r}, run_name='__main__')")
    cmd = [sys.executable, "-c", launcher]
    t = time.perf_counter()
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=str(ROOT),
                             env=_child_env())
    except subprocess.TimeoutExpired:
        return "timeout", [row("—", size, None, None, f"timeout: after {timeout:.0f} s", status="timeout")]
    wall = time.perf_counter() - t
    if res.returncode != 0:
        return "failed", [row("—", size, None, None, f"failed: exit {res.returncode}: {_error_line(res)}",
                              status="failed")]
    rows = [row(f"{name}.py {' '.join(args)} (whole script)", size, wall, None,
                "figures below as printed by the script", stdout=res.stdout)]
    for line in res.stdout.splitlines():
        if line.strip():
            rows.append(row(line.strip()[:140], size, None, None, ""))
    return "ok", rows


def _run_module_here(name: str, size: int | None, quick: bool) -> list[dict]:
    module = importlib.import_module(f"benchmarks.{name}")
    rows = module.run(size, quick)
    for r in rows:
        r.setdefault("size", size)
        r.setdefault("peak_mb", None)
        r.setdefault("note", "")
        r.setdefault("seconds", None)
    return rows


def _sized(name: str) -> bool:
    text = (ROOT / "benchmarks" / f"{name}.py").read_text("utf-8", errors="replace")
    return "\nSIZED = True" in text


# --- the table ----------------------------------------------------------------------------------

def _fmt_seconds(value) -> str:
    if value is None:
        return "—"
    if value < 0.001:
        return f"{value * 1e6:.0f} µs"
    if value < 1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s"


def format_table(rows: list[dict]) -> str:
    """A Markdown table of the rows (also readable in a terminal)."""
    lines = ["| suite | measurement | size | time | peak MB | note |",
             "|---|---|---:|---:|---:|---|"]
    for r in rows:
        size = f"{r['size']:,}" if isinstance(r.get("size"), int) else "—"
        peak = f"{r['peak_mb']:.0f}" if isinstance(r.get("peak_mb"), (int, float)) else "—"
        note = str(r.get("note", "")).replace("|", "/")
        lines.append(f"| {r.get('suite', '')} | {r['name']} | {size} | {_fmt_seconds(r.get('seconds'))} "
                     f"| {peak} | {note} |")
    return "\n".join(lines)


def markdown_report(result: dict) -> str:
    """The run as a Markdown section: machine, command, per-suite status and the table."""
    m = result["machine"]
    sizes = ",".join(str(x) for x in result["sizes"])
    lines = [f"Run {result['started']}: `python -m app bench --sizes {sizes}"
             f"{' --quick' if result['quick'] else ''}` — whole run {result['total_seconds']:.0f} s.",
             "",
             f"Machine: {m.get('os', '')}, {m.get('cpus')} cores, {m.get('memory_gib', '?')} GiB, "
             f"Python {m['python']}; PySide6 {m.get('PySide6', '?')}, pandas {m.get('pandas', '?')}, "
             f"scikit-learn {m.get('sklearn', '?')}, SQLCipher {m.get('sqlcipher', '?')}, "
             f"recordlinkage {m.get('recordlinkage', 'not installed')}. Load average (1 min) "
             f"{m.get('load_average_at_start')} at the start and {m.get('load_average_1min')} at the end "
             f"(other work shared the machine).", "",
             "| suite | status | seconds |", "|---|---|---:|"]
    lines += [f"| {s['suite']} | {s['status']} | {s['seconds']:.0f} |" for s in result["suites"]]
    lines += ["", format_table(result["rows"])]
    return "\n".join(lines) + "\n"


def run_suites(sizes: list[int], quick: bool, only: list[str] | None = None,
               echo=print) -> dict:
    """Run the suites; the result dict is what ``--json`` writes."""
    started = time.perf_counter()
    started_at = dt.datetime.now().isoformat(timespec="seconds")
    load_before = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    timeout = QUICK_TIMEOUT_S if quick else FULL_TIMEOUT_S
    sizes = [QUICK_SIZE] if quick else sizes
    all_rows: list[dict] = []
    suites: list[dict] = []
    for name in SUITES:
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        if name == "pipeline":
            status = "ok"
            for size in sizes:
                echo(f"… pipeline at {size:,} children")
                st, got = run_pipeline(size, timeout)
                status = status if st == "ok" else st
                all_rows.extend(dict(r, suite=name) for r in got)
            suites.append({"suite": name, "status": status, "seconds": round(time.perf_counter() - t0, 1)})
            continue
        kind, why = module_status(name)
        if kind == "missing":
            all_rows.append(row("—", None, None, None, why, suite=name, status="not available"))
            suites.append({"suite": name, "status": "not available", "seconds": 0.0, "note": why})
            echo(f"… {name}: {why}")
            continue
        if quick and name in PIPELINE_COVERED:
            # The quick run's pipeline already calls the same functions; keep the smoke run short.
            note = "skipped in --quick (the pipeline rows measure the same step)"
            all_rows.append(row("—", None, None, None, note, suite=name, status="skipped"))
            suites.append({"suite": name, "status": "skipped", "seconds": 0.0, "note": note})
            continue
        sized = _sized(name) or name in PIPELINE_COVERED
        run_sizes: list[int | None] = list(sizes) if sized else [None]
        if name in PIPELINE_COVERED and not quick:
            run_sizes = run_sizes[:1]
        status = "ok"
        for size in run_sizes:
            echo(f"… {name}" + (f" at {size:,}" if size else ""))
            if kind == "script":
                st, got = run_script(name, size, quick, timeout)
            else:
                args = ["--child", name] + (["--size", str(size)] if size else []) + (["--quick"] if quick else [])
                st, got, err = _in_child(args, timeout if quick else SUITE_TIMEOUT_S.get(name, timeout))
                if st != "ok":
                    got = [row("—", size, None, None, f"{st}: {err}", status=st)]
            status = status if st == "ok" else st
            all_rows.extend(dict(r, suite=name) for r in got)
        suites.append({"suite": name, "status": status, "seconds": round(time.perf_counter() - t0, 1)})
    return {"started": started_at, "quick": quick, "sizes": sizes,
            "machine": dict(machine(), load_average_at_start=load_before), "total_seconds": round(time.perf_counter() - started, 1),
            "suites": suites, "rows": all_rows}


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    except ValueError:
        raise SystemExit(f"--sizes must be comma-separated integers, got {text!r}")
    if not sizes or min(sizes) < 10:
        raise SystemExit("--sizes needs at least one size of 10 or more")
    return sizes


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog="benchmarks/run_all.py", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="children for the sized benchmarks (default 13913,200000)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, about a minute: a smoke run")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--only", help="comma-separated suite names (pipeline, bench_store, …)")
    parser.add_argument("--markdown", type=Path, help="also write the run as a Markdown section here")
    return parser


def main_with(args) -> int:
    only = [ALIASES.get(s.strip(), s.strip()) for s in args.only.split(",")] if getattr(args, "only", None) else None
    result = run_suites(parse_sizes(args.sizes), args.quick, only)
    print()
    print(format_table(result["rows"]))
    m = result["machine"]
    print(f"\n{m.get('os', '')}, Python {m['python']}, {m['cpus']} CPUs, "
          f"{m.get('memory_gib', '?')} GiB; load average {m.get('load_average_at_start')} at start, "
          f"{m.get('load_average_1min')} at end; whole run {result['total_seconds']:.0f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), "utf-8")
        print(f"wrote {args.json}")
    if getattr(args, "markdown", None):
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown_report(result), "utf-8")
        print(f"wrote {args.markdown}")
    return 0


def _child_main(argv: list[str]) -> int:
    """Inside a fresh process: one pipeline stage or one module's run(); rows on stdout."""
    p = argparse.ArgumentParser()
    p.add_argument("--child")
    p.add_argument("--stage")
    p.add_argument("--size", type=int)
    p.add_argument("--dir", type=Path)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args(argv)
    try:
        exec(GUARD)
    except ImportError:
        pass
    if a.stage:
        rows = _stage(a.stage, a.size, a.dir, os.environ["MIMAMORI_BENCH_PASSWORD"])
    else:
        rows = _run_module_here(a.child, a.size, a.quick)
    print(ROW_MARK + json.dumps(rows, ensure_ascii=False, default=str), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("--child", "--stage"):
        return _child_main(argv)
    return main_with(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
