"""The content of a home-visit sheet, Qt-free: what may be discussed, a reason to contact,
questions to ask, and the staff-only facts — never the "never reveal" ones.

Built from the evidence panel's :class:`~app.engine.worklist.ChildEvidence`; the view
(``app/views/visit_sheet.py``) lays it out on A4 and prints it through the export gate.
A "reason to contact" comes only from facts the family itself knows (a checkup it was
invited to, a vaccine reminder): the report's caseworkers asked for a legitimate pretext
that does not reveal what the city linked behind the family's back.

A home visit needs to know whom to visit and where: after the user's logged 「氏名を表示」 the
sheet carries the child's name, address and the guardians' names (``identity_of``, from the
audited identity query's rows). Without it the sheet says so and shows the pseudonym only.

What is never printed: a flag is as guarded as its strictest evidence row (a △ flag whose
row is a ✕ 生活保護 start is ✕: its label and reason *are* the fact), and a ✕ flag takes its
rows and its label with it, on the household lines too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from app.engine import catalogue
from app.engine import disclosure
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


GUARDIAN_RELATIONS = ("母", "父", "保護者")
NO_IDENTITY_NOTE = ("氏名・住所・保護者名は、作業リストで「氏名を表示」（記録されます）を選んでから"
                    "印刷すると記載されます。")


@dataclass
class Identity:
    """Who to visit and where (from the re-identification query, each read logged)."""
    name: str
    kana: str = ""
    birth_date: str = ""
    address: str = ""
    guardians: list[tuple[str, str, str]] = field(default_factory=list)   # (relation, name, kana)


@dataclass
class VisitSheet:
    person_id: str
    title: str
    meta: str
    identity: Identity | None = None
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


def _is_never(cls, source) -> bool:
    return cls == NEVER or source in NEVER_SOURCES


def _row_classes(rows: pd.DataFrame) -> pd.Series:
    """Each evidence row's class, a never-printed source counting as ✕ whatever its label."""
    cls = rows["disclosure"].where(rows["disclosure"].isin(disclosure.CLASSES), STAFF)
    return cls.where(~rows["source"].isin(NEVER_SOURCES), NEVER)


def sheet_flag_classes(flags: pd.DataFrame, rows: pd.DataFrame):
    """Each flag's class for print: :func:`app.engine.disclosure.flag_classes` (the strictest of
    its own class and its evidence rows'), applied again here with never-printed sources counted
    as ✕, so the sheet holds even if a caller hands it evidence that was not classed."""
    if not len(rows):
        return disclosure.flag_classes(flags, None)
    return disclosure.flag_classes(flags, rows.assign(disclosure=_row_classes(rows).to_numpy()))


def _split_labels(text: str, known: set[str], sep: str = "・") -> list[str] | None:
    """Labels joined by ``sep`` back into a list, matching known labels (which may contain
    ``sep`` themselves, 「予防接種の未接種・遅れ」); None if some part is not a known label."""
    out, i = [], 0
    by_length = sorted(known, key=len, reverse=True)
    while i < len(text):
        match = next((k for k in by_length if k and text.startswith(k, i)
                      and (i + len(k) == len(text) or text.startswith(sep, i + len(k)))), None)
        if match is None:
            return None
        out.append(match)
        i += len(match) + len(sep)
    return out


def identity_of(person_id: str, identities: pd.DataFrame, household: pd.DataFrame,
                district: str = "") -> Identity | None:
    """The child's identity and its guardians' names from identity rows (``IDENTITY_COLUMNS``)
    and the evidence's household (relation per member); None if the child's row is missing."""
    rows = identities.set_index(identities["person_id"].astype(str)) if len(identities) else identities
    if str(person_id) not in getattr(rows, "index", ()):
        return None
    me = rows.loc[str(person_id)]
    address = "".join(str(x) for x in (me.get("town") or "", me.get("address_note") or "") if x)
    if district and address:
        address = f"{address}（{district}地区）"
    guardians = []
    for m in household.itertuples(index=False) if len(household) else ():
        if m.relation in GUARDIAN_RELATIONS and str(m.person_id) in rows.index:
            g = rows.loc[str(m.person_id)]
            guardians.append((m.relation, str(g["name_kanji"] or ""), str(g["name_kana"] or "")))
    return Identity(name=str(me["name_kanji"] or ""), kana=str(me.get("name_kana") or ""),
                    birth_date=str(me.get("birth_date") or ""), address=address, guardians=guardians)


def build_sheet(ev: ChildEvidence, identity: Identity | None = None) -> VisitSheet:
    """One child's sheet from its evidence; "never reveal" facts are dropped here."""
    who = (identity.name if identity else "") or ev.name or ev.pseudonym or ev.person_id
    age = age_text(ev.age_months) if ev.age_months is not None else ""
    sheet = VisitSheet(ev.person_id, f"{who}（研究用ID {ev.person_id}）",
                       "  ".join(x for x in (ev.district, ev.town, age) if x), identity=identity)
    rows = ev.rows if len(ev.rows) else pd.DataFrame(columns=["rule_id", "source", "disclosure"])
    all_flags = ev.flags.assign(disclosure=sheet_flag_classes(ev.flags, rows)) if len(ev.flags) else ev.flags
    flags = all_flags[all_flags["flagged"].astype(bool)] if len(all_flags) else all_flags
    # Labels that may appear on a household line: a rule whose class for this child is ✕ names a
    # ✕ fact, so a member's flag with that label is left out too (unknown labels as well).
    printable_labels = (set(all_flags.loc[all_flags["disclosure"] != NEVER, "label"].astype(str))
                        if len(all_flags) else set())
    known_labels = set(all_flags["label"].astype(str)) if len(all_flags) else set()
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
            cls = r.disclosure or f.disclosure
            if _is_never(cls, r.source):
                sheet.omitted_never += 1
                continue
            # A row is never shown more openly than its flag allows.
            if f.disclosure == STAFF:
                cls = STAFF
            src = SOURCE_LABELS.get(r.source, r.source)
            fact = Fact("　・" + _without_date(r.description), _date(r.date), f"{src}（{r.as_of}時点）" if r.as_of else src,
                        cls)
            (sheet.discuss if cls == DISCUSS else sheet.staff).append(fact)
            if cls == DISCUSS and r.source in PRETEXTS_BY_SOURCE:
                pretexts.append(PRETEXTS_BY_SOURCE[r.source])
        pretext = getattr(f, "contact_pretext", None) or _by_rule(PRETEXTS_BY_RULE, f.rule_id)
        if f.disclosure == DISCUSS and pretext:
            pretexts.append(pretext)
        questions.extend(_by_rule(QUESTIONS_BY_RULE, f.rule_id) or [])
    for m in ev.household.itertuples(index=False) if len(ev.household) else ():
        if m.person_id == ev.person_id or _is_never(getattr(m, "disclosure", STAFF), None):
            continue
        printable = getattr(m, "printable_flags", None)
        if printable is not None and m.flags:
            # The store classed each member's flags: ``printable_flags`` holds its non-✕ ones.
            if str(printable) != str(m.flags):
                sheet.omitted_never += 1
            if printable:
                sheet.staff.append(Fact(f"世帯 {m.relation} {m.pseudonym}：{printable}", "", "", STAFF))
        elif m.flags:
            labels = _split_labels(str(m.flags), known_labels)
            shown = [x for x in labels if x in printable_labels] if labels is not None else []
            sheet.omitted_never += len(labels) - len(shown) if labels is not None else 1
            if shown:
                sheet.staff.append(Fact(f"世帯 {m.relation} {m.pseudonym}：{'・'.join(shown)}", "", "", STAFF))
    for f in ev.followups.itertuples(index=False) if len(ev.followups) else ():
        note = f"：{f.note}" if f.note else ""
        sheet.staff.append(Fact(f"これまでの対応 {f.status}{note}", _date(f.date), "フォロー記録", STAFF))
    sheet.pretexts = list(dict.fromkeys(pretexts)) or [GENERAL_PRETEXT]
    sheet.questions = list(dict.fromkeys(questions + GENERAL_QUESTIONS))
    return sheet


def build_sheets(evidences: list[ChildEvidence], identities: pd.DataFrame | None = None) -> list[VisitSheet]:
    """Sheets for several children; ``identities`` (after a logged reveal) adds who and where."""
    if identities is None:
        return [build_sheet(ev) for ev in evidences]
    return [build_sheet(ev, identity_of(ev.person_id, identities, ev.household, ev.district)) for ev in evidences]
