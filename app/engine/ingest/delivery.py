"""Read a whole delivery folder: manifest, every source file, quarantine, reconciliation."""

from __future__ import annotations

import datetime as dt
import hashlib
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
                  progress: Progress | None = None) -> Delivery:
    """Read every extract in ``folder``. Raises IngestError on the first fatal file problem."""
    progress = ensure(progress)
    folder = Path(folder)
    if not folder.is_dir():
        raise IngestError(str(folder), "フォルダがありません")
    profiles = profiles or {}
    manifest = _read_manifest(folder)
    specs = source_specs()
    delivery = Delivery(folder, fingerprint(folder))
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name not in IGNORED_FILES)
    quarantines = []
    uke_files: list[tuple[Path, dt.date | None, str]] = []
    for i, path in enumerate(files):
        progress.step(i / max(len(files), 1), f"{path.name} を読んでいます")
        source, as_of, dept = manifest.get(path.name, (None, None, ""))
        source = source or source_for_file(path.name, profiles)
        if source is None:
            delivery.ignored.append(path.name)
            continue
        if source == "receipt":
            uke_files.append((path, as_of, dept))  # read together below: one pass for all
            continue
        else:
            # value checks with published ranges / vocabularies (EPDS, vaccine names)
            read = validate_source(read_csv_source(path, specs[source], profiles.get(source)))
            prev = delivery.tables.get(source)
            delivery.tables[source] = read.frame if prev is None else pd.concat([prev, read.frame],
                                                                                ignore_index=True)
        quarantines.append(read.quarantine)
        delivery.files.append(FileInfo(path.name, source, as_of, dept, read.rows_read,
                                       len(read.quarantine), read.encoding))
    if uke_files:
        progress.step(0.9, "レセプトを読んでいます")
        read = read_uke([p for p, _, _ in uke_files])
        delivery.receipts.append(read)
        quarantines.append(read.quarantine)
        q_counts = read.quarantine.groupby("file").size()
        for path, as_of, dept in uke_files:
            delivery.files.append(FileInfo(path.name, "receipt", as_of, dept, int(read.rows_read[path.name]),
                                           int(q_counts.get(path.name, 0)), read.encoding[path.name]))
    delivery.quarantine = (pd.concat(quarantines, ignore_index=True) if quarantines
                           else pd.DataFrame(columns=["file", "line", "reason", "raw"]))
    progress.step(1.0, "読み込み完了")
    return delivery
