"""The report's eight items (§7.1, table 7-36) computed on the generator's clean frames, and
the learnability check (logistic regression on the eight flags against the custody list).

Interpretation of each item is written in docs/SYNTH.md; ages are whole years at as-of.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.engine.synth.schedules import growth_reference, z_from_value

# Table 7-36: (custody-list children, others) flagged.
REPORT = {
    "①定期受診": (419, 4958), "②予防接種": (708, 11489), "③夜間受診": (54, 200),
    "④発育": (456, 6768), "⑤う蝕": (618, 9202), "⑥収入": (5, 51), "⑦EPDS": (35, 141),
    "⑧保護者": (14, 207),
}
REPORT_N = (828, 13085)
P25, P50, P75 = -0.6745, 0.0, 0.6745


def item_flags(world) -> pd.DataFrame:
    """One row per cohort child: pid, on_list, age, and the eight 0/1 flags."""
    asof = world.asof
    c = world.persons[world.persons["cohort"]][["pid", "birth", "sex", "hh", "mother_pid"]].copy()
    c = c.reset_index(drop=True)
    age = np.floor((asof - c["birth"].to_numpy()) / 365.25).astype(int)
    # Whole years the way ages are counted in Japan: birthday reached.
    b = c["birth"].to_numpy().astype("datetime64[D]")
    a = np.array(asof).astype("datetime64[D]")
    by = b.astype("datetime64[Y]").astype(int)
    ay = a.astype("datetime64[Y]").astype(int)
    bmd = (b - b.astype("datetime64[Y]")).astype(int)
    amd = (a - a.astype("datetime64[Y]")).astype(int)
    age = ay - by - (amd < bmd)
    c["age"] = age
    c["on_list"] = c["pid"].isin(world.custody["pid"]).astype(int)
    pid = c["pid"]

    # ① cumulative attended checkups by age band.
    chk = world.checkups
    n_att = chk[chk["attended"]].groupby("pid").size().reindex(pid).fillna(0).to_numpy()
    f1 = np.select([age < 2, age == 2, age == 3],
                   [n_att == 0, np.isin(n_att, [0, 1, 3]), n_att <= 2],
                   np.isin(n_att, [1, 2, 3]))
    # ② the report's applied (wrong) rule: three or more doses so far.
    doses = world.vaccines.groupby("pid").size().reindex(pid).fillna(0).to_numpy()
    f2 = doses >= 3
    # ③ NHI receipt with a night/holiday add-on at age ≤2 or ≥6 at the visit.
    r = world.receipts
    nv = r[r["night"] & ((r["age_years"] <= 2) | (r["age_years"] >= 6))]
    f3 = pid.isin(nv["pid"]).to_numpy()
    # ④ weight percentile against the 2023 reference (not cohort percentiles).
    att = chk[chk["attended"]].copy()
    ref = growth_reference()
    att["wz"] = z_from_value(ref, att["sex"].to_numpy(), att["age_months"].to_numpy(),
                             att["weight"].to_numpy(), "weight")
    inf = att[att["kind"].isin(["4か月", "10か月"])].sort_values("date").groupby("pid").tail(1)
    t18 = att[att["kind"].eq("1歳6か月")]
    t3 = att[att["kind"].eq("3歳")]
    g_inf = inf.loc[inf["wz"] <= P25, "pid"]
    g_18 = t18.loc[t18["wz"] >= P75, "pid"]
    g_3 = t3.loc[((t3["wz"] >= P25) & (t3["wz"] <= P50)) | (t3["wz"] >= P75), "pid"]
    # The report's bands: 1歳 → latest infant checkup, 2歳 → 1歳6か月, 3–6歳 → 3歳 (no band carried
    # over from an earlier checkup: the one that was fitted to this generator was removed).
    f4 = np.select([age < 2, age == 2],
                   [pid.isin(g_inf).to_numpy(), pid.isin(g_18).to_numpy()],
                   pid.isin(g_3).to_numpy())
    # ⑤ caries ≥1 or no attendance at the age's dental checkup; before two: no dental history.
    d = world.dental
    da = d[d["attended"]]
    def bad(kind):
        ok = da.loc[da["kind"].eq(kind) & (da["caries"] == 0), "pid"]
        return ~pid.isin(ok).to_numpy()
    f5 = np.select([age < 2, age == 2, age == 3],
                   [~pid.isin(da["pid"]).to_numpy(), bad("1歳6か月"), bad("2歳6か月")], bad("3歳"))
    # ⑥ income bracket 区エ/区オ on any of the child's receipts.
    f6 = pid.isin(r.loc[r["income_code"].isin([29, 30]), "pid"]).to_numpy()
    # ⑦ the mother's EPDS for this child ≥13.
    e = world.epds
    f7 = pid.isin(e.loc[e["total"] >= 13, "child_pid"]).to_numpy()
    # ⑧ a guardian of the household whose checkup says smoker.
    g = world.guardian
    smoke_hh = world.persons.set_index("pid").loc[g.loc[g["smoker"], "pid"], "hh"]
    f8 = c["hh"].isin(smoke_hh).to_numpy()
    flags = pd.DataFrame({"①定期受診": f1, "②予防接種": f2, "③夜間受診": f3, "④発育": f4,
                          "⑤う蝕": f5, "⑥収入": f6, "⑦EPDS": f7, "⑧保護者": f8}).astype(int)
    return pd.concat([c[["pid", "on_list", "age"]], flags], axis=1)


def calibration_table(world) -> pd.DataFrame:
    """Generated vs report flag counts per item and group, scaled to the report's group sizes,
    with the relative error and the tolerance (±15 %, ±40 % under 60 flags)."""
    f = item_flags(world)
    n_on = int(f["on_list"].sum())
    n_off = len(f) - n_on
    rows = []
    for item, (rep_on, rep_off) in REPORT.items():
        for group, rep, n, mask in (("児相リスト", rep_on, n_on, f["on_list"] == 1),
                                    ("その他", rep_off, n_off, f["on_list"] == 0)):
            got = int(f.loc[mask, item].sum())
            scaled = got * (REPORT_N[0] if group == "児相リスト" else REPORT_N[1]) / max(n, 1)
            tol = 0.40 if rep < 60 else 0.15
            rows.append({"item": item, "group": group, "report": rep, "generated": got,
                         "scaled": round(scaled, 1), "rel_error": round(scaled / rep - 1, 3),
                         "tolerance": tol, "ok": abs(scaled / rep - 1) <= tol})
    return pd.DataFrame(rows)


def learnability_auc(world, folds: int = 5, seed: int = 0) -> float:
    """Cross-validated AUC of a logistic regression on the eight flags against the list."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    f = item_flags(world)
    X = f[list(REPORT)].to_numpy(float)
    y = f["on_list"].to_numpy()
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    p = cross_val_predict(LogisticRegression(max_iter=1000), X, y, cv=cv, method="predict_proba")[:, 1]
    return float(roc_auc_score(y, p))
