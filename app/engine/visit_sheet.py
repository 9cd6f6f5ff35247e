"""The content of a home-visit sheet, Qt-free: what may be discussed, a reason to contact,
questions to ask, and the staff-only facts — never the "never reveal" ones.

Built from the evidence panel's :class:`~app.engine.worklist.ChildEvidence`; the view
(``app/views/visit_sheet.py``) lays it out on A4 and prints it through the export gate.
A "reason to contact" comes only from facts the family itself knows (a checkup it was
invited to, a vaccine reminder): the report's caseworkers asked for a legitimate pretext
that does not reveal what the city linked behind the family's back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from app.engine import catalogue
from app.engine.worklist import SOURCE_LABELS, ChildEvidence, age_text

DISCUSS, STAFF, NEVER = "discuss", "staff", "never"
# Sources that never print, whatever their rows say (same list as the export gate).
NEVER_SOURCES = catalogue.never_sources()

# Reasons to contact by rule (or by evidence source): facts the family was told about.
PRETEXTS_BY_RULE = {
    "checkup": "乳幼児健診のご案内（未受診の健診について受診日程のご相談）",
    "vaccine": "予防接種のお知らせ（接種時期を過ぎたワクチンのご案内）",
    "vaccination": "予防接種のお知らせ（接種時期を過ぎたワクチンのご案内）",
    "caries": "歯科健診・むし歯予防のご案内",
    "dental": "歯科健診・むし歯予防のご案内",
    "growth": "健診結果のその後の様子うかがい（身長・体重の測定のご案内）",
}
PRETEXTS_BY_SOURCE = {
    "kenshin": PRETEXTS_BY_RULE["checkup"],
    "yobo": PRETEXTS_BY_RULE["vaccine"],
    "shika": PRETEXTS_BY_RULE["caries"],
}
GENERAL_PRETEXT = "乳幼児のいるご家庭への定期的な様子うかがい（子育て支援のご案内）"

QUESTIONS_BY_RULE = {
    "checkup": ["健診を受けられなかったご事情はありますか（日程・体調・きょうだいの世話など）",
                "次の健診の日程を一緒に決められますか"],
    "vaccine": ["予防接種の予定は立っていますか", "かかりつけの小児科はありますか"],
    "vaccination": ["予防接種の予定は立っていますか", "かかりつけの小児科はありますか"],
    "growth": ["授乳・食事の様子（量、回数、好き嫌い）", "睡眠やふだんの機嫌"],
    "caries": ["歯みがきの習慣、おやつ・飲み物の様子", "かかりつけの歯科はありますか"],
    "dental": ["歯みがきの習慣、おやつ・飲み物の様子", "かかりつけの歯科はありますか"],
    "night": ["最近のけがや病気、夜間に受診したことの有無（こちらからは事実を示さずに）",
                    "家の中の安全対策（転落・やけど）"],
    "epds": ["保護者ご自身の睡眠・気分・食欲", "困ったときに相談できる人はいますか"],
    "income": ["利用できる手当・支援制度のご案内を希望されますか"],
    "guardian_smoker": ["家庭内の喫煙と受動喫煙対策"],
}
GENERAL_QUESTIONS = ["お子さんの最近の様子で気になること", "子育てで困っていること・手伝ってほしいこと",
                     "保育所・幼稚園・地域の子育て支援の利用"]


@dataclass
class Fact:
    text: str
    date: str = ""
    source: str = ""
    disclosure: str = STAFF


@dataclass
class VisitSheet:
    person_id: str
    title: str
    meta: str
    pretexts: list[str] = field(default_factory=list)
    discuss: list[Fact] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    staff: list[Fact] = field(default_factory=list)
    omitted_never: int = 0   # how many facts were left out as "never reveal" (count only)


def _date(value) -> str:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return ""
    return "" if pd.isna(ts) else ts.strftime("%Y-%m-%d")


def _by_rule(table: dict, rule_id: str):
    """Entry for a rule id, or for the family it belongs to (``checkup_attendance`` → ``checkup``)."""
    if rule_id in table:
        return table[rule_id]
    for key in sorted(table, key=len, reverse=True):
        if rule_id.startswith(key):
            return table[key]
    return None


def _without_date(text: str) -> str:
    # Event descriptions start with their date, which the sheet prints in its own column.
    return re.sub(r"^\d{4}-\d{2}-\d{2}\s*", "", str(text))


def _is_never(disclosure, source) -> bool:
    return disclosure == NEVER or source in NEVER_SOURCES


def build_sheet(ev: ChildEvidence) -> VisitSheet:
    """One child's sheet from its evidence; "never reveal" facts are dropped here."""
    who = ev.name or ev.pseudonym or ev.person_id
    age = age_text(ev.age_months) if ev.age_months is not None else ""
    sheet = VisitSheet(ev.person_id, f"{who}（研究用ID {ev.person_id}）",
                       "  ".join(x for x in (ev.district, ev.town, age) if x))
    flags = ev.flags[ev.flags["flagged"].astype(bool)] if len(ev.flags) else ev.flags
    rows = ev.rows if len(ev.rows) else pd.DataFrame(columns=["rule_id", "source", "disclosure"])
    pretexts, questions = [], []
    for f in flags.itertuples(index=False):
        mine = rows[rows["rule_id"] == f.rule_id]
        if _is_never(f.disclosure, None):
            sheet.omitted_never += 1 + len(mine)
            continue
        target = sheet.discuss if f.disclosure == DISCUSS else sheet.staff
        reason = str(f.reason or "")
        # Scoring reasons usually start with the rule's label already.
        text = reason if reason.startswith(str(f.label)) else (f"{f.label}：{reason}" if reason else str(f.label))
        target.append(Fact(text, _date(f.last_date), "", f.disclosure))
        for r in mine.itertuples(index=False):
            disclosure = r.disclosure or f.disclosure
            if _is_never(disclosure, r.source):
                sheet.omitted_never += 1
                continue
            # A row is never shown more openly than its flag allows.
            if f.disclosure == STAFF:
                disclosure = STAFF
            src = SOURCE_LABELS.get(r.source, r.source)
            fact = Fact("　・" + _without_date(r.description), _date(r.date), f"{src}（{r.as_of}時点）" if r.as_of else src,
                        disclosure)
            (sheet.discuss if disclosure == DISCUSS else sheet.staff).append(fact)
            if disclosure == DISCUSS and r.source in PRETEXTS_BY_SOURCE:
                pretexts.append(PRETEXTS_BY_SOURCE[r.source])
        pretext = getattr(f, "contact_pretext", None) or _by_rule(PRETEXTS_BY_RULE, f.rule_id)
        if f.disclosure == DISCUSS and pretext:
            pretexts.append(pretext)
        questions.extend(_by_rule(QUESTIONS_BY_RULE, f.rule_id) or [])
    for m in ev.household.itertuples(index=False) if len(ev.household) else ():
        if m.person_id == ev.person_id or _is_never(getattr(m, "disclosure", STAFF), None):
            continue
        if m.flags:
            sheet.staff.append(Fact(f"世帯 {m.relation} {m.pseudonym}：{m.flags}", "", "", STAFF))
    for f in ev.followups.itertuples(index=False) if len(ev.followups) else ():
        note = f"：{f.note}" if f.note else ""
        sheet.staff.append(Fact(f"これまでの対応 {f.status}{note}", _date(f.date), "フォロー記録", STAFF))
    sheet.pretexts = list(dict.fromkeys(pretexts)) or [GENERAL_PRETEXT]
    sheet.questions = list(dict.fromkeys(questions + GENERAL_QUESTIONS))
    return sheet


def build_sheets(evidences: list[ChildEvidence]) -> list[VisitSheet]:
    return [build_sheet(ev) for ev in evidences]
