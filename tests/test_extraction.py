"""抽出, 至急, the order a role may see, a flag's disclosure class and the calibrated probability —
the engine's single definitions (app/engine/extraction.py, disclosure.py, calibration.py), on
hand-made children."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.engine import disclosure, extraction
from app.engine.calibration import probability_on_score, validation_caution
from app.engine.rules import parse_ruleset
from app.engine.rules.examples import FrameBuilder
from app.engine.scoring import evaluate

RULES = '''
[ruleset]
id = "t"
target = "abuse"
[[rule]]
id = "checkup"
label = "健診未受診"
kind = "events"
event_types = ["checkup_missed"]
aggregate = { fn = "count", op = ">=", value = 1 }
weight = 1.0
disclosure = "discuss"
[[rule]]
id = "public_assistance"
label = "生活保護受給世帯"
kind = "events"
subject = "household"
event_types = ["public_assistance"]
aggregate = { fn = "count", op = ">=", value = 1 }
weight = 0.5
disclosure = "staff"
[[rule]]
id = "sibling_custody"
label = "きょうだいが児童相談所の対象"
kind = "events"
subject = "siblings"
event_types = ["custody"]
aggregate = { fn = "count", op = ">=", value = 1 }
weight = 3.0
restricted = "custody"
disclosure = "never"

[extraction]
method = "top_k"
k = 2
urgent_months = 12
'''
AS_OF = "2025-03-31"


def _epds(b, mother, date, item10):
    items = [1, 1, 1, 1, 1, 1, 1, 1, 1, item10]
    return b.event(mother, "epds", date, value_num=sum(items), attrs={"items": items})


def build():
    """A and B differ only in B's sibling being in child-guidance custody (hidden from nurses);
    U's mother answered EPDS 問10 with 2 a month ago; W's mother did, but two years ago."""
    b = FrameBuilder()
    kids = {}
    for name, hh in (("A", "H1"), ("B", "H2"), ("C", "H3"), ("U", "H4"), ("W", "H5"), ("Z", "H6")):
        mom = b.adult("1990-01", household_id=hh)
        kids[name] = b.child("2023-01", mother=mom, household_id=hh)
        kids[name + "_mom"] = mom
    for name in ("A", "B"):
        b.event(kids[name], "checkup_missed", "2024-06-01")
    sib = b.child("2021-01", household_id="H2", mother=kids["B_mom"])
    b.relate(kids["B"], sib, "sibling")
    b.relate(sib, kids["B"], "sibling")
    b.event(sib, "custody", "2024-09-01", subtype="一時保護", source="jisou")
    b.event(kids["C"], "checkup_missed", "2024-06-01")
    pa = b.event(kids["C_mom"], "public_assistance", "2020-11-14", value_text="start", source="seiho",
                 household_id="H3")
    _epds(b, kids["U_mom"], "2025-02-20", 2)
    _epds(b, kids["W_mom"], "2023-02-20", 1)
    _epds(b, kids["Z_mom"], "2025-02-20", 0)
    p, e, r = b.frames()
    e.loc[e["source"].isin(["seiho", "jisou"]), "disclosure"] = "never"
    e.loc[e["type"] == "checkup_missed", "disclosure"] = "discuss"
    return kids, (p, e, r), pa


@pytest.fixture(scope="module")
def result():
    kids, (p, e, r), _ = build()
    return kids, evaluate(p, e, r, parse_ruleset(RULES), AS_OF, validate=False)


def test_urgent_child_is_first_in_both_orders_and_always_extracted(result):
    kids, res = result
    s = res.scores.set_index("person_id")
    assert bool(s.loc[kids["U"], "urgent"]) and s.loc[kids["U"], "rank"] == 1 and s.loc[kids["U"], "rank_open"] == 1
    assert s.loc[kids["U"], "urgent_date"] == pd.Timestamp("2025-02-20")
    assert bool(s.loc[kids["U"], "extracted"]) and bool(s.loc[kids["U"], "extracted_open"])
    # an answer older than urgent_months, and an EPDS with 問10 = 0, are not urgent
    assert not s.loc[kids["W"], "urgent"] and not s.loc[kids["Z"], "urgent"]
    assert s.loc[kids["U"], "score"] == 0          # urgent whatever the score


def test_nurse_order_ignores_the_hidden_flag(result):
    """A and B differ only in B's hidden custody-derived flag: B is ahead in the full order, and
    in the open order they tie and fall back to the research ID (A first) — B gains nothing."""
    kids, res = result
    s = res.scores.set_index("person_id")
    a, b = kids["A"], kids["B"]
    assert a < b
    assert s.loc[b, "score"] > s.loc[a, "score"] and s.loc[b, "rank"] < s.loc[a, "rank"]
    assert s.loc[b, "score_open"] == s.loc[a, "score_open"]
    assert s.loc[a, "rank_open"] < s.loc[b, "rank_open"]
    # 抽出 (k = 2: the urgent child plus one) follows the same orders: in the full order B's hidden
    # flag puts B in; in the open order C (two visible flags) is next and B is not extracted
    assert set(s.index[s["extracted"]]) == {kids["U"], b}
    assert set(s.index[s["extracted_open"]]) == {kids["U"], kids["C"]}


def test_flag_is_as_guarded_as_its_evidence_and_its_label(result):
    kids, res = result
    f = res.flags.set_index(["person_id", "rule_id"])["disclosure"]
    # 生活保護: the rule says △ but its evidence and the fact its label names are ✕
    assert f.loc[(kids["C"], "public_assistance")] == "never"
    # a child without the flag still gets the rule's floor (the label itself names a ✕ fact)
    assert f.loc[(kids["A"], "public_assistance")] == "never"
    assert f.loc[(kids["A"], "checkup")] == "discuss"


def test_flag_classes_strictest_of_rows():
    flags = pd.DataFrame({"person_id": ["1", "1", "2"], "rule_id": ["x", "y", "x"],
                          "disclosure": ["discuss", "staff", "discuss"]})
    rows = pd.DataFrame({"person_id": ["1", "1", "2"], "rule_id": ["x", "x", "x"],
                         "disclosure": ["discuss", "never", "staff"]})
    assert disclosure.flag_classes(flags, rows).tolist() == ["never", "staff", "staff"]
    assert disclosure.strictest("discuss", None, "staff") == "staff"


def test_extraction_spec_is_read_from_the_rule_set_and_checked():
    spec = extraction.extraction_spec(RULES)
    assert spec.method == "top_k" and spec.k == 2 and spec.urgent_months == 12
    assert "上位2人" in spec.describe() and "至急" in spec.describe()
    cut = extraction.extraction_spec('[extraction]\nmethod = "score_cut"\nscore_cut = 2.5\n')
    got = extraction.extract(np.array([3.0, 2.5, 1.0]), np.array([False, False, True]), np.array([1, 2, 3]), cut)
    assert got.tolist() == [True, True, True]
    with pytest.raises(extraction.ExtractionError):
        extraction.extraction_spec('[extraction]\nmethod = "share"\n')


def test_followed_is_one_rule():
    got = extraction.is_followed(["", "未対応", "連絡済み", "", ""], ["", "", "", "フォロー済み", "未"])
    assert got.tolist() == [False, False, True, True, False]


def test_months_ago_counts_from_the_runs_date():
    assert extraction.months_ago(pd.Timestamp("2025-01-20"), pd.Timestamp("2025-03-31")) == "2か月前"
    assert extraction.months_ago(pd.Timestamp("2025-03-21"), pd.Timestamp("2025-03-31")) == "10日前"
    assert extraction.run_today("2025-03-31", {"jumin": "2099-01-01"}) == pd.Timestamp("2025-03-31")
    assert extraction.run_today(None, {"jumin": "2025-02-28", "yobo": "2025-03-15"}) == pd.Timestamp("2025-02-28")


def test_probability_rises_with_the_score():
    rng = np.random.default_rng(1)
    score = np.round(rng.gamma(2.0, 2.0, 3000), 2)
    y = (rng.random(3000) < 1 / (1 + np.exp(-(score - 8) / 2))).astype(int)
    p = probability_on_score(score, y)
    order = np.argsort(score, kind="stable")
    assert np.all(np.diff(p[order]) >= -1e-12)
    assert p[order][-1] > p[order][0]
    # a score that does not track the list: still never falls as the score rises
    flat = probability_on_score(score, rng.permutation(y))
    assert np.all(np.diff(flat[order]) >= -1e-12)


def test_caution_in_plain_words_when_the_interval_reaches_below_0_6():
    weak = {"validation": {"status": "ok", "score_auc": 0.552, "score_auc_ci95": [0.48, 0.62]}}
    strong = {"validation": {"status": "ok", "score_auc": 0.72, "score_auc_ci95": [0.69, 0.75]}}
    assert "0.55" in validation_caution(weak) and "目安" in validation_caution(weak)
    assert validation_caution(strong) == "" and validation_caution({}) == ""
