"""A synthetic results frame of the worklist's shape, for running the list view alone, for
tests and for the benchmark. No Qt here, so the benchmark measures pandas/numpy only.

Synthetic data counts as person data: callers keep it in memory (never written to disk).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.engine.worklist import FLAG_PREFIX, FOLLOWUP_STATUSES

SAMPLE_RULES = {
    # rule_id: (label, weight, disclosure, threshold text)
    "checkup": ("健診未受診", 0.9, "discuss", "2歳: 累計0・1・3回"),
    "vaccine": ("予防接種の遅れ", 0.6, "discuss", "標準スケジュールから3か月超の遅れ"),
    "night_visit": ("夜間・休日の外傷受診", 1.1, "staff", "2歳以下または6歳以上で1回以上"),
    "growth": ("体重の伸び悪い", 0.7, "staff", "体重パーセンタイル ≤ 3"),
    "caries": ("むし歯・歯科未受診", 0.5, "discuss", "むし歯1本以上"),
    "income": ("低所得(区エ・区オ)", 0.8, "never", "限度額区分 29/30"),
    "epds": ("母のEPDS高得点", 1.4, "staff", "合計 ≥ 9 または問10 ≥ 1"),
    "guardian_smoker": ("保護者の喫煙", 0.3, "staff", "保護者健診で喫煙あり"),
}
DISTRICTS = ("本庁", "追浜", "田浦", "逸見", "衣笠", "大津", "浦賀", "久里浜", "北下浦", "西")
SOURCES = ("jumin", "kenshin", "yobo", "receipt", "epds")


def sample_results(n: int = 2000, seed: int = 7, with_score: bool = True) -> pd.DataFrame:
    """``n`` children with plausible flags, follow-up states and freshness warnings."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1_000_001, 1_000_001 + n)
    person_id = ids.astype(str)
    district_idx = rng.integers(0, len(DISTRICTS), n)
    district = np.array(DISTRICTS, dtype=object)[district_idx]
    town = np.char.add(np.char.add(np.array(DISTRICTS, dtype=str)[district_idx], "町"),
                       (rng.integers(1, 6, n)).astype(str)).astype(object)
    # about 1.6 children per household
    household = np.char.add("H", np.char.zfill((ids // 2 + rng.integers(0, 2, n)).astype(str), 8)).astype(object)
    frame = pd.DataFrame({
        "person_id": person_id.astype(object),
        "pseudonym": np.char.add("あ-", np.char.zfill((ids % 10000).astype(str), 4)).astype(object),
        "household_id": household,
        "district": district,
        "town": town,
        "age_months": rng.integers(0, 84, n),
    })
    rates = {"checkup": .3, "vaccine": .4, "night_visit": .03, "growth": .2, "caries": .25,
             "income": .02, "epds": .04, "guardian_smoker": .05}
    flags = {}
    for rule, rate in rates.items():
        flags[rule] = rng.random(n) < rate
        frame[FLAG_PREFIX + rule] = flags[rule]
    mat = np.column_stack([flags[r] for r in rates])
    frame["flag_count"] = mat.sum(axis=1)
    labels = np.array([SAMPLE_RULES[r][0] for r in rates], dtype=object)
    # "・"-joined labels per row, vectorised over the 2^8 flag patterns rather than per child.
    code = (mat * (1 << np.arange(mat.shape[1]))).sum(axis=1)
    patterns = {c: "・".join(labels[[(c >> i) & 1 == 1 for i in range(len(labels))]])
                for c in np.unique(code)}
    frame["reasons"] = pd.Series(code).map(patterns).to_numpy()
    weights = np.array([SAMPLE_RULES[r][1] for r in rates])
    score = mat @ weights + rng.normal(0, 0.05, n)
    status = rng.choice(FOLLOWUP_STATUSES, n, p=[.7, .1, .1, .04, .04, .02])
    frame["followup_status"] = status
    frame["followed"] = status != FOLLOWUP_STATUSES[0]
    frame["followup_date"] = pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D")
    frame.loc[~frame["followed"], "followup_date"] = pd.NaT
    frame["next_action_date"] = pd.NaT
    frame["status_since"] = np.where(rng.random(n) < .5, status, "")
    frame.loc[~frame["followed"], "status_since"] = ""
    frame["moved_in_recent"] = rng.random(n) < .05
    frame["move_in_date"] = pd.NaT
    frame.loc[frame["moved_in_recent"], "move_in_date"] = pd.Timestamp("2024-12-01")
    stale = rng.random(n) < .1
    frame["stale_sources"] = np.where(stale, "yobo(2024-06-30)", "")
    # 至急 (EPDS 問10 ≥ 1) is rare; 抽出 = the top tenth plus the urgent (app/engine/extraction.py)
    from app.engine.extraction import ExtractionSpec, extract, need_order
    urgent = rng.random(n) < .005
    rank = need_order(score, urgent, mat.sum(axis=1), person_id)
    frame["rank"] = rank
    frame["urgent"] = urgent
    frame["urgent_date"] = pd.NaT
    frame.loc[urgent, "urgent_date"] = pd.Timestamp("2025-01-20")
    frame["extracted"] = extract(score, urgent, rank, ExtractionSpec(k=max(n // 10, 1)))
    if with_score:
        frame["score"] = score.round(3)
        frame["probability"] = (1 / (1 + np.exp(-(score - 2.5)))).round(3)
    return frame


def sample_as_of() -> dict[str, str]:
    return {s: "2025-03-31" for s in SOURCES} | {"yobo": "2024-06-30"}


_SAMPLE_ROWS = {
    # rule -> (source, description, value)
    "checkup": ("kenshin", "1歳6か月健診 未受診", "未受診"),
    "vaccine": ("yobo", "MR 1回目 未接種（標準 12–24か月）", "未接種"),
    "night_visit": ("receipt", "夜間・休日受診(深夜) 病名: 前腕骨折", "深夜"),
    "growth": ("kenshin", "体重 8.1kg（3パーセンタイル未満）", "8.1"),
    "caries": ("shika", "2歳6か月歯科健診 むし歯3本", "3"),
    "income": ("receipt", "所得区分 区オ", "区オ"),
    "epds": ("epds", "EPDS 14点（母）", "14"),
    "guardian_smoker": ("hogosha_kenshin", "保護者健診 喫煙有", "有"),
}


def sample_evidence(frame: pd.DataFrame, person_id: str):
    """A ChildEvidence for a row of :func:`sample_results` (fictional, for the standalone view)."""
    from app.engine.worklist import ChildEvidence, flag_columns, household_members

    row = frame.loc[frame["person_id"] == person_id].iloc[0]
    as_of = sample_as_of()
    flags, rows = [], []
    for i, col in enumerate(flag_columns(frame)):
        rule = col[len(FLAG_PREFIX):]
        label, _w, disclosure, threshold = SAMPLE_RULES[rule]
        on = bool(row[col])
        flags.append({"rule_id": rule, "label": label, "flagged": on, "reason": label if on else "",
                      "threshold": threshold, "disclosure": disclosure,
                      "first_date": pd.Timestamp("2024-05-10"), "last_date": pd.Timestamp("2025-02-03")})
        if on:
            source, text, value = _SAMPLE_ROWS[rule]
            rows.append({"rule_id": rule, "event_id": 1000 * i + 1, "role": "trigger", "source": source,
                         "date": pd.Timestamp("2025-02-03"), "description": text, "value": value,
                         "as_of": as_of.get(source, ""), "disclosure": disclosure})
    members = household_members(frame, person_id)
    household = pd.DataFrame({
        "person_id": members["person_id"], "pseudonym": members["pseudonym"],
        "relation": ["本人" if p == person_id else "きょうだい" for p in members["person_id"]],
        "age_months": members["age_months"], "flags": members["reasons"], "disclosure": "staff"})
    household = pd.concat([household, pd.DataFrame([{
        "person_id": "2" + person_id[1:], "pseudonym": "母", "relation": "母", "age_months": None,
        "flags": "EPDS 14点" if row.get(FLAG_PREFIX + "epds") else "", "disclosure": "staff"}])],
        ignore_index=True)
    followups = pd.DataFrame(columns=["date", "status", "note", "next_action_date", "user"])
    if row["followed"]:
        followups = pd.DataFrame([{"date": row["followup_date"], "status": row["followup_status"],
                                   "note": "電話で健診の受診を勧めた", "next_action_date": pd.NaT, "user": "nurse"}])
    return ChildEvidence(person_id=person_id, pseudonym=row["pseudonym"], district=row["district"],
                         town=row["town"], age_months=int(row["age_months"]), flags=pd.DataFrame(flags),
                         rows=pd.DataFrame(rows), household=household, followups=followups, source_as_of=as_of)
