"""The command line: init, user-add, wrong passwords and the audit chain, one line on errors."""

from __future__ import annotations

import pytest

from app.commands import main
from conftest import PASSWORD


@pytest.fixture
def pwfile(tmp_path):
    f = tmp_path / "pw.txt"
    f.write_text(PASSWORD + "\n")
    return f


def test_init_user_add_and_login(tmp_path, pwfile, capsys, monkeypatch):
    db = tmp_path / "s.db"
    assert main(["init", "--db", str(db), "--user", "boss", "--password-file", str(pwfile)]) == 0
    monkeypatch.setenv("MIMAMORI_NEW_PASSWORD", "nurse-pass-123")
    assert main(["user-add", "--db", str(db), "--user", "boss", "--password-file", str(pwfile),
                 "--new", "hana", "--role", "nurse", "--area", "南"]) == 0
    from app.store.opening import open_store

    session = open_store(db, "hana", "nurse-pass-123")
    assert session.areas == ("南",)
    assert "久里浜" in session.visible_districts()
    session.close()


def test_init_never_creates_demo_accounts(tmp_path, pwfile):
    db = tmp_path / "s.db"
    main(["init", "--db", str(db), "--user", "boss", "--password-file", str(pwfile)])
    from app.store.opening import open_store

    session = open_store(db, "boss", PASSWORD)
    assert [r[0] for r in session.conn.execute("SELECT name FROM users")] == ["boss"]
    assert not session.demo
    session.close()


def test_wrong_password_is_one_line_nonzero(tmp_path, pwfile, capsys, monkeypatch):
    db = tmp_path / "s.db"
    main(["init", "--db", str(db), "--user", "boss", "--password-file", str(pwfile)])
    capsys.readouterr()
    monkeypatch.setenv("MIMAMORI_PASSWORD", "wrong-password-1")
    code = main(["audit-verify", "--db", str(db), "--user", "boss"])
    err = capsys.readouterr().err
    assert code != 0
    assert err.count("\n") == 1 and "パスワード" in err and "Traceback" not in err


def test_missing_store_is_one_line(tmp_path, pwfile, capsys):
    code = main(["audit-verify", "--db", str(tmp_path / "none.db"), "--user", "x", "--password-file", str(pwfile)])
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1


def test_role_without_right_is_refused(tmp_path, pwfile, capsys, monkeypatch):
    db = tmp_path / "s.db"
    main(["init", "--db", str(db), "--user", "boss", "--password-file", str(pwfile)])
    monkeypatch.setenv("MIMAMORI_NEW_PASSWORD", "nurse-pass-123")
    main(["user-add", "--db", str(db), "--user", "boss", "--password-file", str(pwfile),
          "--new", "hana", "--role", "nurse", "--area", "南"])
    capsys.readouterr()
    monkeypatch.setenv("MIMAMORI_PASSWORD", "nurse-pass-123")
    code = main(["terminal-register", "--db", str(db), "--user", "hana"])
    assert code == 3
    assert "権限" in capsys.readouterr().err


def test_audit_verify_ok_and_detects_tampering(tmp_path, pwfile, capsys):
    db = tmp_path / "s.db"
    main(["init", "--db", str(db), "--user", "boss", "--password-file", str(pwfile)])
    assert main(["audit-verify", "--db", str(db), "--user", "boss", "--password-file", str(pwfile)]) == 0
    assert "intact" in capsys.readouterr().out
    # Tamper with an entry the way an attacker with the key and another client would.
    from app.store.database import connect
    from app.store.keyslots import SlotFile

    conn = connect(db, SlotFile.load(db).unwrap("boss", PASSWORD))
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET user='someone' WHERE seq=1")
    conn.close()
    code = main(["audit-verify", "--db", str(db), "--user", "boss", "--password-file", str(pwfile)])
    assert code == 1
    assert "entry 1" in capsys.readouterr().err


_DEMO_WITHOUT_SKLEARN = r"""
import sys
sys.modules["sklearn"] = None  # as if scikit-learn were not installed
from app.commands import main
code = main(["demo", "--no-gui", "--children", "50", "--db", sys.argv[1]])
sys.exit(code)
"""


def test_demo_fails_loudly_without_scikit_learn(tmp_path):
    """A missing package stops the demo with one line naming it, and leaves no store behind."""
    import subprocess
    import sys
    from pathlib import Path

    db = tmp_path / "demo.db"
    result = subprocess.run([sys.executable, "-c", _DEMO_WITHOUT_SKLEARN, str(db)], capture_output=True,
                            text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert result.returncode != 0
    assert "sklearn" in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not db.exists()


# --- bad input: one line on stderr, a non-zero exit, never a traceback (issue 16) ---

def _one_line(capsys, code):
    err = capsys.readouterr().err
    assert code not in (0, None), err
    assert err.count("\n") == 1 and err.startswith("mimamori: ") and "Traceback" not in err, err
    return err


@pytest.fixture
def store_file(tmp_path, pwfile, capsys):
    db = tmp_path / "s.db"
    assert main(["init", "--db", str(db), "--user", "boss", "--password-file", str(pwfile)]) == 0
    capsys.readouterr()
    return db


def test_directory_as_db_is_one_line(tmp_path, pwfile, capsys):
    folder = tmp_path / "folder.db"
    folder.mkdir()
    (tmp_path / "folder.db.keyslots.json").write_text("{}")
    for command in (["audit-verify"], ["retention"], ["export", "--what", "idmap", "--out", str(tmp_path / "x")]):
        code = main([command[0], "--db", str(folder), "--user", "boss", "--password-file", str(pwfile), *command[1:]])
        assert "フォルダー" in _one_line(capsys, code)
    code = main(["init", "--db", str(tmp_path), "--user", "boss", "--password-file", str(pwfile)])
    _one_line(capsys, code)


def _damage(db, offset, length=64):
    data = bytearray(db.read_bytes())
    data[offset:offset + length] = bytes(255 - b for b in data[offset:offset + length])
    db.write_bytes(bytes(data))


def test_damaged_page_is_reported_as_damage(store_file, pwfile, capsys):
    from app.store.opening import open_store

    session = open_store(store_file, "boss", PASSWORD)
    for i in range(400):   # enough entries for several pages
        session.audit("view_child", "person", [f"P{i:05d}"], {"pad": "x" * 200})
    session.close()
    size = store_file.stat().st_size
    _damage(store_file, size - 4096 * 3 + 100)
    code = main(["audit-verify", "--db", str(store_file), "--user", "boss", "--password-file", str(pwfile)])
    err = _one_line(capsys, code)
    assert "データベースが壊れています" in err and "バックアップ" in err


def test_damaged_header_is_reported_as_damage(store_file, pwfile, capsys):
    _damage(store_file, 0, 200)
    code = main(["retention", "--db", str(store_file), "--user", "boss", "--password-file", str(pwfile)])
    err = _one_line(capsys, code)
    assert "データベースが壊れています" in err


def test_snapshot_timeline_needs_a_known_child(store_file, pwfile, capsys, tmp_path):
    out = tmp_path / "t.png"
    base = ["snapshot", "--db", str(store_file), "--user", "boss", "--password-file", str(pwfile),
            "--view", "timeline", "--out", str(out)]
    assert "--child" in _one_line(capsys, main(base))
    assert "NOBODY" in _one_line(capsys, main(base + ["--child", "NOBODY"]))
    assert not out.exists()


def test_delete_unknown_person_is_an_error(store_file, pwfile, capsys):
    code = main(["delete", "--db", str(store_file), "--user", "boss", "--password-file", str(pwfile),
                 "--person", "NOBODY"])
    assert "NOBODY" in _one_line(capsys, code)


def test_bad_arguments_are_one_line(store_file, pwfile, capsys, tmp_path):
    assert main.__module__  # the dispatcher, not argparse's usage block
    with pytest.raises(SystemExit) as exc:
        main(["audit-verify", "--db", str(store_file), "--no-such-flag"])
    assert exc.value.code == 2
    _one_line(capsys, exc.value.code)
    bad_head = tmp_path / "head.json"
    bad_head.write_text("not json")
    code = main(["audit-verify", "--db", str(store_file), "--user", "boss", "--password-file", str(pwfile),
                 "--against", str(bad_head)])
    assert "head" in _one_line(capsys, code)


def test_unexpected_errors_are_one_line(monkeypatch, store_file, pwfile, capsys):
    import app.store.audit_queries as aq

    def boom(*a, **k):
        raise RuntimeError("something\nunexpected")

    monkeypatch.setattr(aq, "verify_log", boom)
    code = main(["audit-verify", "--db", str(store_file), "--user", "boss", "--password-file", str(pwfile)])
    assert "予期しないエラー" in _one_line(capsys, code)
