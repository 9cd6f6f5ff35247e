"""Judging each child's routine vaccinations against the schedule for their age.

The schedule is data (``resources/reference/vaccination_schedule.toml``, sources named in
``resources/reference/README.md``); this module turns it into a per-(child, vaccine) judgement,
vectorised over children (the loops run over vaccines, series and doses of the schedule):

* ``not_due``      — the next dose is not due yet, or the vaccine is not routine for the cohort;
* ``ok``           — every dose of the child's series is recorded, or the next one is not due;
* ``reminder``     — 推奨時期を過ぎた: the recommended time of the next dose has passed but its
  standard window is still open (a reminder the nurse may mention, never a flag);
* ``unvaccinated`` — 標準期間を過ぎた with no dose recorded;
* ``behind``       — 標準期間を過ぎた for a later dose;
* ``unknown``      — the late dose's standard window closed before the child moved in (the
  city's records cannot show it: unknown, never "missed").

Only the first missing dose of a series is judged: a later dose is never due before the one
before it, and its interval-based window starts from the previous dose's date. The series
(regular or catch-up) follows the age at the first recorded dose.

Also the vaccine-name vocabulary (``resources/reference/vaccine_names.toml``): names as a
健康管理システム prints them, compared after NFKC; unknown names are reported, never guessed.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from app.engine.rules import ages
from app.resource_files import resource_path

BEFORE_SCHOOL = "before_school"
SCHOOL_YEAR = "school_year"
LATE = ("unvaccinated", "behind")
LEVEL_TEXT = {"reminder": "推奨時期を過ぎた", "unvaccinated": "標準期間を過ぎた", "behind": "標準期間を過ぎた",
              "unknown": "転入前に期限(不明)", "ok": "", "not_due": ""}


@dataclass(frozen=True)
class Dose:
    rec_age: float | str | None = None   # months, or SCHOOL_YEAR
    rec_after: float | None = None       # months after the previous dose
    end_age: float | str | None = None   # months, or BEFORE_SCHOOL
    end_after: float | None = None


@dataclass(frozen=True)
class Series:
    from_months: int
    doses: tuple[Dose, ...]


@dataclass(frozen=True)
class Vaccine:
    id: str
    name: str
    satisfied_by: tuple[str, ...]
    legal_until_months: int
    series: tuple[Series, ...]
    born_from: str | None = None
    born_before: str | None = None
    skip_if_any: tuple[str, ...] = ()

    @property
    def max_doses(self) -> int:
        return max(len(s.doses) for s in self.series)


def _dose(d: dict) -> Dose:
    def num(key):
        v = d.get(key)
        return v if (v is None or isinstance(v, str)) else float(v)
    return Dose(num("rec_age"), num("rec_after"), num("end_age"), num("end_after"))


def load_schedule(path: Path | None = None) -> tuple[Vaccine, ...]:
    """Read the schedule TOML (the shipped one by default)."""
    path = path or resource_path("reference", "vaccination_schedule.toml")
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    out = []
    for v in data["vaccine"]:
        series = tuple(sorted((Series(int(s["from"]), tuple(_dose(d) for d in s["doses"])) for s in v["series"]),
                              key=lambda s: s.from_months))
        out.append(Vaccine(
            id=v["id"], name=v["name"], satisfied_by=tuple(v["satisfied_by"]),
            legal_until_months=int(v["legal_until_months"]), series=series,
            born_from=v.get("born_from"), born_before=v.get("born_before"),
            skip_if_any=tuple(v.get("skip_if_any", ())),
        ))
    return tuple(out)


@lru_cache(maxsize=1)
def default_schedule() -> tuple[Vaccine, ...]:
    return load_schedule()


# -- names ------------------------------------------------------------------------------------

_BRACKET_TAIL = re.compile(r"[(\[（［【][^)\]）］】]*[)\]）］】]$")
_DOSE_TAIL = re.compile(r"(第?[0-9一二三四]+(期|回目?)(初回|追加)?|初回|追加)$")
_DOSE_HEAD = re.compile(r"^(第?[0-9一二三四]+(期|回目?)(初回|追加)?|初回|追加)")


def normalise_vaccine_name(name) -> str:
    """NFKC, no spaces, ASCII case folded, no trailing 「ワクチン」 (the key of vaccine_names.toml)."""
    s = unicodedata.normalize("NFKC", "" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name))
    s = re.sub(r"\s+", "", s).replace("・", "・")
    if s.endswith("ワクチン"):
        s = s[: -len("ワクチン")]
    return s.casefold()


@lru_cache(maxsize=1)
def vaccine_vocabulary() -> dict[str, str]:
    """Normalised name → event subtype."""
    with open(resource_path("reference", "vaccine_names.toml"), "rb") as fh:
        names = tomllib.load(fh)["names"]
    return {normalise_vaccine_name(k): v for k, v in names.items()}


def vaccine_code(names: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Subtype for each printed vaccine name, and a Japanese reason where the name is unknown.

    Tried in order: the name as is; without a trailing dose note (「1期」「2回目」「追加」); without a
    trailing bracket (「水痘(定期)」). Computed once per distinct name.
    """
    vocab = vaccine_vocabulary()
    codes, uniq = pd.factorize(pd.Series(names).astype(object).where(pd.Series(names).notna(), ""))
    mapped = []
    for raw in uniq:
        key = normalise_vaccine_name(raw)
        hit = vocab.get(key)
        if hit is None:
            for trimmed in (_DOSE_TAIL.sub("", key), _BRACKET_TAIL.sub("", key), _DOSE_HEAD.sub("", key),
                            _DOSE_TAIL.sub("", _BRACKET_TAIL.sub("", key))):
                trimmed = trimmed.removesuffix("ワクチン")
                if trimmed in vocab:
                    hit = vocab[trimmed]
                    break
        mapped.append(hit)
    arr = np.array(mapped, dtype=object)
    out = pd.Series(arr[codes] if len(uniq) else np.array([], dtype=object), index=pd.Series(names).index)
    raw = pd.Series(names).astype(object).fillna("").astype(str)
    reason = pd.Series(np.where(out.isna(), "ワクチン名「" + raw + "」が語彙にありません"
                                "（resources/reference/vaccine_names.toml に追加してください）", ""),
                       index=out.index, dtype=object)
    return out, reason


# -- judgement --------------------------------------------------------------------------------

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


def _bound(birth: np.ndarray, prev: np.ndarray, age, after) -> np.ndarray:
    """Month index of a bound: age-based and/or after the previous dose (the later of both)."""
    parts = []
    if age == BEFORE_SCHOOL:
        parts.append(_school_march_index(birth))
    elif age == SCHOOL_YEAR:
        parts.append(_school_march_index(birth) - 11)
    elif age is not None:
        parts.append(birth + float(age))
    if after is not None:
        parts.append(prev + float(after))
    if not parts:
        return np.full(birth.shape, np.nan)
    out = parts[0]
    for p in parts[1:]:
        out = np.fmax(out, p)
    return out


def _per_vaccine_doses(children: pd.DataFrame, doses: pd.DataFrame, as_of, schedule) -> dict:
    """count, last dose month index, age at first dose and 'skip' per (vaccine, child)."""
    n = len(children)
    pos = pd.Index(children["person_id"].to_numpy())
    birth = children["birth_idx"].to_numpy(float)
    dates = doses["date"].to_numpy() if len(doses) else np.array([], dtype="datetime64[ns]")
    if dates.dtype.kind != "M":
        dates = pd.to_datetime(doses["date"]).to_numpy()
    if "_pos" in doses:  # already placed (EvalContext.linked): the same lookup, done once
        dose_pos = doses["_pos"].to_numpy() if len(doses) else np.array([], dtype=int)
    else:
        dose_pos = pos.get_indexer(doses["person_id"].to_numpy()) if len(doses) else np.array([], dtype=int)
    ok = (dose_pos >= 0) & (dates <= pd.Timestamp(as_of).to_datetime64())
    p = dose_pos[ok]
    d = pd.DataFrame({"_pos": p, "subtype": doses["subtype"].to_numpy()[ok] if len(doses) else [],
                      "num": (pd.to_numeric(doses["value_num"], errors="coerce").to_numpy(dtype=float)[ok]
                              if len(doses) else []),
                      "_midx": ages.ym_index_from_dates(dates[ok])})
    # each dose's subtype as a code, once: per vaccine a test on integers, not on 15 × 3 M strings
    codes, names = pd.factorize(d["subtype"])

    def rows_of(subtypes) -> np.ndarray:
        return np.isin(codes, [i for i, name in enumerate(names) if name in subtypes])

    out = {}
    for v in schedule:
        sub = d[rows_of(v.satisfied_by)]
        g = sub.groupby("_pos")
        count = np.zeros(n)
        last = np.full(n, np.nan)
        first = np.full(n, np.nan)
        if len(sub):
            idx = g.size().index.to_numpy()
            # dose number = max(recorded dose number, number of recorded doses)
            count[idx] = np.fmax(g["num"].max().to_numpy(dtype=float), g.size().to_numpy(dtype=float))
            last[idx] = g["_midx"].max().to_numpy()
            first[idx] = g["_midx"].min().to_numpy() - birth[idx]
        skip = np.zeros(n, dtype=bool)
        if v.skip_if_any:
            sk = d["_pos"].to_numpy()[rows_of(v.skip_if_any)]
            skip[sk] = True
        out[v.id] = (count, last, first, skip)
    return out


def judge(children: pd.DataFrame, doses: pd.DataFrame, as_of, grace_months: int = 1,
          schedule: tuple[Vaccine, ...] | None = None) -> pd.DataFrame:
    """Judge every child against every vaccine.

    children: person_id, birth_idx (month index), resident_from_idx (month index or NaN).
    doses: vaccination events with person_id, subtype, value_num (dose number), date, and
    optionally _pos (the dose's child as a position in ``children``, EvalContext.linked).
    Returns one row per (child, vaccine): person_id, _pos, vaccine, vaccine_name, doses,
    required, status, level (Japanese), missing_dose, rec_index, due_index (the month index at
    which the first missing dose's standard window ends) and series_from.
    """
    schedule = schedule or default_schedule()
    as_of_idx = ages.ym_index_of(as_of)
    n = len(children)
    pid = children["person_id"].to_numpy()
    birth = children["birth_idx"].to_numpy(float)
    res_from = children["resident_from_idx"].to_numpy(float)
    sure_age = ages.surely_reached(ages.age_months(birth, as_of_idx))
    per = _per_vaccine_doses(children, doses, as_of, schedule)
    frames = []
    for v in schedule:
        count, last, first_age, skip = per[v.id]
        eligible = ~skip & ~np.isnan(birth)
        if v.born_from:
            eligible &= birth >= ages.ym_index_from_text(pd.Series([v.born_from]))[0]
        if v.born_before:
            # a child born later who already has doses of this vaccine is still judged on them
            eligible &= (birth < ages.ym_index_from_text(pd.Series([v.born_before]))[0]) | (count > 0)
        start_age = np.where(np.isnan(first_age), sure_age, first_age)
        series_k = np.zeros(n, dtype=int)
        for k, s in enumerate(v.series):
            series_k = np.where(start_age >= s.from_months, k, series_k)
        total = np.array([len(s.doses) for s in v.series], dtype=float)[series_k]
        nxt = np.minimum(count, total - 1).astype(int)  # index of the next dose within its series
        done = count >= total
        rec = np.full(n, np.nan)
        end = np.full(n, np.nan)
        for k, s in enumerate(v.series):
            for j, dspec in enumerate(s.doses):
                m = (series_k == k) & (nxt == j)
                if not m.any():
                    continue
                r = _bound(birth[m], last[m], dspec.rec_age, dspec.rec_after)
                e = _bound(birth[m], last[m], dspec.end_age, dspec.end_after)
                # a bound after a missing previous dose cannot be computed: that dose is judged
                e = np.where(np.isnan(e), birth[m] + v.legal_until_months, e)
                rec[m], end[m] = r, e
        late = eligible & ~done & (as_of_idx >= end + grace_months + 1)
        reminder = eligible & ~done & ~late & (as_of_idx >= rec + grace_months + 1)
        # after a move-in only windows that ended while the child lived here are known missing
        known = np.isnan(res_from) | (end >= res_from)
        status = np.select(
            [~eligible, done, late & ~known, late & (count == 0), late, reminder, count > 0],
            ["not_due", "ok", "unknown", "unvaccinated", "behind", "reminder", "ok"], default="not_due")
        required = np.where(eligible, total, 0.0)
        missing = np.isin(status, ["unknown", "unvaccinated", "behind", "reminder"])
        frames.append(pd.DataFrame({
            "person_id": pid, "_pos": np.arange(n), "vaccine": v.id, "vaccine_name": v.name,
            "doses": count, "required": required, "status": status,
            "level": pd.Series(status).map(LEVEL_TEXT).to_numpy(),
            "missing_dose": np.where(missing, count + 1, np.nan),
            "rec_index": np.where(missing, rec, np.nan),
            "due_index": np.where(missing, end, np.nan),
            "series_from": np.array([s.from_months for s in v.series])[series_k],
        }))
    return pd.concat(frames, ignore_index=True)


def dose_plan(birth_idx: float, doses: pd.DataFrame, as_of, resident_from_idx: float = np.nan,
              grace_months: int = 1, schedule: tuple[Vaccine, ...] | None = None) -> pd.DataFrame:
    """One child's doses, each with its recommended and standard-end month (for drawing).

    Doses already given take their real dates; a future dose's interval bounds are chained
    from the recommended time of the dose before it. Columns: vaccine, dose, rec_index,
    end_index, status (``done``, ``late``, ``unknown``, ``reminder``, ``due``, ``future``).
    The status of the first missing dose is exactly :func:`judge`'s.
    """
    schedule = schedule or default_schedule()
    children = pd.DataFrame({"person_id": ["c"], "birth_idx": [float(birth_idx)],
                             "resident_from_idx": [float(resident_from_idx)]})
    mine = doses.assign(person_id="c") if len(doses) else pd.DataFrame(
        {"person_id": [], "subtype": [], "value_num": [], "date": pd.to_datetime([])})
    verdict = judge(children, mine, as_of, grace_months, schedule).set_index("vaccine")
    as_of_idx = ages.ym_index_of(as_of)
    rows = []
    b = np.array([float(birth_idx)])
    for v in schedule:
        j = verdict.loc[v.id]
        if j["required"] == 0:
            continue
        series = next(s for s in v.series if s.from_months == j["series_from"])
        sub = mine[mine["subtype"].isin(v.satisfied_by)]
        given = np.sort(ages.ym_index_from_dates(pd.to_datetime(sub["date"]))) if len(sub) else np.array([])
        prev = np.nan
        implied = int(j["doses"]) - len(given)  # doses known only from a later dose number
        first_missing = "none"
        for k, dspec in enumerate(series.doses, start=1):
            rec = float(_bound(b, np.array([prev]), dspec.rec_age, dspec.rec_after)[0])
            end = float(_bound(b, np.array([prev]), dspec.end_age, dspec.end_after)[0])
            if np.isnan(end):
                end = float(birth_idx) + v.legal_until_months
            if np.isnan(rec):
                rec = end
            if k <= j["doses"]:
                status = "done"
                prev = given[k - 1 - implied] if k - 1 - implied >= 0 else rec
            elif k == j["doses"] + 1 and j["status"] in ("unvaccinated", "behind", "unknown", "reminder"):
                status = {"unvaccinated": "late", "behind": "late"}.get(j["status"], j["status"])
                rec, end = float(j["rec_index"]), float(j["due_index"])
                first_missing = status
                prev = rec
            else:
                # a dose after a missing one waits for it: drawn like it once its own time came
                status = "future" if as_of_idx < rec else (
                    first_missing if first_missing in ("late", "unknown") else "due")
                prev = rec
            rows.append((v.id, k, rec, end, status))
    return pd.DataFrame(rows, columns=["vaccine", "dose", "rec_index", "end_index", "status"])
