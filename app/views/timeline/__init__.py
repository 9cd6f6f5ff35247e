"""Plot components of the per-child timeline (pyqtgraph inside Qt).

- ``date_axis.JapaneseDateAxis``: Japanese date labels (日/月/年, optional 和暦) that never touch.
- ``plot.TimelinePlot``: lanes + numeric series (second x-linked ViewBox) + overview range bar.
- ``sample``: the fictional SAMPLE child for the preview, tests and benchmark (never real data).

Importing this package applies ``guard_singleton_refcounts`` (see there).
"""

from __future__ import annotations

import sys

_GUARDED = False


def guard_singleton_refcounts() -> None:
    """Work around shiboken6 6.12.0 on Python 3.11: every call of a PySide6 method that returns
    nothing (QPen.setWidthF, QLabel.setText, …) drops one reference to ``None`` without taking
    it. pyqtgraph makes thousands of such calls per repaint, so after a while ``None`` is freed
    and the process aborts ("Fatal Python error: none_dealloc"); the same was seen for
    ``True``/``False`` ("bool_dealloc" at exit). Python 3.12+ makes these singletons immortal,
    which is what this does for 3.11: it adds 2**40 references to each, once.
    """
    global _GUARDED
    if _GUARDED or sys.version_info >= (3, 12):
        return
    import ctypes

    # ob_refcnt is the first field of every object in release builds of CPython.
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 40
    _GUARDED = True


guard_singleton_refcounts()
