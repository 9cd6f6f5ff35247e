"""Routine schedules (DOMAIN_FACTS.md) turned into clean per-child event frames:
vaccine doses, health checkups with growth measurements, dental checkups.

Household risk ``z`` lowers attendance, delays doses, shifts growth to the extremes and raises
caries; each effect is noisy. Records exist only while the child lives in the city.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.engine.synth.population import sigmoid
from app.resource_files import resource_path

D5_START = np.datetime64("2024-04-01").astype("datetime64[D]").astype(np.int64)
ROTA_START = np.datetime64("2020-08-01").astype("datetime64[D]").astype(np.int64)

# (vaccine, dose, target age in days, base miss probability, minimum days after the previous
# dose of the series, minimum age in days). 5種混合 replaces 4種混合+Hib for children whose first
# dose falls on or after 2024-04-01. Minimum intervals from 厚生労働省「定期接種実施要領」:
# Hib/PCV primary 27 days; 4種/5種混合 primary 20 days, booster 6 months after dose 3; Hib
# booster 7 months after dose 3; PCV booster 60 days after dose 3 and from 12 months of age;
# HepB 27 days (3rd dose 139 days after the 1st, here ≥112 after the 2nd); Rota 27 days;
# MR 2期 from the 年長 year (age ≥ 5 y); 水痘 3 months; 日本脳炎 6 days, 1期追加 6 months.
VACCINES = [
    ("Hib", 1, 61, .02, 0, 56), ("Hib", 2, 92, .02, 27, 0), ("Hib", 3, 122, .03, 27, 0),
    ("Hib", 4, 395, .07, 213, 0),
    ("4種混合", 1, 61, .02, 0, 56), ("4種混合", 2, 92, .02, 20, 0), ("4種混合", 3, 122, .03, 20, 0),
    ("4種混合", 4, 480, .08, 183, 0),
    ("5種混合", 1, 61, .02, 0, 56), ("5種混合", 2, 92, .02, 20, 0), ("5種混合", 3, 122, .03, 20, 0),
    ("5種混合", 4, 480, .08, 183, 0),
    ("小児肺炎球菌", 1, 61, .02, 0, 56), ("小児肺炎球菌", 2, 92, .02, 27, 0),
    ("小児肺炎球菌", 3, 122, .03, 27, 0), ("小児肺炎球菌", 4, 395, .07, 60, 365),
    ("B型肝炎", 1, 61, .03, 0, 0), ("B型肝炎", 2, 92, .03, 27, 0), ("B型肝炎", 3, 228, .06, 112, 0),
    ("ロタ", 1, 61, .05, 0, 42), ("ロタ", 2, 92, .03, 27, 0), ("ロタ", 3, 122, .02, 27, 0),
    ("BCG", 1, 170, .03, 0, 0), ("MR", 1, 372, .04, 0, 365), ("MR", 2, 2070, .07, 0, 1826),
    ("水痘", 1, 380, .06, 0, 365), ("水痘", 2, 560, .08, 90, 0),
    ("日本脳炎", 1, 1100, .18, 0, 183), ("日本脳炎", 2, 1130, .05, 6, 0), ("日本脳炎", 3, 1470, .08, 183, 0),
]
# The name a health-management system prints for each vaccine: the short name or the official
# one (resources/reference/vaccine_names.toml reads both), chosen per record.
PRINTED_NAMES = {"小児肺炎球菌": ("小児肺炎球菌", "小児用肺炎球菌"), "ロタ": ("ロタ", "ロタウイルス"),
                 "MR": ("MR", "麻しん風しん混合"), "5種混合": ("5種混合", "五種混合"),
                 "4種混合": ("4種混合", "四種混合"), "BCG": ("BCG", "ＢＣＧ"), "B型肝炎": ("B型肝炎", "Ｂ型肝炎")}

CHECKUPS = [("4か月", 4), ("10か月", 10), ("1歳6か月", 18), ("3歳", 40)]
DENTAL = [("1歳6か月", 18), ("2歳6か月", 30), ("3歳", 40)]


def _months(days: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last day (int days) of the month ``offset`` months after the given days."""
    m = days.astype("datetime64[D]").astype("datetime64[M]") + offset
    start = m.astype("datetime64[D]").astype(np.int64)
    end = (m + 1).astype("datetime64[D]").astype(np.int64) - 1
    return start, end


def _resident(kids: pd.DataFrame, idx: np.ndarray, day: np.ndarray, asof: int) -> np.ndarray:
    """Whether child row ``idx`` lived in the city on ``day``."""
    rf = kids["resident_from"].to_numpy()[idx]
    rt = kids["resident_to"].to_numpy()[idx]
    gone = kids["gone_date"].to_numpy()[idx]
    back = kids["back_date"].to_numpy()[idx]
    ok = (day >= rf) & (day <= asof) & ((rt < 0) | (day < rt))
    return ok & ~((gone >= 0) & (day >= gone) & (day < back))


def vaccinations(rng, kids: pd.DataFrame, asof: int) -> pd.DataFrame:
    """One row per recorded dose: pid, vaccine, dose, date (``asof`` = the extract date).

    Plausible as a real system holds them: the doses of a series are in order, each at least the
    schedule's minimum interval after the one before (and from its minimum age), none after the
    extract date; a series stops at the first missed dose, and doses given while the child lived
    elsewhere are not in the city's records.
    """
    n = len(kids)
    z = kids["risk"].to_numpy()
    birth = kids["birth"].to_numpy()
    hesitant = rng.random(n) < sigmoid(-4.6 + 0.7 * z)
    pace = 8 + 25 * np.clip(z, 0, None) + rng.gamma(2.0, 5.0, n)  # mean delay in days
    frames = []
    vac_names = sorted({v for v, *_ in VACCINES})
    u_series = {v: rng.random(n) for v in vac_names}
    three_rota = rng.random(n) < 0.4
    prev_date = {}  # vaccine -> date of the previous dose per child (-1: none, never given)
    keep_prob = {}  # vaccine -> probability that the series reached this dose
    for vac, dose, target, p_miss, min_gap, min_age in VACCINES:
        due = birth + target
        new_era = (birth + 61) >= D5_START
        if vac in ("Hib", "4種混合"):
            elig = ~new_era
        elif vac == "5種混合":
            elig = new_era
        elif vac == "ロタ":
            elig = (birth >= ROTA_START) & ((dose < 3) | three_rota)
        else:
            elig = np.ones(n, bool)
        p = sigmoid(np.log(p_miss / (1 - p_miss)) + 0.55 * z)
        # A series stops at the first missed dose: dose k is taken while u < Π_{j≤k} (1 − p_j)
        # (each dose's own miss probability, so a 4-dose series is not missed 4 × as often)
        keep = keep_prob.get(vac, np.ones(n)) * (1 - p)
        keep_prob[vac] = keep
        taken = elig & ~hesitant & (u_series[vac] < keep)
        date = due + (rng.exponential(1.0, n) * pace).astype(np.int64)
        date = np.maximum(date, birth + min_age)
        prev = prev_date.get(vac, np.full(n, -1, dtype=np.int64))
        if dose > 1:
            # the previous dose must exist (in order) and this one respects its minimum interval
            taken &= prev >= 0
            date = np.where(prev >= 0, np.maximum(date, prev + min_gap), date)
        taken &= date <= asof
        given = np.where(taken, date, -1)
        prev_date[vac] = given
        idx = np.flatnonzero(taken)
        # a dose given while the child lived elsewhere is not in the city's records (the series
        # still went on: later doses keep their real dates)
        ok = _resident(kids, idx, date[idx], asof)
        idx = idx[ok]
        frames.append(pd.DataFrame({"pid": kids["pid"].to_numpy()[idx], "vaccine": vac, "dose": dose,
                                    "date": date[idx]}))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["pid", "date", "vaccine", "dose"], kind="stable").reset_index(drop=True)


MIN_GAP_DAYS = {(v, d): g for v, d, _t, _p, g, _a in VACCINES}


def vaccination_violations(vac: pd.DataFrame, extract_day: int) -> pd.DataFrame:
    """Doses a real system would never hold: after the extract date, out of order, or closer to
    the previous recorded dose of the same vaccine than the schedule's minimum interval."""
    v = vac.sort_values(["pid", "vaccine", "dose"], kind="stable").reset_index(drop=True)
    same = (v["pid"] == v["pid"].shift()) & (v["vaccine"] == v["vaccine"].shift())
    gap = v["date"] - v["date"].shift()
    prev_dose = v["dose"].shift()
    consecutive = same & (v["dose"] == prev_dose + 1)
    min_gap = pd.Series([MIN_GAP_DAYS.get((a, int(b)), 0) for a, b in zip(v["vaccine"], v["dose"])], index=v.index)
    why = np.select([v["date"] > extract_day, same & (gap < 0), same & (gap == 0) & (v["dose"] != prev_dose),
                     consecutive & (gap < min_gap)],
                    ["after the extract date", "earlier than the dose before", "same day as the dose before",
                     "under the minimum interval"], default="")
    return v.assign(problem=why)[why != ""]


def growth_reference() -> pd.DataFrame:
    """The 2023 growth reference (p3/p50/p97 of height and weight by sex and month)."""
    return pd.read_csv(resource_path("reference", "growth_r5_2023.csv"), encoding="utf-8")


def value_from_z(ref: pd.DataFrame, sex: np.ndarray, months: np.ndarray, z: np.ndarray, what: str):
    """Measurement with reference z-score ``z`` (skewed: p3–p50 and p50–p97 scaled apart)."""
    out = np.empty(len(z))
    for s in ("M", "F"):
        r = ref[ref["sex"] == s]
        m = sex == s
        p3 = np.interp(months[m], r["age_months"], r[f"{what}_p3"])
        p50 = np.interp(months[m], r["age_months"], r[f"{what}_p50"])
        p97 = np.interp(months[m], r["age_months"], r[f"{what}_p97"])
        zz = z[m]
        out[m] = np.where(zz < 0, p50 + zz / 1.8808 * (p50 - p3), p50 + zz / 1.8808 * (p97 - p50))
    return out


def z_from_value(ref: pd.DataFrame, sex: np.ndarray, months: np.ndarray, v: np.ndarray, what: str):
    """Inverse of :func:`value_from_z` (used by the calibration to read percentiles)."""
    out = np.empty(len(v))
    for s in ("M", "F"):
        r = ref[ref["sex"] == s]
        m = sex == s
        p3 = np.interp(months[m], r["age_months"], r[f"{what}_p3"])
        p50 = np.interp(months[m], r["age_months"], r[f"{what}_p50"])
        p97 = np.interp(months[m], r["age_months"], r[f"{what}_p97"])
        vv = v[m]
        out[m] = np.where(vv < p50, (vv - p50) / (p50 - p3) * 1.8808, (vv - p50) / (p97 - p50) * 1.8808)
    return out


FINDINGS = np.array(["体重増加不良", "言語発達遅滞の疑い", "湿疹", "斜視の疑い", "肥満傾向", "発達の遅れの疑い",
                     "心雑音", "股関節開排制限"])


def checkups(rng, kids: pd.DataFrame, asof: int, tune: dict) -> pd.DataFrame:
    """Invited checkups: pid, kind, target_start, attended, date, height, weight, judgement, findings."""
    n = len(kids)
    z = kids["risk"].to_numpy()
    birth = kids["birth"].to_numpy()
    sex = kids["sex"].to_numpy()
    ref = growth_reference()
    person_noise = rng.normal(0, 0.8, n)
    zw0 = rng.standard_normal(n)  # each child's own growth channel (tracks between checkups)
    zh0 = 0.5 * zw0 + 0.87 * rng.standard_normal(n)
    frames = []
    for kind, off in CHECKUPS:
        ts, te = _months(birth, off)
        idx = np.flatnonzero((te <= asof))
        idx = idx[_resident(kids, idx, ts[idx], asof)]
        zi = z[idx]
        base = tune["checkup_base"][kind]
        p = sigmoid(base - tune["checkup_slope"] * zi + person_noise[idx])
        att = rng.random(len(idx)) < p
        late = rng.random(len(idx)) < 0.15
        date = ts[idx] + rng.integers(0, 28, len(idx)) + np.where(late, rng.integers(30, 90, len(idx)), 0)
        att &= date <= asof
        months = (date - birth[idx]) / 30.4375
        # Risk pushes infants light and toddlers heavy, only a little.
        shift = np.where(off <= 10, -1.0, 1.0) * tune["growth_shift"] * np.clip(zi, 0, None)
        # Toddlers are weighed in their clothes at group checkups: a small upward offset.
        shift = shift + (tune["toddler_weight_offset"] if off >= 18 else 0.0)
        tr = tune["growth_tracking"]
        zw = tr * zw0[idx] + np.sqrt(1 - tr * tr) * rng.standard_normal(len(idx)) + shift
        zh = 0.8 * zh0[idx] + 0.6 * rng.standard_normal(len(idx))
        w = np.round(value_from_z(ref, sex[idx], months, zw, "weight"), 2)
        h = np.round(value_from_z(ref, sex[idx], months, zh, "height"), 1)
        judge_u = rng.random(len(idx)) - 0.03 * np.clip(zi, 0, None)
        judgement = np.select([judge_u < 0.02, judge_u < 0.08, judge_u < 0.22], ["要医療", "要精密", "要観察"], "異常なし")
        findings = np.where(judgement == "異常なし", "", FINDINGS[rng.integers(0, len(FINDINGS), len(idx))])
        frames.append(pd.DataFrame({
            "pid": kids["pid"].to_numpy()[idx], "kind": kind, "target_start": ts[idx], "attended": att,
            "date": np.where(att, date, -1), "height": np.where(att, h, np.nan),
            "weight": np.where(att, w, np.nan), "judgement": np.where(att, judgement, ""),
            "findings": np.where(att, findings, ""), "age_months": months, "sex": sex[idx],
        }))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["pid", "target_start"], kind="stable").reset_index(drop=True)


def dental(rng, kids: pd.DataFrame, asof: int, tune: dict) -> pd.DataFrame:
    """Dental checkups: pid, kind, target_start, attended, date, caries, judgement."""
    n = len(kids)
    z = kids["risk"].to_numpy()
    birth = kids["birth"].to_numpy()
    own_dentist = rng.normal(0, 1.0, n)  # families who use their own dentist skip the city's
    frames = []
    for kind, off in DENTAL:
        ts, te = _months(birth, off)
        idx = np.flatnonzero(te <= asof)
        idx = idx[_resident(kids, idx, ts[idx], asof)]
        zi = z[idx]
        p = sigmoid(tune["dental_base"][kind] - tune["dental_slope"] * zi + own_dentist[idx])
        att = rng.random(len(idx)) < p
        date = ts[idx] + rng.integers(0, 28, len(idx))
        att &= date <= asof
        lam = tune["caries_lambda"][kind] * np.exp(tune["caries_slope"] * zi)
        car = rng.poisson(lam)
        if kind == "1歳6か月":
            judgement = np.select([car > 0, rng.random(len(idx)) < 0.3], ["A", "O2"], "O1")
        else:
            judgement = np.select([car >= 5, car > 0, rng.random(len(idx)) < 0.3], ["C", "B", "A"], "O")
        frames.append(pd.DataFrame({"pid": kids["pid"].to_numpy()[idx], "kind": kind,
                                    "target_start": ts[idx], "attended": att,
                                    "date": np.where(att, date, -1), "caries": np.where(att, car, -1),
                                    "judgement": np.where(att, judgement, "")}))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["pid", "target_start"], kind="stable").reset_index(drop=True)
