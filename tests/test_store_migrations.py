"""Schema migrations run on open and bring a store from every earlier version to the latest."""

from __future__ import annotations

import secrets

import pytest

from app.store import migrations
from app.store.accounts import insert_account
from app.store.database import connect, transaction
from app.store.keyslots import SlotFile
from app.store.opening import open_store
from conftest import PASSWORD

ALL = migrations.all_migrations()


def _old_store(path, version: int):
    """A store as a release at ``version`` would have left it, with one account."""
    key = secrets.token_bytes(32)
    conn = connect(path, key)
    migrations.migrate(conn, up_to=version)
    assert migrations.current_version(conn) == version
    with transaction(conn):
        insert_account(conn, "admin", "data_admin", [], None)
    conn.close()
    slots = SlotFile.new(path)
    slots.add("admin", PASSWORD, key)
    slots.save()


def test_migrations_are_numbered_and_named():
    assert ALL, "no migrations found"
    assert ALL[0].number == 1
    assert [m.number for m in ALL] == sorted({m.number for m in ALL})


@pytest.mark.parametrize("version", [m.number for m in ALL], ids=[f"from_{m.number:04d}_{m.name}" for m in ALL])
def test_open_migrates_from_every_earlier_version(tmp_path, version):
    path = tmp_path / "old.db"
    _old_store(path, version)
    session = open_store(path, "admin", PASSWORD)
    assert migrations.current_version(session.conn) == migrations.latest_version()
    # Data written under the old schema survives the upgrade.
    assert session.conn.execute("SELECT role FROM users WHERE name='admin'").fetchone() == ("data_admin",)
    # And the fully migrated schema matches a store created new at the latest version.
    fresh = tmp_path / "fresh.db"
    _old_store(fresh, migrations.latest_version())
    conn2 = connect(fresh, SlotFile.load(fresh).unwrap("admin", PASSWORD))
    schema = lambda c: sorted(  # noqa: E731
        r for r in c.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
    assert schema(session.conn) == schema(conn2)
    conn2.close()
    session.close()


def test_failed_migration_leaves_previous_version(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    key = secrets.token_bytes(32)
    conn = connect(path, key)
    migrations.migrate(conn, up_to=1)
    broken = migrations.Migration(9999, "broken", "CREATE TABLE ok_table(x); SELECT no_such_function();")
    monkeypatch.setattr(migrations, "all_migrations", lambda: ALL[:1] + [broken])
    with pytest.raises(Exception):
        migrations.migrate(conn)
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    assert migrations.current_version(conn) == 1
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name='ok_table'").fetchone()[0] == 0
    conn.close()


def test_a_gap_below_the_newest_applied_migration_is_still_applied(tmp_path, monkeypatch):
    """Parallel work can add migration 0200 after a store already has 0600."""
    if len(ALL) < 3:
        pytest.skip("needs three migrations")
    # one that later migrations do not build on (later ones index persons, scores and flags)
    skipped = next((m for m in ALL[1:-1] if m.name == "timeline_templates"), ALL[1])
    conn = connect(tmp_path / "g.db", secrets.token_bytes(32))
    monkeypatch.setattr(migrations, "all_migrations", lambda: [m for m in ALL if m is not skipped])
    migrations.migrate(conn)
    monkeypatch.setattr(migrations, "all_migrations", lambda: ALL)
    assert migrations.migrate(conn) == [skipped.number]
    assert migrations.current_version(conn) == migrations.latest_version()
    conn.close()
