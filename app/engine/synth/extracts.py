"""One builder per departmental CSV extract: clean world frames → canonical columns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from app.engine.synth import mess, schedules
from app.engine.synth.writers import STYLES, Truth, atena_at, emit, person_columns

REQ = ["宛名番号", "氏名", "生年月日"]

WriterFn = Callable[..., int]
# Source key -> writer of its extract, in the order they are written (each gets its own random
# stream by position, so a new source goes at the end and leaves the others' files unchanged).
WRITERS: dict[str, WriterFn] = {}


def writer(source: str) -> Callable[[WriterFn], WriterFn]:
    """Register ``fn(world, out, rng, truth) -> rows written`` as the generator of ``source``."""
    def register(fn: WriterFn) -> WriterFn:
        WRITERS[source] = fn
        return fn
    return register


def _person_frame(world, pids, style, rng, truth, days=None, **kw):
    atena = atena_at(world, pids, days) if days is not None else None
    return pd.DataFrame(person_columns(world, np.asarray(pids), style, rng, truth, atena=atena, **kw))


@writer("jumin")
def jumin(world, out: Path, rng, truth: Truth) -> int:
    """Registry: one row per person and 宛名番号 (old numbers of out-and-back families as 転出)."""
    st = STYLES["jumin"]
    p = world.persons[world.persons["in_registry"]].copy()
    hh = world.households.set_index("hh")
    reason = np.full(len(p), "", dtype=object)
    date = np.full(len(p), -1, dtype=np.int64)
    b = p["birth"].to_numpy()
    window = world.asof - 7 * 365 - 2
    born_here = p["role"].eq("child").to_numpy() & (b >= window) & p["born_in_city"].to_numpy()
    reason[born_here], date[born_here] = "出生", b[born_here]
    mi = p["moved_in_date"].to_numpy()
    m = (mi >= 0) & (mi > b)
    reason[m], date[m] = "転入", mi[m]
    sd = p["step_date"].to_numpy()
    m = p["role"].eq("stepfather").to_numpy() & (sd >= 0)
    reason[m], date[m] = "転入", sd[m]
    mw = p["moved_within_date"].to_numpy()
    m = (mw > np.maximum(date, b)) & (mw > mi)
    reason[m], date[m] = "転居", mw[m]
    other = (reason == "") & (rng.random(len(p)) < 0.01)
    reason[other], date[other] = "職権記載", world.asof - rng.integers(30, 900, other.sum())
    bk = p["back_date"].to_numpy()
    ob = p["atena2"].to_numpy() != ""
    reason[ob], date[ob] = "転入", bk[ob]
    mo = p["moved_out_date"].to_numpy()
    m = mo >= 0
    reason[m], date[m] = "転出", mo[m]
    cols = pd.DataFrame(person_columns(world, p["pid"].to_numpy(), st, rng, truth))
    setai_new = hh["setai2"].reindex(p["hh"]).to_numpy()
    cols["宛名番号"] = np.where(ob, p["atena2"].to_numpy(), cols["宛名番号"])
    cols["世帯番号"] = np.where(ob, setai_new, cols["世帯番号"])
    cols["続柄"] = p["relation"].to_numpy()
    cols["町名"] = p["town"].to_numpy()
    cols["地区"] = p["district"].to_numpy()
    cols["異動事由"] = reason
    cols["異動日"] = mess.format_dates(date, st.date_style)
    cols["国籍"] = p["nationality"].to_numpy()
    pids = p["pid"].to_numpy()
    # The old record of each out-and-back person: 転出 under the old numbers.
    old = p[ob]
    oc = pd.DataFrame(person_columns(world, old["pid"].to_numpy(), st, rng, truth))
    oc["続柄"] = old["relation"].to_numpy()
    oc["町名"] = old["town"].to_numpy()
    oc["地区"] = old["district"].to_numpy()
    oc["異動事由"] = "転出"
    oc["異動日"] = mess.format_dates(old["gone_date"].to_numpy(), st.date_style)
    oc["国籍"] = old["nationality"].to_numpy()
    frame = pd.concat([cols, oc], ignore_index=True)
    pids = np.concatenate([pids, old["pid"].to_numpy()])
    order = np.argsort(frame["宛名番号"].to_numpy(), kind="stable")
    return emit(out, st, frame.iloc[order], pids[order], rng, truth, date_cols=["生年月日", "異動日"],
                required=REQ + ["世帯番号"])


@writer("shussei")
def shussei(world, out, rng, truth) -> int:
    st = STYLES["shussei"]
    b = world.births
    f = _person_frame(world, b["pid"], st, rng, truth, days=b["birth"].to_numpy())
    f["出生体重"] = b["weight"].to_numpy()
    f["在胎週数"] = b["weeks"].to_numpy()
    f["多胎"] = b["multiple"].to_numpy()
    f["母宛名番号"] = atena_at(world, b["mother_pid"].to_numpy(), b["birth"].to_numpy())
    return emit(out, st, f, b["pid"].to_numpy(), rng, truth, date_cols=["生年月日"], required=REQ)


@writer("ninpu")
def ninpu(world, out, rng, truth) -> int:
    st = STYLES["ninpu"]
    g = world.pregnancies
    f = _person_frame(world, g["pid"], st, rng, truth, days=g["notified"].to_numpy())
    f["届出日"] = mess.fullwidth_digits(mess.format_dates(g["notified"].to_numpy(), st.date_style), 0.02, rng)
    f["届出時妊娠週数"] = g["week"].to_numpy()
    f["妊婦健診受診回数"] = g["visits"].to_numpy()
    f["出産予定日"] = mess.format_dates(g["due"].to_numpy(), st.date_style)
    return emit(out, st, f, g["pid"].to_numpy(), rng, truth, date_cols=["届出日", "出産予定日"], required=REQ)


@writer("kenshin")
def kenshin(world, out, rng, truth) -> int:
    st = STYLES["kenshin"]
    c = world.checkups
    day = np.where(c["date"] >= 0, c["date"], c["target_start"])
    f = _person_frame(world, c["pid"], st, rng, truth, days=day)
    f["健診種別"] = c["kind"].to_numpy()
    f["対象年月"] = mess.format_dates(c["target_start"].to_numpy(), "ym_wareki")
    f["受診日"] = mess.format_dates(c["date"].to_numpy(), st.date_style)
    f["身長"] = c["height"].map(lambda v: "" if v != v else f"{v:.1f}").to_numpy()
    f["体重"] = c["weight"].map(lambda v: "" if v != v else f"{v:.2f}").to_numpy()
    f["判定"] = c["judgement"].to_numpy()
    f["所見"] = c["findings"].to_numpy()
    return emit(out, st, f, c["pid"].to_numpy(), rng, truth, date_cols=["生年月日", "受診日"],
                required=REQ + ["健診種別"])


@writer("shika")
def shika(world, out, rng, truth) -> int:
    st = STYLES["shika"]
    d = world.dental
    day = np.where(d["date"] >= 0, d["date"], d["target_start"])
    f = _person_frame(world, d["pid"], st, rng, truth, days=day)
    f["健診種別"] = d["kind"].to_numpy()
    f["対象年月"] = mess.format_dates(d["target_start"].to_numpy(), "ym_iso")
    f["受診日"] = mess.format_dates(d["date"].to_numpy(), st.date_style)
    f["むし歯本数"] = np.where(d["caries"] >= 0, d["caries"].astype(str), "")
    f["判定"] = d["judgement"].to_numpy()
    return emit(out, st, f, d["pid"].to_numpy(), rng, truth, date_cols=["生年月日", "受診日"],
                required=REQ + ["健診種別"])


@writer("yobo")
def yobo(world, out, rng, truth) -> int:
    st = STYLES["yobo"]
    v = world.vaccines
    f = _person_frame(world, v["pid"], st, rng, truth, days=v["date"].to_numpy())
    # short or official printed names, as health-management systems differ (both in the vocabulary)
    official = rng.random(len(v)) < 0.5
    short = v["vaccine"].astype(str)
    long_ = short.map({k: n[1] for k, n in schedules.PRINTED_NAMES.items()}).fillna(short)
    f["ワクチン"] = np.where(official, long_.to_numpy(), short.to_numpy())
    f["回数"] = v["dose"].to_numpy()
    f["接種日"] = mess.format_dates(v["date"].to_numpy(), st.date_style)
    return emit(out, st, f, v["pid"].to_numpy(), rng, truth, date_cols=["生年月日", "接種日"],
                required=REQ + ["ワクチン"])


@writer("epds")
def epds(world, out, rng, truth) -> int:
    st = STYLES["epds"]
    e = world.epds
    f = _person_frame(world, e["mother_pid"], st, rng, truth, days=e["date"].to_numpy())
    f["児宛名番号"] = atena_at(world, e["child_pid"].to_numpy(), e["date"].to_numpy())
    f["実施日"] = mess.format_dates(e["date"].to_numpy(), st.date_style)
    for i in range(1, 11):
        f[f"問{i}"] = e[f"q{i}"].to_numpy()
    f["合計"] = e["total"].to_numpy()
    return emit(out, st, f, e["mother_pid"].to_numpy(), rng, truth, date_cols=["実施日"],
                required=REQ + ["合計"])


@writer("hogosha_kenshin")
def hogosha(world, out, rng, truth) -> int:
    st = STYLES["hogosha_kenshin"]
    g = world.guardian
    f = _person_frame(world, g["pid"], st, rng, truth, days=g["date"].to_numpy())
    f["受診日"] = mess.format_dates(g["date"].to_numpy(), st.date_style)
    f["喫煙"] = np.where(g["smoker"], "有", "無")
    f["飲酒"] = g["drinking"].to_numpy()
    f["判定"] = g["judgement"].to_numpy()
    return emit(out, st, f, g["pid"].to_numpy(), rng, truth, date_cols=["受診日"], required=REQ)


@writer("jido_fuyo")
def jido_fuyo(world, out, rng, truth) -> int:
    st = STYLES["jido_fuyo"]
    a = world.welfare["allowance"]
    f = _person_frame(world, a["pid"], st, rng, truth, days=a["start"].to_numpy())
    f["認定日"] = mess.format_dates(a["start"].to_numpy(), st.date_style)
    f["喪失日"] = mess.format_dates(a["end"].to_numpy(), st.date_style)
    return emit(out, st, f, a["pid"].to_numpy(), rng, truth, date_cols=["認定日"], required=REQ)


@writer("seiho")
def seiho(world, out, rng, truth) -> int:
    st = STYLES["seiho"]
    a = world.welfare["assistance"]
    f = _person_frame(world, a["pid"], st, rng, truth, days=a["start"].to_numpy())
    f["開始日"] = mess.format_dates(a["start"].to_numpy(), st.date_style)
    f["廃止日"] = mess.format_dates(a["end"].to_numpy(), st.date_style)
    return emit(out, st, f, a["pid"].to_numpy(), rng, truth, date_cols=["開始日"], required=REQ + ["世帯番号"])


@writer("shogai")
def shogai(world, out, rng, truth) -> int:
    st = STYLES["shogai"]
    d = world.welfare["disability"]
    f = _person_frame(world, d["pid"], st, rng, truth, days=d["date"].to_numpy())
    f["手帳種別"] = d["type"].to_numpy()
    f["等級"] = d["grade"].to_numpy()
    f["交付日"] = mess.format_dates(d["date"].to_numpy(), st.date_style)
    return emit(out, st, f, d["pid"].to_numpy(), rng, truth, date_cols=["交付日"], required=REQ)


@writer("yoho")
def yoho(world, out, rng, truth) -> int:
    st = STYLES["yoho"]
    y = world.nursery
    f = _person_frame(world, y["pid"], st, rng, truth, days=y["enter"].to_numpy())
    f["施設名"] = y["facility"].to_numpy()
    f["施設種別"] = y["ftype"].to_numpy()
    f["入所日"] = mess.format_dates(y["enter"].to_numpy(), st.date_style)
    f["退所日"] = mess.format_dates(y["leave"].to_numpy(), st.date_style)
    return emit(out, st, f, y["pid"].to_numpy(), rng, truth, date_cols=["入所日"], required=REQ)


@writer("dv")
def dv(world, out, rng, truth) -> int:
    st = STYLES["dv"]
    d = world.welfare["dv"]
    f = _person_frame(world, d["pid"], st, rng, truth, days=d["date"].to_numpy())
    f["登録日"] = mess.format_dates(d["date"].to_numpy(), st.date_style)
    f["区分"] = d["kind"].to_numpy()
    return emit(out, st, f, d["pid"].to_numpy(), rng, truth, date_cols=["登録日"], required=REQ)


@writer("soudan")
def soudan(world, out, rng, truth) -> int:
    st = STYLES["soudan"]
    c = world.consultations.sort_values(["date", "minute", "pid"], kind="stable")
    f = _person_frame(world, c["pid"], st, rng, truth, days=c["date"].to_numpy())
    hm = c["minute"].to_numpy()
    f["受付日時"] = pd.Series(mess.format_dates(c["date"].to_numpy(), st.date_style)).str.cat(
        [pd.Series(np.char.zfill((hm // 60).astype(str), 2)), pd.Series(np.char.zfill((hm % 60).astype(str), 2))],
        sep=" ").str.replace(r" (\d\d) (\d\d)$", r" \1:\2", regex=True).to_numpy()
    f["経路"] = c["route"].to_numpy()
    f["相談種別"] = c["kind"].to_numpy()
    f["内容"] = c["text"].to_numpy()
    f["担当"] = c["staff"].to_numpy()
    return emit(out, st, f, c["pid"].to_numpy(), rng, truth, date_cols=["受付日時"], required=REQ)


@writer("assessment")
def assessment(world, out, rng, truth) -> int:
    st = STYLES["assessment"]
    a = world.assessments.sort_values(["date", "pid"], kind="stable")
    f = _person_frame(world, a["pid"], st, rng, truth, days=a["date"].to_numpy())
    f["評価日"] = mess.format_dates(a["date"].to_numpy(), st.date_style)
    f["主因分類"] = a["cls"].to_numpy()
    f["担当地区"] = a["district"].to_numpy()
    f["フォロー状況"] = a["follow"].to_numpy()
    return emit(out, st, f, a["pid"].to_numpy(), rng, truth, date_cols=["評価日"], required=REQ)


@writer("jisou")
def jisou(world, out, rng, truth) -> int:
    st = STYLES["jisou"]
    c = world.custody.sort_values(["start", "pid"], kind="stable")
    f = _person_frame(world, c["pid"], st, rng, truth, days=c["start"].to_numpy())
    f["種別"] = c["kind"].to_numpy()
    f["開始日"] = mess.format_dates(c["start"].to_numpy(), st.date_style)
    f["終了日"] = mess.format_dates(c["end"].to_numpy(), st.date_style)
    f["主訴"] = c["reason"].to_numpy()
    # The custody list is the ground truth: no malformed rows, so it always counts 828.
    return emit(out, st, f, c["pid"].to_numpy(), rng, truth, date_cols=["開始日"], required=REQ,
                malformed_rate=0.0)


# Day services for children with disabilities (障害児通所支援): about 85 % of children holding a
# disability certificate, and about 2 % of the others from 18 months (higher with household
# risk), start one; a third of those who started more than a year ago have ended it.
SUPPORT_SERVICES = (("児童発達支援", 0.85), ("保育所等訪問支援", 0.08), ("医療型児童発達支援", 0.04),
                    ("居宅訪問型児童発達支援", 0.03))
SUPPORT_PROVIDERS = ("こども発達センターはばたき", "児童発達支援事業所そよかぜ", "療育ひろばつくし",
                     "市立こども療育センター")


@writer("shogaiji_tsusho")
def shogaiji_tsusho(world, out, rng, truth) -> int:
    """Drawn here from the world with this writer's own random stream (appended last), so every
    other extract stays exactly as it was."""
    st = STYLES["shogaiji_tsusho"]
    p = world.persons
    kids = p[p["role"].eq("child") & p["in_registry"] & (world.asof - p["birth"] >= 548)]
    certified = kids["pid"].isin(world.welfare["disability"]["pid"]).to_numpy()
    chance = np.where(certified, 0.85, 0.02 * np.exp(0.5 * kids["risk"].to_numpy()))
    c = kids[rng.random(len(kids)) < chance]
    lo = np.maximum(c["birth"].to_numpy() + 548, np.maximum(c["moved_in_date"].to_numpy(), 0))
    start = lo + (rng.random(len(c)) * np.maximum(world.asof - 1 - lo, 1)).astype(np.int64)
    ended = (world.asof - start > 365) & (rng.random(len(c)) < 1 / 3)
    end = np.where(ended, np.minimum(start + rng.integers(180, 720, len(c)), world.asof - 1), -1)
    names, shares = zip(*SUPPORT_SERVICES)
    f = _person_frame(world, c["pid"], st, rng, truth, days=start)
    f["サービス種別"] = rng.choice(names, len(c), p=shares)
    f["事業所名"] = rng.choice(SUPPORT_PROVIDERS, len(c))
    f["支給決定日"] = mess.format_dates(start, st.date_style)
    f["支給終了日"] = mess.format_dates(end, st.date_style)
    return emit(out, st, f, c["pid"].to_numpy(), rng, truth, date_cols=["支給決定日"],
                required=REQ + ["サービス種別"])
