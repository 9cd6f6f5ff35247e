"""Growth against the 令和5年 (2023) 乳幼児身体発育調査 reference.

The shipped reference (``resources/reference/growth_r5_2023.csv``; its source and what could and
could not be checked are in ``resources/reference/README.md``) gives the 3rd, 50th and 97th
percentiles of height (cm, 0.1) and weight (kg, 0.01) by sex for the survey's own age classes:
出生時, 30日 (the one-month check-up, at 0.99 months), one-month classes under 1 year and — as the
令和5年 tables publish them — six-month classes from 1 year to 6年0～6月未満. Each class's values
stand at the class **mid-point** (``age_months``); between mid-points they are interpolated
linearly, and from the last mid-point to the end of the last class (78 months) held. Beyond the
last class there is no reference: NaN (「基準なし」), never an extrapolation.
Between percentiles a two-piece normal is assumed (one spread below the median, one above, each
from the 3rd/97th percentile), which keeps the skew of weight and gives a z-score and a
percentile for any measurement. Sex unknown uses the mean of both sexes.

Ages: analysis tables carry only the birth month, so a measurement's age is known as a calendar
month count; :func:`decimal_age` turns it into the expected age in months (calendar − 0.5), the
scale the survey's classes are on.

Also: Kaup index bands by age and 幼児肥満度 (children 1–6 y, height 70–120 cm) with the
令和5年 standard-weight coefficients.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from app.resource_files import resource_path

# z of the 97th percentile: the 3rd/97th percentiles are ±1.8808 spreads from the median.
Z97 = 1.880794

# Kaup index = kg / m²; normal bands (lower, upper) by age in months [from, to].
# Source: DOMAIN_FACTS.md (infants 16–18, 1 y 15.5–17.5, 1y6m–2y 15–17, 3–5 y 14.5–16.5);
# 2 y–2y11m has no published band there and takes the 1y6m–2y band.
KAUP_BANDS = (
    (3, 11, 16.0, 18.0),
    (12, 17, 15.5, 17.5),
    (18, 35, 15.0, 17.0),
    (36, 83, 14.5, 16.5),
)

# 幼児肥満度 standard weight (kg) from height X (cm): a X² + b X + c, valid 70–120 cm.
# 令和5年乳幼児身体発育調査 (こども家庭庁 2024) 調査結果の概要 P9, as quoted with a worked example
# by 平塚市 (README names the page; the 概要 PDF itself could not be opened offline). They replace
# the 2000-data formula (♂ 0.00206X² − 0.1166X + 6.5273, ♀ 0.00249X² − 0.1858X + 9.0360).
OBESITY_STANDARD = {"M": (0.002961, -0.2900, 14.7527), "F": (0.002706, -0.2326, 11.4427)}


@lru_cache(maxsize=1)
def load_reference() -> pd.DataFrame:
    """The reference table (sex, age_months, height_p3 … weight_p97)."""
    return pd.read_csv(resource_path("reference", "growth_r5_2023.csv"))


def reference_end_months() -> float:
    """Age (months) where the reference ends: the end of its last class (6年0～6月未満 → 78)."""
    return float(load_reference()["class_to_months"].max())


def decimal_age(calendar_age) -> np.ndarray:
    """Expected age in months from a calendar-month age (birth day unknown): calendar − 0.5, ≥ 0."""
    return np.maximum(np.asarray(calendar_age, dtype=float) - 0.5, 0.0)


def _interp(sex: np.ndarray, age: np.ndarray, column: str) -> np.ndarray:
    ref = load_reference()
    end = reference_end_months()
    per_sex = {}
    for s in ("M", "F"):
        part = ref[ref["sex"] == s].sort_values("age_months")
        x = part["age_months"].to_numpy(float)
        y = part[column].to_numpy(float)
        v = np.interp(age, x, y, left=np.nan, right=y[-1])
        per_sex[s] = np.where((age > end) | np.isnan(age), np.nan, v)
    return np.where(sex == "M", per_sex["M"], np.where(sex == "F", per_sex["F"],
                                                      (per_sex["M"] + per_sex["F"]) / 2))


def z_scores(measure: str, sex, age_months, values) -> np.ndarray:
    """z-score of each measurement (``measure`` = ``height`` or ``weight``) vs the reference.

    ``age_months`` is the decimal age (see :func:`decimal_age`). NaN beyond the reference (78
    months: 「基準なし」) or for a missing value.
    """
    sex = np.asarray(pd.Series(sex).fillna("").astype(str))
    age = np.asarray(age_months, dtype=float)
    x = np.asarray(values, dtype=float)
    p3 = _interp(sex, age, f"{measure}_p3")
    p50 = _interp(sex, age, f"{measure}_p50")
    p97 = _interp(sex, age, f"{measure}_p97")
    below = (x - p50) / ((p50 - p3) / Z97)
    above = (x - p50) / ((p97 - p50) / Z97)
    return np.where(x < p50, below, above)


def percentiles(measure: str, sex, age_months, values) -> np.ndarray:
    """Reference percentile (0–100) of each measurement."""
    # scipy is imported here, not at the top: the working list imports this module through the
    # rules, and scipy.special alone costs ~0.4 s of the wait between password and list.
    from scipy.special import ndtr

    return ndtr(z_scores(measure, sex, age_months, values)) * 100.0


def kaup_index(weight_kg, height_cm) -> np.ndarray:
    """Kaup index kg/m²."""
    h = np.asarray(height_cm, dtype=float) / 100.0
    return np.asarray(weight_kg, dtype=float) / (h * h)


def kaup_band(age_months, kaup) -> np.ndarray:
    """-1 below the normal band, 0 inside, +1 above; NaN where no band applies (< 3 months)."""
    age = np.asarray(age_months, dtype=float)
    k = np.asarray(kaup, dtype=float)
    out = np.full(age.shape, np.nan)
    for lo_age, hi_age, lo, hi in KAUP_BANDS:
        m = (age >= lo_age) & (age <= hi_age) & ~np.isnan(k)
        out[m] = np.where(k[m] < lo, -1.0, np.where(k[m] > hi, 1.0, 0.0))
    return out


def obesity_degree(sex, height_cm, weight_kg, age_months) -> np.ndarray:
    """幼児肥満度 (%) = (actual − standard) / standard × 100; NaN outside 1–6 y or 70–120 cm."""
    sex = np.asarray(pd.Series(sex).fillna("").astype(str))
    h = np.asarray(height_cm, dtype=float)
    w = np.asarray(weight_kg, dtype=float)
    age = np.asarray(age_months, dtype=float)
    std = np.full(h.shape, np.nan)
    for s, (a, b, c) in OBESITY_STANDARD.items():
        m = sex == s
        std[m] = a * h[m] ** 2 + b * h[m] + c
    ok = (h >= 70) & (h <= 120) & (age >= 12) & (age < 84)
    return np.where(ok, (w - std) / std * 100.0, np.nan)
