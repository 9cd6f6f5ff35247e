"""Source rows → the long events frame of docs/DATA_MODEL.md.

Each source has one small builder that turns its (already validated) rows into events with
typed values; everything is column arithmetic, the ``attrs`` JSON is written by pandas' JSON
writer in one call per source. Rows that name no linked person (waiting in review) still give
events: they carry the temporary 9-ID so accepting the review item moves them to the person.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

import numpy as np
import pandas as pd

from app.engine import catalogue

EVENT_COLUMNS = ["person_id", "household_id", "date", "type", "subtype", "value_num", "value_text",
                 "attrs", "source", "source_file", "source_line", "disclosure"]

MOVE_TYPES = {"出生": "birth", "転入": "move_in", "転出": "move_out", "転居": "move_within",
              "死亡": "death", "職権記載": "registry_other"}


@functools.lru_cache(maxsize=1)
def disclosure_config() -> dict:
    """Default disclosure classes from the catalogue: {"sources": {...}, "types": {...}}."""
    by_source, by_type = catalogue.disclosure_defaults()
    return {"sources": by_source, "types": by_type}


def as_datetime(values) -> pd.Series:
    """``pd.to_datetime(values)`` as a Series, without work when it already holds datetimes.

    (``to_datetime`` on a datetime Series still samples it value by value for its parse cache:
    measured 0.2 s CPU over the demo's events.)"""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    return s if s.dtype.kind == "M" else pd.to_datetime(s)


def date_text(values, unit: str = "D") -> np.ndarray:
    """Dates as ISO text ('YYYY-MM-DD', or 'YYYY-MM' for unit "M"); None where missing.

    Each distinct day is formatted once (a delivery repeats days a lot): measured on the
    demo's 44,096 checkup months, ``.dt.strftime("%Y-%m")`` took 0.13 s CPU, this 0.01 s.
    """
    days = as_datetime(values).to_numpy(dtype="datetime64[ns]").astype(f"datetime64[{unit}]")
    unique, inverse = np.unique(days.astype("int64"), return_inverse=True)
    text = np.datetime_as_string(unique.astype(f"datetime64[{unit}]"), unit=unit).astype(object)
    out = text[inverse.reshape(-1)]
    out[np.isnat(days)] = None
    return out


def _json_column(cols: dict[str, pd.Series | np.ndarray], n: int) -> np.ndarray:
    """One JSON object per row from the given columns (dates as ISO text, missing as null)."""
    if not cols or n == 0:
        return np.full(n, "{}", dtype=object)
    frame = {}
    for k, v in cols.items():
        s = pd.Series(v).reset_index(drop=True)
        if pd.api.types.is_datetime64_any_dtype(s):
            s = pd.Series(date_text(s), dtype=object)
        frame[k] = s
    text = pd.DataFrame(frame).to_json(orient="records", lines=True, force_ascii=False)
    return np.asarray(text.splitlines(), dtype=object)


def _col(df: pd.DataFrame, name: str, default="") -> pd.Series:
    return df[name] if name in df.columns else pd.Series(default, index=df.index)


def _events(df: pd.DataFrame, source: str, etype, date, *, subtype="", value_num=np.nan,
            value_text="", attrs: dict | None = None, line=None) -> pd.DataFrame:
    n = len(df)
    out = pd.DataFrame({
        "person_id": df["person_id"].to_numpy(), "household_id": df["household_id"].to_numpy(),
        "date": as_datetime(pd.Series(date).reset_index(drop=True)).to_numpy() if n else [],
        "type": np.broadcast_to(np.asarray(etype, dtype=object), (n,)),
        "subtype": np.broadcast_to(np.asarray(subtype, dtype=object), (n,)),
        "value_num": np.broadcast_to(np.asarray(value_num, dtype=float), (n,)),
        "value_text": np.broadcast_to(np.asarray(value_text, dtype=object), (n,)),
        "attrs": _json_column(attrs or {}, n), "source": source,
        "source_file": df["_file"].to_numpy(),
        "source_line": (df["_line"] if line is None else line).to_numpy(dtype=np.int64),
    })
    return out


def _extra_columns(df: pd.DataFrame, known: set[str]) -> dict[str, pd.Series]:
    """Columns the canonical layout does not know: kept as raw attributes, never dropped."""
    base = {"宛名番号", "世帯番号", "氏名", "氏名カナ", "生年月日", "性別", "_line", "_file",
            "person_id", "household_id", "_rec"}
    return {c: df[c] for c in df.columns if c not in base and c not in known}


def _fmt_ym(d: pd.Series) -> pd.Series:
    return pd.Series(date_text(d, "M"), index=d.index, dtype=object)


BuilderFn = Callable[[pd.DataFrame, pd.Series], list[pd.DataFrame]]
# Source key -> builder of its events; filled by @builder below (one small function per source).
BUILDERS: dict[str, BuilderFn] = {}


def builder(source: str) -> Callable[[BuilderFn], BuilderFn]:
    """Register ``fn(df, person_by_number) -> [events frames]`` as the builder of ``source``."""
    def register(fn: BuilderFn) -> BuilderFn:
        if source in BUILDERS:
            raise ValueError(f"source {source} has two builders")
        BUILDERS[source] = fn
        return fn
    return register


def source_events(source: str, df: pd.DataFrame, person_by_number: pd.Series) -> list[pd.DataFrame]:
    """Events of one CSV source. ``df`` already has person_id and household_id columns."""
    if len(df) == 0:
        return []
    return BUILDERS[source](df, person_by_number)


@builder("jumin")
def _jumin(df, person_by_number):
    reason = _col(df, "異動事由")
    typed = df[reason.isin(MOVE_TYPES.keys())]
    known = {"異動事由", "異動日", "町名", "地区", "続柄", "国籍"}
    moved = _col(typed, "異動日", pd.NaT)
    return [_events(typed, "jumin", reason[typed.index].map(MOVE_TYPES).to_numpy(),
                    moved.where(moved.notna(), _col(typed, "生年月日", pd.NaT)),
                    value_text=_col(typed, "町名").to_numpy(),
                    attrs={"town": _col(typed, "町名"), "district": _col(typed, "地区"),
                           "relation": _col(typed, "続柄"), **_extra_columns(typed, known)})]


@builder("shussei")
def _shussei(df, person_by_number):
    mother = _col(df, "母宛名番号").map(person_by_number).fillna("")
    known = {"出生体重", "在胎週数", "多胎", "母宛名番号"}
    return [_events(df, "shussei", "birth_record", _col(df, "生年月日", pd.NaT),
                    value_num=_col(df, "出生体重", np.nan).to_numpy(dtype=float),
                    attrs={"gestation_weeks": _col(df, "在胎週数", np.nan),
                           "multiple": _col(df, "多胎", np.nan), "mother_id": mother,
                           **_extra_columns(df, known)})]


@builder("ninpu")
def _ninpu(df, person_by_number):
    known = {"届出日", "届出時妊娠週数", "妊婦健診受診回数", "出産予定日"}
    return [_events(df, "ninpu", "pregnancy", df["届出日"],
                    attrs={"notified_week": _col(df, "届出時妊娠週数", np.nan),
                           "prenatal_checkups": _col(df, "妊婦健診受診回数", np.nan),
                           "due_date": _col(df, "出産予定日", pd.NaT), **_extra_columns(df, known)})]


def _checkup_frame(df: pd.DataFrame) -> tuple[pd.Series, pd.Series, dict]:
    """(attended, date, attrs) shared by health and dental checkups."""
    attended = df["受診日"].notna()
    # A missed checkup is dated on the last day of its 対象年月.
    date = df["受診日"].where(attended, df["対象年月"] + pd.offsets.MonthEnd(0))
    known = {"健診種別", "対象年月", "受診日", "身長", "体重", "判定", "所見", "むし歯本数"}
    attrs = {"target_ym": _fmt_ym(df["対象年月"]), "judgement": _col(df, "判定"), **_extra_columns(df, known)}
    return attended, date, attrs


@builder("kenshin")
def _kenshin(df, person_by_number):
    attended, date, attrs = _checkup_frame(df)
    attrs["findings"] = _col(df, "所見")
    out = [_events(df, "kenshin", "checkup", date, subtype=df["健診種別"].to_numpy(),
                   value_text=np.where(attended, "attended", "missed"), attrs=attrs)]
    for col, etype in (("身長", "height"), ("体重", "weight")):
        m = _col(df, col, np.nan).notna() & attended
        if m.any():
            sub = df[m]
            out.append(_events(sub, "kenshin", etype, sub["受診日"], subtype=sub["健診種別"].to_numpy(),
                               value_num=sub[col].to_numpy(dtype=float)))
    return out


@builder("shika")
def _shika(df, person_by_number):
    attended, date, attrs = _checkup_frame(df)
    return [_events(df, "shika", "dental", date, subtype=df["健診種別"].to_numpy(),
                    value_text=np.where(attended, "attended", "missed"),
                    value_num=_col(df, "むし歯本数", np.nan).to_numpy(dtype=float), attrs=attrs)]


@builder("yobo")
def _yobo(df, person_by_number):
    from app.engine.reference.vaccination import vaccine_code

    # names through the vocabulary (NFKC first); import has quarantined unknown names already.
    # Looked up once per distinct printed name (a city has a few dozen).
    names, uniq = pd.factorize(df["ワクチン"], use_na_sentinel=False)
    codes, _why = vaccine_code(pd.Series(uniq, dtype=object))
    vaccine = pd.Series(codes.where(codes.notna(), pd.Series(uniq, dtype=object)).to_numpy()[names],
                        index=df.index)
    return [_events(df, "yobo", "vaccination", df["接種日"], subtype=vaccine.to_numpy(),
                    value_num=_col(df, "回数", np.nan).to_numpy(dtype=float),
                    attrs=_extra_columns(df, {"ワクチン", "回数", "接種日"}))]


@builder("epds")
def _epds(df, person_by_number):
    items = [f"問{i}" for i in range(1, 11)]
    present = [c for c in items if c in df.columns]
    total = _col(df, "合計", np.nan)
    if present:
        total = total.where(total.notna(), df[present].sum(axis=1, min_count=len(present)))
    item_lists = (df[present].astype("Int64").to_numpy().tolist() if present else [[]] * len(df))
    child = _col(df, "児宛名番号").map(person_by_number).fillna("")
    return [_events(df, "epds", "epds", df["実施日"], value_num=total.to_numpy(dtype=float),
                    attrs={"items": pd.Series(item_lists, index=df.index, dtype=object)
                           .map(lambda v: [None if pd.isna(x) else int(x) for x in v]),
                           "child_id": child,
                           # 問10 (self-harm) by its column name: true/false, null if not asked
                           "self_harm": (_col(df, "問10", np.nan) >= 1).where(_col(df, "問10", np.nan).notna()),
                           **_extra_columns(df, {*items, "合計", "児宛名番号", "実施日"})})]


@builder("hogosha_kenshin")
def _hogosha_kenshin(df, person_by_number):
    return [_events(df, "hogosha_kenshin", "guardian_checkup", df["受診日"],
                    value_text=_col(df, "喫煙").to_numpy(),
                    attrs={"drinking": _col(df, "飲酒"), "judgement": _col(df, "判定"),
                           **_extra_columns(df, {"受診日", "喫煙", "飲酒", "判定"})})]


def _spell_events(df: pd.DataFrame, source: str, etype: str, start_col: str, end_col: str,
                  labels=("start", "end"), subtype_col: str | None = None,
                  attrs: dict | None = None) -> list[pd.DataFrame]:
    """A start event per row and an end event per row that has ended (allowances, nursery)."""
    attrs = attrs or {}
    subtype = _col(df, subtype_col).to_numpy() if subtype_col else ""
    known = {start_col, end_col, "施設名", "施設種別", "事業所名", "サービス種別"}
    out = [_events(df, source, etype, df[start_col], subtype=subtype, value_text=labels[0],
                   attrs={**attrs, **_extra_columns(df, known)})]
    ended = _col(df, end_col, pd.NaT).notna()
    if ended.any():
        sub = df[ended]
        out.append(_events(sub, source, etype, sub[end_col],
                           subtype=subtype[ended.to_numpy()] if subtype_col else "", value_text=labels[1],
                           attrs={k: v[ended] for k, v in attrs.items()}))
    return out


@builder("jido_fuyo")
def _jido_fuyo(df, person_by_number):
    return _spell_events(df, "jido_fuyo", "single_parent_allowance", "認定日", "喪失日")


@builder("seiho")
def _seiho(df, person_by_number):
    return _spell_events(df, "seiho", "public_assistance", "開始日", "廃止日")


@builder("yoho")
def _yoho(df, person_by_number):
    return _spell_events(df, "yoho", "nursery", "入所日", "退所日", labels=("enrolled", "left"),
                         subtype_col="施設種別", attrs={"facility": _col(df, "施設名")})


@builder("shogaiji_tsusho")
def _shogaiji_tsusho(df, person_by_number):
    return _spell_events(df, "shogaiji_tsusho", "developmental_support", "支給決定日", "支給終了日",
                         subtype_col="サービス種別", attrs={"facility": _col(df, "事業所名")})


@builder("shogai")
def _shogai(df, person_by_number):
    return [_events(df, "shogai", "disability", df["交付日"], subtype=df["手帳種別"].to_numpy(),
                    value_text=_col(df, "等級").to_numpy(),
                    attrs=_extra_columns(df, {"手帳種別", "等級", "交付日"}))]


@builder("dv")
def _dv(df, person_by_number):
    return [_events(df, "dv", "dv", df["登録日"], subtype=_col(df, "区分").to_numpy(),
                    attrs=_extra_columns(df, {"登録日", "区分"}))]


@builder("soudan")
def _soudan(df, person_by_number):
    return [_events(df, "soudan", "consultation", df["受付日時"], subtype=_col(df, "経路").to_numpy(),
                    value_text=_col(df, "相談種別").to_numpy(),
                    attrs={"content": _col(df, "内容"), "staff": _col(df, "担当"),
                           **_extra_columns(df, {"受付日時", "経路", "相談種別", "内容", "担当"})})]


@builder("assessment")
def _assessment(df, person_by_number):
    return [_events(df, "assessment", "assessment", df["評価日"], subtype=_col(df, "主因分類").to_numpy(),
                    value_text=_col(df, "フォロー状況").to_numpy(),
                    attrs={"district": _col(df, "担当地区"),
                           **_extra_columns(df, {"評価日", "主因分類", "フォロー状況", "担当地区"})})]


@builder("jisou")
def _jisou(df, person_by_number):
    return [_events(df, "jisou", "custody", df["開始日"], subtype=df["種別"].to_numpy(),
                    attrs={"end_date": _col(df, "終了日", pd.NaT), "complaint": _col(df, "主訴"),
                           **_extra_columns(df, {"種別", "開始日", "終了日", "主訴"})})]


def receipt_events(receipts: pd.DataFrame, diagnoses: pd.DataFrame,
                   procedures: pd.DataFrame) -> list[pd.DataFrame]:
    """Events of .UKE receipts: receipt, diagnosis, night_visit, income_bracket.

    ``receipts`` has person_id/household_id; diagnoses and procedures join it on the RE line.
    """
    from app.engine.ingest.uke import receipt_codes

    if len(receipts) == 0:
        return []
    codes = receipt_codes()
    out = [_events(receipts, "receipt", "receipt", receipts["month"],
                   attrs={"receipt_type": receipts["receipt_type"],
                          "special_codes": receipts["special_codes"],
                          "insurer": receipts["insurer"]})]
    dg = diagnoses.merge(receipts[["_file", "_line", "person_id", "household_id", "month"]],
                         left_on=["_file", "receipt_line"], right_on=["_file", "_line"],
                         suffixes=("", "_re"))
    if len(dg):
        out.append(_events(dg, "receipt", "diagnosis", dg["start_date"].where(dg["start_date"].notna(),
                                                                            dg["month"]),
                           subtype=dg["code"].to_numpy(), value_text=dg["name"].to_numpy(),
                           attrs={"start_date": dg["start_date"], "outcome": dg["outcome"],
                                  "receipt_line": dg["receipt_line"], "main": dg["main"]},
                           line=dg["line"]))
    night = procedures[procedures["code"].isin(codes["night_addons"].keys())]
    nv = night.merge(receipts[["_file", "_line", "person_id", "household_id", "month"]],
                     left_on=["_file", "receipt_line"], right_on=["_file", "_line"], suffixes=("", "_re"))
    if len(nv):
        day = nv["month"] + pd.to_timedelta(np.maximum(nv["first_day"].to_numpy() - 1, 0), unit="D")
        # Diagnoses of the receipts with a night visit only (a small subset).
        wanted = set(zip(nv["_file"], nv["receipt_line"]))
        diag_lists: dict = {}
        if len(dg):
            sel = dg[pd.MultiIndex.from_arrays([dg["_file"], dg["receipt_line"]]).isin(wanted)]
            for f, rl, code, name in zip(sel["_file"], sel["receipt_line"], sel["code"], sel["name"]):
                diag_lists.setdefault((f, rl), []).append({"code": code, "name": name})
        diag = [diag_lists.get(k, []) for k in zip(nv["_file"], nv["receipt_line"])]
        out.append(_events(nv, "receipt", "night_visit", day, subtype=nv["code"].to_numpy(),
                           value_text=nv["code"].map(codes["night_addons"]).to_numpy(),
                           attrs={"diagnoses": pd.Series(diag, dtype=object),
                                  "family": nv["code"].map(codes.get("night_addon_family", {})).fillna(""),
                                  "days": nv["n_days"], "receipt_line": nv["receipt_line"]},
                           line=nv["line"]))
    # Up to five 2-digit codes in the first 10 characters: as fixed-width text, each code is a
    # 2-character view of it (no Python call per receipt).
    sc = receipts["special_codes"].fillna("").to_numpy(dtype=object).astype("U10")
    chunks = pd.DataFrame(sc.view("U2").reshape(len(sc), 5).astype(object), index=receipts.index)
    brackets = codes["income_brackets"]
    # The first of up to five 2-digit codes that is an income bracket.
    valid = chunks.isin(brackets.keys()).to_numpy()
    first = valid.argmax(axis=1)
    picked = chunks.to_numpy()[np.arange(len(chunks)), first]
    bracket = pd.Series(np.where(valid.any(axis=1), picked, None), index=receipts.index)
    has = bracket.notna()
    if has.any():
        sub = receipts[has]
        out.append(_events(sub, "receipt", "income_bracket", sub["month"],
                           value_num=bracket[has].astype(float).to_numpy(),
                           value_text=bracket[has].map(brackets).to_numpy()))
    return out


def assign_disclosure(events: pd.DataFrame) -> pd.Series:
    """Default disclosure class per event from the configuration (type overrides source).

    Decided once per distinct (type, source) pair (a few dozen), then spread by their codes.
    """
    cfg = disclosure_config()
    by_type, by_source = cfg.get("types", {}), cfg.get("sources", {})
    t_codes, types = pd.factorize(events["type"], use_na_sentinel=False)
    s_codes, sources = pd.factorize(events["source"], use_na_sentinel=False)
    table = np.array([[_first(by_type.get(t), by_source.get(s), "staff") for s in sources] for t in types],
                     dtype=object).reshape(len(types), len(sources))
    out = table[t_codes, s_codes] if len(events) else np.array([], dtype=object)
    # an EPDS answer of 問10 ≥ 1 (self-harm) is staff-only, never raised with the family as such
    epds = np.flatnonzero(t_codes == list(types).index("epds")) if "epds" in list(types) else []
    if len(epds):
        harm = events["attrs"].iloc[epds].astype(str).str.contains('"self_harm":true', regex=False).to_numpy()
        hit = epds[harm]
        out[hit[out[hit] != "never"]] = "staff"
    return pd.Series(out, index=events.index, dtype=object)


def _first(*values):
    return next(v for v in values if v is not None)


def finish_events(parts: list[pd.DataFrame], by_row: bool = False) -> pd.DataFrame:
    """Concatenate builder outputs, add disclosure, order by person and date (``by_row``: by
    source file and line only, as the import writes a chunk)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    ev = pd.concat(parts, ignore_index=True)
    ev["disclosure"] = assign_disclosure(ev)
    ev["date"] = as_datetime(ev["date"]).astype("datetime64[ns]")
    return sort_rows(ev) if by_row else sort_events(ev)


def sort_rows(ev: pd.DataFrame) -> pd.DataFrame:
    """Order by (file, line); events of one row keep the builders' order (stable).

    One integer key (file rank, line) in a stable sort (the builders' parts each come in row
    order: runs the sort merges); a chunk of one file needs no ranking of its file names, one
    already in order no sort, and each column is copied once. The demo's 497,707 events: 0.225 s
    → 0.140 s (a lexsort of two keys, then the columns selected, taken and re-indexed)."""
    line = ev["source_line"].to_numpy(dtype=np.int64)
    files = ev["source_file"].to_numpy()
    if len(files) and not (files == files[0]).all():
        line = rank(ev["source_file"]).astype(np.int64) * (int(line.max()) + 1) + line
    order = None if len(line) < 2 or (line[1:] >= line[:-1]).all() else np.argsort(line, kind="stable")
    # each column copied once (selecting the columns, taking and re-indexing copied it three times)
    return pd.DataFrame({c: (v if order is None else v[order]) for c in EVENT_COLUMNS
                         for v in (ev[c].to_numpy(),)}, columns=EVENT_COLUMNS)


def rank(values: pd.Series) -> np.ndarray:
    """Sort rank of each value, missing last (as pandas sorts)."""
    codes, uniques = pd.factorize(values, sort=True)
    return np.where(codes < 0, len(uniques), codes)


def sort_events(ev: pd.DataFrame) -> pd.DataFrame:
    """Order by (person, date, file, line); ties keep the builders' order (stable).

    The same order as ``sort_values(..., kind="stable")``, on integer keys (measured on the
    demo's 497,707 events: 0.25 s → 0.19 s CPU, no string comparisons in the sort itself).
    """
    date = ev["date"].to_numpy(dtype="datetime64[ns]")
    date_key = np.where(np.isnat(date), np.iinfo(np.int64).max, date.view(np.int64))
    order = np.lexsort((ev["source_line"].to_numpy(dtype=np.int64), rank(ev["source_file"]), date_key,
                        rank(ev["person_id"])))
    return ev[EVENT_COLUMNS].take(order).reset_index(drop=True)


def dumps_list(values: list) -> str:
    return json.dumps(values, ensure_ascii=False)
