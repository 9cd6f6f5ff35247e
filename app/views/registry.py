"""The views of the main window: key, who may open it, and where its class lives.

A view whose module is not written yet opens as an honest "not available yet" page.
The view keys are stable (the ``snapshot`` command and checks use them).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication

from app.store import roles


@dataclass(frozen=True)
class ViewSpec:
    key: str
    target: str                 # "module:Class"
    capabilities: tuple[str, ...]  # any one of these opens the view


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("list", "app.views.list_view:ListView", (roles.VIEW_CHILDREN,)),
    ViewSpec("timeline", "app.views.timeline_view:TimelineView", (roles.VIEW_TIMELINE,)),
    ViewSpec("map", "app.views.map_view:MapView", (roles.VIEW_AGGREGATES,)),
    ViewSpec("staffing", "app.views.staffing_view:StaffingView", (roles.PLAN_STAFFING, roles.VIEW_AGGREGATES)),
    ViewSpec("import", "app.views.import_view:ImportView", (roles.IMPORT,)),
    ViewSpec("rules", "app.views.rules_view:RulesView", (roles.MANAGE_RULES, roles.VIEW_SCORE)),
    ViewSpec("audit", "app.views.audit_view:AuditView", (roles.VIEW_AUDIT,)),
    ViewSpec("users", "app.views.users_view:UsersView", (roles.MANAGE_USERS,)),
)
VIEW_KEYS = tuple(v.key for v in VIEWS)


def view_title(key: str) -> str:
    # Literal translate() calls so pyside6-lupdate finds every title.
    titles = {
        "list": QCoreApplication.translate("Views", "Working list"),
        "timeline": QCoreApplication.translate("Views", "Timeline"),
        "map": QCoreApplication.translate("Views", "District map"),
        "staffing": QCoreApplication.translate("Views", "Staffing plan"),
        "import": QCoreApplication.translate("Views", "Import"),
        "rules": QCoreApplication.translate("Views", "Rules and scoring"),
        "audit": QCoreApplication.translate("Views", "Audit log"),
        "users": QCoreApplication.translate("Views", "Users and terminals"),
    }
    return titles[key]


def spec(key: str) -> ViewSpec:
    for v in VIEWS:
        if v.key == key:
            return v
    raise KeyError(key)


def views_for(session) -> list[ViewSpec]:
    return [v for v in VIEWS if any(session.can(c) for c in v.capabilities)]


# Where a role starts when it has no remembered view: the data administrator's work begins
# with a delivery, not with a map that stays empty until one is imported (issue 17).
LANDING_VIEW = {roles.DATA_ADMIN: "import"}


def landing_view(session) -> str | None:
    """The first view to show ``session``'s user (None: the first view it may open)."""
    key = LANDING_VIEW.get(session.role)
    return key if key in {v.key for v in views_for(session)} else None


def load_view_class(key: str):
    """The view's class, or None when its module does not exist yet."""
    module_name, class_name = spec(key).target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    return getattr(module, class_name, None)
