"""Role-checked reads. Every function here takes a Session, calls ``session.require``
first and restricts person-level rows to ``session.visible_districts()``. Views and
models get case data only through these functions.

Declare what a query needs with the ``@requires`` decorator: it checks the capabilities
before the body runs and labels the function, so the governance test matrix
(tests/test_governance_matrix.py) finds every query here and in ``app/store/*queries*.py``
and checks each role against it. A module that checks by hand instead may declare
``QUERY_CAPABILITIES = {"function_name": (capability, ...)}``.

Data classes (what a query returns), used by the matrix:
``children`` list rows/flags/reasons · ``timeline`` one child's events · ``score`` numeric
scores · ``custody`` child-guidance records · ``identity`` real names · ``aggregates``
district counts · ``admin`` import/linkage/rules bookkeeping · ``audit`` the log ·
``subject`` everything about one person for a subject-access request (開示請求, data_admin).
"""

from __future__ import annotations

import functools

DATA_CLASSES = ("children", "timeline", "score", "custody", "identity", "aggregates", "admin", "audit",
                "subject")


def requires(*capabilities: str, data_class: str | None = None):
    """Decorator for a query ``f(session, ...)``: every capability is required."""
    if data_class is not None and data_class not in DATA_CLASSES:
        raise ValueError(f"unknown data class {data_class!r}")

    def decorate(fn):
        @functools.wraps(fn)
        def checked(session, *args, **kwargs):
            for capability in capabilities:
                session.require(capability)
            return fn(session, *args, **kwargs)

        checked.__requires__ = tuple(capabilities)
        checked.__data_class__ = data_class
        return checked

    return decorate


def visible_frame(session, frame, column: str = "district"):
    """Rows of a pandas frame whose ``column`` is in the session's visible districts."""
    districts = session.visible_districts()
    if districts is None:
        return frame
    return frame[frame[column].isin(districts)]
