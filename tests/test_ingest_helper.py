"""A large delivery is read on two processes (app/engine/ingest/delivery.py ``_Reader``): the
delivery read must be the same as read here alone, errors included, and a helper that fails
must cost nothing but time."""

from __future__ import annotations

import shutil
from concurrent.futures import BrokenExecutor, Future

import pandas as pd
import pytest

from app.engine.ingest import delivery as reading
from app.engine.ingest.csvreader import IngestError
from app.engine.ingest.delivery import read_delivery


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    from app.engine.synth import generate_delivery

    folder = tmp_path_factory.mktemp("helper") / "delivery"
    generate_delivery(folder, children=120, seed=11)
    return folder


def assert_same(a, b) -> None:
    assert list(a.tables) == list(b.tables)
    for source in a.tables:
        pd.testing.assert_frame_equal(a.tables[source], b.tables[source], obj=source)
    pd.testing.assert_frame_equal(a.quarantine, b.quarantine)
    assert a.files == b.files and a.ignored == b.ignored and a.fingerprint == b.fingerprint
    assert len(a.receipts) == len(b.receipts)
    for x, y in zip(a.receipts, b.receipts):
        for name in ("receipts", "diagnoses", "procedures", "quarantine"):
            pd.testing.assert_frame_equal(getattr(x, name), getattr(y, name), obj=name)
        assert (x.files, x.rows_read, x.encoding) == (y.files, y.rows_read, y.encoding)


class CountingPool:
    """The real helper process, counting what it was given."""

    def __init__(self):
        self.pool, self.items = reading._helper_pool_real(), []

    def submit(self, fn, item):
        self.items.append(item.name)
        return self.pool.submit(fn, item)

    def shutdown(self, **kw):
        self.pool.shutdown(**kw)


class BrokenPool:
    """A helper that died: every item it took fails as a broken executor."""

    def __init__(self):
        self.items = []

    def submit(self, fn, item):
        self.items.append(item.name)
        future = Future()
        future.set_exception(BrokenExecutor("the helper died"))
        return future

    def shutdown(self, **kw):
        pass


def _with_pool(monkeypatch, make):
    pools = []
    monkeypatch.setattr(reading, "_helper_pool_real", reading._helper_pool, raising=False)
    monkeypatch.setattr(reading, "_helper_pool", lambda: pools.append(make()) or pools[-1])
    monkeypatch.setattr(reading, "HELPER_FROM_BYTES", 0)
    return pools


def test_a_small_delivery_is_read_here_alone(city, monkeypatch):
    pools = _with_pool(monkeypatch, BrokenPool)
    monkeypatch.setattr(reading, "HELPER_FROM_BYTES", 16 * 2**20)
    read_delivery(city)
    assert pools == []


def test_the_helper_reads_the_same_delivery(city, monkeypatch):
    alone = read_delivery(city, helper=False)
    pools = _with_pool(monkeypatch, CountingPool)
    shared = read_delivery(city)
    assert len(pools) == 1 and pools[0].items    # a real second process read some files
    assert_same(shared, alone)


def test_a_broken_helper_leaves_its_files_to_this_process(city, monkeypatch):
    alone = read_delivery(city, helper=False)
    pools = _with_pool(monkeypatch, BrokenPool)
    shared = read_delivery(city)
    assert pools[0].items
    assert_same(shared, alone)


def test_the_first_fatal_file_in_file_order_is_reported(city, tmp_path, monkeypatch):
    folder = tmp_path / "broken"
    shutil.copytree(city, folder)
    for name in ("jumin.csv", "yobo.csv"):   # neither CP932 nor UTF-8
        (folder / name).write_bytes((folder / name).read_bytes() + b"\n\x82\xff,\x81\n")
    with pytest.raises(IngestError) as alone:
        read_delivery(folder, helper=False)
    _with_pool(monkeypatch, CountingPool)
    with pytest.raises(IngestError) as shared:
        read_delivery(folder)
    assert alone.value.file == shared.value.file == "jumin.csv"
    assert shared.value.reason == alone.value.reason


def test_an_ingest_error_survives_the_pipe():
    import pickle

    again = pickle.loads(pickle.dumps(IngestError("yobo.csv", "文字コードが読めません")))
    assert (again.file, again.reason, str(again)) == ("yobo.csv", "文字コードが読めません", "yobo.csv: 文字コードが読めません")


def test_read_alone_stops_at_the_first_fatal_file(city, tmp_path, monkeypatch):
    folder = tmp_path / "broken"
    shutil.copytree(city, folder)
    (folder / "epds.csv").write_bytes((folder / "epds.csv").read_bytes() + b"\n\x82\xff,\x81\n")
    read = []
    real = reading._read_item
    monkeypatch.setattr(reading, "_read_item", lambda item: read.append(item.name) or real(item))
    with pytest.raises(IngestError) as error:
        read_delivery(folder, helper=False)
    assert error.value.file == "epds.csv" and read[-1] == "epds.csv"   # nothing after it was read
