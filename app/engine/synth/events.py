"""Everything beyond schedules: receipts and night visits, EPDS, guardian checkups, the
child-guidance list, assessments, consultations, nursery, pregnancy and birth notes, allowances,
public assistance, disability certificates and DV registrations — all as clean frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.engine.synth.population import sigmoid

EPDS_START = np.datetime64("2023-04-01").astype("datetime64[D]").astype(np.int64)

# Synthetic diagnosis codes in the 傷病名マスター's 7-digit shape (not real master codes):
# (code, name, is_injury, weight by day, weight at night).
DIAGNOSES = [
    ("8841001", "急性上気道炎", False, 30, 14), ("8841002", "気管支喘息", False, 9, 26),
    ("8841003", "喘息性気管支炎", False, 6, 9), ("8841004", "急性気管支炎", False, 10, 6),
    ("8841005", "感染性胃腸炎", False, 10, 13), ("8841006", "急性中耳炎", False, 9, 4),
    ("8841007", "アトピー性皮膚炎", False, 8, 0), ("8841008", "発熱", False, 6, 12),
    ("8841009", "クループ症候群", False, 2, 6), ("8841010", "熱性けいれん", False, 0, 3),
    ("8841101", "頭部打撲", True, 1, 4), ("8841102", "顔面挫創", True, 1, 2),
    ("8841103", "手指熱傷", True, 0.5, 1), ("8841104", "前腕骨骨折", True, 0.3, 0.7),
]
INJURY_CODES = [c for c, _, inj, *_ in DIAGNOSES if inj]

INSTITUTIONS = [("1410101", "よこすか小児科クリニック", "046-800-0001"),
                ("1410202", "きぬがさこどもクリニック", "046-800-0002"),
                ("1410303", "市立総合医療センター", "046-800-0003")]

# Night/holiday infant add-ons (DOMAIN_FACTS): kind → (初診 code, 再診 code).
NIGHT_CODES = {"時間外": ("111011970", "112014770"), "休日": ("111012070", "112014870"),
               "深夜": ("111012170", "112014970")}
# From age 6 the generic add-ons (診療行為マスター: 時間外/休日/深夜加算 初診・再診).
GENERIC_NIGHT_CODES = {"時間外": ("111000570", "112001110"), "休日": ("111000670", "112001210"),
                       "深夜": ("111000770", "112001310")}


def receipts(rng, kids: pd.DataFrame, hh: pd.DataFrame, asof: int, tune: dict) -> pd.DataFrame:
    """One row per (child, month, institution) receipt for NHI-insured children."""
    nhi_hh = hh.loc[hh["nhi"], "hh"]
    k = kids[kids["hh"].isin(nhi_hh)].reset_index(drop=True)
    inc = hh.set_index("hh")["income_code"]
    asof_m = np.array(asof).astype("datetime64[D]").astype("datetime64[M]")
    months = (asof_m - np.arange(24, 0, -1)).astype("datetime64[D]").astype(np.int64)
    n, M = len(k), len(months)
    ki = np.repeat(np.arange(n), M)
    ms = np.tile(months, n)
    birth = k["birth"].to_numpy()[ki]
    rf = k["resident_from"].to_numpy()[ki]
    rt = k["resident_to"].to_numpy()[ki]
    ok = (ms + 27 >= birth) & (ms >= rf - 27) & ((rt < 0) | (ms < rt))
    gone, back = k["gone_date"].to_numpy()[ki], k["back_date"].to_numpy()[ki]
    ok &= ~((gone >= 0) & (ms >= gone) & (ms < back))
    ki, ms, birth = ki[ok], ms[ok], birth[ok]
    age_y = (ms + 14 - birth) / 365.25
    z = k["risk"].to_numpy()[ki]
    p_day = np.where(age_y < 2, 0.48, 0.33)
    day_visit = rng.random(len(ki)) < p_day
    p_night = tune["night_base"] * np.where(age_y < 3, 1.6, np.where(age_y >= 5, 0.9, 0.8)) \
        * np.exp(tune["night_slope"] * z)
    night = rng.random(len(ki)) < p_night
    rows = []
    for is_night, mask in ((False, day_visit), (True, night)):
        idx = np.flatnonzero(mask)
        m = len(idx)
        inst = np.where(is_night, 2, rng.integers(0, 2, m))
        first = rng.random(m) < (0.7 if is_night else 0.35)
        nvis = np.where(is_night, 1, 1 + rng.poisson(0.7, m))
        day1 = 1 + rng.integers(0, 28, m)
        w = np.array([d[4] if is_night else d[3] for d in DIAGNOSES], float)
        inj_boost = np.exp(tune["injury_slope"] * z[idx])
        dx = _draw_dx(rng, w, inj_boost)
        dx2 = np.where(rng.random(m) < 0.35, rng.choice(len(DIAGNOSES), m, p=w / w.sum()), -1)
        dx2 = np.where(dx2 == dx, -1, dx2)
        kidx = ki[idx]
        icode = inc.reindex(k["hh"].to_numpy()[kidx]).to_numpy()
        show = rng.random(m) < np.where(is_night, 2.0, 1.0) * tune["income_show"]
        rows.append(pd.DataFrame({
            "pid": k["pid"].to_numpy()[kidx], "month": ms[idx], "institution": inst, "night": is_night,
            "night_kind": np.where(is_night, rng.choice(list(NIGHT_CODES), m, p=[.6, .25, .15]), ""),
            "first_visit": first, "visits": nvis, "day1": day1,
            "dx1": dx, "dx2": dx2, "income_code": np.where(show & (icode > 0), icode, 0),
            "age_years": np.floor(age_y[idx]).astype(int),
        }))
    out = pd.concat(rows, ignore_index=True)
    return out.sort_values(["month", "institution", "pid", "night"], kind="stable").reset_index(drop=True)


def _draw_dx(rng, w: np.ndarray, inj_boost: np.ndarray) -> np.ndarray:
    """Main diagnosis per receipt; injury weights scale with the household risk."""
    inj = np.array([d[2] for d in DIAGNOSES])
    base = w[~inj].sum()
    p_inj = w[inj].sum() * inj_boost / (base + w[inj].sum() * inj_boost)
    is_inj = rng.random(len(inj_boost)) < p_inj
    idx_non = np.flatnonzero(~inj)
    idx_inj = np.flatnonzero(inj)
    a = idx_non[rng.choice(len(idx_non), len(is_inj), p=w[~inj] / base)]
    b = idx_inj[rng.choice(len(idx_inj), len(is_inj), p=w[inj] / w[inj].sum())]
    return np.where(is_inj, b, a)


def epds(rng, kids: pd.DataFrame, persons: pd.DataFrame, asof: int, tune: dict) -> pd.DataFrame:
    """EPDS at the postnatal check (2–5 weeks) for mothers of children born in the city since
    the programme started: mother pid, child pid, date, items q1..q10, total."""
    k = kids[(kids["birth"] >= EPDS_START) & kids["born_in_city"] & (kids["mother_pid"] >= 0)]
    date = k["birth"].to_numpy() + rng.integers(14, 40, len(k))
    z = k["risk"].to_numpy()
    take = (date <= asof) & (rng.random(len(k)) < 0.88 - 0.1 * sigmoid(z))
    k, date, z = k[take], date[take], z[take]
    n = len(k)
    sev = tune["epds_slope"] * z + rng.standard_normal(n)
    mu = np.array([0.35, 0.3, 0.9, 0.9, 0.6, 0.9, 0.5, 0.6, 0.4, -0.45])  # item 10 (self-harm) is rare
    load = np.array([0.45, 0.4, 0.55, 0.5, 0.5, 0.55, 0.5, 0.55, 0.5, 0.2])
    raw = mu[None, :] + tune["epds_shift"] + load[None, :] * sev[:, None] * tune["epds_scale"] \
        + rng.normal(0, 0.5, (n, 10))
    items = np.clip(np.round(raw), 0, 3).astype(int)
    out = pd.DataFrame({"mother_pid": k["mother_pid"].to_numpy(), "child_pid": k["pid"].to_numpy(),
                        "date": date})
    for i in range(10):
        out[f"q{i + 1}"] = items[:, i]
    out["total"] = items.sum(axis=1)
    return out.reset_index(drop=True)


def guardian_checkups(rng, persons: pd.DataFrame, hh: pd.DataFrame, asof: int, tune: dict) -> pd.DataFrame:
    """Guardian checkups (city/NHI health checks): pid, date, smoker, drinking, judgement."""
    h = hh[~hh["left_city"] & hh["town"].ne("")]
    p_take = tune["guardian_rate"] * np.where(h["nhi"], tune["guardian_nhi"], 1.0)
    take = rng.random(len(h)) < p_take
    hids = h["hh"].to_numpy()[take]
    adults = persons[persons["role"].isin(["mother", "father", "stepfather"]) & persons["hh"].isin(hids)]
    first = adults.groupby("hh").sample(n=1, random_state=int(rng.integers(0, 2**31)))
    first = first.sort_values("pid")
    z = first["risk"].to_numpy()
    n = len(first)
    smoker = rng.random(n) < sigmoid(tune["smoke_base"] + tune["smoke_slope"] * z)
    drink = rng.choice(["毎日", "時々", "飲まない"], n, p=[0.15, 0.45, 0.40])
    judge = rng.choice(["異常なし", "要指導", "要医療"], n, p=[0.6, 0.3, 0.1])
    return pd.DataFrame({"pid": first["pid"].to_numpy(), "date": asof - rng.integers(10, 700, n),
                         "smoker": smoker, "drinking": drink, "judgement": judge})


def custody_list(rng, cohort: pd.DataFrame, asof: int, k: int, tune: dict) -> pd.DataFrame:
    """Child-guidance list: the k cohort children with the highest noisy risk (never a copy)."""
    s = cohort["risk"].to_numpy() + rng.normal(0, tune["custody_noise"], len(cohort))
    top = np.argsort(-s, kind="stable")[:k]
    c = cohort.iloc[np.sort(top)]
    n = len(c)
    kind = rng.choice(["一時保護", "通告", "相談"], n, p=[0.18, 0.47, 0.35])
    reason = rng.choice(["ネグレクト", "心理的虐待", "身体的虐待", "養育困難", "性的虐待"], n,
                        p=[0.35, 0.30, 0.25, 0.08, 0.02])
    birth = c["birth"].to_numpy()
    start = np.maximum(birth + 20, asof - rng.integers(15, 4 * 365, n))
    start = np.minimum(start, asof - 1)
    end = np.where(kind == "一時保護", np.minimum(start + rng.integers(7, 60, n), asof),
                   np.where(rng.random(n) < 0.5, np.minimum(start + rng.integers(20, 300, n), asof), -1))
    return pd.DataFrame({"pid": c["pid"].to_numpy(), "kind": kind, "reason": reason,
                         "start": start, "end": end})


def assessments(rng, cohort: pd.DataFrame, custody: pd.DataFrame, asof: int) -> pd.DataFrame:
    """Health-centre assessments with 主因分類 and フォロー状況."""
    on = cohort["pid"].isin(custody["pid"]).to_numpy()
    z = cohort["risk"].to_numpy()
    p = np.where(on, 0.45, sigmoid(-3.4 + 0.9 * z))
    c = cohort[rng.random(len(cohort)) < p]
    n = len(c)
    date = np.maximum(c["birth"].to_numpy() + 30, asof - rng.integers(5, 3 * 365, n))
    cls = rng.choice(["P-0", "P-1", "P-2", "K-1", "K-2", "A", "A-0", "H", "F"], n,
                     p=[.12, .15, .08, .18, .1, .12, .08, .1, .07])
    follow = rng.choice(["フォロー済み", "フォロー中", "未"], n, p=[.5, .3, .2])
    return pd.DataFrame({"pid": c["pid"].to_numpy(), "date": date, "cls": cls,
                         "district": c["district"].to_numpy(), "follow": follow})


CONSULT_KINDS = ["育児不安", "発達相談", "経済的困窮", "夫婦関係", "子の健康", "保育所入所", "DV"]
CONSULT_TEXT = {
    "育児不安": ["夜泣きが続き眠れない。イライラしてしまうと話す。", "授乳がうまくいかず不安が強い。"],
    "発達相談": ["言葉が遅いのではと心配している。", "落ち着きがなく集団に入れないと保育園から言われた。"],
    "経済的困窮": ["家賃の支払いが難しい。手当について知りたい。", "仕事を失い生活が苦しい。"],
    "夫婦関係": ["夫が育児に協力せず口論が絶えない。", "離婚を考えている。子の今後が心配。"],
    "子の健康": ["湿疹が治らない。受診先を知りたい。", "発熱時の対応を知りたい。"],
    "保育所入所": ["4月入所の申込みについて。", "求職中でも入所できるか知りたい。"],
    "DV": ["夫から大声で怒鳴られることがある。", "避難先について相談したい。"],
}


def consultations(rng, cohort: pd.DataFrame, asof: int) -> pd.DataFrame:
    """Consultation records (LINE/Web/電話/窓口/訪問) about children of higher-risk households."""
    z = cohort["risk"].to_numpy()
    sel = cohort[rng.random(len(cohort)) < sigmoid(-3.1 + 0.8 * z)]
    reps = 1 + rng.poisson(0.6, len(sel))
    c = sel.loc[sel.index.repeat(reps)]
    n = len(c)
    kind = rng.choice(CONSULT_KINDS, n, p=[.3, .2, .12, .1, .13, .1, .05])
    text = np.array([CONSULT_TEXT[k][i % 2] for k, i in zip(kind, rng.integers(0, 2, n))], dtype=object)
    # A few free-text notes run over two lines, as typed into real systems.
    two = rng.random(n) < 0.03
    text = np.where(two, text + "\n次回は訪問で様子を確認する。", text)
    start = np.maximum(c["birth"].to_numpy(), asof - 3 * 365)
    day = start + (rng.random(n) * (asof - start)).astype(np.int64)
    minute = rng.integers(8 * 60 + 30, 17 * 60 + 15, n)
    return pd.DataFrame({"pid": c["pid"].to_numpy(), "date": day, "minute": minute,
                         "route": rng.choice(["LINE", "Web", "電話", "窓口", "訪問"], n, p=[.3, .15, .3, .15, .1]),
                         "kind": kind, "text": text,
                         "staff": rng.choice(["保健師A", "保健師B", "保健師C", "相談員D", "相談員E"], n)})


def nursery(rng, kids: pd.DataFrame, asof: int) -> pd.DataFrame:
    """Nursery/kindergarten enrolment by age."""
    age = (asof - kids["birth"].to_numpy()) / 365.25
    p = np.select([age < 1, age < 2, age < 3], [0.12, 0.45, 0.55], 0.93)
    k = kids[rng.random(len(kids)) < p]
    n = len(k)
    kage = (asof - k["birth"].to_numpy()) / 365.25
    ftype = np.where(kage >= 3, rng.choice(["保育所", "幼稚園", "認定こども園"], n, p=[.45, .35, .2]),
                     rng.choice(["保育所", "認定こども園", "地域型"], n, p=[.6, .25, .15]))
    yrs = np.floor(0.5 + rng.random(n) * np.clip(kage - 0.5, 0, None)).astype(int)
    asof_y = np.array(asof).astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
    enter_y = np.maximum(asof_y - yrs, 1970)
    enter = (np.array([f"{y}-04-01" for y in enter_y], dtype="datetime64[D]")).astype(np.int64)
    enter = np.clip(enter, k["birth"].to_numpy() + 57, asof)
    rf = k["resident_from"].to_numpy()
    enter = np.maximum(enter, rf)
    rt = k["resident_to"].to_numpy()
    dist = k["district"].to_numpy()
    num = rng.integers(1, 6, n)
    suffix = np.select([ftype == "幼稚園", ftype == "認定こども園", ftype == "地域型"], ["幼稚園", "こども園", "小規模保育室"], "保育園")
    name = pd.Series(dist).str.cat(pd.Series(num).astype(str), sep="第").str.cat(pd.Series(suffix)).to_numpy()
    return pd.DataFrame({"pid": k["pid"].to_numpy(), "facility": name, "ftype": ftype,
                         "enter": enter, "leave": np.where(rt >= 0, rt, -1)})


def pregnancies_and_births(rng, kids: pd.DataFrame, persons: pd.DataFrame, hh: pd.DataFrame,
                           asof: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pregnancy notifications (births of the last three years plus current pregnancies) and
    birth notifications (children born in the city)."""
    born = kids[kids["born_in_city"] & (kids["mother_pid"] >= 0)]
    z = born["risk"].to_numpy()
    twin_hh = set(kids.loc[kids["twin"], "hh"])
    multi = born["hh"].isin(twin_hh).to_numpy() & born["birth"].isin(kids.loc[kids["twin"], "birth"]).to_numpy()
    gest = np.clip(np.round(rng.normal(39.0 - 0.3 * np.clip(z, 0, None) - 2.5 * multi, 1.4)), 28, 42).astype(int)
    bw = np.round(rng.normal(3050 - 110 * np.clip(z, 0, None) - 650 * multi - 120 * (39 - gest), 380)).clip(700, 4800)
    births = pd.DataFrame({"pid": born["pid"].to_numpy(), "mother_pid": born["mother_pid"].to_numpy(),
                           "birth": born["birth"].to_numpy(), "weight": bw.astype(int), "weeks": gest,
                           "multiple": multi.astype(int)})
    recent = born[born["birth"] >= asof - 3 * 365].drop_duplicates(["mother_pid", "birth"])
    zr = recent["risk"].to_numpy()
    m = len(recent)
    late = rng.random(m) < sigmoid(-3.4 + 0.9 * zr)
    week = np.where(late, rng.integers(20, 30, m), rng.integers(6, 12, m))
    due = recent["birth"].to_numpy() + np.round(rng.normal(0, 8, m)).astype(int)
    notified = due - 280 + week * 7
    visits = np.clip(14 - rng.poisson(0.6 + 2.5 * np.clip(zr, 0, None)) - np.where(late, 4, 0), 0, 16)
    preg = pd.DataFrame({"pid": recent["mother_pid"].to_numpy(), "notified": notified, "week": week,
                         "visits": visits, "due": due})
    # Current pregnancies: a few mothers of the cohort expecting again.
    moms = persons[persons["role"].eq("mother") & ~persons["left_city"] & persons["in_registry"]]
    cur = moms[rng.random(len(moms)) < 0.06]
    q = len(cur)
    due_c = asof + rng.integers(10, 250, q)
    week_c = rng.integers(7, 12, q)
    notified_c = np.minimum(due_c - 280 + week_c * 7, asof - 1)
    cur_df = pd.DataFrame({"pid": cur["pid"].to_numpy(), "notified": notified_c, "week": week_c,
                           "visits": np.clip(((asof - notified_c) // 21), 0, 14), "due": due_c})
    preg = pd.concat([preg, cur_df], ignore_index=True)
    preg = preg[preg["notified"] <= asof].sort_values(["notified", "pid"], kind="stable").reset_index(drop=True)
    return preg, births.sort_values(["birth", "pid"], kind="stable").reset_index(drop=True)


def welfare(rng, persons: pd.DataFrame, hh: pd.DataFrame, asof: int) -> dict[str, pd.DataFrame]:
    """Single-parent allowance, public assistance, disability certificates, DV registrations."""
    out: dict[str, pd.DataFrame] = {}
    heads = persons[persons["role"].isin(["mother", "father"]) & persons["in_registry"]]
    sp_hh = hh[(hh["single_parent"] | hh["step_family_change"])]
    rec = heads[heads["hh"].isin(sp_hh["hh"])]
    rec = rec[~(rec["role"].eq("father") & ~rec["hh"].isin(hh.loc[hh["father_only"], "hh"]))]
    hrow = hh.set_index("hh")
    eb = hrow["eldest_birth"].reindex(rec["hh"]).to_numpy()
    n = len(rec)
    start = np.minimum(eb + rng.integers(30, 900, n), asof - 5)
    step = hrow["step_date"].reindex(rec["hh"]).to_numpy()
    start = np.where(step >= 0, np.minimum(start, step - 30), start)
    end = np.where(step >= 0, step + rng.integers(0, 60, n), -1)
    out["allowance"] = pd.DataFrame({"pid": rec["pid"].to_numpy(), "start": start, "end": end})
    pa = hh[hh["public_assistance"]]
    head_of = persons[persons["relation"].eq("世帯主")].drop_duplicates("hh").set_index("hh")["pid"]
    pa = pa[pa["hh"].isin(head_of.index)]
    m = len(pa)
    pstart = asof - rng.integers(30, 5 * 365, m)
    pend = np.where(rng.random(m) < 0.2, np.minimum(pstart + rng.integers(60, 700, m), asof - 1), -1)
    out["assistance"] = pd.DataFrame({"hh": pa["hh"].to_numpy(), "pid": head_of.reindex(pa["hh"]).to_numpy(),
                                      "start": pstart, "end": pend})
    kids = persons[persons["role"].eq("child") & persons["in_registry"] & ~persons["older_sibling"]]
    dk = kids[rng.random(len(kids)) < 0.007]
    dm = persons[persons["role"].eq("mother") & (rng.random(len(persons)) < sigmoid(-4.6 + 0.8 * persons["risk"]))]
    dis = pd.concat([
        pd.DataFrame({"pid": dk["pid"].to_numpy(), "type": rng.choice(["療育手帳", "身体障害者手帳"], len(dk), p=[.7, .3]),
                      "grade": rng.choice(["A", "B", "1級", "2級"], len(dk)),
                      "date": np.minimum(dk["birth"].to_numpy() + rng.integers(200, 1500, len(dk)), asof - 1)}),
        pd.DataFrame({"pid": dm["pid"].to_numpy(), "type": "精神障害者保健福祉手帳",
                      "grade": rng.choice(["1級", "2級", "3級"], len(dm), p=[.1, .5, .4]),
                      "date": asof - rng.integers(30, 2000, len(dm))}),
    ], ignore_index=True)
    dis.loc[dis["type"].eq("療育手帳"), "grade"] = rng.choice(["A1", "A2", "B1", "B2"], int(dis["type"].eq("療育手帳").sum()))
    physical = dis["type"].eq("身体障害者手帳")
    dis.loc[physical, "grade"] = rng.choice(["1級", "2級", "3級", "4級"], int(physical.sum()))
    out["disability"] = dis.sort_values(["date", "pid"], kind="stable").reset_index(drop=True)
    moms = persons[persons["role"].eq("mother") & persons["in_registry"]]
    dv = moms[rng.random(len(moms)) < sigmoid(-5.0 + 1.0 * moms["risk"])]
    out["dv"] = pd.DataFrame({"pid": dv["pid"].to_numpy(), "date": asof - rng.integers(30, 2000, len(dv)),
                              "kind": rng.choice(["支援措置", "相談", "保護命令"], len(dv), p=[.5, .4, .1])})
    return out
