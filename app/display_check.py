"""Can a window open here? Checked before the QApplication exists.

Qt aborts the whole process when its platform plugin cannot load (``qt.qpa.plugin: Could not
load the Qt platform plugin "xcb"``) and its message names the wrong library (it blames
``libxcb-cursor0`` whatever is missing). A newcomer deserves one line that names what is missing
and how to fix it, so the GUI commands ask this module first. Qt-free on purpose: importing
PySide6.QtGui is already too late on some systems.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

FIX_HINT = "run: bash tools/setup.sh (installs them), or sudo apt-get install"


def qt_dir() -> Path | None:
    """The Qt folder inside the installed PySide6 wheel (without importing Qt)."""
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "Qt"


def gui_binaries(qt: Path) -> list[Path]:
    """The Qt files a Mimamori window loads on Linux: the xcb platform plugin and its GL
    integrations, the widgets/print/web-engine libraries and the web engine's helper process.
    The system-library check (tests/test_system_libraries.py) and tools/setup.sh follow this list."""
    names = [
        "plugins/platforms/libqxcb.so",
        "lib/libQt6XcbQpa.so.6",
        "lib/libQt6Gui.so.6",
        "lib/libQt6Widgets.so.6",
        "lib/libQt6OpenGL.so.6",
        "lib/libQt6PrintSupport.so.6",
        "lib/libQt6WebEngineCore.so.6",
        "lib/libQt6WebEngineWidgets.so.6",
        "libexec/QtWebEngineProcess",
    ]
    files = [qt / n for n in names]
    files += sorted((qt / "plugins" / "xcbglintegrations").glob("*.so"))
    return [f for f in files if f.exists()]


def missing_libraries(files: list[Path]) -> list[str]:
    """Shared libraries (sonames) the dynamic linker cannot find for these files, via ldd."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    missing: set[str] = set()
    for f in files:
        try:
            out = subprocess.run([ldd, str(f)], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        for line in out.splitlines():
            if "not found" in line:
                missing.add(line.split("=>")[0].strip())
    return sorted(missing)


def debian_package(soname: str) -> str:
    """Debian's package name for a library soname (policy §8.1: libfoo.so.4 → libfoo4,
    libfoo-x11.so.0 → libfoo-x11-0 when the name ends in a digit)."""
    m = re.fullmatch(r"lib(.+)\.so\.(\d+)(?:\..*)?", soname)
    if not m:
        return soname
    base, version = m.group(1), m.group(2)
    return f"lib{base}{'-' if base[-1].isdigit() else ''}{version}"


def _x_display_reachable(display: str) -> bool:
    """Open and close an X connection with libxcb (what Qt's xcb plugin does first)."""
    name = ctypes.util.find_library("xcb")
    if name is None:
        return True  # cannot tell; the missing-library check reports libxcb itself
    try:
        xcb = ctypes.CDLL(name)
    except OSError:
        return True
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    conn = xcb.xcb_connect(display.encode(), None)
    try:
        return xcb.xcb_connection_has_error(conn) == 0
    finally:
        xcb.xcb_disconnect(conn)


def gui_problem(environ=os.environ, platform: str = sys.platform) -> str | None:
    """One line saying why no window can open here and how to fix it, or None when it can."""
    if not platform.startswith("linux"):
        return None
    qpa = environ.get("QT_QPA_PLATFORM", "")
    if qpa and not qpa.startswith("xcb"):
        return None  # offscreen, wayland, vnc …: the user chose; Qt reports on its own
    display = environ.get("DISPLAY", "")
    if not display:
        if environ.get("WAYLAND_DISPLAY") and not qpa:
            return None
        return ("no display: DISPLAY is not set — start Mimamori from the terminal's desktop session "
                "(or use a command with --no-gui / snapshot, which need no screen)")
    qt = qt_dir()
    if qt is not None:
        missing = missing_libraries(gui_binaries(qt))
        if missing:
            packages = " ".join(dict.fromkeys(debian_package(s) for s in missing))
            return (f"cannot open the window: missing system libraries {', '.join(missing)} — "
                    f"{FIX_HINT} {packages}")
    if not _x_display_reachable(display):
        return (f"cannot connect to the display {display} — is the desktop session running and "
                f"may this user open windows on it (xhost/XAUTHORITY)?")
    return None
