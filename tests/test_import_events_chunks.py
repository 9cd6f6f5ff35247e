"""Events built and written a chunk at a time: same events, same order, bounded memory, atomic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.engine import events as ev
from app.engine.ingest import linked
from app.engine.ingest.delivery import read_delivery
from app.engine.pseudonyms import Keyer
from app.store import importing
from app.store.importing import import_delivery
from app.store.meta import put

KEY = b"chunk-test-secret-0123456789abcd"
EVENT_TEXT = ("person_id, household_id, date, type, subtype, value_num, value_text, attrs, source,"
              " source_file, source_line, disclosure")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    from app.engine.synth import generate_delivery

    folder = tmp_path_factory.mktemp("chunks") / "delivery"
    generate_delivery(folder, children=150, seed=3)
    return folder


def _processed(folder, chunk_rows=None):
    p = linked.process_delivery(read_delivery(folder), Keyer(KEY), rng=np.random.default_rng(5))
    p.event_source.chunk_rows = chunk_rows
    return p


def test_chunks_are_the_whole_delivery_in_write_order(city):
    whole = _processed(city).events
    p = _processed(city, chunk_rows=50)
    chunks = list(p.event_chunks())
    assert len(chunks) > 20                          # the small size really cuts sources up
    for c in chunks:                                 # each chunk in its rows' order
        pd.testing.assert_frame_equal(c, ev.sort_rows(c))
    # chunks follow the files' order, and lines within a file
    firsts = [(c["source_file"].min(), c["source_line"].min()) for c in chunks]
    assert firsts == sorted(firsts)
    got = ev.sort_events(pd.concat(chunks, ignore_index=True))
    pd.testing.assert_frame_equal(got, whole)
    assert len(whole) > 3000 and whole["source"].nunique() >= 15


def test_release_drops_each_source_after_its_last_chunk(city):
    p = _processed(city, chunk_rows=200)
    delivery = p.event_source.delivery
    sizes = {s: len(df) for s, df in delivery.tables.items()}
    seen = set()
    for chunk in p.event_chunks(release=True):
        source = chunk["source"].iloc[0]
        seen.add(source)
        # a source's raw rows are gone once its last chunk is out, the others are still there
        for s in sizes:
            if s not in seen:
                assert s in delivery.tables
    assert delivery.tables == {} and delivery.receipts == []
    with pytest.raises(RuntimeError):
        p.event_source.frame()


INDEXES = "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='events' ORDER BY name"


def _store_events(session):
    conn = session.conn
    rows = conn.execute(f"SELECT {EVENT_TEXT} FROM events ORDER BY person_id, date, event_id").fetchall()
    return rows


def _import(folder, tmp_path, name, chunk_rows, monkeypatch, rebuild_above=importing.REBUILD_INDEXES_ABOVE):
    from app.store.opening import create_store

    monkeypatch.setattr(linked, "CHUNK_ROWS", chunk_rows)
    monkeypatch.setattr(importing, "REBUILD_INDEXES_ABOVE", rebuild_above)
    session = create_store(tmp_path / f"{name}.db", "admin", "chunk-test-password-1")
    put(session.conn, "secret:pseudonym_key", KEY.hex())
    indexes = session.conn.execute(INDEXES).fetchall()
    summary = import_delivery(session, folder, rng=np.random.default_rng(5))
    # the indexes dropped for the bulk insert are back, as they were
    assert session.conn.execute(INDEXES).fetchall() == indexes and len(indexes) >= 3
    assert sum(" WHERE " in sql for _, sql in indexes if sql) == 2  # the partial ones too
    return session, summary


def test_store_is_the_same_whatever_the_chunk_size(city, tmp_path, monkeypatch):
    one, s1 = _import(city, tmp_path, "one", 10_000_000, monkeypatch)
    # (the second import drops every index of the tables it writes, partial ones too, and builds
    # them again: the demo city's path, which this small city would not take)
    many, s2 = _import(city, tmp_path, "many", 37, monkeypatch, rebuild_above=0)
    try:
        # same rows, and the same order where readers tie on (person, date)
        assert _store_events(one) == _store_events(many)
        assert s1.events == s2.events == len(_store_events(one))
        for table in ("persons", "identities", "relations", "idmap", "link_keys", "review_items"):
            q = f"SELECT * FROM {table}"
            assert sorted(one.conn.execute(q).fetchall()) == sorted(many.conn.execute(q).fetchall()), table
    finally:
        one.close(), many.close()


def test_a_failure_while_writing_events_leaves_the_store_as_it_was(city, tmp_path, monkeypatch):
    from app.store.opening import create_store

    monkeypatch.setattr(linked, "CHUNK_ROWS", 200)
    session = create_store(tmp_path / "fail.db", "admin", "chunk-test-password-1")
    indexes = session.conn.execute(INDEXES).fetchall()
    built = []
    real = linked.DeliveryEvents.build

    def fail_on_third(self, chunk):
        built.append(chunk.source)
        if len(built) == 3:
            raise RuntimeError("disk full")
        return real(self, chunk)

    monkeypatch.setattr(linked.DeliveryEvents, "build", fail_on_third)
    try:
        with pytest.raises(RuntimeError):
            import_delivery(session, city)
        conn = session.conn
        for table in ("events", "persons", "idmap", "deliveries", "link_keys"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
        assert conn.execute(INDEXES).fetchall() == indexes
    finally:
        session.close()


def test_disclosure_of_a_mixed_frame():
    cfg = ev.disclosure_config()
    typed = next(t for t in cfg["types"] if cfg["types"][t] != cfg["sources"].get("yobo"))
    frame = pd.DataFrame({
        "type": ["epds", "epds", "vaccination", typed, "no_such_type", None],
        "source": ["epds", "epds", "yobo", "yobo", "no_such_source", "yobo"],
        "attrs": ['{"self_harm":true}', '{"self_harm":false}', "{}", "{}", "{}", "{}"]})
    got = ev.assign_disclosure(frame).tolist()
    epds = cfg["types"].get("epds", cfg["sources"]["epds"])
    vaccination = cfg["types"].get("vaccination", cfg["sources"]["yobo"])
    assert epds != "staff"                                   # else the self-harm row proves nothing
    assert got == ["staff", epds, vaccination, cfg["types"][typed], "staff", cfg["sources"]["yobo"]]


@pytest.mark.parametrize("files", [["a.csv"], ["b.UKE", "a.UKE", "c.UKE"]])
def test_sort_rows_is_a_stable_sort_on_file_then_line(files):
    # builders' parts concatenated: each part in row order, several events per row, rows of
    # several files interleaved; sort_rows must equal pandas' stable sort on (file, line)
    rng = np.random.default_rng(4)
    n = 400
    frame = pd.DataFrame({c: [f"{c}{i}" for i in range(n)] for c in ev.EVENT_COLUMNS})
    frame["source_file"] = rng.choice(files, n)
    frame["source_line"] = rng.integers(1, 60, n)
    frame["date"] = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D")
    frame["value_num"] = rng.random(n)
    parts = [p.sort_values(["source_file", "source_line"], kind="stable")
             for p in (frame.iloc[:150], frame.iloc[150:260], frame.iloc[260:])]
    mixed = pd.concat(parts, ignore_index=True)
    expected = mixed.sort_values(["source_file", "source_line"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(ev.sort_rows(mixed), expected[ev.EVENT_COLUMNS])
    pd.testing.assert_frame_equal(ev.sort_rows(expected), expected[ev.EVENT_COLUMNS])


def test_building_events_leaves_the_delivery_rows_as_read(city):
    # the builders get the raw rows with person columns added to a shallow copy: none may write
    # into them (a chunk's rows are a view of the delivery's table)
    p = _processed(city, chunk_rows=40)
    tables = {s: t.copy(deep=True) for s, t in p.event_source.delivery.tables.items()}
    receipts = [u.receipts.copy(deep=True) for u in p.event_source.delivery.receipts]
    list(p.event_chunks())
    for s, t in tables.items():
        pd.testing.assert_frame_equal(p.event_source.delivery.tables[s], t, obj=s)
    for u, r in zip(p.event_source.delivery.receipts, receipts):
        pd.testing.assert_frame_equal(u.receipts, r)
