"""Hand-made households in the frames of DATA_MODEL.md, for tests, previews and docs.

Small and explicit: every event is written by the caller, so a test can say exactly which
rows a flag must point to.
"""

from __future__ import annotations

import json

import pandas as pd


class FrameBuilder:
    """Build persons / events / relations frames by hand."""

    def __init__(self):
        self._persons: list[dict] = []
        self._events: list[dict] = []
        self._relations: list[dict] = []
        self._next_person = 1000001
        self._next_event = 1

    def person(self, birth_ym: str, kind: str = "child", sex: str = "F", district: str = "本庁",
               household_id: str = "H00000001", mother: str | None = None, nationality: str = "日本",
               resident_from: str | None = None, moved_in: bool = False, resident_to: str | None = None,
               person_id: str | None = None) -> str:
        pid = person_id or str(self._next_person)
        self._next_person += 1
        self._persons.append({
            "person_id": pid, "kind": kind, "sex": sex, "birth_ym": birth_ym, "household_id": household_id,
            "district": district, "town": "", "nationality": nationality,
            "resident_from": pd.Timestamp(resident_from) if resident_from else pd.NaT,
            "resident_to": pd.Timestamp(resident_to) if resident_to else pd.NaT,
            "moved_in": moved_in, "mother_id": mother or ""})
        if mother:
            self._relations.append({"person_id": pid, "related_id": mother, "relation": "mother",
                                    "since": pd.NaT, "until": pd.NaT})
        return pid

    def child(self, birth_ym: str, **kw) -> str:
        return self.person(birth_ym, kind="child", **kw)

    def adult(self, birth_ym: str, **kw) -> str:
        return self.person(birth_ym, kind="adult", **kw)

    def relate(self, person_id: str, related_id: str, relation: str) -> None:
        self._relations.append({"person_id": person_id, "related_id": related_id, "relation": relation,
                                "since": pd.NaT, "until": pd.NaT})

    def event(self, person_id: str, type_: str, date: str, subtype: str = "", value_num=float("nan"),
              value_text: str = "", attrs: dict | None = None, source: str = "", household_id: str | None = None,
              source_file: str = "", source_line: int | None = None) -> int:
        eid = self._next_event
        self._next_event += 1
        hh = household_id
        if hh is None:
            hh = next((p["household_id"] for p in self._persons if p["person_id"] == person_id), "")
        self._events.append({
            "event_id": eid, "person_id": person_id, "household_id": hh, "date": pd.Timestamp(date),
            "type": type_, "subtype": subtype, "value_num": float(value_num), "value_text": value_text,
            "attrs": json.dumps(attrs or {}, ensure_ascii=False), "source": source or type_,
            "source_file": source_file or f"{type_}.csv", "source_line": source_line if source_line is not None else eid + 1,
            "disclosure": "staff", "delivery_id": 1})
        return eid

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        persons = pd.DataFrame(self._persons)
        events = pd.DataFrame(self._events, columns=[
            "event_id", "person_id", "household_id", "date", "type", "subtype", "value_num", "value_text",
            "attrs", "source", "source_file", "source_line", "disclosure", "delivery_id"])
        events["date"] = pd.to_datetime(events["date"])
        relations = pd.DataFrame(self._relations, columns=["person_id", "related_id", "relation", "since", "until"])
        return persons, events, relations
