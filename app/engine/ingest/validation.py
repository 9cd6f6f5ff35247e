"""Content checks of sources whose values have published ranges or vocabularies.

Runs after the CSV reader (which parses dates and numbers): a row that breaks a check moves to
the quarantine with a one-line Japanese reason — never half-imported, never dropped.

* EPDS (Cox 1987; 岡野ら 1996): each of 問1–問10 is 0–3, 合計 is 0–30, and 合計 equals the sum of
  the items when all ten are given. Items are found by their column names (問N, 質問N, 項目N,
  QN after NFKC), never by position.
* 予防接種: the vaccine name must be in resources/reference/vaccine_names.toml (after NFKC).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from app.engine.ingest.csvreader import QUARANTINE_COLUMNS, SourceRead

EPDS_ITEMS = [f"問{i}" for i in range(1, 11)]
_ITEM_NAME = re.compile(r"^(?:問|質問|項目|設問|Q|q|EPDS)[\s_-]*0*(\d{1,2})$")


def epds_item_columns(columns) -> dict[str, str]:
    """Delivered column name → canonical 問N, by name (NFKC; 問１, Q1, 質問1 …)."""
    out = {}
    for c in columns:
        m = _ITEM_NAME.match(unicodedata.normalize("NFKC", str(c)).strip())
        if m and 1 <= int(m.group(1)) <= 10:
            out[c] = f"問{int(m.group(1))}"
    return out


def _numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numeric values and a mask of cells that are present but not numbers."""
    if s.dtype.kind in "fi":
        return s.astype(float), pd.Series(False, index=s.index)
    text = s.fillna("").astype(str).map(lambda v: unicodedata.normalize("NFKC", v).strip())
    num = pd.to_numeric(text, errors="coerce")
    return num, (text != "") & num.isna()


def epds_reasons(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The frame with canonical 問1..問10 numeric columns, and a reason per row ('' = fine)."""
    df = df.rename(columns={c: n for c, n in epds_item_columns(df.columns).items() if c != n})
    df = df.loc[:, ~df.columns.duplicated()]
    reasons = pd.Series("", index=df.index, dtype=object)

    def add(mask, text):
        mask = pd.Series(mask, index=df.index) & (reasons == "")
        if mask.any():
            reasons[mask] = text[mask] if isinstance(text, pd.Series) else text

    for c in EPDS_ITEMS:
        if c not in df.columns:
            continue
        num, bad = _numbers(df[c])
        add(bad, c + "「" + df[c].astype(str) + "」が数値ではありません")
        out_of_range = num.notna() & ((num < 0) | (num > 3) | (num != np.floor(num)))
        add(out_of_range, c + "が0〜3の範囲外です（" + num.astype(str).str.replace(r"\.0$", "", regex=True) + "）")
        df[c] = num
    if "合計" in df.columns:
        total, bad = _numbers(df["合計"])
        add(bad, "合計「" + df["合計"].astype(str) + "」が数値ではありません")
        add(total.notna() & ((total < 0) | (total > 30) | (total != np.floor(total))),
            "合計が0〜30の範囲外です（" + total.astype(str).str.replace(r"\.0$", "", regex=True) + "）")
        df["合計"] = total
        present = [c for c in EPDS_ITEMS if c in df.columns]
        if len(present) == 10:
            items = df[present]
            complete = items.notna().all(axis=1)
            s = items.sum(axis=1)
            add(complete & total.notna() & (s != total),
                "合計(" + total.astype("Int64").astype(str) + ")が問1〜問10の和(" + s.astype("Int64").astype(str)
                + ")と一致しません")
    return df, reasons


def _move_to_quarantine(read: SourceRead, reasons: pd.Series) -> SourceRead:
    bad = (reasons != "").to_numpy()
    if not bad.any():
        return read
    moved = read.frame.loc[bad]
    q = pd.DataFrame({"file": read.file, "line": moved["_line"].astype(int).to_numpy(),
                      "reason": reasons[bad].to_numpy(), "raw": _raw(moved).to_numpy()},
                     columns=QUARANTINE_COLUMNS)
    quarantine = pd.concat([read.quarantine, q], ignore_index=True) if len(read.quarantine) else q
    return SourceRead(read.source, read.file, read.frame.loc[~bad].reset_index(drop=True), quarantine,
                      read.rows_read, read.encoding)


def _raw(frame: pd.DataFrame) -> pd.Series:
    """The rows as they were read (dates and numbers as parsed), for the quarantine list: built
    only for the rows that move there."""
    cols = [c for c in frame.columns if not str(c).startswith("_")]
    text = frame[cols].astype(str).replace({"nan": "", "NaT": "", "<NA>": ""})
    return text[cols[0]].str.cat([text[c] for c in cols[1:]], sep=",") if cols else pd.Series("", index=frame.index)


def validate_source(read: SourceRead) -> SourceRead:
    """Apply this module's checks to one read source (others pass through unchanged)."""
    if read.source == "epds" and len(read.frame):
        frame, reasons = epds_reasons(read.frame)
        read = SourceRead(read.source, read.file, frame, read.quarantine, read.rows_read, read.encoding)
        return _move_to_quarantine(read, reasons)
    if read.source == "yobo" and len(read.frame) and "ワクチン" in read.frame.columns:
        from app.engine.reference.vaccination import vaccine_code

        # Checked once per distinct name (a city's rows repeat a few dozen names).
        codes, names = pd.factorize(read.frame["ワクチン"].to_numpy(dtype=object))
        _codes, why = vaccine_code(pd.Series(names, dtype=object))
        return _move_to_quarantine(read, pd.Series(why.to_numpy(dtype=object)[codes], index=read.frame.index))
    return read
