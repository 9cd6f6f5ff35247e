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


# Vaccination: cases worked out by hand from 厚生労働省「定期接種実施要領」(標準的な接種期間) and
# the NIID schedule, never from our TOML. Ages are calendar months (birth day unknown) and the
# rules' grace is 1 month: a window ending at "生後N月に至るまで" is late from calendar age N + 2.

def test_four_month_old_without_doses_is_inside_the_start_window():
    j = _judge("2024-11", [], "2025-03-15")  # calendar age 4
    for v in ("PCV", "DPT-IPV", "HepB"):
        assert j.loc[v, "status"] == "reminder", v   # 推奨 2 か月 passed; 標準 until 7 (HepB 9)
    assert j.loc["BCG", "status"] == "not_due"       # 標準 5–8 か月
    assert j.loc["Hib", "status"] == "not_due"       # born 2024-11: 5種混合, judged as DPT-IPV


def test_start_window_ends_at_seven_months():
    # 初回接種開始 生後2月〜7月に至るまで: no first dose, calendar age 8 (surely 7) is still in
    # the grace month; calendar age 9 is late
    assert _judge("2024-07", [], "2025-03-15").loc["DPT-IPV", "status"] == "reminder"
    assert _judge("2024-06", [], "2025-03-15").loc["DPT-IPV", "status"] == "unvaccinated"


ON_SCHEDULE = [  # born 2023-01, every dose at the NIID recommended age
    ("Hib", 1, "2023-03-10"), ("Hib", 2, "2023-04-10"), ("Hib", 3, "2023-05-10"), ("Hib", 4, "2024-01-20"),
    ("DPT-IPV", 1, "2023-03-10"), ("DPT-IPV", 2, "2023-04-10"), ("DPT-IPV", 3, "2023-05-10"),
    ("DPT-IPV", 4, "2024-05-20"),
    ("PCV", 1, "2023-03-10"), ("PCV", 2, "2023-04-10"), ("PCV", 3, "2023-05-10"), ("PCV", 4, "2024-01-20"),
    ("HepB", 1, "2023-03-10"), ("HepB", 2, "2023-04-10"), ("HepB", 3, "2023-08-10"),
    ("Rota", 1, "2023-03-10"), ("Rota", 2, "2023-04-10"), ("BCG", 1, "2023-06-15"),
    ("MR", 1, "2024-01-20"), ("VZV", 1, "2024-01-20"), ("VZV", 2, "2024-08-20"),
]


def test_child_vaccinated_on_schedule_is_never_late():
    for as_of in ("2023-06-30", "2023-12-31", "2024-06-30", "2025-03-31"):
        doses = [d for d in ON_SCHEDULE if d[2] <= as_of]
        j = _judge("2023-01", doses, as_of)
        assert not j["status"].isin(["unvaccinated", "behind"]).any(), (as_of, j[j["status"].isin(["unvaccinated", "behind"])])


def test_dpt_ipv_booster_is_six_to_eighteen_months_after_the_third_dose():
    primary = [("DPT-IPV-Hib", i, d) for i, d in ((1, "2024-04-10"), (2, "2024-05-10"), (3, "2024-06-10"))]
    # 17 months after dose 3 (2025-11): inside 6–18 months, not late although the child is 21 months
    j = _judge("2024-02", primary, "2025-11-15")
    assert j.loc["DPT-IPV", "status"] == "reminder"
    assert _judge("2024-02", primary + [("DPT-IPV-Hib", 4, "2025-11-20")], "2025-12-31").loc["DPT-IPV", "status"] == "ok"
    # 20 months after dose 3 with no booster: 標準期間を過ぎた
    late = _judge("2024-02", primary, "2026-02-15")
    assert late.loc["DPT-IPV", "status"] == "behind" and late.loc["DPT-IPV", "missing_dose"] == 4


def test_pcv_booster_twelve_to_fifteen_months():
    primary = [("PCV", i, d) for i, d in ((1, "2023-08-10"), (2, "2023-09-10"), (3, "2023-10-10"))]
    assert _judge("2023-06", primary, "2024-10-15").loc["PCV", "status"] == "reminder"  # calendar 16
    assert _judge("2023-06", primary, "2024-11-15").loc["PCV", "status"] == "behind"    # calendar 17


def test_catch_up_series_follow_the_age_at_the_first_dose():
    # PCV started at 13 months: 2 doses in total (1歳〜2歳開始)
    j = _judge("2022-01", [("PCV", 1, "2023-02-10"), ("PCV", 2, "2023-05-10")], "2024-06-01")
    assert j.loc["PCV", "required"] == 2 and j.loc["PCV", "status"] == "ok"
    # PCV started at 25 months: 1 dose (2歳〜5歳開始)
    assert _judge("2021-01", [("PCV", 1, "2023-02-10")], "2024-06-01").loc["PCV", "status"] == "ok"
    # Hib started at 8 months: 2 primary + booster 7–13 months later (3 in total)
    hib = [("Hib", 1, "2023-09-10"), ("Hib", 2, "2023-10-10")]
    j = _judge("2023-01", hib, "2024-08-15")
    assert j.loc["Hib", "required"] == 3 and j.loc["Hib", "status"] == "reminder"
    assert _judge("2023-01", hib, "2025-01-15").loc["Hib", "status"] == "behind"


def test_late_children():
    # BCG 標準 生後5月〜8月に至るまで: late from calendar age 10
    assert _judge("2024-01", [], "2024-10-31").loc["BCG", "status"] == "reminder"
    assert _judge("2024-01", [], "2024-11-01").loc["BCG", "status"] == "unvaccinated"
    # Rota first dose by 14週6日 (3か月)
    assert _judge("2024-01", [], "2024-06-01").loc["Rota", "status"] == "unvaccinated"
    # HepB second dose missing at calendar 11 (標準 until 9)
    j = _judge("2024-01", [("HepB", 1, "2024-03-10")], "2024-12-15")
    assert j.loc["HepB", "status"] == "behind" and j.loc["HepB", "missing_dose"] == 2
    # MR 2期: by the March before school entry (born 2018-06 → school 2025-04)
    mr1 = [("MR", 1, "2019-06-20")]
    assert _judge("2018-06", mr1, "2025-03-31").loc["MR", "status"] == "reminder"
    assert _judge("2018-06", mr1, "2025-05-01").loc["MR", "status"] == "behind"


def test_five_in_one_counts_for_hib_and_dpt():
    doses = [("DPT-IPV-Hib", i, f"2024-0{i + 3}-10") for i in (1, 2, 3)]
    j = _judge("2024-02", doses, "2024-10-15")
    assert j.loc["DPT-IPV", "status"] == "ok" and j.loc["DPT-IPV", "doses"] == 3
    assert j.loc["Hib", "status"] == "not_due"  # judged once, with the 5種混合 booster interval


def test_move_in_makes_earlier_doses_unknown():
    # moved in at 14 months: HepB (標準 until 9 m) fell due before: unknown, not unvaccinated
    j = _judge("2023-01", [], "2024-06-01", resident_from="2024-03-01")
    assert j.loc["HepB", "status"] == "unknown"
    # MR 1期 ends at 24 months: after the move-in, a reminder now, late from calendar age 26
    assert j.loc["MR", "status"] == "reminder"
    later = _judge("2023-01", [], "2025-03-01", resident_from="2024-03-01")
    assert later.loc["MR", "status"] == "unvaccinated"


def test_rota_not_routine_for_older_cohorts():
    j = _judge("2020-05", [], "2021-06-01")
    assert j.loc["Rota", "status"] == "not_due"


def test_official_vaccine_names_map_through_the_vocabulary():
    names = pd.Series(["小児用肺炎球菌", "ロタウイルス", "麻しん風しん混合", "五種混合", "ＢＣＧ", "Ｂ型肝炎",
                       "Ｈｉｂ", "四種混合", "水痘", "日本脳炎", "麻しん風しん混合 2期", "ヒブワクチン",
                       "インフルエンザ"])
    codes, reasons = vacc.vaccine_code(names)
    assert codes.tolist()[:12] == ["PCV", "Rota", "MR", "DPT-IPV-Hib", "BCG", "HepB", "Hib", "DPT-IPV",
                                   "VZV", "JE", "MR", "Hib"]
    assert pd.isna(codes.iloc[12]) and "インフルエンザ" in reasons.iloc[12] and reasons.iloc[0] == ""
