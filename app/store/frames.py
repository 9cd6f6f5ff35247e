"""Load the core frames (docs/DATA_MODEL.md) from the store for the rules engine and views.

No role checks here: ``app/store/queries/`` checks the role and then calls these. Dates come
back as ``datetime64[ns]``; ``attrs`` stays JSON text (parse only the rows you need).
"""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd

PERSON_COLUMNS = ["person_id", "kind", "sex", "birth_ym", "household_id", "district", "town",
                  "nationality", "resident_from", "resident_to", "moved_in", "mother_id"]
EVENT_COLUMNS = ["event_id", "person_id", "household_id", "date", "type", "subtype", "value_num",
                 "value_text", "attrs", "source", "source_file", "source_line", "disclosure",
                 "delivery_id"]
RELATION_COLUMNS = ["person_id", "related_id", "relation", "since", "until"]
SOURCE_COLUMNS = ["source", "as_of", "delivery_id", "department", "file_name", "rows_read",
                  "rows_imported", "rows_quarantined"]


def _query(conn, sql: str, params=(), columns: list[str] | None = None) -> pd.DataFrame:
    cur = conn.execute(sql, tuple(params))
    names = [d[0] for d in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=names).reindex(columns=columns or names)


def _in(column: str, values) -> tuple[str, list]:
    values = list(values)
    return f"{column} IN ({','.join('?' * len(values))})", values


def persons_frame(conn, districts: list[str] | None = None,
                  person_ids=None) -> pd.DataFrame:
    """Persons (analysis table). ``districts`` None = all; [] = none."""
    where, params = ["1=1"], []
    if districts is not None:
        w, p = _in("district", districts) if districts else ("0=1", [])
        where.append(w), params.extend(p)
    if person_ids is not None:
        w, p = _in("person_id", person_ids)
        where.append(w), params.extend(p)
    df = _query(conn, f"SELECT {', '.join(PERSON_COLUMNS)} FROM persons WHERE {' AND '.join(where)}",
                params, PERSON_COLUMNS)
    for c in ("resident_from", "resident_to"):
        df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
    df["moved_in"] = df["moved_in"].fillna(0).astype(bool)
    return df


def events_frame(conn, person_ids=None, types=None, sources=None) -> pd.DataFrame:
    """Events, optionally restricted to some persons, types or sources."""
    where, params = ["1=1"], []
    for column, values in (("person_id", person_ids), ("type", types), ("source", sources)):
        if values is not None:
            w, p = _in(column, values) if len(list(values)) else ("0=1", [])
            where.append(w), params.extend(p)
    df = _query(conn, f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE {' AND '.join(where)}"
                " ORDER BY person_id, date, event_id", params, EVENT_COLUMNS)
    df["date"] = pd.to_datetime(df["date"]).astype("datetime64[ns]")
    df["value_num"] = pd.to_numeric(df["value_num"]).astype(float)
    return df


# What a scoring run reads of each event (app/engine/rules/context.py): not source/delivery_id.
SCORING_EVENT_COLUMNS = ["event_id", "person_id", "household_id", "date", "type", "subtype", "value_num",
                         "value_text", "attrs", "source_file", "source_line", "disclosure"]
_CODED = ("person_id", "household_id", "type", "subtype", "value_text", "attrs", "source_file", "disclosure")
# Rows fetched as Python objects at a time: bounds the transient objects of the load (about
# 150 MB at 100,000 rows) whatever the size of the city.
CHUNK_ROWS = 100_000


def scoring_events_frame(conn, types=None, chunk_rows: int = CHUNK_ROWS) -> pd.DataFrame:
    """Events for a scoring run, in events_frame's order and values but compact: text columns
    as categoricals (a string repeated on a million rows is stored once), ``date`` as
    ``datetime64[ns]``, ``value_num``/``source_line`` as float; ``types`` None = every type.

    Read in chunks and encoded chunk by chunk, so the Python objects of the rows never exist for
    the whole table at once (at 200,000 children ~7 M rows: fetchall alone held ~5 GB)."""
    where, params = "1=1", []
    if types is not None:
        where, params = _in("type", sorted(types)) if len(list(types)) else ("0=1", [])
    # the store's attrs is NOT NULL DEFAULT '{}': most rows (vaccination, height, weight) carry
    # exactly that; returning NULL for them and filling '{}' back saves a string object per row
    cols = ", ".join("NULLIF(attrs, '{}')" if c == "attrs" else c for c in SCORING_EVENT_COLUMNS)
    cur = conn.execute(f"SELECT {cols} FROM events WHERE {where} ORDER BY person_id, date, event_id", params)
    parts: dict[str, list] = {c: [] for c in SCORING_EVENT_COLUMNS}
    gc_was_on = gc.isenabled()
    # each fetched row is a GC-tracked tuple: collections triggered by millions of them scan
    # everything alive, again and again, and find nothing to free
    gc.disable()
    try:
        while rows := cur.fetchmany(chunk_rows):
            columns = dict(zip(SCORING_EVENT_COLUMNS, zip(*rows)))
            del rows
            for c, values in columns.items():
                if c in _CODED or c == "date":
                    parts[c].append(pd.factorize(np.array(values, dtype=object)))
                elif c == "event_id":
                    parts[c].append(np.array(values, dtype="int64"))
                else:
                    parts[c].append(np.array(values, dtype="float64"))
            del columns
    finally:
        if gc_was_on:
            gc.enable()
    out = {}
    for c in SCORING_EVENT_COLUMNS:
        if c in _CODED or c == "date":
            codes, uniques = _unify(parts[c])
            if c == "date":
                days = pd.to_datetime(pd.Series(uniques, dtype=object)).astype("datetime64[ns]").to_numpy()
                out[c] = np.append(days, np.datetime64("NaT", "ns"))[codes]
            else:
                if c == "attrs":
                    uniques, codes = _fill_code(uniques, codes, "{}")
                out[c] = pd.Categorical.from_codes(codes, pd.Index(uniques, dtype=object))
        else:
            out[c] = (np.concatenate(parts[c]) if parts[c]
                      else np.array([], dtype="int64" if c == "event_id" else "float64"))
        parts[c] = []
    return pd.DataFrame(out, columns=SCORING_EVENT_COLUMNS)


def _unify(chunks: list) -> tuple[np.ndarray, np.ndarray]:
    """Per-chunk (codes, uniques) -> one code array over one array of distinct values (-1: NULL)."""
    if not chunks:
        return np.array([], dtype="int64"), np.array([], dtype=object)
    allu = np.concatenate([u for _, u in chunks]) if len(chunks) > 1 else chunks[0][1]
    ucodes, uniques = pd.factorize(allu)
    codes, start = [], 0
    for c, u in chunks:
        remap = np.append(ucodes[start:start + len(u)], -1)  # -1 (NULL) stays -1
        codes.append(remap[c])
        start += len(u)
    return np.concatenate(codes), np.asarray(uniques, dtype=object)


def _fill_code(uniques: np.ndarray, codes: np.ndarray, value: str) -> tuple[np.ndarray, np.ndarray]:
    """Replace NULL codes (-1) by the code of ``value`` (added if absent)."""
    hit = np.flatnonzero(uniques == value)
    if len(hit):
        code = int(hit[0])
    else:
        uniques, code = np.append(uniques, value).astype(object), len(uniques)
    return uniques, np.where(codes < 0, code, codes)


def relations_frame(conn, person_ids=None) -> pd.DataFrame:
    where, params = "1=1", []
    if person_ids is not None:
        where, params = _in("person_id", person_ids)
    df = _query(conn, f"SELECT {', '.join(RELATION_COLUMNS)} FROM relations WHERE {where}", params,
                RELATION_COLUMNS)
    for c in ("since", "until"):
        df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
    return df


def sources_frame(conn) -> pd.DataFrame:
    """Freshness: one row per delivered file, with its 抽出日 (as_of)."""
    df = _query(conn, f"SELECT {', '.join(SOURCE_COLUMNS)} FROM sources ORDER BY source, file_name",
                (), SOURCE_COLUMNS)
    df["as_of"] = pd.to_datetime(df["as_of"]).astype("datetime64[ns]")
    return df
