"""Plot components of the per-child timeline (pyqtgraph inside Qt).

- ``date_axis.JapaneseDateAxis``: Japanese date labels (日/月/年, optional 和暦) that never touch.
- ``plot.TimelinePlot``: lanes + numeric series (second x-linked ViewBox) + overview range bar.
- ``sample``: the fictional SAMPLE child for the preview, tests and benchmark (never real data).

Importing this package applies ``guard_singleton_refcounts`` (see there).
"""

from __future__ import annotations

# The guard lives in app/qt_refcounts.py and runs when app.views is imported; kept importable
# here for the modules and tests that call it by this name.
from app.qt_refcounts import guard_singleton_refcounts  # noqa: E402,F401

guard_singleton_refcounts()
