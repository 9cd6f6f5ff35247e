"""Prepared inputs for rule evaluation: the children evaluated, their ages, and who is whose
mother, guardian, sibling or household — built once per run, shared by every rule."""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.engine import disclosure
from app.engine.rules import ages

# Oldest age evaluated: preschool children, 0–6 years (calendar months 0..83).
MAX_AGE_MONTHS = 83

SUBJECT_PREFIX = {"self": "", "mother": "母: ", "guardians": "保護者: ", "siblings": "きょうだい: ",
                  "household": "世帯: "}


class EvalContext:
    """Children to evaluate (positions 0..n-1) and their linked events."""

    def __init__(self, persons: pd.DataFrame, events: pd.DataFrame, relations: pd.DataFrame, as_of):
        self.as_of = pd.Timestamp(as_of).normalize()
        self.as_of_idx = ages.ym_index_of(self.as_of)
        p = persons.copy()
        p["birth_idx"] = ages.ym_index_from_text(p["birth_ym"])
        p["age"] = ages.age_months(p["birth_idx"], self.as_of_idx)
        res_to = pd.to_datetime(p.get("resident_to"))
        alive_here = res_to.isna() | (res_to > self.as_of) if res_to is not None else True
        # age alone decides who is a preschool child: ``kind`` is set at import time relative to
        # the import's as-of and may call a 6-year-old "adult"; nobody aged 0–6 is a guardian
        keep = alive_here & (p["age"] >= 0) & (p["age"] <= MAX_AGE_MONTHS)
        ch = p[keep].reset_index(drop=True)
        ch["resident_from"] = pd.to_datetime(ch.get("resident_from"))
        # resident_from only matters for children who came by 転入: for those born here the
        # data starts at birth anyway; NaT means "before the data starts" = known throughout.
        moved = ch["moved_in"].fillna(False).astype(bool) if "moved_in" in ch else pd.Series(False, index=ch.index)
        ch["moved_in"] = moved
        rf_idx = ages.ym_index_from_dates(ch["resident_from"])
        ch["resident_from_idx"] = np.where(moved.to_numpy(), rf_idx, np.nan)
        for col in ("sex", "household_id", "district", "nationality", "mother_id", "town"):
            if col not in ch:
                ch[col] = ""
            ch[col] = ch[col].fillna("").astype(str)
        self.children = ch
        self.n = len(ch)
        self.pos = pd.Index(ch["person_id"].astype(str))
        self.person_birth = pd.Series(p["birth_idx"].to_numpy(), index=p["person_id"].astype(str))
        self.person_sex = pd.Series(p.get("sex", pd.Series("", index=p.index)).fillna("").astype(str).to_numpy(),
                                    index=p["person_id"].astype(str))

        self.set_all_persons(persons)

        # events are held as plain column arrays; frames are cut from them per (types, subject)
        # and cached, so rules reading the same events share one copy
        dates = events["date"].to_numpy()
        if dates.dtype != "datetime64[ns]":
            dates = pd.to_datetime(events["date"]).astype("datetime64[ns]").to_numpy()
        keep = ~np.isnat(dates) & (dates <= self.as_of.to_datetime64())
        rows = np.flatnonzero(keep)
        self._disclosure_of_types(events)
        cols: dict[str, np.ndarray] = {}
        for col in ("person_id", "household_id", "type", "subtype", "value_text", "attrs", "source_file"):
            cols[col] = _text_column(events[col] if col in events.columns else None, rows,
                                     missing="nan" if col == "person_id" else "")
        cols["event_id"] = pd.to_numeric(events["event_id"]).to_numpy(dtype="int64")[rows]
        cols["value_num"] = pd.to_numeric(events["value_num"], errors="coerce").to_numpy(dtype="float64")[rows]
        cols["source_line"] = (pd.to_numeric(events["source_line"], errors="coerce").to_numpy(dtype="float64")[rows]
                               if "source_line" in events.columns else np.full(len(rows), np.nan))
        cols["date"] = dates[rows]
        cols["_midx"] = ages.ym_index_from_dates(cols["date"])
        self._cols = cols
        # the class of each kept row, for the evidence of a flag (scoring._flag_disclosure)
        self._row_disclosure = (_text_column(events["disclosure"], rows, missing=None)
                                if "disclosure" in events.columns else None)
        self._row_of_event: pd.Index | None = None
        # each event's own child position (-1: not a child evaluated), looked up once per
        # distinct person when the column is categorical
        self._self_pos = _lookup(self.pos, events["person_id"] if "person_id" in events.columns else None,
                                 rows, cols["person_id"])
        self._type_codes, self._type_names = _codes(events["type"], rows, cols["type"])
        self._by_type: dict = {}
        self._linked: dict = {}
        self.relations = relations
        self._links: dict[str, pd.DataFrame] = {}
        self.outputs: dict = {}  # rule id -> RuleOutput, for combine rules
        self.cache: dict = {}  # shared intermediate frames (measurements, vaccine judgement)
        self.labels: dict[str, str] = {}  # rule id -> label, for reasons that name other rules

    # -- events ---------------------------------------------------------------------------
    def _frame(self, rows: np.ndarray, columns=None, **extra) -> pd.DataFrame:
        data = {k: v[rows] for k, v in self._cols.items() if columns is None or k in columns}
        data.update(extra)
        # the arrays are fresh copies already: copy=False keeps one block per column instead
        # of stacking the object columns into one 2-D block (that copy was ~30 % of a frame)
        return pd.DataFrame(data, copy=False)

    # -- disclosure ---------------------------------------------------------------------------
    def _disclosure_of_types(self, events: pd.DataFrame) -> None:
        """Each event type's strictest stored class, over every row (before the as-of cut)."""
        if "disclosure" not in events:
            self.type_classes: dict[str, str] = {}
            return
        t, d = events["type"], events["disclosure"]
        if isinstance(t.dtype, pd.CategoricalDtype) and isinstance(d.dtype, pd.CategoricalDtype):
            # distinct (type, class) pairs from the codes: no pass over millions of strings
            pair = np.unique(t.cat.codes.to_numpy().astype("int64") * (len(d.cat.categories) + 1)
                             + d.cat.codes.to_numpy().astype("int64") + 1)
            tc, dc = pair // (len(d.cat.categories) + 1), pair % (len(d.cat.categories) + 1) - 1
            pairs = pd.DataFrame({"type": pd.Categorical.from_codes(tc, t.cat.categories).astype(object),
                                  "disclosure": pd.Categorical.from_codes(dc, d.cat.categories).astype(object)})
        else:
            pairs = events[["type", "disclosure"]].drop_duplicates()
        self.type_classes = disclosure.type_classes(pairs)

    def disclosure_of_events(self, event_ids) -> np.ndarray | None:
        """The stored class of each of these events (None: the events carry no class)."""
        if self._row_disclosure is None:
            return None
        if self._row_of_event is None:
            self._row_of_event = pd.Index(self._cols["event_id"])
        rows = self._row_of_event.get_indexer(np.asarray(event_ids, dtype="int64"))
        out = np.full(len(rows), np.nan, dtype=object)
        out[rows >= 0] = self._row_disclosure[rows[rows >= 0]]
        return out

    def _rows_of_types(self, types) -> np.ndarray:
        key = tuple(sorted(types))
        if key not in self._by_type:
            wanted = [i for i, name in enumerate(self._type_names) if name in key]
            self._by_type[key] = np.flatnonzero(np.isin(self._type_codes, wanted))
        return self._by_type[key]

    def of_types(self, types) -> pd.DataFrame:
        """All events of the given types (any person), as of the run date."""
        return self._frame(self._rows_of_types(types))

    @property
    def events(self) -> pd.DataFrame:
        return self._frame(np.arange(len(self._cols["event_id"])))

    def link(self, subject: str) -> pd.DataFrame:
        """(_pos, subject_id) pairs: whose events count for each child."""
        if subject in self._links:
            return self._links[subject]
        ch = self.children
        pos = np.arange(self.n)
        rel = self.relations if self.relations is not None else pd.DataFrame(
            columns=["person_id", "related_id", "relation"])
        rel = rel.assign(person_id=rel["person_id"].astype(str), related_id=rel["related_id"].astype(str))

        def from_relations(kinds):
            r = rel[rel["relation"].isin(kinds)]
            ppos = self.pos.get_indexer(r["person_id"])
            return pd.DataFrame({"_pos": ppos, "subject_id": r["related_id"].to_numpy()})[ppos >= 0]

        if subject == "mother":
            a = pd.DataFrame({"_pos": pos, "subject_id": ch["mother_id"].to_numpy()})
            a = a[a["subject_id"] != ""]
            out = pd.concat([a, from_relations(["mother"])])
        elif subject == "guardians":
            out = pd.concat([self.link("mother"), from_relations(["father", "guardian"])])
        elif subject == "siblings":
            # same mother (any age) or a sibling relation; never the child itself
            mother_of = None
            if "mother_id" in ch:
                mother_of = pd.DataFrame({"_pos": pos, "mother_id": ch["mother_id"].to_numpy()})
                mother_of = mother_of[mother_of["mother_id"] != ""]
            parts = [from_relations(["sibling"])]
            if mother_of is not None and self._all_mothers is not None:
                m = mother_of.merge(self._all_mothers, on="mother_id")
                parts.append(m[["_pos", "subject_id"]])
            out = pd.concat(parts)
            out = out[out["subject_id"].to_numpy() != self.pos.to_numpy()[out["_pos"].to_numpy()]]
        else:
            raise ValueError(subject)
        out = out.drop_duplicates().reset_index(drop=True)
        self._links[subject] = out
        return out

    _all_mothers: pd.DataFrame | None = None

    def set_all_persons(self, persons: pd.DataFrame) -> None:
        """Keep (mother_id, person_id) of everyone, for siblings of any age."""
        if "mother_id" in persons:
            m = persons[["mother_id", "person_id"]].copy()
            m["mother_id"] = m["mother_id"].fillna("").astype(str)
            m = m[m["mother_id"] != ""]
            self._all_mothers = m.rename(columns={"person_id": "subject_id"}).astype(str)

    def linked(self, types, subject: str = "self", columns=None) -> pd.DataFrame:
        """Events of the given types belonging to each child through ``subject``.

        Adds ``_pos`` (child position), ``_age`` (the child's calendar age at the event).
        ``columns``: only these event columns (a frame of its own, for the largest types: the
        children's vaccinations are half of all events). The frame is cached and shared:
        callers filter or ``assign``, never modify in place.
        """
        key = (tuple(sorted(types)), subject, None if columns is None else tuple(sorted(columns)))
        if key in self._linked:
            return self._linked[key]
        rows = self._rows_of_types(types)
        if subject == "self":
            p = self._self_pos[rows]
            rows, p = rows[p >= 0], p[p >= 0]
        elif subject == "household":
            hh = pd.DataFrame({"_pos": np.arange(self.n), "household_id": self.children["household_id"].to_numpy()})
            hh = hh[hh["household_id"] != ""]
            ev = pd.DataFrame({"_row": rows, "household_id": self._cols["household_id"][rows]})
            m = ev[ev["household_id"] != ""].merge(hh, on="household_id")
            rows, p = m["_row"].to_numpy(), m["_pos"].to_numpy()
        else:
            ev = pd.DataFrame({"_row": rows, "subject_id": self._cols["person_id"][rows]})
            m = ev.merge(self.link(subject), on="subject_id")
            rows, p = m["_row"].to_numpy(), m["_pos"].to_numpy()
        birth = self.children["birth_idx"].to_numpy()
        out = self._frame(rows, columns, _pos=p, _age=self._cols["_midx"][rows] - birth[p])
        self._linked[key] = out
        return out

    def age_mask(self, ranges) -> np.ndarray:
        """Children whose age now falls in any of the inclusive month ranges (all if none)."""
        if not ranges:
            return np.ones(self.n, dtype=bool)
        age = self.children["age"].to_numpy()
        m = np.zeros(self.n, dtype=bool)
        for lo, hi in ranges:
            m |= (age >= lo) & (age <= hi)
        return m


def _text_column(column: pd.Series | None, rows: np.ndarray, missing) -> np.ndarray:
    """Object array of a text column at ``rows``, missing values as ``missing``.

    A categorical column (frames.scoring_events_frame) is expanded by a take over its
    categories, so every row refers to one shared string object per distinct value."""
    if column is None:
        return np.full(len(rows), "", dtype=object)
    if isinstance(column.dtype, pd.CategoricalDtype):
        cats = np.asarray(column.cat.categories, dtype=object)
        if missing == "nan":  # person_id: as str() of a missing value, like the plain path
            cats = cats.astype(str).astype(object)
        lookup = np.append(cats, np.array([missing], dtype=object)).astype(object)
        return lookup[column.cat.codes.to_numpy()[rows]]
    arr = column.to_numpy(dtype=object)[rows]
    if missing == "nan":
        return arr.astype(str).astype(object)
    if missing is None:
        return arr
    return np.where(pd.isna(arr), missing, arr).astype(object)


def _lookup(index: pd.Index, column: pd.Series | None, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position in ``index`` of each row's value (-1 when absent)."""
    if column is not None and isinstance(column.dtype, pd.CategoricalDtype):
        per_cat = index.get_indexer(np.asarray(column.cat.categories, dtype=object).astype(str))
        return np.append(per_cat, -1)[column.cat.codes.to_numpy()[rows]]
    return index.get_indexer(values)


def _codes(column: pd.Series, rows: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, names): the categories as they are, else factorised here."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        names = np.append(np.asarray(column.cat.categories, dtype=object), "").astype(object)
        codes = column.cat.codes.to_numpy()[rows].astype("int64")
        return np.where(codes < 0, len(names) - 1, codes), names
    return pd.factorize(values)
