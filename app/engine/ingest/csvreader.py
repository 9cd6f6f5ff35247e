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

from app.engine.ingest.dates import parse_date_values
from app.engine.ingest.encoding import EncodingProblem, choose_encoding, decode_bytes
from app.engine.ingest.profiles import SEX_CODES, MappingProfile, SourceSpec


class IngestError(Exception):
    """A fatal problem with one file: the delivery cannot be imported as it is."""

    def __init__(self, file: str, reason: str):
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason

    def __reduce__(self):
        # (a file read by the helper process comes back pickled, its error too)
        return IngestError, (self.file, self.reason)


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
        try:
            got = _read_plain(payload, "cp932" if enc == "cp932" else "utf-8", file)
        except _Undecodable:
            decode_bytes(data)      # raises the problem, named for the whole file
            raise EncodingProblem("文字コードを判定できません") from None
        if got is not None:
            return (*got, enc)
        if text is None:
            text, enc = decode_bytes(data)
    header, df, bad = _table(text, file)
    cols = [_Coded.of(df[c].fillna("").to_numpy(dtype=object)) for c in range(len(header))]
    return header, cols, df["_line"].to_numpy(dtype=np.int64), bad, enc


class _Undecodable(Exception):
    pass


class _Cells:
    """Every line and field of a text cut on its raw bytes, each distinct cell decoded once.

    ``payload`` ends with a line break; a CR only before one (CRLF). Each field is one
    zero-copy Arrow value from its first byte through its separator (``,`` or the line break:
    every field has exactly one), Arrow codes the distinct ones, and they are decoded in one
    call. CP932 or UTF-8: the separators are ASCII, never the second byte of a CP932 character,
    so a cell decodes here exactly when the whole file decodes. Raises ``_Undecodable`` otherwise.
    The bytes are cut in blocks of whole lines and the arrays kept are 32-bit where they can be,
    so a city-scale file (tens of millions of fields) needs little more than its codes.
    """

    BLOCK = 1 << 22     # bytes cut at a time (then 4 bytes per field, per array)

    def __init__(self, payload: bytes, codec: str):
        self.payload, self.codec = payload, codec
        view = memoryview(payload)
        codes, dicts, n_fields, line_ends = [], [], [], []
        a = 0
        while a < len(payload):
            b = payload.find(b"\n", min(a + self.BLOCK, len(payload)) - 1) + 1   # after a line break
            block = self._cut(view[a:b])
            codes.append(block[0])
            dicts.append(block[1])
            n_fields.append(block[2])
            line_ends.append(block[3] + a)
            a = b
        # The blocks' distinct cells, without their separators, coded once more over the whole
        # text; those are decoded (in one call) and strings equal after decoding share one code.
        cells = pc.binary_slice(pa.concat_arrays(dicts), 0, -1).dictionary_encode()
        values = cells.dictionary.to_pylist()
        try:
            text = b"\n".join(values).decode(codec)
        except UnicodeDecodeError:
            raise _Undecodable from None
        pieces = text.split("\n")
        if len(pieces) != len(values):   # (never: no cell holds a line break)
            raise _Undecodable
        # (a CRLF line's last field ends with the CR)
        inner, self.uniq = _distinct([p[:-1] if p.endswith("\r") else p for p in pieces])  # distinct cells
        to_cell = inner.astype(np.int32)[cells.indices.to_numpy(zero_copy_only=False)]
        first = np.cumsum([0] + [len(d) for d in dicts])
        for i, block_codes in enumerate(codes):
            block_codes[:] = to_cell[first[i]:first[i + 1]][block_codes]
        hit = np.flatnonzero(self.uniq == "")
        if not len(hit):      # a code for the fields a short line lacks
            self.uniq, hit = np.append(self.uniq, np.array([""], dtype=object)), [len(self.uniq)]
        self.empty = np.int32(hit[0])
        self.codes = np.concatenate(codes) if codes else np.array([], dtype=np.int32)  # one per field
        line_ends = np.concatenate(line_ends) if line_ends else np.array([], dtype=np.int64)
        buf = np.frombuffer(payload, dtype=np.uint8)
        self.starts = np.concatenate([[0], line_ends[:-1] + 1]).astype(np.int64)   # bytes of line i:
        self.ends = line_ends - (buf[np.maximum(line_ends - 1, 0)] == 13)          # starts[i]:ends[i]
        self.n_fields = np.concatenate(n_fields) if n_fields else np.array([], dtype=np.int64)
        self.field_start = np.concatenate([[0], np.cumsum(self.n_fields)[:-1]]).astype(np.int64)

    @staticmethod
    def _cut(view: memoryview) -> tuple[np.ndarray, pa.Array, np.ndarray, np.ndarray]:
        """One block of whole lines: (code of each field in the block's dictionary, that
        dictionary of cells with their separators, fields per line, end of each line)."""
        buf = np.frombuffer(view, dtype=np.uint8)
        is_sep = buf == 44
        is_sep |= buf == 10
        sep = np.flatnonzero(is_sep).astype(np.int32)
        del is_sep
        ends_line = buf[sep] == 10
        bounds = np.empty(len(sep) + 1, dtype=np.int32)
        bounds[0] = 0
        np.add(sep, 1, out=bounds[1:])
        cells = pa.Array.from_buffers(pa.binary(), len(sep), [None, pa.py_buffer(bounds), pa.py_buffer(view)])
        coded = cells.dictionary_encode()
        codes = coded.indices.to_numpy(zero_copy_only=False).astype(np.int32)   # (a writable copy)
        return (codes, coded.dictionary, np.diff(np.concatenate([[0], np.flatnonzero(ends_line) + 1])),
                sep[ends_line].astype(np.int64))

    def codes_of(self, k: int, rows: np.ndarray) -> np.ndarray:
        """Codes of field ``k`` of the given lines; a line with fewer fields: the code of ""."""
        has = self.n_fields[rows] > k
        if has.all():
            return self.codes[self.field_start[rows] + k]
        return np.where(has, self.codes[np.where(has, self.field_start[rows] + k, 0)], self.empty)

    def column(self, k: int, rows: np.ndarray) -> "_Coded":
        """Field ``k`` of the given lines, coded by its own distinct values."""
        inner, which = pd.factorize(self.codes_of(k, rows))
        return _Coded(inner, self.uniq[which] if len(which) else np.array([], dtype=object))

    def line(self, i: int) -> str:
        return self.payload[self.starts[i]:self.ends[i]].decode(self.codec)

    def lines(self, rows: np.ndarray) -> np.ndarray:
        return np.array([self.line(i) for i in rows], dtype=object)


def _read_plain(payload: bytes, codec: str, file: str):
    """The fast reader for a file with no quote character, cut on its raw bytes (``_Cells``).

    The same rows, lines and reasons as ``_table``; None for the shapes left to it (a quote,
    a lone CR, no header line first, an empty name or a BOM in the header).
    """
    if b'"' in payload or not payload or payload[:1] in (b"\n", b"\r"):
        return None
    if payload.count(b"\r") != payload.count(b"\r\n"):
        return None  # a lone CR ends a line for pandas, not for the careful reader
    if not payload.endswith(b"\n"):
        payload += b"\n"
    cells = _Cells(payload, codec)
    header = [cells.uniq[c] for c in cells.codes[:cells.n_fields[0]]]
    if not header[0].strip() or "" in header or header[0].startswith("\ufeff"):
        return None
    header = _dedup_names(header)
    width = len(header)
    # Lines after the header (physical line = index + 1). An empty line is no record; a line
    # with another number of fields is looked at alone: blank, or quarantined with its reason.
    filled = cells.ends > cells.starts
    fits = (cells.n_fields == width) & filled
    fits[0] = False
    limit = _field_limit()
    too_long_reason = f"項目が長すぎます（{limit:,}文字を超えています）"
    bad = []
    odd = np.flatnonzero(~fits & filled)
    for i in odd[odd > 0]:
        line = cells.line(int(i))
        if not line.strip():
            continue
        long = len(line) > limit and any(len(f) > limit for f in line.split(","))
        bad.append((file, int(i) + 1, too_long_reason if long else _count_problem(int(cells.n_fields[i]), width),
                    line))
    rows = np.flatnonzero(fits)
    long_cell = np.fromiter((len(u) > limit for u in cells.uniq), dtype=bool, count=len(cells.uniq)) \
        if (cells.ends - cells.starts).max(initial=0) > limit else np.zeros(len(cells.uniq), dtype=bool)
    if long_cell.any():
        too_long = np.logical_or.reduce([long_cell[cells.codes_of(k, rows)] for k in range(width)])
        bad.extend((file, int(rows[i]) + 1, too_long_reason, cells.line(int(rows[i])))
                   for i in np.flatnonzero(too_long))
        rows = rows[~too_long]
        bad.sort(key=lambda b: b[1])
    cols = [cells.column(k, rows) for k in range(width)]
    return header, cols, (rows + 1).astype(np.int64), pd.DataFrame(bad, columns=QUARANTINE_COLUMNS)


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


def _distinct(values) -> tuple[np.ndarray, np.ndarray]:
    """(code of each value, the distinct values in order of appearance).

    A dict rather than pd.factorize: pandas hashes strings through their UTF-8 form, which
    CPython then keeps on every Japanese string (about doubling its size) for as long as the
    frames live.
    """
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.intp, count=len(values))
    return codes, np.array(list(index), dtype=object) if index else np.array([], dtype=object)


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
        return cls(*_distinct(values))

    def map(self, fn) -> "_Coded":
        """``fn`` applied to each distinct value (equal inputs give equal outputs, so codes stay)."""
        return _Coded(self.codes, np.array([fn(u) for u in self.uniq], dtype=object))

    def merged(self) -> "_Coded":
        """Codes re-numbered so that equal values share one code (after ``map``)."""
        inner, uniq = _distinct(self.uniq)
        return _Coded(inner[self.codes], uniq)

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
    good = _frame(cur, cols, np.flatnonzero(~reasons.found), line_no)
    good["_file"] = file
    return SourceRead(spec.key, file, good, q, rows_read, enc)


def _frame(cur: dict, cols: list[str], keep: np.ndarray, line_no: np.ndarray) -> pd.DataFrame:
    """The accepted rows: text columns written straight into one object block (pandas would
    otherwise copy them all once more to consolidate), dates and numbers inserted in place."""
    text = [c for c in cols if cur[c].uniq.dtype == object]
    block = np.empty((len(text), len(keep)), dtype=object)
    for j, c in enumerate(text):
        np.take(cur[c].uniq, cur[c].codes[keep], out=block[j])
    good = pd.DataFrame(block.T, columns=text, copy=False)
    for i, c in enumerate(cols):
        if cur[c].uniq.dtype != object:
            good.insert(i, c, cur[c].uniq[cur[c].codes[keep]])
    good["_line"] = line_no[keep]
    return good
