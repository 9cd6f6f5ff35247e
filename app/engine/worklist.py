"""The working list, Qt-free: filters, sort orders and household grouping over the results frame.

The results frame (built by ``app/store/queries/worklist.py``, or by tests) has one row per
child and these columns:

    person_id, pseudonym, household_id, district, town, age_months (int),
    flag:<rule_id> (bool, one per rule of the run), flag_count (int), reasons (str),
    followup_status (str, one of FOLLOWUP_STATUSES), followup_date, next_action_date (datetime),
    followed (bool: any follow-up done, in the app or in the health centre's assessment),
    status_since (str: the status recorded after the extraction, "" if none),
    moved_in_recent (bool), move_in_date (datetime),
    stale_sources (str: sources whose as-of date is too old, "" if all fresh),
    rank (int, 1 = highest need, urgent first, in the order the role may see),
    urgent (bool: 至急, the mother's EPDS 問10 ≥ 1), urgent_date (datetime),
    extracted (bool: 抽出 under the run's definition, app/engine/extraction.py),
    and — only for roles with VIEW_SCORE — score, probability;
    names (name_kanji, name_kana) only after an explicit, logged "show identity".

Everything here works on whole columns (numpy/pandas); at 200,000 rows a filter or a sort
takes tens of milliseconds (benchmarks/bench_worklist.py), which is why the table model
does not use QSortFilterProxyModel (TECH_NOTES.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from app.engine import catalogue
from app.engine.extraction import need_order

FLAG_PREFIX = "flag:"

# Follow-up states in workflow order (DOMAIN.md "Follow-up"). The first is the default.
NOT_FOLLOWED = "未対応"
FOLLOWUP_STATUSES = ("未対応", "連絡済み", "訪問済み", "支援中(ケース化)", "支援不要", "転出等")
# States that close the case for the working list (no further visit planned).
CLOSED_STATUSES = ("支援中(ケース化)", "支援不要", "転出等")

# Age bands offered by the filter bar: (label, min months, max months), inclusive.
AGE_BANDS = (
    ("0歳", 0, 11), ("1歳", 12, 23), ("2歳", 24, 35), ("3歳", 36, 47),
    ("4歳", 48, 59), ("5歳", 60, 71), ("6歳", 72, 83),
)


def age_text(months) -> str:
    """``2歳3か月`` for an age in calendar months ("" when unknown)."""
    try:
        m = int(months)
    except (TypeError, ValueError):
        return ""
    return f"{m // 12}歳{m % 12}か月" if m >= 0 else ""


def flag_columns(frame: pd.DataFrame) -> list[str]:
    """The ``flag:<rule_id>`` columns of a results frame, in frame order."""
    return [c for c in frame.columns if c.startswith(FLAG_PREFIX)]


def rule_ids(frame: pd.DataFrame) -> list[str]:
    return [c[len(FLAG_PREFIX):] for c in flag_columns(frame)]


@dataclass(frozen=True)
class WorklistFilter:
    """What the user chose in the filter bar ③. Empty tuples / None mean "any"."""

    districts: tuple[str, ...] = ()
    towns: tuple[str, ...] = ()
    age_min: int | None = None
    age_max: int | None = None
    any_rules: tuple[str, ...] = ()        # the child has at least one of these flags
    statuses: tuple[str, ...] = ()         # follow-up states to show
    not_followed_only: bool = False        # the report's working filter
    extracted_only: bool = False           # 抽出 only (the run's definition); urgent children always pass
    moved_in_only: bool = False
    stale_only: bool = False
    text: str = ""                         # free text in the reasons (and pseudonym / id / town)
    min_flags: int = 0
    top_k: int | None = None               # keep the k highest-need rows (by rank)
    score_min: float | None = None         # only meaningful where the score column exists

    def with_(self, **changes) -> "WorklistFilter":
        return replace(self, **changes)


def default_filter() -> WorklistFilter:
    """The nurse's working list: 抽出 ∩ not yet followed (her area is what she may see), ordered
    by need; urgent children always on it, first. 「全件」 is ``extracted_only=False``."""
    return WorklistFilter(not_followed_only=True, extracted_only=True)


DEFAULT_SORT = ("rank", True)  # highest need first


SEARCH_COLUMNS = ("reasons", "pseudonym", "person_id", "town", "district", "household_id",
                  "name_kanji", "name_kana")


@dataclass
class SearchIndex:
    """Per-frame caches computed once per load: searchable text and sort orders.

    Text search runs on each column's distinct values (a handful of reason patterns, towns
    and districts; one per child only for IDs) with numpy's string ufuncs, then maps the
    hits back through the factorised codes. Sorting precomputes, per column and direction,
    the full order of the frame (value, then need rank); sorting a filtered subset is then a
    mask over that order — no sort at all per change (TECH_NOTES: rank keys cached once).
    """

    frame: pd.DataFrame
    _text: list[tuple[np.ndarray, np.ndarray]] = field(init=False, default_factory=list)
    _keys: dict[str, np.ndarray] = field(init=False, default_factory=dict)
    _orders: dict[tuple[str, bool], np.ndarray] = field(init=False, default_factory=dict)

    def __post_init__(self):
        for c in SEARCH_COLUMNS:
            if c in self.frame:
                codes, uniques = pd.factorize(self.frame[c].fillna("").astype(str))
                self._text.append((codes, np.strings.lower(np.asarray(uniques, dtype=str))))

    def text_hits(self, word: str) -> np.ndarray:
        """Rows where ``word`` (lower-case) occurs in any searchable column."""
        hits = np.zeros(len(self.frame), dtype=bool)
        for codes, uniques in self._text:
            found = np.strings.find(uniques, word) >= 0
            if found.any():
                hits |= found[codes]
        return hits

    def sort_key(self, column: str) -> np.ndarray:
        """A numeric array whose order is the column's order (NaN/empty last)."""
        key = self._keys.get(column)
        if key is None:
            key = _sort_key(self.frame[column])
            self._keys[column] = key
        return key

    def order(self, column: str, ascending: bool = True) -> np.ndarray:
        """All frame positions sorted by ``column`` (empty last), ties in need order (rank)."""
        cached = self._orders.get((column, ascending))
        if cached is not None:
            return cached
        key = self.sort_key(column)
        key = np.where(np.isnan(key), np.inf, key if ascending else -key)
        if "rank" in self.frame and column != "rank":
            order = np.lexsort((self.sort_key("rank"), key))
        else:
            order = np.argsort(key, kind="stable")
        self._orders[(column, ascending)] = order
        return order


def _sort_key(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s):
        return s.fillna(False).to_numpy(dtype=np.float64)
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_datetime64_any_dtype(s):
        v = s.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
        v[s.isna().to_numpy()] = np.nan
        return v
    # Text: dense rank of the sorted unique values; empty sorts last like NaN.
    text = s.fillna("").astype(str)
    codes, uniques = pd.factorize(text, sort=True)
    key = codes.astype(np.float64)
    key[(text == "").to_numpy()] = np.nan
    return key


def filter_mask(frame: pd.DataFrame, spec: WorklistFilter, index: SearchIndex | None = None) -> np.ndarray:
    """Boolean mask of the rows passing every condition of ``spec`` (vectorised)."""
    n = len(frame)
    mask = np.ones(n, dtype=bool)
    if spec.districts:
        mask &= frame["district"].isin(spec.districts).to_numpy()
    if spec.towns:
        mask &= frame["town"].isin(spec.towns).to_numpy()
    if spec.age_min is not None or spec.age_max is not None:
        age = frame["age_months"].to_numpy()
        if spec.age_min is not None:
            mask &= age >= spec.age_min
        if spec.age_max is not None:
            mask &= age <= spec.age_max
    if spec.any_rules:
        cols = [FLAG_PREFIX + r for r in spec.any_rules if FLAG_PREFIX + r in frame]
        if cols:
            mask &= frame[cols].to_numpy(dtype=bool).any(axis=1)
        else:
            mask &= False
    if spec.statuses:
        mask &= frame["followup_status"].isin(spec.statuses).to_numpy()
    work = np.ones(n, dtype=bool)
    if spec.not_followed_only:
        work &= ~frame["followed"].to_numpy(dtype=bool)
    if spec.extracted_only and "extracted" in frame:
        work &= frame["extracted"].to_numpy(dtype=bool)
    # 至急 is never filtered out of the working list, followed or not
    if (spec.extracted_only or spec.not_followed_only) and "urgent" in frame:
        work |= frame["urgent"].to_numpy(dtype=bool)
    mask &= work
    if spec.moved_in_only:
        mask &= frame["moved_in_recent"].to_numpy(dtype=bool)
    if spec.stale_only:
        mask &= (frame["stale_sources"].fillna("") != "").to_numpy()
    if spec.min_flags:
        mask &= frame["flag_count"].to_numpy() >= spec.min_flags
    if spec.score_min is not None and "score" in frame:
        mask &= frame["score"].fillna(-np.inf).to_numpy() >= spec.score_min
    needle = spec.text.strip().lower()
    if needle:
        index = index if index is not None else SearchIndex(frame)
        # Every word must occur (AND), as in a search box.
        for word in needle.split():
            mask &= index.text_hits(word)
    if spec.top_k is not None and "rank" in frame:
        rows = np.flatnonzero(mask)
        if len(rows) > spec.top_k:
            order = np.argsort(frame["rank"].to_numpy()[rows], kind="stable")
            keep = np.zeros(n, dtype=bool)
            keep[rows[order[:spec.top_k]]] = True
            mask &= keep
    return mask


def sort_rows(rows: np.ndarray, index: SearchIndex, column: str, ascending: bool = True) -> np.ndarray:
    """``rows`` (frame positions) reordered by ``column``; ties keep the need order (rank)."""
    order = index.order(column, ascending)
    member = np.zeros(len(index.frame), dtype=bool)
    member[np.asarray(rows, dtype=np.int64)] = True
    return order[member[order]]


def displayed_rows(frame: pd.DataFrame, spec: WorklistFilter, index: SearchIndex,
                   sort: tuple[str, bool] = DEFAULT_SORT) -> np.ndarray:
    """Frame positions to display: filtered, then sorted."""
    rows = np.flatnonzero(filter_mask(frame, spec, index))
    column, ascending = sort
    if column not in frame:
        column, ascending = DEFAULT_SORT if "rank" in frame else ("person_id", True)
    return sort_rows(rows, index, column, ascending)


def recompute_need(frame: pd.DataFrame, weights: dict[str, float], counted: list[str] | None = None) -> pd.DataFrame:
    """A copy with ``rank`` (and ``score`` where present) recomputed from the counted rules.

    The conditions panel ① lets the user choose which rules count; the score is Σ weight ×
    flag over those (DOMAIN.md §6). Ties are broken by flag count then research ID so the
    order is stable. Reasons and flags are left as they are: a flag that does not count
    is still evidence.
    """
    out = frame.copy()
    cols = flag_columns(frame)
    ids = [c[len(FLAG_PREFIX):] for c in cols]
    use = [i for i in ids if counted is None or i in counted]
    w = np.array([weights.get(i, 1.0) if i in use else 0.0 for i in ids], dtype=np.float64)
    flags = frame[cols].to_numpy(dtype=np.float64) if cols else np.zeros((len(frame), 0))
    need = flags @ w if cols else np.zeros(len(frame))
    counted_flags = flags[:, [i in use for i in ids]].sum(axis=1) if cols else np.zeros(len(frame))
    urgent = frame["urgent"].to_numpy(dtype=bool) if "urgent" in frame else np.zeros(len(frame), dtype=bool)
    rank = need_order(need, urgent, counted_flags, frame["person_id"].to_numpy(dtype=str))
    out["rank"] = rank
    if "score" in out:
        out["score"] = need
    return out


def group_households(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per household: the switchable household view of ② (vectorised groupby).

    Flags are "any child of the household has it"; the need order is the best (lowest)
    rank of its children; the follow-up state shown is that of the child most in need, and
    ``followed`` is true only when every child is followed.
    """
    if frame.empty:
        cols = ["household_id", "person_id", "pseudonym", "district", "town", "age_months", "children",
                "flag_count", "reasons", "followup_status", "followed", "status_since",
                "moved_in_recent", "stale_sources", "rank"]
        return pd.DataFrame(columns=cols + flag_columns(frame))
    f = frame.sort_values("rank", kind="stable")
    g = f.groupby("household_id", sort=False)
    # The first row per household after the rank sort is the child most in need;
    # drop_duplicates is a hash pass, far cheaper than groupby.first on text columns.
    first = f.drop_duplicates("household_id", keep="first").set_index("household_id")
    out = pd.DataFrame({
        "household_id": first.index.to_numpy(),
        # the child most in need stands for the household (its timeline opens on double-click)
        "person_id": first["person_id"].to_numpy(),
        "pseudonym": first["pseudonym"].to_numpy(),
        "district": first["district"].to_numpy(),
        "town": first["town"].to_numpy(),
        "age_months": g["age_months"].min().to_numpy(),
        "children": g.size().to_numpy(),
        "followup_status": first["followup_status"].to_numpy(),
        "followed": g["followed"].all().to_numpy(),
        "status_since": first["status_since"].to_numpy(),
        "moved_in_recent": g["moved_in_recent"].any().to_numpy(),
        "urgent": (g["urgent"].any().to_numpy() if "urgent" in f else np.zeros(g.ngroups, dtype=bool)),
        "extracted": (g["extracted"].any().to_numpy() if "extracted" in f else np.ones(g.ngroups, dtype=bool)),
        "stale_sources": first["stale_sources"].to_numpy(),
        "rank": g["rank"].min().to_numpy(),
    })
    flags = flag_columns(frame)
    if flags:
        any_flags = g[flags].any()
        for c in flags:
            out[c] = any_flags[c].to_numpy()
        out["flag_count"] = any_flags.to_numpy().sum(axis=1)
    else:
        out["flag_count"] = 0
    # Reasons of every child, prefixed by its pseudonym so the source stays clear.
    has = f["reasons"].fillna("") != ""
    labelled = f["pseudonym"].astype(str)[has] + ": " + f["reasons"].astype(str)[has]
    out["reasons"] = join_by_group(labelled.to_numpy(dtype=object), f["household_id"][has].to_numpy(),
                                    first.index.to_numpy())
    for c in ("score", "probability"):
        if c in frame:
            out[c] = g[c].max().to_numpy()
    for c in ("name_kanji", "name_kana"):
        if c in frame:
            out[c] = first[c].to_numpy()
    return out.sort_values("rank", kind="stable").reset_index(drop=True)


def join_by_group(values: np.ndarray, keys: np.ndarray, wanted: np.ndarray, sep: str = " / ") -> np.ndarray:
    """``sep``-joined values per key, in ``wanted`` order ("" where a key has none).

    pandas' groupby-join calls Python per group through slow machinery (2 s at 90,000
    households); slicing one list at the group boundaries does the same in ~50 ms.
    """
    order = np.argsort(keys, kind="stable")
    k, v = keys[order], values[order].tolist()
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]]) if len(k) else np.array([], dtype=int)
    ends = np.r_[starts[1:], len(k)]
    joined = pd.Series([sep.join(v[a:b]) for a, b in zip(starts, ends)], index=k[starts], dtype=object)
    return joined.reindex(wanted).fillna("").to_numpy(dtype=object)


def places_of(frame: pd.DataFrame) -> dict[str, list[str]]:
    """District -> sorted towns of the frame's children (the filter bar's choices)."""
    if not len(frame):
        return {}
    pairs = frame[["district", "town"]].drop_duplicates().dropna(subset=["district"])
    return {d: sorted(g["town"].dropna().unique().tolist()) for d, g in pairs.groupby("district")}


def household_members(frame: pd.DataFrame, person_id: str) -> pd.DataFrame:
    """The rows of the children sharing ``person_id``'s household (the child included)."""
    hh = frame.loc[frame["person_id"] == person_id, "household_id"]
    if hh.empty:
        return frame.iloc[0:0]
    return frame[frame["household_id"] == hh.iloc[0]].sort_values("rank", kind="stable")


def summary_counts(frame: pd.DataFrame, rows: np.ndarray) -> dict[str, int]:
    """Counts for the status line: shown, not yet followed, brought into support since extraction."""
    rows = np.asarray(rows, dtype=np.int64)
    followed = frame["followed"].to_numpy(dtype=bool)[rows] if "followed" in frame else np.zeros(len(rows), bool)
    since = frame["status_since"].to_numpy(dtype=object)[rows] if "status_since" in frame else np.array([])
    return {
        "total": int(len(frame)),
        "shown": int(len(rows)),
        "not_followed": int((~followed).sum()),
        "urgent": int(frame["urgent"].to_numpy(dtype=bool)[rows].sum()) if "urgent" in frame else 0,
        "case_since": int((since == "支援中(ケース化)").sum()),
    }


@dataclass
class ChildEvidence:
    """Everything the evidence panel shows for one child (built by the store query).

    flags:     rule_id, label, flagged, reason, threshold, disclosure, first_date, last_date
    rows:      rule_id, event_id, role, source, date, description, value, as_of, disclosure
    household: person_id, pseudonym, relation, age_months, flags (Japanese text), printable_flags (its non-✕
               flags, for print), disclosure
    followups: date, status, note, next_action_date, user
    """

    person_id: str
    pseudonym: str = ""
    district: str = ""
    town: str = ""
    age_months: int | None = None
    flags: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    household: pd.DataFrame = field(default_factory=pd.DataFrame)
    followups: pd.DataFrame = field(default_factory=pd.DataFrame)
    source_as_of: dict[str, str] = field(default_factory=dict)
    name: str = ""  # only filled after an explicit, logged "show identity"
    urgent_date: pd.Timestamp | None = None  # newest EPDS with 問10 ≥ 1 behind 至急 (None: not urgent)
    urgent_ago: str = ""                     # how long before the run's as-of date (「3か月前」)


# Short codes for the compact flag column (two or three characters each); rules not listed
# use the first two characters of their label.
FLAG_SHORT = {
    "checkup": "健診", "checkup_attendance": "健診", "vaccine": "予防", "vaccination": "予防",
    "vaccination_none": "未接種", "night_visit": "夜間", "night_visit_frequent": "夜間多", "growth": "体重",
    "growth_height": "身長", "growth_kaup": "カウプ", "growth_obesity": "肥満", "growth_trend": "体重↓",
    "caries": "むし歯", "caries_many": "むし歯多", "dental": "歯科", "dental_missed": "歯科",
    "dental_missed_1y6m": "歯科1歳半", "income": "所得", "public_assistance": "生保", "single_parent": "ひとり親",
    "young_mother": "若年母", "epds": "EPDS", "epds_self_harm": "EPDS問10", "guardian_smoker": "喫煙",
    "guardian_health": "喫煙", "frequent_moves": "転居多", "recent_move_in": "転入", "move_in": "転入",
    "sibling_custody": "きょうだい児相", "epds_no_nursery": "EPDS無所属",
}


def flag_short(rule_id: str, label: str) -> str:
    return FLAG_SHORT.get(rule_id) or (label[:2] if label else rule_id[:3])


@dataclass
class WorklistData:
    """What the list loads at once: the results frame and the run it came from.

    rules: one dict per flag rule of the run (rule_id, label, weight, disclosure, threshold).
    targets: (key, Japanese label) of the targets that have a run; target: the one shown.
    """

    frame: pd.DataFrame
    rules: list[dict] = field(default_factory=list)
    targets: list[tuple[str, str]] = field(default_factory=list)
    target: str = "abuse"
    ruleset_text: str = ""
    run_id: int | None = None
    extracted_at: str | None = None
    source_as_of: dict[str, str] = field(default_factory=dict)
    message: str = ""   # why the list is empty, for the user (Japanese), "" when it is not
    index: "SearchIndex | None" = None  # built on the worker thread by prepare_index
    runs: list[tuple[int, str]] = field(default_factory=list)  # (run_id, label) of this target, newest first
    extraction: str = ""        # the run's 抽出 definition in Japanese (app/engine/extraction.py)
    extraction_where: str = ""  # where it is set (the rule set's [extraction] table)
    caution: str = ""           # the validation's caution in plain words (score roles only), "" if none
    # Counted in the store, so they stay true when only part of the list was read (``complete``
    # False: the run's order down to its last 抽出/至急 child, which every 抽出-only filter needs):
    total: int | None = None    # the children the user may list in this run (None: len(frame))
    places: dict[str, list[str]] | None = None  # district -> towns of those children (filter choices)
    complete: bool = True


def prepare_index(data: WorklistData,
                  warm: tuple[str, ...] = ("rank", "age_months", "town", "district", "flag_count")) -> WorklistData:
    """Build the frame's search index and the usual sort orders (worker thread, not the GUI)."""
    if not isinstance(data.frame.index, pd.RangeIndex):
        data.frame = data.frame.reset_index(drop=True)
    data.index = SearchIndex(data.frame)
    for column in warm:
        if column in data.frame:
            data.index.order(column, True)
    return data


# Japanese source names and the sources whose age matters: both from the catalogue.
SOURCE_LABELS = catalogue.source_labels()
FRESHNESS_SOURCES = catalogue.freshness_sources()

TARGET_LABELS = {"abuse": "虐待予防", "postpartum": "産後うつ・育児不安"}
