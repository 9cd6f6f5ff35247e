"""Load the core frames (docs/DATA_MODEL.md) from the store for the rules engine and views.

No role checks here: ``app/store/queries/`` checks the role and then calls these. Dates come
back as ``datetime64[ns]``; ``attrs`` stays JSON text (parse only the rows you need).
"""

from __future__ import annotations

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
