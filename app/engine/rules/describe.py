"""One-line Japanese descriptions of event rows, for reasons and the evidence panel.

Vectorised: one pass per event type over a frame of rows, no per-row Python in the
common types (night-visit diagnoses are the exception: their names live in JSON attrs).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

STATE = {"attended": "受診", "missed": "未受診"}
MOVES = {"move_in": "転入", "move_out": "転出", "move_within": "転居", "birth": "出生", "death": "死亡"}
START_END = {"start": "開始", "end": "終了"}


def _num(v) -> np.ndarray:
    """Numbers as short text: integers without decimals, others to one decimal; NaN -> ""."""
    v = np.asarray(v, dtype=float)
    out = np.full(len(v), "", dtype=object)
    whole = ~np.isnan(v) & (np.round(v) == v)
    frac = ~np.isnan(v) & ~whole
    out[whole] = v[whole].astype("int64").astype(str)
    out[frac] = np.round(v[frac], 1).astype(str)
    return out


def _map(arr: np.ndarray, mapping: dict) -> np.ndarray:
    out = arr.copy()
    for k, v in mapping.items():
        out[arr == k] = v
    return out


def _diagnoses(attrs) -> np.ndarray:
    def names(text):
        try:
            d = json.loads(text) if text else {}
        except ValueError:
            return ""
        return "・".join(str(x.get("name") or x.get("code") or "") for x in d.get("diagnoses", []) if isinstance(x, dict))
    return np.array([names(a) for a in attrs], dtype=object)


def describe(ev: pd.DataFrame) -> pd.Series:
    """``YYYY-MM-DD 内容`` for each row of an events frame (index preserved).

    Works on numpy object arrays, one mask per event type present (the rows described are
    only the few shown per child, but a Series setitem per type was the slow part)."""
    n = len(ev)
    d = ev["date"].to_numpy().astype("datetime64[D]")
    date = np.where(np.isnat(d), "日付不明", d.astype(str)).astype(object)
    t = ev["type"].to_numpy(dtype=object)
    sub = pd.Series(ev["subtype"].to_numpy(dtype=object)).fillna("").to_numpy(dtype=object)
    txt = pd.Series(ev["value_text"].to_numpy(dtype=object)).fillna("").to_numpy(dtype=object)
    num = ev["value_num"].to_numpy(dtype=float)
    out = (t + " " + sub + " " + txt).astype(object)
    present = set(pd.unique(t))

    def put(name_or_mask, fn):
        m = (t == name_or_mask) if isinstance(name_or_mask, str) else name_or_mask
        if m.any():
            out[m] = fn(m)

    put("checkup", lambda m: sub[m] + "健診 " + _map(txt[m], STATE))
    put("dental", lambda m: sub[m] + "歯科健診 " + _map(txt[m], STATE)
        + np.where(np.nan_to_num(num[m]) > 0, " むし歯" + _num(num[m]) + "本", ""))
    put("vaccination", lambda m: "予防接種 " + sub[m] + " " + _num(num[m]) + "回目")
    if "night_visit" in present:
        def night(m):
            dx = _diagnoses(ev["attrs"].to_numpy(dtype=object)[m])
            return "夜間・休日受診(" + txt[m] + ")" + np.where(dx != "", " 病名: " + dx, "")
        put("night_visit", night)
    put("income_bracket", lambda m: "所得区分 " + txt[m])
    if "epds" in present:
        def epds(m):
            # item 10 (self-harm) is always shown when answered, whatever the total
            item10 = pd.to_numeric(pd.Series(ev["attrs"].to_numpy(dtype=object)[m]).str.extract(
                r'"items"\s*:\s*\[(?:\s*[^,\]]*,){9}\s*(-?[\d.]+)', expand=False), errors="coerce").to_numpy()
            return "EPDS " + _num(num[m]) + "点" + np.where(np.nan_to_num(item10) > 0, "(問10: " + _num(item10) + ")", "")
        put("epds", epds)
    put("guardian_checkup", lambda m: "保護者健診 喫煙" + txt[m])
    put(np.isin(t, list(MOVES)), lambda m: _map(t[m], MOVES))
    put("public_assistance", lambda m: "生活保護 " + _map(txt[m], START_END))
    put("single_parent_allowance", lambda m: "児童扶養手当 " + _map(txt[m], START_END))
    put("nursery", lambda m: sub[m] + " " + _map(txt[m], {"enrolled": "入所", "left": "退所"}))
    put("custody", lambda m: "児童相談所 " + sub[m])
    put("assessment", lambda m: "アセスメント " + sub[m] + " " + txt[m])
    put("height", lambda m: "身長 " + _num(num[m]) + "cm")
    put("weight", lambda m: "体重 " + _num(num[m]) + "kg")
    put("birth_record", lambda m: "出生 " + _num(num[m]) + "g")
    text = date + " " + out
    return pd.Series(text, index=ev.index, dtype=object).str.strip()


def describe_grouped(rows: pd.DataFrame, n: int, max_items: int = 3, newest_first: bool = True,
                     mask: np.ndarray | None = None, prefix: str = "") -> np.ndarray:
    """Reason text per child from its evidence rows: the ``max_items`` newest (or oldest)
    described, then "ほかN件". Only the shown rows are described (and copied), so long
    histories stay cheap; ``mask`` selects the rows that count."""
    out = np.full(n, "", dtype=object)
    pos = rows["_pos"].to_numpy()
    d = rows["date"].to_numpy().astype("datetime64[ns]").astype("int64")
    idx = np.arange(len(pos)) if mask is None else np.flatnonzero(mask)
    if len(idx) == 0:
        return out
    order = idx[np.lexsort((-d[idx] if newest_first else d[idx], pos[idx]))]
    ps = pos[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    rank = np.arange(len(ps)) - np.repeat(starts, np.diff(np.r_[starts, len(ps)]))
    counts = np.bincount(ps, minlength=n)
    shown = rows.iloc[order[rank < max_items]]
    texts = describe(shown)
    if prefix:
        texts = prefix + texts
    return join_per_group(shown["_pos"].to_numpy(), texts, n, max_items, counts=counts)


def join_per_group(pos: np.ndarray, texts: pd.Series, n: int, max_items: int = 3, sep: str = "、",
                   counts: np.ndarray | None = None) -> np.ndarray:
    """Join texts per child position, first ``max_items`` in the given order, then "ほかN件"
    (``counts``: the total per child when the texts were already cut).

    Vectorised (no per-child loop): rank within group, spread into columns, concatenate.
    """
    out = np.full(n, "", dtype=object)
    if len(pos) == 0:
        return out
    frame = pd.DataFrame({"p": pos, "t": texts.to_numpy()})
    rank = frame.groupby("p").cumcount().to_numpy()
    if counts is None:
        counts = np.bincount(frame["p"].to_numpy(), minlength=n)
    acc = np.full(n, "", dtype=object)
    p_all, t_all = frame["p"].to_numpy(), frame["t"].to_numpy(dtype=object)
    for k in range(max_items):
        sel = rank == k
        p_k = p_all[sel]
        # only the children that have a k-th text change; object arrays concatenate element-wise
        acc[p_k] = np.where(acc[p_k] != "", acc[p_k] + sep, acc[p_k]) + t_all[sel]
    more = counts - max_items
    has_more = np.flatnonzero(more > 0)
    acc[has_more] = acc[has_more] + " ほか" + more[has_more].astype(str).astype(object) + "件"
    return acc
