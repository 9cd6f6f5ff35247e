"""Load the core frames (docs/DATA_MODEL.md) from the store for the rules engine and views.

No role checks here: ``app/store/queries/`` checks the role and then calls these. Dates come
back as ``datetime64[ns]``; ``attrs`` stays JSON text (parse only the rows you need).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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


def _whole_table(conn, table: str, columns: list[str], numbers=(), second=None) -> pd.DataFrame:
    """Every row of ``table`` as ``SELECT columns FROM table`` gives them (rowid order), through
    read_columns: each distinct text is decoded once and shared by its rows (Python objects,
    like a row fetch, but not one per cell). At 200,000 children persons (563,530 rows):
    2.5 s through a row fetch, 1.6 s this way with a second reader; equal frames (checked)."""
    cols = read_columns(conn, table, {c: "num" if c in numbers else "text" for c in columns}, second=second)
    return pd.DataFrame({c: cols[c] if c in numbers else np.asarray(cols[c], dtype=object) for c in columns},
                        columns=columns)


def persons_frame(conn, districts: list[str] | None = None,
                  person_ids=None, second=None) -> pd.DataFrame:
    """Persons (analysis table). ``districts`` None = all; [] = none. ``second``: read_columns's
    (for the whole table)."""
    where, params = ["1=1"], []
    if districts is not None:
        w, p = _in("district", districts) if districts else ("0=1", [])
        where.append(w), params.extend(p)
    if person_ids is not None:
        w, p = _in("person_id", person_ids)
        where.append(w), params.extend(p)
    if len(where) == 1:
        df = _whole_table(conn, "persons", PERSON_COLUMNS, ("moved_in",), second)
    else:
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
    return _typed_events(_query(conn, f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE {' AND '.join(where)}"
                                " ORDER BY person_id, date, event_id", params, EVENT_COLUMNS))


def household_assistance_frame(conn, household_id: str) -> pd.DataFrame:
    """One household's public-assistance events (events_frame's columns and order), through the
    small partial index events_household_assistance: the type is written in the SQL, not bound,
    so the planner can prove the index applies."""
    return _typed_events(_query(conn, f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE type = 'public_assistance'"
                                " AND household_id = ? ORDER BY person_id, date, event_id", (household_id,),
                                EVENT_COLUMNS))


def _typed_events(df: pd.DataFrame) -> pd.DataFrame:
    df["date"] = pd.to_datetime(df["date"]).astype("datetime64[ns]")
    df["value_num"] = pd.to_numeric(df["value_num"]).astype(float)
    return df


# What a scoring run reads of each event (app/engine/rules/context.py): not source/delivery_id.
SCORING_EVENT_COLUMNS = ["event_id", "person_id", "household_id", "date", "type", "subtype", "value_num",
                         "value_text", "attrs", "source_file", "source_line", "disclosure"]
# (column, how it is read): "id" integer never NULL, "num" number or NULL, "text", "date" (text
# or NULL, as datetime64[ns]); text columns are categoricals
_SCORING_EVENT_KINDS = {"event_id": "id", "value_num": "num", "source_line": "num", "date": "date"}
# Rows read per query: bounds each query's text (~10 MB at 100,000 rows) whatever the city's size.
CHUNK_ROWS = 100_000


def scoring_events_frame(conn, types=None, chunk_rows: int = CHUNK_ROWS, only: dict | None = None,
                         second=None) -> pd.DataFrame:
    """Events for a scoring run: events_frame's rows, order and values, but compact — text
    columns as categoricals (a string repeated on a million rows is stored once), ``date`` as
    ``datetime64[ns]``, ``value_num``/``source_line`` as float; ``types`` None = every type.
    ``only``: column -> the event types whose value of that column is read (the others get ''
    or NaN, and the column costs nothing when no type needs it): scoring.columns_read.

    Read as column text rather than rows (:func:`read_columns`): at 13,913 children the row
    fetch and the encoding of its 6 M Python strings took 2.9 s of CPU, this about 1.2 s, and
    at 200,000 children the fetched rows alone held ~5 GB. ``second``: see read_columns."""
    where, params = "1=1", []
    if types is not None:
        where, params = _in("type", sorted(types)) if len(list(types)) else ("0=1", [])
    only = {c: set(t) for c, t in (only or {}).items() if c in SCORING_EVENT_COLUMNS and c not in ("event_id", "type")}
    kinds = {c: _SCORING_EVENT_KINDS.get(c, "text") for c in SCORING_EVENT_COLUMNS}
    # a column read for some types only is read in the same pass, blank for the other rows ('' or
    # NULL; also a NULL text of those types reads ''): no second pass over the rows of those types
    computed = {c: _for_types(c, kinds[c], sorted(wanted)) for c, wanted in only.items()}
    cols = read_columns(conn, "events", kinds, where, params, chunk_rows, second, computed)
    # events_frame's order (ORDER BY person_id, date, event_id): SQLite compares text by its
    # UTF-8 bytes, i.e. by code point like Python, and puts NULL dates first
    order = np.lexsort((cols["event_id"], _text_rank(cols.pop("_date_text")), _text_rank(cols["person_id"])))
    out = {}
    for c in SCORING_EVENT_COLUMNS:
        v = cols.pop(c)  # one column in two orders at a time, not the whole table
        if isinstance(v, pd.Categorical):
            out[c] = pd.Categorical.from_codes(v.codes[order], dtype=v.dtype)
        else:
            out[c] = v[order]
    return pd.DataFrame(out, columns=SCORING_EVENT_COLUMNS, copy=False)


def _for_types(column: str, kind: str, types: list[str]) -> str:
    """SQL for ``column`` on rows of ``types``, blank on the others (see scoring_events_frame)."""
    blank = "NULL" if kind == "num" else "''"
    if not types:
        return blank
    # type names come from the shipped and stored rule sets; quoted as SQL text literals
    listed = ", ".join("'" + t.replace("'", "''") + "'" for t in types)
    value = column if kind == "num" else f"ifnull({column}, '')"
    return f"CASE WHEN type IN ({listed}) THEN {value} ELSE {blank} END"


def _text_rank(values: pd.Categorical) -> np.ndarray:
    """Per row, the rank of its text among the distinct values (NULL: -1, first)."""
    cats = np.asarray(values.categories, dtype=object)
    rank = np.empty(len(cats), dtype="int64")
    rank[np.argsort(cats, kind="stable")] = np.arange(len(cats))
    return np.append(rank, -1)[values.codes]


# Ranges queried by the second thread for each one queried here (this thread also splits and
# encodes every range). The scoring load at 200,000 children, quiet: 1 → 12.5 s, 2 → 10.1–11.3 s,
# 3 → 9.9 s; at 13,913: 0.79–0.84 → 0.74–0.77 s.
SECOND_SHARE = 3
_SEP = "\x1f"  # unit separator between values of a text column (see read_columns)


def read_columns(conn, table: str, kinds: dict[str, str], where: str = "1=1", params=(),
                 chunk_rows: int = CHUNK_ROWS, second=None,
                 computed: dict[str, str] | None = None) -> dict[str, np.ndarray | pd.Categorical]:
    """Whole columns of a rowid table without a Python object per cell, range by range of
    rowids (within a range in the order SQLite scans it: rowid order unless ``where`` uses an
    index — the caller orders; all columns of a row always stay aligned).

    Each query covers a range of ``chunk_rows`` rowids and returns one text per column
    (``group_concat``), which pyarrow splits and dictionary-encodes in C at once, so only codes
    stay; NULLs come as a separate 0/1 text where the schema allows them, numbers through
    ``quote()`` (SQLite writes a REAL with the digits that read back as the same double). A
    chunk whose text contains the separator is read again row by row. ``kinds``: column ->
    "id" | "num" | "text" | "date"; a date also comes back as its text, ``_<column>_text``.

    ``computed``: name -> an SQL expression read in place of a column of that name (a text
    expression must not give NULL).

    ``second``: a callable opening another connection to the same store. A second thread then
    runs the queries of ``SECOND_SHARE`` ranges through it (its own connection, opened and closed
    on that thread) for each range this one queries: SQLite decrypting pages and concatenating
    runs without the GIL, so both cores of a terminal work. Measured at 200,000 children (7.2 M
    events, quiet machine): the scoring load 17.2 s alone → 9.9 s, memory after it +44 MB.
    """
    import pyarrow as pa

    computed = computed or {}
    not_null = {r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[3]} | set(computed)
    sql_of = {c: f"({computed[c]})" if c in computed else c for c in kinds}
    exprs = ["count(*)"]
    for name, kind in kinds.items():
        c = sql_of[name]
        if kind == "id":
            exprs.append(f"CAST(group_concat({c}, ',') AS BLOB)")
        elif kind == "num":
            exprs.append(f"CAST(group_concat(quote({c}), ',') AS BLOB)")
        else:
            # the NULL marks only where the schema allows NULL (each extra text costs a pass)
            exprs += [f"CAST(group_concat(ifnull({c}, ''), char(31)) AS BLOB)",
                      "''" if name in not_null else f"group_concat({c} IS NULL, '')"]
    sql = f"SELECT {', '.join(exprs)} FROM {table} WHERE rowid >= ? AND rowid < ? AND ({where})"
    ranges = list(_rowid_ranges(conn, table, chunk_rows))

    def fetch(c, rows: tuple[int, int]):
        return c.execute(sql, (*rows, *params)).fetchone()

    def encode(row, rows: tuple[int, int]) -> dict:
        n, values = row[0], iter(row[1:])
        if n == 0:
            return {}
        got = {col: (_split(pa, next(values), ",") if kind in ("id", "num")
                     else (_split(pa, next(values), _SEP), next(values))) for col, kind in kinds.items()}
        if any(len(v if isinstance(v, pa.Array) else v[0]) != n for v in got.values()):
            got = _chunk_by_rows(pa, conn, table, kinds, sql_of, where, params, *rows)
        return {col: _encode(pa, kind, got[col]) for col, kind in kinds.items()}

    parts = []
    if second is not None and len(ranges) > 1:
        # The second thread only runs queries: everything Arrow allocates stays on this thread.
        # (When that thread split and encoded its ranges too, Arrow's mimalloc heap of the
        # finished thread kept ~400 MB that release_unused, called here, cannot free: 200,000
        # children, peak 3.57 → 4.0 GB.) At most SECOND_SHARE fetched ranges wait here.
        step = 1 + SECOND_SHARE
        with ThreadPoolExecutor(1, thread_name_prefix="read-columns") as pool:
            other = pool.submit(second).result()
            try:
                for k in range(0, len(ranges), step):
                    theirs = [(r, pool.submit(fetch, other, r)) for r in ranges[k + 1:k + step]]
                    parts.append(encode(fetch(conn, ranges[k]), ranges[k]))
                    parts.extend(encode(got.result(), r) for r, got in theirs)
            finally:
                pool.submit(other.close).result()
    else:
        parts = [encode(fetch(conn, rows), rows) for rows in ranges]
    chunks = {c: [p[c] for p in parts if p] for c in kinds}
    del parts
    out = {k: v for c, kind in kinds.items() for k, v in _column(pa, c, kind, chunks[c]).items()}
    del chunks
    # Arrow's allocator keeps freed blocks for reuse by Arrow; nothing else would reuse them
    pa.default_memory_pool().release_unused()
    return out


def _rowid_ranges(conn, table: str, rows: int):
    """[start, stop) rowid ranges of at most ``rows`` rows each, each starting at a rowid that
    exists (rowids may have gaps: deletions; a gap makes a range hold fewer rows, never more).

    Each range costs one seek, not a walk: the former ``LIMIT 1 OFFSET rows`` stepped over
    every row once more (2.2 s of a 200,000-child scoring run)."""
    start = conn.execute(f"SELECT min(rowid) FROM {table}").fetchone()[0]
    while start is not None:
        stop = start + rows
        yield start, stop
        start = conn.execute(f"SELECT min(rowid) FROM {table} WHERE rowid >= ?", (stop,)).fetchone()[0]


def _split(pa, blob: bytes | None, sep: str):
    import pyarrow.compute as pc

    return pc.split_pattern(pa.array([blob or b""], pa.large_binary()), sep).flatten()


def _chunk_by_rows(pa, conn, table, kinds, sql_of, where, params, start, stop) -> dict:
    """The same chunk through an ordinary row fetch (a value contained a separator)."""
    cur = conn.execute(f"SELECT {', '.join(sql_of[c] for c in kinds)} FROM {table}"
                       f" WHERE rowid >= ? AND rowid < ? AND ({where})",
                       (start, stop, *params))
    columns = list(zip(*cur.fetchall()))
    got = {}
    for (c, kind), values in zip(kinds.items(), columns):
        if kind in ("id", "num"):
            # as quote() would write them
            text = ["NULL" if v is None else repr(v) if isinstance(v, float) else
                    "'" + v.replace("'", "''") + "'" if isinstance(v, str) else str(v) for v in values]
            got[c] = pa.array(text, pa.large_binary())
        else:
            got[c] = (pa.array(["" if v is None else v for v in values], pa.large_string()).cast(pa.large_binary()),
                      "".join("1" if v is None else "0" for v in values))
    return got


def _encode(pa, kind: str, part):
    """One chunk of one column -> numbers, or (dictionary codes, NULL mask)."""
    import pyarrow.compute as pc

    if kind == "id":
        return part.cast(pa.large_string()).cast(pa.int64()).to_numpy()
    if kind == "num":
        text = part.cast(pa.large_string())
        # quote() gives NULL, an integer or a REAL's round-trip digits (Arrow parses them to the
        # nearest double, exactly); a quoted text is a text in a numeric column: as pd.to_numeric
        try:
            return pc.if_else(pc.equal(text, "NULL"), pa.scalar(None, pa.large_string()),
                              text).cast(pa.float64()).to_numpy(zero_copy_only=False).astype("float64")
        except pa.ArrowInvalid:
            obj = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
            obj = obj.where(obj != "NULL").str.replace(r"^'(.*)'$", r"\1", regex=True).str.replace("''", "'")
            return pd.to_numeric(obj, errors="coerce").to_numpy(dtype="float64")
    text, marks = part
    null = (np.frombuffer(marks.encode(), dtype=np.uint8) == ord("1")) if marks else np.zeros(len(text), bool)
    return text.cast(pa.large_string()).dictionary_encode(), null


def _column(pa, name: str, kind: str, parts: list) -> dict:
    """One column's encoded chunks -> a numpy array (numbers, dates) or a Categorical (text)."""
    if kind in ("id", "num"):
        return {name: np.concatenate(parts) if parts else np.zeros(0, "int64" if kind == "id" else "float64")}
    if parts:
        encoded = pa.chunked_array([p[0] for p in parts]).unify_dictionaries().combine_chunks()
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype("int32")
        codes[np.concatenate([p[1] for p in parts])] = -1
        cats = pd.Index(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    else:
        codes, cats = np.zeros(0, "int32"), pd.Index([], dtype=object)
    values = pd.Categorical.from_codes(codes, categories=cats)
    if kind != "date":
        return {name: values}
    days = pd.to_datetime(pd.Series(np.asarray(cats, dtype=object)), format="ISO8601").astype("datetime64[ns]")
    return {name: np.append(days.to_numpy(), np.datetime64("NaT", "ns"))[codes], f"_{name}_text": values}


def relations_frame(conn, person_ids=None) -> pd.DataFrame:
    # (through _whole_table the 1.2 M relations of 200,000 children took as long: 1.4 s, few
    # repeated texts to share)
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
