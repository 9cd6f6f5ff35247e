"""Read one delivered CSV into canonical columns, quarantining bad rows with Japanese reasons.

Every data row ends in exactly one place: the returned frame, or the quarantine frame with its
physical line (header = line 1). Fatal problems (undecodable file, missing required column)
raise ``IngestError`` naming the file, so the caller can leave the store untouched.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from app.engine.ingest.dates import parse_date_values
from app.engine.ingest.encoding import EncodingProblem, choose_encoding, decode_bytes
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


def _dedup_names(names: list[str]) -> list[str]:
    """Repeated column names as pandas' reader names them (``備考``, ``備考.1``)."""
    counts: dict[str, int] = {}
    out = []
    for col in names:
        cur = counts.get(col, 0)
        while cur > 0:
            counts[col] = cur + 1
            col = f"{col}.{cur}"
            cur = counts.get(col, 0)
        out.append(col)
        counts[col] = cur + 1
    return out


def _read_columns(data: bytes, file: str) -> tuple[list[str], list[_Coded], np.ndarray, pd.DataFrame, str]:
    """Header, one coded column per header field (values as delivered), the physical line of
    each row, the rows that cannot be rows (see ``_table``), and the file's encoding."""
    enc, text = choose_encoding(data)
    if enc != "cp932" or text is None:
        payload = data[3:] if enc == "utf-8-sig" else data
        got = _read_plain(payload, "cp932" if enc == "cp932" else "utf-8", file)
        if got is not None:
            return (*got, enc)
        if text is None:
            text, enc = decode_bytes(data)
    header, df, bad = _table(text, file)
    cols = [_Coded.of(df[c].fillna("").to_numpy(dtype=object)) for c in range(len(header))]
    return header, cols, df["_line"].to_numpy(dtype=np.int64), bad, enc


def _decoded(values: list[bytes], codec: str) -> np.ndarray:
    """Cells decoded in one call: joined by a line break, which no cell holds and which cannot
    complete a CP932 character, so a cell decodes alone exactly when it decodes here. A failure
    is reported for the whole file, as ``decode_bytes`` words it."""
    if not values:
        return np.array([], dtype=object)
    try:
        out = np.array(b"\n".join(values).decode(codec).split("\n"), dtype=object)
    except UnicodeDecodeError:
        raise _Undecodable from None
    if len(out) != len(values):   # (never: a cell is part of one line)
        raise _Undecodable
    return out


class _Undecodable(Exception):
    pass


def _read_plain(payload: bytes, codec: str, file: str):
    """The fast reader for a file with no quote character: lines and fields are counted with
    numpy on the raw bytes (CP932 or UTF-8: the separators are ASCII, never the second byte of
    a CP932 character), Arrow's C++ CSV reader cuts the lines that have the header's number of
    fields, and only each column's distinct cells are decoded.

    The same rows, lines and reasons as ``_table``; None for the shapes left to it (a quote,
    a lone CR, no header line first, an empty name or a BOM in the header).
    """
    if b'"' in payload or not payload or payload[:1] in (b"\n", b"\r"):
        return None
    buf = np.frombuffer(payload, dtype=np.uint8)
    cr = np.flatnonzero(buf == 13)
    if len(cr) and (cr[-1] + 1 >= len(buf) or (buf[cr + 1] != 10).any()):
        return None  # a lone CR ends a line for Arrow and pandas, not for the careful reader
    nl = np.flatnonzero(buf == 10)
    # Line i spans starts[i]:ends[i] (without its line break); after the last break: nothing.
    starts = np.concatenate([[0], nl + 1])
    ends = np.concatenate([nl, [len(buf)]])
    if starts[-1] == len(buf):
        starts, ends = starts[:-1], ends[:-1]
    crlf = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
    ends = ends - crlf
    try:
        header = payload[:ends[0]].decode(codec).split(",")
    except UnicodeDecodeError:
        return _undecodable(payload, codec)
    if not header[0].strip() or "" in header or header[0].startswith("\ufeff"):
        return None
    header = _dedup_names(header)
    width = len(header)
    n_fields = np.bincount(np.searchsorted(nl, np.flatnonzero(buf == 44)), minlength=len(starts))[:len(starts)] + 1
    # Data lines are 1.. (physical line = index + 1). An empty line is no record; a line with
    # another number of fields is looked at alone (blank, or quarantined with its reason).
    fits = (n_fields == width) & (ends > starts)
    fits[0] = True
    odd = np.flatnonzero(~fits & (ends > starts))
    limit = _field_limit()
    too_long_reason = f"項目が長すぎます（{limit:,}文字を超えています）"

    def line_text(i: int) -> str:
        return _decoded([payload[starts[i]:ends[i]]], codec)[0]

    try:
        bad = []
        for i in odd:
            line = line_text(int(i))
            if not line.strip():
                continue   # a blank line: no record
            long = len(line) > limit and any(len(f) > limit for f in line.split(","))
            bad.append((file, int(i) + 1, too_long_reason if long else _count_problem(int(n_fields[i]), width), line))
        rows = np.flatnonzero(fits[1:]) + 1
        kept = payload
        if len(rows) + 1 != len(starts):
            # Arrow reads the header and the fitting lines only (each with its line break).
            spans = np.flatnonzero(fits)
            whole_ends = np.concatenate([starts[1:], [len(buf)]])
            kept = b"".join(payload[a:b] for a, b in zip(starts[spans], whole_ends[spans]))
        table = _arrow_table(kept, width)
        if table is None or table.num_rows != len(rows):
            return None
        cols, too_long = [], np.zeros(len(rows), dtype=bool)
        for c in range(width):
            chunks = table.column(c).chunks
            arr = (chunks[0] if len(chunks) == 1 else
                   pa.chunked_array(chunks, type=pa.dictionary(pa.int32(), pa.binary())).unify_dictionaries()
                   .combine_chunks() if chunks else pa.array([], pa.binary()).dictionary_encode())
            uniq = _decoded(arr.dictionary.to_pylist(), codec)
            codes = arr.indices.to_numpy(zero_copy_only=False).astype(np.intp)
            # (a cell has at least as many bytes as characters)
            long_bytes = pc.greater(pc.binary_length(arr.dictionary), limit).to_numpy(zero_copy_only=False)
            if long_bytes.any():
                too_long |= np.array([len(u) > limit for u in uniq], dtype=bool)[codes]
            cols.append(_Coded(codes, uniq))
        if too_long.any():
            bad.extend((file, int(rows[i]) + 1, too_long_reason, line_text(int(rows[i])))
                       for i in np.flatnonzero(too_long))
            keep = np.flatnonzero(~too_long)
            cols, rows = [col.take(keep) for col in cols], rows[keep]
            bad.sort(key=lambda b: b[1])
    except _Undecodable:
        return _undecodable(payload, codec)
    return header, cols, (rows + 1).astype(np.int64), pd.DataFrame(bad, columns=QUARANTINE_COLUMNS)


def _arrow_table(payload: bytes, width: int) -> pa.Table | None:
    """Every line after the header as a row of ``width`` dictionary-coded byte strings."""
    names = [str(i) for i in range(width)]
    try:
        return pa_csv.read_csv(
            pa.BufferReader(payload),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, use_threads=False,
                                            block_size=max(len(payload) + 1, 1 << 20)),
            parse_options=pa_csv.ParseOptions(quote_char=False, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types={c: pa.dictionary(pa.int32(), pa.binary()) for c in names},
                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _undecodable(payload: bytes, codec: str):
    """A cell that does not decode: the whole file is decoded for the named problem."""
    decode_bytes(payload)
    raise EncodingProblem(f"{codec} として読めません")


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


class _Coded:
    """One column as codes into its distinct values, so that every check, normalisation and
    parse runs once per distinct value (a delivery repeats the same few thousand names, dates
    and codes across hundreds of thousands of rows) and the frame's cells share one string each."""

    __slots__ = ("codes", "uniq")

    def __init__(self, codes: np.ndarray, uniq: np.ndarray):
        self.codes = codes     # intp, one per row
        self.uniq = uniq       # one entry per code

    @classmethod
    def of(cls, values) -> "_Coded":
        codes, uniq = pd.factorize(np.asarray(values, dtype=object))
        return cls(codes, np.asarray(uniq, dtype=object))

    def map(self, fn) -> "_Coded":
        """``fn`` applied to each distinct value (equal inputs give equal outputs, so codes stay)."""
        return _Coded(self.codes, np.array([fn(u) for u in self.uniq], dtype=object))

    def merged(self) -> "_Coded":
        """Codes re-numbered so that equal values share one code (after ``map``)."""
        inner, uniq = pd.factorize(self.uniq)
        return _Coded(inner[self.codes], np.asarray(uniq, dtype=object))

    def take(self, rows: np.ndarray) -> "_Coded":
        return _Coded(self.codes[rows], self.uniq)

    def per_row(self, per_value: np.ndarray) -> np.ndarray:
        """Spread an array computed per distinct value to the rows."""
        return np.asarray(per_value)[self.codes]

    def values(self) -> np.ndarray:
        return self.per_row(self.uniq)


_DIGITS = re.compile(r"\d+")


def _nfkc_strip(value: str) -> str:
    # (ASCII is NFKC already: most cells are digits and codes)
    return value.strip() if value.isascii() else unicodedata.normalize("NFKC", value).strip()


def _clean_header(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().strip("\ufeff")


class _Reasons:
    """The first problem of each row (the one reported), as rows are checked column by column."""

    def __init__(self, n: int):
        self.found = np.zeros(n, dtype=bool)
        self.text = np.full(n, "", dtype=object)

    def add(self, mask: np.ndarray, reason: str | np.ndarray) -> None:
        mask = mask & ~self.found
        if mask.any():
            self.text[mask] = reason if isinstance(reason, str) else reason[mask]
            self.found |= mask


def _value_reasons(col: _Coded, bad: np.ndarray, before: str, after: str) -> np.ndarray:
    """Per row: the reason naming the row's value, where its distinct value is ``bad``."""
    per_value = np.full(len(col.uniq), "", dtype=object)
    per_value[bad] = [before + u + after for u in col.uniq[bad]]
    return col.per_row(per_value)


def _check_persons(cur: dict, reasons: _Reasons) -> None:
    """宛名番号 (digits after NFKC), 世帯番号 (NFKC) and 性別 (read to M/F); in place."""
    if "宛名番号" in cur:
        col = cur["宛名番号"] = cur["宛名番号"].map(_nfkc_strip)
        bad = np.array([u != "" and _DIGITS.fullmatch(u) is None for u in col.uniq], dtype=bool)
        reasons.add(col.per_row(bad), _value_reasons(col, bad, "宛名番号「", "」が数字ではありません"))
    if "世帯番号" in cur:
        cur["世帯番号"] = cur["世帯番号"].map(_nfkc_strip)
    if "性別" in cur:
        col = cur["性別"]
        sex = [SEX_CODES.get(_nfkc_strip(u)) for u in col.uniq]
        bad = np.array([s is None and _nfkc_strip(u) != "" for u, s in zip(col.uniq, sex)], dtype=bool)
        reasons.add(col.per_row(bad), _value_reasons(col, bad, "性別「", "」が不明なコードです"))
        cur["性別"] = _Coded(col.codes, np.array([s or "" for s in sex], dtype=object))


def _check_dates_and_numbers(cur: dict, spec: SourceSpec, profile: MappingProfile | None,
                             reasons: _Reasons) -> None:
    """Parse the date, year-month and numeric columns in place (their distinct values become
    datetime64 / float arrays); a value that cannot be read gives the row its reason."""
    date_formats = profile.date_formats if profile else {}
    person_dates = ["生年月日"] if spec.person == "subject" else []
    for c in dict.fromkeys([*person_dates, *spec.dates, *spec.month_dates]):
        if c not in cur:
            continue
        col = cur[c]
        parsed, why = parse_date_values(col.uniq)
        if c in date_formats:
            fixed = pd.to_datetime(pd.Series(col.uniq, dtype=object), format=date_formats[c],
                                   errors="coerce").to_numpy(dtype="datetime64[ns]")
            parsed = np.where(np.isnat(fixed), parsed, fixed)
            why = np.where(np.isnat(parsed), why, "").astype(object)
        bad = why != ""
        per_value = np.full(len(col.uniq), "", dtype=object)
        per_value[bad] = [c + "の" + w for w in why[bad]]
        reasons.add(col.per_row(bad), col.per_row(per_value))
        cur[c] = _Coded(col.codes, parsed)
    for c in spec.numbers:
        if c not in cur:
            continue
        col = cur[c]
        text = np.array([_nfkc_strip(u) for u in col.uniq], dtype=object)
        num = pd.to_numeric(pd.Series(text, dtype=object), errors="coerce").to_numpy(dtype=float)
        bad = (text != "") & np.isnan(num)
        reasons.add(col.per_row(bad), _value_reasons(col, bad, c + "「", "」が数値ではありません"))
        cur[c] = _Coded(col.codes, num)


def _empty(col: _Coded) -> np.ndarray:
    """Per distinct value: empty string, NaT or NaN."""
    u = col.uniq
    if u.dtype.kind == "M":
        return np.isnat(u)
    if u.dtype.kind == "f":
        return np.isnan(u)
    return u == ""


def _check_required_values(cur: dict, spec: SourceSpec, reasons: _Reasons, n: int) -> None:
    for c in spec.must_have:
        if c in cur:
            reasons.add(cur[c].per_row(_empty(cur[c])), f"{c}が空です")
    if spec.person == "subject":
        def present(c):
            return ~cur[c].per_row(_empty(cur[c])) if c in cur else np.zeros(n, dtype=bool)
        reasons.add(~(present("宛名番号") | (present("氏名") & present("生年月日"))),
                    "本人を特定する項目（宛名番号、または氏名と生年月日）がありません")


def _check_repeats(raw: list[_Coded], line_no: np.ndarray, reasons: _Reasons) -> None:
    """Exact repeats of an earlier row are quarantined, pointing at the row they repeat."""
    if not raw or not len(line_no):
        return
    key = raw[0].codes.astype(np.int64)
    for col in raw[1:]:
        key, _ = pd.factorize(key * len(col.uniq) + col.codes)  # stays below rows × values
    key = np.asarray(key, dtype=np.int64)
    dup = pd.Series(key).duplicated(keep="first").to_numpy() & ~reasons.found
    if dup.any():
        first = pd.Series(line_no).groupby(key).transform("min").to_numpy()
        text = np.full(len(dup), "", dtype=object)
        text[dup] = [f"{n}行目と同じ内容の重複行です" for n in first[dup]]
        reasons.add(dup, text)


def read_csv_source(path: Path, spec: SourceSpec, profile: MappingProfile | None = None) -> SourceRead:
    """Read ``path`` as source ``spec`` (adapted by ``profile``); see the module docstring."""
    file = path.name
    try:
        data = path.read_bytes()
        header, raw, line_no, bad, enc = _read_columns(data, file)
    except EncodingProblem as exc:
        raise IngestError(file, str(exc)) from None
    except OSError as exc:
        raise IngestError(file, f"ファイルを開けません（{exc.strerror}）") from None
    renames = {_clean_header(k): v for k, v in (profile.renames if profile else {}).items()}
    names = [renames.get(_clean_header(h), _clean_header(h)) for h in header]
    missing = [c for c in spec.required if c not in names]
    if missing:
        raise IngestError(file, "必須の列がありません: " + "、".join(f"「{c}」" for c in missing))
    first = {}
    for i, c in enumerate(names):
        first.setdefault(c, i)       # a repeated name: the first column of that name is read
    cols = list(first)
    raw = [raw[i].map(str.strip).merged() for i in first.values()]
    # A blank line is not a record: it is neither imported nor quarantined.
    if cols:
        blank = np.logical_and.reduce([col.per_row(col.uniq == "") for col in raw])
        if blank.any():
            keep = np.flatnonzero(~blank)
            raw, line_no = [col.take(keep) for col in raw], line_no[keep]
    n = len(line_no)
    rows_read = n + len(bad)
    cur = dict(zip(cols, raw))       # the values as read so far; ``raw`` stays as delivered
    reasons = _Reasons(n)
    for c, mapping in (profile.code_maps if profile else {}).items():
        if c in cur:
            cur[c] = cur[c].map(lambda u, m=mapping: m.get(u, u))
    _check_persons(cur, reasons)
    _check_dates_and_numbers(cur, spec, profile, reasons)
    _check_required_values(cur, spec, reasons, n)
    _check_repeats(raw, line_no, reasons)
    out = np.flatnonzero(reasons.found)
    q = pd.DataFrame({"file": file, "line": line_no[out].astype(int), "reason": reasons.text[out],
                      "raw": np.array([",".join(col.uniq[col.codes[i]] for col in raw) for i in out],
                                      dtype=object)}, columns=QUARANTINE_COLUMNS)
    q = pd.concat([bad, q], ignore_index=True) if len(bad) else q
    keep = np.flatnonzero(~reasons.found)
    good = pd.DataFrame({c: cur[c].uniq[cur[c].codes[keep]] for c in cols})
    good["_line"] = line_no[keep]
    good["_file"] = file
    return SourceRead(spec.key, file, good, q, rows_read, enc)
