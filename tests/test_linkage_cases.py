"""Linkage cases that must not split a child or give a child's facts to another (issue #14).

Every case is built by hand here; none comes from the generator.
"""

from __future__ import annotations

import json

import pandas as pd

from app.engine.linkage import _birth_level, review_reasons
from linkage_records import entity, rec, run


def test_katakana_only_child_who_moved_out_and_back_is_one_person():
    res = run([
        rec("jumin", 2, "301", "H1", "グエン　ヴァン　アン", "グエン ヴァン アン", "2021-06-01", "M", "転出", "2022-03-31"),
        rec("jumin", 3, "455", "H7", "グエン ヴァン アン", "ｸﾞｴﾝ ｳﾞｧﾝ ｱﾝ", "2021-06-01", "M", "転入", "2023-01-10"),
        rec("kenshin", 2, "455", "H7", "グエン ヴァン アン", "グエン ヴァン アン", "2021-06-01", "M"),
    ])
    assert entity(res, "jumin", 2) == entity(res, "jumin", 3) == entity(res, "kenshin", 2)
    assert len(res.out_and_back) == 1


def test_katakana_only_namesakes_resident_together_stay_apart():
    res = run([
        rec("jumin", 2, "301", "H1", "マリア", "マリア", "2021-06-01", "F", "出生", "2021-06-01"),
        rec("jumin", 3, "302", "H2", "マリア", "マリア", "2021-06-01", "F", "転入", "2022-01-01"),
    ])
    assert entity(res, "jumin", 2) != entity(res, "jumin", 3)
    assert "homonym" in set(res.duplicates["kind"])


def test_a_numbered_row_is_never_linked_by_name_to_another_number():
    # 山田花子 (number 500) has her registry row quarantined; her checkup still carries 500.
    # A namesake with number 777 lives here: the checkup must not become 777's.
    res = run([
        rec("jumin", 2, "777", "H9", "山田 花子", "ヤマダ ハナコ", "2022-04-04", "F", "出生", "2022-04-04"),
        rec("kenshin", 2, "500", "H1", "山田 花子", "ヤマダ ハナコ", "2022-04-04", "F"),
        rec("kenshin", 3, "500", "", "山田 花子", "ヤマダ ハナコ", "2022-04-04", "F"),
    ])
    r = res.records.set_index(["source", "line"])
    assert r.loc[("kenshin", 2), "entity"] != entity(res, "jumin", 2)
    assert r.loc[("kenshin", 2), "status"] in ("new", "review")
    assert r.loc[("kenshin", 2), "entity"] == r.loc[("kenshin", 3), "entity"]
    if len(res.review):
        assert "宛名番号が候補者の番号と異なります" in review_reasons(res.review["evidence"].iloc[0])


def test_unnumbered_receipt_still_links_by_names():
    res = run([
        rec("jumin", 2, "777", "H9", "山田 花子", "ヤマダ ハナコ", "2022-04-04", "F", "出生", "2022-04-04"),
        rec("receipt", 4, "", "", "山田 花子", "", "2022-04-04", "F"),
    ])
    assert entity(res, "receipt", 4) == entity(res, "jumin", 2)


def test_two_namesakes_who_both_moved_out_and_back_are_not_chained():
    # Two different boys, same name and birth date, each moved out and came back. Their four
    # numbers have disjoint periods pairwise except the two who lived here at the same time.
    rows = [
        rec("jumin", 2, "101", "H1", "佐藤 翔", "サトウ ショウ", "2020-02-02", "M", "転出", "2021-01-01"),
        rec("jumin", 3, "102", "H2", "佐藤 翔", "サトウ ショウ", "2020-02-02", "M", "転出", "2021-02-01"),
        rec("jumin", 4, "201", "H3", "佐藤 翔", "サトウ ショウ", "2020-02-02", "M", "転入", "2022-01-01"),
        rec("jumin", 5, "202", "H4", "佐藤 翔", "サトウ ショウ", "2020-02-02", "M", "転入", "2022-02-01"),
    ]
    res = run(rows)
    ents = {entity(res, "jumin", n) for n in (2, 3, 4, 5)}
    assert len(ents) == 4  # cannot tell who is who: nobody merged
    assert res.out_and_back.empty
    assert "ambiguous" in set(res.duplicates["kind"])


def test_out_and_back_pairs_at_most_two_numbers():
    res = run([
        rec("jumin", 2, "101", "H1", "鈴木 蒼", "スズキ アオイ", "2020-02-02", "M", "転出", "2021-01-01"),
        rec("jumin", 3, "201", "H3", "鈴木 蒼", "スズキ アオイ", "2020-02-02", "M", "転入", "2022-01-01"),
    ])
    assert entity(res, "jumin", 2) == entity(res, "jumin", 3)
    assert res.records["entity"].nunique() == 1


def test_near_birth_dates_are_one_digit_or_a_day_month_swap():
    a = pd.Series(["2021-03-12", "2021-03-12", "2021-03-12", "2021-03-12", "2021-03-12"])
    b = pd.Series(["2021-03-13", "2021-12-03", "2021-03-28", "2021-03-12", "2020-04-12"])
    assert list(_birth_level(a, b)) == ["near", "near", "different", "exact", "different"]


def test_a_persons_receipts_are_one_review_item_with_japanese_reasons():
    rows = [rec("jumin", 2, "1", "H1", "濱田 葵", "ハマダ アオイ", "2021-11-11", "F", "転入", "2023-04-01")]
    # Six monthly receipts of the same child, birth date one digit off.
    rows += [rec("receipt", n, "", "", "浜田 葵", "ﾊﾏﾀﾞ ｱｵｲ", "2021-11-12", "F") for n in range(10, 16)]
    res = run(rows)
    assert len(res.review) == 1
    r = res.records[res.records["source"] == "receipt"]
    assert (r["status"] == "review").all() and r["entity"].nunique() == 1
    ev = json.loads(res.review["evidence"].iloc[0])
    assert sorted(n for _, n in ev["rows"]) == list(range(10, 16))
    text = review_reasons(res.review["evidence"].iloc[0])
    assert "生年月日が1桁だけ" in text and "漢字氏名が一致しています" in text and "{" not in text
    # Accepting the one item links all six receipts.
    accepted = run(rows, {res.review["pair_key"].iloc[0]: "accept"})
    acc = accepted.records[accepted.records["source"] == "receipt"]
    assert set(acc["entity"]) == {entity(accepted, "jumin", 2)}


def test_stranger_born_the_same_month_is_not_proposed():
    res = run([
        rec("jumin", 2, "1", "H1", "田中 結衣", "タナカ ユイ", "2021-05-03", "F", "出生", "2021-05-03"),
        rec("receipt", 2, "", "", "田中 結衣", "", "2021-05-27", "F"),
    ])
    assert res.review.empty


def test_review_model_shows_sentences_not_json(qtbot):
    from PySide6.QtCore import Qt

    from app.models.import_models import ReviewTableModel

    model = ReviewTableModel({"file": "File", "evidence": "Evidence"})
    evidence = json.dumps({"kanji_level": "fuzzy", "kana_level": "exact", "birth_level": "exact",
                           "sex_level": "exact", "household_level": "missing"})
    model.set_frame(pd.DataFrame({"file": ["r.UKE"], "evidence": [evidence]}))
    shown = model.data(model.index(0, 1), Qt.ItemDataRole.DisplayRole)
    assert shown.startswith("漢字氏名は異体字または似た字の違いだけです")
    assert "{" not in shown and "kanji_level" not in shown
    assert model.row(0)["evidence_json"] == evidence


def test_review_item_between_homonyms_says_another_person_scores_as_high():
    res = run([
        rec("jumin", 2, "1", "H1", "佐藤 陽菜", "サトウ ヒナ", "2022-03-03", "F", "出生", "2022-03-03"),
        rec("jumin", 3, "2", "H2", "佐藤 陽菜", "サトウ ヒナ", "2022-03-03", "F", "出生", "2022-03-03"),
        rec("receipt", 5, "", "", "佐藤 陽菜", "サトウ ヒナ", "2022-03-03", "F"),
        rec("receipt", 6, "", "", "佐藤 陽菜", "サトウ ヒナ", "2022-03-03", "F"),
    ])
    assert len(res.review) == 1
    assert "同じ点数の候補者がほかに1人います" in review_reasons(res.review["evidence"].iloc[0])


def test_namesakes_moving_at_different_times_are_each_re_joined():
    # 陽太 A moved out in 2019 and back in 2020 (still here); his namesake B lived here until
    # 2021 and came back in 2022. A's return can only be A's old number (B's old period
    # overlaps it), B's old number can only pair with B's return: both pairs are forced.
    res = run([
        rec("jumin", 2, "11", "H1", "伊藤 陽太", "イトウ ヨウタ", "2018-01-01", "M", "転出", "2019-03-01"),
        rec("jumin", 3, "12", "H2", "伊藤 陽太", "イトウ ヨウタ", "2018-01-01", "M", "転入", "2020-04-01"),
        rec("jumin", 4, "21", "H3", "伊藤 陽太", "イトウ ヨウタ", "2018-01-01", "M", "転出", "2021-05-01"),
        rec("jumin", 5, "22", "H4", "伊藤 陽太", "イトウ ヨウタ", "2018-01-01", "M", "転入", "2022-06-01"),
    ])
    assert entity(res, "jumin", 2) == entity(res, "jumin", 3)
    assert entity(res, "jumin", 4) == entity(res, "jumin", 5)
    assert entity(res, "jumin", 2) != entity(res, "jumin", 4)
    assert len(res.out_and_back) == 2
    assert not (res.duplicates["kind"] == "ambiguous").any()


def test_one_child_moving_out_twice_is_not_chained_blindly():
    # Three numbers, pairwise disjoint: A→B→C or two people — each number pairs with at most
    # one other, and no pairing is forced, so nothing is merged and a data_admin is told.
    res = run([
        rec("jumin", 2, "1", "H1", "小林 湊", "コバヤシ ミナト", "2019-01-01", "M", "転出", "2020-01-01"),
        rec("jumin", 3, "2", "H2", "小林 湊", "コバヤシ ミナト", "2019-01-01", "M", "転入", "2020-06-01"),
        rec("jumin", 3, "2", "H2", "小林 湊", "コバヤシ ミナト", "2019-01-01", "M", "転出", "2021-01-01"),
        rec("jumin", 4, "3", "H3", "小林 湊", "コバヤシ ミナト", "2019-01-01", "M", "転入", "2022-01-01"),
    ])
    ents = res.records.drop_duplicates("resident_number").groupby("entity")["resident_number"].nunique()
    assert ents.max() <= 2
    assert "ambiguous" in set(res.duplicates["kind"]) or len(res.out_and_back) >= 1
