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
import io
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from app.engine.ingest.csvreader import IngestError
from app.engine.ingest.dates import parse_date_series
from app.engine.ingest.encoding import EncodingProblem, decode_bytes

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


def _decode(path: Path) -> tuple[str, str]:
    try:
        text, enc = decode_bytes(path.read_bytes())
    except EncodingProblem as exc:
        raise IngestError(path.name, str(exc)) from None
    except OSError as exc:
        raise IngestError(path.name, f"ファイルを開けません（{exc.strerror}）") from None
    if not any(text.startswith(r) or f"\n{r}," in text for r in ("IR", "RE")):
        raise IngestError(path.name, "レセプト電算ファイルではありません（IR・RE レコードがありません）")
    return text, enc


def _read_tables(paths: list[Path]) -> tuple[pd.DataFrame, list[str]]:
    """All files as one ragged table (one row per physical line) with _file, _line and _raw."""
    texts, encodings, names, counts = [], [], [], []
    for path in paths:
        text, enc = _decode(path)
        text = text.replace("\r\n", "\n")
        if not text.endswith("\n"):
            text += "\n"
        texts.append(text)
        encodings.append(enc)
        names.append(path.name)
        counts.append(text.count("\n"))
    options = dict(header=None, names=range(_WIDTH), dtype=str, keep_default_na=False,
                   skip_blank_lines=False, quoting=3)  # QUOTE_NONE: receipts never quote
    try:
        t = pd.read_csv(io.StringIO("".join(texts)), engine="c", **options)
    except pd.errors.ParserError:
        # pandas 2.3's C tokenizer can report "Buffer overflow caught" on valid ragged files
        # (found by the property test; depends on byte lengths). The python engine reads the
        # same grammar, slower; only a file it cannot read either is fatal.
        try:
            t = pd.read_csv(io.StringIO("".join(texts)), engine="python", **options)
        except pd.errors.ParserError as exc:
            raise IngestError(names[0] if len(names) == 1 else "レセプト",
                              f"レセプト電算ファイルとして読めません（{exc}）") from None
    if len(t) != sum(counts):
        raise IngestError(names[0] if len(names) == 1 else "レセプト", "レセプトの行数を数え直せません（空行や引用符が含まれています）")
    t["_file"] = np.repeat(np.asarray(names, dtype=object), counts)
    t["_line"] = np.concatenate([np.arange(1, n + 1) for n in counts]) if counts else []
    t["_raw"] = np.asarray("".join(texts).split("\n")[:-1], dtype=object)
    return t, encodings


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


def read_uke(paths: list[Path] | Path) -> UkeRead:
    """Parse .UKE files (all of a delivery at once: one vectorised pass over every line)."""
    paths = [paths] if isinstance(paths, Path) else list(paths)
    t, encodings = _read_tables(paths)
    # A blank line (or the DOS end-of-file mark) is no record.
    blank = (t["_raw"].str.strip("\x1a \t\u3000") == "").to_numpy()
    t = t[~blank]
    rec = t[0].str.normalize("NFKC").str.strip().str.upper()
    t["_rid"], orphan_start = _segments(t, rec)
    is_re = (rec == "RE").to_numpy()
    is_file = rec.isin(FILE_RECORDS).to_numpy()
    t["_receipt_line"] = t["_line"].where(is_re).groupby(t["_rid"]).transform("first")
    re_ = t[is_re].copy()
    for col in (3, 5, 6):
        re_[col] = re_[col].str.normalize("NFKC")
    name = re_[4].str.strip()
    births, birth_why = parse_date_series(re_[6], uke=True)
    months, month_why = parse_date_series(re_[3], uke=True)
    sex = re_[5].str.strip().map({"1": "M", "2": "F"}).fillna("")
    receipts = pd.DataFrame({
        "_line": re_["_line"].to_numpy(), "_file": re_["_file"].to_numpy(), "_rid": re_["_rid"].to_numpy(),
        "receipt_no": re_[1].str.strip().to_numpy(), "receipt_type": re_[2].str.strip().to_numpy(),
        "month": months.to_numpy(), "name": name.to_numpy(), "sex": sex.to_numpy(),
        "birth_date": births.to_numpy(), "special_codes": re_[11].str.strip().to_numpy(),
        "kana": re_[36].str.strip().to_numpy(),
    })
    reason = np.select(
        [name.to_numpy() == "", birth_why.to_numpy() != "", births.isna().to_numpy(),
         month_why.to_numpy() != "", months.isna().to_numpy()],
        ["氏名が空です", "生年月日の" + birth_why.to_numpy(), "生年月日が空です",
         "診療年月の" + month_why.to_numpy(), "診療年月が空です"], default="")
    bad = reason != ""
    # Segments no RE opens: quarantined whole, named by their first line.
    heads = t[orphan_start]
    head_rec = rec[orphan_start]
    orphan_reason = np.where(
        head_rec.isin(HEAD_RECORDS).to_numpy() | head_rec.isin(RECEIPT_RECORDS).to_numpy(),
        "REレコードがありません（「" + heads[0].str.strip().str.slice(0, 8).to_numpy()
        + "」レコードから始まっています）。前の患者には付けず、このレセプトを隔離しました",
        "レコード識別「" + heads[0].str.strip().str.slice(0, 8).to_numpy()
        + "」が読めません（REレコードが壊れています）。前の患者には付けず、このレセプトを隔離しました")
    q_rid = np.concatenate([receipts["_rid"][bad].to_numpy(), heads["_rid"].to_numpy()])
    q_reason = np.concatenate([reason[bad], orphan_reason]).astype(object)
    q_rid_order = pd.Series(q_reason, index=q_rid)
    whole = t[t["_rid"].isin(q_rid) & ~is_file]
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
    insurer = ho.groupby("_rid")[1].first().str.strip()
    receipts["insurer"] = receipts["_rid"].map(insurer).fillna("")
    sy = t[(rec == "SY").to_numpy() & good]
    start, _ = parse_date_series(sy[2], uke=True)
    diagnoses = pd.DataFrame({
        "_file": sy["_file"].to_numpy(),
        "receipt_line": sy["_receipt_line"].astype(int).to_numpy(), "line": sy["_line"].to_numpy(),
        "code": sy[1].str.strip().to_numpy(), "start_date": start.to_numpy(),
        "outcome": sy[3].str.strip().to_numpy(), "name": sy[5].str.strip().to_numpy(),
        "main": sy[6].str.strip().to_numpy()})
    si = t[rec.isin(["SI", "IY"]).to_numpy() & good]
    # A day had the procedure when its count cell holds anything but empty or zero.
    cells = si[list(range(13, 44))].to_numpy(dtype=object)
    day_counts = ((cells != "") & (cells != "0")).astype(np.int8)
    procedures = pd.DataFrame({
        "_file": si["_file"].to_numpy(),
        "receipt_line": si["_receipt_line"].astype(int).to_numpy(), "line": si["_line"].to_numpy(),
        "kind": rec[si.index].to_numpy(), "code": si[3].str.strip().to_numpy(),
        "first_day": np.where(day_counts.any(axis=1), (day_counts > 0).argmax(axis=1) + 1, 0),
        "n_days": (day_counts > 0).sum(axis=1)})
    # Receipts read = RE records + segments no RE opens (each imported or quarantined).
    opened = pd.Series(t["_file"].to_numpy()[is_re | orphan_start])
    rows_read = opened.value_counts().reindex([p.name for p in paths]).fillna(0).astype(int)
    return UkeRead([p.name for p in paths], receipts, diagnoses, procedures, quarantine,
                   rows_read.to_dict(), dict(zip([p.name for p in paths], encodings)))
