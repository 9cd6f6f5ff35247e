"""The role × data-class matrix over every query function.

Query modules are discovered (``app/store/queries/*.py`` and ``app/store/*queries*.py``),
so a module added later is covered without editing this file: each public function taking
a session must declare its capabilities (``@requires`` or ``QUERY_CAPABILITIES`` /
``QUERY_ANY_OF``) and a data class, every role lacking a capability is refused before the
body runs, and no data class reaches a role the domain forbids it to.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import app.store
import app.store.queries
from app.store import roles
from app.store.queries import DATA_CLASSES
from app.store.session import Session

# Who may receive each data class (DOMAIN.md users table; issue 9).
ALLOWED = {
    "children": {roles.NURSE, roles.CG_MANAGER},
    "timeline": {roles.NURSE, roles.CG_MANAGER},
    "identity": {roles.NURSE, roles.CG_MANAGER},
    "score": {roles.CG_MANAGER},
    "custody": {roles.CG_MANAGER},
    "aggregates": {roles.CG_MANAGER, roles.CHIEF, roles.DATA_ADMIN},
    "admin": {roles.DATA_ADMIN, roles.NURSE, roles.CG_MANAGER},  # bookkeeping, no case rows
    "audit": {roles.AUDITOR},
    # The family's 開示請求: handled by the disclosure procedure, not the case side (SECURITY.md).
    "subject": {roles.DATA_ADMIN},
}
# Deliberate exceptions from the capability table: data_admin prepares the flag extract for
# departments (EXPORT_FLAGS) — per-child flags without scores, custody or timelines (the data
# test checks the contents).
EXPORT_EXCEPTIONS = {(roles.EXPORT_FLAGS, roles.DATA_ADMIN)}
# Data classes carrying case contents: bookkeeping ('admin') may never hold them.
CASE_CLASSES = {"children", "timeline", "identity", "score", "custody"}


def _query_modules():
    names = [f"app.store.queries.{m.name}" for m in pkgutil.iter_modules(app.store.queries.__path__)]
    names += [f"app.store.{p.stem}" for p in Path(app.store.__file__).parent.glob("*queries*.py")]
    return [importlib.import_module(n) for n in sorted(names)]


def _query_functions():
    found = []
    for module in _query_modules():
        for name, fn in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != module.__name__:
                continue
            params = list(inspect.signature(inspect.unwrap(fn)).parameters)
            if params and params[0] == "session":
                found.append((module, name, fn))
    return found


QUERIES = _query_functions()
IDS = [f"{m.__name__.rsplit('.', 1)[-1]}.{n}" for m, n, _ in QUERIES]


def _declared(module, name, fn):
    """(capabilities, all_required, data_class) a query declares."""
    if hasattr(fn, "__requires__"):
        return fn.__requires__, True, fn.__data_class__
    table = getattr(module, "QUERY_CAPABILITIES", {})
    if name in table:
        return tuple(table[name]), True, getattr(module, "QUERY_DATA_CLASSES", {}).get(name)
    any_of = getattr(module, "QUERY_ANY_OF", {})
    if name in any_of:
        return tuple(any_of[name]), False, getattr(module, "QUERY_DATA_CLASSES", {}).get(name, "audit")
    return None, True, None


def _allowed_roles(caps, all_required):
    test = all if all_required else any
    return {r for r in roles.ROLES if test(c in roles.capabilities(r) for c in caps)}


def test_query_modules_are_discovered():
    names = {m.__name__ for m in _query_modules()}
    assert "app.store.audit_queries" in names
    assert QUERIES, "no query functions found"


@pytest.mark.parametrize("module,name,fn", QUERIES, ids=IDS)
def test_every_query_declares_capabilities_and_data_class(module, name, fn):
    caps, _, data_class = _declared(module, name, fn)
    assert caps, f"{module.__name__}.{name} declares no capability (use @requires)"
    known = set().union(*roles.CAPABILITIES.values())
    assert set(caps) <= known, f"unknown capability in {caps}"
    assert data_class in DATA_CLASSES, f"{module.__name__}.{name} declares no data class"


@pytest.mark.parametrize("module,name,fn", QUERIES, ids=IDS)
def test_no_data_class_reaches_a_forbidden_role(module, name, fn):
    caps, all_required, data_class = _declared(module, name, fn)
    reached = _allowed_roles(caps, all_required)
    if module.__name__ == "app.store.audit_queries" and name == "verify_log":
        # Verifying the chain shows no entries, only ok / first broken seq.
        assert reached == {roles.AUDITOR, roles.DATA_ADMIN}
        return
    forbidden = {r for r in reached - ALLOWED[data_class]
                 if not any((c, r) in EXPORT_EXCEPTIONS for c in caps)}
    assert not forbidden, f"{name} ({data_class}) reaches {sorted(forbidden)}"


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory):
    from app.store.opening import create_store

    session = create_store(tmp_path_factory.mktemp("matrix") / "m.db", "admin", "matrix-test-1")
    yield session
    session.close()


def _call_args(fn):
    """Placeholder arguments: a refused call must fail before it looks at them."""
    sig = inspect.signature(inspect.unwrap(fn))
    return [None for p in list(sig.parameters.values())[1:]
            if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


CASES = [(m, n, f, r) for (m, n, f) in QUERIES for r in roles.ROLES]


@pytest.mark.parametrize("module,name,fn,role", CASES,
                         ids=[f"{i}-{r}" for i in IDS for r in roles.ROLES])
def test_roles_without_the_capability_are_refused(empty_store, module, name, fn, role):
    caps, all_required, _ = _declared(module, name, fn)
    if role in _allowed_roles(caps, all_required):
        pytest.skip("role holds the capability (checked with data in test_governance_data.py)")
    session = Session(empty_store.conn, empty_store.db_path, f"m_{role}", role, (), empty_store.terminal_id)
    before = empty_store.conn.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
    with pytest.raises(roles.AccessDenied):
        fn(session, *_call_args(fn))
    # The refusal itself is logged.
    row = empty_store.conn.execute("SELECT action, user FROM audit_log WHERE seq > ? ORDER BY seq", (before,)).fetchone()
    assert row == ("access_denied", f"m_{role}")


def test_capability_table_matches_the_domain():
    nurse, chief = roles.capabilities(roles.NURSE), roles.capabilities(roles.CHIEF)
    admin, auditor = roles.capabilities(roles.DATA_ADMIN), roles.capabilities(roles.AUDITOR)
    assert not {roles.VIEW_CUSTODY, roles.VIEW_SCORE} & nurse
    assert not {roles.VIEW_CHILDREN, roles.VIEW_TIMELINE, roles.REIDENTIFY, roles.VIEW_CUSTODY,
                roles.VIEW_SCORE, roles.EXPORT_LIST, roles.EXPORT_FLAGS} & chief
    assert not {roles.VIEW_CUSTODY, roles.VIEW_TIMELINE, roles.VIEW_CHILDREN, roles.REIDENTIFY,
                roles.VIEW_SCORE} & admin
    assert auditor == {roles.VIEW_AUDIT, roles.EXPORT_AUDIT}
    assert all(roles.VIEW_AUDIT not in roles.capabilities(r) for r in roles.ROLES if r != roles.AUDITOR)


def test_nurse_without_area_sees_no_district():
    s = Session(None, Path("x"), "n", roles.NURSE, (), "t")
    assert s.visible_districts() == [] and s.district_filter_sql()[0] == "0=1"
