"""The family's subject-access report (開示請求): every record the store holds about a person.

Pure pandas in, pandas out (the store fetches, ``app/store/queries/subject_access.py``). One
row per record — identity and resident-register attributes, every event, every follow-up
note, every flag and score of the scoring runs — with where it came from (source, file and
line, the file's as-of date), its disclosure class, whether it is a 不開示 candidate and why,
and two blank columns the disclosure officer fills in (開示/不開示, 理由). The report never
decides: ✕ records, child-guidance (児童相談所) and DV records are *listed* as candidates,
because the officer must see what exists to decide.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.engine import catalogue
from app.engine.disclosure import strictest
from app.engine.timeline_layout import DISCLOSURE_LABELS

COLUMNS = ["研究用ID", "続柄", "区分", "データ種別", "項目", "日付", "値", "抽出日", "出所",
           "開示区分", "不開示候補の理由", "開示判断（開示/不開示）", "判断理由"]
DISCLOSURE_MARKS = {"discuss": "○", "staff": "△", "never": "✕"}
KIND_ORDER = ["本人情報", "記録", "フォローアップ", "判定結果"]
# Reasons a record is a 不開示 candidate (the officer decides; these only point at it).
REASON_CUSTODY = "児童相談所の記録（児童の保護・調査に支障のおそれ）"
REASON_DV = "DV情報（加害者への開示で生命・身体に危険のおそれ）"
REASON_NEVER = "開示区分✕（本人に知られると支援関係を損なうおそれ）"
REASON_ASSESSMENT = "評価・判定情報（事務の適正な遂行に支障のおそれの有無を判断）"
# Identity fields, in the order the family would read them.
IDENTITY_FIELDS = {"name_kanji": "氏名", "name_kana": "氏名（カナ）", "birth_date": "生年月日",
                   "sex": "性別", "resident_numbers": "宛名番号", "household_number": "世帯番号",
                   "town": "町名", "address_note": "住所補記"}
PERSON_FIELDS = {"kind": "区分（子ども/保護者）", "birth_ym": "生年月", "district": "地区", "town": "町名",
                 "nationality": "国籍", "resident_from": "住民となった日", "resident_to": "住民でなくなった日"}


PERSON_KINDS = {"child": "子ども", "adult": "保護者等"}


def _text(value) -> str:
    """A cell as the family would read it: dates as YYYY-MM-DD, missing as blank."""
    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return ""
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    return str(value)


def _numbers_text(value) -> str:
    import json

    try:
        numbers = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return str(value)
    return "、".join(str(n) for n in numbers) if isinstance(numbers, list) else _text(numbers)


def _class_label(cls: pd.Series) -> pd.Series:
    return cls.map(lambda c: f"{DISCLOSURE_MARKS.get(c, '△')} {DISCLOSURE_LABELS.get(c, DISCLOSURE_LABELS['staff'])}")


def _date_text(values) -> pd.Series:
    s = pd.to_datetime(pd.Series(values), errors="coerce")
    return s.dt.strftime("%Y-%m-%d").fillna("")


def _number_text(values: pd.Series) -> pd.Series:
    num = pd.to_numeric(values, errors="coerce")
    text = num.map(lambda v: "" if pd.isna(v) else (f"{int(v)}" if float(v).is_integer() else f"{v:g}"))
    return text


def _identity_rows(identities: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    jumin = catalogue.sources().get("jumin")
    cls = jumin.disclosure if jumin else "staff"
    label = catalogue.source_label("jumin")
    parts = []
    for frame, fields, origin in ((identities, IDENTITY_FIELDS, "住民基本台帳（本人確認情報）"),
                                  (persons, PERSON_FIELDS, "住民基本台帳（分析用属性）")):
        if frame is None or frame.empty:
            continue
        present = [f for f in fields if f in frame.columns]
        if "resident_numbers" in present:
            # Stored as a JSON list (a number changes on some moves): every number held is shown.
            frame = frame.assign(resident_numbers=frame["resident_numbers"].map(_numbers_text))
        long = frame[["person_id", *present]].astype({f: object for f in present}).melt(
            id_vars="person_id", var_name="field", value_name="value")
        long["value"] = long["value"].map(_text)
        long.loc[long["field"] == "kind", "value"] = long.loc[long["field"] == "kind", "value"].map(
            lambda k: PERSON_KINDS.get(k, k))
        long = long[long["value"].astype(str).str.strip() != ""]
        parts.append(pd.DataFrame({
            "person_id": long["person_id"], "区分": "本人情報", "データ種別": label,
            "項目": long["field"].map(fields), "日付": "", "値": long["value"], "抽出日": "",
            "出所": origin, "class": cls, "reason": ""}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _event_rows(events: pd.DataFrame, as_of: pd.DataFrame) -> pd.DataFrame:
    if events is None or events.empty:
        return pd.DataFrame()
    ev = events.copy()
    if as_of is not None and not as_of.empty:
        files = as_of.rename(columns={"file_name": "source_file", "as_of": "_as_of"})[["source", "source_file", "_as_of"]]
        ev = ev.merge(files.drop_duplicates(["source", "source_file"]), on=["source", "source_file"], how="left")
        newest = as_of.groupby("source")["as_of"].max()
        ev["_as_of"] = ev["_as_of"].fillna(ev["source"].map(newest))
    else:
        ev["_as_of"] = pd.NaT
    sources = catalogue.sources()
    types = catalogue.event_types()
    restriction = ev["source"].map(lambda s: sources[s].restriction if s in sources else "")
    type_restriction = ev["type"].map(lambda t: types[t].restriction if t in types else "")
    label = ev["type"].map(catalogue.type_label)
    item = np.where(ev["subtype"].fillna("").astype(str) != "", label + "（" + ev["subtype"].fillna("").astype(str) + "）", label)
    value = ev["value_text"].fillna("").astype(str).map(catalogue.status_word)
    num = _number_text(ev["value_num"])
    value = np.where((value != "") & (num != ""), value + " " + num, np.where(value != "", value, num))
    line = ev["source_line"].map(lambda v: "" if pd.isna(v) else f":{int(v)}行")
    where = ev["source_file"].fillna("").astype(str) + line
    cls = ev["disclosure"].fillna("staff").astype(str)
    custody = (restriction == "custody") | (type_restriction == "custody") | ev["type"].isin(["custody"])
    dv = (ev["source"] == "dv") | ev["type"].isin(["dv"])
    never = (cls == "never") | (restriction == "never_reveal")
    reason = np.select([custody, dv, never], [REASON_CUSTODY, REASON_DV, REASON_NEVER], "")
    return pd.DataFrame({
        "person_id": ev["person_id"], "区分": "記録", "データ種別": ev["source"].map(catalogue.source_label),
        "項目": item, "日付": _date_text(ev["date"]).to_numpy(), "値": value,
        "抽出日": _date_text(ev["_as_of"]).to_numpy(), "出所": where,
        "class": np.where(custody | dv | never, "never", cls), "reason": reason})


def _followup_rows(followups: pd.DataFrame) -> pd.DataFrame:
    if followups is None or followups.empty:
        return pd.DataFrame()
    src = catalogue.sources().get("followup")
    note = followups["note"].fillna("").astype(str)
    value = followups["status"].astype(str) + np.where(note != "", "：" + note, "")
    return pd.DataFrame({
        "person_id": followups["person_id"], "区分": "フォローアップ",
        "データ種別": catalogue.source_label("followup"), "項目": "対応記録",
        "日付": _date_text(followups["action_date"]).to_numpy(), "値": value, "抽出日": "",
        "出所": "見守り（" + followups["user"].astype(str) + " が " + followups["recorded_at"].astype(str).str[:10] + " に記録）",
        "class": src.disclosure if src else "staff", "reason": ""})


def _assessment_rows(flags: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    parts = []
    if flags is not None and not flags.empty:
        f = flags[flags["flagged"].astype(bool)]
        custody = f["restricted"].fillna("") == "custody"
        cls = [strictest(c, "never" if r else None) for c, r in zip(f["disclosure"], custody)]
        parts.append(pd.DataFrame({
            "person_id": f["person_id"], "区分": "判定結果", "データ種別": "見守り（抽出ルール）",
            "項目": f["label"].where(f["label"] != "", f["rule_id"]), "日付": _date_text(f["last_date"]).to_numpy(),
            "値": f["reason"].fillna(""), "抽出日": _date_text(f["as_of"]).to_numpy(),
            "出所": "判定実行 #" + f["run_id"].astype(str), "class": cls,
            "reason": np.where(custody, REASON_CUSTODY, REASON_ASSESSMENT)}))
    if scores is not None and not scores.empty:
        parts.append(pd.DataFrame({
            "person_id": scores["person_id"], "区分": "判定結果", "データ種別": "見守り（スコア）",
            "項目": "スコア（" + scores["target"].astype(str) + "）", "日付": "",
            "値": scores["score"].map(lambda v: f"{v:.3f}") + "（順位 " + scores["rank"].astype(str) + "）",
            "抽出日": _date_text(scores["as_of"]).to_numpy(), "出所": "判定実行 #" + scores["run_id"].astype(str),
            "class": "staff", "reason": REASON_ASSESSMENT}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def build_report(members: pd.DataFrame, *, identities: pd.DataFrame | None = None,
                 persons: pd.DataFrame | None = None, events: pd.DataFrame | None = None,
                 source_as_of: pd.DataFrame | None = None, followups: pd.DataFrame | None = None,
                 flags: pd.DataFrame | None = None, scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """The report frame (``COLUMNS``), the requester first, then household members.

    ``members``: person_id, relation (Japanese, 本人 for the requester) in report order.
    ``source_as_of``: source, file_name, as_of (the sources table). ``flags`` and ``scores``
    carry their run's ``as_of``. Records of persons not in ``members`` are ignored.
    """
    parts = [_identity_rows(identities, persons), _event_rows(events, source_as_of),
             _followup_rows(followups), _assessment_rows(flags, scores)]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    rows = pd.concat(parts, ignore_index=True)
    order = {pid: i for i, pid in enumerate(members["person_id"])}
    rows = rows[rows["person_id"].isin(order)]
    rows = rows.assign(_member=rows["person_id"].map(order), _kind=rows["区分"].map(KIND_ORDER.index),
                       _n=np.arange(len(rows)))
    rows = rows.sort_values(["_member", "_kind", "日付", "_n"], kind="stable")
    relation = dict(zip(members["person_id"], members["relation"]))
    out = pd.DataFrame({
        "研究用ID": rows["person_id"].to_numpy(), "続柄": rows["person_id"].map(relation).to_numpy(),
        "区分": rows["区分"].to_numpy(), "データ種別": rows["データ種別"].to_numpy(), "項目": rows["項目"].to_numpy(),
        "日付": rows["日付"].to_numpy(), "値": rows["値"].to_numpy(), "抽出日": rows["抽出日"].to_numpy(),
        "出所": rows["出所"].to_numpy(), "開示区分": _class_label(rows["class"]).to_numpy(),
        "不開示候補の理由": rows["reason"].to_numpy(), "開示判断（開示/不開示）": "", "判断理由": ""})
    return out.reset_index(drop=True)


def summary(report: pd.DataFrame) -> dict:
    """Counts for the cover line: records, per class, 不開示 candidates."""
    marks = report["開示区分"].str[:1] if len(report) else pd.Series(dtype=str)
    return {"records": int(len(report)), "candidates": int((report["不開示候補の理由"] != "").sum()),
            "by_class": {m: int((marks == m).sum()) for m in DISCLOSURE_MARKS.values()}}
