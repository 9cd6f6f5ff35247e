"""Small-N generation: every file exists and reads back with its documented columns, .UKE files
parse record by record, output is deterministic, and the mess is present and listed in truth/."""

import datetime as dt
import hashlib
import io
import json

import pandas as pd
import pytest

from app.engine.synth import generate_delivery

PERSON = ["宛名番号", "世帯番号", "氏名", "氏名カナ", "生年月日", "性別"]
COLUMNS = {
    "jumin.csv": PERSON + ["続柄", "町名", "地区", "異動事由", "異動日", "国籍"],
    "shussei.csv": PERSON + ["出生体重", "在胎週数", "多胎", "母宛名番号"],
    "ninpu.csv": PERSON + ["届出日", "届出時妊娠週数", "妊婦健診受診回数", "出産予定日"],
    "kenshin.csv": PERSON + ["健診種別", "対象年月", "受診日", "身長", "体重", "判定", "所見"],
    "shika.csv": PERSON + ["健診種別", "対象年月", "受診日", "むし歯本数", "判定"],
    "yobo.csv": PERSON + ["ワクチン", "回数", "接種日"],
    "epds.csv": PERSON + ["児宛名番号", "実施日"] + [f"問{i}" for i in range(1, 11)] + ["合計"],
    "hogosha_kenshin.csv": PERSON + ["受診日", "喫煙", "飲酒", "判定"],
    "jido_fuyo.csv": PERSON + ["認定日", "喪失日"],
    "seiho.csv": PERSON + ["開始日", "廃止日"],
    "shogai.csv": PERSON + ["手帳種別", "等級", "交付日"],
    "yoho.csv": PERSON + ["施設名", "施設種別", "入所日", "退所日"],
    "dv.csv": PERSON + ["登録日", "区分"],
    "soudan.csv": PERSON + ["受付日時", "経路", "相談種別", "内容", "担当"],
    "assessment.csv": PERSON + ["評価日", "主因分類", "担当地区", "フォロー状況"],
    "jisou.csv": PERSON + ["種別", "開始日", "終了日", "主訴"],
}
RE_FIELDS, SI_FIELDS, SY_FIELDS = 38, 44, 8


def _read(path):
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "cp932"):
        try:
            return pd.read_csv(io.StringIO(raw.decode(enc)), dtype=str, keep_default_na=False), enc
        except UnicodeDecodeError:
            continue
    raise AssertionError(f"{path} is neither UTF-8 nor CP932")


@pytest.fixture(scope="session")
def delivery(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "d1"
    summary = generate_delivery(out, children=1500, seed=11, as_of=dt.date(2025, 3, 31))
    return out, summary


def _digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_every_file_reads_back_with_documented_columns(delivery):
    out, _ = delivery
    encodings = set()
    for name, cols in COLUMNS.items():
        df, enc = _read(out / name)
        encodings.add(enc)
        assert list(df.columns) == cols, name
        assert len(df) > 0, name
    assert encodings == {"utf-8-sig", "cp932"}
    man, _ = _read(out / "manifest.csv")
    assert list(man.columns) == ["ファイル名", "データ種別", "抽出日", "提供課"]
    listed = set(man["ファイル名"])
    assert set(COLUMNS) <= listed and "chiku.geojson" in listed
    assert all((out / f).exists() for f in listed)


def test_geojson_has_districts_and_towns(delivery):
    out, _ = delivery
    gj = json.loads((out / "chiku.geojson").read_text(encoding="utf-8"))
    levels = pd.Series([f["properties"]["level"] for f in gj["features"]]).value_counts()
    assert levels["district"] == 10 and levels["town"] == 354
    for f in gj["features"]:
        assert f["properties"]["approximate"] is True and f["properties"]["地区"]
    jumin, _ = _read(out / "jumin.csv")
    dists = {f["properties"]["地区"] for f in gj["features"] if f["properties"]["level"] == "district"}
    assert set(jumin["地区"]) - {""} <= dists


def _parse_uke(raw: bytes):
    """A minimal independent reader: CP932, CRLF, one record per line."""
    text = raw.decode("cp932")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return [line.split(",") for line in text.split("\r\n")[:-1]]


def test_uke_files_parse_record_by_record(delivery):
    out, summary = delivery
    files = sorted(out.glob("*.UKE"))
    assert len(files) == summary.uke_files > 0
    n_re, codes, wareki, seireki = 0, set(), 0, 0
    for f in files:
        recs = _parse_uke(f.read_bytes())
        assert recs[0][0] == "IR" and recs[-1][0] == "GO"
        n_in_file = 0
        prev = "IR"
        for r in recs[1:-1]:
            kind = r[0]
            assert kind in {"RE", "HO", "KO", "SY", "SI"}
            if kind == "RE":
                assert len(r) == RE_FIELDS
                n_in_file += 1
                assert r[5] in {"1", "2"}
                # 和暦 GYYMMDD (7 digits) or 西暦 YYYYMMDD (8 digits).
                assert len(r[6]) in (7, 8) and r[6].isdigit()
                wareki += len(r[6]) == 7
                seireki += len(r[6]) == 8
                r[4].encode("iso2022_jp")  # JIS X 0208 only
                for code in (r[11][i:i + 2] for i in range(0, len(r[11]), 2)):
                    assert 26 <= int(code) <= 30
            elif kind == "SI":
                assert len(r) == SI_FIELDS
                codes.add(r[3])
                # Fields 14–44 count the procedure per day; together they make 回数 (field 7).
                assert sum(int(x) for x in r[13:44] if x) == int(r[6]) >= 1
            elif kind == "SY":
                assert len(r) == SY_FIELDS and len(r[1]) == 7
            else:
                assert prev != "IR"
            prev = kind
        assert int(recs[-1][1]) == n_in_file
        n_re += n_in_file
    assert n_re == summary.receipts
    assert wareki and seireki
    assert codes & {"111011970", "112014770", "111012070", "112014870", "111012170", "112014970"}


def test_deterministic_and_seed_sensitive(delivery, tmp_path):
    out, _ = delivery
    again = tmp_path / "again"
    generate_delivery(again, children=1500, seed=11, as_of=dt.date(2025, 3, 31))
    assert _digest(again) == _digest(out)
    other = tmp_path / "other"
    generate_delivery(other, children=1500, seed=12, as_of=dt.date(2025, 3, 31))
    assert (other / "jumin.csv").read_bytes() != (out / "jumin.csv").read_bytes()


def _physical_lines(out, name):
    raw = (out / name).read_bytes()
    text = raw.decode("utf-8-sig") if name in ("shussei.csv", "epds.csv", "shogai.csv", "soudan.csv", "jisou.csv") \
        else raw.decode("cp932" if name.endswith(".UKE") or name in ("jumin.csv", "kenshin.csv", "yobo.csv") else "utf-8")
    return text.split("\r\n") if name.endswith(".UKE") else text.split("\n")


def test_truth_files_and_records(delivery):
    out, _ = delivery
    t = out / "truth"
    recs = pd.read_csv(t / "records.csv", dtype=str)
    assert list(recs.columns) == ["file", "line", "true_person_id"]
    persons = pd.read_csv(t / "persons.csv", dtype=str, keep_default_na=False)
    assert list(persons.columns) == ["true_person_id", "kind", "sex", "birth_date", "household_true_id",
                                     "relation_in_household", "mother_true_id", "in_registry",
                                     "resident_numbers", "nationality", "moved_in_date", "moved_out_date", "notes"]
    assert set(recs["true_person_id"]) <= set(persons["true_person_id"])
    hh = pd.read_csv(t / "households.csv")
    assert list(hh.columns) == ["household_true_id", "latent_risk", "district", "town", "single_parent",
                                "young_mother", "foreign", "step_family_change", "public_assistance"]
    cus = pd.read_csv(t / "custody.csv")
    assert len(cus) == round(1500 * 828 / 13913) and set(cus["on_list"]) == {1}
    # Every data record of every person-bearing file is listed, at its physical start line.
    for name in list(COLUMNS):
        df, _ = _read(out / name)
        got = recs[recs["file"] == name]
        assert len(got) == len(df), name
    # A .UKE truth line points at an RE record.
    u = recs[recs["file"].str.endswith(".UKE")].head(50)
    for f, line in zip(u["file"], u["line"].astype(int)):
        assert _physical_lines(out, f)[line - 1].startswith("RE,")
    # Multi-line consultation notes shift line numbers: the listed lines are record starts.
    lines = _physical_lines(out, "soudan.csv")
    for line in recs.loc[recs["file"] == "soudan.csv", "line"].astype(int):
        assert lines[line - 1][:2].isdigit() or lines[line - 1] == "" or lines[line - 1].startswith(",")


def test_mess_is_present_and_listed(delivery):
    out, _ = delivery
    t = out / "truth"
    persons = pd.read_csv(t / "persons.csv", dtype=str, keep_default_na=False)
    notes = persons["notes"]
    for marker in ("twin", "homonym", "variant-kanji", "kana-typo", "receipt-only", "out-and-back"):
        assert notes.str.contains(marker).any(), marker
    assert (persons["in_registry"] == "0").any()
    assert persons["resident_numbers"].str.contains(";").any()
    mal = pd.read_csv(t / "malformed.csv")
    dup = pd.read_csv(t / "duplicates.csv")
    assert len(mal) > 0 and len(dup) > 0
    total = pd.read_csv(t / "records.csv")
    assert 0.0005 < len(mal) / len(total) < 0.01
    # The malformed rows really are broken: empty required cell or an impossible date.
    kenshin, _ = _read(out / "kenshin.csv")
    for line, problem in mal.loc[mal["file"] == "kenshin.csv", ["line", "problem"]].itertuples(index=False):
        row = kenshin.iloc[line - 2]
        col = problem.split()[-1]
        if problem.startswith("missing"):
            assert row[col] == ""
        else:
            assert pd.isna(pd.to_datetime(row[col], format="%Y%m%d", errors="coerce"))
    # Duplicates repeat their original line exactly.
    yobo = (out / "yobo.csv").read_bytes().decode("cp932").split("\r\n")
    for line, orig in dup.loc[dup["file"] == "yobo.csv", ["line", "duplicate_of_line"]].itertuples(index=False):
        assert yobo[line - 1] == yobo[orig - 1]
    # Variant kanji between sources; half-width kana and 和暦 somewhere.
    jumin, _ = _read(out / "jumin.csv")
    yobo_df, _ = _read(out / "yobo.csv")
    assert jumin["氏名"].str.contains("[髙﨑邊邉齋濱澤]").any()
    assert yobo_df["氏名カナ"].str.contains("[ｦ-ﾟ]").any()
    jisou, _ = _read(out / "jisou.csv")
    assert jisou["開始日"].str.contains("令和").any()
    assert jumin["氏名"].str.contains("　").any()


def test_chunked_writing_gives_the_same_bytes(tmp_path, monkeypatch):
    from app.engine.synth import writers

    a, b = tmp_path / "a", tmp_path / "b"
    generate_delivery(a, children=300, seed=4)
    monkeypatch.setattr(writers, "CHUNK_ROWS", 97)
    generate_delivery(b, children=300, seed=4)
    assert _digest(a) == _digest(b)
