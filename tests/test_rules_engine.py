"""Improved and report rules on hand-made children: move-in, catch-up history, twins,
schedule edge ages, evidence rows; and the rule-set loader."""

import pandas as pd
import pytest

from app.engine.rules import RuleSetError, parse_ruleset, shipped_ruleset
from app.engine.rules.examples import FrameBuilder
from app.engine.scoring import evaluate

AS_OF = "2025-06-30"


@pytest.fixture(scope="module")
def improved():
    return shipped_ruleset("improved")


def flags_of(res, pid):
    f = res.flags[(res.flags["person_id"] == pid) & res.flags["flagged"]]
    return dict(zip(f["rule_id"], f["reason"]))


def evidence_of(res, pid, rule_id):
    e = res.evidence[(res.evidence["person_id"] == pid) & (res.evidence["rule_id"] == rule_id)]
    return {(int(r.event_id), r.role) for r in e.itertuples()}


def run(b, rs, as_of=AS_OF):
    p, e, r = b.frames()
    return evaluate(p, e, r, rs, as_of, validate=False)


def test_catch_up_history_persists_with_dates(improved):
    b = FrameBuilder()
    c = b.child("2021-01")
    m4 = b.event(c, "checkup", "2021-05-31", subtype="4か月", value_text="missed")
    m10 = b.event(c, "checkup", "2021-11-30", subtype="10か月", value_text="missed")
    m18 = b.event(c, "checkup", "2022-07-31", subtype="1歳6か月", value_text="missed")
    late = b.event(c, "checkup", "2022-12-10", subtype="1歳6か月", value_text="attended")
    b.event(c, "checkup", "2024-05-10", subtype="3歳", value_text="attended")
    res = run(b, improved)  # the child is 4 and has caught up
    reasons = flags_of(res, c)
    assert "checkup_attendance" in reasons
    text = reasons["checkup_attendance"]
    assert "4か月健診 未受診(2021-05)" in text and "1歳6か月健診 未受診(2022-07)→後日受診" in text
    assert evidence_of(res, c, "checkup_attendance") == {(m4, "trigger"), (m10, "trigger"), (m18, "trigger"),
                                                        (late, "context")}
    row = res.flags[(res.flags["person_id"] == c) & (res.flags["rule_id"] == "checkup_attendance")].iloc[0]
    assert row["first_date"] == pd.Timestamp("2021-05-31") and row["last_date"] == pd.Timestamp("2022-07-31")
    # with late attendance the report's cumulative count "balances out" (4 checkups at age 4:
    # not flagged) and the history vanishes; the improved rule keeps it
    b.event(c, "checkup", "2021-07-10", subtype="4か月", value_text="attended")
    b.event(c, "checkup", "2022-01-10", subtype="10か月", value_text="attended")
    rep = run(b, shipped_ruleset("report_2023"))
    assert "checkup_attendance" not in flags_of(rep, c)
    assert "checkup_attendance" in flags_of(run(b, improved), c)


def test_move_in_is_unknown_not_missed_and_flagged_as_recent(improved):
    b = FrameBuilder()
    native = b.child("2023-01")
    mover = b.child("2023-01", resident_from="2025-02-01", moved_in=True)
    mv = b.event(mover, "move_in", "2025-02-01")
    res = run(b, improved)
    # the native child missed 4か月, 10か月, 1歳6か月 without any record; the mover's came before
    assert "checkup_attendance" in flags_of(res, native)
    assert "checkup_attendance" not in flags_of(res, mover)
    assert "vaccination" in flags_of(res, native)
    assert "vaccination" not in flags_of(res, mover)
    assert "recent_move_in" in flags_of(res, mover)
    assert evidence_of(res, mover, "recent_move_in") == {(mv, "trigger")}
    assert "recent_move_in" not in flags_of(res, native)
    # six months later a checkup that fell due while resident counts again
    later = run(b, improved, "2026-06-30")
    assert "recent_move_in" not in flags_of(later, mover)


def test_twins_are_two_children_with_their_own_evidence(improved):
    b = FrameBuilder()
    mom = b.adult("1995-04")
    t1 = b.child("2024-01", mother=mom, household_id="H1")
    t2 = b.child("2024-01", mother=mom, household_id="H1")
    e1 = b.event(t1, "checkup", "2024-05-31", subtype="4か月", value_text="missed")
    b.event(t2, "checkup", "2024-05-20", subtype="4か月", value_text="attended")
    ep = b.event(mom, "epds", "2024-03-01", value_num=15, attrs={"items": [2, 2, 2, 2, 2, 1, 1, 1, 2, 0]})
    res = run(b, improved, "2024-08-31")
    assert evidence_of(res, t1, "checkup_attendance") == {(e1, "trigger")}
    assert "checkup_attendance" not in flags_of(res, t2)
    # the mother's EPDS counts for both twins, pointing at the same row
    assert evidence_of(res, t1, "epds") == evidence_of(res, t2, "epds") == {(ep, "trigger")}
    assert "epds_self_harm" not in flags_of(res, t1)


def test_epds_item_10_surfaces_whatever_the_total(improved):
    b = FrameBuilder()
    mom = b.adult("1990-04")
    c = b.child("2024-10", mother=mom)
    b.event(mom, "epds", "2024-12-01", value_num=4, attrs={"items": [0, 0, 1, 0, 1, 0, 0, 0, 0, 2]})
    reasons = flags_of(run(b, improved), c)
    assert "epds" not in reasons
    assert "epds_self_harm" in reasons and "問10: 2" in reasons["epds_self_harm"]


def test_checkup_schedule_edge(improved):
    # 4か月 window ends at 5 months, grace 1: a missing record is "missed" only once
    # 6 months are surely reached (calendar age 7)
    b = FrameBuilder()
    c = b.child("2024-01")
    assert "checkup_attendance" not in flags_of(run(b, improved, "2024-07-31"), c)
    assert "checkup_attendance" in flags_of(run(b, improved, "2024-08-01"), c)


def test_vaccination_edge_and_catch_up(improved):
    b = FrameBuilder()
    c = b.child("2024-01")
    for i, d in enumerate(["2024-03-05", "2024-04-05", "2024-05-05"], start=1):
        for v in ("DPT-IPV-Hib", "PCV"):
            b.event(c, "vaccination", d, subtype=v, value_num=i)
        if i <= 2:
            b.event(c, "vaccination", d, subtype="HepB", value_num=i)
            b.event(c, "vaccination", d, subtype="Rota", value_num=i)
    b.event(c, "vaccination", "2024-07-01", subtype="BCG", value_num=1)
    assert "vaccination" not in flags_of(run(b, improved, "2024-10-31"), c)
    # HepB dose 3 due by 9 months + 1: overdue from calendar age 11 (2024-12)
    assert "vaccination" not in flags_of(run(b, improved, "2024-11-30"), c)
    reasons = flags_of(run(b, improved, "2024-12-01"), c)
    assert "B型肝炎 3回目 標準期間を過ぎた" in reasons["vaccination"]
    b.event(c, "vaccination", "2024-12-10", subtype="HepB", value_num=3)
    assert "vaccination" not in flags_of(run(b, improved, "2024-12-31"), c)


def test_growth_rules_against_reference(improved):
    b = FrameBuilder()
    thin = b.child("2023-01", sex="M")
    ok = b.child("2023-01", sex="M")
    for pid, weights in ((thin, (9.7, 8.0)), (ok, (9.7, 10.8))):
        for (w, date, h) in zip(weights, ("2024-01-20", "2024-07-20"), (76.5, 82.1)):
            b.event(pid, "checkup", date, subtype="1歳6か月" if date > "2024-06" else "10か月",
                    value_text="attended", source_file="kenshin.csv", source_line=len(date) + hash(pid) % 50)
            b.event(pid, "weight", date, value_num=w)
            b.event(pid, "height", date, value_num=h)
    res = run(b, improved, "2024-08-31")
    f = flags_of(res, thin)
    assert "growth" in f and "growth_trend" in f and "growth_kaup" in f
    assert not {"growth", "growth_trend", "growth_kaup"} & set(flags_of(res, ok))


def test_household_rules(improved):
    b = FrameBuilder()
    mom = b.adult("2006-05")
    c = b.child("2024-02", mother=mom, household_id="H9")
    sib = b.child("2021-02", mother=mom, household_id="H9")
    cu = b.event(sib, "custody", "2024-06-01", subtype="一時保護")
    b.event(mom, "single_parent_allowance", "2024-03-01", value_text="start")
    b.event("x", "public_assistance", "2024-04-01", value_text="start", household_id="H9")
    res = run(b, improved)
    f = flags_of(res, c)
    assert {"young_mother", "single_parent", "public_assistance", "sibling_custody"} <= set(f)
    assert evidence_of(res, c, "sibling_custody") == {(cu, "trigger")}
    assert res.restricted["sibling_custody"] == "custody"
    # the sibling itself is on the list (label), not flagged for its own custody
    assert "sibling_custody" not in flags_of(res, sib)
    assert bool(res.follow.set_index("person_id").loc[sib, "on_custody_list"])


def test_night_visit_keeps_diagnosis(improved):
    b = FrameBuilder()
    c = b.child("2023-05")
    # 未コード化傷病名 (0000999): the name is all a real receipt carries, matched by word
    inj = b.event(c, "night_visit", "2025-01-10", value_text="深夜",
                  attrs={"diagnoses": [{"code": "0000999", "name": "前額部挫創"}]})
    b.event(c, "night_visit", "2025-02-10", value_text="時間外", attrs={"diagnoses": [{"code": "4939004", "name": "気管支喘息"}]})
    # a coded diagnosis is judged by its code only (its name is not read): not on the list
    other = b.child("2023-05")
    b.event(other, "night_visit", "2025-01-10", value_text="夜間",
            attrs={"diagnoses": [{"code": "8840000", "name": "前額部挫創"}]})
    # a code on the configured list counts whatever the name
    listed = b.child("2023-05")
    b.event(listed, "night_visit", "2025-01-10", value_text="休日", attrs={"diagnoses": [{"code": "8841104", "name": ""}]})
    res = run(b, improved)
    f = flags_of(res, c)
    assert "前額部挫創" in f["night_visit"]
    assert evidence_of(res, c, "night_visit") == {(inj, "trigger")}
    assert "night_visit" not in flags_of(res, other)
    assert "night_visit" in flags_of(res, listed)


def test_report_rules_on_hand_made_children():
    rs = shipped_ruleset("report_2023")
    b = FrameBuilder()
    mom = b.adult("1990-01")
    c = b.child("2022-03", mother=mom)  # age 3 at AS_OF
    b.event(c, "checkup", "2022-07-20", subtype="4か月", value_text="attended")
    for i in range(3):
        b.event(c, "vaccination", f"2022-0{5 + i}-01", subtype="PCV", value_num=i + 1)
    b.event(c, "dental", "2024-10-01", subtype="2歳6か月", value_text="attended", value_num=2)
    b.event(c, "income_bracket", "2025-01-01", value_num=30, value_text="区オ")
    b.event(mom, "epds", "2022-04-01", value_num=12)
    b.event(mom, "guardian_checkup", "2024-04-01", value_text="有")
    b.event(c, "night_visit", "2025-01-01", value_text="深夜")  # age 2 at the visit
    f = flags_of(run(b, rs), c)
    assert set(f) == {"checkup_attendance", "vaccination", "caries", "income", "guardian_health", "night_visit"}


def test_loader_rejects_typos_and_unknown_references():
    base = '[ruleset]\nid="t"\n[[rule]]\nid="a"\nlabel="A"\nkind="events"\nevent_types=["epds"]\n'
    assert parse_ruleset(base).rules[0].weight == 1.0
    with pytest.raises(RuleSetError, match="不明な項目"):
        parse_ruleset(base + 'treshold = 3\n')
    with pytest.raises(RuleSetError, match="参照先"):
        parse_ruleset(base + '[[rule]]\nid="b"\nlabel="B"\nkind="combine"\nall=["zz"]\n')
    with pytest.raises(RuleSetError, match="op"):
        parse_ruleset(base + 'aggregate = { fn = "max", op = "=>", value = 3 }\n')


def test_new_rule_over_existing_event_type_needs_no_code():
    text = '''[ruleset]
id = "custom"
[[rule]]
id = "disability"
label = "障害者手帳"
kind = "events"
subject = "guardians"
event_types = ["disability"]
aggregate = { fn = "count", op = ">=", value = 1 }
weight = 0.7
'''
    b = FrameBuilder()
    mom = b.adult("1990-01")
    c = b.child("2023-01", mother=mom)
    e = b.event(mom, "disability", "2020-01-01", subtype="精神", value_text="2級")
    res = run(b, parse_ruleset(text))
    assert evidence_of(res, c, "disability") == {(e, "trigger")}
    assert res.scores.set_index("person_id").loc[c, "score"] == pytest.approx(0.7)
