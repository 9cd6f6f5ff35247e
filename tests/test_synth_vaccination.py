"""The generator's vaccination histories are plausible: in a 3,000-child city no dose is after
the vaccination extract's date, earlier than the dose before it, or closer to it than the
schedule's minimum interval (厚生労働省「定期接種実施要領」: 27 days Hib/PCV, 20 days 4種/5種混合 …)."""

import datetime as dt

import pandas as pd

from app.engine.synth import schedules
from app.engine.synth.world import build_world
from app.engine.synth.writers import STYLES


def test_three_thousand_children_have_no_implausible_dose():
    world = build_world(3000, 7, dt.date(2025, 3, 31))
    extract_day = world.asof - STYLES["yobo"].lag_days
    vac = world.vaccines
    assert len(vac) > 20000
    bad = schedules.vaccination_violations(vac, extract_day)
    assert len(bad) == 0, bad["problem"].value_counts().to_dict()
    # the checker itself finds each kind of problem (it is not a test that cannot fail)
    broken = pd.DataFrame({"pid": ["a", "a", "b", "b", "c"], "vaccine": ["Hib", "Hib", "PCV", "PCV", "BCG"],
                           "dose": [1, 2, 1, 2, 1], "date": [100, 110, 200, 150, extract_day + 1]})
    assert sorted(schedules.vaccination_violations(broken, extract_day)["problem"]) == [
        "after the extract date", "earlier than the dose before", "under the minimum interval"]


def test_doses_keep_the_series_order_and_minimum_ages():
    world = build_world(1500, 11, dt.date(2025, 3, 31))
    vac = world.vaccines.merge(world.persons[["pid", "birth"]], on="pid")
    age = vac["date"] - vac["birth"]
    assert (age[vac["vaccine"] == "MR"] >= 365).all()
    pcv4 = vac[(vac["vaccine"] == "小児肺炎球菌") & (vac["dose"] == 4)]
    assert (pcv4["date"] - pcv4["birth"] >= 365).all()
    # every recorded dose k > 1 of a child born here has its dose k − 1 recorded too
    born_here = vac.groupby(["pid", "vaccine"])["dose"].agg(["min", "max", "count"])
    complete = born_here[born_here["min"] == 1]
    assert (complete["max"] == complete["count"]).mean() > 0.95
