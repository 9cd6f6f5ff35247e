"""Small-count suppression: primary <5, complementary so no hidden cell can be recomputed."""

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from app.engine.aggregates import (
    COMPLEMENTARY, PRIMARY, aggregate, display, suppress, suppress_hierarchy,
)


def _hier(district_towns: dict[str, list[int]]):
    towns = pd.Series([v for vs in district_towns.values() for v in vs], dtype=float)
    town_district = pd.Series([d for d, vs in district_towns.items() for _ in vs])
    districts = pd.Series({d: float(sum(vs)) for d, vs in district_towns.items()})
    return float(districts.sum()), districts, towns, town_district


def _recoverable(city, districts, towns, town_district, c_state, d_state, t_state) -> bool:
    """An attacker's integer program: for every hidden cell (a town, or a district as the sum
    of its towns), minimise and maximise it subject to everything shown ('<5' cells 0–4, 'X'
    cells ≥5). A cell is recovered when its minimum equals its maximum."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    hidden = [i for i in towns.index if t_state[i]]
    if not hidden and not any(d_state) and not c_state:
        return False
    n = len(hidden)
    big = float(towns.sum() + 100)
    lb = np.array([0.0 if t_state[i] == PRIMARY else 5.0 for i in hidden])
    ub = np.array([4.0 if t_state[i] == PRIMARY else big for i in hidden])
    rows, lo, hi = [], [], []

    def row_for(members):
        r = np.zeros(n)
        for i in members:
            if i in hidden:
                r[hidden.index(i)] = 1
        return r, float(sum(towns[i] for i in members if i not in hidden))

    for d in districts.index:
        members = list(towns.index[town_district.to_numpy() == d])
        r, known = row_for(members)
        if d_state[d] == "":
            rows.append(r)
            lo.append(districts[d] - known)
            hi.append(districts[d] - known)
        elif d_state[d] == PRIMARY:
            rows.append(r)
            lo.append(0 - known)
            hi.append(4 - known)
        else:
            rows.append(r)
            lo.append(5 - known)
            hi.append(big)
    r, known = row_for(list(towns.index))
    if c_state == "":
        rows.append(r)
        lo.append(city - known)
        hi.append(city - known)
    if n == 0:
        # Everything hidden is a district whose towns are all shown: it is their sum.
        return any(d_state[d] != "" for d in districts.index)
    cons = LinearConstraint(np.array(rows), lo, hi)
    objectives = [np.eye(n)[k] for k in range(n)]
    objectives += [row_for(list(towns.index[town_district.to_numpy() == d]))[0]
                   for d in districts.index if d_state[d] != ""]
    for c in objectives:
        if not c.any():
            return True
        lo_res = milp(c, constraints=cons, integrality=np.ones(n), bounds=Bounds(lb, ub))
        hi_res = milp(-c, constraints=cons, integrality=np.ones(n), bounds=Bounds(lb, ub))
        assert lo_res.success and hi_res.success
        if np.isclose(lo_res.fun, -hi_res.fun):
            return True
    return False


def test_primary_and_single_complementary():
    city, d, t, td = _hier({"A": [10, 3, 8], "B": [20, 12]})
    c_state, d_state, t_state = suppress_hierarchy(city, d, t, td)
    assert t_state.tolist() == [ "", PRIMARY, COMPLEMENTARY, "", ""]
    assert d_state.tolist() == ["", ""] and c_state == ""


def test_hidden_district_keeps_a_hidden_town_and_a_partner():
    city, d, t, td = _hier({"A": [2, 1], "B": [6, 7], "C": [30, 40]})
    c_state, d_state, t_state = suppress_hierarchy(city, d, t, td)
    assert d_state["A"] == PRIMARY
    assert d_state["B"] == COMPLEMENTARY     # else A = city − B − C
    assert (t_state[[2, 3]] != "").any()     # else B = 6 + 7 and A follows
    assert not _recoverable(city, d, t, td, c_state, d_state, t_state)


def test_pinned_residual_is_broken():
    # A = 8 shown, towns 4 and 4 both '<5': the residual 8 = 2 × 4 pins both to 4.
    city, d, t, td = _hier({"A": [4, 4], "B": [20, 30]})
    c_state, d_state, t_state = suppress_hierarchy(city, d, t, td)
    assert d_state["A"] != ""
    assert not _recoverable(city, d, t, td, c_state, d_state, t_state)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.integers(0, 14), min_size=1, max_size=4), min_size=2, max_size=5))
def test_no_hidden_cell_is_ever_pinned(groups):
    towns = {chr(65 + i): vs for i, vs in enumerate(groups)}
    city, d, t, td = _hier(towns)
    c_state, d_state, t_state = suppress_hierarchy(city, d, t, td)
    assert all((d[k] < 5) <= (d_state[k] != "") for k in d.index)  # every small cell is hidden
    assert all((t[i] < 5) <= (t_state[i] != "") for i in t.index)
    assert not _recoverable(city, d, t, td, c_state, d_state, t_state)


def _frames():
    # District 北 has 40 children of which 3 flagged; 南 has 12 children, 7 flagged.
    rows = [("c%03d" % i, "北", "北町1" if i < 30 else "北町2") for i in range(40)]
    rows += [("c%03d" % (100 + i), "南", "南町") for i in range(12)]
    children = pd.DataFrame(rows, columns=["person_id", "district", "town"])
    flagged = pd.DataFrame({"person_id": ["c000", "c001", "c035"] + ["c%03d" % (100 + i) for i in range(7)],
                            "target": "abuse"})
    followups = pd.DataFrame({"person_id": ["c100", "c101"], "followed": [True, True], "in_support": [True, False]})
    previous = pd.DataFrame({"person_id": ["c100", "c101", "c102", "c103", "c104"], "target": "abuse"})
    return children, flagged, followups, previous


def test_aggregate_counts_exactly():
    children, flagged, followups, previous = _frames()
    fig = aggregate(children, flagged, followups, previous)
    d = fig["district"].query("target == 'abuse'").set_index("district")
    assert d.loc["北", ["children", "flagged", "not_followed", "in_support"]].tolist() == [40, 3, 3, 0]
    assert d.loc["南", ["children", "flagged", "not_followed", "in_support"]].tolist() == [12, 7, 5, 1]
    assert d.loc["南", "flagged_prev"] == 5
    # visits: 5 not followed × 1/3 + 1 in support × 0.5
    assert np.isclose(d.loc["南", "visits"], 5 / 3 + 0.5)
    assert (fig["district"].query("target == 'postpartum'")["flagged"] == 0).all()


def test_suppressed_figures_hide_values_and_derived_rates():
    children, flagged, followups, previous = _frames()
    s = suppress(aggregate(children, flagged, followups, previous))
    d = s.district.query("target == 'abuse'").set_index("district")
    assert d.loc["北", "flagged_state"] == PRIMARY and np.isnan(d.loc["北", "flagged"])
    # With 北 hidden and the city total shown, 南 must be hidden too.
    assert d.loc["南", "flagged_state"] == COMPLEMENTARY and np.isnan(d.loc["南", "flagged"])
    assert d.loc["北", "per_1000_state"] != "" and np.isnan(d.loc["北", "per_1000"])
    assert d.loc["南", "change_state"] != ""
    assert d.loc["北", "children"] == 40 and d.loc["北", "children_state"] == ""
    city = s.city.query("target == 'abuse'").iloc[0]
    assert city["flagged"] == 10 and city["flagged_state"] == ""
    # No hidden number survives anywhere in the frames a chief receives.
    for frame in (s.district, s.town):
        for m in ("children", "flagged", "not_followed", "visits"):
            assert frame.loc[frame[m + "_state"] != "", m].isna().all()


def test_unsuppressed_for_roles_that_see_rows():
    children, flagged, followups, previous = _frames()
    s = suppress(aggregate(children, flagged, followups, previous), enabled=False)
    d = s.district.query("target == 'abuse'").set_index("district")
    assert d.loc["北", "flagged"] == 3 and d.loc["北", "per_1000"] == 75.0


def test_display_texts():
    assert display(np.nan, PRIMARY) == "<5"
    assert display(np.nan, COMPLEMENTARY) == "X"
    assert display(1234.0) == "1,234"
    assert display(3.0, "", "change") == "+3"
    assert display(12.345, "", "per_1000") == "12.3"
