"""Qt-free layout of one child's timeline: lanes, day coordinates, vaccine windows, growth bands.

The timeline view draws what these functions compute, so they are tested without Qt.
Coordinates: x is the number of days since 1970-01-01 (float; dates are local calendar days,
no time zone), so the view's axis, the model and the tests agree without conversion.

``TimelineData`` is the contract between the role-checked query
(``app/store/queries/timeline.py``) and the view model: whatever is in it, the user may see.

Vaccine due windows come from the shared schedule (resources/reference/vaccination_schedule.toml
via app.engine.reference.vaccination), so a dose drawn "遅れ" is one the vaccination rule flags;
only the window openings are this module's own drawing aid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from app.engine import catalogue

EPOCH = np.datetime64("1970-01-01", "D")

# Lanes from top to bottom: (key, Japanese label), from the catalogue. Vaccination expands
# into one sub-lane per vaccine; household mode appends one lane per household member.
LANES: list[tuple[str, str]] = list(catalogue.lanes())
LANE_LABELS = dict(LANES)

# Event type -> lane key (catalogue). Types absent here (height, weight) are drawn only as series.
TYPE_LANE: dict[str, str] = catalogue.type_lanes()

# When each dose's standard window OPENS, in months of age, per schedule vaccine id. The
# schedule (resources/reference/vaccination_schedule.toml, read by
# app.engine.reference.vaccination) gives only when a dose is due by; the start is this
# module's own drawing aid. A vaccine missing here opens 3 months before it is due.
DISCLOSURE_CLASSES = ("discuss", "staff", "never")
DISCLOSURE_LABELS = {"discuss": "家族と話してよい", "staff": "職員限り", "never": "開示厳禁"}

SOURCE_LABELS = catalogue.source_labels()

EVENT_COLUMNS = [
    "event_id", "person_id", "household_id", "date", "type", "subtype", "value_num",
    "value_text", "attrs", "source", "source_file", "source_line", "disclosure", "delivery_id",
]


@dataclass
class TimelineData:
    """Everything one child's timeline may show, already filtered for the user's role.

    child: dict with person_id, pseudonym, sex, birth_date (date), resident_from/to (date or
    None), moved_in (bool), household_id. events: the events frame (DATA_MODEL.md columns) of
    the child and of the household members listed in ``members`` (person_id, relation, label).
    flags / evidence: the scoring outputs for the child. sources: source -> as-of date.
    run: the scoring run the flags and ``as_of`` come from (run_id, target, ruleset_id,
    ruleset_version, as_of), None before any run or for the sample.
    """

    child: dict
    events: pd.DataFrame
    members: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["person_id", "relation", "label"]))
    flags: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["person_id", "rule_id", "flagged", "reason", "threshold", "first_date", "last_date"]))
    evidence: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["person_id", "rule_id", "event_id", "role"]))
    sources: dict = field(default_factory=dict)
    as_of: dt.date | None = None
    run: dict | None = None
    is_sample: bool = False
    # Vaccine due windows (``vaccine_windows``), computed by the query on the worker thread so
    # the GUI thread does not pay for them; None = compute when the model is built.
    windows: pd.DataFrame | None = None


def child_vaccine_windows(data: "TimelineData") -> pd.DataFrame:
    """``vaccine_windows`` for the child of ``data`` (empty frame without a birth month)."""
    birth = data.child.get("birth_date")
    if birth is None:
        return pd.DataFrame(columns=["vaccine", "dose", "start", "end", "given", "status"])
    ev = data.events
    doses = ev[(ev["type"] == "vaccination") & (ev["person_id"].astype(str) == str(data.child["person_id"]))]
    resident_from = data.child.get("resident_from") if data.child.get("moved_in") else None
    resident_from = pd.Timestamp(resident_from).date() if resident_from is not None else None
    return vaccine_windows(pd.Timestamp(birth).date(), doses, data.as_of or dt.date.today(), resident_from)


def to_days(values) -> np.ndarray:
    """Dates (Series, array, list of dates/strings) -> float days since 1970-01-01; NaT -> NaN."""
    arr = np.asarray(pd.to_datetime(pd.Series(values), errors="coerce")).astype("datetime64[D]")
    out = (arr - EPOCH).astype("int64").astype("float64")
    out[np.isnat(arr)] = np.nan
    return out


def day_of(value) -> float:
    """One date (date, Timestamp, ISO text) -> float days since 1970-01-01 (NaN if missing)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return float("nan")
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        return float("nan")
    return float((np.datetime64(ts.date(), "D") - EPOCH).astype("int64"))


def date_of(day: float) -> dt.date:
    """Inverse of ``day_of`` (fraction of a day dropped)."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(np.floor(day)))


def assign_lanes(events: pd.DataFrame, child_id: str, members: pd.DataFrame | None = None,
                 household_mode: bool = False) -> np.ndarray:
    """Lane key for every event row (vectorised); "" = not drawn as a lane mark.

    The child's own events and household-level events go to category lanes; the mother's
    EPDS, pregnancy and guardian checkups to the guardian lane; siblings' births to the
    household lane. In household mode every other member's events go to that member's own
    lane ``member:<person_id>`` instead (the guardian lane keeps the mother's EPDS).
    """
    lane = events["type"].map(TYPE_LANE).fillna("").astype(object)
    person = events["person_id"].astype(str)
    etype = events["type"]
    own = person == str(child_id)
    shared = (etype.isin(["epds", "pregnancy", "guardian_checkup",
                          "public_assistance", "single_parent_allowance"])
              | ((etype == "birth") & ~own))
    drop = ~own & ~shared
    if household_mode and members is not None and len(members):
        is_member = person.isin(set(members["person_id"].astype(str))) & ~own
        to_member = is_member & (etype != "epds")
        lane = lane.where(~to_member, "member:" + person)
        drop = drop & ~to_member
    # Other people's remaining events have no lane in the child view.
    lane = lane.where(~drop, "")
    return lane.to_numpy(dtype=object)


def _add_months(birth: dt.date, months: float) -> dt.date:
    whole = int(np.floor(months))
    days = int(round((months - whole) * 30.4))
    y, m = divmod(birth.month - 1 + whole, 12)
    year, month = birth.year + y, m + 1
    last = (dt.date(year + (month // 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(birth.day, last)) + dt.timedelta(days=days)


def school_entry(birth: dt.date) -> dt.date:
    """First April 1 on which the child is 6 (children born on April 1 enter with the year before)."""
    year = birth.year + 6
    entry = dt.date(year, 4, 1)
    if (birth.month, birth.day) > (4, 1):
        entry = dt.date(year + 1, 4, 1)
    return entry


def _month_start(birth: dt.date, months: int) -> dt.date:
    y, m = divmod(birth.month - 1 + int(months), 12)
    return dt.date(birth.year + y, m + 1, 1)


def vaccine_lanes(birth: dt.date) -> list[tuple[str, str, tuple[str, ...]]]:
    """(schedule id, label, event subtypes that count) of the routine vaccines of this cohort."""
    from app.engine.reference.vaccination import default_schedule

    born = f"{birth.year:04d}-{birth.month:02d}"
    return [(v.id, v.name, tuple(v.satisfied_by)) for v in default_schedule()
            if (not v.born_from or born >= v.born_from) and (not v.born_before or born < v.born_before)]


def vaccine_windows(birth: dt.date, doses: pd.DataFrame, as_of: dt.date,
                    resident_from: dt.date | None = None) -> pd.DataFrame:
    """Windows of every routine dose with their status, as the vaccination rule judges them.

    From ``app.engine.reference.vaccination.dose_plan`` (the shared schedule, its month
    arithmetic, grace, catch-up series and move-in handling), so a dose drawn "遅れ" is exactly
    one the rule counts as late. A window runs from the recommended month (推奨) to the end of
    the standard window (標準的な接種期間).
    doses: vaccination events of the child (person_id, subtype, value_num, date).
    Returns vaccine, dose, start, end (float days), given (float day or NaN) and status:
    ``done``, ``overdue`` (past the standard window: the rule counts it), ``reminder``
    (recommended time passed, standard window still open), ``unknown`` (fell due before the
    move-in), ``due`` (window open), ``future``.
    """
    from app.engine.reference.vaccination import default_schedule, dose_plan
    from app.engine.rules import ages

    mine = pd.DataFrame({
        "subtype": doses["subtype"].astype(str).to_numpy() if len(doses) else [],
        "value_num": pd.to_numeric(doses["value_num"], errors="coerce").to_numpy(dtype=float) if len(doses) else [],
        "date": pd.to_datetime(doses["date"]).to_numpy() if len(doses) else pd.to_datetime([])})
    birth_idx = float(birth.year * 12 + birth.month - 1)
    plan = dose_plan(birth_idx, mine, as_of,
                     float(ages.ym_index_of(resident_from)) if resident_from else np.nan)
    satisfied = {v.id: v.satisfied_by for v in default_schedule()}
    subtype = mine["subtype"].to_numpy(dtype=str)
    when = to_days(mine["date"]) if len(mine) else np.array([])
    rows = []
    for r in plan.itertuples():
        sel = np.isin(subtype, list(satisfied[r.vaccine]))
        hits = np.sort(when[sel])
        given = float(hits[r.dose - 1]) if r.status == "done" and r.dose - 1 < len(hits) else np.nan
        start = _index_day(r.rec_index)
        end = _index_day(r.end_index + 1)  # the window closes at the end of its last month
        status = {"late": "overdue"}.get(r.status, r.status)
        rows.append((r.vaccine, int(r.dose), start, max(end, start), given, status))
    return pd.DataFrame(rows, columns=["vaccine", "dose", "start", "end", "given", "status"])


def _index_day(index: float) -> float:
    i = int(index)
    return day_of(dt.date(i // 12, i % 12 + 1, 1))


@lru_cache(maxsize=1)
def _growth_reference() -> pd.DataFrame:
    from app.resource_files import resource_path

    return pd.read_csv(resource_path("reference", "growth_r5_2023.csv"))


def growth_bands(sex: str, birth: dt.date, measure: str) -> pd.DataFrame:
    """Growth-reference percentiles (p3, p50, p97) of ``measure`` (height|weight) on the date axis.

    Reads resources/reference/growth_r5_2023.csv (令和5年乳幼児身体発育調査). Unknown sex uses
    the mean of both sexes so the band is still a fair guide.
    """
    ref = _growth_reference()
    cols = [f"{measure}_p3", f"{measure}_p50", f"{measure}_p97"]
    if sex in ("M", "F"):
        table = ref[ref["sex"] == sex][["age_months", *cols]]
    else:
        table = ref.groupby("age_months", as_index=False)[cols].mean()
    table = table.sort_values("age_months")
    # values stand at their class mid-points and hold to the end of the last class (no reference
    # after it: the band stops there — 「基準なし」)
    end = float(ref["class_to_months"].max())
    table = pd.concat([table, table.tail(1).assign(age_months=end)], ignore_index=True)
    days = np.array([day_of(_add_months(birth, m)) for m in table["age_months"]])
    return pd.DataFrame({"x": days, "p3": table[cols[0]].to_numpy(),
                         "p50": table[cols[1]].to_numpy(), "p97": table[cols[2]].to_numpy()})


def kaup_series(events: pd.DataFrame, child_id: str, birth: dt.date) -> pd.DataFrame:
    """Kaup index (kg / m²) at every date with both a height and a weight, from 3 months of age."""
    own = events[events["person_id"].astype(str) == str(child_id)]
    h = own[own["type"] == "height"][["date", "value_num"]].rename(columns={"value_num": "h"})
    w = own[own["type"] == "weight"][["date", "value_num", "event_id"]].rename(columns={"value_num": "w"})
    both = w.merge(h, on="date").dropna()
    both = both[both["h"] > 0]
    x = to_days(both["date"])
    keep = x >= day_of(_add_months(birth, 3))
    kaup = both["w"].to_numpy() / (both["h"].to_numpy() / 100.0) ** 2
    return pd.DataFrame({"x": x[keep], "y": kaup[keep],
                         "event_id": both["event_id"].to_numpy()[keep]})


# Kaup index normal ranges by age in months (DOMAIN_FACTS.md, "Growth"): (from, to, low, high).
_KAUP_NORMAL = [(3, 12, 16.0, 18.0), (12, 18, 15.5, 17.5), (18, 36, 15.0, 17.0), (36, 72, 14.5, 16.5)]
# EPDS reference lines: (score, label). Japanese cut-off 8/9; the report's applied threshold 13.
EPDS_LINES = [(9.0, "9点 国内カットオフ"), (13.0, "13点 適用基準")]


def kaup_bands(birth: dt.date) -> pd.DataFrame:
    """Normal Kaup index range per age band on the date axis: x0, x1, low, high."""
    rows = [(day_of(_add_months(birth, a)), day_of(_add_months(birth, b)), lo, hi)
            for a, b, lo, hi in _KAUP_NORMAL]
    return pd.DataFrame(rows, columns=["x0", "x1", "low", "high"])


def non_resident_spans(child: dict, start_day: float, end_day: float) -> list[tuple[float, float]]:
    """Spans of [start_day, end_day] when the child did not live in the city (no data, not missed)."""
    spans = []
    resident_from = day_of(child.get("resident_from"))
    resident_to = day_of(child.get("resident_to"))
    if child.get("moved_in") and not np.isnan(resident_from) and resident_from > start_day:
        spans.append((start_day, resident_from))
    if not np.isnan(resident_to) and resident_to < end_day:
        spans.append((resident_to, end_day))
    return spans


@dataclass
class LaneTemplate:
    """Which lane groups a situation shows; ``must_see`` ones cannot be hidden."""

    id: str
    name: str
    lanes: list[str]
    must_see: list[str]
    roles: list[str]
    series: str = "weight"
    shipped: bool = True
    owner: str | None = None

    def visible(self, hidden: set[str] | frozenset = frozenset()) -> list[str]:
        """Lane groups to draw after the user hid ``hidden`` (must-see lanes stay)."""
        must = set(self.must_see)
        return [k for k in self.lanes if k in must or k not in hidden]

    def as_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "lanes": list(self.lanes),
                "must_see": list(self.must_see), "roles": list(self.roles), "series": self.series}


def template_from_dict(data: dict, shipped: bool = True, owner: str | None = None) -> LaneTemplate:
    """Validate one template definition (unknown lanes are an error, must_see ⊆ lanes)."""
    known = {k for k, _ in LANES}
    lanes = [str(k) for k in data["lanes"]]
    must = [str(k) for k in data.get("must_see", [])]
    unknown = [k for k in lanes + must if k not in known]
    if unknown:
        raise ValueError(f"テンプレート「{data.get('name', '')}」に不明なレーン: {', '.join(unknown)}")
    lanes += [k for k in must if k not in lanes]
    series = str(data.get("series", "weight"))
    return LaneTemplate(id=str(data["id"]), name=str(data["name"]), lanes=lanes, must_see=must,
                        roles=[str(r) for r in data.get("roles", [])], series=series,
                        shipped=shipped, owner=owner)


def shipped_templates() -> list[LaneTemplate]:
    """Templates shipped in resources/config/timeline_templates.toml, in file order."""
    import tomllib

    from app.resource_files import resource_path

    with open(resource_path("config", "timeline_templates.toml"), "rb") as fh:
        doc = tomllib.load(fh)
    return [template_from_dict(t) for t in doc.get("template", [])]
