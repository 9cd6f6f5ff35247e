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


def _num(s: pd.Series) -> pd.Series:
    v = s.to_numpy(dtype=float)
    out = np.full(len(v), "", dtype=object)
    whole = ~np.isnan(v) & (np.round(v) == v)
    frac = ~np.isnan(v) & ~whole
    out[whole] = v[whole].astype("int64").astype(str)
    out[frac] = np.round(v[frac], 1).astype(str)
    return pd.Series(out, index=s.index, dtype=object)


def _diagnoses(attrs: pd.Series) -> pd.Series:
    def names(text):
        try:
            d = json.loads(text) if text else {}
        except ValueError:
            return ""
        return "・".join(str(x.get("name") or x.get("code") or "") for x in d.get("diagnoses", []) if isinstance(x, dict))
    return attrs.map(names)


def describe(ev: pd.DataFrame) -> pd.Series:
    """``YYYY-MM-DD 内容`` for each row of an events frame (index preserved)."""
    date = ev["date"].dt.strftime("%Y-%m-%d").fillna("日付不明")
    t = ev["type"]
    sub = ev["subtype"].fillna("")
    txt = ev["value_text"].fillna("")
    num = ev["value_num"]
    out = pd.Series(t + " " + sub + " " + txt, index=ev.index)
    m = t == "checkup"
    out[m] = sub[m] + "健診 " + txt[m].replace(STATE)
    m = t == "dental"
    caries = (" むし歯" + _num(num[m]) + "本").where(num[m].fillna(0) > 0, "")
    out[m] = sub[m] + "歯科健診 " + txt[m].replace(STATE) + caries
    m = t == "vaccination"
    out[m] = "予防接種 " + sub[m] + " " + _num(num[m]) + "回目"
    m = t == "night_visit"
    if m.any():
        dx = _diagnoses(ev.loc[m, "attrs"])
        out[m] = "夜間・休日受診(" + txt[m] + ")" + dx.map(lambda v: f" 病名: {v}" if v else "")
    m = t == "income_bracket"
    out[m] = "所得区分 " + txt[m]
    m = t == "epds"
    if m.any():
        # item 10 (self-harm) is always shown when answered, whatever the total
        item10 = pd.to_numeric(ev.loc[m, "attrs"].str.extract(
            r'"items"\s*:\s*\[(?:\s*[^,\]]*,){9}\s*(-?[\d.]+)', expand=False), errors="coerce")
        out[m] = "EPDS " + _num(num[m]) + "点" + ("(問10: " + _num(item10) + ")").where(item10 > 0, "")
    m = t == "guardian_checkup"
    out[m] = "保護者健診 喫煙" + txt[m]
    m = t.isin(list(MOVES))
    out[m] = t[m].map(MOVES)
    m = t == "public_assistance"
    out[m] = "生活保護 " + txt[m].replace(START_END)
    m = t == "single_parent_allowance"
    out[m] = "児童扶養手当 " + txt[m].replace(START_END)
    m = t == "nursery"
    out[m] = sub[m] + " " + txt[m].replace({"enrolled": "入所", "left": "退所"})
    m = t == "custody"
    out[m] = "児童相談所 " + sub[m]
    m = t == "assessment"
    out[m] = "アセスメント " + sub[m] + " " + txt[m]
    m = t.isin(["height", "weight"])
    unit = t[m].map({"height": "身長 ", "weight": "体重 "})
    out[m] = unit + _num(num[m]) + t[m].map({"height": "cm", "weight": "kg"})
    m = t == "birth_record"
    out[m] = "出生 " + _num(num[m]) + "g"
    return date + " " + out.str.strip()


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
