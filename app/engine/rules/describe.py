"""One-line Japanese descriptions of event rows, for reasons and the evidence panel.

Vectorised: one pass per event type over a frame of rows, no per-row Python in the
common types (night-visit diagnoses are the exception: their names live in JSON attrs).
"""

from __future__ import annotations

import functools
import json
import string

import numpy as np
import pandas as pd

from app.engine import catalogue

# Each event type's wording is a template in the catalogue (resources/config/sources.toml);
# these are the computed fields a template may use besides {label} {subtype} {text} {status} {num}.
COMPUTED_FIELDS = ("caries", "item10", "diagnoses")


@functools.lru_cache(maxsize=None)
def _template(wording: str) -> tuple[tuple[str, str | None], ...]:
    """(literal text, field name or None) pairs of a wording template."""
    return tuple((lit, name) for lit, name, _spec, _conv in string.Formatter().parse(wording))


def _num(v) -> np.ndarray:
    """Numbers as short text: integers without decimals, others to one decimal; NaN -> ""."""
    v = np.asarray(v, dtype=float)
    out = np.full(len(v), "", dtype=object)
    whole = ~np.isnan(v) & (np.round(v) == v)
    frac = ~np.isnan(v) & ~whole
    out[whole] = v[whole].astype("int64").astype(str)
    out[frac] = np.round(v[frac], 1).astype(str)
    return out


def _diagnoses(attrs) -> np.ndarray:
    def names(text):
        try:
            d = json.loads(text) if text else {}
        except ValueError:
            return ""
        return "・".join(str(x.get("name") or x.get("code") or "") for x in d.get("diagnoses", []) if isinstance(x, dict))
    return np.array([names(a) for a in attrs], dtype=object)


def _item10(attrs: np.ndarray) -> np.ndarray:
    """EPDS item 10 (self-harm) from the attrs JSON; NaN when not answered."""
    return pd.to_numeric(pd.Series(attrs).str.extract(
        r'"items"\s*:\s*\[(?:\s*[^,\]]*,){9}\s*(-?[\d.]+)', expand=False), errors="coerce").to_numpy()


def _field(name: str, etype: str, m: np.ndarray, cols: dict) -> np.ndarray:
    """Values of one template field for the rows ``m`` of one event type."""
    sub, txt, num, attrs = cols["subtype"], cols["text"], cols["num"], cols["attrs"]
    if name == "label":
        return np.full(int(m.sum()), catalogue.type_label(etype), dtype=object)
    if name == "subtype":
        return sub[m]
    if name == "text":
        return txt[m]
    if name == "status":
        words = pd.Series(txt[m])
        return words.map(catalogue.catalogue().status).fillna(words).to_numpy(dtype=object)
    if name == "num":
        return _num(num[m])
    if name == "caries":
        return np.where(np.nan_to_num(num[m]) > 0, " むし歯" + _num(num[m]) + "本", "").astype(object)
    if name == "item10":
        # item 10 (self-harm) is always shown when answered, whatever the total
        item10 = _item10(attrs()[m])
        return np.where(np.nan_to_num(item10) > 0, "(問10: " + _num(item10) + ")", "").astype(object)
    if name == "diagnoses":
        dx = _diagnoses(attrs()[m])
        return np.where(dx != "", " 病名: " + dx, "").astype(object)
    raise KeyError(f"unknown wording field {{{name}}} of event type {etype}")


def describe(ev: pd.DataFrame) -> pd.Series:
    """``YYYY-MM-DD 内容`` for each row of an events frame (index preserved).

    The 内容 is the event type's wording template from the catalogue, filled on numpy object
    arrays with one mask per event type present (the rows described are only the few shown
    per child, but a Series setitem per type was the slow part)."""
    d = ev["date"].to_numpy().astype("datetime64[D]")
    date = np.where(np.isnat(d), "日付不明", d.astype(str)).astype(object)
    t = ev["type"].to_numpy(dtype=object)
    cols = {"subtype": pd.Series(ev["subtype"].to_numpy(dtype=object)).fillna("").to_numpy(dtype=object),
            "text": pd.Series(ev["value_text"].to_numpy(dtype=object)).fillna("").to_numpy(dtype=object),
            "num": ev["value_num"].to_numpy(dtype=float),
            "attrs": lambda: ev["attrs"].to_numpy(dtype=object)}
    out = (t + " " + cols["subtype"] + " " + cols["text"]).astype(object)  # types the catalogue lacks
    types = catalogue.event_types()
    for etype in pd.unique(t):
        if etype not in types:
            continue
        m = t == etype
        text = np.full(int(m.sum()), "", dtype=object)
        for literal, name in _template(types[etype].wording):
            text = text + literal
            if name is not None:
                text = text + _field(name, etype, m, cols)
        out[m] = text
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
