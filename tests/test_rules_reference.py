"""Growth reference (z, percentile, Kaup, 幼児肥満度) and the vaccination schedule judgement."""

import numpy as np
import pandas as pd
import pytest

from app.engine.reference import growth, vaccination as vacc
from app.engine.rules import ages


def test_reference_percentiles_at_table_points():
    ref = growth.load_reference()
    row = ref[(ref["sex"] == "M") & (ref["age_months"] == 12)].iloc[0]
    p = growth.percentiles("weight", ["M"] * 3, [12, 12, 12], [row["weight_p3"], row["weight_p50"], row["weight_p97"]])
    assert p == pytest.approx([3, 50, 97], abs=0.05)


def test_interpolation_between_ages_and_unknown_sex():
    ref = growth.load_reference().set_index(["sex", "age_months"])
    mid = (ref.loc[("F", 12), "height_p50"] + ref.loc[("F", 18), "height_p50"]) / 2
    assert growth.z_scores("height", ["F"], [15], [mid])[0] == pytest.approx(0, abs=1e-9)
    both = (ref.loc[("M", 24), "weight_p50"] + ref.loc[("F", 24), "weight_p50"]) / 2
    assert growth.z_scores("weight", [""], [24], [both])[0] == pytest.approx(0, abs=1e-9)
    assert np.isnan(growth.z_scores("weight", ["M"], [90], [20])[0])


def test_kaup_bands_and_obesity():
    k = growth.kaup_index([10.0], [80.0])[0]
    assert k == pytest.approx(15.625)
    # 15.625 is inside 15–17 at 20 months, below 16–18 at 6 months, no band at 2 months
    assert list(growth.kaup_band([20, 6, 2], [k, k, k])[:2]) == [0, -1]
    assert np.isnan(growth.kaup_band([2], [k])[0])
    std = 0.00206 * 100 ** 2 - 0.1166 * 100 + 6.5273
    assert growth.obesity_degree(["M"], [100], [std * 1.2], [48])[0] == pytest.approx(20)
    assert np.isnan(growth.obesity_degree(["M"], [60], [6], [48])[0])


def _judge(birth_ym, doses, as_of, resident_from=None, grace=1):
    ch = pd.DataFrame({"person_id": ["c"], "birth_idx": ages.ym_index_from_text(pd.Series([birth_ym])),
                       "resident_from_idx": [ages.ym_index_of(resident_from) if resident_from else np.nan]})
    ev = pd.DataFrame([{"person_id": "c", "subtype": s, "value_num": n, "date": pd.Timestamp(d)} for s, n, d in doses],
                      columns=["person_id", "subtype", "value_num", "date"])
    return vacc.judge(ch, ev, as_of, grace_months=grace).set_index("vaccine")


def test_schedule_edge_bcg():
    # BCG due by 9 months + 1 grace: overdue only when 10 months are surely reached
    # (calendar age 11). Born 2024-01: calendar age 10 in 2024-11, 11 in 2024-12.
    assert _judge("2024-01", [], "2024-11-30").loc["BCG", "status"] == "not_due"
    assert _judge("2024-01", [], "2024-12-01").loc["BCG", "status"] == "unvaccinated"


def test_five_in_one_counts_for_hib_and_dpt():
    doses = [("DPT-IPV-Hib", i, f"2024-0{i + 3}-10") for i in (1, 2, 3)]
    j = _judge("2024-01", doses, "2024-10-15")
    assert j.loc["Hib", "status"] == "ok" and j.loc["DPT-IPV", "status"] == "ok"
    assert j.loc["Hib", "doses"] == 3


def test_behind_names_the_missing_dose():
    j = _judge("2024-01", [("HepB", 1, "2024-03-10")], "2024-07-15")
    assert j.loc["HepB", "status"] == "behind"
    assert j.loc["HepB", "missing_dose"] == 2


def test_catch_up_needs_fewer_doses():
    # PCV started at 13 months: 2 doses in total suffice
    j = _judge("2022-01", [("PCV", 1, "2023-02-10"), ("PCV", 2, "2023-05-10")], "2024-06-01")
    assert j.loc["PCV", "required"] == 2 and j.loc["PCV", "status"] == "ok"


def test_move_in_makes_earlier_doses_unknown():
    # moved in at 14 months: HepB (due by 9 m) fell due before: unknown, not unvaccinated
    j = _judge("2023-01", [], "2024-06-01", resident_from="2024-03-01")
    assert j.loc["HepB", "status"] == "unknown"
    # MR dose 1 due by 24 months (+1 grace) after the move-in: not yet due
    assert j.loc["MR", "status"] == "not_due"
    later = _judge("2023-01", [], "2025-03-01", resident_from="2024-03-01")
    assert later.loc["MR", "status"] == "unvaccinated"


def test_rota_not_routine_for_older_cohorts():
    j = _judge("2020-05", [], "2021-06-01")
    assert j.loc["Rota", "status"] == "not_due"
