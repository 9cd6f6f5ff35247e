"""A fresh machine can open the window: every system library Qt's xcb plugin and Qt WebEngine
load is found, and tools/setup.sh installs the Debian package that provides it.

These run ldd on the real binaries of the installed PySide6 wheel, so a Qt upgrade that needs a
new library fails here (with the library's name) rather than on a caseworker's terminal.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import display_check

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("ldd") is None,
                                reason="ldd and Qt's xcb plugin exist on Linux only")

SETUP = Path(__file__).resolve().parents[1] / "tools" / "setup.sh"


def _gui_binaries() -> list[Path]:
    qt = display_check.qt_dir()
    assert qt is not None, "PySide6 is not installed"
    files = display_check.gui_binaries(qt)
    names = {f.name for f in files}
    assert {"libqxcb.so", "libQt6XcbQpa.so.6", "QtWebEngineProcess", "libQt6WebEngineCore.so.6"} <= names
    return files


def _setup_packages() -> set[str]:
    text = SETUP.read_text("utf-8")
    packages: set[str] = set()
    for array in ("gui_packages", "other_packages"):
        body = re.search(rf"{array}=\((.*?)\)", text, re.S)
        assert body, f"{array} not found in tools/setup.sh"
        packages |= {w for w in re.sub(r"#.*", "", body.group(1)).split()}
    return packages


def test_every_library_of_the_gui_plugins_is_found():
    missing = display_check.missing_libraries(_gui_binaries())
    assert not missing, (f"not found: {', '.join(missing)} — run bash tools/setup.sh "
                         f"(apt-get install {' '.join(display_check.debian_package(s) for s in missing)})")


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="Debian/Ubuntu package check")
def test_setup_installs_the_package_of_every_system_library():
    """What a fresh image lacks is whatever this machine happens to have: so every library
    ldd resolves outside the wheel must belong to a package setup.sh names."""
    listed = _setup_packages()
    libraries: set[str] = set()
    for f in _gui_binaries():
        out = subprocess.run(["ldd", str(f)], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            m = re.search(r"=>\s+(/\S+)", line)
            if m and "PySide6" not in m.group(1):
                libraries.add(str(Path(m.group(1)).resolve()))
    assert len(libraries) > 40
    unlisted: dict[str, str] = {}
    for lib in sorted(libraries):
        owner = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True)
        if owner.returncode != 0:
            # merged /usr: dpkg knows the /lib path of a file it installed under /usr/lib
            owner = subprocess.run(["dpkg", "-S", lib.removeprefix("/usr")], capture_output=True, text=True)
        assert owner.returncode == 0, f"{lib} belongs to no Debian package"
        package = owner.stdout.split(":")[0].strip()
        if package.removesuffix("t64") not in listed:
            unlisted[package] = lib
    assert not unlisted, f"tools/setup.sh does not install: {unlisted}"


def test_package_names_follow_debian_policy():
    # Checked by hand against packages.debian.org (bookworm): the library file each ships.
    assert display_check.debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert display_check.debian_package("libxcb-keysyms.so.1") == "libxcb-keysyms1"
    assert display_check.debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert display_check.debian_package("libxcb-render-util.so.0") == "libxcb-render-util0"


def test_no_display_is_one_line_naming_it():
    msg = display_check.gui_problem({}, "linux")
    assert msg and "\n" not in msg and "DISPLAY" in msg
    assert display_check.gui_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_check.gui_problem({}, "win32") is None


def test_missing_library_is_named_with_its_package(monkeypatch):
    monkeypatch.setattr(display_check, "missing_libraries", lambda files: ["libxcb-icccm.so.4"])
    msg = display_check.gui_problem({"DISPLAY": ":0"}, "linux")
    assert "libxcb-icccm.so.4" in msg and "apt-get install libxcb-icccm4" in msg and "\n" not in msg


def test_gui_command_exits_non_zero_with_one_line_and_no_qt_abort(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "app", "gui"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 4
    assert proc.stderr.count("\n") == 1 and "DISPLAY" in proc.stderr
    assert "qt.qpa" not in proc.stderr


def test_unreachable_display_is_named():
    # No X server listens on display :987 here; with the libraries present the check connects
    # the way Qt's xcb plugin would and reports the display instead of letting Qt abort.
    msg = display_check.gui_problem({"DISPLAY": ":987"}, "linux")
    assert msg and "\n" not in msg
    assert ":987" in msg or "missing system libraries" in msg
