"""Linkage passes on hand-made records and the sample delivery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.engine.ingest.delivery import read_delivery
from app.engine.ingest.linked import process_delivery
from app.engine.ingest.sample import write_sample_delivery
from app.engine.linkage import REVIEW_THRESHOLD, assign_research_ids, score_pairs
from app.engine.pseudonyms import display_pseudonym
from linkage_records import KEY, rec, run
from linkage_records import entity as entity_of


def test_five_and_four_item_passes_on_normalised_names():
    res = run([
        rec("jumin", 2, "1", "H1", "髙橋　一郎", "タカハシ イチロウ", "2021-05-05", "M", "出生", "2021-05-05"),
        rec("kenshin", 2, "", "H1", "高橋一郎", "ﾀｶﾊｼ ｲﾁﾛｳ", "2021-05-05", "M"),
        rec("yobo", 2, "", "", "高橋 一郎", "たかはし いちろう", "2021-05-05", "M"),
    ])
    r = res.records.set_index("source")
    assert r.loc["kenshin", "method"] == "5item" and r.loc["yobo", "method"] == "4item"
    assert r["entity"].nunique() == 1


def test_twins_are_never_merged_and_listed():
    res = run([
        rec("jumin", 2, "1", "H1", "髙橋 二葉", "タカハシ フタバ", "2023-02-02", "F", "出生", "2023-02-02"),
        rec("jumin", 3, "2", "H1", "髙橋 三葉", "タカハシ ミツバ", "2023-02-02", "F", "出生", "2023-02-02"),
        rec("kenshin", 2, "", "H1", "高橋 二葉", "タカハシ フタバ", "2023-02-02", "F"),
    ])
    assert entity_of(res, "jumin", 2) != entity_of(res, "jumin", 3)
    assert entity_of(res, "kenshin", 2) == entity_of(res, "jumin", 2)
    assert (res.duplicates["kind"] == "twins").sum() == 1


def test_homonyms_resident_at_the_same_time_stay_apart_and_block_name_links():
    res = run([
        rec("jumin", 2, "1", "H1", "佐藤 陽菜", "サトウ ヒナ", "2022-03-03", "F", "出生", "2022-03-03"),
        rec("jumin", 3, "2", "H2", "佐藤 陽菜", "サトウ ヒナ", "2022-03-03", "F", "出生", "2022-03-03"),
        rec("receipt", 5, "", "", "佐藤 陽菜", "", "2022-03-03", "F"),
    ])
    assert entity_of(res, "jumin", 2) != entity_of(res, "jumin", 3)
    assert set(res.duplicates["kind"]) >= {"homonym", "ambiguous"}
    # The receipt cannot be given to either child automatically.
    assert res.records.set_index("source").loc["receipt", "status"] == "review"


def test_out_and_back_gets_one_person_with_two_numbers():
    res = run([
        rec("jumin", 2, "100", "H1", "齋藤 健", "サイトウ ケン", "2020-07-07", "M", "転出", "2022-01-10"),
        rec("jumin", 3, "205", "H2", "齋藤 健", "サイトウ ケン", "2020-07-07", "M", "転入", "2022-09-01"),
        rec("yobo", 2, "205", "", "齋藤 健", "サイトウ ケン", "2020-07-07", "M"),
    ])
    assert entity_of(res, "jumin", 2) == entity_of(res, "jumin", 3) == entity_of(res, "yobo", 2)
    assert len(res.out_and_back) == 1 and res.duplicates.empty


def test_receipt_only_person_and_near_miss_review():
    rows = [
        rec("jumin", 2, "1", "H1", "濱田 葵", "ハマダ アオイ", "2021-11-11", "F", "転入", "2023-04-01"),
        rec("receipt", 2, "", "", "浜田 葵", "ﾊﾏﾀﾞ ｱｵｲ", "2021-11-12", "F"),   # one birth digit off
        rec("receipt", 9, "", "", "山田 太一", "", "2020-01-01", "M"),
        rec("receipt", 13, "", "", "山田　太一", "", "2020-01-01", "M"),
    ]
    res = run(rows)
    r = res.records.set_index("line")
    assert r.loc[2, "status"].tolist() == ["linked", "review"]
    assert r.loc[9, "entity"] == r.loc[13, "entity"] and r.loc[9, "status"] == "new"
    item = res.review.iloc[0]
    assert item["score"] >= REVIEW_THRESHOLD and '"birth_level": "near"' in item["evidence"]
    # An accepted decision links it next time; a rejected one makes it a person of its own.
    accepted = run(rows, {item["pair_key"]: "accept"})
    assert entity_of(accepted, "receipt", 2) == entity_of(accepted, "jumin", 2)
    rejected = run(rows, {item["pair_key"]: "reject"})
    assert rejected.records.query("source == 'receipt' and line == 2")["status"].iloc[0] == "new"


def test_strangers_born_the_same_day_are_not_reviewed():
    pairs = pd.DataFrame([dict(k="佐藤花子", kn="サトウハナコ", b="2021-01-01", s="F", hh="",
                               k_c="鈴木一郎", kn_c="スズキイチロウ", b_c="2021-01-01", s_c="M", hh_c="H9")])
    assert score_pairs(pairs)["score"].iloc[0] < REVIEW_THRESHOLD


def test_research_ids_reuse_known_keys_and_have_the_documented_shapes():
    keys = pd.DataFrame({"entity": ["R:1", "R:2", "K:x", "V:3"], "kind": ["registry", "registry", "other", "review"],
                         "key": ["a", "b", "c", "d"]})
    rng = np.random.default_rng(0)
    ids = assign_research_ids(keys, {"a": "1234567"}, set(), rng)
    assert ids["R:1"] == "1234567"
    assert len(ids["R:2"]) == 7 and ids["R:2"][0] in "12345678"
    assert len(ids["K:x"]) == 8 and ids["K:x"][0] in "12345678"
    assert len(ids["V:3"]) == 8 and ids["V:3"][0] == "9"
    assert ids.is_unique


def test_display_pseudonym_is_deterministic_and_short():
    assert display_pseudonym("1234567") == display_pseudonym("1234567")
    assert display_pseudonym("1234567") != display_pseudonym("1234568")
    assert len(display_pseudonym("1234567")) == 6


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    d = read_delivery(write_sample_delivery(tmp_path_factory.mktemp("d") / "d1"))
    return process_delivery(d, KEY, rng=np.random.default_rng(1))


def test_sample_delivery_links_every_mess(processed):
    idm = processed.idmap.set_index(["file", "line"])["research_id"]
    # 宛名番号 rows, variant kanji + half-width kana row, receipt with JIS kanji → one child.
    ichiro = idm[("jumin.csv", 4)]
    assert idm[("kenshin.csv", 2)] == idm[("yobo.csv", 2)] == idm[("RECEIPTC.UKE", 2)] == ichiro
    assert idm[("kenshin.csv", 4)] == idm[("jumin.csv", 8)]           # 渡辺/渡邊, ﾜﾀﾅﾍﾞ
    assert idm[("jumin.csv", 5)] != idm[("jumin.csv", 6)]             # twins
    assert idm[("jumin.csv", 9)] != idm[("jumin.csv", 11)]            # homonyms
    assert idm[("jumin.csv", 13)] == idm[("jumin.csv", 14)]           # out and back
    assert idm[("RECEIPTC.UKE", 6)] == idm[("RECEIPTC.UKE", 13)]      # receipt-only person
    assert len(idm[("RECEIPTC.UKE", 6)]) == 8
    assert idm[("RECEIPTC.UKE", 9)] == ""                             # near miss waits in review
    assert len(processed.review) == 1


def test_persons_relations_and_events(processed):
    p = processed.persons.set_index("person_id")
    idm = processed.idmap.set_index(["file", "line"])["research_id"]
    child, mother = idm[("jumin.csv", 5)], idm[("jumin.csv", 3)]
    assert p.loc[child, "kind"] == "child" and p.loc[mother, "kind"] == "adult"
    assert p.loc[child, "mother_id"] == mother and p.loc[child, "birth_ym"] == "2023-02"
    assert p.loc[child, "district"] == "久里浜" and p.loc[child, "household_id"].startswith("H")
    moved = idm[("jumin.csv", 16)]
    assert p.loc[moved, "moved_in"] and p.loc[moved, "resident_from"] == pd.Timestamp("2023-04-01")
    rel = processed.relations
    assert ((rel["person_id"] == child) & (rel["relation"] == "sibling")).sum() == 2
    ev = processed.events
    assert set(ev.columns) >= {"person_id", "date", "type", "subtype", "value_num", "value_text", "attrs",
                               "source", "source_file", "source_line", "disclosure"}
    missed = ev[(ev["type"] == "checkup") & (ev["value_text"] == "missed")]
    assert pd.Timestamp("2022-11-30") in set(missed["date"])          # last day of 対象年月
    night = ev[ev["type"] == "night_visit"].iloc[0]
    assert night["date"] == pd.Timestamp("2023-09-12") and night["value_text"] == "深夜"
    assert "前額部挫創" in night["attrs"]
    assert ev[ev["type"] == "income_bracket"]["value_text"].tolist() == ["区エ"]
    assert (ev[ev["type"] == "income_bracket"]["disclosure"] == "never").all()
    epds = ev[ev["type"] == "epds"]
    assert sorted(epds["value_num"].tolist()) == [12.0, 17.0]
    assert (ev[ev["source"] == "seiho"]["disclosure"] == "never").all()
    assert not processed.identities["name_kanji"].isin(["", None]).all()
