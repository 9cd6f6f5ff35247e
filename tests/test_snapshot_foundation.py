"""``snapshot`` renders each role's first view offscreen to a real PNG."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from app.commands import main
from app.commands.demo import create_demo_store
from app.views import registry

FIRST_VIEW = {"nurse": "list", "cg_manager": "list", "chief": "map", "data_admin": "map", "auditor": "audit"}


@pytest.fixture
def empty_demo(tmp_path, monkeypatch):
    path = tmp_path / "demo.db"
    create_demo_store(path).close()
    monkeypatch.setenv("MIMAMORI_DEMO_DB", str(path))
    return path


@pytest.mark.parametrize("role", list(FIRST_VIEW))
def test_snapshot_of_each_roles_first_view(qapp, empty_demo, tmp_path, role, monkeypatch):
    # Pages not under test here render as their honest placeholder, so this stays fast.
    monkeypatch.setattr(registry, "load_view_class", lambda key: None)
    out = tmp_path / f"{role}.png"
    assert main(["snapshot", "--role", role, "--view", FIRST_VIEW[role], "--out", str(out)]) == 0
    image = QImage(str(out))
    assert image.width() == 1400 and image.height() == 900
    colours = {image.pixel(x, y) for x in range(0, 1400, 37) for y in range(0, 900, 23)}
    assert len(colours) > 5  # not a blank picture


def test_snapshot_refuses_a_view_the_role_may_not_open(qapp, empty_demo, tmp_path, capsys):
    code = main(["snapshot", "--role", "nurse", "--view", "audit", "--out", str(tmp_path / "x.png")])
    assert code == 3
    assert "may not open" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_snapshot_role_only_for_demo_stores(qapp, new_store, tmp_path, capsys):
    code = main(["snapshot", "--db", str(new_store.db_path), "--role", "nurse", "--view", "list",
                 "--out", str(tmp_path / "x.png")])
    assert code != 0
    assert capsys.readouterr().err.count("\n") == 1
