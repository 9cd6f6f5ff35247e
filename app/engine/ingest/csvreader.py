"""Read one delivered CSV into canonical columns, quarantining bad rows with Japanese reasons.

Every data row ends in exactly one place: the returned frame, or the quarantine frame with its
physical line (header = line 1). Fatal problems (undecodable file, missing required column)
raise ``IngestError`` naming the file, so the caller can leave the store untouched.
"""

from __future__ import annotations

import csv
import functools
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


def _field_limit() -> int:
    return csv.field_size_limit()


def _count_problem(n: int, width: int) -> str:
    return f"列数が見出しと合いません（{n}列、見出しは{width}列）"


def _table(text: str, file: str) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """Header, data rows (all str, column ``_line``) and rows that cannot be rows.

    Every physical line ends up in a row, in the quarantine, or is blank. A row with the wrong
    number of fields is quarantined whether or not the file quotes anything, and so is a field
    longer than the csv module's limit.
    """
    if '"' not in text:
        try:
            df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                             skip_blank_lines=False, engine="c")
        except (pd.errors.ParserError, pd.errors.EmptyDataError):
            df = None  # ragged rows: the line-by-line reader below tracks them
        all_lines = text.replace("\r\n", "\n").split("\n")
        if all_lines and all_lines[-1] == "":
            all_lines.pop()
        # (A lone CR is a line break to pandas but not here: then the careful reader decides.)
        if df is not None and len(all_lines) - 1 == len(df):
            header = [str(c) for c in df.columns]
            df.columns = range(len(header))
            df["_line"] = np.arange(2, len(df) + 2)
            # pandas pads a short row with empty fields: count the separators of the line.
            lines = pd.Series(all_lines[1:], index=df.index, dtype=object)
            n_fields = lines.str.count(",").to_numpy() + 1
            too_long = np.zeros(len(df), dtype=bool)
            for c in range(len(header)):
                too_long |= (df[c].str.len() > _field_limit()).to_numpy()
            blank = (lines.str.strip() == "").to_numpy()
            wrong = ((n_fields != len(header)) | too_long) & ~blank
            bad = pd.DataFrame({
                "file": file, "line": df["_line"][wrong].to_numpy(),
                "reason": np.where(too_long[wrong], f"項目が長すぎます（{_field_limit():,}文字を超えています）",
                                   [_count_problem(n, len(header)) for n in n_fields[wrong]]),
                "raw": lines[wrong].str.rstrip("\r").to_numpy()}, columns=QUARANTINE_COLUMNS)
            return header, df[~wrong].reset_index(drop=True), bad
    return _table_by_lines(text, file)


def _opens_quote(line: str) -> bool:
    """Does the line end inside a quoted field? (csv reads on into the next line then.)"""
    if '"' not in line:
        return False
    reader = csv.reader([line, ""])
    try:
        next(reader)
    except csv.Error:
        return False  # a field too long: reported by ``_fields``
    return reader.line_num > 1


def _record(lines: list[str], i: int) -> tuple[int, str]:
    """(index after the record, its text) starting at physical line i. A line that opens a
    quote takes the lines up to the next one holding a quote character (where the quote can
    close); none (end of file): never closed, -1."""
    if not _opens_quote(lines[i]):
        return i + 1, lines[i]
    j = i + 1
    while j < len(lines) and '"' not in lines[j]:
        j += 1
    if j >= len(lines):
        return -1, lines[i]
    return j + 1, "\n".join(lines[i:j + 1])


def _fields(rec_text: str, strict: bool = False) -> list[str] | str:
    """The record's fields, or a Japanese reason when the csv module cannot read it.

    A record spanning lines is read strictly: its closing quote must end the field (``",``),
    else the quote was never closed and a later stray quote only looked like it.
    """
    try:
        return next(csv.reader([rec_text], strict=strict), [])
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            return f"項目が長すぎます（{_field_limit():,}文字を超えています）"
        return f"CSVとして読めません（{exc}）"


def _table_by_lines(text: str, file: str) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """The careful reader: records are cut from physical lines where csv itself would open a
    quote, and only reach the next line holding a quote, so a quote that never closes swallows
    nothing — its line is quarantined as such and reading goes on
    at the next line. A quoted field spanning lines is one record (named by its first line)
    when it yields the header's number of fields."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    record = functools.partial(_record, lines)
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines):
        raise IngestError(file, "ファイルが空です（見出し行がありません）")
    nxt, head_text = record(i)
    header = _fields(head_text)
    if isinstance(header, str) or nxt < 0:
        raise IngestError(file, "見出し行を読めません（引用符が閉じていないか、項目が長すぎます）")
    width = len(header)
    rows, row_lines, bad = [], [], []
    i = nxt
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        nxt, rec_text = record(i)
        multi = nxt != i + 1
        got = _fields(rec_text, strict=multi)
        if isinstance(got, str) and not multi:
            bad.append((file, i + 1, got, rec_text))
            i += 1
        elif not isinstance(got, str) and len(got) == width and nxt > 0:
            rows.append(got)
            row_lines.append(i + 1)
            i = nxt
        elif multi:
            # The quote this line opens does not make a record: report the line alone and read
            # the following lines as rows of their own.
            bad.append((file, i + 1, "引用符（\"）が閉じていません", lines[i]))
            i += 1
        else:
            bad.append((file, i + 1, _count_problem(len(got), width), lines[i]))
            i += 1
    df = pd.DataFrame(rows, columns=range(width), dtype=object) if rows else \
        pd.DataFrame(columns=range(width), dtype=object)
    df["_line"] = np.asarray(row_lines, dtype=np.int64)
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


def _check_dates_and_numbers(df: pd.DataFrame, spec: SourceSpec, profile: MappingProfile | None, add) -> None:
    """Parse the date, year-month and numeric columns in place; ``add`` records a row's problem."""
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
    _check_dates_and_numbers(df, spec, profile, add)
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
