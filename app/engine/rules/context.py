"""Prepared inputs for rule evaluation: the children evaluated, their ages, and who is whose
mother, guardian, sibling or household — built once per run, shared by every rule."""

from __future__ import annotations

import numpy as np
import pandas as pd

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

        # events are held as plain column arrays; frames are cut from them per (types, subject)
        # and cached, so rules reading the same events share one copy
        dates = pd.to_datetime(events["date"]).astype("datetime64[ns]").to_numpy()
        keep = ~np.isnat(dates) & (dates <= self.as_of.to_datetime64())
        cols: dict[str, np.ndarray] = {}
        for col in ("person_id", "household_id", "type", "subtype", "value_text", "attrs", "source_file"):
            if col in events.columns:
                arr = events[col].to_numpy(dtype=object)[keep]
                cols[col] = np.where(pd.isna(arr), "", arr).astype(object) if col != "person_id" else arr.astype(str).astype(object)
            else:
                cols[col] = np.full(int(keep.sum()), "", dtype=object)
        cols["event_id"] = pd.to_numeric(events["event_id"]).to_numpy(dtype="int64")[keep]
        cols["value_num"] = pd.to_numeric(events["value_num"], errors="coerce").to_numpy(dtype="float64")[keep]
        cols["source_line"] = (pd.to_numeric(events["source_line"], errors="coerce").to_numpy(dtype="float64")[keep]
                               if "source_line" in events.columns else np.full(int(keep.sum()), np.nan))
        cols["date"] = dates[keep]
        cols["_midx"] = ages.ym_index_from_dates(pd.Series(cols["date"]))
        self._cols = cols
        # each event's own child position (-1: not a child evaluated), looked up once
        self._self_pos = self.pos.get_indexer(cols["person_id"])
        self._type_codes, self._type_names = pd.factorize(cols["type"])
        self._by_type: dict = {}
        self._linked: dict = {}
        self.relations = relations
        self._links: dict[str, pd.DataFrame] = {}
        self.outputs: dict = {}  # rule id -> RuleOutput, for combine rules
        self.cache: dict = {}  # shared intermediate frames (measurements, vaccine judgement)
        self.labels: dict[str, str] = {}  # rule id -> label, for reasons that name other rules

    # -- events ---------------------------------------------------------------------------
    def _frame(self, rows: np.ndarray, **extra) -> pd.DataFrame:
        data = {k: v[rows] for k, v in self._cols.items()}
        data.update(extra)
        return pd.DataFrame(data)

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

    def linked(self, types, subject: str = "self") -> pd.DataFrame:
        """Events of the given types belonging to each child through ``subject``.

        Adds ``_pos`` (child position), ``_age`` (the child's calendar age at the event).
        The frame is cached and shared: callers filter or ``assign``, never modify in place.
        """
        key = (tuple(sorted(types)), subject)
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
        out = self._frame(rows, _pos=p, _age=self._cols["_midx"][rows] - birth[p])
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
