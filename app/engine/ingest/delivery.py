"""Read a whole delivery folder: manifest, every source file, quarantine, reconciliation."""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
from collections import deque
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from app.engine.ingest.csvreader import IngestError, read_csv_source, _table
from app.engine.ingest.validation import validate_source
from app.engine.ingest.dates import DateError, parse_date
from app.engine.ingest.encoding import EncodingProblem, decode_bytes
from app.engine.ingest.profiles import MappingProfile, kind_to_source, source_for_file, source_specs
from app.engine.ingest.uke import UkeRead, read_uke
from app.engine.progress import Progress, ensure

# Files that are part of a delivery folder but not departmental extracts.
IGNORED_FILES = {"manifest.csv", "chiku.geojson"}


@dataclass
class FileInfo:
    file: str
    source: str
    as_of: dt.date | None
    department: str
    rows_read: int
    rows_quarantined: int
    encoding: str


@dataclass
class Delivery:
    folder: Path
    fingerprint: str                                   # SHA-256 over file names and bytes
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)   # source → accepted rows
    receipts: list[UkeRead] = field(default_factory=list)
    files: list[FileInfo] = field(default_factory=list)
    quarantine: pd.DataFrame = field(default_factory=pd.DataFrame)
    ignored: list[str] = field(default_factory=list)  # files of no known source (reported)

    @property
    def as_of(self) -> dt.date | None:
        """The newest 抽出日 of the delivery (used as 'today' for ages)."""
        dates = [f.as_of for f in self.files if f.as_of]
        return max(dates) if dates else None


def _read_manifest(folder: Path) -> dict[str, tuple[str | None, dt.date | None, str]]:
    """ファイル名 → (source key, 抽出日, 提供課)."""
    path = folder / "manifest.csv"
    if not path.exists():
        return {}
    try:
        text, _ = decode_bytes(path.read_bytes())
    except EncodingProblem as exc:
        raise IngestError("manifest.csv", str(exc)) from None
    header, df, _ = _table(text, "manifest.csv")
    df.columns = [h.strip() for h in header] + ["_line"]
    if "ファイル名" not in df.columns:
        raise IngestError("manifest.csv", "必須の列「ファイル名」がありません")
    kinds = kind_to_source()
    out = {}
    for _, row in df.iterrows():  # a manifest has one row per file: a handful
        as_of = None
        if str(row.get("抽出日", "")).strip():
            try:
                as_of, _ = parse_date(row["抽出日"])
            except DateError as exc:
                raise IngestError("manifest.csv", f"{int(row['_line'])}行目の抽出日: {exc}") from None
        kind = str(row.get("データ種別", "")).strip()
        out[str(row["ファイル名"]).strip()] = (kinds.get(kind), as_of, str(row.get("提供課", "")).strip())
    return out


def fingerprint(folder: Path) -> str:
    """Identity of a delivery's content: the same files with the same bytes give the same value."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        h.update(path.name.encode("utf-8") + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def read_delivery(folder: Path | str, profiles: dict[str, MappingProfile] | None = None,
                  progress: Progress | None = None, helper: bool = True) -> Delivery:
    """Read every extract in ``folder``. Raises IngestError on the first fatal file problem
    (first in file order). ``helper``: a large delivery's files are shared with a helper
    process (see ``_Reader``); the delivery read is the same either way."""
    progress = ensure(progress)
    folder = Path(folder)
    if not folder.is_dir():
        raise IngestError(str(folder), "フォルダがありません")
    profiles = profiles or {}
    manifest = _read_manifest(folder)
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name not in IGNORED_FILES)
    known: dict[Path, tuple[str, dt.date | None, str]] = {}
    ignored = []
    for path in files:
        source, as_of, dept = manifest.get(path.name, (None, None, ""))
        source = source or source_for_file(path.name, profiles)
        if source is None:
            ignored.append(path.name)
        else:
            known[path] = (source, as_of, dept)
    uke_files = [p for p, (source, _, _) in known.items() if source == "receipt"]
    # one work item per CSV file, and the receipts together (read in one pass), last
    items: list[_Item] = [_Item(path.name, (path,), source, profiles.get(source))
                          for path, (source, _, _) in known.items() if source != "receipt"]
    if uke_files:
        items.append(_Item("レセプト", tuple(uke_files), "receipt", None))  # (message: レセプトを読んでいます)
    with _Reader(items, helper) as reader:   # (a helper starts here, while the fingerprint is taken)
        delivery = Delivery(folder, fingerprint(folder), ignored=ignored)
        reads = reader.read(progress.sub(0.0, 0.95))
    quarantines = []
    for item, got in zip(items, reads):
        if isinstance(got, IngestError):   # the first fatal file in file order, as read one by one
            raise got
        if item.source == "receipt":
            delivery.receipts.append(got)
            quarantines.append(got.quarantine)
            q_counts = got.quarantine.groupby("file").size()
            for path in item.paths:
                _, as_of, dept = known[path]
                delivery.files.append(FileInfo(path.name, "receipt", as_of, dept, int(got.rows_read[path.name]),
                                               int(q_counts.get(path.name, 0)), got.encoding[path.name]))
            continue
        prev = delivery.tables.get(item.source)
        delivery.tables[item.source] = got.frame if prev is None else pd.concat([prev, got.frame],
                                                                                ignore_index=True)
        quarantines.append(got.quarantine)
        _, as_of, dept = known[item.paths[0]]
        delivery.files.append(FileInfo(item.paths[0].name, item.source, as_of, dept, got.rows_read,
                                       len(got.quarantine), got.encoding))
    delivery.quarantine = (pd.concat(quarantines, ignore_index=True) if quarantines
                           else pd.DataFrame(columns=["file", "line", "reason", "raw"]))
    progress.step(1.0, "読み込み完了")
    return delivery


@dataclass(frozen=True)
class _Item:
    """One unit of reading: a CSV file, or every .UKE file of the delivery (read in one pass)."""
    name: str
    paths: tuple[Path, ...]
    source: str
    profile: MappingProfile | None


def _read_item(item: _Item):
    """The read of one item, or its IngestError (returned, so that the first fatal file in file
    order is the one reported whichever process read what). Also run in the helper process."""
    try:
        if item.source == "receipt":
            return read_uke(list(item.paths))
        # value checks with published ranges / vocabularies (EPDS, vaccine names)
        return validate_source(read_csv_source(item.paths[0], source_specs()[item.source], item.profile))
    except IngestError as exc:
        return exc


# A delivery with fewer bytes than this is read here alone: the helper process first imports
# pandas and the readers (~0.4 s of the other core), more than it would take off a small read.
HELPER_FROM_BYTES = 16 * 2**20
# Items the helper has at once (one: this process keeps the choice of the rest for itself).
HELPER_QUEUE = 1


def _helper_pool() -> Executor:
    # spawn: the one start method of every platform, safe from the GUI's worker thread (a fork
    # of a process with threads is not)
    return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))


class _Reader:
    """Every item's read (or IngestError), in the items' order (``read``).

    With ``helper`` and a delivery of at least HELPER_FROM_BYTES, a second process reads some
    of the items. It starts (importing pandas and the readers, ~0.5 s) as soon as the reader is
    made, with the largest item; after that, each side takes the largest unread item when it
    is free (this process tops the helper up between its own items), so both finish together
    whatever the files' mix. A read comes back pickled (240,000 rows: 0.03 s to load). Nothing
    is written anywhere: the helper gets paths and sends frames back through a pipe. Should it
    fail (could not start, died), its items are read here. Measured on the demo city (51 MB,
    2 cores): the read 1.18-1.26 s alone, 1.00-1.07 s with the helper (it starts at ~0.5 s
    and reads yobo.csv and the small files last left); the import 6.5 → 6.1-6.3 s. A fork
    would start at once, but not safely from the GUI's worker thread, nor at all on Windows.

    Like every spawned process, the helper imports the program's main module first: a script
    of your own that imports a large delivery must keep its work under
    ``if __name__ == "__main__":`` (``python -m app``, the benchmarks and pytest do), or the
    helper runs the script's top level again; ``helper=False`` reads without it."""

    def __init__(self, items: list[_Item], helper: bool):
        self.items = items
        sizes = [sum(p.stat().st_size for p in item.paths) for item in items]
        self.out: list = [None] * len(items)
        self.left = deque(sorted(range(len(items)), key=lambda i: -sizes[i]))
        self.theirs: dict[int, Future] = {}
        self.done = 0
        self.pool = (_helper_pool() if helper and len(items) >= 2 and sum(sizes) >= HELPER_FROM_BYTES
                     else None)
        self._top_up()

    def __enter__(self) -> "_Reader":
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            # (on a cancel or a failure, the helper finishes the item it is reading, then exits)
            self.pool.shutdown(wait=False, cancel_futures=True)

    def _top_up(self) -> None:
        while self.pool is not None and self.left and sum(not f.done() for f in self.theirs.values()) < HELPER_QUEUE:
            i = self.left.popleft()
            try:
                self.theirs[i] = self.pool.submit(_read_item, self.items[i])
            except BrokenExecutor:
                self.left.appendleft(i)
                return

    def _here(self, i: int, progress: Progress) -> None:
        name = self.items[i].name
        progress.step(self.done / max(len(self.items), 1),
                      f"{name}を読んでいます" if name == "レセプト" else f"{name} を読んでいます")
        self.out[i] = _read_item(self.items[i])
        self.done += 1

    def read(self, progress: Progress) -> list:
        if self.pool is None:
            for i in sorted(self.left):   # in file order, up to the first fatal file
                self._here(i, progress)
                if isinstance(self.out[i], IngestError):
                    break
            return self.out
        while self.left:
            self._here(self.left.popleft(), progress)
            self._top_up()
        for i, future in self.theirs.items():
            try:
                self.out[i] = future.result()
                self.done += 1
            except BrokenExecutor:   # the helper is gone: its items are read here
                self._here(i, progress)
        return self.out
