"""Qt-free timeline layout: lanes, vaccine windows, growth bands, templates."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st

from app.engine import timeline_layout as tl
from app.views.timeline.sample import (BIRTH, CHILD_ID, MOTHER_ID, MOVE_IN, SIBLING_ID,
                                       sample_timeline_data)


@pytest.fixture(scope="module")
def sample():
    return sample_timeline_data(120)


@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_day_coordinates_round_trip(day):
    assert tl.date_of(tl.day_of(day)) == day
    assert tl.to_days([day])[0] == tl.day_of(day)


def test_missing_dates_become_nan():
    out = tl.to_days([pd.NaT, "2024-01-02"])
    assert np.isnan(out[0]) and out[1] == tl.day_of(dt.date(2024, 1, 2))
    assert np.isnan(tl.day_of(None))


def test_lanes_child_mode(sample):
    ev = sample.events
    lanes = tl.assign_lanes(ev, CHILD_ID, sample.members, household_mode=False)
    epds = ev["type"].to_numpy() == "epds"
    assert set(lanes[epds]) == {"guardian"}            # mother's EPDS on the child's view
    sib_birth = (ev["type"] == "birth").to_numpy() & (ev["person_id"] == SIBLING_ID).to_numpy()
    assert set(lanes[sib_birth]) == {"household"}
    sib_checkup = (ev["type"] == "checkup").to_numpy() & (ev["person_id"] == SIBLING_ID).to_numpy()
    assert sib_checkup.any() and set(lanes[sib_checkup]) == {""}  # not the child's checkups
    assert set(lanes[(ev["type"] == "height").to_numpy()]) == {""}  # series only


def test_lanes_household_mode_gives_members_their_own_lanes(sample):
    ev = sample.events
    lanes = tl.assign_lanes(ev, CHILD_ID, sample.members, household_mode=True)
    sib_checkup = (ev["type"] == "checkup").to_numpy() & (ev["person_id"] == SIBLING_ID).to_numpy()
    assert set(lanes[sib_checkup]) == {f"member:{SIBLING_ID}"}
    mother_pa = (ev["type"] == "public_assistance").to_numpy()
    assert set(lanes[mother_pa]) == {f"member:{MOTHER_ID}"}
    assert set(lanes[(ev["type"] == "epds").to_numpy()]) == {"guardian"}


def test_vaccine_windows_status(sample):
    ev = sample.events
    doses = ev[(ev["type"] == "vaccination") & (ev["person_id"] == CHILD_ID)]
    win = tl.vaccine_windows(BIRTH, doses, dt.date(2025, 3, 31), MOVE_IN)
    by = win.set_index(["vaccine", "dose"])["status"]
    assert by[("MR", 1)] == "done"
    assert by[("VZV", 2)] == "overdue"       # due by 28 m, after the move-in, never recorded
    assert by[("HepB", 1)] == "unknown"      # fell due before the move-in: not "overdue"
    # late start (after 2 years): a 1-dose catch-up series, no 2nd–4th dose to draw
    assert by[("PCV", 1)] == "unknown" and ("PCV", 2) not in by.index
    assert by[("DPT-IPV", 1)] == "done"      # implied by the recorded 4th dose (as the rule counts)
    assert by[("MR", 2)] == "future"
    # JE 1期追加: おおむね1年 after the 2nd dose (2024-07): not due yet on 2025-03-31
    assert by[("JE", 3)] == "future"
    # Without the move-in the same gap is overdue.
    assert tl.vaccine_windows(BIRTH, doses, dt.date(2025, 3, 31)).set_index(
        ["vaccine", "dose"])["status"][("HepB", 1)] == "overdue"
    assert (win["start"] < win["end"]).all()


def test_vaccine_windows_agree_with_the_vaccination_rule(sample):
    """A dose drawn overdue is one the shared schedule judges missing (same month arithmetic)."""
    from app.engine.reference.vaccination import judge
    from app.engine.rules import ages

    ev = sample.events
    doses = ev[(ev["type"] == "vaccination") & (ev["person_id"] == CHILD_ID)]
    as_of = dt.date(2025, 3, 31)
    win = tl.vaccine_windows(BIRTH, doses, as_of, MOVE_IN)
    children = pd.DataFrame({"person_id": [CHILD_ID],
                             "birth_idx": ages.ym_index_from_text(pd.Series(["2021-03"])),
                             "resident_from_idx": [ages.ym_index_of(MOVE_IN)]})
    judged = judge(children, doses, as_of).set_index("vaccine")["status"]
    for vaccine, group in win.groupby("vaccine"):
        drawn_overdue = (group["status"] == "overdue").any()
        assert drawn_overdue == (judged[vaccine] in ("unvaccinated", "behind")), vaccine


def test_vaccine_lanes_follow_the_cohort():
    lanes = {vid for vid, _name, _sat in tl.vaccine_lanes(dt.date(2021, 3, 10))}
    assert {"Hib", "PCV", "DPT-IPV", "MR", "JE", "Rota"} <= lanes
    assert "Rota" not in {vid for vid, _n, _s in tl.vaccine_lanes(dt.date(2019, 3, 10))}
    dpt = [sat for vid, _n, sat in tl.vaccine_lanes(dt.date(2024, 5, 1)) if vid == "DPT-IPV"][0]
    assert "DPT-IPV-Hib" in dpt


@pytest.mark.parametrize("birth, entry", [
    (dt.date(2019, 4, 1), dt.date(2025, 4, 1)),   # born April 1: the earlier school year
    (dt.date(2019, 4, 2), dt.date(2026, 4, 1)),
    (dt.date(2020, 1, 15), dt.date(2026, 4, 1)),
])
def test_school_entry(birth, entry):
    assert tl.school_entry(birth) == entry


@pytest.mark.parametrize("sex", ["M", "F", ""])
@pytest.mark.parametrize("measure", ["height", "weight"])
def test_growth_bands_are_ordered_and_rise(sex, measure):
    bands = tl.growth_bands(sex, BIRTH, measure)
    assert len(bands) > 5
    assert (bands["p3"] < bands["p50"]).all() and (bands["p50"] < bands["p97"]).all()
    assert bands["x"].is_monotonic_increasing and bands["p50"].is_monotonic_increasing
    assert bands["x"].iloc[0] == tl.day_of(BIRTH)


def test_kaup_index(sample):
    k = tl.kaup_series(sample.events, CHILD_ID, BIRTH)
    assert len(k) == 3
    assert k["y"].iloc[0] == pytest.approx(9.1 / 0.79 ** 2)


def test_non_resident_spans():
    child = {"moved_in": True, "resident_from": MOVE_IN, "resident_to": None}
    assert tl.non_resident_spans(child, 100.0, 30000.0) == [(100.0, tl.day_of(MOVE_IN))]
    born_here = {"moved_in": False, "resident_from": BIRTH, "resident_to": dt.date(2024, 1, 1)}
    assert tl.non_resident_spans(born_here, 100.0, 30000.0) == [(tl.day_of(dt.date(2024, 1, 1)), 30000.0)]


def test_shipped_templates_are_valid_and_must_see_cannot_be_hidden():
    templates = {t.id: t for t in tl.shipped_templates()}
    assert {"infant_visit", "before_3y_checkup", "cg_referral"} <= set(templates)
    assert {t.name for t in templates.values()} >= {"乳児訪問", "3歳児健診前", "児相照会"}
    visit = templates["infant_visit"]
    shown = visit.visible(hidden=set(visit.lanes))
    assert shown == [k for k in visit.lanes if k in visit.must_see]
    assert "custody" not in templates["infant_visit"].lanes
    assert templates["cg_referral"].roles == ["cg_manager"]


def test_template_with_unknown_lane_is_refused():
    with pytest.raises(ValueError, match="不明なレーン"):
        tl.template_from_dict({"id": "x", "name": "x", "lanes": ["checkup", "nonsense"]})
    t = tl.template_from_dict({"id": "x", "name": "x", "lanes": ["checkup"], "must_see": ["flags"]})
    assert "flags" in t.lanes  # must-see lanes are always part of the template
