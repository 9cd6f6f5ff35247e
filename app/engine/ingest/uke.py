"""The electronic receipt file (.UKE, 医科): RE/HO/SY/SI/IY records into frames.

One receipt = one RE record and the records after it up to the next RE. The whole file is
read by pandas into a ragged table (one row per line), so no Python loop runs per record.
A receipt whose RE cannot be read (no name, unreadable birth date or 診療年月) is quarantined
with the RE line; its SY/SI records go with it. Code meanings come from ``receipt_codes.toml``.
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


@dataclass
class UkeRead:
    file: str
    receipts: pd.DataFrame    # one row per RE: _line, name, kana, sex, birth_date, month, ...
    diagnoses: pd.DataFrame   # receipt_line, code, name, start_date, outcome, main
    procedures: pd.DataFrame  # receipt_line, line, kind (SI/IY), code, days (list of days)
    quarantine: pd.DataFrame  # file, line, reason, raw
    rows_read: int
    encoding: str


@functools.lru_cache(maxsize=1)
def receipt_codes() -> dict:
    """Configured code lists (night/holiday add-ons, income brackets)."""
    return tomllib.loads((Path(__file__).parent / "receipt_codes.toml").read_text("utf-8"))


def read_uke(path: Path) -> UkeRead:
    """Parse one .UKE file; see the module docstring."""
    file = path.name
    try:
        text, enc = decode_bytes(path.read_bytes())
    except EncodingProblem as exc:
        raise IngestError(file, str(exc)) from None
    except OSError as exc:
        raise IngestError(file, f"ファイルを開けません（{exc.strerror}）") from None
    try:
        t = pd.read_csv(io.StringIO(text), header=None, names=range(_WIDTH), dtype=str,
                        keep_default_na=False, skip_blank_lines=False, engine="c",
                        quoting=3)  # QUOTE_NONE: receipts never quote
    except pd.errors.ParserError as exc:
        raise IngestError(file, f"レセプト電算ファイルとして読めません（{exc}）") from None
    t["_line"] = np.arange(1, len(t) + 1)
    rec = t[0].str.strip()
    if not (rec == "IR").any() and not (rec == "RE").any():
        raise IngestError(file, "レセプト電算ファイルではありません（IR・RE レコードがありません）")
    receipt_no = (rec == "RE").cumsum()
    t["_receipt_line"] = t["_line"].where(rec == "RE").groupby(receipt_no).transform("first")
    re_ = t[rec == "RE"]
    name = re_[4].str.strip()
    births, birth_why = parse_date_series(re_[6], uke=True)
    months, month_why = parse_date_series(re_[3], uke=True)
    sex = re_[5].str.strip().map({"1": "M", "2": "F"}).fillna("")
    receipts = pd.DataFrame({
        "_line": re_["_line"].to_numpy(), "_file": file,
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
    raw = re_.iloc[:, :38].agg(",".join, axis=1).str.rstrip(",").to_numpy()
    quarantine = pd.DataFrame({"file": file, "line": receipts["_line"][bad].to_numpy(),
                               "reason": reason[bad], "raw": raw[bad]})
    good_lines = set(receipts["_line"][~bad])
    receipts = receipts[~bad].reset_index(drop=True)
    ho = t[(rec == "HO") & t["_receipt_line"].isin(good_lines)]
    insurer = ho.groupby("_receipt_line")[1].first().str.strip()
    receipts["insurer"] = receipts["_line"].map(insurer).fillna("")
    sy = t[(rec == "SY") & t["_receipt_line"].isin(good_lines)]
    start, _ = parse_date_series(sy[2], uke=True)
    diagnoses = pd.DataFrame({
        "receipt_line": sy["_receipt_line"].astype(int).to_numpy(), "line": sy["_line"].to_numpy(),
        "code": sy[1].str.strip().to_numpy(), "start_date": start.to_numpy(),
        "outcome": sy[3].str.strip().to_numpy(), "name": sy[5].str.strip().to_numpy(),
        "main": sy[6].str.strip().to_numpy()})
    si = t[rec.isin(["SI", "IY"]) & t["_receipt_line"].isin(good_lines)]
    day_counts = si[list(range(13, 44))].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy()
    procedures = pd.DataFrame({
        "receipt_line": si["_receipt_line"].astype(int).to_numpy(), "line": si["_line"].to_numpy(),
        "kind": rec[si.index].to_numpy(), "code": si[3].str.strip().to_numpy(),
        "first_day": np.where(day_counts.any(axis=1), (day_counts > 0).argmax(axis=1) + 1, 0),
        "n_days": (day_counts > 0).sum(axis=1)})
    return UkeRead(file, receipts, diagnoses, procedures, quarantine, int((rec == "RE").sum()), enc)
