"""Growth reference (z, percentile, Kaup, 幼児肥満度) and the vaccination schedule judgement."""

import numpy as np
import pandas as pd
import pytest

from app.engine.reference import growth, vaccination as vacc
from app.engine.rules import ages


# Growth: values copied BY HAND from the 令和5年乳幼児身体発育調査 表1 (体重, kg to 0.01) / 表2 (身長,
# cm to 0.1) as machine-transcribed from the e-Stat Excel files in the public source named in
# resources/reference/README.md — (sex, age class, class mid-point in months, measure, p3, p50,
# p97). Never read from our CSV. From 1 year the survey's classes are six months wide.
PUBLISHED = [
    ("M", "出生時", 0, "height", 45.2, 49.4, 52.7),
    ("M", "30日", 0.99, "weight", 3.23, 4.15, 5.04),
    ("M", "0年3～4月未満", 3.5, "weight", 5.22, 6.55, 7.84),
    ("M", "0年6～7月未満", 6.5, "height", 63.2, 67.6, 71.6),
    ("M", "0年9～10月未満", 9.5, "weight", 7.03, 8.63, 10.23),
    ("M", "0年11～12月未満", 11.5, "height", 68.4, 73.1, 77.4),
    ("M", "1年0～6月未満", 15, "height", 71.6, 76.5, 81.1),
    ("M", "1年0～6月未満", 15, "weight", 7.94, 9.66, 11.43),
    ("M", "1年6～12月未満", 21, "weight", 8.93, 10.84, 12.84),
    ("M", "2年6～12月未満", 33, "height", 84.3, 90.5, 96.6),
    ("M", "3年0～6月未満", 39, "weight", 11.38, 13.83, 16.70),
    ("M", "4年6～12月未満", 57, "height", 97.3, 104.7, 112.3),
    ("M", "5年6～12月未満", 69, "weight", 15.37, 18.74, 24.12),
    ("M", "6年0～6月未満", 75, "height", 106.3, 114.5, 123.2),
    ("F", "出生時", 0, "weight", 2.22, 2.95, 3.66),
    ("F", "30日", 0.99, "height", 48.5, 52.4, 55.7),
    ("F", "0年1～2月未満", 1.5, "height", 50.5, 54.5, 57.9),
    ("F", "0年4～5月未満", 4.5, "weight", 5.40, 6.64, 7.92),
    ("F", "0年8～9月未満", 8.5, "height", 64.3, 68.8, 73.0),
    ("F", "0年10～11月未満", 10.5, "weight", 6.85, 8.36, 10.01),
    ("F", "1年0～6月未満", 15, "height", 70.3, 75.3, 80.0),
    ("F", "1年6～12月未満", 21, "weight", 8.50, 10.30, 12.43),
    ("F", "2年0～6月未満", 27, "weight", 9.52, 11.50, 13.92),
    ("F", "3年6～12月未満", 45, "height", 89.9, 96.7, 103.6),
    ("F", "4年0～6月未満", 51, "weight", 12.51, 15.21, 19.10),
    ("F", "5年0～6月未満", 63, "height", 99.6, 107.5, 115.7),
    ("F", "6年0～6月未満", 75, "weight", 15.52, 19.53, 27.01),
]


@pytest.mark.parametrize("sex,label,mid,measure,p3,p50,p97", PUBLISHED)
def test_published_percentiles_at_class_mid_points(sex, label, mid, measure, p3, p50, p97):
    p = growth.percentiles(measure, [sex] * 3, [mid] * 3, [p3, p50, p97])
    assert p == pytest.approx([3, 50, 97], abs=0.05), label


def test_twelve_months_is_not_the_one_year_class():
    # the 1年0～6月未満 class (76.5 cm boys / 75.3 girls) stands at its mid-point, 15 months: at
    # 12 months the median lies between 0年11～12月未満 (73.1 / 71.9) and that class
    m12 = growth.z_scores("height", ["M"], [12.0], [76.5])[0]
    assert m12 > 0.5  # 76.5 cm is above the median at 12 months, not on it
    med = 73.1 + (76.5 - 73.1) * (12.0 - 11.5) / (15 - 11.5)
    assert growth.z_scores("height", ["M"], [12.0], [med])[0] == pytest.approx(0, abs=1e-9)
    both = (11.95 + 11.50) / 2  # 2年0～6月未満 weight p50: boys 11.95, girls 11.50 (unknown sex = mean)
    assert growth.z_scores("weight", [""], [27], [both])[0] == pytest.approx(0, abs=1e-9)


def test_one_year_medians_of_the_monthly_classes_read_as_ordinary():
    # 令和5年 has no one-month classes after 12 months; the 1年0～1月未満 medians quoted for the
    # survey before it (身長 boys 74.8 cm, girls 73.4 cm) must read as ordinary children at
    # 12.5 months (the class mid-point) on our reference, not as tall ones
    z = growth.z_scores("height", ["M", "F"], [12.5, 12.5], [74.8, 73.4])
    assert np.all(np.abs(z) < 0.5)
    # the first month after birth: 30日 class (boys 53.4 cm, 4.15 kg) sits at 30 days, 0.99 months
    assert growth.z_scores("height", ["M"], [0.99], [53.4])[0] == pytest.approx(0, abs=1e-9)
    assert growth.percentiles("weight", ["M"], [0.99], [4.15])[0] == pytest.approx(50, abs=1e-6)


def test_no_reference_after_the_last_class():
    # 6年0～6月未満 is the last class: held to 78 months, 「基準なし」 (NaN) after
    assert growth.z_scores("height", ["F"], [77.9], [114.1])[0] == pytest.approx(0, abs=1e-9)
    assert np.isnan(growth.z_scores("height", ["F"], [78.5], [114.1])[0])
    assert growth.reference_end_months() == 78
    # calendar age 6 y 5 m (77) is an expected age of 76.5 months: still judged
    assert growth.decimal_age([77, 0])[0] == 76.5 and growth.decimal_age([0])[0] == 0


def test_kaup_bands_and_obesity():
    k = growth.kaup_index([10.0], [80.0])[0]
    assert k == pytest.approx(15.625)
    # 15.625 is inside 15–17 at 20 months, below 16–18 at 6 months, no band at 2 months
    assert list(growth.kaup_band([20, 6, 2], [k, k, k])[:2]) == [0, -1]
    assert np.isnan(growth.kaup_band([2], [k])[0])
    # 令和5年 standard weight, worked by hand: boy 100 cm 0.002961·100² − 0.2900·100 + 14.7527
    # = 15.3627 kg; girl 100 cm 27.06 − 23.26 + 11.4427 = 15.2427 kg
    assert growth.obesity_degree(["M"], [100], [15.3627 * 1.2], [48])[0] == pytest.approx(20, abs=1e-6)
    assert growth.obesity_degree(["F"], [100], [15.2427], [48])[0] == pytest.approx(0, abs=1e-6)
    # boy 110 cm: 35.8281 − 31.9 + 14.7527 = 18.6808 kg; 15 % over is "ふとりぎみ" (+15 %)
    assert growth.obesity_degree(["M"], [110], [18.6808 * 1.15], [60])[0] == pytest.approx(15, abs=1e-6)
    assert np.isnan(growth.obesity_degree(["M"], [60], [6], [48])[0])
    # the worked example published with the 令和5年 coefficients (平塚市「肥満度を求めてみましょう
    # (幼児編)」, citing 調査結果の概要 P9): girl, 3 y, 92 cm, 13 kg → standard 12.947084 kg, 0.4087 %
    assert growth.obesity_degree(["F"], [92], [13], [40])[0] == pytest.approx(0.4087, abs=5e-5)


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
    more, _ = vacc.vaccine_code(pd.Series(["第1期 日本脳炎", "ＤＰＴ－ＩＰＶ", "肺炎球菌（13価）", "小児の肺炎球菌感染症",
                                           "ＢＣＧワクチン", "麻しん・風しん混合ワクチン"]))
    assert more.tolist() == ["JE", "DPT-IPV", "PCV", "PCV", "BCG", "MR"]
    codes, reasons = vacc.vaccine_code(names)
    assert codes.tolist()[:12] == ["PCV", "Rota", "MR", "DPT-IPV-Hib", "BCG", "HepB", "Hib", "DPT-IPV",
                                   "VZV", "JE", "MR", "Hib"]
    assert pd.isna(codes.iloc[12]) and "インフルエンザ" in reasons.iloc[12] and reasons.iloc[0] == ""
