"""The engine side of an import: a read delivery → linked persons, relations, identities, events.

``process_delivery`` is pure (no store): it takes what the store knows from earlier deliveries
(hashed link keys → research IDs, IDs in use, review decisions) and returns every frame the
store persists. The store wraps it in one transaction (app/store/importing.py).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.engine import events as ev
from app.engine.ingest.delivery import Delivery
from app.engine.linkage import LinkResult, assign_research_ids, link
from app.engine.progress import Progress, ensure
from app.engine.pseudonyms import Keyer

PERSON_COLS = {"宛名番号": "resident_number", "世帯番号": "household_number", "氏名": "name_kanji",
               "氏名カナ": "name_kana", "生年月日": "birth_date", "性別": "sex"}
MOTHER_RELATIONS = {"妻", "世帯主", "母"}
FATHER_RELATIONS = {"夫", "世帯主", "父"}


@dataclass
class Processed:
    idmap: pd.DataFrame        # file, line, research_id ('' while in review), status
    persons: pd.DataFrame      # DATA_MODEL persons
    identities: pd.DataFrame   # DATA_MODEL identities
    relations: pd.DataFrame    # person_id, related_id, relation, since, until
    events: pd.DataFrame       # DATA_MODEL events (without event_id / delivery_id)
    review: pd.DataFrame       # record_id, file, line, source, candidate_id, score, evidence, pair_key
    duplicates: pd.DataFrame   # person_a, person_b, kind, detail
    link_keys: pd.DataFrame    # key_hash, person_id
    link: LinkResult
    as_of: dt.date


def delivery_records(delivery: Delivery) -> pd.DataFrame:
    """Every person-bearing row of the delivery in the linkage layout."""
    parts = []
    for source, df in delivery.tables.items():
        if len(df) == 0:
            continue
        rec = pd.DataFrame({"source": source, "file": df["_file"].to_numpy(),
                            "line": df["_line"].to_numpy(dtype=np.int64)})
        for col, name in PERSON_COLS.items():
            rec[name] = (df[col].to_numpy() if col in df.columns
                         else (pd.NaT if name == "birth_date" else ""))
        if source == "jumin":
            rec["move_reason"] = df["異動事由"].to_numpy() if "異動事由" in df.columns else ""
            rec["move_date"] = df["異動日"].to_numpy() if "異動日" in df.columns else pd.NaT
        parts.append(rec)
    for uke in delivery.receipts:
        r = uke.receipts
        parts.append(pd.DataFrame({
            "source": "receipt", "file": r["_file"].to_numpy(), "line": r["_line"].to_numpy(dtype=np.int64),
            "resident_number": "", "household_number": "", "name_kanji": r["name"].to_numpy(),
            "name_kana": r["kana"].to_numpy(), "birth_date": r["birth_date"].to_numpy(),
            "sex": r["sex"].to_numpy()}))
    if not parts:
        return pd.DataFrame(columns=["source", "file", "line", *PERSON_COLS.values()])
    recs = pd.concat(parts, ignore_index=True)
    recs["birth_date"] = pd.to_datetime(recs["birth_date"])
    return recs


def _as_of(delivery: Delivery, records: pd.DataFrame) -> dt.date:
    jumin = [f.as_of for f in delivery.files if f.source == "jumin" and f.as_of]
    if jumin:
        return max(jumin)
    if delivery.as_of:
        return delivery.as_of
    return dt.date.today()


def _persons(recs: pd.DataFrame, delivery: Delivery, rid: pd.Series, keyer: Keyer,
             as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """persons and identities frames (one row per registry or other person, not review)."""
    recs = recs[recs["status"] != "review"].copy()
    recs["person_id"] = recs["entity"].map(rid)
    jumin = delivery.tables.get("jumin")
    reg = recs[recs["source"] == "jumin"]
    extra = pd.DataFrame(index=reg.index)
    if jumin is not None and len(reg):
        j = jumin.set_index(["_file", "_line"])
        key = pd.MultiIndex.from_arrays([reg["file"], reg["line"]])
        for col in ("町名", "地区", "国籍", "続柄"):
            extra[col] = j[col].reindex(key).to_numpy() if col in j.columns else ""
    reg = reg.join(extra)
    reg = reg.assign(_order=pd.to_datetime(reg["move_date"]).fillna(pd.Timestamp.min))
    reg = reg.sort_values(["person_id", "_order", "line"])
    latest = reg.groupby("person_id").tail(1).set_index("person_id")
    moved = reg["move_reason"].fillna("")
    mdate = pd.to_datetime(reg["move_date"])
    start = mdate.where(moved.isin(["出生", "転入"])).groupby(reg["person_id"]).min()
    # Still resident unless the latest registry row is a move-out or death.
    end = pd.to_datetime(latest["move_date"]).where(latest["move_reason"].isin(["転出", "死亡"]))
    moved_in = moved.eq("転入").groupby(reg["person_id"]).any()
    numbers = _number_lists(recs)
    others = recs[~recs["person_id"].isin(latest.index)]
    others = others.sort_values(["person_id", "line"]).groupby("person_id").head(1).set_index("person_id")
    both = pd.concat([latest.assign(_reg=True), others.assign(_reg=False)])
    birth = pd.to_datetime(both["birth_date"])
    # Preschool children are "aged 0–6" (the report's 13,913): a 6-year-old up to the day
    # before the 7th birthday is still a child.
    cutoff = pd.Timestamp(as_of) - pd.DateOffset(years=7) + pd.Timedelta(days=1)
    persons = pd.DataFrame({
        "person_id": both.index,
        "kind": np.where(birth >= cutoff, "child", "adult"),
        "sex": both["s"].to_numpy(),
        "birth_ym": birth.dt.strftime("%Y-%m").fillna("").to_numpy(),
        "household_id": keyer.household_ids(both["household_number"]).to_numpy(),
        "district": both.get("地区", pd.Series("", index=both.index)).fillna("").to_numpy(),
        "town": both.get("町名", pd.Series("", index=both.index)).fillna("").to_numpy(),
        "nationality": both.get("国籍", pd.Series("", index=both.index)).fillna("").to_numpy(),
        "resident_from": start.reindex(both.index).to_numpy(),
        "resident_to": end.reindex(both.index).to_numpy(),
        "moved_in": moved_in.reindex(both.index).astype("boolean").fillna(False).to_numpy(dtype=bool),
        "mother_id": "",
    })
    identities = pd.DataFrame({
        "person_id": both.index, "name_kanji": both["name_kanji"].fillna("").to_numpy(),
        "name_kana": both["kana_norm"].to_numpy(), "birth_date": birth.dt.strftime("%Y-%m-%d").fillna("").to_numpy(),
        "sex": both["s"].to_numpy(), "resident_numbers": numbers.reindex(both.index).fillna("[]").to_numpy(),
        "household_number": both["household_number"].to_numpy(),
        "town": persons["town"].to_numpy(), "address_note": "",
    })
    persons["_relation"] = both.get("続柄", pd.Series("", index=both.index)).fillna("").to_numpy()
    persons["_hh"] = both["household_number"].to_numpy()
    return persons.reset_index(drop=True), identities.reset_index(drop=True)


def _number_lists(recs: pd.DataFrame) -> pd.Series:
    """person_id → JSON list of every 宛名番号 seen (most persons have one: built without a loop)."""
    rn = recs.loc[recs["resident_number"] != "", ["person_id", "resident_number"]].drop_duplicates()
    rn = rn.sort_values(["person_id", "resident_number"])
    multi = rn["person_id"].duplicated(keep=False)
    single = rn[~multi].set_index("person_id")["resident_number"]
    out = '["' + single + '"]'
    if multi.any():
        many = rn[multi].groupby("person_id")["resident_number"].agg(lambda s: json.dumps(list(s)))
        out = pd.concat([out, many])
    return out


def _relations(persons: pd.DataFrame, shussei_mothers: pd.Series) -> pd.DataFrame:
    """mother/father/child/sibling relations from households and birth notifications."""
    hh = persons[persons["_hh"] != ""]
    kids = hh[hh["_relation"] == "子"]
    parts = []
    for rel, roles, sex in (("mother", MOTHER_RELATIONS, "F"), ("father", FATHER_RELATIONS, "M")):
        par = hh[hh["_relation"].isin(roles) & (hh["sex"] == sex)]
        par = par.sort_values("_relation").drop_duplicates("_hh")  # 世帯主 before 妻 …
        m = kids.merge(par[["_hh", "person_id"]], on="_hh", suffixes=("", "_p"))
        parts.append(pd.DataFrame({"person_id": m["person_id"], "related_id": m["person_id_p"],
                                   "relation": rel}))
    if len(shussei_mothers):
        parts.append(pd.DataFrame({"person_id": shussei_mothers.index, "related_id": shussei_mothers.values,
                                   "relation": "mother"}))
    sib = kids.merge(kids[["_hh", "person_id"]], on="_hh", suffixes=("", "_s"))
    sib = sib[sib["person_id"] != sib["person_id_s"]]
    parts.append(pd.DataFrame({"person_id": sib["person_id"], "related_id": sib["person_id_s"],
                               "relation": "sibling"}))
    rel = pd.concat(parts, ignore_index=True)
    # A birth notification's mother wins over the household guess for the same child.
    rel["_prio"] = np.arange(len(rel))
    mothers = rel[rel["relation"] == "mother"].sort_values("_prio").drop_duplicates("person_id", keep="last")
    rel = pd.concat([rel[rel["relation"] != "mother"], mothers])
    children = rel[rel["relation"].isin(["mother", "father"])]
    rel = pd.concat([rel, pd.DataFrame({"person_id": children["related_id"],
                                        "related_id": children["person_id"], "relation": "child"})])
    rel = rel[(rel["person_id"] != "") & (rel["related_id"] != "")]
    rel = rel.drop_duplicates(["person_id", "related_id", "relation"])
    rel["since"], rel["until"] = pd.NaT, pd.NaT
    return rel[["person_id", "related_id", "relation", "since", "until"]].reset_index(drop=True)


def process_delivery(delivery: Delivery, keyer: Keyer, known_keys: dict[str, str] | None = None,
                     taken_ids: set[str] | None = None, decisions: dict[str, str] | None = None,
                     rng: np.random.Generator | None = None,
                     progress: Progress | None = None) -> Processed:
    """Link and build everything the store keeps for ``delivery`` (see the module docstring)."""
    progress = ensure(progress)
    rng = rng if rng is not None else np.random.default_rng()
    records = delivery_records(delivery)
    as_of = _as_of(delivery, records)
    result = link(records, lambda s: keyer.digest("pair:" + s), decisions,
                  progress=progress.sub(0.0, 0.6))
    recs = result.records
    ents = result.entities.copy()
    ents["key"] = keyer.series(ents["key"])
    rid = assign_research_ids(ents, known_keys or {}, taken_ids or set(), rng)
    progress.step(0.65, "人・世帯・続柄を作っています")
    recs["person_id"] = recs["entity"].map(rid)
    persons, identities = _persons(recs, delivery, rid, keyer, as_of)
    hh_by_person = persons.set_index("person_id")["household_id"]
    number_person = (recs[recs["resident_number"] != ""]
                     .drop_duplicates("resident_number").set_index("resident_number")["person_id"])
    shussei = delivery.tables.get("shussei")
    mothers = pd.Series(dtype=object)
    if shussei is not None and "母宛名番号" in shussei.columns and len(shussei):
        key = recs[recs["source"] == "shussei"].set_index(["file", "line"])["person_id"]
        child = key.reindex(pd.MultiIndex.from_arrays([shussei["_file"], shussei["_line"]])).to_numpy()
        mothers = pd.Series(shussei["母宛名番号"].map(number_person).to_numpy(), index=child).dropna()
        mothers = mothers[mothers.index.notna()]
    relations = _relations(persons, mothers)
    mom = relations[relations["relation"] == "mother"].drop_duplicates("person_id").set_index("person_id")["related_id"]
    persons["mother_id"] = persons["person_id"].map(mom).fillna("")
    persons = persons.drop(columns=["_relation", "_hh"])
    progress.step(0.75, "出来事を作っています")
    rec_pid = recs.set_index(["file", "line"])["person_id"]
    parts = []
    for source, df in delivery.tables.items():
        df = df.copy()
        df["person_id"] = rec_pid.reindex(pd.MultiIndex.from_arrays([df["_file"], df["_line"]])).to_numpy()
        df["household_id"] = df["person_id"].map(hh_by_person).fillna("").to_numpy()
        if source == "seiho":
            # Public assistance is a household event: the household named in the row.
            df["household_id"] = keyer.household_ids(df["世帯番号"]).to_numpy()
        parts.extend(ev.source_events(source, df, number_person))
    for uke in delivery.receipts:
        r = uke.receipts.copy()
        r["person_id"] = rec_pid.reindex(pd.MultiIndex.from_arrays([r["_file"], r["_line"]])).to_numpy()
        r["household_id"] = r["person_id"].map(hh_by_person).fillna("").to_numpy()
        parts.extend(ev.receipt_events(r, uke.diagnoses, uke.procedures))
    events = ev.finish_events(parts)
    progress.step(0.9, "対応表を作っています")
    idmap = _idmap(delivery, recs)
    review = result.review.copy()
    if len(review):
        rv = recs.loc[review["rec"]]
        review = pd.DataFrame({"record_id": rv["person_id"].to_numpy(), "file": rv["file"].to_numpy(),
                               "line": rv["line"].to_numpy(), "source": rv["source"].to_numpy(),
                               "candidate_id": review["candidate"].map(rid).to_numpy(),
                               "score": review["score"].to_numpy(), "evidence": review["evidence"].to_numpy(),
                               "pair_key": review["pair_key"].to_numpy()})
    else:
        review = pd.DataFrame(columns=["record_id", "file", "line", "source", "candidate_id", "score",
                                       "evidence", "pair_key"])
    dups = result.duplicates
    duplicates = pd.DataFrame({"person_a": dups["entity_a"].map(rid).to_numpy(),
                               "person_b": dups["entity_b"].map(rid).to_numpy(),
                               "kind": dups["kind"].to_numpy(), "detail": dups["detail"].to_numpy()})
    link_keys = pd.DataFrame({"key_hash": ents["key"].to_numpy(),
                              "person_id": ents["entity"].map(rid).to_numpy()}).drop_duplicates("key_hash")
    progress.step(1.0, "完了")
    return Processed(idmap, persons, identities, relations, events, review, duplicates, link_keys,
                     result, as_of)


def _idmap(delivery: Delivery, recs: pd.DataFrame) -> pd.DataFrame:
    """file, line, research_id for every imported row ('' while waiting in review)."""
    rows = pd.DataFrame({"file": recs["file"], "line": recs["line"],
                         "research_id": np.where(recs["status"] == "review", "", recs["person_id"]),
                         "status": recs["status"]})
    return rows.sort_values(["file", "line"]).reset_index(drop=True)
