"""``python -m app print --what visit-sheet --child ID --out F.pdf [--plaintext]`` through the gate:
sealed by default, plain only with the flag, one-line refusals with a non-zero exit and no file."""

from __future__ import annotations

import subprocess

import pytest

from app.commands import main

from conftest import PASSWORD

PASSPHRASE = "visit-sheet-Pass-9876"


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """(registered store, unregistered store) with the same small city."""
    from app.engine.synth import generate_delivery
    from app.store.accounts import add_user
    from app.store.importing import import_delivery
    from app.store.opening import create_store
    from app.store.scoring_runs import run_active_rulesets
    from app.store.terminals import register_terminal

    base = tmp_path_factory.mktemp("print_cli")
    generate_delivery(base / "delivery", children=120, seed=5)
    out = []
    for name, register in (("registered.db", True), ("unregistered.db", False)):
        admin = create_store(base / name, "admin", PASSWORD)
        add_user(admin, "nurse", "nurse", PASSWORD, areas=["中央"])
        add_user(admin, "chief", "chief", PASSWORD)
        import_delivery(admin, base / "delivery")
        run_active_rulesets(admin)
        if register:
            register_terminal(admin, "test")
        admin.close()
        out.append(base / name)
    return out


def _child(db) -> str:
    from conftest import open_as

    s = open_as(db, "nurse")
    try:
        cond, params = s.district_filter_sql("district")
        return s.conn.execute(f"SELECT person_id FROM persons WHERE kind='child' AND {cond} ORDER BY person_id LIMIT 1",
                              params).fetchone()[0]
    finally:
        s.close()


def _print(db, user, out, *extra):
    return main(["print", "--db", str(db), "--user", user, "--what", "visit-sheet",
                 "--child", _child(db), "--out", str(out), *extra])


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    monkeypatch.setenv("MIMAMORI_PASSWORD", PASSWORD)
    monkeypatch.setenv("MIMAMORI_EXPORT_PASSPHRASE", PASSPHRASE)


def test_sealed_by_default(stores, qapp, tmp_path, capsys):
    from app.store.exports import decrypt_container

    assert _print(stores[0], "nurse", tmp_path / "s.pdf") == 0
    assert not (tmp_path / "s.pdf").exists()
    header, payload = decrypt_container((tmp_path / "s.pdf.mmx").read_bytes(), PASSPHRASE)
    assert payload.startswith(b"%PDF") and header["content_type"] == "pdf"
    assert "s.pdf.mmx" in capsys.readouterr().out


def test_plaintext_only_with_the_flag(stores, qapp, tmp_path):
    assert _print(stores[0], "nurse", tmp_path / "p.pdf", "--plaintext") == 0
    text = subprocess.run(["pdftotext", "-raw", str(tmp_path / "p.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "訪問準備シート" in text and "保護者" in text      # names printed for a role that may re-identify


def test_unregistered_terminal_refused_before_any_file(stores, qapp, tmp_path, capsys):
    assert _print(stores[1], "nurse", tmp_path / "x.pdf", "--plaintext") == 3
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "登録されていません" in err and "データ管理担当" in err
    assert list(tmp_path.iterdir()) == []


def test_role_without_the_capability_refused(stores, qapp, tmp_path, capsys):
    assert _print(stores[0], "chief", tmp_path / "c.pdf", "--plaintext") == 3
    assert "\n" not in capsys.readouterr().err.strip()
    assert list(tmp_path.iterdir()) == []


def test_unknown_child_is_one_line(stores, qapp, tmp_path, capsys):
    code = main(["print", "--db", str(stores[0]), "--user", "nurse", "--what", "visit-sheet",
                 "--child", "0000000", "--out", str(tmp_path / "u.pdf"), "--plaintext"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "0000000" in err
    assert list(tmp_path.iterdir()) == []


def test_demo_store_registers_its_own_terminal(tmp_path):
    """The demo prints out of the box; a real store (init) registers nothing by itself."""
    from app.commands.demo import create_demo_store
    from app.store.opening import create_store
    from app.store.terminal import is_registered

    demo = create_demo_store(tmp_path / "demo.db")
    real = create_store(tmp_path / "real.db", "admin", PASSWORD)
    try:
        assert is_registered(demo.conn, demo.terminal_id)
        assert not is_registered(real.conn, real.terminal_id)
    finally:
        demo.close()
        real.close()
