"""Cold start of the GUI: from launching a fresh Python process to the login dialog on screen.

The child process runs the application's own start path (``app.commands.gui.run_gui``) with the
login dialog's ``exec`` replaced by "show, let it paint, report, close" — so everything the user
waits for before typing a password is inside the figure: interpreter start, imports (PySide6,
the store), QApplication, translations, theme, the dialog. Offscreen (no display needed).
If a frozen build is found (``$MIMAMORI_FROZEN_DIR`` or /tmp/mimamori-frozen/dist/mimamori), the
start of the frozen command-line program is measured too.

    python benchmarks/bench_gui.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run_all import ROOT, row  # noqa: E402

CHILD = r"""
import sys, time
from pathlib import Path
from app.views import login_dialog

def fake_exec(self):
    from PySide6.QtWidgets import QApplication
    self.show()
    app = QApplication.instance()
    deadline = time.monotonic() + 30
    while not (self.isVisible() and self.windowHandle() and self.windowHandle().isExposed()):
        app.processEvents()
        if time.monotonic() > deadline:
            break
    app.processEvents()
    print("LOGIN-DIALOG-SHOWN", flush=True)
    self.close()
    return 0

login_dialog.LoginDialog.exec = fake_exec
from app.commands.gui import run_gui
sys.exit(run_gui(Path(sys.argv[1])))
"""


def _frozen_cli() -> Path | None:
    base = Path(os.environ.get("MIMAMORI_FROZEN_DIR", "/tmp/mimamori-frozen/dist/mimamori"))
    for name in ("mimamori-cli", "mimamori-cli.exe"):
        if (base / name).exists():
            return base / name
    return None


def _time_until(cmd: list[str], marker: str | None, env: dict, timeout: float = 120) -> float:
    """Seconds from spawning ``cmd`` to the marker line on stdout (or to its exit)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                            cwd=str(ROOT))
    elapsed = None
    try:
        for line in proc.stdout:
            if marker and marker in line:
                elapsed = time.perf_counter() - t
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    if marker and elapsed is None:
        raise RuntimeError(f"{cmd[0]} never printed {marker} (exit {proc.returncode})")
    return elapsed if elapsed is not None else time.perf_counter() - t


def run(size: int | None = None, quick: bool = False) -> list[dict]:
    """Median (and first) cold start to the login dialog; the frozen CLI's start if built."""
    from app.store.opening import create_store

    repeats = 2 if quick else 5
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MIMAMORI_LANG="ja",
               PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    env.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")
    out = []
    with tempfile.TemporaryDirectory(prefix="mimamori-bench-gui-") as tmp:
        db = Path(tmp) / "gui.db"
        create_store(db, "bench", "bench-gui-password-1", check_policy=False).close()
        # A fresh XDG config home: the run must not touch the user's own settings.
        env["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        times = [_time_until([sys.executable, "-c", CHILD, str(db)], "LOGIN-DIALOG-SHOWN", env)
                 for _ in range(repeats)]
        out.append(row("cold start to login dialog (source, median)", None, statistics.median(times), None,
                       f"{repeats} fresh processes; first {times[0]:.2f} s, min {min(times):.2f} s",
                       runs=times))
        frozen = _frozen_cli()
        if frozen:
            ftimes = [_time_until([str(frozen), "--help"], None, env) for _ in range(repeats)]
            out.append(row("frozen program start (mimamori-cli --help, median)", None,
                           statistics.median(ftimes), None, f"{frozen.parent}", runs=ftimes))
        else:
            out.append(row("frozen program start", None, None, None,
                           "not available: no frozen build (run tools/build_frozen.sh)", status="not available"))
    return out


if __name__ == "__main__":
    from benchmarks.run_all import format_table

    print(format_table(run()))
