"""Linkage at city scale: link() works per distinct identity and shares the caller's columns.

These pin what that way of working must not change: rows alike are linked alike, labels and
review items still name rows, the caller's frame is left as it was, compact input columns
(categorical, Arrow strings) link like text, and values that are not text are keyed as the
text they print as (as ``fillna("").astype(str)`` made them before).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from linkage_records import rec, run


def _rows() -> list[dict]:
    rows = [
        rec("jumin", 2, "1", "H1", "濱田 葵", "ハマダ アオイ", "2021-11-11", "F", "転入", "2023-04-01"),
        rec("jumin", 3, "2", "H2", "佐藤 陽菜", "サトウ ヒナ", "2022-03-03", "F", "出生", "2022-03-03"),
        rec("jumin", 4, "3", "H3", "佐藤 陽菜", "サトウ ヒナ", "2022-03-03", "F", "出生", "2022-03-03"),
        rec("jumin", 5, "4", "H4", "髙橋 一郎", "タカハシ イチロウ", "2021-05-05", "M", "出生", "2021-05-05"),
    ]
    # The same near-miss receipt three times, with other rows in between.
    rows += [rec("receipt", 10, "", "", "浜田 葵", "ﾊﾏﾀﾞ ｱｵｲ", "2021-11-12", "F"),
             rec("yobo", 2, "", "", "高橋 一郎", "たかはし いちろう", "2021-05-05", "M"),
             rec("receipt", 11, "", "", "浜田 葵", "ﾊﾏﾀﾞ ｱｵｲ", "2021-11-12", "F"),
             rec("receipt", 12, "", "", "佐藤 陽菜", "", "2022-03-03", "F"),
             rec("yobo", 3, "4", "", "高橋 一郎", "タカハシ イチロウ", "2021-05-05", "M"),
             rec("receipt", 13, "", "", "浜田 葵", "ﾊﾏﾀﾞ ｱｵｲ", "2021-11-12", "F"),
             rec("kenshin", 2, "", "", "ヤマダ", "", "2020-01-01", "M"),
             rec("kenshin", 3, "", "", "ヤマダ", "", "2020-01-01", "M")]
    return rows


def test_rows_alike_share_the_outcome_and_review_items_name_rows():
    frame = pd.DataFrame(_rows())
    frame.index = np.arange(len(frame))[::-1] * 7  # labels that are not row numbers
    res = run(frame)
    r = res.records
    assert list(r.index) == list(range(len(frame)))
    near = r[(r["source"] == "receipt") & (r["line"].isin([10, 11, 13]))]
    assert (near["status"] == "review").all() and near["entity"].nunique() == 1
    # One item for the three rows, labelled by its first row's position, listing its rows in
    # row order (the other item is the receipt between the two registered 佐藤 陽菜).
    assert len(res.review) == 2
    item = res.review.set_index("candidate").loc["R:1"]
    assert item["rec"] == near.index[0] and near["entity"].iloc[0] == f"V:{near.index[0]}"
    assert json.loads(item["evidence"])["rows"] == [["receipt.csv", 10], ["receipt.csv", 11], ["receipt.csv", 13]]
    # Two rows with one katakana-only identity are one person; the 4-item row and the numbered
    # row join 髙橋; the receipt between two registered 佐藤 陽菜 stays unlinked.
    kana_only = r[r["source"] == "kenshin"]
    assert kana_only["entity"].nunique() == 1 and (kana_only["k"] == "").all() and (kana_only["kn"] != "").all()
    takahashi = r[r["name_kanji"].str.contains("橋")]
    assert takahashi["entity"].nunique() == 1
    assert set(takahashi["method"]) == {"registry", "4item", "resident_number"}
    assert r.loc[(r["source"] == "receipt") & (r["line"] == 12), "status"].item() == "review"


@pytest.mark.parametrize("dtype", ["category", "string[pyarrow]"])
def test_compact_input_columns_link_like_text(dtype):
    plain = pd.DataFrame(_rows())
    compact = plain.copy()
    for c in ["source", "file", "resident_number", "household_number", "name_kanji", "name_kana", "sex",
              "move_reason"]:
        compact[c] = compact[c].astype(dtype)
    a, b = run(plain), run(compact)
    for c in ["entity", "status", "method", "resident_number", "household_number", "k", "kn", "kana_norm", "b", "s"]:
        assert a.records[c].astype(str).tolist() == b.records[c].astype(str).tolist(), c
    pd.testing.assert_frame_equal(a.entities, b.entities)
    pd.testing.assert_frame_equal(a.review, b.review)
    pd.testing.assert_frame_equal(a.duplicates, b.duplicates)


def test_link_leaves_the_callers_frame_as_it_was():
    frame = pd.DataFrame(_rows()).drop(columns=["move_reason", "move_date"])
    before = frame.copy()
    res = run(frame)
    pd.testing.assert_frame_equal(frame, before)
    # The records frame has the move columns all the same (empty) and its own filled keys.
    assert res.records["move_reason"].isna().all() and res.records["move_date"].isna().all()
    res.records["entity"] = "x"
    pd.testing.assert_frame_equal(frame, before)


def test_values_that_are_not_text_are_keyed_as_the_text_they_print_as():
    # 1 and 1.0 hash alike but print as "1" and "1.0": two different 宛名番号, as they were when
    # every row went through fillna("").astype(str); 1 and "1" print alike: one number.
    rows = [rec("jumin", 2, "1", "H1", "濱田 葵", "ハマダ アオイ", "2021-11-11", "F", "出生", "2021-11-11"),
            rec("yobo", 2, "", "", "別人 一", "ベツジン ハジメ", "2020-02-02", "M"),
            rec("yobo", 3, "", "", "別人 二", "ベツジン ニ", "2020-03-03", "M")]
    frame = pd.DataFrame(rows)
    frame["resident_number"] = pd.Series(["1", 1, 1.0], dtype=object)
    r = run(frame).records
    assert r["resident_number"].tolist() == ["1", "1", "1.0"]
    assert r["entity"].iloc[1] == r["entity"].iloc[0] != r["entity"].iloc[2]
    assert r["entity"].iloc[2] == "N:1.0"
