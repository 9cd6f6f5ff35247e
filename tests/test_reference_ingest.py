"""EPDS and vaccination rows checked against their published ranges and vocabulary at import.

EPDS: Cox, Holden & Sagovsky 1987 (10 items, each 0–3, total 0–30); Japanese version 岡野ら 1996.
Vaccine names: 厚生労働省「定期接種実施要領」/ NIID schedule names as health systems print them.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from app.engine.events import finish_events, source_events
from app.engine.ingest.csvreader import read_csv_source
from app.engine.ingest.profiles import source_specs
from app.engine.ingest.validation import validate_source

HEAD = "宛名番号,氏名,生年月日,実施日,児宛名番号"


def _read(tmp_path, name, source, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return validate_source(read_csv_source(path, source_specs()[source]))


def test_epds_ranges_and_sum(tmp_path):
    items = ",".join(f"問{i}" for i in range(1, 11))
    rows = [
        "1,母 一,1990-01-01,2024-05-01,9,1,1,1,1,1,1,1,1,1,0,9",      # fine (sum 9)
        "2,母 二,1990-01-01,2024-05-01,9,1,1,1,1,1,1,1,1,1,4,13",     # 問10 = 4
        "3,母 三,1990-01-01,2024-05-01,9,1,1,1,1,1,1,1,1,1,1,31",     # total > 30
        "4,母 四,1990-01-01,2024-05-01,9,1,1,1,1,1,1,1,1,1,1,12",     # sum 10 ≠ 12
        "5,母 五,1990-01-01,2024-05-01,9,,,,,,,,,,,14",                # total only: fine
        "6,母 六,1990-01-01,2024-05-01,9,3,3,3,3,3,3,3,3,3,3,30",     # fine (max)
    ]
    read = _read(tmp_path, "epds.csv", "epds", f"{HEAD},{items},合計\n" + "\n".join(rows) + "\n")
    q = read.quarantine.set_index("line")["reason"]
    assert sorted(q.index) == [3, 4, 5]
    assert "問10が0〜3の範囲外" in q[3] and "合計が0〜30の範囲外" in q[4]
    assert "合計(12)が問1〜問10の和(10)と一致しません" in q[5]
    assert sorted(read.frame["宛名番号"]) == ["1", "5", "6"]
    assert read.rows_read == len(read.frame) + len(read.quarantine)


def test_epds_items_are_read_by_name_not_position(tmp_path):
    # columns in another order and spelled Ｑ１…: 問10 must still be the self-harm item
    names = [f"Ｑ{i}" for i in (10, 1, 2, 3, 4, 5, 6, 7, 8, 9)]
    row = "7,母 七,1990-01-01,2024-05-01,9,2,0,0,0,0,0,0,0,0,0,2"
    read = _read(tmp_path, "epds.csv", "epds", f"{HEAD},{','.join(names)},合計\n{row}\n")
    assert len(read.quarantine) == 0
    df = read.frame.assign(person_id="M7", household_id="H7")
    ev = finish_events(source_events("epds", df, pd.Series({"9": "C9"})))
    attrs = json.loads(ev["attrs"].iloc[0])
    assert attrs["items"][9] == 2 and attrs["items"][0] == 0 and attrs["self_harm"] is True
    assert ev["disclosure"].iloc[0] == "staff"  # 問10 ≥ 1: staff only, not "discuss"


def test_epds_without_self_harm_keeps_the_source_class(tmp_path):
    items = ",".join(f"問{i}" for i in range(1, 11))
    read = _read(tmp_path, "epds.csv", "epds", f"{HEAD},{items},合計\n8,母 八,1990-01-01,2024-05-01,9,1,1,1,1,1,1,1,1,1,0,9\n")
    ev = finish_events(source_events("epds", read.frame.assign(person_id="M8", household_id="H8"), pd.Series(dtype=object)))
    assert json.loads(ev["attrs"].iloc[0])["self_harm"] is False and ev["disclosure"].iloc[0] == "discuss"


def test_official_vaccine_names_are_kept_and_unknown_ones_quarantined(tmp_path):
    rows = ["1,子 一,2024-01-05,小児用肺炎球菌,1,2024-03-10", "2,子 二,2024-01-05,ＢＣＧ,1,2024-07-01",
            "3,子 三,2024-01-05,Ｂ型肝炎,1,2024-03-10", "4,子 四,2024-01-05,麻しん風しん混合,1,2025-01-10",
            "5,子 五,2024-01-05,五種混合,1,2024-03-10", "6,子 六,2024-01-05,ロタウイルス,1,2024-03-10",
            "7,子 七,2024-01-05,おたふくかぜ,1,2025-01-10"]
    read = _read(tmp_path, "yobo.csv", "yobo", "宛名番号,氏名,生年月日,ワクチン,回数,接種日\n" + "\n".join(rows) + "\n")
    assert list(read.quarantine["line"]) == [8]
    assert "おたふくかぜ" in read.quarantine["reason"].iloc[0] and "語彙" in read.quarantine["reason"].iloc[0]
    ev = finish_events(source_events("yobo", read.frame.assign(person_id=read.frame["宛名番号"], household_id="H"),
                                     pd.Series(dtype=object)))
    assert sorted(ev["subtype"]) == sorted(["PCV", "BCG", "HepB", "MR", "DPT-IPV-Hib", "Rota"])
    assert np.all(ev["type"] == "vaccination")


# One 診療行為コード per family, copied by hand from the 診療行為マスター (as transcribed in the public
# constants ItemCdConst.cs): (code, kind, family).
NIGHT_CODES = [
    ("111000770", "深夜", "初診"),                                # 深夜加算（初診）— from age 6
    ("112001110", "時間外", "再診"),                              # 時間外加算（再診）
    ("111012070", "休日", "初診・乳幼児"),                        # 乳幼児休日加算（初診）
    ("112015070", "時間外", "再診・乳幼児"),                      # 乳幼児時間外特例医療機関加算（再診）
    ("111011570", "夜間", "初診・乳幼児(小児科)"),               # 乳幼児夜間加算（小児科初診）
    ("113007470", "休日", "小児科外来診療料"),                    # 乳幼児休日加算（小児科再診）（小児科外来診療料）
    ("113027270", "深夜", "小児かかりつけ診療料"),                # 深夜加算（再診）（小児かかりつけ診療料）
    ("113020570", "夜間", "小児かかりつけ診療料・乳幼児"),        # 乳幼児夜間加算（小児科初診）（小児かかりつけ診療料）
]


def test_night_addon_codes_one_per_family():
    from app.engine.events import receipt_events

    n = len(NIGHT_CODES)
    receipts = pd.DataFrame({"_file": "R.UKE", "_line": np.arange(1, n + 1) * 10, "person_id": [f"P{i}" for i in range(n)],
                             "household_id": "H", "month": pd.Timestamp("2024-11-01"), "receipt_type": "1114",
                             "special_codes": "", "insurer": "123456"})
    diagnoses = pd.DataFrame({"_file": "R.UKE", "receipt_line": receipts["_line"], "line": receipts["_line"] + 1,
                              "code": "0000999", "name": "左手挫創", "start_date": pd.Timestamp("2024-11-03"),
                              "outcome": "1", "main": ""})
    procedures = pd.DataFrame({"_file": "R.UKE", "receipt_line": receipts["_line"], "line": receipts["_line"] + 2,
                               "kind": "SI", "code": [c for c, _, _ in NIGHT_CODES], "first_day": 3, "n_days": 1})
    parts = receipt_events(receipts, diagnoses, procedures)
    nv = pd.concat(parts)
    nv = nv[nv["type"] == "night_visit"].set_index("subtype")
    for code, kind, family in NIGHT_CODES:
        assert nv.loc[code, "value_text"] == kind, code
        assert json.loads(nv.loc[code, "attrs"])["family"] == family, code
    # the 夜間・早朝等加算 of clinics' evening hours is not an emergency add-on
    assert "111012470" not in nv.index


def test_injury_list_names_its_icd10_blocks_and_matches_uncoded_names_only():
    from app.engine.reference.receipts import injury_config, injury_pattern

    cfg = injury_config()
    assert any(b.startswith("S00-T19") for b in cfg["icd10"]) and any(b.startswith("T20-T32") for b in cfg["icd10"])
    pat = injury_pattern()
    attrs = pd.Series(['{"diagnoses":[{"code":"0000999","name":"右前腕骨折"}]}',
                       '{"diagnoses":[{"code":"1234567","name":"右前腕骨折"}]}',
                       '{"diagnoses":[{"code":"0000999","name":"急性上気道炎"}]}'])
    assert attrs.str.contains(pat, regex=True).tolist() == [True, False, False]


def test_injury_list_holds_the_cited_master_codes():
    # 傷病名マスター rows copied by hand from the public excerpt named in resources/reference/README.md
    # (receiptisan's b_ALL00000000.csv): 9599001 外傷 → T149, 9170003 足関節擦過傷 → S908
    from app.engine.reference.receipts import injury_config, injury_pattern

    codes = injury_config()["codes"]
    assert codes["9599001"] == "T14.9" and codes["9170003"] == "S90.8"
    # もやもや病 (4375001 → I675) from the same excerpt is not an injury
    assert "4375001" not in codes
    pat = injury_pattern()
    attrs = pd.Series(['{"diagnoses":[{"code":"9170003","name":""}]}',
                       '{"diagnoses":[{"code":"4375001","name":""}]}'])
    assert attrs.str.contains(pat, regex=True).tolist() == [True, False]
