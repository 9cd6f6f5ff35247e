"""The working list's Qt-free engine: filters, sorts, households, need order, visit sheet content."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine import worklist as w
from app.engine.visit_sheet import build_sheet
from app.views.list.sample import sample_evidence, sample_results


@pytest.fixture(scope="module")
def frame():
    return sample_results(3000, seed=11)


@pytest.fixture(scope="module")
def index(frame):
    return w.SearchIndex(frame)


def test_default_filter_is_extracted_not_followed_urgent_first(frame, index):
    rows = w.displayed_rows(frame, w.default_filter(), index)
    shown = frame.iloc[rows]
    expected = (frame["extracted"] & ~frame["followed"]) | frame["urgent"]
    assert frame["urgent"].any() and len(shown) == int(expected.sum()) < len(frame) // 5
    assert not shown.loc[~shown["urgent"], "followed"].any()
    assert shown["rank"].is_monotonic_increasing
    # urgent children first, followed or not
    assert shown["urgent"].iloc[:int(frame["urgent"].sum())].all()
    everyone = w.displayed_rows(frame, w.default_filter().with_(extracted_only=False), index)
    assert len(everyone) == int((~frame["followed"]).sum() + (frame["urgent"] & frame["followed"]).sum()) or \
        len(everyone) == int((~frame["followed"]).sum())


def test_filters_combine_like_pandas(frame, index):
    spec = w.WorklistFilter(districts=("追浜", "浦賀"), age_min=12, age_max=35, any_rules=("epds", "growth"),
                            moved_in_only=False, statuses=("未対応", "連絡済み"))
    mask = w.filter_mask(frame, spec, index)
    expected = (frame["district"].isin(["追浜", "浦賀"]) & frame["age_months"].between(12, 35)
                & (frame["flag:epds"] | frame["flag:growth"]) & frame["followup_status"].isin(["未対応", "連絡済み"]))
    assert mask.sum() > 0
    np.testing.assert_array_equal(mask, expected.to_numpy())


def test_text_search_every_word_must_occur(frame, index):
    mask = w.filter_mask(frame, w.WorklistFilter(text="EPDS 予防接種"), index)
    expected = frame["reasons"].str.contains("EPDS") & frame["reasons"].str.contains("予防接種")
    np.testing.assert_array_equal(mask, expected.to_numpy())
    # the research ID is searchable too
    pid = frame["person_id"].iloc[5]
    assert frame["person_id"].iloc[np.flatnonzero(w.filter_mask(frame, w.WorklistFilter(text=pid), index))].tolist() == [pid]


def test_unknown_rule_filter_shows_nothing(frame, index):
    assert not w.filter_mask(frame, w.WorklistFilter(any_rules=("no_such_rule",)), index).any()


def test_top_k_keeps_the_k_most_in_need(frame, index):
    rows = w.displayed_rows(frame, w.WorklistFilter(top_k=25), index)
    assert sorted(frame["rank"].iloc[rows]) == list(range(1, 26))


@pytest.mark.parametrize("column", ["town", "age_months", "score", "followup_date", "reasons", "moved_in_recent"])
@pytest.mark.parametrize("ascending", [True, False])
def test_sort_matches_pandas_with_empty_last(frame, index, column, ascending):
    rows = np.arange(len(frame))
    got = frame.iloc[w.sort_rows(rows, index, column, ascending)]
    expected = frame.assign(_e=frame[column].isna() | frame[column].astype(str).eq("")).sort_values(
        ["_e", column, "rank"], ascending=[True, ascending, True], kind="stable")
    assert got[column].astype(str).tolist() == expected[column].astype(str).tolist()
    # ties keep the need order
    for _value, group in got.groupby(column, sort=False):
        assert group["rank"].is_monotonic_increasing


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["b", "a", "", "日本", "あ", "z"]), min_size=1, max_size=40), st.booleans())
def test_text_sort_key_orders_like_python(values, ascending):
    f = pd.DataFrame({"t": values, "rank": range(1, len(values) + 1)})
    idx = w.SearchIndex(f)
    got = [values[i] for i in w.sort_rows(np.arange(len(values)), idx, "t", ascending)]
    nonempty = sorted((v for v in values if v), reverse=not ascending)
    assert got == nonempty + [v for v in values if not v]


def test_households_group_children(frame):
    h = w.group_households(frame)
    assert h["household_id"].is_unique
    assert h["children"].sum() == len(frame)
    best = frame.groupby("household_id")["rank"].min()
    assert (h.set_index("household_id")["rank"] == best.reindex(h["household_id"]).to_numpy()).all()
    epds_any = frame.groupby("household_id")["flag:epds"].any()
    assert (h.set_index("household_id")["flag:epds"] == epds_any.reindex(h["household_id"]).to_numpy()).all()
    multi = h[h["children"] > 1].iloc[0]
    members = frame[frame["household_id"] == multi["household_id"]]
    # reasons name each child by pseudonym
    for p, r in zip(members["pseudonym"], members["reasons"]):
        if r:
            assert f"{p}: {r}" in multi["reasons"]


def test_recompute_need_counts_only_chosen_rules(frame):
    weights = {"epds": 2.0, "income": 1.0}
    out = w.recompute_need(frame, weights, counted=["epds", "income"])
    ordered = out.sort_values("rank")
    urgent = int(out["urgent"].sum())
    assert ordered["urgent"].iloc[:urgent].all()          # 至急 first whatever rules count
    rest = ordered.iloc[urgent:]
    top = rest.head(int(rest["flag:epds"].sum()))
    assert top["flag:epds"].all()
    assert sorted(out["rank"]) == list(range(1, len(frame) + 1))


def test_age_text():
    assert w.age_text(27) == "2歳3か月"
    assert w.age_text(None) == ""


def test_visit_sheet_never_prints_never_reveal_facts(frame):
    pid = frame.loc[frame["flag:income"] & frame["flag:checkup"], "person_id"].iloc[0]
    ev = sample_evidence(frame, pid)
    sheet = build_sheet(ev)
    text = " ".join(f.text for f in sheet.discuss + sheet.staff)
    assert "区オ" not in text and "低所得" not in text       # income is "never" in the sample rules
    assert sheet.omitted_never >= 2                           # the flag and its row
    assert any("健診" in p for p in sheet.pretexts)           # checkup is a fact the family knows
    assert all(f.disclosure == "discuss" for f in sheet.discuss)
    assert all(f.disclosure == "staff" for f in sheet.staff)
    assert sheet.questions
