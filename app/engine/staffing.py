"""A proposal for how many nurses (and which senior nurses) each district gets.

Method (stated to the chief in the view, ``METHOD_TEXT``):

1. **Nurses by largest remainder (Hamilton).** Each district's quota is
   ``N × visits_d / Σ visits``; every district gets the whole part of its quota, and the
   nurses left over go one each to the largest fractional parts (ties: the district with more
   visits, then name order). This is the textbook apportionment whose totals always add up
   to N and whose result never moves more than one nurse away from the exact quota.
2. **A minimum per district** (default one nurse): a district below it takes a nurse from the
   district whose load would stay lowest after giving one up, repeated until every district
   has its minimum (impossible if N < minimum × districts: then the minimum is lowered).
3. **Senior nurses to the highest need.** Districts are ranked by need — flagged-not-followed
   children per 1,000 children, then the absolute number, then name — and the seniors are dealt
   out one per district down that ranking, round after round, never more seniors than nurses in
   a district.

Load per nurse = expected visits per month ÷ nurses assigned (∞ when visits but no nurse).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

METHOD_TEXT = (
    "配分方法: 月あたり想定訪問数に比例した最大剰余法（ハミルトン方式）で保健師数を配分し、"
    "各地区に最低{minimum}人を確保します（不足する地区には、1人減っても負担が最も小さい地区から移します）。"
    "ベテラン保健師は、未フォローの抽出児（千人あたり）が多い地区から順に1人ずつ配置します。"
)


@dataclass
class Proposal:
    """Per district: visits, current and proposed nurses/seniors, and load before and after."""

    table: pd.DataFrame
    total_nurses: int
    total_seniors: int
    minimum: int

    def summary(self) -> dict:
        """Spread of the load before and after (max, min, max/min ratio, standard deviation)."""
        out = {}
        for when in ("before", "after"):
            load = self.table[f"load_{when}"].replace(np.inf, np.nan)
            finite = load.dropna()
            out[when] = {
                "max": float(finite.max()) if len(finite) else float("nan"),
                "min": float(finite.min()) if len(finite) else float("nan"),
                "std": float(finite.std(ddof=0)) if len(finite) else float("nan"),
                "uncovered": int(np.isinf(self.table[f"load_{when}"]).sum()),
            }
        return out


def largest_remainder(weights, seats: int) -> np.ndarray:
    """Hamilton apportionment of ``seats`` in proportion to ``weights`` (ties: larger weight, then order)."""
    w = np.asarray(weights, dtype=float)
    if seats <= 0 or len(w) == 0:
        return np.zeros(len(w), dtype=int)
    if w.sum() <= 0:
        w = np.ones(len(w))
    quota = seats * w / w.sum()
    base = np.floor(quota + 1e-9).astype(int)
    left = seats - int(base.sum())
    remainder = quota - base
    # lexsort sorts by the last key first: remainder desc, weight desc, position asc.
    order = np.lexsort((np.arange(len(w)), -w, -np.round(remainder, 9)))
    base[order[:left]] += 1
    return base


def load(visits, nurses) -> np.ndarray:
    """Visits per nurse; ∞ where there are visits but no nurse, 0 where there are neither."""
    v = np.asarray(visits, dtype=float)
    n = np.asarray(nurses, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, v / np.where(n > 0, n, 1), np.where(v > 0, np.inf, 0.0))


def enforce_minimum(alloc: np.ndarray, visits: np.ndarray, minimum: int) -> np.ndarray:
    """Move nurses to districts below ``minimum`` from where the remaining load stays lowest."""
    alloc = alloc.copy()
    while True:
        short = np.flatnonzero(alloc < minimum)
        if len(short) == 0:
            return alloc
        donors = np.flatnonzero(alloc > minimum)
        if len(donors) == 0:
            return alloc
        after = load(visits[donors], alloc[donors] - 1)
        donor = donors[np.lexsort((donors, after))[0]]
        alloc[donor] -= 1
        # The most loaded short district first (ties: order).
        need = load(visits[short], alloc[short])
        alloc[short[np.lexsort((short, -need))[0]]] += 1


def deal_seniors(need_rank: np.ndarray, nurses: np.ndarray, seniors: int) -> np.ndarray:
    """Seniors one per district down ``need_rank`` (positions, highest need first), in rounds."""
    out = np.zeros(len(nurses), dtype=int)
    left = seniors
    while left > 0:
        placed = False
        for i in need_rank:
            if left == 0:
                break
            if out[i] < nurses[i]:
                out[i] += 1
                left -= 1
                placed = True
        if not placed:
            break
    return out


def propose(districts: pd.DataFrame, total_nurses: int | None = None, total_seniors: int | None = None,
            minimum: int = 1) -> Proposal:
    """The allocation proposal.

    ``districts`` has district, visits (expected per month), children, not_followed, nurses
    (current), seniors (current). Totals default to the current staff.
    """
    d = districts.reset_index(drop=True).copy()
    for col in ("nurses", "seniors"):
        d[col] = d[col].fillna(0).astype(int) if col in d else 0
    total_nurses = int(d["nurses"].sum()) if total_nurses is None else int(total_nurses)
    total_seniors = int(d["seniors"].sum()) if total_seniors is None else int(total_seniors)
    visits = d["visits"].astype(float).fillna(0).to_numpy()
    minimum = max(0, min(minimum, total_nurses // max(len(d), 1)))
    alloc = enforce_minimum(largest_remainder(visits, total_nurses), visits, minimum)
    kids = d["children"].astype(float).to_numpy()
    nf = d["not_followed"].astype(float).fillna(0).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(kids > 0, nf / np.where(kids > 0, kids, 1) * 1000, 0.0)
    names = d["district"].astype(str).to_numpy()
    name_rank = np.argsort(np.argsort(names))
    need_rank = np.lexsort((name_rank, -nf, -rate))
    d["need_rank"] = np.argsort(need_rank) + 1
    d["nurses_after"] = alloc
    d["seniors_after"] = deal_seniors(need_rank, alloc, total_seniors)
    d["load_before"] = load(visits, d["nurses"])
    d["load_after"] = load(visits, alloc)
    d["quota"] = total_nurses * visits / visits.sum() if visits.sum() > 0 else 0.0
    return Proposal(d, total_nurses, total_seniors, minimum)


PLAN_COLUMNS = {
    "district": "地区",
    "children": "子どもの数",
    "flagged": "抽出",
    "not_followed": "抽出・未フォロー",
    "visits": "月あたり想定訪問数",
    "nurses": "保健師数（現在）",
    "seniors": "うちベテラン（現在）",
    "load_before": "1人あたり訪問（現在）",
    "nurses_after": "保健師数（提案）",
    "seniors_after": "うちベテラン（提案）",
    "load_after": "1人あたり訪問（提案）",
}


def format_load(value) -> str:
    """A load per nurse as shown: one decimal, ∞ for visits without a nurse (— when hidden is the caller's)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if np.isinf(value):
        return "∞"
    return f"{value:,.1f}"


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The proposal as the chief sees it, every cell a string (``<5``/``X`` where hidden).

    Only area rows, never individual ones; this is what the export and the printed page carry.
    """
    from app.engine.aggregates import display

    out = pd.DataFrame({"district": table["district"].astype(str)})
    for col in ("children", "flagged", "not_followed", "visits"):
        states = table.get(col + "_state", pd.Series("", index=table.index)).fillna("").astype(str)
        out[col] = [display(v, s, col) for v, s in zip(table[col], states)]
    for col in ("nurses", "seniors", "nurses_after", "seniors_after"):
        out[col] = table[col].fillna(0).astype(int).astype(str)
    for col in ("load_before", "load_after"):
        hidden = table.get("visits_state", pd.Series("", index=table.index)).fillna("").astype(str) != ""
        out[col] = ["—" if h else format_load(float(v)) for v, h in zip(table[col], hidden)]
    return out.rename(columns=PLAN_COLUMNS)
