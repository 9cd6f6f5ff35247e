"""Judging each child's routine vaccinations against the schedule for their age.

The schedule is data (``resources/reference/vaccination_schedule.toml``); this module turns it
into a per-(child, vaccine) judgement, vectorised over children × vaccines:

* ``not_due``      — no dose is overdue yet (or the vaccine is not routine for the cohort);
* ``ok``           — every overdue dose is recorded;
* ``unvaccinated`` — at least one dose overdue and no dose recorded;
* ``behind``       — some doses recorded, a later one overdue;
* ``unknown``      — the missing doses fell due before the child moved in (the city's records
  cannot show them: unknown, never "missed").
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from app.engine.rules import ages
from app.resource_files import resource_path

BEFORE_SCHOOL = "before_school"


@dataclass(frozen=True)
class Vaccine:
    id: str
    name: str
    satisfied_by: tuple[str, ...]
    due_by_months: tuple  # ints, or BEFORE_SCHOOL
    legal_until_months: int
    reduced: tuple[tuple[int, int], ...] = ()
    born_from: str | None = None


def load_schedule(path: Path | None = None) -> tuple[Vaccine, ...]:
    """Read the schedule TOML (the shipped one by default)."""
    path = path or resource_path("reference", "vaccination_schedule.toml")
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    out = []
    for v in data["vaccine"]:
        out.append(Vaccine(
            id=v["id"], name=v["name"], satisfied_by=tuple(v["satisfied_by"]),
            due_by_months=tuple(v["due_by_months"]),
            legal_until_months=int(v["legal_until_months"]),
            reduced=tuple(sorted((int(r["first_dose_from_months"]), int(r["doses"]))
                                 for r in v.get("reduced", []))),
            born_from=v.get("born_from"),
        ))
    return tuple(out)


@lru_cache(maxsize=1)
def default_schedule() -> tuple[Vaccine, ...]:
    return load_schedule()


def _school_march_index(birth_idx: np.ndarray) -> np.ndarray:
    """Month index of the March before primary-school entry.

    Born April–December of year Y: school from April Y+7; January–March: April Y+6.
    (Children born on 1 April belong to the earlier class; the birth day is unknown, so they
    are judged with the later one — never earlier than the truth.)
    """
    year = np.floor(birth_idx / 12)
    month0 = birth_idx - year * 12  # 0 = January
    entry_year = np.where(month0 >= 3, year + 7, year + 6)
    return entry_year * 12 + 2


def judge(children: pd.DataFrame, doses: pd.DataFrame, as_of, grace_months: int = 1,
          schedule: tuple[Vaccine, ...] | None = None) -> pd.DataFrame:
    """Judge every child against every vaccine.

    children: person_id, birth_idx (month index), resident_from_idx (month index or NaN).
    doses: vaccination events with person_id, subtype, value_num (dose number), date.
    Returns one row per (child, vaccine): person_id, vaccine, vaccine_name, doses, required,
    status, missing_dose, due_index (month index by which the first missing dose was due).
    """
    schedule = schedule or default_schedule()
    as_of_idx = ages.ym_index_of(as_of)
    n = len(children)
    pid = children["person_id"].to_numpy()
    birth = children["birth_idx"].to_numpy(float)
    res_from = children["resident_from_idx"].to_numpy(float)
    sure_age = ages.surely_reached(ages.age_months(birth, as_of_idx))
    pos = pd.Index(pid)
    dates = doses["date"].to_numpy()
    if dates.dtype.kind != "M":
        dates = pd.to_datetime(doses["date"]).to_numpy()
    dose_pos = pos.get_indexer(doses["person_id"].to_numpy())
    ok = (dose_pos >= 0) & (dates <= pd.Timestamp(as_of).to_datetime64())
    # one pass over all doses: each dose row counts for every vaccine its subtype satisfies
    pairs = pd.DataFrame([(s, k) for k, v in enumerate(schedule) for s in v.satisfied_by], columns=["subtype", "_v"])
    d = pd.DataFrame({"_pos": dose_pos[ok], "subtype": doses["subtype"].to_numpy()[ok],
                      "num": pd.to_numeric(doses["value_num"], errors="coerce").to_numpy(dtype=float)[ok],
                      "_age": ages.age_months(birth[dose_pos[ok]], ages.ym_index_from_dates(dates[ok]))})
    d = d.merge(pairs, on="subtype")
    nv = len(schedule)
    key = d["_pos"].to_numpy() * nv + d["_v"].to_numpy()
    g = pd.DataFrame({"key": key, "num": d["num"].to_numpy(), "age": d["_age"].to_numpy()}).groupby("key")
    agg = pd.DataFrame({"max": g["num"].max(), "count": g.size(), "first": g["age"].min()})
    full = np.full(n * nv, np.nan)
    max_all, count_all, first_all = full.copy(), full.copy(), full.copy()
    ki = agg.index.to_numpy()
    max_all[ki], count_all[ki], first_all[ki] = agg["max"].to_numpy(), agg["count"].to_numpy(), agg["first"].to_numpy()

    frames = []
    for k, v in enumerate(schedule):
        max_num = np.nan_to_num(max_all[k::nv], nan=0.0)
        count = np.nan_to_num(count_all[k::nv], nan=0.0)
        first_age = first_all[k::nv]
        recorded = np.maximum(max_num, count)

        # due month index per dose (k doses × n children)
        due = []
        for due_by in v.due_by_months:
            if due_by == BEFORE_SCHOOL:
                due.append(_school_march_index(birth) + grace_months + 1)
            else:
                due.append(birth + int(due_by) + grace_months + 1)
        due = np.vstack(due)  # overdue when as_of_idx >= due
        overdue = as_of_idx >= due
        required = overdue.sum(axis=0).astype(float)
        # catch-up: a late start needs fewer doses in total
        start_age = np.where(np.isnan(first_age), sure_age, first_age)
        cap = np.full(n, float(len(v.due_by_months)))
        for from_m, n_doses in v.reduced:
            cap = np.where(start_age >= from_m, float(n_doses), cap)
        required = np.minimum(required, cap)
        if v.born_from:
            required = np.where(birth < ages.ym_index_from_text(pd.Series([v.born_from]))[0], 0, required)

        missing = recorded < required
        # the first missing dose and when it fell due
        first_missing = np.clip(recorded, 0, len(v.due_by_months) - 1).astype(int)
        due_first_missing = due[first_missing, np.arange(n)]
        last_required = np.clip(required - 1, 0, len(v.due_by_months) - 1).astype(int)
        due_last_required = due[last_required, np.arange(n)]
        # after a move-in only doses whose standard window ended while the child lived here
        # are known to be missing; earlier ones may have been given elsewhere
        known = np.isnan(res_from) | (due_last_required - grace_months - 1 >= res_from)
        status = np.where(~missing, np.where(required > 0, "ok", "not_due"),
                          np.where(~known, "unknown",
                                   np.where(recorded == 0, "unvaccinated", "behind")))
        frames.append(pd.DataFrame({
            "person_id": pid, "_pos": np.arange(n), "vaccine": v.id, "vaccine_name": v.name,
            "doses": recorded, "required": required, "status": status,
            "missing_dose": np.where(missing, recorded + 1, np.nan),
            "due_index": np.where(missing, due_first_missing, np.nan),
        }))
    return pd.concat(frames, ignore_index=True)
