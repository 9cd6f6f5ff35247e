"""The electronic receipt file (.UKE, 医科): RE/HO/SY/SI/IY records into frames.

One receipt = one RE record and the records after it up to the next RE. The whole file is
read by pandas into a ragged table (one row per line), so no Python loop runs per record.
A receipt whose RE cannot be read (no name, unreadable birth date or 診療年月) is quarantined
whole (all its lines in ``raw``). Code meanings come from ``receipt_codes.toml``.

Lines belong only to the RE that opens them, never to the previous patient. The record type is
read after NFKC and upper-casing (a full-width ``ＲＥ`` or a lower-case ``re`` is still an RE).
A run of lines that no RE opens — a record type nobody knows (a mangled RE), a HO/KO that
follows a receipt's body (its RE is missing), lines right after IR/GO or at the top of a file —
is a receipt of its own that cannot be read: quarantined whole, with its reason.
"""

from __future__ import annotations

import functools
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from app.engine.ingest.csvreader import IngestError, _Cells, _Undecodable
from app.engine.ingest.dates import parse_date_values
from app.engine.ingest.encoding import EncodingProblem, choose_encoding, decode_bytes

_WIDTH = 64  # more than the widest record (SI/IY: 44 fields)

# Record types of the 医科 electronic receipt (厚生労働省「電子レセプトの作成手引き」 record layouts).
# File level: IR (header), GO (trailer). Receipt level: everything else.
FILE_RECORDS = {"IR", "GO"}
RECEIPT_RECORDS = {"RE", "HO", "KO", "KH", "GR", "SY", "SI", "IY", "TO", "CO", "SJ", "TI", "NI",
                   "JD", "MF", "SN", "TR", "TS", "SK"}
# Records that open a receipt's body right after RE: one after SY/SI/… means its RE is missing.
HEAD_RECORDS = {"HO", "KO", "KH"}
TREATMENT_RECORDS = {"SI", "IY", "TO", "CO"}


@dataclass
class UkeRead:
    files: list[str]
    receipts: pd.DataFrame    # one row per RE: _line, name, kana, sex, birth_date, month, ...
    diagnoses: pd.DataFrame   # receipt_line, code, name, start_date, outcome, main
    procedures: pd.DataFrame  # receipt_line, line, kind (SI/IY), code, days (list of days)
    quarantine: pd.DataFrame  # file, line, reason, raw
    rows_read: dict[str, int]  # file → RE records read
    encoding: dict[str, str]


@functools.lru_cache(maxsize=1)
def receipt_codes() -> dict:
    """Configured code lists (night/holiday add-ons, income brackets)."""
    return tomllib.loads((Path(__file__).parent / "receipt_codes.toml").read_text("utf-8"))


def _payload(path: Path) -> tuple[bytes, str, str]:
    """(bytes to cut, codec of its cells, encoding name) of one .UKE file."""
    try:
        data = path.read_bytes()
        enc, text = choose_encoding(data)
    except EncodingProblem as exc:
        raise IngestError(path.name, str(exc)) from None
    except OSError as exc:
        raise IngestError(path.name, f"ファイルを開けません（{exc.strerror}）") from None
    if text is not None:
        payload, codec = text.encode("utf-8"), "utf-8"
    else:
        payload, codec = data, "cp932"   # checked below: every cell is decoded
    if not any(payload.startswith(r) or b"\n" + r + b"," in payload for r in (b"IR", b"RE")):
        _check_decodes(path)
        raise IngestError(path.name, "レセプト電算ファイルではありません（IR・RE レコードがありません）")
    payload = payload.replace(b"\r\n", b"\n")
    if not payload.endswith(b"\n"):
        payload = payload.removesuffix(b"\r") + b"\n"
    if b"\r" in payload:
        # A lone CR: neither a line break nor a field of a receipt file.
        raise IngestError(path.name, "レセプトの行数を数え直せません（改行でない CR が含まれています）")
    return payload, codec, enc


def _check_decodes(path: Path) -> None:
    """Raise the file's decoding problem, named as ``decode_bytes`` words it (if it has one)."""
    try:
        decode_bytes(path.read_bytes())
    except EncodingProblem as exc:
        raise IngestError(path.name, str(exc)) from None


def _read_tables(paths: list[Path]) -> tuple[pd.DataFrame, _Cells, list[str]]:
    """All files as one table of lines (_file, _line, _pos, record type in column 0) and their
    fields, cut on the raw bytes (``_Cells``: each distinct cell decoded once; columns are taken
    for the lines that need them only)."""
    read = [_payload(p) for p in paths]
    codecs_used = {codec for _, codec, _ in read}
    # One codec for the joined bytes: UTF-8 files are re-encoded only when CP932 files are mixed in.
    codec = "cp932" if codecs_used == {"cp932"} else "utf-8"
    parts = []
    for path, (part, c, _) in zip(paths, read):
        if c != codec:
            _check_decodes(path)
            part = part.decode(c).encode(codec)
        parts.append(part)
    encodings = [enc for _, _, enc in read]
    counts = [part.count(b"\n") for part in parts]
    payload = b"".join(parts)
    del read, parts
    try:
        cells = _Cells(payload, codec)
    except _Undecodable:
        for path in paths:
            _check_decodes(path)
        raise IngestError(paths[0].name, "文字コードを判定できません") from None
    too_many = np.flatnonzero(cells.n_fields > _WIDTH)
    if len(too_many):
        file_of = np.repeat(np.arange(len(paths)), counts)[too_many[0]]
        line = too_many[0] - sum(counts[:file_of]) + 1
        raise IngestError(paths[file_of].name, f"{line}行目の項目が多すぎます（{cells.n_fields[too_many[0]]}項目）")
    names = [p.name for p in paths]
    rows = np.arange(len(cells.starts))
    t = pd.DataFrame({0: cells.column(0, rows).values(),
                      "_file": np.repeat(np.asarray(names, dtype=object), counts),
                      "_line": np.concatenate([np.arange(1, n + 1) for n in counts]) if counts else [],
                      "_pos": rows})
    return t, cells, encodings


def _segments(t: pd.DataFrame, rec: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Receipt id of every line, and whether that line opens a segment no RE opens (orphan)."""
    is_re = (rec == "RE").to_numpy()
    is_file = rec.isin(FILE_RECORDS).to_numpy()
    unknown = ~rec.isin(RECEIPT_RECORDS | FILE_RECORDS).to_numpy()
    prev = np.concatenate([[""], rec.to_numpy()[:-1]]).astype(object)
    prev_file = np.concatenate([[None], t["_file"].to_numpy()[:-1]]).astype(object)
    first = prev_file != t["_file"].to_numpy()  # a new file also ends the previous receipt
    prev = np.where(first, "", prev)
    # Inside a receipt a HO/KO/KH follows RE or another head record; after SY/SI it starts a
    # new receipt whose RE is missing.
    # (After an unknown record the head belongs to the orphan that record opened.)
    body = list(RECEIPT_RECORDS - HEAD_RECORDS - {"RE"})
    lost_head = rec.isin(HEAD_RECORDS).to_numpy() & np.isin(prev, body)
    lost_head |= (rec == "HO").to_numpy() & (prev == "HO")  # one insurer per receipt
    # 傷病名 (SY) records precede the treatment records (SI/IY/TO/CO) of their receipt: a SY
    # after them starts a receipt that lost its RE and HO.
    lost_head |= (rec == "SY").to_numpy() & np.isin(prev, list(TREATMENT_RECORDS))
    after_file = np.isin(prev, list(FILE_RECORDS))
    starts = is_re | is_file | unknown | lost_head | after_file | first
    orphan_start = starts & ~is_re & ~is_file
    return np.cumsum(starts), orphan_start


def _cells(split: _Cells, k: int, rows: np.ndarray, fn=str.strip) -> np.ndarray:
    """Field ``k`` of the given lines with ``fn`` applied once per distinct cell."""
    inner, distinct = pd.factorize(split.codes_of(k, rows))
    return np.array([fn(split.uniq[c]) for c in distinct], dtype=object)[inner] if len(rows) else \
        np.array([], dtype=object)


def _dates(split: _Cells, k: int, rows: np.ndarray, nfkc: bool) -> tuple[np.ndarray, np.ndarray]:
    """Field ``k`` read as UKE dates, once per distinct cell: (datetime64[ns], reasons)."""
    inner, distinct = pd.factorize(split.codes_of(k, rows))
    values = [split.uniq[c] for c in distinct]
    parsed, why = parse_date_values([unicodedata.normalize("NFKC", v) if nfkc else v for v in values], uke=True)
    return parsed[inner], why[inner]


def _receipts(re_: pd.DataFrame, split: _Cells) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per RE record, and the reason its receipt cannot be read ("" = fine)."""
    pos = re_["_pos"].to_numpy()
    name = _cells(split, 4, pos)
    births, birth_why = _dates(split, 6, pos, nfkc=True)
    months, month_why = _dates(split, 3, pos, nfkc=True)
    sex = _cells(split, 5, pos, lambda u: {"1": "M", "2": "F"}.get(unicodedata.normalize("NFKC", u).strip(), ""))
    receipts = pd.DataFrame({
        "_line": re_["_line"].to_numpy(), "_file": re_["_file"].to_numpy(), "_rid": re_["_rid"].to_numpy(),
        "receipt_no": _cells(split, 1, pos), "receipt_type": _cells(split, 2, pos),
        "month": months, "name": name, "sex": sex,
        "birth_date": births, "special_codes": _cells(split, 11, pos),
        "kana": _cells(split, 36, pos),
    })
    reason = np.select(
        [name == "", birth_why != "", np.isnat(births), month_why != "", np.isnat(months)],
        ["氏名が空です", "生年月日の" + birth_why, "生年月日が空です",
         "診療年月の" + month_why, "診療年月が空です"], default="")
    return receipts, reason


def read_uke(paths: list[Path] | Path) -> UkeRead:
    """Parse .UKE files (all of a delivery at once: one vectorised pass over every line)."""
    paths = [paths] if isinstance(paths, Path) else list(paths)
    t, split, encodings = _read_tables(paths)
    # A blank line (or the DOS end-of-file mark) is no record.
    blank_cell = np.array([u.strip("\x1a \t\u3000") == "" for u in split.uniq], dtype=bool)
    blank = (split.n_fields == 1) & blank_cell[split.codes_of(0, t["_pos"].to_numpy())]
    t = t[~blank]
    kinds = _cells(split, 0, t["_pos"].to_numpy(), lambda u: unicodedata.normalize("NFKC", u).strip().upper())
    rec = pd.Series(kinds, index=t.index, dtype=object)
    t["_rid"], orphan_start = _segments(t, rec)
    is_re = (rec == "RE").to_numpy()
    is_file = rec.isin(FILE_RECORDS).to_numpy()
    t["_receipt_line"] = t["_line"].where(is_re).groupby(t["_rid"]).transform("first")
    receipts, reason = _receipts(t[is_re], split)
    bad = reason != ""
    # Segments no RE opens: quarantined whole, named by their first line.
    heads = t[orphan_start]
    head_rec = rec[orphan_start]
    tag = _cells(split, 0, heads["_pos"].to_numpy(), lambda u: u.strip()[:8])
    orphan_reason = np.where(
        head_rec.isin(HEAD_RECORDS).to_numpy() | head_rec.isin(RECEIPT_RECORDS).to_numpy(),
        "REレコードがありません（「" + tag + "」レコードから始まっています）。前の患者には付けず、このレセプトを隔離しました",
        "レコード識別「" + tag + "」が読めません（REレコードが壊れています）。前の患者には付けず、このレセプトを隔離しました")
    q_rid = np.concatenate([receipts["_rid"][bad].to_numpy(), heads["_rid"].to_numpy()])
    q_reason = np.concatenate([reason[bad], orphan_reason]).astype(object)
    q_rid_order = pd.Series(q_reason, index=q_rid)
    whole = t[t["_rid"].isin(q_rid) & ~is_file]
    whole = whole.assign(_raw=split.lines(whole["_pos"].to_numpy()))
    raw = whole.groupby("_rid")["_raw"].agg("\n".join)
    first = whole.groupby("_rid")[["_file", "_line"]].first()
    quarantine = pd.DataFrame({"file": first["_file"].reindex(q_rid).to_numpy(),
                               "line": first["_line"].reindex(q_rid).to_numpy(),
                               "reason": q_rid_order.to_numpy(),
                               "raw": raw.reindex(q_rid).to_numpy()})
    quarantine = quarantine.sort_values(["file", "line"], kind="stable").reset_index(drop=True)
    good = t["_rid"].isin(receipts["_rid"][~bad]).to_numpy()
    receipts = receipts[~bad].reset_index(drop=True)
    ho = t[(rec == "HO").to_numpy() & good]
    insurer = pd.Series(_cells(split, 1, ho["_pos"].to_numpy()), dtype=object).groupby(ho["_rid"].to_numpy()).first()
    receipts["insurer"] = receipts["_rid"].map(insurer).fillna("")
    sy = t[(rec == "SY").to_numpy() & good]
    pos = sy["_pos"].to_numpy()
    start, _ = _dates(split, 2, pos, nfkc=False)
    diagnoses = pd.DataFrame({
        "_file": sy["_file"].to_numpy(),
        "receipt_line": sy["_receipt_line"].astype(int).to_numpy(), "line": sy["_line"].to_numpy(),
        "code": _cells(split, 1, pos), "start_date": start,
        "outcome": _cells(split, 3, pos), "name": _cells(split, 5, pos),
        "main": _cells(split, 6, pos)})
    si = t[rec.isin(["SI", "IY"]).to_numpy() & good]
    pos = si["_pos"].to_numpy()
    # A day had the procedure when its count cell holds anything but empty or zero.
    active = (split.uniq != "") & (split.uniq != "0")
    day_counts = np.stack([active[split.codes_of(k, pos)] for k in range(13, 44)], axis=1).astype(np.int8) \
        if len(pos) else np.zeros((0, 31), dtype=np.int8)
    procedures = pd.DataFrame({
        "_file": si["_file"].to_numpy(),
        "receipt_line": si["_receipt_line"].astype(int).to_numpy(), "line": si["_line"].to_numpy(),
        "kind": rec[si.index].to_numpy(), "code": _cells(split, 3, pos),
        "first_day": np.where(day_counts.any(axis=1), (day_counts > 0).argmax(axis=1) + 1, 0),
        "n_days": (day_counts > 0).sum(axis=1)})
    # Receipts read = RE records + segments no RE opens (each imported or quarantined).
    opened = pd.Series(t["_file"].to_numpy()[is_re | orphan_start])
    rows_read = opened.value_counts().reindex([p.name for p in paths]).fillna(0).astype(int)
    return UkeRead([p.name for p in paths], receipts, diagnoses, procedures, quarantine,
                   rows_read.to_dict(), dict(zip([p.name for p in paths], encodings)))
