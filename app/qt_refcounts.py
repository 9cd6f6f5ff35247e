"""Work around a shiboken6 6.12.0 bug on Python 3.11 before any Qt code runs.

Every call of a PySide6 method that returns nothing (QLabel.setText, QPen.setWidthF, …)
drops one reference to ``None`` without having taken one (measured: 1,000 setText calls
lower ``sys.getrefcount(None)`` by 1,000). pyqtgraph makes thousands of such calls per
repaint, so after a while ``None`` is freed and the process aborts ("Fatal Python error:
none_dealloc"); the same was seen for True/False at exit. Python 3.12+ makes these
singletons immortal; this does the same for 3.11 by adding 2**40 references once, which
no session can use up. Remove when the project moves to Python ≥ 3.12 or a fixed shiboken6.
"""

from __future__ import annotations

import sys

_GUARDED = False


def guard_singleton_refcounts() -> None:
    global _GUARDED
    if _GUARDED or sys.version_info >= (3, 12):
        return
    import ctypes

    # ob_refcnt is the first field of every object in release builds of CPython.
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 40
    _GUARDED = True
