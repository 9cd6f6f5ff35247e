"""Reading extracts: encodings, dates, person columns, quarantine reasons, UKE receipts."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.ingest.csvreader import IngestError, read_csv_source
from app.engine.ingest.dates import DateError, parse_date
from app.engine.ingest.delivery import read_delivery
from app.engine.ingest.encoding import EncodingProblem, decode_bytes
from app.engine.ingest.profiles import MappingProfile, source_specs
from app.engine.ingest.sample import write_sample_delivery
from app.engine.ingest.uke import read_uke

ERA_START = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}


@pytest.mark.parametrize("text, expected, precision", [
    ("2023-04-05", dt.date(2023, 4, 5), "day"),
    ("2023/4/5", dt.date(2023, 4, 5), "day"),
    ("20230405", dt.date(2023, 4, 5), "day"),
    ("令和5年4月5日", dt.date(2023, 4, 5), "day"),
    ("R5.4.5", dt.date(2023, 4, 5), "day"),
    ("H27.04", dt.date(2015, 4, 1), "month"),
    ("２０２３－０４－０５", dt.date(2023, 4, 5), "day"),
    ("令和元年5月1日", dt.date(2019, 5, 1), "day"),
    ("H31.5.3", dt.date(2019, 5, 3), "day"),       # written after the change of era
    ("㋿5.4.5", dt.date(2023, 4, 5), "day"),
    ("平成27年4月", dt.date(2015, 4, 1), "month"),
    ("S55.7.12", dt.date(1980, 7, 12), "day"),
    ("2022-04-04 10:07", dt.date(2022, 4, 4), "day"),
])
def test_date_formats(text, expected, precision):
    assert parse_date(text) == (expected, precision)


def test_uke_era_codes_and_compact():
    assert parse_date("4270405", uke=True) == (dt.date(2015, 4, 5), "day")
    assert parse_date("42704", uke=True) == (dt.date(2015, 4, 1), "month")
    assert parse_date("5010501", uke=True) == (dt.date(2019, 5, 1), "day")
    assert parse_date("202309", uke=True) == (dt.date(2023, 9, 1), "month")


@pytest.mark.parametrize("bad", ["2023-13-45", "2021-02-30", "R1.4.30", "令和0年1月1日", "abc", "123"])
def test_bad_dates_raise_a_japanese_reason(bad):
    with pytest.raises(DateError) as exc:
        parse_date(bad)
    assert "日付" in str(exc.value)


def test_empty_is_unknown_not_an_error():
    assert parse_date("") == (None, "")
    assert parse_date("  ") == (None, "")


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31)),
       st.sampled_from(["iso", "slash", "compact", "wareki", "letter", "fullwidth"]))
def test_every_written_form_reads_back(d, style):
    era = "令和" if d >= dt.date(2019, 5, 1) else "平成"
    y = d.year - ERA_START[era] + 1
    text = {
        "iso": d.isoformat(), "slash": f"{d.year}/{d.month}/{d.day}", "compact": d.strftime("%Y%m%d"),
        "wareki": f"{era}{'元' if y == 1 else y}年{d.month}月{d.day}日",
        "letter": f"{'R' if era == '令和' else 'H'}{y}.{d.month}.{d.day}",
        "fullwidth": d.isoformat().translate(str.maketrans("0123456789-", "０１２３４５６７８９－")),
    }[style]
    assert parse_date(text) == (d, "day")


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="髙橋一郎花子ﾀｶﾊｼｲﾁﾛｳabc123,　 ", max_size=30))
def test_encoding_detection_round_trips(text):
    for enc, bom in (("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp932", b"")):
        try:
            data = bom + text.encode(enc)
        except UnicodeEncodeError:
            continue
        assert decode_bytes(data)[0] == text


def test_undecodable_file_is_named():
    with pytest.raises(EncodingProblem):
        decode_bytes(b"\x81\x00\xff\xfe\x80")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return read_delivery(write_sample_delivery(tmp_path_factory.mktemp("d") / "d1"))


def test_every_row_is_imported_or_quarantined(sample):
    for f in sample.files:
        accepted = (sum((sample.tables[f.source]["_file"] == f.file)) if f.source != "receipt"
                    else sum(r.receipts["_file"].eq(f.file).sum() for r in sample.receipts))
        assert f.rows_read == accepted + f.rows_quarantined, f.file


def test_quarantine_reasons_name_line_and_cause(sample):
    q = sample.quarantine.set_index(["file", "line"])["reason"]
    assert "存在しない日付" in q[("kenshin.csv", 5)]
    assert "6行目と同じ内容の重複行" in q[("kenshin.csv", 7)]
    assert "性別「3」" in q[("yobo.csv", 8)]
    assert "2021-02-30" in q[("jumin.csv", 18)]
    assert "生年月日" in q[("RECEIPTC.UKE", 11)]


def test_encodings_detected_per_file(sample):
    enc = {f.file: f.encoding for f in sample.files}
    assert enc["jumin.csv"] == "utf-8-sig"
    assert enc["kenshin.csv"] == "cp932"
    assert enc["yobo.csv"] == "utf-8"


def test_manifest_as_of_dates(sample):
    as_of = {f.file: f.as_of for f in sample.files}
    assert as_of["jumin.csv"] == dt.date(2024, 12, 1)
    assert as_of["RECEIPTC.UKE"] == dt.date(2024, 10, 31)


def test_person_columns_normalised(sample):
    k = sample.tables["kenshin"]
    row = k[k["_line"] == 4].iloc[0]
    assert row["性別"] == "M"          # 男 → M
    assert row["受診日"] == dt.datetime(2022, 12, 10)  # full-width 和 date
    assert row["生年月日"] == dt.datetime(2022, 8, 8)


def test_extra_columns_are_kept(sample):
    assert "備考" in sample.tables["kenshin"].columns


def test_missing_required_column_is_fatal_and_named(tmp_path):
    path = tmp_path / "yobo.csv"
    path.write_text("宛名番号,氏名,生年月日,ワクチン,接種日\n1,a,2020-01-01,BCG,2020-06-01\n", encoding="utf-8")
    with pytest.raises(IngestError) as exc:
        read_csv_source(path, source_specs()["yobo"])
    assert exc.value.file == "yobo.csv" and "回数" in exc.value.reason


def test_ragged_rows_are_quarantined_with_their_physical_line(tmp_path):
    path = tmp_path / "yobo.csv"
    path.write_text('宛名番号,氏名,生年月日,ワクチン,回数,接種日\n1,"山田\n太郎",2020-01-01,BCG,1,2020-06-01\n'
                    "2,b,2020-01-01,BCG,1\n3,c,2020-01-01,MR,1,2021-06-01\n", encoding="utf-8")
    read = read_csv_source(path, source_specs()["yobo"])
    assert list(read.frame["_line"]) == [2, 5]   # the quoted record starts on line 2 and spans 2 lines
    assert read.quarantine["line"].tolist() == [4] and "列数" in read.quarantine["reason"].iloc[0]
    assert read.rows_read == 3


def test_mapping_profile_renames_codes_and_date_formats(tmp_path):
    path = tmp_path / "vac.csv"
    path.write_text("住民コード,名前,誕生日,ワクチン名,回,実施日,性\n"
                    "5,山田 花,2020.01.02,ヒブ,1,02/06/2020,F\n", encoding="utf-8")
    profile = MappingProfile("yobo", file="vac.csv",
                             renames={"住民コード": "宛名番号", "名前": "氏名", "誕生日": "生年月日",
                                      "ワクチン名": "ワクチン", "回": "回数", "実施日": "接種日", "性": "性別"},
                             code_maps={"性別": {"F": "2"}}, date_formats={"接種日": "%d/%m/%Y"})
    read = read_csv_source(path, source_specs()["yobo"], profile)
    row = read.frame.iloc[0]
    assert len(read.quarantine) == 0
    assert row["接種日"] == dt.datetime(2020, 6, 2) and row["生年月日"] == dt.datetime(2020, 1, 2)
    assert row["性別"] == "F" and row["宛名番号"] == "5"
    assert MappingProfile.from_json(profile.to_json()) == profile


def test_uke_receipts_diagnoses_and_night_addons(sample):
    uke = sample.receipts[0]
    r = uke.receipts.set_index("_line")
    assert r.loc[2, "name"] == "高橋　一郎" and r.loc[2, "sex"] == "M"
    assert r.loc[2, "birth_date"] == dt.datetime(2021, 5, 5) and r.loc[2, "special_codes"] == "29"
    assert r.loc[13, "birth_date"] == dt.datetime(2020, 1, 1)   # 和暦 code 4320101
    night = uke.procedures[uke.procedures["code"] == "111012170"].iloc[0]
    assert night["receipt_line"] == 2 and night["first_day"] == 12
    assert set(uke.diagnoses["receipt_line"]) == {2, 6, 9}   # the quarantined receipt's SY went with it


def test_uke_without_records_is_fatal(tmp_path):
    path = tmp_path / "X.UKE"
    path.write_bytes("これはレセプトではない\r\n".encode("cp932"))
    with pytest.raises(IngestError):
        read_uke([path])
