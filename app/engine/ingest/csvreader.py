"""Read one delivered CSV into canonical columns, quarantining bad rows with Japanese reasons.

Every data row ends in exactly one place: the returned frame, or the quarantine frame with its
physical line (header = line 1). Fatal problems (undecodable file, missing required column)
raise ``IngestError`` naming the file, so the caller can leave the store untouched.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from app.engine.ingest.dates import parse_date_series
from app.engine.ingest.encoding import EncodingProblem, decode_bytes
from app.engine.ingest.profiles import SEX_CODES, MappingProfile, SourceSpec


class IngestError(Exception):
    """A fatal problem with one file: the delivery cannot be imported as it is."""

    def __init__(self, file: str, reason: str):
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


@dataclass
class SourceRead:
    source: str
    file: str
    frame: pd.DataFrame          # canonical columns + _file, _line (accepted rows only)
    quarantine: pd.DataFrame     # file, line, reason, raw
    rows_read: int
    encoding: str


QUARANTINE_COLUMNS = ["file", "line", "reason", "raw"]


def _table(text: str, file: str) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """Header, data rows (all str, column ``_line``) and rows with a wrong field count."""
    if '"' not in text:
        try:
            df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                             skip_blank_lines=False, engine="c")
            header = [str(c) for c in df.columns]
            df.columns = range(len(header))
            df["_line"] = np.arange(2, len(df) + 2)
            return header, df, pd.DataFrame(columns=QUARANTINE_COLUMNS)
        except (pd.errors.ParserError, pd.errors.EmptyDataError):
            pass  # ragged rows or odd quoting: the slower reader below tracks them line by line
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise IngestError(file, "ファイルが空です（見出し行がありません）") from None
    rows, lines, bad = [], [], []
    start = reader.line_num + 1
    for row in reader:
        if len(row) == len(header):
            rows.append(row)
            lines.append(start)
        elif any(cell.strip() for cell in row):
            bad.append((file, start, f"列数が見出しと合いません（{len(row)}列、見出しは{len(header)}列）",
                        ",".join(row)))
        start = reader.line_num + 1
    df = pd.DataFrame(rows, columns=range(len(header)), dtype=object) if rows else \
        pd.DataFrame(columns=range(len(header)), dtype=object)
    df["_line"] = np.asarray(lines, dtype=np.int64)
    return header, df, pd.DataFrame(bad, columns=QUARANTINE_COLUMNS)


def _strip(values: pd.Series) -> pd.Series:
    """str.strip, computed once per distinct value (columns repeat few values)."""
    codes, uniq = pd.factorize(values)
    mapped = np.array([u.strip() for u in uniq], dtype=object)
    return pd.Series(mapped[codes] if len(uniq) else np.array([], dtype=object), index=values.index)


def _nfkc(values: pd.Series) -> pd.Series:
    """NFKC + strip, computed once per distinct value."""
    codes, uniq = pd.factorize(values)
    mapped = np.array([unicodedata.normalize("NFKC", u).strip() for u in uniq], dtype=object)
    return pd.Series(mapped[codes] if len(uniq) else np.array([], dtype=object), index=values.index)


def _clean_header(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().strip("\ufeff")


def read_csv_source(path: Path, spec: SourceSpec, profile: MappingProfile | None = None) -> SourceRead:
    """Read ``path`` as source ``spec`` (adapted by ``profile``); see the module docstring."""
    file = path.name
    try:
        text, enc = decode_bytes(path.read_bytes())
    except EncodingProblem as exc:
        raise IngestError(file, str(exc)) from None
    except OSError as exc:
        raise IngestError(file, f"ファイルを開けません（{exc.strerror}）") from None
    header, df, bad = _table(text, file)
    renames = {_clean_header(k): v for k, v in (profile.renames if profile else {}).items()}
    names = [renames.get(_clean_header(h), _clean_header(h)) for h in header]
    missing = [c for c in spec.required if c not in names]
    if missing:
        raise IngestError(file, "必須の列がありません: " + "、".join(f"「{c}」" for c in missing))
    df.columns = names + ["_line"]
    df = df.loc[:, ~df.columns.duplicated()]
    cols = [c for c in df.columns if c != "_line"]
    for c in cols:
        df[c] = _strip(df[c].fillna("").astype(str))
    # A blank line is not a record: it is neither imported nor quarantined.
    if cols:
        df = df[(df[cols] != "").any(axis=1)]
    raw_cols = df[cols].copy()  # the row as delivered, for the quarantine list and duplicates
    rows_read = len(df) + len(bad)
    reasons = pd.Series("", index=df.index, dtype=object)

    def add(mask: pd.Series, reason) -> None:
        mask = mask & (reasons == "")  # the first problem of a row is the one reported
        if mask.any():
            reasons[mask] = reason[mask] if isinstance(reason, pd.Series) else reason

    code_maps = profile.code_maps if profile else {}
    for c, mapping in code_maps.items():
        if c in df.columns:
            df[c] = df[c].replace(mapping)
    if "宛名番号" in df.columns:
        df["宛名番号"] = _nfkc(df["宛名番号"])
        bad_num = (df["宛名番号"] != "") & ~df["宛名番号"].str.fullmatch(r"\d+")
        add(bad_num, "宛名番号「" + df["宛名番号"] + "」が数字ではありません")
    if "世帯番号" in df.columns:
        df["世帯番号"] = _nfkc(df["世帯番号"])
    if "性別" in df.columns:
        norm = _nfkc(df["性別"])
        sex = norm.map(SEX_CODES)
        add((norm != "") & sex.isna(), "性別「" + df["性別"] + "」が不明なコードです")
        df["性別"] = sex.fillna("")
    date_formats = profile.date_formats if profile else {}
    person_dates = ["生年月日"] if spec.person == "subject" else []
    for c in dict.fromkeys([*person_dates, *spec.dates, *spec.month_dates]):
        if c not in df.columns:
            continue
        parsed, why = parse_date_series(df[c])
        if c in date_formats:
            fixed = pd.to_datetime(df[c], format=date_formats[c], errors="coerce")
            parsed = fixed.where(fixed.notna(), parsed)
            why = why.where(parsed.isna(), "")
        add(why != "", c + "の" + why)
        df[c] = parsed
    for c in spec.numbers:
        if c not in df.columns:
            continue
        text_values = _nfkc(df[c])
        num = pd.to_numeric(text_values, errors="coerce")
        add((text_values != "") & num.isna(), c + "「" + df[c] + "」が数値ではありません")
        df[c] = num.astype(float)
    for c in spec.must_have:
        if c in df.columns:
            empty = df[c].isna() if df[c].dtype != object else (df[c] == "")
            add(empty, f"{c}が空です")
    if spec.person == "subject":
        has_number = df["宛名番号"] != "" if "宛名番号" in df.columns else False
        has_name = (df["氏名"] != "") if "氏名" in df.columns else pd.Series(False, index=df.index)
        has_birth = df["生年月日"].notna() if "生年月日" in df.columns else pd.Series(False, index=df.index)
        add(~(has_number | (has_name & has_birth)),
            "本人を特定する項目（宛名番号、または氏名と生年月日）がありません")
    # Exact repeats of an earlier row are quarantined, pointing at the row they repeat.
    dup = raw_cols.duplicated(keep="first") & (reasons == "")
    if dup.any():
        first_line = df["_line"].groupby([raw_cols[c] for c in cols]).transform("min")
        add(dup, first_line.astype(str) + "行目と同じ内容の重複行です")
    quarantined = reasons != ""
    bad_rows = raw_cols[quarantined]
    raw = (bad_rows[cols[0]].str.cat([bad_rows[c] for c in cols[1:]], sep=",")
           if len(bad_rows) and cols else pd.Series("", index=bad_rows.index))
    q = pd.DataFrame({"file": file, "line": df.loc[quarantined, "_line"].astype(int),
                      "reason": reasons[quarantined], "raw": raw[quarantined]})
    q = pd.concat([bad, q], ignore_index=True) if len(bad) else q.reset_index(drop=True)
    good = df.loc[~quarantined].copy()
    good["_file"] = file
    return SourceRead(spec.key, file, good.reset_index(drop=True), q, rows_read, enc)
