"""The fast readers (Arrow on the raw bytes, work per distinct value) give exactly what the
careful readers give: the same rows, lines, values, quarantine rows and reasons (issue 18)."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.ingest import csvreader
from app.engine.ingest.csvreader import IngestError, read_csv_source
from app.engine.ingest.dates import DateError, parse_date, parse_date_values
from app.engine.ingest.encoding import decode_bytes
from app.engine.ingest.profiles import source_specs
from app.engine.ingest.uke import read_uke

HEAD = "宛名番号,世帯番号,氏名,生年月日,性別,ワクチン,回数,接種日"

_NAME = st.sampled_from(["山田 太郎", "髙橋　花子", "ﾀｶﾊｼ", " 佐藤 ", "", "a b"])
_ROW = st.one_of(
    st.builds(lambda n, name, birth, sex, vac, dose, day: ",".join([n, "9", name, birth, sex, vac, dose, day]),
              st.sampled_from(["1", "2", "３", "12a", "", " 4 "]), _NAME,
              st.sampled_from(["2020-01-01", "2021-02-30", "R2.1.1", "", "x"]),
              st.sampled_from(["1", "2", "男", "3", ""]), st.sampled_from(["BCG", "ＭＲ", ""]),
              st.sampled_from(["1", "１", "一", ""]), st.sampled_from(["2020-06-01", "2020-13-01", ""])),
    st.just("1,9,短い行,2020-01-01"),                      # too few fields
    st.just("1,9,長い行,2020-01-01,1,BCG,1,2020-06-01,余分"),  # too many
    st.sampled_from(["", "  ", "\u3000", ",,,,,,,", " , ,,,,,,"]),  # blank or empty records
)


def _both(path, source="yobo"):
    """(fast read, careful read) of one file: the careful one with the fast reader switched off
    and every table cut by the line-by-line reader."""
    fast = read_csv_source(path, source_specs()[source])
    with mock.patch.object(csvreader, "_read_plain", lambda *a: None), \
            mock.patch.object(csvreader, "_table", csvreader._table_by_lines):
        careful = read_csv_source(path, source_specs()[source])
    return fast, careful


def _same(fast, careful):
    pd.testing.assert_frame_equal(fast.frame, careful.frame)
    pd.testing.assert_frame_equal(fast.quarantine.reset_index(drop=True).astype({"line": int}),
                                  careful.quarantine.reset_index(drop=True).astype({"line": int}))
    assert fast.rows_read == careful.rows_read == len(fast.frame) + len(fast.quarantine)
    assert fast.encoding == careful.encoding


@settings(max_examples=150, deadline=None)
@given(st.lists(_ROW, max_size=14), st.sampled_from(["utf-8", "utf-8-sig", "cp932"]),
       st.sampled_from(["\n", "\r\n"]), st.booleans(), st.sampled_from([csvreader._Cells.BLOCK, 1, 40]))
def test_fast_csv_reader_reads_what_the_careful_reader_reads(tmp_path_factory, rows, encoding, eol, last_eol,
                                                              block):
    # (block: the bytes are cut in blocks of whole lines; small blocks cut between most lines)
    text = eol.join([HEAD, *rows]) + (eol if last_eol else "")
    path = tmp_path_factory.mktemp("fast") / "yobo.csv"
    path.write_bytes(text.encode(encoding))
    with mock.patch.object(csvreader._Cells, "BLOCK", block):
        fast, careful = _both(path)
    _same(fast, careful)


def test_fast_csv_reader_is_the_one_used_and_drops_nothing(tmp_path):
    path = tmp_path / "yobo.csv"
    rows = ["1,9,山田 太郎,2020-01-01,1,BCG,1,2020-06-01", "", "1,9,短い行",
            "2,9,佐藤 花子,2020-02-30,2,BCG,1,2020-06-01", "1,9,山田 太郎,2020-01-01,1,BCG,1,2020-06-01"]
    path.write_bytes("\r\n".join([HEAD, *rows]).encode("cp932"))
    with mock.patch.object(csvreader, "_table", side_effect=AssertionError("slow path")):
        read = read_csv_source(path, source_specs()["yobo"])
    assert read.frame["_line"].tolist() == [2]
    q = read.quarantine.set_index("line")["reason"]
    assert sorted(q.index) == [4, 5, 6]
    assert "列数" in q[4] and "存在しない日付" in q[5] and "2行目と同じ内容の重複行" in q[6]
    assert read.quarantine.set_index("line")["raw"][4] == "1,9,短い行"
    assert read.rows_read == 4 and read.encoding == "cp932"


def test_repeated_column_names_are_kept_as_before(tmp_path):
    # pandas names a repeated column 備考.1; the fast reader does the same (the careful reader,
    # for quoted files, keeps the first only — as it always has).
    path = tmp_path / "yobo.csv"
    path.write_text(HEAD + ",備考,備考\n1,9,山田,2020-01-01,1,BCG,1,2020-06-01,あ,い\n", encoding="utf-8")
    with mock.patch.object(csvreader, "_read_plain", lambda *a: None):
        by_pandas = read_csv_source(path, source_specs()["yobo"])
    fast = read_csv_source(path, source_specs()["yobo"])
    pd.testing.assert_frame_equal(fast.frame, by_pandas.frame)
    assert fast.frame[["備考", "備考.1"]].values.tolist() == [["あ", "い"]]


def test_undecodable_cell_is_named_like_the_whole_file(tmp_path):
    path = tmp_path / "yobo.csv"
    data = (HEAD + "\n1,9,山田,2020-01-01,1,BCG,1,2020-06-01\n").encode("cp932") + b"2,9,\x82,2020"
    path.write_bytes(data)
    with pytest.raises(IngestError) as exc:
        read_csv_source(path, source_specs()["yobo"])
    with pytest.raises(Exception) as whole:
        decode_bytes(data)
    assert exc.value.file == "yobo.csv" and exc.value.reason == str(whole.value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)).map(str),
    st.builds("{:04d}-{:02d}-{:02d}".format, st.integers(0, 9999), st.integers(0, 19), st.integers(0, 39)),
    st.sampled_from(["", " 2020-01-02", "2020-01-02 10:00", "R5.4.5", "5041017", "20230230", "令和元年5月1日"]),
), unique=True, max_size=20), st.booleans())
def test_parse_date_values_agrees_with_parse_date(values, uke):
    parsed, why = parse_date_values(values, uke=uke)
    for v, p, w in zip(values, parsed, why):
        try:
            d, _ = parse_date(v, uke=uke)
            assert w == "" and (np.isnat(p) if d is None else p == np.datetime64(d, "ns")), v
        except DateError as exc:
            assert w == str(exc) and np.isnat(p), v


_FIELD = st.one_of(st.binary(max_size=5), st.sampled_from(["山田", "ﾀｶﾊｼ", "", "1"]).map(str.encode))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_FIELD.map(lambda b: b.replace(b",", b"").replace(b"\n", b"").replace(b"\r", b"")),
                         min_size=1, max_size=4), min_size=1, max_size=6),
       st.sampled_from(["cp932", "utf-8"]), st.booleans(), st.sampled_from([csvreader._Cells.BLOCK, 1, 9]))
def test_cells_are_the_fields_of_the_decoded_text(lines, codec, crlf, block):
    """Cutting the bytes and decoding distinct cells = decoding the text and splitting it; a cell
    that does not decode makes the whole text undecodable, as decoding it whole does."""
    eol = b"\r\n" if crlf else b"\n"
    payload = eol.join(b",".join(fields) for fields in lines) + eol
    try:
        expected = [line.split(",") for line in payload.decode(codec).split(eol.decode())[:-1]]
    except UnicodeDecodeError:
        expected = None
    try:
        with mock.patch.object(csvreader._Cells, "BLOCK", block):
            cells = csvreader._Cells(payload, codec)
        got = [[cells.uniq[cells.codes_of(k, np.array([i]))[0]] for k in range(cells.n_fields[i])]
               for i in range(len(cells.starts))]
        assert [cells.line(i) for i in range(len(cells.starts))] == [",".join(f) for f in got]
        assert len(set(cells.uniq)) == len(cells.uniq)      # one code per distinct string
    except csvreader._Undecodable:
        got = None
    assert got == expected


def _uke(path, lines, encoding="cp932", eol="\r\n"):
    path.write_bytes((eol.join(lines) + eol).encode(encoding))
    return path


RE = "RE,1,1112,202309,佐藤　一,1,20210101" + "," * 30 + "ｻﾄｳ ﾊｼﾞﾒ,"   # カナ is field 36


@pytest.mark.parametrize("block", [csvreader._Cells.BLOCK, 1, 50])
def test_uke_read_in_blocks_reads_the_same(tmp_path, block):
    lines = ["IR,2,14,1,1,,A医院,202310,00,0", RE, "HO,06140001,,1,1,250", "SY,1111111,20230901,1,,喘息,01,",
             "SI,,1,111000110,,,1,,,,,,,1", "", RE.replace("RE,1", "RE,2").replace("20210101", "20210230"),
             "SY,2222222,20230902,1,,頭部挫創,01,", "GO,2,100,99"]
    path = _uke(tmp_path / "A.UKE", lines)
    whole = read_uke([path])
    with mock.patch.object(csvreader._Cells, "BLOCK", block):
        cut = read_uke([path])
    for name in ("receipts", "diagnoses", "procedures", "quarantine"):
        pd.testing.assert_frame_equal(getattr(cut, name), getattr(whole, name))
    assert len(whole.receipts) == 1 and whole.quarantine["line"].tolist() == [7]
    assert cut.rows_read == whole.rows_read == {"A.UKE": 2}


def test_uke_files_in_two_encodings_read_together(tmp_path):
    a = _uke(tmp_path / "A.UKE", ["IR,2,14,1,1,,A医院,202310,00,0", RE, "SY,1111111,20230901,1,,喘息,01,"])
    b = _uke(tmp_path / "B.UKE", ["IR,2,14,1,1,,B医院,202310,00,0", RE.replace("佐藤　一", "鈴木　二"),
                                  "SY,2222222,20230902,1,,頭部挫創,01,"], encoding="utf-8", eol="\n")
    read = read_uke([a, b])
    assert read.receipts["name"].tolist() == ["佐藤　一", "鈴木　二"]
    assert read.receipts["kana"].tolist() == ["ｻﾄｳ ﾊｼﾞﾒ"] * 2
    assert read.diagnoses["name"].tolist() == ["喘息", "頭部挫創"]
    assert read.encoding == {"A.UKE": "cp932", "B.UKE": "utf-8"}


@pytest.mark.parametrize("lines, words", [
    (["IR,2,14,1,1,,A医院,202310,00,0", RE + "\rSY,1"], "CR"),             # a lone CR in line 2
    (["IR,2,14,1,1,,A医院,202310,00,0", RE, "SI" + ",1" * 70], "3行目"),    # 71 fields: no record has
])
def test_uke_lines_that_cannot_be_counted_are_fatal_and_named(tmp_path, lines, words):
    path = _uke(tmp_path / "A.UKE", lines)
    with pytest.raises(IngestError) as exc:
        read_uke([path])
    assert exc.value.file == "A.UKE" and words in exc.value.reason


def test_uke_undecodable_file_is_named(tmp_path):
    path = tmp_path / "A.UKE"
    path.write_bytes(("IR,2,14,1,1,,A医院,202310,00,0\r\n" + RE + "\r\n").encode("cp932") + b"SY,\x82,1\r\n")
    with pytest.raises(IngestError) as exc:
        read_uke([path])
    assert exc.value.file == "A.UKE" and "文字コード" in exc.value.reason
