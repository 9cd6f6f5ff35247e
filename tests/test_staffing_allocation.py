"""The allocation method on hand-made numbers (largest remainder, minimum, seniors, load)."""

import numpy as np
import pandas as pd
import pytest

from app.engine.staffing import deal_seniors, largest_remainder, load, propose


def test_largest_remainder_textbook_example():
    # Quotas 10 × (45, 35, 20)/100 = 4.5, 3.5, 2.0 → floors 4, 3, 2, one seat left:
    # tie on remainder .5 goes to the larger weight (45).
    assert largest_remainder([45, 35, 20], 10).tolist() == [5, 3, 2]


def test_largest_remainder_uses_remainders_not_order():
    # Quotas 7 × (10, 25, 65)/100 = 0.7, 1.75, 4.55 → floors 0, 1, 4; 2 left to .75 and .7.
    assert largest_remainder([10, 25, 65], 7).tolist() == [1, 2, 4]


@pytest.mark.parametrize("seats", [0, 1, 5, 13, 40])
def test_largest_remainder_always_sums_and_stays_within_one_of_quota(seats):
    w = np.array([3.2, 0.0, 11.7, 5.5, 9.9])
    got = largest_remainder(w, seats)
    assert got.sum() == seats
    assert np.all(np.abs(got - seats * w / w.sum()) < 1)


def test_load_handles_no_nurse():
    assert load([10, 0, 6], [2, 0, 0]).tolist() == [5.0, 0.0, np.inf]


def test_minimum_takes_from_where_load_stays_lowest():
    d = pd.DataFrame({
        "district": ["A", "B", "C", "D"],
        "visits": [40.0, 30.0, 2.0, 8.0],
        "children": [1000, 1000, 1000, 1000],
        "not_followed": [10, 5, 1, 2],
        "nurses": [2, 2, 2, 2],
        "seniors": [1, 1, 0, 0],
    })
    p = propose(d, minimum=1)
    # Hamilton: 8 × (40, 30, 2, 8)/80 = 4, 3, 0.2, 0.8 → 4, 3, 0, 1; C needs one: giving one
    # up leaves A at 40/3 = 13.3 and B at 30/2 = 15, D at ∞ → A gives.
    assert p.table["nurses_after"].tolist() == [3, 3, 1, 1]
    assert p.table["nurses_after"].sum() == 8
    assert p.table["load_before"].tolist() == [20.0, 15.0, 1.0, 4.0]
    assert p.table["load_after"].round(2).tolist() == [13.33, 10.0, 2.0, 8.0]
    s = p.summary()
    assert s["before"]["max"] == 20.0 and s["after"]["max"] == 13.333333333333334


def test_seniors_go_to_highest_need_per_1000():
    d = pd.DataFrame({
        "district": ["A", "B", "C"],
        "visits": [10.0, 10.0, 10.0],
        "children": [2000, 500, 1000],
        "not_followed": [20, 10, 5],   # 10, 20 and 5 per 1,000
        "nurses": [2, 2, 2],
        "seniors": [2, 1, 0],
    })
    p = propose(d)
    assert p.table["need_rank"].tolist() == [2, 1, 3]
    # Three seniors: one each to B, A, C in that order.
    assert p.table["seniors_after"].tolist() == [1, 1, 1]
    p2 = propose(d, total_seniors=4)
    assert p2.table["seniors_after"].tolist() == [1, 2, 1]


def test_seniors_never_exceed_nurses_in_a_district():
    assert deal_seniors(np.array([0, 1]), np.array([1, 3]), 4).tolist() == [1, 3]
    assert deal_seniors(np.array([0, 1]), np.array([1, 1]), 5).tolist() == [1, 1]


def test_minimum_lowered_when_not_enough_nurses():
    d = pd.DataFrame({"district": ["A", "B", "C"], "visits": [5.0, 1.0, 1.0], "children": [1, 1, 1],
                      "not_followed": [0, 0, 0], "nurses": [1, 1, 0], "seniors": [0, 0, 0]})
    p = propose(d, minimum=1)
    assert p.minimum == 0
    assert p.table["nurses_after"].tolist() == [2, 0, 0]
