"""Linkage (名寄せ): which rows of a delivery are the same person.

Passes, in the order of the report (§6.2) and then beyond it:

1. **Registry persons.** Every 宛名番号 in 住民基本台帳 is a node. Numbers whose rows agree on the
   4 items (normalised kanji name — or, for a name written only in katakana, the kana key —
   kana, birth date, sex) and whose residence periods do *not* overlap (one was moved out before
   the other was moved in) are one person who moved out and back. Each number pairs with at most
   one other, and only when the pairing is forced (``_forced_pairs``): two namesakes who both
   moved out and back together cannot be told apart, so nobody is merged and the numbers go to
   the duplicate list. If the periods overlap, two people were resident at the same time: homonyms, never
   merged, sent to the duplicate list.
2. **宛名番号** of any other source row → that registry person.
3. **5 items** (4 items + 世帯番号), then **4 items**, on normalised names. A 4-item key that points
   at several registry persons (homonyms) links nothing and goes to the duplicate list. A row
   that carries a 宛名番号 is never linked by names to a registry person (whose numbers differ
   from its own, or pass 2 would have linked it): it stays on its number or goes to review.
4. **Receipts** carry no 宛名番号: kanji name + birth date + sex (kana too when both sides have it).
5. **Near misses** (one field off: a kana typo, one kanji with the same reading, a birth-date
   digit) are scored Fellegi–Sunter style (``FS_WEIGHTS``) against registry persons blocked on
   birth date, kana or kanji. A record whose best score passes ``REVIEW_THRESHOLD`` goes to the
   review list and stays unlinked (temporary 9-ID) until a data_admin decides; decisions are
   keyed so that they apply again to the same record in later deliveries. Rows of one source
   with the same identity (a person's monthly receipts) are one review item, proposed once.
6. Everything else becomes a person of its own (receipt-only or not-in-registry), clustered on
   its 宛名番号 or its 4 items.

Twins (same household and birth date, different names) are never merged: their names differ so
no deterministic key joins them, and the scorer's household agreement cannot outweigh two name
disagreements. They are listed as ``twins`` in the duplicate list for information.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from app.engine.names import (edit_distance, kana_key, kana_key_of_normalised, kanji_agreement,
                              normalise_kana, normalise_kanji)
from app.engine.progress import Progress, ensure

# log2(m/u) weights per field and agreement level (m: P(level | same person), u: P(level | not)).
FS_WEIGHTS = {
    "kanji": {"exact": np.log2(0.92 / 0.001), "fuzzy": np.log2(0.04 / 0.0005),
              "different": np.log2(0.04 / 0.9985), "missing": 0.0},
    "kana": {"exact": np.log2(0.93 / 0.002), "near": np.log2(0.05 / 0.005),
             "different": np.log2(0.02 / 0.993), "missing": 0.0},
    "birth": {"exact": np.log2(0.97 / 0.0004), "near": np.log2(0.025 / 0.01),
              "different": np.log2(0.005 / 0.99)},
    "sex": {"exact": np.log2(0.99 / 0.5), "different": np.log2(0.01 / 0.5), "missing": 0.0},
    "household": {"exact": np.log2(0.7 / 0.0005), "different": np.log2(0.3 / 0.9995), "missing": 0.0},
}
REVIEW_THRESHOLD = 14.0  # one field off still clears it; a same-birth-date stranger does not

MOVE_START = {"出生", "転入"}
MOVE_END = {"転出", "死亡"}

RECORD_COLUMNS = ["source", "file", "line", "resident_number", "household_number", "name_kanji",
                  "name_kana", "birth_date", "sex"]


@dataclass
class LinkResult:
    """Outcome of linking one delivery.

    records: one row per person-bearing row — source, file, line, entity (cluster label), status
      (``linked`` | ``review`` | ``new``), method, plus the normalised keys. The input's own
      columns are shared with the frame given to ``link`` (not copied, for memory at city
      scale): read them, or assign whole new columns; don't write into them in place.
    entities: entity, kind (``registry`` | ``other`` | ``review``), keys (list of link keys).
    review: rec (first row of the item), entity (the item's own), candidate (entity), score,
      evidence (JSON: level per field, ``rows`` = [[file, line], …] of the item), pair_key, rows.
    duplicates: entity_a, entity_b, kind (``homonym`` | ``ambiguous`` | ``twins``), detail.
    """

    records: pd.DataFrame
    entities: pd.DataFrame
    review: pd.DataFrame
    duplicates: pd.DataFrame
    out_and_back: pd.DataFrame = field(default_factory=pd.DataFrame)


# Columns that decide a row's linkage: rows equal on all of them are linked alike (same keys,
# same passes, same decisions), so the passes run once per distinct combination.
IDENTITY_COLUMNS = ["source", "resident_number", "household_number", "name_kanji", "name_kana",
                    "birth_date", "sex"]
_TEXT_COLUMNS = ["resident_number", "household_number", "name_kanji", "name_kana", "sex"]
_KATAKANA_ONLY = re.compile(r"[ァ-ヶー]+")


def _factorize(values: pd.Series, text: bool) -> tuple[np.ndarray, np.ndarray, bool]:
    """Codes per row, the distinct values (object array) and whether the values are already
    their own filled text (strings, none missing); a missing value has code -1.

    For a text column the values are as ``fillna("").astype(str)`` would make them; factorizing
    other types raw could merge values that hash alike (1, 1.0, True) but print differently.
    """
    codes, uniq = pd.factorize(values)
    uniq = np.asarray(uniq, dtype=object)
    all_text = all(type(u) is str for u in uniq)
    if text and not all_text:
        codes, uniq = pd.factorize(values.fillna("").astype(str))
        uniq = np.asarray(uniq, dtype=object)
    as_given = text and all_text and values.dtype == object and bool((codes >= 0).all())
    # int32 halves the per-row arrays (several million rows at city scale).
    return codes.astype(np.int32 if len(uniq) < 2 ** 31 - 1 else np.int64, copy=False), uniq, as_given


def _per_value(uniq: np.ndarray, fn: Callable[[str], str]) -> np.ndarray:
    """``fn`` of each distinct value, plus ``fn("")`` LAST so that code -1 (missing) indexes it."""
    return np.array([fn(u) for u in uniq] + [fn("")], dtype=object)


def _combine(*codes: np.ndarray) -> np.ndarray:
    """One integer per distinct combination of non-negative codes, numbered in order of first
    appearance: a mixed-radix key, renumbered whenever the next column could overflow it."""
    key = np.zeros(len(codes[0]), dtype=np.int64)
    span = 1  # key < span
    for c in codes:
        radix = int(c.max()) + 1 if len(c) else 1
        if span * radix >= 2 ** 62:
            key, uniq = pd.factorize(key)
            span = max(len(uniq), 1)
        key = key * radix + c
        span *= radix
    key, _ = pd.factorize(key)
    return key.astype(np.int64, copy=False)


def _text_codes(values: np.ndarray) -> np.ndarray:
    """Integer codes of text values: equal codes for equal texts, 0 for "" (the passes test
    "present" as code != 0 and join on codes instead of strings)."""
    codes, uniq = pd.factorize(values)
    codes = codes + 1
    empty = np.flatnonzero(np.asarray(uniq, dtype=object) == "")
    if len(empty):
        codes[codes == empty[0] + 1] = 0
    return codes.astype(np.int64, copy=False)


@dataclass
class _Identities:
    """The distinct identities of a records frame.

    row: per row, the position of its identity in ``frame``. frame: one row per identity, indexed
    by the identity's first row (so labels such as a review item's first row stay row numbers),
    in order of first appearance; columns source, resident_number, household_number (missing →
    ""), k, kana_norm, kn, b, s. as_given: the text columns whose filled text is the input
    itself (object strings, none missing), which the records frame can then share.
    """

    row: np.ndarray
    frame: pd.DataFrame
    as_given: frozenset = frozenset()


def _identities(records: pd.DataFrame) -> _Identities:
    """Factorize the identity columns and normalise each distinct name, date and code once."""
    n = len(records)
    cols: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    given = set()
    for c in IDENTITY_COLUMNS:
        values = pd.to_datetime(records[c]) if c == "birth_date" else records[c]
        codes, uniq, as_given = _factorize(values, c in _TEXT_COLUMNS)
        cols[c] = codes, uniq
        if as_given:
            given.add(c)
    row = _combine(*(codes + 1 for codes, _ in cols.values())) if n else np.zeros(0, dtype=np.int64)
    n_ids = int(row.max()) + 1 if n else 0
    first = np.empty(n_ids, dtype=np.int64)
    first[row[::-1]] = np.arange(n - 1, -1, -1)  # the earliest row of each identity wins
    at = {c: codes[first] for c, (codes, uniq) in cols.items()}

    kanji_codes, kanji = cols["name_kanji"]
    kana_codes, kana = cols["name_kana"]
    k_of = _per_value(kanji, normalise_kanji)
    # Receipts write a name with 外字 in katakana in the kanji field: compare it as kana.
    kana_only_of = np.array([bool(_KATAKANA_ONLY.fullmatch(k)) for k in k_of], dtype=bool)
    k_as_kana_of = np.array([kana_key(k) if ko else "" for k, ko in zip(k_of, kana_only_of)], dtype=object)
    kana_norm_of = _per_value(kana, normalise_kana)
    kn_of = np.array([kana_key_of_normalised(x) for x in kana_norm_of], dtype=object)
    kana_only = kana_only_of[at["name_kanji"]]
    kn = kn_of[at["name_kana"]]
    kn = np.where(kana_only & (kn == ""), k_as_kana_of[at["name_kanji"]], kn)
    k = np.where(kana_only, "", k_of[at["name_kanji"]])
    birth_codes, births = cols["birth_date"]
    b_of = np.append(pd.DatetimeIndex(births).strftime("%Y-%m-%d").to_numpy(dtype=object), "")
    src_codes, sources = cols["source"]
    text = {c: _per_value(cols[c][1], str) for c in ("resident_number", "household_number", "sex")}
    frame = pd.DataFrame({
        "source": np.append(sources, np.nan)[at["source"]],
        "resident_number": text["resident_number"][at["resident_number"]],
        "household_number": text["household_number"][at["household_number"]],
        "k": k.astype(object),
        "kana_norm": kana_norm_of[at["name_kana"]],
        "kn": kn.astype(object),
        "b": b_of[at["birth_date"]],
        "s": text["sex"][at["sex"]],
    }, index=first)
    # Integer codes of the keys (0: empty) for the joins; the birth date's year-month and
    # month-day for the review pass's blocks.
    ym_of = np.array([x[:7] for x in b_of], dtype=object)
    md_of = np.array([x[5:] for x in b_of], dtype=object)
    for col, values in (("_k", frame["k"].to_numpy()), ("_kn", frame["kn"].to_numpy()),
                        ("_b", b_of), ("_ym", ym_of), ("_md", md_of),
                        ("_s", text["sex"]), ("_hh", text["household_number"]),
                        ("_rn", text["resident_number"])):
        codes = _text_codes(values)
        src = {"_b": "birth_date", "_ym": "birth_date", "_md": "birth_date", "_s": "sex",
               "_hh": "household_number", "_rn": "resident_number"}.get(col)
        frame[col] = codes if src is None else codes[at[src]]
    return _Identities(row, frame, frozenset(given & {"resident_number", "household_number", "sex"}))


def normalise_records(records: pd.DataFrame) -> pd.DataFrame:
    """Add the comparison keys: k (kanji), kn (kana key), kana_norm (display kana), b (birth), s (sex)."""
    ids = _identities(records)
    return _expand(records, ids, ["k", "kana_norm", "kn", "b", "s"])


def _expand(records: pd.DataFrame, ids: _Identities, columns: list[str]) -> pd.DataFrame:
    """``records`` (with move_reason/move_date, None if absent) plus the identities' ``columns``
    taken back to every row, resident_number and household_number replaced by their filled
    text; indexed 0..n-1.

    The caller's columns are not copied (at 200,000 children a copy is ~0.5 GB of pointers):
    the frame shares them with ``records`` (see ``LinkResult``). The added columns share one
    string object per distinct value.
    """
    data = {}
    names = list(records.columns) + [c for c in ("move_reason", "move_date") if c not in records.columns]
    for c in names + columns:
        given = "sex" if c == "s" else c
        if given in ids.as_given:
            data[c] = records[given].to_numpy()  # the filled text is the input itself
        elif c in columns or c in ("resident_number", "household_number"):
            data[c] = ids.frame[c].to_numpy()[ids.row]
        elif c not in records.columns:
            data[c] = np.full(len(records), None, dtype=object)
        elif isinstance(records[c].dtype, np.dtype):
            data[c] = records[c].to_numpy()
        else:
            data[c] = records[c].array  # categorical, Arrow strings ... as they are
    return pd.DataFrame(data, index=pd.RangeIndex(len(records)), copy=False)


def _forced_pairs(edges: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Out-and-back pairs (rn_a, rn_b) that are forced: each number pairs with at most one other.

    Connected components once chained every number sharing the 4 items, so two namesakes who
    both moved out and back became one person. Here a number whose only possible partner is
    one other number pairs with it (if no other number claims that partner the same way); the
    pair leaves the graph and the rest is looked at again. Whatever is left has two or more
    equally possible pairings (namesakes moving together): nobody is merged, the pairs are
    returned as unsure for the duplicate list. Returns (merged pairs, unsure pairs).
    """
    left = edges[["rn_a", "rn_b"]]
    chosen = []
    while len(left):
        degree = pd.concat([left["rn_a"], left["rn_b"]]).value_counts()
        forced = left[(left["rn_a"].map(degree) == 1) | (left["rn_b"].map(degree) == 1)]
        claims = pd.concat([forced["rn_a"], forced["rn_b"]]).value_counts()
        ok = forced[(forced["rn_a"].map(claims) == 1) & (forced["rn_b"].map(claims) == 1)]
        if ok.empty:
            break
        chosen.append(ok)
        done = set(ok["rn_a"]) | set(ok["rn_b"])
        left = left[~left["rn_a"].isin(done) & ~left["rn_b"].isin(done)]
    merged = pd.concat(chosen) if chosen else left.iloc[:0]
    paired = set(merged["rn_a"]) | set(merged["rn_b"])
    unsure = edges[~edges.index.isin(merged.index)
                   & ~(edges["rn_a"].isin(paired) & edges["rn_b"].isin(paired))]
    return edges.loc[merged.index], unsure


def _registry_entities(reg: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """Map each registry 宛名番号 to its entity; detect out-and-back and homonyms."""
    numbers = reg[reg["resident_number"] != ""]
    ev = numbers["move_reason"].fillna("")
    dates = pd.to_datetime(numbers["move_date"])
    per_number = pd.DataFrame({
        "rn": numbers["resident_number"],
        "start": dates.where(ev.isin(MOVE_START)),
        "end": dates.where(ev.isin(MOVE_END)),
    }).groupby("rn").agg(start=("start", "min"), end=("end", "max"))
    ident = numbers.drop_duplicates("resident_number", keep="last").set_index("resident_number")
    per_number = per_number.join(ident[["k", "kn", "b", "s", "household_number"]])
    per_number["key4"] = per_number["k"] + "|" + per_number["kn"] + "|" + per_number["b"] + "|" + per_number["s"]
    # A name written only in katakana has an empty kanji key: the kana key identifies it then.
    named = ((per_number["k"] != "") | (per_number["kn"] != "")) & (per_number["b"] != "")
    multi = per_number[per_number.duplicated("key4", keep=False) & named]
    # Pairs of numbers sharing all 4 items; residence periods decide out-and-back vs homonyms.
    m = multi.reset_index()[["rn", "key4", "start", "end"]]
    pairs = m.merge(m, on="key4", suffixes=("_a", "_b"))
    pairs = pairs[pairs["rn_a"] < pairs["rn_b"]]
    a_end = pairs["end_a"].fillna(pd.Timestamp.max)
    b_end = pairs["end_b"].fillna(pd.Timestamp.max)
    a_start = pairs["start_a"].fillna(pd.Timestamp.min)
    b_start = pairs["start_b"].fillna(pd.Timestamp.min)
    disjoint = (a_end <= b_start) | (b_end <= a_start)
    entity = pd.Series("R:" + per_number.index, index=per_number.index)
    candidates = pairs[disjoint]
    merge, unsure = _forced_pairs(candidates)
    # The smaller number names the person.
    entity[merge["rn_b"].to_numpy()] = "R:" + merge["rn_a"].to_numpy()
    oab = pd.DataFrame({"entity": merge["rn_a"].map(entity).to_numpy(),
                        "number_a": merge["rn_a"].to_numpy(), "number_b": merge["rn_b"].to_numpy()})
    unsure_dups = pd.DataFrame({"entity_a": unsure["rn_a"].map(entity).to_numpy(),
                                "entity_b": unsure["rn_b"].map(entity).to_numpy(), "kind": "ambiguous",
                                "detail": "転出・転入した同じ氏名・カナ・生年月日・性別の住民が複数いるため、"
                                          "どの番号が同じ人か自動では決められません"})
    over = pairs[~disjoint]
    dups = pd.DataFrame({"entity_a": over["rn_a"].map(entity).to_numpy(),
                         "entity_b": over["rn_b"].map(entity).to_numpy(), "kind": "homonym",
                         "detail": "同じ氏名・カナ・生年月日・性別の2人が同時に住民登録されています"})
    dups = pd.concat([dups, unsure_dups], ignore_index=True)
    dups = dups[dups["entity_a"] != dups["entity_b"]]
    return entity, oab, dups.reset_index(drop=True)


def _unique_match(left: list[np.ndarray], right: pd.DataFrame, on: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """For each left row (code arrays of ``on``): the one right entity sharing those keys, and
    ambiguity (several right entities share them).

    Returns (entity or NaN, ambiguous flag), arrays aligned with the left rows.
    """
    n_left = len(left[0])
    key = _combine(*(np.concatenate([lc, right[c].to_numpy()]) for lc, c in zip(left, on)))
    r = pd.DataFrame({"key": key[n_left:], "entity": right["entity"].to_numpy()}).drop_duplicates()
    per_key = r.groupby("key")["entity"].agg(["first", "nunique"])
    if per_key.empty:
        return np.full(n_left, np.nan, dtype=object), np.zeros(n_left, dtype=bool)
    pos = per_key.index.get_indexer(key[:n_left])
    found = pos >= 0
    nunique = np.where(found, per_key["nunique"].to_numpy()[pos], 0)
    ent = np.where(found & (nunique == 1), per_key["first"].to_numpy()[pos], np.nan).astype(object)
    return ent, nunique > 1


def _deterministic(recs: pd.DataFrame, target: pd.DataFrame, report_ambiguous: bool,
                   numbered_rows: bool = True) -> list[pd.DataFrame]:
    """Link unlinked identities of ``recs`` to a unique entity of ``target`` sharing 5/4/3 items.

    A key shared by several target entities (homonyms) links nothing; with
    ``report_ambiguous`` those pairs are returned for the duplicate list. With
    ``numbered_rows`` False, rows that carry a 宛名番号 are left alone: their number is not the
    target's, and names must never outvote a number. Keys are compared by their integer codes
    (``_identities``; 0 is empty), which are equal exactly when the texts are.
    """
    found = []
    birth, kanji, kana = (recs[c].to_numpy() for c in ("_b", "_k", "_kn"))
    unlinked = recs["entity"].isna().to_numpy()
    for method, on in (("5item", ["_k", "_kn", "_b", "_s", "_hh"]),
                       ("4item", ["_k", "_kn", "_b", "_s"]),
                       ("3item", ["_k", "_b", "_s"]),
                       ("3item_kana", ["_kn", "_b", "_s"])):
        todo = unlinked & (birth != 0) & (recs[on[0]].to_numpy() != 0)
        if not numbered_rows:
            todo &= recs["_rn"].to_numpy() == 0
        if method == "5item":
            todo &= recs["_hh"].to_numpy() != 0
        if method == "4item":
            todo &= kana != 0
        if method == "3item":
            todo &= kana == 0  # only when the row has no kana to compare
        if method == "3item_kana":
            todo &= kanji == 0   # a kana-only name (外字 written in katakana)
        if not todo.any():
            continue
        at = np.flatnonzero(todo)
        ent, amb = _unique_match([recs[c].to_numpy()[at] for c in on],
                                 target[(target[on] != 0).all(axis=1)], on)
        hit = ~pd.isna(ent)
        recs.loc[recs.index[at[hit]], "entity"] = ent[hit]
        recs.loc[recs.index[at[hit]], "method"] = method
        unlinked[at[hit]] = False
        if report_ambiguous and amb.any() and method != "5item":
            cand = recs.iloc[at[amb]][on].reset_index().merge(
                target[on + ["entity"]].drop_duplicates(), on=on)
            for ents in cand.groupby("index")["entity"].agg(lambda x: sorted(set(x))):
                found.extend({"entity_a": a, "entity_b": b, "kind": "ambiguous",
                              "detail": "同じ項目の住民が複数いるため、この行を1人に結び付けられません"}
                             for a, b in zip(ents, ents[1:]))
    return [pd.DataFrame(found)] if found else []


def _birth_level(a: pd.Series, b: pd.Series) -> np.ndarray:
    same = (a == b).to_numpy()
    # "Near": one digit off, or month and day swapped. (Any date of the same month was "near"
    # once; it put strangers born the same month on the review list.)
    aa, bb = a.to_numpy(dtype=str), b.to_numpy(dtype=str)
    diff_digits = np.array([sum(x != y for x, y in zip(p, q)) if len(p) == len(q) else 9
                            for p, q in zip(aa, bb)])
    swapped = np.array([p[:4] == q[:4] and p[5:7] == q[8:10] and p[8:10] == q[5:7]
                        for p, q in zip(aa, bb)])
    near = (diff_digits == 1) | swapped
    return np.where(same, "exact", np.where(near, "near", "different"))


def score_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """Fellegi–Sunter score of candidate pairs (columns k, kn, b, s, hh and the same with _c).

    Adds one level column per field and ``score`` (sum of log2 m/u weights).
    """
    p = pairs
    kanji = np.array([("missing" if not x or not y else kanji_agreement(x, y))
                      for x, y in zip(p["k"], p["k_c"])], dtype=object)
    kd = np.array([edit_distance(x, y, 2) if x and y else -1 for x, y in zip(p["kn"], p["kn_c"])])
    kana = np.where(kd < 0, "missing", np.where(kd == 0, "exact", np.where(kd == 1, "near", "different")))
    birth = _birth_level(p["b"], p["b_c"])
    sex = np.where((p["s"] == "") | (p["s_c"] == ""), "missing",
                   np.where(p["s"] == p["s_c"], "exact", "different"))
    hh = np.where((p["hh"] == "") | (p["hh_c"] == ""), "missing",
                  np.where(p["hh"] == p["hh_c"], "exact", "different"))
    out = p.copy()
    out["kanji_level"], out["kana_level"], out["birth_level"] = kanji, kana, birth
    out["sex_level"], out["household_level"] = sex, hh
    score = np.zeros(len(p))
    for fld, lv in (("kanji", kanji), ("kana", kana), ("birth", birth), ("sex", sex), ("household", hh)):
        score += pd.Series(lv).map(FS_WEIGHTS[fld]).to_numpy(dtype=float)
    out["score"] = score
    return out


def _candidates(recs: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """Blocked candidate pairs: same birth date; or same kana (or kanji) + sex and either the
    same birth year-month or the same birth month-day (a typo in the day, or in the year).

    Name blocks alone grow with the square of the population for common names (measured at
    200,000 children); the birth-date halves keep one-digit birth typos reachable. The blocks
    join on the keys' integer codes; the texts are taken for the pairs found.
    """
    on_cols = ["_b", "_kn", "_k", "_s", "_ym", "_md"]
    left = pd.DataFrame({"_l": np.arange(len(recs)), **{c: recs[c].to_numpy() for c in on_cols}})
    right = pd.DataFrame({"_r": np.arange(len(persons)), "_e": pd.factorize(persons["entity"].to_numpy())[0],
                          **{c: persons[c].to_numpy() for c in on_cols}})
    blocks = [["_b"]]
    for name in ("_kn", "_k"):
        blocks += [[name, "_s", "_ym"], [name, "_s", "_md"]]
    parts = []
    for on in blocks:
        l_ok = left[(left[on] != 0).all(axis=1)]
        r_ok = right[(right[on] != 0).all(axis=1)]
        parts.append(l_ok[["_l"] + on].merge(r_ok[["_r", "_e"] + on], on=on)[["_l", "_r", "_e"]])
    found = pd.concat(parts, ignore_index=True).drop_duplicates(["_l", "_e"])
    li, ri = found["_l"].to_numpy(), found["_r"].to_numpy()
    mine = {"rec": recs.index.to_numpy()[li]}
    mine.update({c: recs[src].to_numpy()[li] for c, src in (("k", "k"), ("kn", "kn"), ("b", "b"), ("s", "s"),
                                                              ("hh", "household_number"))})
    mine["entity"] = persons["entity"].to_numpy()[ri]
    mine.update({c + "_c": persons[src].to_numpy()[ri] for c, src in (("k", "k"), ("kn", "kn"), ("b", "b"),
                                                                      ("s", "s"), ("hh", "household_number"))})
    return pd.DataFrame(mine)


def _review_pass(recs: pd.DataFrame, registry: pd.DataFrame, pair_key: Callable[[str], str],
                 decisions: dict[str, str], ids: _Identities, files: np.ndarray,
                 lines: np.ndarray) -> tuple[pd.DataFrame, pd.Series]:
    """Pass 5: near misses of the still unlinked identities against registry persons.

    ``recs`` is ``ids.frame`` (one row per identity, labelled by its first row); ``files`` and
    ``lines`` are per row, for the item's list of rows. Accepted decisions link their identities
    in ``recs`` here. Returns the pending review items (one per identity) and, for every
    unlinked identity, the label of its item's first row.
    """
    rest = recs[recs["entity"].isna()]
    review_rows = pd.DataFrame(columns=["rec", "candidate", "score", "evidence", "pair_key", "rows"])
    group_of = pd.Series(dtype=np.int64)
    if len(rest) and len(registry):
        # One identity is scored and proposed once: a person's monthly receipts are one review
        # item, not one per receipt. Rows carrying a 宛名番号 are one identity per number (pass 6
        # makes them one person too); others per source and keys.
        ident_all = pd.Series(np.where(
            rest["resident_number"] != "", "number|" + rest["resident_number"],
            rest["source"] + "||" + rest["k"] + "|" + rest["kn"] + "|" + rest["b"] + "|" + rest["s"]
            + "|" + rest["household_number"]), index=rest.index)
        first_of = pd.Series(rest.index, index=rest.index).groupby(ident_all.to_numpy()).transform("min")
        group_of = first_of
        heads = rest.loc[pd.unique(first_of.to_numpy())]
        persons = registry.drop_duplicates(["entity", "k", "kn", "b", "s", "household_number"])
        pairs = _candidates(heads, persons)
        if len(pairs):
            scored = score_pairs(pairs)
            scored = scored[scored["score"] >= REVIEW_THRESHOLD]
            scored = scored.sort_values(["rec", "score", "entity"], ascending=[True, False, True])
            # Homonyms (same name and birth date, both registered) score alike: the item says
            # how many other persons scored as high, so the reviewer looks for them.
            top = scored["score"] == scored.groupby("rec")["score"].transform("max")
            others = scored[top].groupby("rec")["entity"].nunique() - 1
            best = scored.drop_duplicates("rec")
            ident = ident_all.loc[best["rec"]].to_numpy()
            keys = [pair_key(f"{i}>{c}") for i, c in zip(ident, best["entity"])]
            best = best.assign(pair_key=keys, decision=[decisions.get(k, "") for k in keys])
            members = pd.Series(first_of.index, index=first_of.to_numpy())
            accepted = best[best["decision"] == "accept"]
            acc_rows = members[members.index.isin(accepted["rec"])]
            recs.loc[acc_rows.to_numpy(), "entity"] = acc_rows.index.map(
                accepted.set_index("rec")["entity"]).to_numpy()
            recs.loc[acc_rows.to_numpy(), "method"] = "decision"
            pending = best[best["decision"] == ""]
            ev_cols = ["kanji_level", "kana_level", "birth_level", "sex_level", "household_level"]
            # Only the pending items' rows (most unlinked rows are in no item at all).
            mine = members[members.index.isin(pending["rec"])]
            # Every row of those identities, in row order.
            head_at = np.full(len(recs), -1, dtype=np.int64)
            head_at[recs.index.get_indexer(mine.to_numpy())] = mine.index.to_numpy()
            row_head = head_at[ids.row]
            in_item = np.flatnonzero(row_head >= 0)
            rows_of: dict = {}
            for head, f, n in zip(row_head[in_item], files[in_item], lines[in_item]):
                rows_of.setdefault(head, []).append([f, int(n)])
            number = rest.loc[pending["rec"], "resident_number"].to_numpy()
            # Levels per field (turned into Japanese sentences by ``review_reasons``), and the
            # rows of the item so that a decision moves every one of them.
            evidence = [json.dumps(dict(zip(ev_cols, lv), **({"number_level": "different"} if n else {}),
                                        **({"same_score_others": int(others[r])} if others[r] else {}),
                                        rows=rows_of[r]), ensure_ascii=False)
                        for lv, n, r in zip(pending[ev_cols].itertuples(index=False), number, pending["rec"])]
            review_rows = pd.DataFrame({"rec": pending["rec"].to_numpy(),
                                        "candidate": pending["entity"].to_numpy(),
                                        "score": pending["score"].round(2).to_numpy(),
                                        "evidence": evidence,
                                        "pair_key": pending["pair_key"].to_numpy(),
                                        "rows": [rows_of[r] for r in pending["rec"]]})
    return review_rows, group_of


def _twins(registry: pd.DataFrame) -> pd.DataFrame:
    """Twins: same household and birth date, different names — listed, never merged."""
    reg_p = registry.drop_duplicates("entity")
    # On the codes of 世帯番号 and birth date (0: empty), carrying only the entity.
    tw = reg_p.loc[(reg_p["_hh"] != 0) & (reg_p["_b"] != 0), ["entity", "_hh", "_b"]]
    tw = tw.merge(tw, on=["_hh", "_b"], suffixes=("_a", "_b"))
    tw = tw[tw["entity_a"] < tw["entity_b"]]
    return pd.DataFrame({"entity_a": tw["entity_a"], "entity_b": tw["entity_b"], "kind": "twins",
                         "detail": "同じ世帯・同じ生年月日の別人（多胎児）です。統合しません"})


def link(records: pd.DataFrame, pair_key: Callable[[str], str],
         decisions: dict[str, str] | None = None, progress: Progress | None = None) -> LinkResult:
    """Link person-bearing rows (see the module docstring).

    ``records`` has RECORD_COLUMNS plus ``move_reason``/``move_date`` for registry rows;
    ``pair_key`` turns a record identity + candidate into a stable secret key (HMAC) so that a
    data_admin's accept/reject decision (``decisions``: key → ``accept``/``reject``) applies again.
    """
    progress = ensure(progress)
    decisions = decisions or {}
    # Every pass below runs on the distinct identities (a child's many rows share one), never
    # on the rows; the rows take their identity's outcome at the end.
    ids = _identities(records)
    recs = ids.frame
    recs["entity"] = pd.Series(pd.NA, index=recs.index, dtype=object)
    recs["method"] = ""
    progress.step(0.1, "住民基本台帳の名寄せ")
    is_reg = (recs["source"] == "jumin") & (recs["resident_number"] != "")
    # Out-and-back needs each registry row's move (a number's periods), so pass 1 reads rows.
    reg_rows = np.flatnonzero(is_reg.to_numpy()[ids.row])
    reg_ids = ids.row[reg_rows]
    number_entity, oab, dups = _registry_entities(pd.DataFrame(
        {**{c: recs[c].to_numpy()[reg_ids] for c in ("resident_number", "household_number", "k", "kn", "b", "s")},
         **{c: (records[c].to_numpy()[reg_rows] if c in records.columns else None)
            for c in ("move_reason", "move_date")}}, index=reg_rows))
    # Pass 1+2: 宛名番号 (registry rows and every other row that carries a known number).
    by_number = recs["resident_number"].map(number_entity)
    known = by_number.notna()
    recs.loc[known, "entity"] = by_number[known]
    recs.loc[known & is_reg, "method"] = "registry"
    recs.loc[known & ~is_reg, "method"] = "resident_number"
    # The registry's identities in order of first row: every use below is a set (drop_duplicates,
    # merges) or takes the first occurrence, which is then the same as the first registry row.
    registry = recs[is_reg].copy()
    dup_rows = [dups]
    progress.step(0.3, "5項目・4項目照合")
    # Pass 3+4: 5 items, 4 items, and for receipts (no kana, or a kana-only name) 3 items.
    # A row with a number unknown to the registry (its own registry row quarantined, or born
    # after the extract) is not given to a namesake with another number.
    dup_rows.extend(_deterministic(recs, registry, report_ambiguous=True, numbered_rows=False))
    progress.step(0.5, "近い組み合わせの採点")
    # Pass 5: near misses against registry persons.
    review_rows, group_of = _review_pass(recs, registry, pair_key, decisions, ids,
                                         records["file"].to_numpy(), records["line"].to_numpy())
    progress.step(0.8, "新しい人の付番")
    head = group_of.reindex(recs.index)
    in_review = head.isin(review_rows["rec"]).to_numpy()
    recs.loc[in_review, "entity"] = "V:" + head[in_review].astype(np.int64).astype(str)
    recs.loc[in_review, "method"] = "review"
    # Pass 6: everybody else is a person of their own. Rows with a 宛名番号 unknown to the
    # registry (born or moved in after its extract) cluster on it; rows without one join
    # those by the same keys as above, and only then cluster on their own 4 items.
    numbered = recs["entity"].isna() & (recs["resident_number"] != "")
    recs.loc[numbered, "entity"] = "N:" + recs.loc[numbered, "resident_number"]
    recs.loc[numbered, "method"] = "new"
    others = recs[numbered]
    if len(others):
        _deterministic(recs, others, report_ambiguous=False)
    rest = recs["entity"].isna()
    left = recs[rest]
    own_key = np.where(left["resident_number"] != "", "N:" + left["resident_number"],
                       "K:" + left["k"] + "|" + left["kn"] + "|" + left["b"] + "|" + left["s"])
    recs.loc[rest, "entity"] = own_key
    recs.loc[rest, "method"] = "new"
    recs["status"] = np.where(in_review, "review",
                              np.where(recs["method"] == "new", "new", "linked")).astype(object)
    review_rows["entity"] = "V:" + review_rows["rec"].astype(str)
    dup_rows.append(_twins(registry))
    duplicates = pd.concat([d for d in dup_rows if len(d)], ignore_index=True) if any(
        len(d) for d in dup_rows) else pd.DataFrame(columns=["entity_a", "entity_b", "kind", "detail"])
    duplicates = duplicates.drop_duplicates(["entity_a", "entity_b", "kind"]).reset_index(drop=True)
    entities = _entity_table(recs)
    rows = _expand(records, ids, ["k", "kana_norm", "kn", "b", "s", "entity", "method", "status"])
    progress.step(1.0, "名寄せ完了")
    return LinkResult(rows, entities, review_rows.reset_index(drop=True), duplicates, oab)


def _entity_table(recs: pd.DataFrame) -> pd.DataFrame:
    """Long table (entity, kind, key): the link keys that identify an entity across deliveries.

    ``recs`` is the identities frame; the key texts are built once per distinct (entity, key)
    found on the integer codes, then deduplicated and sorted as texts.
    """
    ent_codes, ents = pd.factorize(recs["entity"].to_numpy())
    ents = pd.Series(np.asarray(ents, dtype=object))
    kind_of = np.select([ents.str.startswith("R:"), ents.str.startswith("V:")], ["registry", "review"],
                        default="other")
    kind = kind_of[ent_codes]
    has_rn = recs["_rn"].to_numpy() != 0
    review = kind == "review"
    name4 = _combine(*(recs[c].to_numpy() for c in ("_k", "_kn", "_b", "_s")))
    source = np.where(review, pd.factorize(recs["source"].to_numpy())[0], -1)
    codes = pd.DataFrame({"e": ent_codes, "rn": has_rn, "key": np.where(has_rn, recs["_rn"].to_numpy(), name4),
                          "src": source})
    # Registry persons are known by their numbers only (a name can be shared by a homonym).
    codes = codes[~((kind == "registry") & ~has_rn)]
    at = codes.drop_duplicates().index.to_numpy()  # positions
    one = recs.iloc[at]
    key = np.where(one["resident_number"] != "", "rn:" + one["resident_number"],
                   "nm:" + one["k"] + "|" + one["kn"] + "|" + one["b"] + "|" + one["s"])
    kind_at = kind[at]
    key = np.where(kind_at == "review", "rv:" + one["source"] + "|" + pd.Series(key, index=one.index), key)
    df = pd.DataFrame({"entity": one["entity"].to_numpy(), "kind": kind_at, "key": key})
    return df.drop_duplicates(["entity", "key"]).sort_values(["entity", "key"]).reset_index(drop=True)


ID_RANGES = {"registry": (1_000_000, 9_000_000), "other": (10_000_000, 90_000_000),
             "review": (90_000_000, 100_000_000)}


def _draw_ids(n: int, kind: str, used: set[str], rng: np.random.Generator) -> list[str]:
    """``n`` new random IDs of ``kind`` not in ``used`` (vectorised rejection sampling)."""
    lo, hi = ID_RANGES[kind]
    out: list[str] = []
    while len(out) < n:
        need = n - len(out)
        cand = pd.unique(rng.integers(lo, hi, size=int(need * 1.3) + 16).astype(str))
        cand = [c for c in cand if c not in used]
        out.extend(cand[:need])
        used.update(cand[:need])
    return out


def assign_research_ids(keys: pd.DataFrame, known: dict[str, str], taken: set[str],
                        rng: np.random.Generator) -> pd.Series:
    """research_id per entity: reuse the ID any of its keys had, else draw a new unused one.

    ``keys`` is the long (entity, kind, key) table with keys already hashed; ``known`` maps a
    hashed key → research_id from earlier deliveries. When keys of one entity knew several IDs
    (two persons of an earlier delivery now found to be one), the smallest is kept. New IDs
    are random (not sequential) so that an ID says nothing about registry order: registry
    persons 7 digits, others 8 digits (first 1–8), review records ``9`` + 7 digits.
    """
    k = keys.copy()
    k["old"] = k["key"].map(known)
    old = k["old"].fillna("")
    is_review_id = old.str.startswith("9") & (old.str.len() == 8)
    fits = (old != "") & ((k["kind"] == "review") == is_review_id)
    reused = k[fits].groupby("entity")["old"].min()
    # An old ID can serve one entity only.
    reused = reused[~reused.duplicated(keep="first")]
    ents = k.drop_duplicates("entity").set_index("entity")["kind"]
    used = set(taken) | set(known.values()) | set(reused.values)
    out = reused.to_dict()
    for kind in ("registry", "other", "review"):
        need = ents[(ents == kind) & ~ents.index.isin(reused.index)].index
        out.update(zip(need, _draw_ids(len(need), kind, used, rng)))
    return pd.Series(out, name="person_id", dtype=object)


# The review list's reasons, one Japanese sentence per field and level (the evidence JSON keeps
# the levels so that the wording can change without touching stored items).
_REASONS = {
    "kanji_level": {"exact": "漢字氏名が一致しています。",
                    "fuzzy": "漢字氏名は異体字または似た字の違いだけです（同じ字とは限りません）。",
                    "different": "漢字氏名が異なります。", "missing": "漢字氏名がないため比べていません。"},
    "kana_level": {"exact": "カナ氏名が一致しています。", "near": "カナ氏名が1文字だけ異なります。",
                   "different": "カナ氏名が異なります。", "missing": "カナ氏名がないため比べていません。"},
    "birth_level": {"exact": "生年月日が一致しています。",
                    "near": "生年月日が1桁だけ、または月と日が入れ替わって異なります。",
                    "different": "生年月日が異なります。"},
    "sex_level": {"exact": "性別が一致しています。", "different": "性別が異なります。",
                  "missing": "性別がないため比べていません。"},
    "household_level": {"exact": "世帯番号が一致しています。", "different": "世帯番号が異なります。",
                        "missing": "世帯番号がないため比べていません。"},
    "number_level": {"different": "宛名番号が候補者の番号と異なります。"},
}


def review_reasons(evidence: str) -> str:
    """The evidence of a review item as Japanese sentences: what differs first (that is what
    the reviewer must judge, and what a narrow column still shows), then what agrees."""
    try:
        ev = json.loads(evidence) if evidence else {}
    except (TypeError, ValueError):
        return str(evidence)
    agree, differ = [], []
    for fieldname, words in _REASONS.items():
        level = ev.get(fieldname)
        if level in words:
            (agree if level == "exact" else differ).append(words[level])
    if ev.get("same_score_others"):
        differ.append(f"同じ点数の候補者がほかに{ev['same_score_others']}人います（同姓同名・同じ生年月日）。"
                      "この候補者とは限りません。")
    rows = ev.get("rows") or []
    if len(rows) > 1:
        agree.append(f"同じ内容の{len(rows)}行をまとめて1件にしています。")
    return "".join(differ + agree)
