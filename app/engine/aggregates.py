"""District and town aggregates for the map and the staffing plan, with small-count suppression.

Inputs are plain frames (no store, no Qt):

- ``children``: person_id, district, town — the children counted (the caller decides who: in
  the demo, resident children of the visible districts).
- ``flagged``: person_id, target — one row per child flagged for a target (``abuse`` /
  ``postpartum``) in the run being shown.
- ``followups``: person_id, followed (bool), in_support (bool) — the latest follow-up state;
  a child missing here has not been followed.
- ``previous_flagged``: the same as ``flagged`` for the run before, for "change since".

Suppression (``suppress``), applied wherever a chief looks:

1. *Primary*: any count below 5 (0 included) is hidden and shown as ``<5``.
2. *Complementary*: counts are additive (towns → their district → the city), and a hidden
   cell must not be recomputable from what is shown. ``feasible_ranges`` computes, for every
   cell, the exact range of values consistent with everything shown (``<5`` cells 0–4, ``X``
   cells ≥5, the sums); while some hidden cell's range is a single value, one more cell is
   hidden (the smallest shown sibling, else a town of a district that is the plain sum of its
   shown towns, else the parent) and shown as ``X``. This is the interval audit of
   statistical agencies restricted to our two-level table; it guarantees no hidden cell can
   be computed exactly — a range (e.g. "between 1 and 4") can remain. Relations between
   different measures (flagged − not followed) are not audited. Expected visits are rounded to
   whole visits before suppression.
3. *Derived figures*: a rate is shown only when its numerator and denominator are; a change
   only when both runs' counts are shown.

Expected visits per month (``VisitModel``): a flagged child not yet followed needs a first
visit within ``horizon_months``; a child in ongoing support needs ``ongoing_per_month``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.engine.progress import Progress, ensure

TARGETS = ("abuse", "postpartum")
TARGET_LABELS = {"abuse": "児童虐待", "postpartum": "産後うつ・育児不安"}
COUNT_MEASURES = ("children", "flagged", "not_followed", "visits")
MEASURE_LABELS = {
    "children": "子どもの数",
    "flagged": "抽出された子ども",
    "not_followed": "抽出・未フォロー",
    "per_1000": "抽出（千人あたり）",
    "nf_per_1000": "未フォロー（千人あたり）",
    "change": "前回からの増減",
    "visits": "月あたり想定訪問数",
}
THRESHOLD = 5
PRIMARY, COMPLEMENTARY = "<5", "X"
CITY = "市全体"


@dataclass(frozen=True)
class VisitModel:
    """How many home visits a month the follow-up workflow implies (documented assumptions)."""

    first_visits: float = 1.0       # a flagged, not-yet-followed child: one first visit…
    horizon_months: float = 3.0     # …to be made within this many months
    ongoing_per_month: float = 0.5  # a child in ongoing support: one visit every two months

    def visits(self, not_followed, in_support):
        return not_followed * (self.first_visits / self.horizon_months) + in_support * self.ongoing_per_month


def _counts(children: pd.DataFrame, flagged: pd.DataFrame, followups: pd.DataFrame,
            target: str, keys: list[str]) -> pd.DataFrame:
    """Exact counts per area for one target: children, flagged, not_followed, in_support."""
    kids = children[["person_id", "district", "town"]].copy()
    fl_ids = flagged.loc[flagged["target"] == target, "person_id"].unique()
    kids["flagged"] = kids["person_id"].isin(fl_ids)
    fu = followups.drop_duplicates("person_id", keep="last").set_index("person_id")
    followed = kids["person_id"].isin(fu.index[fu["followed"].astype(bool)])
    in_support = kids["person_id"].isin(fu.index[fu["in_support"].astype(bool)])
    kids["not_followed"] = kids["flagged"] & ~followed
    kids["in_support"] = kids["flagged"] & in_support
    kids["children"] = 1
    return kids.groupby(keys, sort=True, observed=True)[["children", "flagged", "not_followed",
                                                        "in_support"]].sum().reset_index()


def aggregate(children: pd.DataFrame, flagged: pd.DataFrame, followups: pd.DataFrame,
              previous_flagged: pd.DataFrame | None = None, model: VisitModel = VisitModel(),
              districts: list[str] | None = None, towns: pd.DataFrame | None = None,
              progress: Progress | None = None) -> dict[str, pd.DataFrame]:
    """Exact (unsuppressed) figures per district and per town for every target.

    ``districts`` / ``towns`` (district, town) list areas to report even with no children, so
    an empty area is shown as ``<5`` rather than missing. Returns ``{"district": df,
    "town": df}``; each has target, the area keys, counts, ``visits``, ``flagged_prev``.
    """
    progress = ensure(progress)
    if followups is None or followups.empty:
        followups = pd.DataFrame({"person_id": pd.Series(dtype=str), "followed": pd.Series(dtype=bool),
                                  "in_support": pd.Series(dtype=bool)})
    out: dict[str, pd.DataFrame] = {}
    for li, (level, keys) in enumerate((("district", ["district"]), ("town", ["district", "town"]))):
        frames = []
        for target in TARGETS:
            cur = _counts(children, flagged, followups, target, keys)
            if previous_flagged is not None:
                prev = _counts(children, previous_flagged, followups, target, keys)
                cur = cur.merge(prev[keys + ["flagged"]].rename(columns={"flagged": "flagged_prev"}),
                                on=keys, how="left")
            else:
                cur["flagged_prev"] = np.nan
            full = _area_frame(level, districts, towns, cur[keys])
            cur = full.merge(cur, on=keys, how="left")
            for col in ("children", "flagged", "not_followed", "in_support"):
                cur[col] = cur[col].fillna(0).astype(int)
            cur["visits"] = model.visits(cur["not_followed"], cur["in_support"]).astype(float)
            cur.insert(0, "target", target)
            frames.append(cur)
        out[level] = pd.concat(frames, ignore_index=True)
        progress.step((li + 1) / 2, "地区別の集計")
    return out


def _area_frame(level: str, districts, towns, present: pd.DataFrame) -> pd.DataFrame:
    if level == "district":
        names = sorted(set(present["district"]) | set(districts or []))
        return pd.DataFrame({"district": names})
    frame = present.copy()
    if towns is not None:
        known = towns[["district", "town"]]
        if districts is not None:
            known = known[known["district"].isin(districts)]
        frame = pd.concat([frame, known], ignore_index=True)
    return frame.drop_duplicates().sort_values(["district", "town"]).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Suppression


_BIG = 1e12  # "no upper bound" for a cell shown as X (an attacker only knows it is ≥5)


def _bounds(values: np.ndarray, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What a reader knows of each cell: its value if shown, 0–4 if '<5', ≥5 if 'X'."""
    lo = np.where(states == "", values, np.where(states == PRIMARY, 0.0, float(THRESHOLD)))
    hi = np.where(states == "", values, np.where(states == PRIMARY, THRESHOLD - 1.0, _BIG))
    return lo, hi


def feasible_ranges(city: float, c_state: str, d_val: np.ndarray, d_state: np.ndarray,
                    t_val: np.ndarray, t_state: np.ndarray, t_dist: np.ndarray):
    """Exact range every cell can take given what is shown (towns → districts → city).

    The relations form a tree of sums over disjoint parts and integer intervals add up to
    intervals, so one pass up (what the parts allow) and one pass down (what the parent and
    the siblings leave) gives each cell's exact feasible range. Returns
    ((city_lo, city_hi), (d_lo, d_hi), (t_lo, t_hi)).
    """
    t_lo, t_hi = _bounds(t_val, t_state)
    d_lo0, d_hi0 = _bounds(d_val, d_state)
    c_lo0, c_hi0 = _bounds(np.array([city]), np.array([c_state]))
    nd = len(d_val)
    sum_lo = np.bincount(t_dist, weights=t_lo, minlength=nd)
    sum_hi = np.minimum(np.bincount(t_dist, weights=t_hi, minlength=nd), _BIG)
    # Up: a district is within its own bounds and within what its towns can add up to.
    d_lo, d_hi = np.maximum(d_lo0, sum_lo), np.minimum(d_hi0, sum_hi)
    c_lo = max(c_lo0[0], d_lo.sum())
    c_hi = min(c_hi0[0], min(d_hi.sum(), _BIG))
    # Down: a district is the city minus the others; a town its district minus its siblings.
    d_lo2 = np.maximum(d_lo, c_lo - (d_hi.sum() - d_hi))
    d_hi2 = np.minimum(d_hi, c_hi - (d_lo.sum() - d_lo))
    t_lo2 = np.maximum(t_lo, d_lo2[t_dist] - (sum_hi[t_dist] - t_hi))
    t_hi2 = np.minimum(t_hi, d_hi2[t_dist] - (sum_lo[t_dist] - t_lo))
    return (c_lo, c_hi), (d_lo2, d_hi2), (t_lo2, t_hi2)


def _pinned(lo, hi) -> np.ndarray:
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    return np.isclose(lo, hi) & (lo <= hi + 1e-9)


def suppress_hierarchy(city: float, districts: pd.Series, towns: pd.Series,
                       town_district: pd.Series) -> tuple[str, pd.Series, pd.Series]:
    """Suppression states for one measure: ("" shown, "<5" primary, "X" complementary).

    ``districts`` is indexed by district, ``towns`` by any index with ``town_district`` giving
    each town's district. Hidden cells are audited with ``feasible_ranges``; while one is
    pinned to a single value, one more cell is hidden: the smallest shown sibling, else the
    smallest shown town of the district (a district is the sum of its towns), else the
    parent. Deterministic (ties by position). Returns (city_state, district_states, town_states).
    """
    d_val = districts.to_numpy(dtype=float)
    t_val = towns.to_numpy(dtype=float)
    pos = {d: i for i, d in enumerate(districts.index)}
    t_dist = np.array([pos[d] for d in town_district], dtype=int)
    d_state = np.where(d_val < THRESHOLD, PRIMARY, "").astype(object)
    t_state = np.where(t_val < THRESHOLD, PRIMARY, "").astype(object)
    c_state = PRIMARY if city < THRESHOLD else ""

    def smallest(values, states, candidates) -> int | None:
        shown = [i for i in candidates if states[i] == ""]
        return min(shown, key=lambda i: (values[i], i)) if shown else None

    for _ in range(len(d_val) + len(t_val) + 2):
        (c_lo, c_hi), (d_lo, d_hi), (t_lo, t_hi) = feasible_ranges(
            city, c_state, d_val, d_state, t_val, t_state, t_dist)
        bad_d = np.flatnonzero((d_state != "") & _pinned(d_lo, d_hi))
        bad_t = np.flatnonzero((t_state != "") & _pinned(t_lo, t_hi))
        if c_state != "" and _pinned(c_lo, c_hi):
            pick = smallest(d_val, d_state, range(len(d_val)))
            if pick is None:
                break
            d_state[pick] = COMPLEMENTARY
            continue
        if len(bad_d):
            # First a district that is the plain sum of its shown towns: hiding a sibling
            # would not help it, and it is often what pins the others.
            open_sum = [d for d in bad_d if not (t_state[t_dist == d] != "").any() and (t_dist == d).any()]
            d = open_sum[0] if open_sum else bad_d[0]
            mine = np.flatnonzero(t_dist == d)
            if not (t_state[mine] != "").any() and len(mine):
                t_state[smallest(t_val, t_state, mine)] = COMPLEMENTARY
                continue
            pick = smallest(d_val, d_state, [i for i in range(len(d_val)) if i != d])
            if pick is not None:
                d_state[pick] = COMPLEMENTARY
            elif c_state == "":
                c_state = COMPLEMENTARY
            else:
                break
            continue
        if len(bad_t):
            t = bad_t[0]
            d = t_dist[t]
            pick = smallest(t_val, t_state, [i for i in np.flatnonzero(t_dist == d) if i != t])
            if pick is not None:
                t_state[pick] = COMPLEMENTARY
            elif d_state[d] == "":
                d_state[d] = COMPLEMENTARY
            else:
                pick = smallest(d_val, d_state, [i for i in range(len(d_val)) if i != d])
                if pick is None:
                    break
                d_state[pick] = COMPLEMENTARY
            continue
        break
    return (c_state, pd.Series(d_state, index=districts.index, dtype=object),
            pd.Series(t_state, index=towns.index, dtype=object))


@dataclass
class SuppressedFigures:
    """Figures as a chief may see them: numbers with NaN where hidden, and a state per cell."""

    district: pd.DataFrame
    town: pd.DataFrame
    city: pd.DataFrame  # one row per target
    suppressed: bool


def suppress(figures: dict[str, pd.DataFrame], enabled: bool = True,
             previous: dict[str, pd.DataFrame] | None = None) -> SuppressedFigures:
    """Apply primary + complementary suppression to every count measure, per target.

    Each measure column gets a companion ``<measure>_state`` ("" shown, "<5", "X"); hidden
    values become NaN so nothing downstream can show them by mistake. Rates and the change
    since the previous run are added, shown only when their inputs are.
    """
    dist_frames, town_frames, city_rows = [], [], []
    for target in TARGETS:
        d = figures["district"][figures["district"]["target"] == target].reset_index(drop=True).copy()
        t = figures["town"][figures["town"]["target"] == target].reset_index(drop=True).copy()
        city = {"target": target, "district": CITY}
        for measure in COUNT_MEASURES + ("flagged_prev",):
            dv = d.set_index("district")[measure].astype(float)
            if measure == "flagged_prev" and dv.isna().all():
                for frame in (d, t):
                    frame["flagged_prev_state"] = ""
                city["flagged_prev"], city["flagged_prev_state"] = np.nan, ""
                continue
            dv = dv.fillna(0.0)
            tv = t[measure].astype(float).fillna(0.0)
            if measure == "visits":
                # Whole visits: an exact fraction would let the sums be solved to the decimal.
                dv, tv = dv.round(), tv.round()
                d["visits"], t["visits"] = d["district"].map(dv).to_numpy(), tv.to_numpy()
            total = float(dv.sum())
            if enabled:
                c_state, d_state, t_state = suppress_hierarchy(total, dv, tv, t["district"])
            else:
                c_state, d_state, t_state = "", pd.Series("", index=dv.index), pd.Series("", index=tv.index)
            d[measure + "_state"] = d["district"].map(d_state).to_numpy()
            t[measure + "_state"] = t_state.to_numpy()
            d.loc[d[measure + "_state"] != "", measure] = np.nan
            t.loc[t[measure + "_state"] != "", measure] = np.nan
            city[measure], city[measure + "_state"] = (np.nan if c_state else total), c_state
        city_frame = pd.DataFrame([city])
        for frame in (d, t, city_frame):
            _derive(frame)
        dist_frames.append(d)
        town_frames.append(t)
        city_rows.append(city_frame)
    return SuppressedFigures(pd.concat(dist_frames, ignore_index=True), pd.concat(town_frames, ignore_index=True),
                             pd.concat(city_rows, ignore_index=True), enabled)


def _derive(frame: pd.DataFrame) -> None:
    """Rates per 1,000 children and change since the previous run, from shown counts only."""
    kids = frame["children"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["per_1000"] = np.where(kids > 0, frame["flagged"].astype(float) / kids * 1000, np.nan)
        frame["nf_per_1000"] = np.where(kids > 0, frame["not_followed"].astype(float) / kids * 1000, np.nan)
    frame["change"] = frame["flagged"].astype(float) - frame["flagged_prev"].astype(float)
    for col, inputs in (("per_1000", ("flagged", "children")), ("nf_per_1000", ("not_followed", "children")),
                        ("change", ("flagged", "flagged_prev"))):
        hidden = np.zeros(len(frame), dtype=bool)
        for i in inputs:
            hidden |= frame[i + "_state"].astype(str).to_numpy() != ""
        if col == "change":
            # No previous run: there is nothing to hide, and the area says so (NO_PREVIOUS_RUN).
            no_previous = frame["flagged_prev"].isna() & (frame["flagged_prev_state"].astype(str) == "")
            hidden &= ~no_previous.to_numpy()
        frame[col + "_state"] = np.where(hidden, COMPLEMENTARY, "")
        frame.loc[hidden, col] = np.nan


# What 「前回からの増減」 shows when there is no earlier run to compare with (never a bare "—").
NO_PREVIOUS_RUN = "前回の採点がありません"


def display(value, state: str = "", measure: str = "children") -> str:
    """The text a user sees for one cell: ``<5``, ``X`` (hidden to stop recomputation) or the figure."""
    if state:
        return state
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return NO_PREVIOUS_RUN if measure == "change" else "—"
    if measure in ("per_1000", "nf_per_1000"):
        return f"{value:,.1f}"
    if measure == "change":
        return f"{int(round(value)):+,d}"
    return f"{int(round(value)):,d}"


SUPPRESSION_NOTE = ("「<5」は5人未満のため非表示、「X」は他の数値からの逆算を防ぐための秘匿です"
                    "（小さな数の秘匿と補完秘匿）。")
