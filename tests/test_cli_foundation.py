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
