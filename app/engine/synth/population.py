"""Households and persons of the synthetic municipality (vectorised, one pass).

Every household carries a latent risk ``z`` (standard normal). Structural facts (single parent,
young mother, public assistance, NHI membership, moves) are drawn from logistic functions of z,
so they correlate with later events without copying them. Dates are int days since 1970-01-01.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.engine.synth import names as nm
from app.engine.synth.geography import Geography, town_weights

DAY0 = dt.date(1970, 1, 1)
COHORT_DAYS = 7 * 365 + 2  # children aged 0–6 at as-of: born within the last seven years


def to_days(d: dt.date) -> int:
    return (d - DAY0).days


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Population:
    households: pd.DataFrame
    persons: pd.DataFrame


def _kid_ages(rng: np.random.Generator, n_hh: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ages in days of every child of ``n_hh`` households: (household index, age, twin flag)."""
    k = rng.choice([1, 2, 3, 4], size=n_hh, p=[0.50, 0.37, 0.11, 0.02])
    # Births declined about 3 % a year, so older ages are a little more common: inverse CDF.
    u = rng.random(n_hh)
    rate = 0.03 / 365.0
    youngest = np.log1p(u * np.expm1(rate * COHORT_DAYS)) / rate
    hh = np.repeat(np.arange(n_hh), k)
    order = np.arange(len(hh)) - np.repeat(np.cumsum(k) - k, k)  # 0 = youngest
    gap = 365 * (1.1 + rng.gamma(2.0, 0.7, size=len(hh)))
    twin = rng.random(len(hh)) < 0.011
    gap = np.where(twin, 0.0, gap)
    gap[order == 0] = 0.0
    age = youngest[hh] + (np.cumsum(gap) - np.repeat(np.cumsum(gap)[np.cumsum(k) - k], k))
    twin_flag = twin & (order > 0)
    return hh, np.floor(age).astype(np.int64), twin_flag


def _cohort(rng, n_children: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Children's household, age and twin flag: cohort households first, then ~6 % families who
    left before as-of; also (cohort households, all households)."""
    n_guess = int(n_children / 1.33) + 20
    hh_i, age, twin = _kid_ages(rng, n_guess)
    in_cohort = age < COHORT_DAYS
    cum = np.cumsum(in_cohort)
    cut = int(np.searchsorted(cum, n_children))  # index of the N-th cohort child
    while cut >= len(cum):  # rare: draw more households
        n_guess = int(n_guess * 1.1)
        hh_i, age, twin = _kid_ages(rng, n_guess)
        in_cohort = age < COHORT_DAYS
        cum = np.cumsum(in_cohort)
        cut = int(np.searchsorted(cum, n_children))
    last_hh = hh_i[cut]
    keep = (hh_i < last_hh) | ((hh_i == last_hh) & (np.arange(len(hh_i)) <= cut))
    hh_i, age, twin = hh_i[keep], age[keep], twin[keep]
    n_hh = int(last_hh) + 1
    n_out = max(2, int(round(n_hh * 0.06)))
    o_hh, o_age, o_twin = _kid_ages(rng, n_out)
    hh_i = np.concatenate([hh_i, o_hh + n_hh])
    age = np.concatenate([age, o_age])
    twin = np.concatenate([twin, o_twin])
    H = n_hh + n_out
    return hh_i, age, twin, n_hh, H


def _household_traits(rng, H: int, n_hh: int, geo: Geography) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Households with their latent risk ``z``, town and social traits; (frame, z, uniforms)."""
    hh = pd.DataFrame({"hh": np.arange(H)})
    hh["left_city"] = hh["hh"] >= n_hh
    z = rng.standard_normal(H)
    hh["risk"] = z
    t_idx = rng.choice(len(geo.towns), size=H, p=town_weights(geo.towns, rng))
    hh["town"] = geo.towns["town"].to_numpy()[t_idx]
    hh["district"] = geo.towns["district"].to_numpy()[t_idx]
    hh["centre"] = geo.towns["centre"].to_numpy()[t_idx]
    u = rng.random((10, H))
    hh["foreign"] = u[0] < sigmoid(-3.4 + 0.35 * z)
    hh["single_parent"] = u[1] < sigmoid(-2.5 + 0.9 * z)
    hh["father_only"] = hh["single_parent"] & (u[2] < 0.06)
    hh["step_family_change"] = ~hh["single_parent"] & (u[3] < sigmoid(-4.1 + 0.9 * z))
    hh["public_assistance"] = u[4] < sigmoid(-4.3 + 1.1 * z + 1.0 * hh["single_parent"])
    hh["nhi"] = u[5] < sigmoid(-1.75 + 0.45 * z + 0.6 * hh["single_parent"] + 0.8 * hh["foreign"])
    hh["grandmother"] = u[6] < 0.04
    # Income bracket of the NHI-insured parent: 30 = 区オ (tax-exempt) … 26 = 区ア.
    inc = np.select([u[7] < sigmoid(-1.3 + 0.4 * z), u[7] < sigmoid(-0.3 + 0.3 * z),
                     u[7] < 0.85, u[7] < 0.95], [30, 29, 28, 27], 26)
    hh["income_code"] = np.where(hh["nhi"], inc, 0)
    return hh, z, u


def _moves(rng, hh: pd.DataFrame, z: np.ndarray, u: np.ndarray, asof: int, out_date: np.ndarray) -> np.ndarray:
    """Moves: in (after the eldest's birth), out (leavers), out-and-back, within the city, and a
    step-parent's arrival; returns the youngest child's birth per household."""
    H = len(hh)
    lo = np.maximum(hh["eldest_birth"].to_numpy() + 30, asof - COHORT_DAYS)
    span = np.maximum(asof - 20 - lo, 1)
    moved_in = (u[8] < 0.13 + 0.04 * sigmoid(z)) & ~hh["left_city"].to_numpy()
    hh["moved_in_date"] = np.where(moved_in, lo + (rng.random(H) * span).astype(np.int64), -1)
    hh["moved_out_date"] = np.where(hh["left_city"], out_date, -1)
    yb = hh["youngest_birth"].to_numpy()
    back_span = asof - 200 - (yb + 60)
    out_back = (u[9] < 0.02) & ~hh["left_city"].to_numpy() & ~moved_in & (back_span > 120)
    d1 = yb + 60 + (rng.random(H) * np.maximum(back_span, 1)).astype(np.int64)
    d2 = np.minimum(d1 + rng.integers(90, 540, size=H), asof - 10)
    hh["out_back"] = out_back
    hh["gone_date"] = np.where(out_back, d1, -1)
    hh["back_date"] = np.where(out_back, d2, -1)
    hh["moved_within_date"] = np.where(rng.random(H) < 0.07, asof - rng.integers(10, 900, size=H), -1)
    hh["step_date"] = np.where(hh["step_family_change"],
                               np.minimum(yb + rng.integers(120, 1500, size=H), asof - 15), -1)
    return yb


def build_population(rng: np.random.Generator, n_children: int, as_of: dt.date,
                     geo: Geography) -> Population:
    """Households and persons; exactly ``n_children`` registry children aged 0–6 live in the
    city on ``as_of`` (the cohort), plus moved-out families, older siblings and receipt-only
    children who are not counted."""
    asof = to_days(as_of)
    hh_i, age, twin, n_hh, H = _cohort(rng, n_children)

    hh, z, u = _household_traits(rng, H, n_hh, geo)

    # Children frame; birth dates from ages (cohort households at as-of; leavers shifted back).
    kids = pd.DataFrame({"hh": hh_i, "twin": twin})
    shift = np.zeros(H, dtype=np.int64)
    # Leavers: family left 1 month – 3 years before as-of; their children were born before.
    out_date = asof - rng.integers(30, 3 * 365, size=H)
    shift[n_hh:] = (asof - out_date[n_hh:])
    kids["birth"] = asof - age - shift[hh_i]
    kids.loc[kids["twin"].to_numpy(), "birth"] = np.nan
    kids["birth"] = kids["birth"].ffill().astype(np.int64)  # twins share the previous birth date
    g = kids.groupby("hh")["birth"]
    hh["youngest_birth"] = g.max().reindex(hh["hh"]).to_numpy()
    hh["eldest_birth"] = g.min().reindex(hh["hh"]).to_numpy()
    hh["n_kids"] = g.size().reindex(hh["hh"]).to_numpy()

    yb = _moves(rng, hh, z, u, asof, out_date)

    # Mother's age at the youngest child's birth falls with risk; "young mother" = under 21 at
    # the first child's birth.
    m_age = np.clip(rng.normal(32.3 - 1.7 * z, 4.6), 16.5, 46) * 365.25
    hh["mother_birth"] = (yb - m_age).astype(np.int64)
    hh["young_mother"] = (hh["eldest_birth"] - hh["mother_birth"]) < 21 * 365.25
    hh["father_birth"] = (hh["mother_birth"] - rng.normal(2.0, 3.5, H) * 365.25).astype(np.int64)

    persons = _persons(rng, hh, kids, asof)
    _names(rng, hh, persons)
    _homonyms(rng, persons, hh, n_children)
    receipt_only = _receipt_only(rng, persons, hh, asof, geo, n_children)
    hh = pd.concat([hh, receipt_only[0]], ignore_index=True)
    persons = pd.concat([persons, receipt_only[1]], ignore_index=True)
    _numbers(rng, hh, persons)
    # Writers index persons by position: pid must equal the row number.
    assert (persons["pid"].to_numpy() == np.arange(len(persons))).all()
    hh["household_true_id"] = "HH" + pd.Series(hh["hh"] + 1).astype(str).str.zfill(6).to_numpy()
    return Population(households=hh, persons=persons)


def _persons(rng, hh: pd.DataFrame, kids: pd.DataFrame, asof: int) -> pd.DataFrame:
    adults = []
    has_mother = ~hh["father_only"].to_numpy()
    has_father = ~hh["single_parent"].to_numpy() | hh["father_only"].to_numpy()
    step = hh["step_family_change"].to_numpy()
    ids = hh["hh"].to_numpy()
    m = pd.DataFrame({"hh": ids[has_mother], "role": "mother", "sex": "F",
                      "birth": hh["mother_birth"].to_numpy()[has_mother]})
    f = pd.DataFrame({"hh": ids[has_father], "role": np.where(step[has_father], "stepfather", "father"),
                      "sex": "M", "birth": hh["father_birth"].to_numpy()[has_father]})
    gm_mask = hh["grandmother"].to_numpy()
    gmo = pd.DataFrame({"hh": ids[gm_mask], "role": "grandmother", "sex": "F",
                        "birth": hh["mother_birth"].to_numpy()[gm_mask] - rng.integers(22, 34, gm_mask.sum()) * 365})
    adults = pd.concat([m, f, gmo], ignore_index=True)
    adults["kind"] = "adult"
    k = kids.copy()
    k["role"] = "child"
    k["kind"] = "child"
    k["sex"] = np.where(rng.random(len(k)) < 0.512, "M", "F")
    p = pd.concat([adults, k], ignore_index=True)
    p["twin"] = p["twin"].astype("boolean").fillna(False).astype(bool)
    p = p.sort_values(["hh", "role", "birth"], kind="stable").reset_index(drop=True)
    p["pid"] = np.arange(len(p))
    p.loc[p["birth"] == -1, "birth"] = -2  # -1 is the "no date" marker (1969-12-31 → 12-30)
    hrow = hh.set_index("hh")
    for col in ("left_city", "moved_in_date", "moved_out_date", "out_back", "gone_date", "back_date",
                "step_date", "foreign", "moved_within_date"):
        p[col] = hrow[col].reindex(p["hh"]).to_numpy()
    # Step children born before the new partner joined are 妻の子 in the registry.
    is_kid = p["role"].eq("child")
    p["relation"] = "子"
    p.loc[is_kid & (p["step_date"] >= 0) & (p["birth"] < p["step_date"]), "relation"] = "妻の子"
    hf = p["role"].isin(["father", "stepfather"])
    has_f = p["hh"].isin(p.loc[hf, "hh"])
    p.loc[hf, "relation"] = "世帯主"
    p.loc[p["role"].eq("mother") & has_f, "relation"] = "妻"
    p.loc[p["role"].eq("mother") & ~has_f, "relation"] = "世帯主"
    p.loc[p["role"].eq("grandmother"), "relation"] = "母"
    # Kids in father-only households: the head is 父's 子 (kept 子).
    # Cohort: registry children aged 0–6 living in the city on as-of.
    p["cohort"] = is_kid & (p["birth"] > asof - COHORT_DAYS) & ~p["left_city"] & (p["birth"] <= asof)
    p["older_sibling"] = is_kid & (p["birth"] <= asof - COHORT_DAYS)
    # A child's own residence window: from birth or move-in, to move-out.
    p["resident_from"] = np.where((p["moved_in_date"] >= 0) & (p["moved_in_date"] > p["birth"]),
                                  p["moved_in_date"], np.where(is_kid, p["birth"], -1))
    p["resident_to"] = p["moved_out_date"]
    p["born_in_city"] = is_kid & (p["resident_from"] == p["birth"])
    moth = p.loc[p["role"].eq("mother"), ["hh", "pid"]].set_index("hh")["pid"]
    p["mother_pid"] = np.where(is_kid, p["hh"].map(moth).fillna(-1).astype(np.int64), -1)
    p["in_registry"] = True
    p["risk"] = hh.set_index("hh")["risk"].reindex(p["hh"]).to_numpy()
    return p


def _pick(rng, items: list, weights, size: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return rng.choice(len(items), size=size, p=w / w.sum())


def _names(rng, hh: pd.DataFrame, p: pd.DataFrame) -> None:
    """Registry names: one family name per household (step-children keep the old one)."""
    H = len(hh)
    fam_idx = _pick(rng, nm.FAMILY_NAMES, [w for _, _, w in nm.FAMILY_NAMES], H)
    fam_k = np.array([f for f, _, _ in nm.FAMILY_NAMES])[fam_idx]
    fam_r = np.array([r for _, r, _ in nm.FAMILY_NAMES])[fam_idx]
    fam_idx2 = _pick(rng, nm.FAMILY_NAMES, [w for _, _, w in nm.FAMILY_NAMES], H)
    old_k = np.array([f for f, _, _ in nm.FAMILY_NAMES])[fam_idx2]
    old_r = np.array([r for _, r, _ in nm.FAMILY_NAMES])[fam_idx2]
    hi = p["hh"].to_numpy()
    p["family"] = fam_k[hi]
    p["family_kana"] = fam_r[hi]
    stepkid = p["relation"].eq("妻の子").to_numpy() & (rng.random(len(p)) < 0.6)
    p.loc[stepkid, "family"] = old_k[hi[stepkid]]
    p.loc[stepkid, "family_kana"] = old_r[hi[stepkid]]
    male = p["sex"].eq("M").to_numpy()
    bi = rng.integers(0, len(nm.BOY_NAMES), len(p))
    gi = rng.integers(0, len(nm.GIRL_NAMES), len(p))
    # Siblings get distinct names: offset the index by the birth order within the household.
    order = p.groupby(["hh", "sex"]).cumcount().to_numpy()
    bi = (bi + order * 7) % len(nm.BOY_NAMES)
    gi = (gi + order * 7) % len(nm.GIRL_NAMES)
    p["given"] = np.where(male, np.array([k for k, _ in nm.BOY_NAMES])[bi], np.array([k for k, _ in nm.GIRL_NAMES])[gi])
    p["given_kana"] = np.where(male, np.array([r for _, r in nm.BOY_NAMES])[bi], np.array([r for _, r in nm.GIRL_NAMES])[gi])
    p["nationality"] = "日本"
    fh = hh["foreign"].to_numpy()
    if fh.any():
        nat_i = _pick(rng, nm.FOREIGN, [w for _, w, *_ in nm.FOREIGN], len(hh))
        pf = fh[hi]
        nat = nat_i[hi]
        fam_f = np.array([nm.FOREIGN[n][2][i % len(nm.FOREIGN[n][2])] for n, i in zip(nat, hi)], dtype=object)
        gidx = rng.integers(0, 3, len(p)) + order
        giv_f = np.array([nm.FOREIGN[n][3 if s == "F" else 4][g % 3] for n, s, g in
                          zip(nat, p["sex"].to_numpy(), gidx)], dtype=object)
        # Either both parents foreign (all katakana) or a Japanese father (children Japanese).
        both = (rng.random(len(hh)) < 0.6)[hi] | p["role"].eq("mother").to_numpy()
        both &= ~p["role"].isin(["father", "stepfather"]).to_numpy() | (rng.random(len(hh)) < 0.6)[hi]
        sel = pf & both
        p.loc[sel, "family"] = fam_f[sel]
        p.loc[sel, "family_kana"] = fam_f[sel]
        p.loc[sel, "given"] = giv_f[sel]
        p.loc[sel, "given_kana"] = giv_f[sel]
        p.loc[sel, "nationality"] = np.array([nm.FOREIGN[n][0] for n in nat[sel]], dtype=object)
    notes = np.where(p["twin"], "twin", "")
    p["notes"] = notes
    variant = p["family"].str.contains("[" + "".join(nm.VARIANTS) + "]", regex=True)
    p.loc[variant, "notes"] = (p.loc[variant, "notes"] + ";variant-kanji").str.lstrip(";")


def _homonyms(rng, p: pd.DataFrame, hh: pd.DataFrame, n_children: int) -> None:
    """Pairs of cohort children in different households given the same name, sex and birth date."""
    coh = p.index[p["cohort"].to_numpy() & ~p["twin"].to_numpy() & p["nationality"].eq("日本").to_numpy()]
    n_pairs = max(2, n_children // 1500)
    pick = rng.choice(coh, size=min(2 * n_pairs, len(coh) - len(coh) % 2), replace=False)
    a, b = pick[0::2], pick[1::2]
    ok = p.loc[a, "hh"].to_numpy() != p.loc[b, "hh"].to_numpy()
    a, b = a[ok], b[ok]
    for col in ("sex", "given", "given_kana"):
        p.loc[b, col] = p.loc[a, col].to_numpy()
    # Same birth date; move B's whole household to A's family name so siblings stay consistent.
    p.loc[b, "birth"] = p.loc[a, "birth"].to_numpy()
    key = pd.DataFrame({"hh": p.loc[b, "hh"].to_numpy(), "family": p.loc[b, "family"].to_numpy(),
                        "new_f": p.loc[a, "family"].to_numpy(), "new_k": p.loc[a, "family_kana"].to_numpy()})
    key = key.drop_duplicates(["hh", "family"])
    m = p[["hh", "family"]].merge(key, on=["hh", "family"], how="left")
    hit = m["new_f"].notna().to_numpy()
    p.loc[hit, "family"] = m.loc[hit, "new_f"].to_numpy()
    p.loc[hit, "family_kana"] = m.loc[hit, "new_k"].to_numpy()
    p.loc[a, "notes"] = (p.loc[a, "notes"] + ";homonym").str.lstrip(";")
    p.loc[b, "notes"] = (p.loc[b, "notes"] + ";homonym").str.lstrip(";")


def _receipt_only(rng, p: pd.DataFrame, hh: pd.DataFrame, asof: int, geo: Geography, n: int):
    """Children who appear only in NHI receipts (no registry record): their own households."""
    k = max(3, int(round(n * 0.004)))
    H0 = int(hh["hh"].max()) + 1
    h = pd.DataFrame({"hh": np.arange(H0, H0 + k)})
    h["risk"] = rng.standard_normal(k)
    h["left_city"] = False
    for col in ("foreign", "single_parent", "father_only", "step_family_change", "public_assistance",
                "grandmother", "young_mother", "out_back"):
        h[col] = False
    h["nhi"] = True
    h["income_code"] = 0
    for col in ("town", "district", "centre"):
        h[col] = ""
    for col in ("moved_in_date", "moved_out_date", "gone_date", "back_date", "moved_within_date",
                "step_date"):
        h[col] = -1
    births = asof - rng.integers(30, COHORT_DAYS - 30, k)
    h["youngest_birth"] = births
    h["eldest_birth"] = births
    h["n_kids"] = 1
    h["mother_birth"] = births - 30 * 365
    h["father_birth"] = births - 32 * 365
    fi = _pick(rng, nm.FAMILY_NAMES, [w for _, _, w in nm.FAMILY_NAMES], k)
    sex = np.where(rng.random(k) < 0.5, "M", "F")
    bi = rng.integers(0, len(nm.BOY_NAMES), k)
    gi = rng.integers(0, len(nm.GIRL_NAMES), k)
    q = pd.DataFrame({
        "hh": h["hh"], "role": "child", "kind": "child", "sex": sex, "birth": births, "twin": False,
        "pid": np.arange(len(p), len(p) + k), "left_city": False, "moved_in_date": -1,
        "moved_out_date": -1, "out_back": False, "gone_date": -1, "back_date": -1, "step_date": -1,
        "foreign": False, "moved_within_date": -1, "relation": "", "cohort": False,
        "older_sibling": False, "resident_from": births, "resident_to": -1, "born_in_city": False,
        "mother_pid": -1, "in_registry": False, "risk": h["risk"].to_numpy(),
        "family": [nm.FAMILY_NAMES[i][0] for i in fi], "family_kana": [nm.FAMILY_NAMES[i][1] for i in fi],
        "given": np.where(sex == "M", np.array([x for x, _ in nm.BOY_NAMES])[bi], np.array([x for x, _ in nm.GIRL_NAMES])[gi]),
        "given_kana": np.where(sex == "M", np.array([x for _, x in nm.BOY_NAMES])[bi], np.array([x for _, x in nm.GIRL_NAMES])[gi]),
        "nationality": "日本", "notes": "receipt-only",
    })
    return h, q


def _numbers(rng, hh: pd.DataFrame, p: pd.DataFrame) -> None:
    """宛名番号 (10 digits, shuffled) and 世帯番号 (8 digits); out-and-back families get new ones."""
    n = len(p)
    pool = 1_000_000 + rng.choice(8_000_000, size=2 * n, replace=False)
    p["atena"] = "10" + pd.Series(pool[:n]).astype(str).str.zfill(8).to_numpy()
    p["atena2"] = np.where(p["out_back"].to_numpy(),
                           "10" + pd.Series(pool[n:]).astype(str).str.zfill(8).to_numpy(), "")
    H = len(hh)
    hpool = 100_000 + rng.choice(899_999, size=2 * H, replace=False)
    hh["setai"] = pd.Series(hpool[:H]).astype(str).str.zfill(8).to_numpy()
    hh["setai2"] = np.where(hh["out_back"].to_numpy(), pd.Series(hpool[H:]).astype(str).str.zfill(8).to_numpy(), "")
    p["true_person_id"] = "P" + pd.Series(p["pid"] + 1).astype(str).str.zfill(7).to_numpy()
    # Children born during an out-and-back absence exist only under the new number.
    gone = p["out_back"].to_numpy() & (p["birth"].to_numpy() >= p["gone_date"].to_numpy())
    p.loc[gone, "atena"] = p.loc[gone, "atena2"]
    p.loc[gone, "atena2"] = ""
    p.loc[~p["in_registry"], "atena"] = ""
    ob = p["atena2"].ne("")
    p.loc[ob, "notes"] = (p.loc[ob, "notes"] + ";out-and-back").str.lstrip(";")
