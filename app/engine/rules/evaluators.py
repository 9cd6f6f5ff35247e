"""Evaluators: one function per rule ``kind``, each vectorised over all children at once.

Every evaluator returns a :class:`RuleOutput` aligned with ``ctx.children`` (positions 0..n-1):
the flag, the numeric value its threshold was compared with (what calibration histograms),
the evidence rows (event_id with role ``trigger`` = the rows that meet the condition, or
``context`` = rows that explain it) and a one-line Japanese reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.engine.reference import growth as growth_ref
from app.engine.reference import vaccination as vacc
from app.engine.rules import ages
from app.engine.rules.context import SUBJECT_PREFIX, EvalContext
from app.engine.rules.describe import describe, describe_grouped, join_per_group
from app.engine.rules.model import Rule

EVIDENCE_COLUMNS = ["_pos", "event_id", "role", "date"]


@dataclass
class RuleOutput:
    flag: np.ndarray          # bool, n
    value: np.ndarray         # float, n (NaN where not applicable)
    evidence: pd.DataFrame    # _pos, event_id, role, date
    reason: np.ndarray        # object, n ("" where not flagged)
    threshold: str
    first_date: np.ndarray    # datetime64[ns], n
    last_date: np.ndarray
    note: str = ""            # plain diagnostic for the rules view (empty code list, no match)


def compare(values, op: str, thr):
    """Vectorised comparison used by every condition (NaN compares False)."""
    v = values if isinstance(values, pd.Series) else pd.Series(values)
    if op == ">=":
        r = v >= thr
    elif op == ">":
        r = v > thr
    elif op == "<=":
        r = v <= thr
    elif op == "<":
        r = v < thr
    elif op == "==":
        r = v == thr
    elif op == "!=":
        r = v != thr
    elif op == "in":
        r = v.isin(list(thr))
    elif op == "not_in":
        r = ~v.isin(list(thr))
    elif op == "between":
        lo, hi = thr
        r = (v >= lo) & (v <= hi)
    else:
        raise ValueError(op)
    r = r.fillna(False).to_numpy(dtype=bool)
    # a missing value never meets a condition (NaN != 0 would otherwise be True)
    if op in ("!=", "not_in") or v.dtype.kind == "f":
        r &= v.notna().to_numpy()
    return r


def threshold_text(op: str, thr) -> str:
    names = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}
    if op in ("in", "not_in"):
        return ("" if op == "in" else "除く ") + "・".join(str(t) for t in thr)
    if op == "between":
        return f"{thr[0]}〜{thr[1]}"
    return f"{names[op]}{thr}"


def _attr_item(attrs: pd.Series, key: str, index: int) -> pd.Series:
    # one value of a JSON list inside attrs, e.g. EPDS item 10 of "items": [..]; regex keeps it vectorised
    pattern = rf'"{key}"\s*:\s*\[' + r"(?:\s*[^,\]]*,)" + "{" + str(index - 1) + "}" + r"\s*(-?[\d.]+)"
    return pd.to_numeric(attrs.str.extract(pattern, expand=False), errors="coerce")


def _attr_num(attrs: pd.Series, key: str) -> pd.Series:
    # a number (or true/false) stored under a key of the attrs JSON
    raw = attrs.str.extract(rf'"{key}"\s*:\s*"?(-?[\d.]+|true|false)', expand=False)
    return pd.to_numeric(raw.replace({"true": "1", "false": "0"}), errors="coerce")


def apply_where(ev: pd.DataFrame, where: dict | None) -> pd.DataFrame:
    """Row filters of a rule (subtype, value_text, value_num, attrs_regex, attr_item)."""
    if not where:
        return ev
    keep = np.ones(len(ev), dtype=bool)
    for key, cond in where.items():
        if key == "attrs_regex":
            keep &= ev["attrs"].str.contains(cond, regex=True).to_numpy(dtype=bool)
        elif key == "attr_num":
            vals = _attr_num(ev["attrs"], cond["key"])
            keep &= compare(vals, cond["op"], cond["value"])
        elif key == "code_list":
            # a configured code list (receipt_codes.toml), matched when the rule runs
            from app.engine.reference.receipts import CODE_LISTS
            keep &= ev["attrs"].str.contains(CODE_LISTS[cond](), regex=True).to_numpy(dtype=bool)
        elif key == "attr_item":
            vals = _attr_item(ev["attrs"], cond["key"], int(cond["index"]))
            keep &= compare(vals, cond["op"], cond["value"])
        else:
            keep &= compare(ev[key], cond["op"], cond["value"])
    return ev[keep]


def _finish(ctx: EvalContext, rule: Rule, flag, value, triggers: pd.DataFrame | None,
            context: pd.DataFrame | None = None, detail: np.ndarray | None = None,
            threshold: str = "", prefix: str = "") -> RuleOutput:
    """Common tail: age band, evidence of flagged children only, reason text, dates."""
    flag = np.asarray(flag, dtype=bool) & ctx.age_mask(rule.age_ranges)
    parts = []
    trig_mask = None
    for frame, role in ((triggers, "trigger"), (context, "context")):
        if frame is not None and len(frame):
            p = frame["_pos"].to_numpy()
            mask = flag[p]
            if role == "trigger":
                trig_mask = mask
            parts.append(pd.DataFrame({"_pos": p[mask], "event_id": frame["event_id"].to_numpy()[mask].astype("int64"),
                                       "role": role, "date": frame["date"].to_numpy()[mask]}))
    evidence = (pd.concat(parts, ignore_index=True) if parts
                else pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                                   zip(EVIDENCE_COLUMNS, ["int64", "int64", "object", "datetime64[ns]"])}))
    if len(parts) > 1 or rule.kind == "combine":
        evidence = evidence.drop_duplicates(["_pos", "event_id"])
    first = np.full(ctx.n, np.datetime64("NaT"), dtype="datetime64[ns]")
    last = first.copy()
    trig = evidence[evidence["role"] == "trigger"]
    if len(trig):
        tp = trig["_pos"].to_numpy()
        td = trig["date"].to_numpy().astype("datetime64[ns]")
        ok = ~np.isnat(td)
        order = np.lexsort((td[ok], tp[ok]))
        sp, sd = tp[ok][order], td[ok][order]
        if len(sp):
            starts = np.r_[True, sp[1:] != sp[:-1]]
            ends = np.r_[sp[1:] != sp[:-1], True]
            first[sp[starts]] = sd[starts]
            last[sp[ends]] = sd[ends]
    if detail is None:
        detail = np.full(ctx.n, "", dtype=object)
        if triggers is not None and len(triggers) and trig_mask is not None:
            detail = describe_grouped(triggers, ctx.n, mask=trig_mask, prefix=prefix)
    detail = pd.Series(detail, dtype=object).fillna("").to_numpy(dtype=object)
    has = detail != ""
    reason = np.full(ctx.n, "", dtype=object)
    reason[flag] = rule.label
    both = flag & has
    reason[both] = reason[both] + "：" + detail[both]
    return RuleOutput(flag, np.asarray(value, dtype=float), evidence, reason,
                      rule.get("threshold_text", threshold) or threshold, first, last)


# -- kinds --------------------------------------------------------------------------------

def eval_events(ctx: EvalContext, rule: Rule) -> RuleOutput:
    """Generic: events of some types through a subject, row filters, an aggregate and a threshold."""
    subject = rule.get("subject", "self")
    ev = ctx.linked(rule.get("event_types"), subject)
    ev = apply_where(ev, rule.get("where"))
    if rule.get("window_months") is not None:
        ev = ev[ev["_midx"] > ctx.as_of_idx - int(rule.get("window_months"))]
    for key, scale in (("age_at_event_months", 1), ("age_at_event_years", 12)):
        if rule.get(key) is not None:
            from app.engine.rules.model import _ranges
            keep = np.zeros(len(ev), dtype=bool)
            for lo, hi in _ranges(rule.get(key), key, rule.id, scale):
                keep |= (ev["_age"] >= lo).to_numpy() & (ev["_age"] <= hi).to_numpy()
            ev = ev[keep]
    if rule.get("for_child"):
        # a mother's record that names its child (EPDS child_id) counts for that child only
        named = ev["attrs"].str.extract(r'"child_id"\s*:\s*"?([0-9A-Za-z]+)', expand=False)
        ev = ev[(named.to_numpy(dtype=object) == ctx.pos.to_numpy()[ev["_pos"].to_numpy()])]
    if rule.get("since_resident"):
        rf = ctx.children["resident_from_idx"].to_numpy()[ev["_pos"].to_numpy()]
        ev = ev[np.isnan(rf) | (ev["_midx"].to_numpy() >= rf)]
    agg = rule.get("aggregate") or {"fn": "count", "op": ">=", "value": 1}
    fn, op, thr = agg["fn"], agg["op"], agg["value"]
    pos = ev["_pos"].to_numpy()
    textual = isinstance(thr, str) or (isinstance(thr, list) and thr and isinstance(thr[0], str))
    if fn == "count":
        value = np.bincount(pos, minlength=ctx.n).astype(float)
        row_ok = np.ones(len(ev), dtype=bool)
    elif fn == "sum":
        value = np.bincount(pos, weights=ev["value_num"].fillna(0).to_numpy(), minlength=ctx.n)
        row_ok = np.ones(len(ev), dtype=bool)
    elif fn in ("max", "min"):
        g = ev.groupby("_pos")["value_num"]
        s = g.max() if fn == "max" else g.min()
        value = s.reindex(range(ctx.n)).to_numpy(dtype=float)
        row_ok = compare(ev["value_num"], op, thr)
    else:  # latest
        ev = ev.sort_values(["_pos", "date", "event_id"])
        latest = ~ev["_pos"].duplicated(keep="last").to_numpy()
        ev = ev[latest]
        pos = ev["_pos"].to_numpy()
        col = "value_text" if textual else "value_num"
        if textual:
            value = np.full(ctx.n, np.nan)
            vt = np.full(ctx.n, None, dtype=object)
            vt[pos] = ev[col].to_numpy()
            flag = compare(pd.Series(vt), op, thr)
            value[pos] = compare(ev[col], op, thr).astype(float)
        else:
            value = np.full(ctx.n, np.nan)
            value[pos] = ev[col].to_numpy(dtype=float)
        row_ok = compare(ev[col], op, thr)
    if not (fn == "latest" and textual):
        flag = compare(value, op, thr)
        if fn in ("count", "sum"):
            flag &= np.bincount(pos, minlength=ctx.n) > 0
    trig = ev if row_ok.all() else ev[row_ok]
    label = {"count": "件数", "sum": "合計", "max": "最大", "min": "最小", "latest": "最新"}[fn]
    out = _finish(ctx, rule, flag, value, trig, threshold=f"{label}{threshold_text(op, thr)}",
                  prefix=SUBJECT_PREFIX.get(subject, ""))
    code_list = (rule.get("where") or {}).get("code_list")
    if code_list:
        from app.engine.reference.receipts import code_list_note
        notes = [code_list_note(code_list)]
        if not len(ev) and len(ctx.linked(rule.get("event_types"), subject)):
            notes.append("コードリストに一致する記録が直近の判定で0件でした")
        out.note = " / ".join(n for n in notes if n)
    return out


def _band_specs(rule: Rule):
    from app.engine.rules.model import age_ranges_of
    return [(age_ranges_of(b, rule.id), b) for b in rule.get("band", [])]


def eval_cumulative_count(ctx: EvalContext, rule: Rule) -> RuleOutput:
    """Report ①: events counted up to now; per age band a set of counts (or a bound) is flagged."""
    ev = apply_where(ctx.linked(rule.get("event_types")), rule.get("where"))
    counts = np.bincount(ev["_pos"].to_numpy(), minlength=ctx.n).astype(float)
    flag = np.zeros(ctx.n, dtype=bool)
    texts = []
    for ranges, band in _band_specs(rule):
        m = ctx.age_mask(ranges)
        if "counts_in" in band:
            cond = np.isin(counts, band["counts_in"])
            texts.append(f"{_ranges_text(ranges)}: {'・'.join(map(str, band['counts_in']))}回")
        else:
            cond = compare(counts, band["op"], band["value"])
            texts.append(f"{_ranges_text(ranges)}: {threshold_text(band['op'], band['value'])}回")
        flag |= m & cond
    detail = np.char.add("累計", counts.astype(int).astype(str)).astype(object)
    detail = np.char.add(detail.astype(str), "回").astype(object)
    return _finish(ctx, rule, flag, counts, None, context=ev, detail=detail, threshold="; ".join(texts))


def _ranges_text(ranges) -> str:
    return "・".join(f"{ages.age_label(lo)}〜{ages.age_label(hi)}" for lo, hi in ranges)


def eval_checkup_by_age(ctx: EvalContext, rule: Rule) -> RuleOutput:
    """Report ⑤: per age band one checkup kind; flagged if its result meets ``value_at_least``
    (e.g. caries ≥ 1) or, with ``flag_if_absent``, if there is no attended record at all."""
    ev = ctx.linked(rule.get("event_types"))
    flag = np.zeros(ctx.n, dtype=bool)
    value = np.full(ctx.n, np.nan)
    trig_parts, texts = [], []
    for ranges, band in _band_specs(rule):
        m = ctx.age_mask(ranges)
        kinds = band["subtype"] if isinstance(band["subtype"], list) else [band["subtype"]]
        sub = ev[ev["subtype"].isin(kinds)]
        att = sub[sub["value_text"] == "attended"].sort_values("date")
        att = att[~att["_pos"].duplicated(keep="last")]
        val = np.full(ctx.n, np.nan)
        val[att["_pos"].to_numpy()] = att["value_num"].fillna(0).to_numpy()
        present = np.zeros(ctx.n, dtype=bool)
        present[att["_pos"].to_numpy()] = True
        cond = compare(val, ">=", band.get("value_at_least", 1))
        if band.get("flag_if_absent", False):
            cond |= ~present
        flag |= m & cond
        value = np.where(m, val, value)
        hit = att[cond[att["_pos"].to_numpy()] & m[att["_pos"].to_numpy()]]
        miss = sub[(sub["value_text"] == "missed") & m[sub["_pos"].to_numpy()] & ~present[sub["_pos"].to_numpy()]]
        trig_parts += [hit, miss]
        texts.append(f"{_ranges_text(ranges)}: {'/'.join(kinds)} ≥{band.get('value_at_least', 1)}"
                     + ("または受診歴なし" if band.get("flag_if_absent") else ""))
    trig = pd.concat(trig_parts) if trig_parts else None
    out = _finish(ctx, rule, flag, value, trig, threshold="; ".join(texts))
    # children flagged for having no record at all get a reason without an event
    no_ev = out.flag & (out.reason == rule.label)
    out.reason[no_ev] = rule.label + "：受診歴なし"
    return out


CHECKUP_BY_AGE = ((0, 6, "4か月"), (7, 17, "10か月"), (18, 35, "1歳6か月"), (36, 83, "3歳"))


def _measurements_with_checkup(ctx: EvalContext, measure: str) -> pd.DataFrame:
    """Measurement events with the checkup kind they came from (same source line), else by age."""
    ms = ctx.linked([measure])
    ck = ctx.of_types(["checkup"])[["person_id", "source_file", "source_line", "subtype"]]
    ck = ck.drop_duplicates(["person_id", "source_file", "source_line"]).rename(columns={"subtype": "_checkup"})
    ms = ms.drop(columns=[c for c in ("_checkup",) if c in ms]).merge(
        ck, on=["person_id", "source_file", "source_line"], how="left")
    guess = pd.Series(np.nan, index=ms.index, dtype=object)
    for lo, hi, name in CHECKUP_BY_AGE:
        guess[(ms["_age"] >= lo) & (ms["_age"] <= hi)] = name
    ms["_checkup"] = ms["_checkup"].fillna(guess)
    return ms


def eval_cohort_percentile(ctx: EvalContext, rule: Rule) -> RuleOutput:
    """Report ④: latest measurement at a checkup, as a percentile within the same checkup and
    sex in this population (the report's 体重区分), flagged in the band's percentile ranges."""
    ms = _measurements_with_checkup(ctx, rule.get("measure", "weight")).dropna(subset=["value_num"])
    ms = ms.sort_values("date")
    ms = ms[~ms.duplicated(["_pos", "_checkup"], keep="last")]
    ms = ms.assign(_sex=ctx.children["sex"].to_numpy()[ms["_pos"].to_numpy()])
    basis = rule.get("basis", "cohort")
    if basis == "reference":
        # the checkup system's 体重区分: percentile on the national growth curve
        ms["_pct"] = growth_ref.percentiles(rule.get("measure", "weight"), ms["_sex"].to_numpy(),
                                            growth_ref.decimal_age(ms["_age"].to_numpy(float)),
                                            ms["value_num"].to_numpy())
    else:
        ms["_pct"] = ms.groupby(["_checkup", "_sex"])["value_num"].rank(pct=True, method="average") * 100
    flag = np.zeros(ctx.n, dtype=bool)
    value = np.full(ctx.n, np.nan)
    trig_parts, texts = [], []
    for ranges, band in _band_specs(rule):
        m = ctx.age_mask(ranges)
        sub = ms[ms["_checkup"].isin(band["checkup"])]
        sub = sub[~sub["_pos"].duplicated(keep="last")]
        pct = np.full(ctx.n, np.nan)
        pct[sub["_pos"].to_numpy()] = sub["_pct"].to_numpy()
        cond = np.zeros(ctx.n, dtype=bool)
        for lo, hi in band["percentiles"]:
            cond |= (pct >= lo) & (pct <= hi)
        flag |= m & cond
        value = np.where(m, pct, value)
        trig_parts.append(sub[(m & cond)[sub["_pos"].to_numpy()]])
        texts.append(f"{_ranges_text(ranges)}: {'/'.join(band['checkup'])} "
                     + "・".join(f"{lo}〜{hi}%" for lo, hi in band["percentiles"]))
    trig = pd.concat(trig_parts)
    detail = np.full(ctx.n, "", dtype=object)
    if len(trig):
        d = describe(trig) + ("(集団内" if basis == "cohort" else "(発育曲線") + \
            trig["_pct"].round(0).astype(int).astype(str) + "パーセンタイル)"
        detail = join_per_group(trig["_pos"].to_numpy(), d, ctx.n)
    return _finish(ctx, rule, flag, value, trig, detail=detail, threshold="; ".join(texts))


def eval_due_checkups(ctx: EvalContext, rule: Rule) -> RuleOutput:
    """Improved ①/⑤: each checkup the child was due for, judged on its own, history kept.

    ``due`` lists {subtype, from_months, to_months}: the age window in which it is done.
    A checkup counts as missed when a ``missed`` record exists (even if the child attended
    later: the reason says 後日受診 — past exceedances persist with their dates), or when no
    record exists although the window closed (+ grace, surely) while the child lived here.
    Windows that closed before a move-in are unknown, never missed.
    """
    ev = ctx.linked(rule.get("event_types", ["checkup"]))
    grace = int(rule.get("grace_months", 1))
    birth = ctx.children["birth_idx"].to_numpy()
    rf = ctx.children["resident_from_idx"].to_numpy()
    kinds = rule.get("kinds")
    missed_count = np.zeros(ctx.n)
    detail = pd.Series("", index=range(ctx.n), dtype=object)
    trig_parts, ctx_parts = [], []
    for d in rule.get("due"):
        if kinds and d["subtype"] not in kinds:
            continue
        sub = ev[ev["subtype"] == d["subtype"]]
        att = sub[sub["value_text"] == "attended"]
        mis = sub[sub["value_text"] == "missed"]
        if len(mis):
            rfm = rf[mis["_pos"].to_numpy()]
            mis = mis[np.isnan(rfm) | (mis["_midx"].to_numpy() >= rfm)]
        attended = np.zeros(ctx.n, dtype=bool)
        attended[att["_pos"].to_numpy()] = True
        has_missed = np.zeros(ctx.n, dtype=bool)
        has_missed[mis["_pos"].to_numpy()] = True
        window_end = birth + int(d["to_months"])
        overdue = ctx.as_of_idx >= window_end + grace + 1
        known = np.isnan(rf) | (window_end >= rf)
        no_record = overdue & known & ~attended & ~has_missed
        missed = has_missed | no_record
        missed_count += missed
        first_mis = mis.sort_values("date")
        first_mis = first_mis[~first_mis["_pos"].duplicated()]
        mdate = pd.Series("", index=range(ctx.n), dtype=object)
        mdate.iloc[first_mis["_pos"].to_numpy()] = _strftime(first_mis["date"], "%Y-%m")
        label = d["subtype"] + ("健診" if rule.get("event_types", ["checkup"]) == ["checkup"] else "歯科健診")
        # month text only where it is shown (children with no record), vectorised
        end_txt = np.full(ctx.n, "", dtype=object)
        nr = np.flatnonzero(no_record)
        if len(nr):
            end_txt[nr] = _month_texts(window_end[nr])
        piece = np.where(has_missed, label + " 未受診(" + mdate + ")" + np.where(attended, "→後日受診", ""),
                         np.where(no_record, label + " 受診記録なし(対象" + end_txt + "まで)", ""))
        piece = pd.Series(piece, dtype=object)
        detail = detail + np.where((detail != "") & (piece != ""), "、", "") + piece
        trig_parts.append(mis)
        ctx_parts.append(att[has_missed[att["_pos"].to_numpy()]])
    flag = missed_count >= 1
    return _finish(ctx, rule, flag, missed_count, pd.concat(trig_parts) if trig_parts else None,
                   context=pd.concat(ctx_parts) if ctx_parts else None, detail=detail.to_numpy(),
                   threshold=f"対象健診の未受診 ≥1 (猶予{grace}か月)")


STATUS_TEXT = {"unvaccinated": "未接種", "behind": "遅れ", "reminder": "推奨時期を過ぎた", "unknown": "不明"}


def _strftime(dates: pd.Series, fmt: str) -> np.ndarray:
    """``dates.dt.strftime(fmt)`` as an object array, each distinct date formatted once."""
    days, inv = np.unique(dates.to_numpy(dtype="datetime64[ns]"), return_inverse=True)
    return pd.DatetimeIndex(days).strftime(fmt).to_numpy(dtype=object)[inv.reshape(-1)]


def _month_texts(index: np.ndarray) -> np.ndarray:
    """Month indexes -> ``YYYY-MM`` (vectorised, each distinct month formatted once; '' for NaN)."""
    idx = np.asarray(index, dtype=float)
    ok = ~np.isnan(idx)
    out = np.full(idx.shape, "", dtype=object)
    if ok.any():
        months, inv = np.unique(idx[ok].astype("int64"), return_inverse=True)
        text = (pd.Series(months // 12).astype(str).str.zfill(4) + "-"
                + pd.Series(months % 12 + 1).astype(str).str.zfill(2)).to_numpy(dtype=object)
        out[ok] = text[inv.reshape(-1)]
    return out


VACCINATION_COLUMNS = ("subtype", "value_num", "date", "event_id")  # what judge and the evidence read


def eval_vaccine_schedule(ctx: EvalContext, rule: Rule) -> RuleOutput:
    """Improved ②: each routine vaccine judged against the schedule for the child's age.

    Late = past the end of the *standard* window (標準的な接種期間) of the first missing dose,
    plus the grace; the recommended time only gives ``reminder`` (推奨時期を過ぎた), which a rule
    lists in ``statuses`` only on purpose (the shipped rules do not: it is not a flag)."""
    ch = ctx.children[["person_id", "birth_idx", "resident_from_idx"]]
    # the children's own doses, with their positions: judge counts no one else's (all persons'
    # doses were a second copy of the largest event type, half of it older children's)
    doses = ctx.linked(["vaccination"], columns=VACCINATION_COLUMNS)
    grace = int(rule.get("grace_months", 1))
    if ("vaccine_judgement", grace) not in ctx.cache:
        # kept for the other vaccine rules of the run: only the columns read below (one row per
        # child and vaccine: 3 M rows at 200,000 children)
        j = vacc.judge(ch, doses, ctx.as_of, grace_months=grace)
        ctx.cache[("vaccine_judgement", grace)] = j[["_pos", "vaccine", "vaccine_name", "status", "missing_dose",
                                                      "due_index"]]
        del j
    j = ctx.cache[("vaccine_judgement", grace)]
    statuses = rule.get("statuses", ["unvaccinated", "behind"])
    if rule.get("vaccines"):
        j = j[j["vaccine"].isin(rule.get("vaccines"))]
    hit = j[j["status"].isin(statuses)].reset_index(drop=True)
    value = np.bincount(hit["_pos"].to_numpy(), minlength=ctx.n).astype(float)
    flag = value >= int(rule.get("min_vaccines", 1))
    dose_txt = hit["missing_dose"].fillna(0).astype(int).astype(str)
    st = hit["status"].to_numpy()
    end_txt = _month_texts(hit["due_index"].to_numpy())
    text = hit["vaccine_name"] + np.where(
        st == "unvaccinated", " 未接種(標準期間〜" + end_txt + ")",
        np.where(st == "behind", " " + dose_txt + "回目 標準期間を過ぎた(〜" + end_txt + ")",
                 np.where(st == "reminder", " " + dose_txt + "回目 推奨時期を過ぎた",
                          " " + dose_txt + "回目 転入前に期限")))
    detail = join_per_group(hit["_pos"].to_numpy(), pd.Series(text).reset_index(drop=True), ctx.n, max_items=4)
    # context: the recorded doses of the vaccines judged late (what was given, and when)
    vac_ev = ctx.linked(["vaccination"], columns=VACCINATION_COLUMNS)
    groups = {v.id: v.satisfied_by for v in vacc.default_schedule()}
    late_pairs = pd.DataFrame([(vid, sub) for vid, subs in groups.items() for sub in subs], columns=["vaccine", "subtype"])
    late = hit[["_pos", "vaccine"]].merge(late_pairs, on="vaccine")[["_pos", "subtype"]].drop_duplicates()
    vac_ev = vac_ev[["_pos", "subtype", "event_id", "date"]].merge(late, on=["_pos", "subtype"])
    return _finish(ctx, rule, flag, value, None, context=vac_ev, detail=detail,
                   threshold=f"定期接種の標準的な接種期間に対し{'/'.join(STATUS_TEXT.get(s, s) for s in statuses)}"
                             f" ≥{rule.get('min_vaccines', 1)}種")


GROWTH_MEASURES = {"weight_z", "height_z", "weight_pct", "height_pct", "kaup", "kaup_band",
                   "obesity", "weight_z_drop"}
MEASURE_TEXT = {"weight_z": "体重zスコア", "height_z": "身長zスコア", "weight_pct": "体重パーセンタイル",
                "height_pct": "身長パーセンタイル", "kaup": "カウプ指数", "kaup_band": "カウプ指数の年齢別基準(−1 未満/+1 超)",
                "obesity": "幼児肥満度(%)", "weight_z_drop": "体重zスコア低下"}


def _measurements(ctx: EvalContext) -> pd.DataFrame:
    """Weight and height per (child, date), paired; built once per run and shared."""
    if "measurements" not in ctx.cache:
        cols = ["_pos", "date", "_midx", "_age", "value_num", "event_id"]
        w = ctx.linked(["weight"], columns=cols)[cols].dropna(subset=["value_num"]).drop_duplicates(
            ["_pos", "date"], keep="last")
        h = ctx.linked(["height"], columns=cols)[cols].dropna(subset=["value_num"]).drop_duplicates(
            ["_pos", "date"], keep="last")
        m = w.merge(h, on=["_pos", "date", "_midx", "_age"], how="outer", suffixes=("_w", "_h"))
        m = m.sort_values(["_pos", "date"], kind="stable").reset_index(drop=True)
        m["_sex"] = ctx.children["sex"].to_numpy()[m["_pos"].to_numpy()]
        ctx.cache["measurements"] = m
    return ctx.cache["measurements"]


def eval_growth(ctx: EvalContext, rule: Rule) -> RuleOutput:
    """Improved ④: the latest measurement vs the 2023 growth reference (z, percentile, Kaup,
    幼児肥満度) or its trend (fall of weight z since the previous measurement)."""
    measure = rule.get("measure")
    m = _measurements(ctx)
    m = m[m["_age"] >= int(rule.get("min_age_months", 0))]
    sex, age = m["_sex"].to_numpy(), m["_age"].to_numpy(dtype=float)
    dec = growth_ref.decimal_age(age)  # the reference's scale: expected age in months
    w, h = m["value_num_w"].to_numpy(), m["value_num_h"].to_numpy()
    if measure in ("weight_z", "weight_z_drop"):
        x = growth_ref.z_scores("weight", sex, dec, w)
    elif measure == "weight_pct":
        x = growth_ref.percentiles("weight", sex, dec, w)
    elif measure == "height_z":
        x = growth_ref.z_scores("height", sex, dec, h)
    elif measure == "height_pct":
        x = growth_ref.percentiles("height", sex, dec, h)
    elif measure == "kaup":
        x = growth_ref.kaup_index(w, h)
    elif measure == "kaup_band":
        x = growth_ref.kaup_band(age, growth_ref.kaup_index(w, h))
    else:
        x = growth_ref.obesity_degree(sex, h, w, age)
    # latest measurements with no reference (beyond 6年6か月 for z/percentiles): said, not judged
    latest = ~m["_pos"].duplicated(keep="last").to_numpy()
    no_ref = int((dec[latest] > growth_ref.reference_end_months()).sum()) if measure in (
        "weight_z", "weight_pct", "height_z", "height_pct", "weight_z_drop") else 0
    m = m.assign(_x=x).dropna(subset=["_x"])
    if measure == "weight_z_drop":
        g = m.groupby("_pos")
        m = m.assign(_x=g["_x"].shift(1) - m["_x"], _prev_id=g["event_id_w"].shift(1))
    last = m[~m["_pos"].duplicated(keep="last")]
    if rule.get("window_months") is not None:
        last = last[last["_midx"] > ctx.as_of_idx - int(rule.get("window_months"))]
    value = np.full(ctx.n, np.nan)
    value[last["_pos"].to_numpy()] = last["_x"].to_numpy()
    op, thr = rule.get("op"), rule.get("value")
    flag = compare(value, op, thr)
    hit = last[flag[last["_pos"].to_numpy()]]
    uses = {"height_z": ["h"], "height_pct": ["h"], "weight_z": ["w"], "weight_pct": ["w"],
            "weight_z_drop": ["w"]}.get(measure, ["w", "h"])
    trig = pd.concat([hit[["_pos", "date"]].assign(event_id=hit[f"event_id_{u}"]) for u in uses])
    trig = trig.dropna(subset=["event_id"])
    ctx_rows = None
    if measure == "weight_z_drop" and len(hit):
        prev = hit.dropna(subset=["_prev_id"])
        ctx_rows = pd.DataFrame({"_pos": prev["_pos"].to_numpy(), "event_id": prev["_prev_id"].to_numpy(),
                                 "date": pd.NaT})
        ctx_rows["date"] = m.set_index("event_id_w")["date"].reindex(prev["_prev_id"]).to_numpy()
    shown = hit
    unit = {"w": "体重 " + pd.Series(shown["value_num_w"]).round(1).astype(str) + "kg",
            "h": "身長 " + pd.Series(shown["value_num_h"]).round(1).astype(str) + "cm"}
    text = pd.Series(_strftime(shown["date"], "%Y-%m-%d"), index=shown.index)
    for u in uses:
        text = text + " " + unit[u]
    if measure == "kaup_band":
        # show the index itself and which side of the age band it falls
        k = growth_ref.kaup_index(shown["value_num_w"].to_numpy(), shown["value_num_h"].to_numpy())
        side = np.where(shown["_x"].to_numpy() < 0, "(基準範囲未満)", "(基準範囲超)")
        text = text + " カウプ指数 " + pd.Series(np.round(k, 1), index=shown.index).astype(str) + side
    else:
        text = text + " " + MEASURE_TEXT[measure] + " " + shown["_x"].round(1).astype(str)
    detail = join_per_group(shown["_pos"].to_numpy(), text, ctx.n)
    out = _finish(ctx, rule, flag, value, trig, context=ctx_rows, detail=detail,
                  threshold=f"{MEASURE_TEXT[measure]} {threshold_text(op, thr)}")
    if no_ref:
        end = growth_ref.reference_end_months()
        out.note = f"基準なし: 最新の測定が基準表の範囲({ages.age_label(end)}未満)外の児 {no_ref}人は判定していません"
    return out


def eval_young_mother(ctx: EvalContext, rule: Rule) -> RuleOutput:
    """Mother's age at the child's birth ≤ ``max_age_years`` (若年出産)."""
    link = ctx.link("mother")
    mb = ctx.person_birth.reindex(link["subject_id"]).to_numpy()
    years = np.full(ctx.n, np.nan)
    cb = ctx.children["birth_idx"].to_numpy()[link["_pos"].to_numpy()]
    a = np.floor((cb - mb) / 12)
    # the youngest known mother (a child has one; duplicates from two sources agree)
    s = pd.Series(a).groupby(link["_pos"].to_numpy()).min()
    years[s.index.to_numpy()] = s.to_numpy()
    thr = int(rule.get("max_age_years", 19))
    flag = compare(years, "<=", thr)
    detail = np.where(np.isnan(years), "", "出産時の母の年齢 " + pd.Series(years).fillna(0).astype(int).astype(str) + "歳")
    births = ctx.linked(["birth", "birth_record"])
    return _finish(ctx, rule, flag, years, None, context=births, detail=detail,
                   threshold=f"出産時の母の年齢 ≤{thr}歳")


def eval_combine(ctx: EvalContext, rule: Rule) -> RuleOutput:
    """All of / any of / none of other rules (e.g. high EPDS and no nursery enrolment)."""
    flag = np.ones(ctx.n, dtype=bool)
    for rid in rule.get("all", []):
        flag &= ctx.outputs[rid].flag
    if rule.get("any"):
        anyf = np.zeros(ctx.n, dtype=bool)
        for rid in rule.get("any"):
            anyf |= ctx.outputs[rid].flag
        flag &= anyf
    for rid in rule.get("none", []):
        flag &= ~ctx.outputs[rid].flag
    parts = []
    detail = pd.Series("", index=range(ctx.n), dtype=object)
    for rid in (*rule.get("all", []), *rule.get("any", [])):
        o = ctx.outputs[rid]
        ev = o.evidence[o.evidence["role"] == "trigger"]
        parts.append(ev)
        detail = detail + np.where((detail != "") & o.flag, " ／ ", "") + np.where(o.flag, o.reason, "")
    for rid in rule.get("none", []):
        detail = detail + np.where(flag, f" ／ {ctx.labels.get(rid, rid)}: なし", "")
    trig = pd.concat(parts) if parts else None
    lab = ctx.labels
    text = " かつ ".join([*(lab.get(r, r) for r in rule.get("all", [])),
                          *(["(" + " または ".join(lab.get(r, r) for r in rule.get("any")) + ")"] if rule.get("any") else []),
                          *[f"{lab.get(r, r)}なし" for r in rule.get("none", [])]])
    return _finish(ctx, rule, flag, flag.astype(float), trig, detail=detail.to_numpy(), threshold=text)


def event_types_read(rule: Rule) -> set[str]:
    """The event types a rule's evaluator reads (a store loads only these for a run)."""
    kind = rule.kind
    if kind == "cohort_percentile":
        return {rule.get("measure", "weight"), "checkup"}
    if kind == "due_checkups":
        return set(rule.get("event_types", ["checkup"]))
    if kind == "vaccine_schedule":
        return {"vaccination"}
    if kind == "growth":
        return {"weight", "height"}
    if kind == "young_mother":
        return {"birth", "birth_record"}
    if kind == "combine":
        return set()
    return set(rule.get("event_types") or [])


EVALUATORS = {
    "events": eval_events,
    "cumulative_count": eval_cumulative_count,
    "checkup_by_age": eval_checkup_by_age,
    "cohort_percentile": eval_cohort_percentile,
    "due_checkups": eval_due_checkups,
    "vaccine_schedule": eval_vaccine_schedule,
    "growth": eval_growth,
    "young_mother": eval_young_mother,
    "combine": eval_combine,
}
