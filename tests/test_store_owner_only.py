"""The store, its key-slot file and every export are readable by their owner only (issue #14).

POSIX mode bits only: the Windows ACL path (icacls) is a documented best effort, untested here.
"""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from app.store.keyslots import slot_path
from app.store.opening import create_store, open_store
from app.store.owner_only import create_owner_only, restrict_to_owner, write_owner_only

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX mode bits; Windows uses an ACL (untested)")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def wide_umask():
    old = os.umask(0o022)  # the usual default: new files world-readable unless we say otherwise
    yield
    os.umask(old)


def test_store_and_key_slots_are_created_owner_only(tmp_path, wide_umask):
    path = tmp_path / "s.db"
    session = create_store(path, "admin", "owner-only-pass-1")
    session.close()
    assert mode(path) == 0o600
    assert mode(slot_path(path)) == 0o600
    # A store left readable by an older version is narrowed when it is opened again.
    os.chmod(path, 0o644)
    os.chmod(slot_path(path), 0o644)
    session = open_store(path, "admin", "owner-only-pass-1")
    session.close()
    assert mode(path) == 0o600
    assert mode(slot_path(path)) == 0o600


def test_exports_are_owner_only(tmp_path, wide_umask):
    from app.store import roles
    from app.store.exports import export_frame
    from app.store.terminals import register_terminal

    session = create_store(tmp_path / "s.db", "admin", "owner-only-pass-1")
    try:
        register_terminal(session)
        frame = pd.DataFrame({"research_id": ["1234567"], "value": [1]})
        sealed = export_frame(session, frame, tmp_path / "out.csv", capability=roles.EXPORT_IDMAP,
                              kind="idmap", encrypt=True, passphrase="export-pass-1234-abcd")
        plain = export_frame(session, frame, tmp_path / "plain.csv", capability=roles.EXPORT_IDMAP,
                             kind="idmap", encrypt=False, plaintext_confirmed=True)
        assert mode(sealed.path) == 0o600 and mode(plain.path) == 0o600
    finally:
        session.close()


def test_owner_only_helpers_narrow_existing_files(tmp_path, wide_umask):
    p = tmp_path / "a.bin"
    p.write_bytes(b"old")
    os.chmod(p, 0o666)
    write_owner_only(p, b"new")
    assert p.read_bytes() == b"new" and mode(p) == 0o600
    q = tmp_path / "b.bin"
    create_owner_only(q)
    assert q.exists() and mode(q) == 0o600
    os.chmod(q, 0o640)
    restrict_to_owner(q)
    assert mode(q) == 0o600
