"""The engine side of an import: a read delivery → linked persons, relations, identities, events.

``process_delivery`` is pure (no store): it takes what the store knows from earlier deliveries
(hashed link keys → research IDs, IDs in use, review decisions) and returns every frame the
store persists. The store wraps it in one transaction (app/store/importing.py).

Events are the bulk of a delivery (about 36 per child), so they are not built all at once:
``Processed.event_chunks`` builds them a bounded number of source rows at a time, in the order
the store writes them, and can drop each source's raw rows once its events are built. Peak
memory is then bounded by one chunk rather than by the whole delivery's events.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.engine import events as ev
from app.engine.ingest.delivery import Delivery
from app.engine.linkage import assign_research_ids, link
from app.engine.progress import Progress, ensure
from app.engine.pseudonyms import Keyer

PERSON_COLS = {"宛名番号": "resident_number", "世帯番号": "household_number", "氏名": "name_kanji",
               "氏名カナ": "name_kana", "生年月日": "birth_date", "性別": "sex"}
MOTHER_RELATIONS = {"妻", "世帯主", "母"}
# Source rows per events chunk: a chunk's events and their temporaries stay well under 100 MB
# (予防接種 at 13,913 children, 243,547 rows, is three chunks).
CHUNK_ROWS = 100_000
FATHER_RELATIONS = {"夫", "世帯主", "父"}


class _RowPersons:
    """person_id and household_id of a delivery row by (file, line): one hash lookup on an
    integer key."""

    def __init__(self, files: pd.Series, lines: pd.Series, person_ids: pd.Series, households: pd.Series):
        self._files = pd.Index(pd.unique(files.to_numpy()))
        self._keys = pd.Index(self._key(files, lines))
        self._ids = person_ids.to_numpy(dtype=object)
        # '' for a row of nobody in persons (waiting in review)
        self._households = person_ids.map(households).fillna("").to_numpy(dtype=object)

    def _key(self, files, lines) -> np.ndarray:
        code = self._files.get_indexer(np.asarray(files, dtype=object)).astype(np.int64)
        # An unknown file (code -1) gives a negative key that matches nothing.
        return (code << 32) | np.asarray(lines, dtype=np.int64)

    def __call__(self, files, lines) -> tuple[np.ndarray, np.ndarray]:
        """(person_id, household_id) of each row; NaN and '' for a row not in the records."""
        pos = self._keys.get_indexer(self._key(files, lines))
        ids, households = self._ids[pos], self._households[pos]
        ids[pos < 0], households[pos < 0] = np.nan, ""
        return ids, households


@dataclass
class _Chunk:
    """Rows of one source whose events are built together (``rows``: positions in its table)."""
    first: tuple[int, int]     # (rank of the first file among all files, first line): write order
    source: str                # a CSV source, or "receipt"
    rows: np.ndarray | slice
    files: list[str] = field(default_factory=list)   # receipts: the .UKE files of the chunk


@dataclass
class DeliveryEvents:
    """The events of a delivery, built a chunk of source rows at a time.

    Chunks come in the rows' (file, line) order, never span another source's file, and each is
    ordered by (file, line) with a row's events in the builder's order: events that tie on
    (person, date) therefore get ids in the same order as when the whole delivery was built at
    once and sorted by (person, date, file, line) — the order readers use is
    (person_id, date, event_id). Sorting each chunk by person as well cost 0.25 s CPU at the
    demo's size and bought nothing: the readers go through the events_person index or read
    rowid ranges.
    """
    delivery: Delivery
    row_person: _RowPersons
    number_person: pd.Series
    keyer: Keyer
    chunk_rows: int | None = None   # None: CHUNK_ROWS
    released: bool = field(default=False, init=False)

    def source_rows(self) -> int:
        """Rows the events are built from (about the number of events, for sizing the write)."""
        return (sum(len(df) for df in self.delivery.tables.values())
                + sum(len(u.receipts) + len(u.diagnoses) for u in self.delivery.receipts))

    def plan(self) -> list[_Chunk]:
        """Every chunk, in write order."""
        d = self.delivery
        owner: dict[str, str] = {}
        for source, df in d.tables.items():
            owner.update({f: source for f in pd.unique(df["_file"].to_numpy())})
        for uke in d.receipts:
            owner.update({f: "receipt" for f in pd.unique(uke.receipts["_file"].to_numpy())})
        names = sorted(owner)
        rank = {f: i for i, f in enumerate(names)}
        size = self.chunk_rows or CHUNK_ROWS
        chunks: list[_Chunk] = []
        for source, df in d.tables.items():
            if len(df):
                chunks.extend(self._table_chunks(source, df, rank, size))
        for uke in d.receipts:
            chunks.extend(self._receipt_chunks(uke.receipts, rank, size))
        return sorted(chunks, key=lambda c: c.first)

    @staticmethod
    def _table_chunks(source: str, df: pd.DataFrame, rank: dict[str, int], size: int) -> list[_Chunk]:
        codes, uniq = pd.factorize(df["_file"].to_numpy())
        file_rank = np.array([rank[f] for f in uniq], dtype=np.int64)[codes]
        line = df["_line"].to_numpy(dtype=np.int64)
        order = np.lexsort((line, file_rank))
        in_order = bool((order[1:] > order[:-1]).all())
        r = file_rank[order]
        # A new segment wherever the next file of this source is not the next file overall.
        cuts = np.flatnonzero(np.diff(r) > 1) + 1
        out = []
        for seg in np.split(np.arange(len(df)), cuts):
            for start in range(0, len(seg), size):
                pos = seg[start:start + size]
                rows = slice(int(pos[0]), int(pos[-1]) + 1) if in_order else order[pos]
                first = order[pos[0]]
                out.append(_Chunk((int(file_rank[first]), int(line[first])), source, rows))
        return out

    @staticmethod
    def _receipt_chunks(receipts: pd.DataFrame, rank: dict[str, int], size: int) -> list[_Chunk]:
        # Cut between .UKE files only (a receipt's diagnoses and procedures stay with it).
        sizes = receipts.groupby("_file", sort=False).size()
        files = sorted(sizes.index, key=rank.__getitem__)
        out, group, n = [], [], 0
        for f in files:
            if group and (n + sizes[f] > size or rank[f] != rank[group[-1]] + 1):
                out.append(_Chunk((rank[group[0]], 0), "receipt", slice(None), group))
                group, n = [], 0
            group.append(f)
            n += int(sizes[f])
        if group:
            out.append(_Chunk((rank[group[0]], 0), "receipt", slice(None), group))
        return out

    def _with_persons(self, df: pd.DataFrame, source: str) -> pd.DataFrame:
        pid, hh = self.row_person(df["_file"].to_numpy(), df["_line"].to_numpy())
        if source == "seiho":
            # Public assistance is a household event: the household named in the row.
            hh = self.keyer.household_ids(df["世帯番号"]).to_numpy()
        # a shallow copy with two more columns (assign copied every column of the raw rows: 0.04 s
        # of the demo's import); the builders only read it (tests/test_import_events_chunks.py)
        out = df.copy(deep=False)
        out["person_id"], out["household_id"] = pid, hh
        return out

    def build(self, chunk: _Chunk) -> pd.DataFrame:
        """The events of one chunk, in (file, line) order."""
        if chunk.source != "receipt":
            df = self.delivery.tables[chunk.source]
            part = df.iloc[chunk.rows] if isinstance(chunk.rows, slice) else df.take(chunk.rows)
            parts = ev.source_events(chunk.source, self._with_persons(part, chunk.source),
                                     self.number_person)
            return ev.finish_events(parts, by_row=True)
        parts = []
        for uke in self.delivery.receipts:
            pick = {}
            for name in ("receipts", "diagnoses", "procedures"):
                frame = getattr(uke, name)
                pick[name] = frame[frame["_file"].isin(chunk.files)] if len(frame) else frame
            if len(pick["receipts"]):
                r = self._with_persons(pick["receipts"], "receipt")
                parts.extend(ev.receipt_events(r, pick["diagnoses"], pick["procedures"]))
        return ev.finish_events(parts, by_row=True)

    def chunks(self, release: bool = False,
               progress: Progress | None = None) -> Iterator[pd.DataFrame]:
        """Each chunk's events in write order. ``release`` drops a source's raw rows from the
        delivery as soon as its last chunk is built (the delivery cannot be built again)."""
        progress = ensure(progress)
        if self.released:
            raise RuntimeError("the delivery's rows were released: its events cannot be built again")
        self.released = release
        plan = self.plan()
        left: dict[str, int] = {}
        for c in plan:
            left[c.source] = left.get(c.source, 0) + 1
        for i, chunk in enumerate(plan):
            progress.step(i / max(len(plan), 1), "出来事を作っています")
            frame = self.build(chunk)
            left[chunk.source] -= 1
            if release and not left[chunk.source]:
                if chunk.source == "receipt":
                    self.delivery.receipts = []
                else:
                    del self.delivery.tables[chunk.source]
            yield frame
            del frame

    def frame(self) -> pd.DataFrame:
        """All events in one frame, ordered by (person, date, file, line)."""
        parts = list(self.chunks())
        if not parts:
            return ev.finish_events([])
        return ev.sort_events(pd.concat(parts, ignore_index=True))


@dataclass
class Processed:
    idmap: pd.DataFrame        # file, line, research_id ('' while in review), status
    persons: pd.DataFrame      # DATA_MODEL persons
    identities: pd.DataFrame   # DATA_MODEL identities
    relations: pd.DataFrame    # person_id, related_id, relation, since, until
    review: pd.DataFrame       # record_id, file, line, source, candidate_id, score, evidence, pair_key,
                               # and the record's own name_kanji, name_kana, birth_date, sex
    duplicates: pd.DataFrame   # person_a, person_b, kind, detail
    link_keys: pd.DataFrame    # key_hash, person_id
    as_of: dt.date
    event_source: DeliveryEvents

    def event_chunks(self, release: bool = False,
                     progress: Progress | None = None) -> Iterator[pd.DataFrame]:
        """DATA_MODEL events (without event_id / delivery_id), a chunk at a time (see DeliveryEvents)."""
        return self.event_source.chunks(release, progress)

    def release_written(self) -> None:
        """Empty the frames the store has written (keeps memory for the events' chunks)."""
        for name in ("idmap", "persons", "identities", "relations", "review", "duplicates", "link_keys"):
            setattr(self, name, getattr(self, name).iloc[:0])

    @property
    def events(self) -> pd.DataFrame:
        """Every event at once: for engine callers and tests on small or medium deliveries."""
        return self.event_source.frame()


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
    recs["birth_date"] = ev.as_datetime(recs["birth_date"])
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
    # Only the rows and columns used below (the linkage records carry many more): a copy of
    # every record would be the import's largest frame at city scale.
    cols = ["person_id", "source", "file", "line", "move_date", "move_reason", "resident_number",
            "household_number", "s", "kana_norm", "name_kanji", "birth_date"]
    cols = [c for c in cols if c in recs.columns]
    keep = (recs["status"] != "review").to_numpy()
    jumin = delivery.tables.get("jumin")
    reg = recs.loc[keep & (recs["source"] == "jumin").to_numpy(), cols]
    extra = pd.DataFrame(index=reg.index)
    if jumin is not None and len(reg):
        j = jumin.set_index(["_file", "_line"])
        key = pd.MultiIndex.from_arrays([reg["file"], reg["line"]])
        for col in ("町名", "地区", "国籍", "続柄"):
            extra[col] = j[col].reindex(key).to_numpy() if col in j.columns else ""
    reg = reg.join(extra)
    reg = reg.assign(_order=ev.as_datetime(reg["move_date"]).fillna(pd.Timestamp.min))
    reg = reg.sort_values(["person_id", "_order", "line"])
    latest = reg.groupby("person_id").tail(1).set_index("person_id")
    moved = reg["move_reason"].fillna("")
    mdate = ev.as_datetime(reg["move_date"])
    start = mdate.where(moved.isin(["出生", "転入"])).groupby(reg["person_id"]).min()
    # Still resident unless the latest registry row is a move-out or death.
    end = ev.as_datetime(latest["move_date"]).where(latest["move_reason"].isin(["転出", "死亡"]))
    moved_in = moved.eq("転入").groupby(reg["person_id"]).any()
    numbers = _number_lists(recs.loc[keep & (recs["resident_number"] != "").to_numpy(),
                                     ["person_id", "resident_number"]])
    # Each other person's row with the lowest line (the first such row on a tie), in person order.
    other = keep & ~recs["person_id"].isin(latest.index).to_numpy()
    first = recs.loc[other, ["person_id", "line"]].groupby("person_id")["line"].idxmin()
    others = recs.loc[first.to_numpy(), cols].set_index("person_id")
    both = pd.concat([latest.assign(_reg=True), others.assign(_reg=False)])
    birth = ev.as_datetime(both["birth_date"])
    # Preschool children are "aged 0–6" (the report's 13,913): a 6-year-old up to the day
    # before the 7th birthday is still a child.
    cutoff = pd.Timestamp(as_of) - pd.DateOffset(years=7) + pd.Timedelta(days=1)
    persons = pd.DataFrame({
        "person_id": both.index,
        "kind": np.where(birth >= cutoff, "child", "adult"),
        "sex": both["s"].to_numpy(),
        "birth_ym": pd.Series(ev.date_text(birth, "M")).fillna("").to_numpy(),
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
        "name_kana": both["kana_norm"].to_numpy(), "birth_date": pd.Series(ev.date_text(birth)).fillna("").to_numpy(),
        "sex": both["s"].to_numpy(), "resident_numbers": numbers.reindex(both.index).fillna("[]").to_numpy(),
        "household_number": both["household_number"].to_numpy(),
        "town": persons["town"].to_numpy(), "address_note": "",
    })
    persons["_relation"] = both.get("続柄", pd.Series("", index=both.index)).fillna("").to_numpy()
    persons["_hh"] = both["household_number"].to_numpy()
    return persons.reset_index(drop=True), identities.reset_index(drop=True)


def _number_lists(rn: pd.DataFrame) -> pd.Series:
    """person_id → JSON list of every 宛名番号 seen (most persons have one: built without a loop).

    ``rn``: person_id, resident_number of the records that carry a number. Distinct pairs are
    found on integer codes, and only persons with several numbers are sorted (50,000 children:
    0.49 → 0.30 s CPU)."""
    person, _ = pd.factorize(rn["person_id"])
    number, numbers = pd.factorize(rn["resident_number"])
    pair = (person.astype(np.int64) + 1) * (len(numbers) + 1) + (number + 1)
    rn = rn[~pd.Series(pair).duplicated().to_numpy()]
    multi = rn["person_id"].duplicated(keep=False)
    single = rn[~multi].set_index("person_id")["resident_number"]
    out = '["' + single + '"]'
    if multi.any():
        many = (rn[multi].sort_values(["person_id", "resident_number"])
                .groupby("person_id")["resident_number"].agg(lambda s: json.dumps(list(s))))
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
    ents = result.entities.assign(key=keyer.series(result.entities["key"]))
    rid = assign_research_ids(ents, known_keys or {}, taken_ids or set(), rng)
    # Plain Python str (the drawn IDs come as numpy str_): measured, sqlcipher3 binds a str_
    # about 2× slower than a str (idmap's 412,734 rows: 1.1 s → 0.5 s CPU), and every map,
    # sort and write below carries these IDs.
    rid = pd.Series(rid.to_numpy().astype(str).astype(object), index=rid.index, name=rid.name)
    progress.step(0.65, "人・世帯・続柄を作っています")
    recs["person_id"] = recs["entity"].map(rid)
    persons, identities = _persons(recs, delivery, rid, keyer, as_of)
    # (only the two columns: a filtered copy of all the records' columns was the import's
    # largest temporary at 50,000 children)
    number_person = (recs.loc[recs["resident_number"] != "", ["resident_number", "person_id"]]
                     .drop_duplicates("resident_number").set_index("resident_number")["person_id"])
    shussei = delivery.tables.get("shussei")
    mothers = pd.Series(dtype=object)
    if shussei is not None and "母宛名番号" in shussei.columns and len(shussei):
        key = recs.loc[recs["source"] == "shussei", ["file", "line", "person_id"]].set_index(["file", "line"])["person_id"]
        child = key.reindex(pd.MultiIndex.from_arrays([shussei["_file"], shussei["_line"]])).to_numpy()
        mothers = pd.Series(shussei["母宛名番号"].map(number_person).to_numpy(), index=child).dropna()
        mothers = mothers[mothers.index.notna()]
    relations = _relations(persons, mothers)
    mom = relations[relations["relation"] == "mother"].drop_duplicates("person_id").set_index("person_id")["related_id"]
    persons["mother_id"] = persons["person_id"].map(mom).fillna("")
    persons = persons.drop(columns=["_relation", "_hh"])
    progress.step(0.9, "対応表を作っています")
    idmap = _idmap(delivery, recs)
    review = result.review
    if len(review):
        rv = recs.loc[review["rec"]]
        review = pd.DataFrame({"record_id": rv["person_id"].to_numpy(), "file": rv["file"].to_numpy(),
                               "line": rv["line"].to_numpy(), "source": rv["source"].to_numpy(),
                               "candidate_id": review["candidate"].map(rid).to_numpy(),
                               "score": review["score"].to_numpy(), "evidence": review["evidence"].to_numpy(),
                               "pair_key": review["pair_key"].to_numpy(),
                               # the record's own name and birth date, for the reviewer to compare
                               "name_kanji": rv["name_kanji"].fillna("").astype(str).to_numpy(),
                               "name_kana": rv["kana_norm"].to_numpy(), "birth_date": rv["b"].to_numpy(),
                               "sex": rv["s"].to_numpy()})
    else:
        review = pd.DataFrame(columns=["record_id", "file", "line", "source", "candidate_id", "score",
                                       "evidence", "pair_key", "name_kanji", "name_kana", "birth_date", "sex"])
    dups = result.duplicates
    duplicates = pd.DataFrame({"person_a": dups["entity_a"].map(rid).to_numpy(),
                               "person_b": dups["entity_b"].map(rid).to_numpy(),
                               "kind": dups["kind"].to_numpy(), "detail": dups["detail"].to_numpy()})
    link_keys = pd.DataFrame({"key_hash": ents["key"].to_numpy(),
                              "person_id": ents["entity"].map(rid).to_numpy()}).drop_duplicates("key_hash")
    rows = _RowPersons(recs["file"], recs["line"], recs["person_id"],
                       persons.set_index("person_id")["household_id"])
    events = DeliveryEvents(delivery, rows, number_person, keyer)
    progress.step(1.0, "完了")
    return Processed(idmap, persons, identities, relations, review, duplicates, link_keys, as_of, events)


def _idmap(delivery: Delivery, recs: pd.DataFrame) -> pd.DataFrame:
    """file, line, research_id for every imported row ('' while waiting in review)."""
    # ordered by (file, line) without an intermediate frame (one copy at city scale, not two)
    order = np.lexsort((recs["line"].to_numpy(), ev.rank(recs["file"])))
    status = recs["status"].to_numpy()[order]
    return pd.DataFrame({"file": recs["file"].to_numpy()[order], "line": recs["line"].to_numpy()[order],
                         "research_id": np.where(status == "review", "", recs["person_id"].to_numpy()[order]),
                         "status": status})
