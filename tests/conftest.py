"""Shared test set-up: offscreen Qt, Japanese UI, and stores under pytest's tmp_path only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")
os.environ.setdefault("MIMAMORI_LANG", "ja")

PASSWORD = "test-pass-1234"


def pytest_configure(config):
    # Must run before pytest-qt creates the QApplication (web schemes, GL sharing).
    try:
        from app.views.application import prepare_qt
    except ImportError:
        return
    prepare_qt()


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory, monkeypatch):
    """QSettings and the demo store path point into a temporary folder in every test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.delenv("MIMAMORI_DEMO_DB", raising=False)
    monkeypatch.delenv("MIMAMORI_PASSWORD", raising=False)


@pytest.fixture(autouse=True)
def _qt_japanese(request):
    """Tests that use Qt get the application as users get it: Japanese, themed."""
    if not {"qtbot", "qapp"} & set(request.fixturenames):
        yield
        return
    app = request.getfixturevalue("qapp")
    if not app.property("mimamori_ready"):
        from app.views.application import install_translations
        from app.views.theme import apply_theme

        install_translations(app, "ja")
        apply_theme(app)
        app.setProperty("mimamori_ready", True)
    yield


@pytest.fixture
def new_store(tmp_path):
    """A fresh, empty store with one data_admin 'admin'. Yields the open Session."""
    from app.store.opening import create_store

    session = create_store(tmp_path / "store.db", "admin", PASSWORD)
    yield session
    session.close()


@pytest.fixture
def store_with_roles(new_store):
    """The empty store plus one account per role (password PASSWORD for all)."""
    from app.store.accounts import add_user

    add_user(new_store, "nurse", "nurse", PASSWORD, areas=["中央"])
    add_user(new_store, "nurse_noarea", "nurse", PASSWORD)
    add_user(new_store, "manager", "cg_manager", PASSWORD)
    add_user(new_store, "chief", "chief", PASSWORD)
    add_user(new_store, "auditor", "auditor", PASSWORD)
    return new_store


def open_as(path: Path, user: str):
    from app.store.opening import open_store

    return open_store(path, user, PASSWORD)


@pytest.fixture(scope="session")
def scored_store(tmp_path_factory):
    """A small municipality through the real pipeline: generate → import → score, with one
    account per role. Shared by the session: open your own Session with ``open_as`` and do
    not change it (build your own store for tests that write)."""
    from app.engine.synth import generate_delivery
    from app.store.accounts import add_user
    from app.store.importing import import_delivery
    from app.store.opening import create_store
    from app.store.scoring_runs import run_active_rulesets

    base = tmp_path_factory.mktemp("scored")
    generate_delivery(base / "delivery", children=300, seed=7)
    session = create_store(base / "store.db", "admin", PASSWORD)
    for name, role, areas in (("nurse", "nurse", ["中央"]), ("nurse_noarea", "nurse", []),
                              ("manager", "cg_manager", []), ("chief", "chief", []), ("auditor", "auditor", [])):
        add_user(session, name, role, PASSWORD, areas=areas)
    import_delivery(session, base / "delivery")
    run_active_rulesets(session)
    session.close()
    return base / "store.db"
