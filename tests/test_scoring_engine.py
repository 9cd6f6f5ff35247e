"""Scores, ranks, probability, follow-up state and progress on hand-made children."""

import numpy as np
import pytest

from app.engine.progress import Cancelled, Progress
from app.engine.rules import parse_ruleset
from app.engine.rules.examples import FrameBuilder
from app.engine.scoring import evaluate

RULES = '''
[ruleset]
id = "t"
target = "abuse"
[[rule]]
id = "epds"
label = "EPDS"
kind = "events"
subject = "mother"
event_types = ["epds"]
aggregate = { fn = "max", op = ">=", value = 9 }
weight = 2.0
[[rule]]
id = "income"
label = "低所得"
kind = "events"
event_types = ["income_bracket"]
where = { value_num = { op = "in", value = [29, 30] } }
weight = 0.5
'''


def build():
    b = FrameBuilder()
    kids = []
    for i in range(6):
        mom = b.adult("1990-01", household_id=f"H{i}")
        c = b.child("2023-01", mother=mom, household_id=f"H{i}", district=["本庁", "追浜"][i % 2])
        kids.append(c)
        if i < 3:
            b.event(mom, "epds", "2023-03-01", value_num=12)
        if i in (0, 3):
            b.event(c, "income_bracket", "2024-01-01", value_num=30, value_text="区オ")
    b.event(kids[0], "assessment", "2024-02-01", subtype="P-1", value_text="フォロー済み")
    b.event(kids[1], "assessment", "2024-02-01", subtype="K-1", value_text="未")
    b.event(kids[2], "custody", "2024-05-01", subtype="一時保護")
    gone = b.child("2023-01", resident_to="2024-01-31")
    return b, kids, gone


def test_score_is_weighted_sum_and_rank_orders_it():
    b, kids, gone = build()
    p, e, r = b.frames()
    res = evaluate(p, e, r, parse_ruleset(RULES), "2025-01-31", validate=False)
    s = res.scores.set_index("person_id")
    assert s.loc[kids[0], "score"] == pytest.approx(2.5)
    assert s.loc[kids[1], "score"] == pytest.approx(2.0)
    assert s.loc[kids[3], "score"] == pytest.approx(0.5)
    assert s.loc[kids[4], "score"] == 0
    assert s.loc[kids[0], "rank"] == 1
    assert list(s.sort_values("rank")["score"]) == sorted(s["score"], reverse=True)
    assert gone not in s.index  # moved out before the as-of date


def test_follow_state_and_list_label():
    b, kids, _ = build()
    p, e, r = b.frames()
    res = evaluate(p, e, r, parse_ruleset(RULES), "2025-01-31", validate=False)
    f = res.follow.set_index("person_id")
    assert bool(f.loc[kids[0], "followed"]) and f.loc[kids[0], "follow_status"] == "フォロー済み"
    assert not bool(f.loc[kids[1], "followed"])
    assert bool(f.loc[kids[2], "on_custody_list"]) and not bool(f.loc[kids[0], "on_custody_list"])
    assert res.labels.sum() == 1
    counts = res.flag_counts()
    assert counts.loc["epds", "list_flagged"] == 1 and counts.loc["epds", "other_flagged"] == 2


def test_probability_with_enough_labels():
    b = FrameBuilder()
    rng = np.random.default_rng(0)
    for i in range(200):
        mom = b.adult("1990-01")
        c = b.child("2022-06", mother=mom)
        high = rng.random() < 0.3
        if high:
            b.event(mom, "epds", "2023-01-01", value_num=15)
        if rng.random() < (0.5 if high else 0.05):
            b.event(c, "custody", "2024-01-01", subtype="通告")
    p, e, r = b.frames()
    res = evaluate(p, e, r, parse_ruleset(RULES), "2025-01-31", validate=True)
    prob = res.scores["probability"].to_numpy()
    assert np.all((prob >= 0) & (prob <= 1))
    flagged = res.matrix["epds"].to_numpy()
    assert prob[flagged].mean() > prob[~flagged].mean()
    v = res.metrics["validation"]
    assert v["status"] == "ok" and 0.5 < v["auc"] <= 1 and v["auc_ci95"][0] <= v["auc"] <= v["auc_ci95"][1]
    assert {"by_district", "by_nationality", "calibration", "top_k"} <= set(v)


def test_progress_reports_and_cancel_stops():
    b, _, _ = build()
    p, e, r = b.frames()
    seen = []
    evaluate(p, e, r, parse_ruleset(RULES), "2025-01-31", progress=Progress(lambda f, m: seen.append(f)),
             validate=False)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    prog = Progress()
    prog.cancel()
    with pytest.raises(Cancelled):
        evaluate(p, e, r, parse_ruleset(RULES), "2025-01-31", progress=prog)
