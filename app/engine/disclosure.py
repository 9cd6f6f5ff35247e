"""What staff may say to the family about a flag, decided once for the list, the evidence pane,
exports and the printed visit sheet (issue 15 §4).

Classes, from open to guarded: ``discuss`` (○ the family knows it), ``staff`` (△ staff only),
``never`` (✕ never reveal). Two rules:

1. **A flag is as guarded as its strictest evidence.** A △ flag whose evidence row is a ✕ fact
   (a 生活保護 start) is ✕: printing the flag with its reason would print the fact.
2. **A flag whose very label names a ✕ fact is ✕**, with or without rows behind it: the label
   「生活保護受給世帯」 *is* the fact. A rule names what it reads, so its floor is the strictest
   default class of the event types it reads (``rule_floor``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CLASSES = ("discuss", "staff", "never")
STRICTNESS = {c: i for i, c in enumerate(CLASSES)}
DEFAULT = "staff"


def strictest(*classes) -> str:
    """The most guarded of the given classes (unknown or empty values count as ``staff``)."""
    known = [c if c in STRICTNESS else DEFAULT for c in classes if c is not None and c == c]
    return max(known, key=STRICTNESS.__getitem__) if known else DEFAULT


def type_classes(events: pd.DataFrame) -> dict[str, str]:
    """Event type -> its strictest stored class, from the events themselves (``type``, ``disclosure``)."""
    if events is None or len(events) == 0 or "disclosure" not in events:
        return {}
    level = events["disclosure"].map(STRICTNESS).fillna(STRICTNESS[DEFAULT]).astype(int)
    top = level.groupby(events["type"].to_numpy()).max()
    return {t: CLASSES[int(v)] for t, v in top.items()}


def rule_floor(rule, classes_of_types: dict[str, str], floors: dict[str, str] | None = None) -> str:
    """The class a rule's flag has at least: its own, and that of every event type it reads
    (a combine rule: that of the rules it combines, ``floors`` holding those already known)."""
    found = [rule.disclosure]
    found += [classes_of_types.get(t) for t in (rule.get("event_types") or [])]
    if rule.kind == "combine":
        found += [(floors or {}).get(p) for p in (*rule.get("all", []), *rule.get("any", []))]
    return strictest(*found)


def rule_floors(ruleset, classes_of_types: dict[str, str]) -> dict[str, str]:
    """:func:`rule_floor` for every rule of a rule set (combine rules after their parts)."""
    floors: dict[str, str] = {}
    ordered = [r for r in ruleset.rules if r.kind != "combine"] + [r for r in ruleset.rules if r.kind == "combine"]
    for r in ordered:
        floors[r.id] = rule_floor(r, classes_of_types, floors)
    return floors


def flag_classes(flags: pd.DataFrame, rows: pd.DataFrame | None, floors: dict[str, str] | None = None) -> np.ndarray:
    """The class of each flag row: strictest of its own ``disclosure``, its rule's floor, and the
    ``disclosure`` of the evidence rows behind it (``rows``: person_id?, rule_id, disclosure).

    ``flags`` has rule_id, disclosure and, when several children are mixed, person_id; rows are
    matched on person_id too when both carry it. Vectorised: one groupby, no loop per child.
    """
    if len(flags) == 0:
        return np.array([], dtype=object)
    level = flags["disclosure"].map(STRICTNESS).fillna(STRICTNESS[DEFAULT]).to_numpy(dtype=int)
    if floors:
        floor = flags["rule_id"].map(floors).map(STRICTNESS).fillna(0).to_numpy(dtype=int)
        level = np.maximum(level, floor)
    if rows is not None and len(rows):
        keys = ["person_id", "rule_id"] if "person_id" in flags and "person_id" in rows else ["rule_id"]
        r = rows.assign(_lvl=rows["disclosure"].map(STRICTNESS).fillna(STRICTNESS[DEFAULT]).astype(int))
        top = r.groupby(keys)["_lvl"].max()
        idx = pd.MultiIndex.from_frame(flags[keys]) if len(keys) > 1 else pd.Index(flags["rule_id"])
        ev = top.reindex(idx).fillna(0).to_numpy(dtype=int)
        level = np.maximum(level, ev)
    return np.asarray(CLASSES, dtype=object)[level]
