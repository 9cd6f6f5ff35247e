"""A hand-made SAMPLE child for the standalone preview, tests and the benchmark (架空データ).

Never used by the application as real data: ``TimelineData.is_sample`` is True and the view
shows a "サンプル（架空）" banner. The child is built to show what the issue asks for:
a move-in (no data before it), missed checkups caught up later, a high maternal EPDS after a
sibling's birth, an overdue vaccine, night visits, household changes, a consultation, an
assessment with follow-up, and one child-guidance record (removed for roles without custody).
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from app.engine import catalogue
from app.engine.timeline_layout import EVENT_COLUMNS, TimelineData

CHILD_ID = "1000001"
MOTHER_ID = "1000002"
SIBLING_ID = "1000003"
HOUSEHOLD = "H0a1b2c3d"
BIRTH = dt.date(2021, 3, 10)
MOVE_IN = dt.date(2022, 1, 15)
AS_OF = dt.date(2025, 3, 31)

def _default_disclosure(source: str, etype: str) -> str:
    """The catalogue's default class (the type's own class overrides its source's)."""
    by_source, by_type = catalogue.disclosure_defaults()
    return by_type.get(etype) or by_source.get(source, "staff")


def _file(source: str) -> str:
    """The source's canonical file name ("" for records Mimamori writes itself)."""
    name = catalogue.sources()[source].layout.get("file", "")
    return "RECEIPTC.UKE" if name == "*.UKE" else name


def _rows() -> list[dict]:
    rows: list[dict] = []

    def add(person, date, etype, source, subtype="", num=np.nan, text="", attrs=None,
            disclosure=None):
        rows.append({
            "person_id": person, "household_id": HOUSEHOLD, "date": pd.Timestamp(date),
            "type": etype, "subtype": subtype, "value_num": float(num), "value_text": text,
            "attrs": json.dumps(attrs or {}, ensure_ascii=False), "source": source,
            "source_file": _file(source), "source_line": len(rows) + 2,
            "disclosure": disclosure or _default_disclosure(source, etype),
            "delivery_id": None if source == "followup" else 1,
        })

    c = CHILD_ID
    add(c, MOVE_IN, "move_in", "jumin", attrs={"from": "県外"})
    add(c, "2022-01-31", "checkup", "kenshin", "10か月", text="missed", attrs={"target_ym": "2022-01"})
    add(c, "2022-09-30", "checkup", "kenshin", "1歳6か月", text="missed", attrs={"target_ym": "2022-09"})
    add(c, "2022-09-30", "dental", "shika", "1歳6か月", text="missed", attrs={"target_ym": "2022-09"})
    add(c, "2022-11-20", "checkup", "kenshin", "1歳6か月", text="attended",
        attrs={"target_ym": "2022-11", "judgement": "要観察", "findings": "言葉の遅れ"})
    for date, h, w in [("2022-11-20", 79.0, 9.1), ("2023-09-14", 88.5, 11.0), ("2024-03-15", 93.0, 12.2)]:
        add(c, date, "height", "kenshin", num=h)
        add(c, date, "weight", "kenshin", num=w)
    add(c, "2023-09-14", "dental", "shika", "2歳6か月", num=2, text="attended", attrs={"judgement": "要治療"})
    add(c, "2024-03-15", "checkup", "kenshin", "3歳", text="attended",
        attrs={"target_ym": "2024-03", "judgement": "要観察", "findings": "体重増加不良"})
    add(c, "2024-03-15", "dental", "shika", "3歳", num=4, text="attended", attrs={"judgement": "要治療"})
    for vaccine, dose, date in [("MR", 1, "2022-04-02"), ("VZV", 1, "2022-05-10"),
                                ("DPT-IPV", 4, "2022-06-01"), ("Hib", 4, "2022-06-01"),
                                ("JE", 1, "2024-06-20"), ("JE", 2, "2024-07-18")]:
        add(c, date, "vaccination", "yobo", vaccine, num=dose)
    add(c, "2022-10-01", "nursery", "yoho", "保育所", text="enrolled", attrs={"facility": "こども園"})
    add(c, "2023-06-18", "night_visit", "receipt", "112014970", text="深夜",
        attrs={"diagnoses": [{"code": "8843036", "name": "頭部打撲"}]})
    add(c, "2024-11-03", "night_visit", "receipt", "112014870", text="休日",
        attrs={"diagnoses": [{"code": "4660001", "name": "急性気管支炎"}]})
    add(c, "2024-06-10", "consultation", "soudan", "LINE", text="育児不安", attrs={"content": "夜泣きがひどく眠れない", "staff": "保健師A"})
    add(c, "2024-07-01", "assessment", "assessment", "P-1", text="フォロー中", attrs={"district": "本庁"})
    add(c, "2024-07-15", "followup", "followup", text="visited",
        attrs={"note": "家庭訪問。母の疲労が強い。", "next_action_date": "2024-10-15", "user": "nurse1"})
    add(c, "2024-09-02", "custody", "jisou", "通告", attrs={"complaint": "泣き声通告", "end_date": "2024-09-02"})
    # Household: sibling's birth, the mother's high EPDS, allowance and assistance.
    add(SIBLING_ID, "2023-06-05", "birth", "jumin")
    # Marked staff-only in this sample (the catalogue's default is discuss) so that the
    # preview's guardian lane shows a △ mark next to the ○ ones.
    add(MOTHER_ID, "2023-07-20", "epds", "epds", num=15, attrs={"items": [2, 2, 1, 2, 2, 1, 1, 2, 1, 1], "child_id": SIBLING_ID},
        disclosure="staff")
    add(MOTHER_ID, "2023-10-01", "single_parent_allowance", "jido_fuyo", text="start")
    add(MOTHER_ID, "2024-01-10", "public_assistance", "seiho", text="start")
    add(MOTHER_ID, "2024-02-01", "income_bracket", "receipt", num=30, text="区オ")
    add(SIBLING_ID, "2023-12-04", "checkup", "kenshin", "4か月", text="attended")
    add(SIBLING_ID, "2024-04-30", "checkup", "kenshin", "10か月", text="missed")
    return rows


def _receipts(n: int, rng: np.random.Generator, start: dt.date, end: dt.date) -> list[dict]:
    """``n`` receipt/diagnosis events spread over [start, end] (to reach benchmark sizes)."""
    span = (end - start).days
    days = np.sort(rng.integers(0, span, n))
    names = ["急性上気道炎", "アトピー性皮膚炎", "急性中耳炎", "胃腸炎", "気管支喘息"]
    rows = []
    for i, d in enumerate(days):
        date = pd.Timestamp(start + dt.timedelta(days=int(d)))
        is_dx = i % 2 == 1
        rows.append({
            "person_id": CHILD_ID, "household_id": HOUSEHOLD, "date": date,
            "type": "diagnosis" if is_dx else "receipt",
            "subtype": f"{4600000 + i % 5}" if is_dx else "1114",
            "value_num": np.nan, "value_text": names[i % 5] if is_dx else "医保単独・未就学者・外来",
            "attrs": "{}", "source": "receipt", "source_file": "RECEIPTC.UKE",
            "source_line": 1000 + i, "disclosure": "staff", "delivery_id": 1,
        })
    return rows


def sample_timeline_data(n_events: int = 120, seed: int = 7, precompute: bool = True) -> TimelineData:
    """The sample child with about ``n_events`` events (padded with receipts). 架空データ."""
    rng = np.random.default_rng(seed)
    rows = _rows()
    rows += _receipts(max(0, n_events - len(rows)), rng, MOVE_IN, AS_OF)
    events = pd.DataFrame(rows)
    events.insert(0, "event_id", np.arange(1, len(events) + 1, dtype="int64"))
    events = events[EVENT_COLUMNS]
    members = pd.DataFrame({
        "person_id": [MOTHER_ID, SIBLING_ID],
        "relation": ["mother", "sibling"],
        "label": ["母 い-2041", "弟 う-3307"],
    })
    ids = events.set_index("type")["event_id"]
    missed = events[(events["type"] == "checkup") & (events["value_text"] == "missed")
                    & (events["person_id"] == CHILD_ID)]["event_id"]
    flags = pd.DataFrame([
        {"person_id": CHILD_ID, "rule_id": "checkup", "flagged": True,
         "reason": "1歳6か月児健診を対象月に未受診（後日受診）", "threshold": "累計受診回数",
         "first_date": pd.Timestamp("2022-01-31"), "last_date": pd.Timestamp("2022-09-30")},
        {"person_id": CHILD_ID, "rule_id": "epds", "flagged": True,
         "reason": "母のEPDS合計15点（基準13点以上）", "threshold": ">=13",
         "first_date": pd.Timestamp("2023-07-20"), "last_date": pd.Timestamp("2023-07-20")},
        {"person_id": CHILD_ID, "rule_id": "caries", "flagged": True,
         "reason": "3歳児歯科健診でむし歯4本", "threshold": ">=1",
         "first_date": pd.Timestamp("2024-03-15"), "last_date": pd.Timestamp("2024-03-15")},
    ])
    dental = events[(events["type"] == "dental") & (events["value_num"] > 0)]["event_id"]
    evidence = pd.DataFrame(
        [{"person_id": CHILD_ID, "rule_id": "checkup", "event_id": int(e), "role": "trigger"} for e in missed]
        + [{"person_id": CHILD_ID, "rule_id": "epds", "event_id": int(ids["epds"]), "role": "trigger"}]
        + [{"person_id": CHILD_ID, "rule_id": "caries", "event_id": int(e), "role": "trigger"} for e in dental])
    sources = {"jumin": AS_OF, "kenshin": dt.date(2025, 2, 28), "shika": dt.date(2025, 2, 28),
               "yobo": dt.date(2025, 3, 15), "receipt": dt.date(2025, 1, 31), "epds": dt.date(2024, 12, 31),
               "jido_fuyo": dt.date(2025, 3, 1), "seiho": dt.date(2025, 3, 1), "yoho": dt.date(2025, 3, 1),
               "soudan": AS_OF, "assessment": AS_OF, "followup": AS_OF, "jisou": dt.date(2025, 3, 20)}
    child = {"person_id": CHILD_ID, "pseudonym": "あ-1001", "sex": "M", "birth_date": BIRTH,
             "resident_from": MOVE_IN, "resident_to": None, "moved_in": True,
             "household_id": HOUSEHOLD}
    data = TimelineData(child=child, events=events, members=members, flags=flags,
                        evidence=evidence, sources=sources, as_of=AS_OF, is_sample=True)
    if precompute:
        # As the real query does on the worker thread.
        from app.engine.timeline_layout import child_vaccine_windows

        data.windows = child_vaccine_windows(data)
    return data


def without_custody(data: TimelineData) -> TimelineData:
    """The sample as a role without VIEW_CUSTODY receives it (mirrors the query's filter)."""
    keep = data.events["type"] != "custody"
    return TimelineData(child=data.child, events=data.events[keep].reset_index(drop=True),
                        members=data.members, flags=data.flags,
                        evidence=data.evidence[data.evidence["event_id"].isin(data.events.loc[keep, "event_id"])],
                        sources=data.sources, as_of=data.as_of, is_sample=True, windows=data.windows)
