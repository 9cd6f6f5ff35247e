"""Rule sets compiled to SQL and run on DuckDB: the prefecture-wide calibration path (issue 18).

The terminal evaluates rules with pandas (``app.engine.rules.evaluators``). Calibrating thresholds
on many cities' pseudonymised events is an analysis job for one large machine; there the same
declarative rules are compiled to SQL and run by DuckDB (columnar, vectorised, multi-threaded,
reading Parquet). This module is that compiler and a runner:

* :func:`compile_ruleset` turns a :class:`RuleSet` into SQL text (pure Python, no DuckDB needed);
* :func:`evaluate_frames` runs it over the same persons/events/relations frames the pandas engine
  gets; :func:`evaluate_parquet` over Parquet files of them (what a prefecture would receive).

It computes, per rule, the flag and the value the threshold was compared with — what calibration
needs — with the pandas engine's semantics (ages, subjects, windows, NaN never meets a condition).
It does **not** build reasons, evidence rows, scores or validation: those stay in the terminal.

Compiled: ``events`` (every aggregate, subject, row filter, window and age option),
``cumulative_count``, ``checkup_by_age``, ``due_checkups``, ``young_mother``, ``growth`` (z-scores,
percentiles, Kaup index and band, 幼児肥満度, the fall of weight z; the 2023 reference is written
into the SQL), ``cohort_percentile`` (report ④, on the growth curve or within the cohort),
``vaccine_schedule`` (the schedule written into the SQL, one status per child and vaccine as
``vaccination.judge``) and ``combine``. Percentiles on the growth curve are compared in z-space
(DuckDB has no normal CDF) and turned back into percentiles with scipy's ``ndtr`` after the fetch.
Reported per rule in ``not_compiled`` with the reason, never skipped silently: a percentile
compared with ``==``/``!=``/``in``, a ``combine`` rule over an uncompiled rule, a rule whose regex
has no RE2 equivalent, a text column compared with a number, and any kind listed in
``NOT_COMPILED`` (none today).

DuckDB is imported inside the functions that run SQL, so the application runs without it
(it is in the ``scale`` and ``test`` extras).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.engine.rules import ages
from app.engine.rules.context import MAX_AGE_MONTHS
from app.engine.rules.model import Rule, RuleSet, _ranges, age_ranges_of

# Kinds left to pandas, and why (shown in every result that meets one). Empty: every kind has a
# translation; the options that have none are named per rule when the rule set is compiled.
NOT_COMPILED: dict[str, str] = {}
# Columns of the frames (docs/DATA_MODEL.md) the SQL reads; missing optional ones read as empty.
PERSON_COLUMNS = ("person_id", "birth_ym", "sex", "household_id", "mother_id", "resident_from", "resident_to",
                  "moved_in")
EVENT_COLUMNS = ("event_id", "person_id", "household_id", "date", "type", "subtype", "value_num", "value_text",
                 "attrs", "source_file", "source_line")
RELATION_COLUMNS = ("person_id", "related_id", "relation")
TEXT_COLUMNS = {"subtype", "value_text"}


class NotCompiled(Exception):
    """A rule (or part of one) with no SQL translation here; the message says why."""


# -- literals, comparisons, regexes --------------------------------------------------------------

def _lit(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotCompiled(f"値 {value!r} はSQLの数値にできません")
        # a bare 0.1 is a DECIMAL in DuckDB; through the string it is the very double Python holds
        return f"CAST('{value!r}' AS DOUBLE)"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise NotCompiled(f"値 {value!r} はSQLのリテラルにできません")


def _check_type(thr, text: bool, where: str) -> None:
    # pandas compares a text column with a number as never equal; rather than mimic that quirk, say so
    values = thr if isinstance(thr, list) else [thr]
    for v in values:
        if text != isinstance(v, str) or isinstance(v, bool):
            raise NotCompiled(f"{where}: {'文字列' if text else '数値'}の列を {v!r} と比較する条件は未対応")


def sql_compare(expr: str, op: str, thr, text: bool = False, where: str = "") -> str:
    """``compare`` of the evaluators as SQL: always TRUE/FALSE, a NULL never meets a condition."""
    _check_type(thr, text, where or expr)
    if op in ("in", "not_in"):
        cond = f"{expr} {'IN' if op == 'in' else 'NOT IN'} ({', '.join(_lit(v) for v in thr)})"
    elif op == "between":
        cond = f"{expr} BETWEEN {_lit(thr[0])} AND {_lit(thr[1])}"
    else:
        sql_op = {">=": ">=", ">": ">", "<=": "<=", "<": "<", "==": "=", "!=": "<>"}[op]
        cond = f"{expr} {sql_op} {_lit(thr)}"
    return f"coalesce({cond}, FALSE)"


# Python's str patterns are Unicode-aware; RE2 (DuckDB) classes are ASCII. Translated to the
# Unicode classes Python uses so a full-width digit or an ideographic space match the same way.
_PY_SPACE = r"\t\n\x{0B}\f\r\x{1C}-\x{1F} \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}"
_CLASS_IN = {"d": r"\p{Nd}", "D": r"\P{Nd}", "s": _PY_SPACE, "w": r"\p{L}\p{N}_"}
_CLASS_OUT = {"d": r"\p{Nd}", "D": r"\P{Nd}", "s": f"[{_PY_SPACE}]", "S": f"[^{_PY_SPACE}]",
              "w": r"[\p{L}\p{N}_]", "W": r"[^\p{L}\p{N}_]"}
_CONTROL = {"n": 0x0A, "t": 0x09, "r": 0x0D, "f": 0x0C, "v": 0x0B, "a": 0x07}


def re2_pattern(pattern: str, search: bool = True) -> str:
    """A Python ``re`` pattern as an RE2 pattern with the same matches, or :class:`NotCompiled`.

    ``search``: the pattern is only tested for a match (``str.contains``), so ``$`` may consume
    the optional final newline Python's ``$`` allows."""
    if pattern == "(?!)":  # the engine's "matches nothing" (an empty code list)
        return ""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= len(pattern):
                raise NotCompiled(f"正規表現 {pattern!r}: 末尾の \\")
            nxt = pattern[i + 1]
            i += 2
            if nxt in _CLASS_IN and in_class:
                out.append(_CLASS_IN[nxt])
            elif nxt in _CLASS_OUT and not in_class:
                out.append(_CLASS_OUT[nxt])
            elif nxt in _CONTROL:
                out.append(f"\\x{{{_CONTROL[nxt]:X}}}")
            elif nxt == "A" and not in_class:
                out.append(r"\A")
            elif nxt == "Z" and not in_class:
                out.append(r"\z")
            elif nxt == "x":
                out.append(r"\x")  # \xhh: the same in RE2
            elif nxt == "u" and len(pattern) >= i + 4:
                out.append(f"\\x{{{pattern[i:i + 4]}}}")
                i += 4
            elif nxt.isascii() and nxt.isalnum():
                raise NotCompiled(f"正規表現 {pattern!r}: \\{nxt} はRE2で同じ意味にならないため未対応")
            else:
                out.append(f"\\x{{{ord(nxt):X}}}")
            continue
        if in_class:
            if ch == "]":  # a leading ] was taken as a literal when the class opened
                in_class = False
            elif ch == "[" and pattern[i:i + 2] == "[:":
                raise NotCompiled(f"正規表現 {pattern!r}: 文字クラス内の [: は未対応")
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            neg = pattern[i + 1:i + 2] == "^"
            out.append("[^" if neg else "[")
            i += 2 if neg else 1
            in_class = True
            if pattern[i:i + 1] == "]":  # a leading ] is a literal in Python
                out.append(r"\x{5D}")
                i += 1
            continue
        if ch == "(" and pattern[i + 1:i + 2] == "?":
            rest = pattern[i + 2:i + 4]
            if not (rest.startswith(":") or rest.startswith("P<") or rest[:1] in ("i", "s", "m")):
                raise NotCompiled(f"正規表現 {pattern!r}: (?{rest[:1]} はRE2にないため未対応")
        if ch == "$":
            if not search:
                raise NotCompiled(f"正規表現 {pattern!r}: $ は抽出では未対応")
            out.append(r"\n?\z")
            i += 1
            continue
        out.append(ch)
        i += 1
    if in_class:
        raise NotCompiled(f"正規表現 {pattern!r}: 閉じていない [")
    return "".join(out)


def _regex_matches(col: str, pattern: str) -> str:
    re2 = re2_pattern(pattern)
    return "FALSE" if re2 == "" else f"regexp_matches({col}, {_lit(re2)})"


def _regex_number(col: str, pattern: str) -> str:
    """A number extracted by a capture group, as pandas' to_numeric(errors='coerce') reads it."""
    raw = f"nullif(regexp_extract({col}, {_lit(re2_pattern(pattern, search=False))}, 1), '')"
    return f"(CASE {raw} WHEN 'true' THEN 1.0 WHEN 'false' THEN 0.0 ELSE TRY_CAST({raw} AS DOUBLE) END)"


def _age_mask(ranges, col: str = "c.age") -> str:
    if not ranges:
        return "TRUE"
    return "(" + " OR ".join(f"{col} BETWEEN {lo} AND {hi}" for lo, hi in ranges) + ")"


# -- the shared tables ---------------------------------------------------------------------------

def _col(cols: set[str], name: str, default: str = "NULL", alias: str | None = None) -> str:
    return f"{name if name in cols else default} AS {alias or name}"


def prelude_sql(as_of, cols: dict[str, set[str]], types: list[str], need_attrs: bool,
                subjects: set[str], needs: frozenset = frozenset()) -> list[str]:
    """Statements building ``persons_n``, ``children``, ``ev`` and the subject links, once per run.

    Same choices as EvalContext: children are resident on the as-of date and aged 0–83 calendar
    months; resident_from counts only for a move-in; events are those dated on or before the date."""
    as_of = pd.Timestamp(as_of).normalize()
    as_of_sql = f"TIMESTAMP '{as_of:%Y-%m-%d %H:%M:%S}'"
    as_of_idx = ages.ym_index_of(as_of)
    p, e = cols["persons"], cols["events"]
    y, m = "TRY_CAST(substr(CAST(birth_ym AS VARCHAR), 1, 4) AS DOUBLE)", \
        "TRY_CAST(substr(CAST(birth_ym AS VARCHAR), 6, 2) AS DOUBLE)"
    stmts = [
        f"""CREATE OR REPLACE TEMP TABLE persons_n AS SELECT CAST(person_id AS VARCHAR) AS person_id,
            CASE WHEN {m} BETWEEN 1 AND 12 THEN {y} * 12 + {m} - 1 END AS birth_idx,
            coalesce(CAST({'household_id' if 'household_id' in p else 'NULL'} AS VARCHAR), '') AS household_id,
            coalesce(CAST({'mother_id' if 'mother_id' in p else 'NULL'} AS VARCHAR), '') AS mother_id,
            coalesce(CAST({'sex' if 'sex' in p else 'NULL'} AS VARCHAR), '') AS sex,
            {_col(p, 'resident_from')}, {_col(p, 'resident_to')}, {_col(p, 'moved_in', 'FALSE')}
            FROM src_persons""",
        f"""CREATE OR REPLACE TEMP TABLE children AS SELECT person_id, birth_idx,
            {as_of_idx} - birth_idx AS age, household_id, mother_id, sex,
            CASE WHEN coalesce(moved_in, FALSE) AND resident_from IS NOT NULL
                 THEN year(resident_from) * 12 + month(resident_from) - 1 END AS rf_idx
            FROM persons_n
            WHERE (resident_to IS NULL OR resident_to > {as_of_sql})
              AND {as_of_idx} - birth_idx BETWEEN 0 AND {MAX_AGE_MONTHS}""",
    ]
    attrs = "coalesce(CAST(attrs AS VARCHAR), '')" if need_attrs and "attrs" in e else "''"
    text = {c: f"coalesce(CAST({c} AS VARCHAR), '')" if c in e else "''"
            for c in ("household_id", "subtype", "value_text", "source_file")}
    # a measurement's checkup is found by its source line (cohort_percentile only)
    source = (f", {text['source_file']} AS source_file, "
              f"{'TRY_CAST(source_line AS DOUBLE)' if 'source_line' in e else 'NULL::DOUBLE'} AS source_line"
              if "source" in needs else "")
    # only the event types some compiled rule reads are kept: the rest never reach a rule
    stmts.append(f"""CREATE OR REPLACE TEMP TABLE ev AS SELECT CAST(event_id AS BIGINT) AS event_id,
        CAST(person_id AS VARCHAR) AS person_id, {text['household_id']} AS household_id,
        CAST(date AS TIMESTAMP) AS date, year(date) * 12 + month(date) - 1 AS midx, CAST(type AS VARCHAR) AS type,
        {text['subtype']} AS subtype, TRY_CAST(value_num AS DOUBLE) AS value_num, {text['value_text']} AS value_text,
        {attrs} AS attrs{source}
        FROM src_events
        WHERE date IS NOT NULL AND date <= {as_of_sql} AND type IN ({', '.join(_lit(t) for t in types) or "''"})""")
    stmts += _link_sql(subjects, cols["relations"])
    if needs & {"reference", "measurements"}:
        stmts += growth_prelude_sql(measurements="measurements" in needs)
    graces = {int(n.split(":")[1]) for n in needs if n.startswith("vaccine:")}
    if graces:
        stmts += vaccine_prelude_sql(as_of_idx, graces)
    return stmts


def _link_sql(subjects: set[str], rcols: set[str]) -> list[str]:
    """(person_id of the child, subject_id) pairs for mother, guardians and siblings (EvalContext.link)."""
    rel = ("(SELECT CAST(person_id AS VARCHAR) AS person_id, CAST(related_id AS VARCHAR) AS related_id, "
           "CAST(relation AS VARCHAR) AS relation FROM src_relations)") if rcols else \
        "(SELECT NULL::VARCHAR AS person_id, NULL::VARCHAR AS related_id, NULL::VARCHAR AS relation WHERE FALSE)"

    def from_relations(kinds):
        return (f"SELECT r.person_id, r.related_id AS subject_id FROM {rel} r JOIN children c "
                f"ON c.person_id = r.person_id WHERE r.relation IN ({', '.join(_lit(k) for k in kinds)})")

    out = []
    if subjects & {"mother", "guardians"}:
        out.append("CREATE OR REPLACE TEMP TABLE link_mother AS SELECT DISTINCT person_id, subject_id FROM ("
                   "SELECT person_id, mother_id AS subject_id FROM children WHERE mother_id <> '' "
                   f"UNION ALL {from_relations(['mother'])})")
    if "guardians" in subjects:
        out.append("CREATE OR REPLACE TEMP TABLE link_guardians AS SELECT DISTINCT person_id, subject_id FROM ("
                   f"SELECT person_id, subject_id FROM link_mother UNION ALL {from_relations(['father', 'guardian'])})")
    if "siblings" in subjects:
        # same mother (any age, anyone in persons) or a sibling relation; never the child itself
        out.append("CREATE OR REPLACE TEMP TABLE link_siblings AS SELECT DISTINCT person_id, subject_id FROM ("
                   f"{from_relations(['sibling'])} UNION ALL "
                   "SELECT c.person_id, p.person_id AS subject_id FROM children c JOIN persons_n p "
                   "ON p.mother_id = c.mother_id WHERE c.mother_id <> '') WHERE subject_id <> person_id")
    return out


# -- one rule each ---------------------------------------------------------------------------------

def _linked_from(subject: str) -> str:
    """Events belonging to each child through ``subject`` (EvalContext.linked): aliases e, c."""
    if subject == "self":
        return "ev e JOIN children c ON c.person_id = e.person_id"
    if subject == "household":
        return "ev e JOIN children c ON c.household_id = e.household_id AND e.household_id <> ''"
    return (f"ev e JOIN link_{subject} l ON l.subject_id = e.person_id "
            "JOIN children c ON c.person_id = l.person_id")


def _where_sql(where: dict | None, rule_id: str) -> list[str]:
    """The row filters of ``apply_where`` as SQL conditions on ``e``."""
    conds = []
    for key, cond in (where or {}).items():
        if key == "attrs_regex":
            conds.append(_regex_matches("e.attrs", cond))
        elif key == "code_list":
            from app.engine.reference.receipts import CODE_LISTS
            conds.append(_regex_matches("e.attrs", CODE_LISTS[cond]()))
        elif key == "attr_num":
            pat = rf'"{cond["key"]}"\s*:\s*"?(-?[\d.]+|true|false)'
            conds.append(sql_compare(_regex_number("e.attrs", pat), cond["op"], cond["value"], where=rule_id))
        elif key == "attr_item":
            pat = (rf'"{cond["key"]}"\s*:\s*\[' + r"(?:\s*[^,\]]*,)" + "{" + str(int(cond["index"]) - 1) + "}"
                   + r"\s*(-?[\d.]+)")
            conds.append(sql_compare(_regex_number("e.attrs", pat), cond["op"], cond["value"], where=rule_id))
        else:
            conds.append(sql_compare(f"e.{key}", cond["op"], cond["value"], text=key in TEXT_COLUMNS,
                                     where=f"{rule_id}: where.{key}"))
    return conds


def _events_filter(rule: Rule, as_of_idx: int, types=None, subject=None, where=True) -> str:
    """SELECT of the rows an ``events`` rule reads, after every row filter (f in the rule's SQL)."""
    subject = subject or rule.get("subject", "self")
    types = types or rule.get("event_types")
    conds = [f"e.type IN ({', '.join(_lit(t) for t in types)})"]
    if where:
        conds += _where_sql(rule.get("where"), rule.id)
    if rule.get("window_months") is not None:
        conds.append(f"e.midx > {as_of_idx - int(rule.get('window_months'))}")
    for key, scale in (("age_at_event_months", 1), ("age_at_event_years", 12)):
        if rule.get(key) is not None:
            conds.append(_age_mask(_ranges(rule.get(key), key, rule.id, scale), "(e.midx - c.birth_idx)"))
    if rule.get("for_child"):
        child_id = _lit(re2_pattern(r'"child_id"\s*:\s*"?([0-9A-Za-z]+)', search=False))
        named = f"nullif(regexp_extract(e.attrs, {child_id}, 1), '')"
        conds.append(f"coalesce({named} = c.person_id, FALSE)")
    if rule.get("since_resident"):
        conds.append("(c.rf_idx IS NULL OR e.midx >= c.rf_idx)")
    return (f"SELECT c.person_id, e.event_id, e.date, e.midx, e.subtype, e.value_num, e.value_text, c.rf_idx "
            f"FROM {_linked_from(subject)} WHERE {' AND '.join(conds)}")


def _latest(source: str) -> str:
    # the last row per child by (date, event_id), as the pandas engine's sort + keep="last"
    return (f"SELECT * FROM ({source}) QUALIFY row_number() OVER "
            "(PARTITION BY person_id ORDER BY date DESC, event_id DESC) = 1")


def rule_events(rule: Rule, as_of_idx: int) -> str:
    """``events``: aggregate count/sum/max/min/latest compared with the threshold (eval_events)."""
    agg = rule.get("aggregate") or {"fn": "count", "op": ">=", "value": 1}
    fn, op, thr = agg["fn"], agg["op"], agg["value"]
    f = _events_filter(rule, as_of_idx)
    if fn == "latest":
        textual = isinstance(thr, str) or (isinstance(thr, list) and thr and isinstance(thr[0], str))
        col = "a.value_text" if textual else "a.value_num"
        cond = sql_compare(col, op, thr, text=textual, where=f"{rule.id}: aggregate")
        value = f"CASE WHEN a.person_id IS NOT NULL THEN CAST({cond} AS DOUBLE) END" if textual else col
        return _rule_select(rule, f"WITH a AS ({_latest(f)})", value, cond)
    if fn in ("count", "sum"):
        v = "count(*)" if fn == "count" else "sum(coalesce(value_num, 0))"
        value = "coalesce(a.v, 0)"
        # a child with no row never meets a count/sum condition (not even "== 0")
        cond = f"(a.n > 0 AND {sql_compare('a.v', op, thr, where=f'{rule.id}: aggregate')})"
    else:
        v = f"{fn}(value_num)"
        value = "a.v"
        cond = sql_compare("a.v", op, thr, where=f"{rule.id}: aggregate")
    return _rule_select(rule, f"WITH a AS (SELECT person_id, count(*) AS n, CAST({v} AS DOUBLE) AS v "
                              f"FROM ({f}) GROUP BY person_id)", value, f"coalesce({cond}, FALSE)")


def _rule_select(rule: Rule, with_sql: str, value: str, flag: str, joins: str = "LEFT JOIN a USING (person_id)") -> str:
    """The rule's table: every child, the value its threshold compared, the flag within the age band."""
    return (f"{with_sql} SELECT c.person_id, CAST({value} AS DOUBLE) AS value, "
            f"({flag}) AND {_age_mask(rule.age_ranges)} AS flag FROM children c {joins}")


def _bands(rule: Rule):
    return [(age_ranges_of(b, rule.id), b) for b in rule.get("band", [])]


def rule_cumulative_count(rule: Rule, as_of_idx: int) -> str:
    """``cumulative_count``: events counted up to now, per age band a set of counts or a bound."""
    f = _events_filter(rule, as_of_idx, subject="self")
    n = "coalesce(a.n, 0)"
    parts = []
    for ranges, band in _bands(rule):
        if "counts_in" in band:
            cond = f"{n} IN ({', '.join(_lit(v) for v in band['counts_in'])})"
        else:
            cond = sql_compare(n, band["op"], band["value"], where=rule.id)
        parts.append(f"({_age_mask(ranges)} AND {cond})")
    return _rule_select(rule, f"WITH a AS (SELECT person_id, count(*) AS n FROM ({f}) GROUP BY person_id)",
                        n, " OR ".join(parts) or "FALSE")


def rule_checkup_by_age(rule: Rule, as_of_idx: int) -> str:
    """``checkup_by_age``: per band the latest attended checkup of its kinds; result ≥ value, or none."""
    f = _events_filter(rule, as_of_idx, subject="self", where=False)
    ctes, joins, flags, values = [], [], [], []
    for k, (ranges, band) in enumerate(_bands(rule)):
        kinds = band["subtype"] if isinstance(band["subtype"], list) else [band["subtype"]]
        att = f + f" AND e.subtype IN ({', '.join(_lit(s) for s in kinds)}) AND e.value_text = 'attended'"
        ctes.append(f"b{k} AS ({_latest(att)})")
        joins.append(f"LEFT JOIN b{k} ON b{k}.person_id = c.person_id")
        v = f"coalesce(b{k}.value_num, 0)"
        cond = f"CASE WHEN b{k}.person_id IS NOT NULL THEN {v} >= {_lit(band.get('value_at_least', 1))} ELSE FALSE END"
        if band.get("flag_if_absent", False):
            cond = f"({cond} OR b{k}.person_id IS NULL)"
        flags.append(f"({_age_mask(ranges)} AND {cond})")
        values.append((ranges, f"CASE WHEN b{k}.person_id IS NOT NULL THEN {v} END"))
    # value: the last band containing the child's age wins (np.where in band order)
    value = "CASE " + " ".join(f"WHEN {_age_mask(r)} THEN {v}" for r, v in reversed(values)) + " END" \
        if values else "NULL"
    return _rule_select(rule, "WITH " + ", ".join(ctes) if ctes else "", value, " OR ".join(flags) or "FALSE",
                        joins=" ".join(joins))


def rule_due_checkups(rule: Rule, as_of_idx: int) -> str:
    """``due_checkups``: each due checkup missed (a ``missed`` record since residence, or no record
    although its window closed, surely and while resident) — eval_due_checkups."""
    f = _events_filter(rule, as_of_idx, types=rule.get("event_types", ["checkup"]), subject="self", where=False)
    grace = int(rule.get("grace_months", 1))
    kinds = rule.get("kinds")
    aggs, missed = [], []
    for k, d in enumerate(x for x in rule.get("due") if not kinds or x["subtype"] in kinds):
        st = _lit(d["subtype"])
        aggs.append(f"bool_or(subtype = {st} AND value_text = 'attended') AS att{k}, "
                    f"bool_or(subtype = {st} AND value_text = 'missed' AND (rf_idx IS NULL OR midx >= rf_idx)) AS mis{k}")
        end = f"(c.birth_idx + {int(d['to_months'])})"
        no_record = (f"({as_of_idx} >= {end} + {grace + 1} AND (c.rf_idx IS NULL OR {end} >= c.rf_idx) "
                     f"AND NOT coalesce(a.att{k}, FALSE) AND NOT coalesce(a.mis{k}, FALSE))")
        missed.append(f"CAST(coalesce(a.mis{k}, FALSE) OR {no_record} AS INTEGER)")
    if not aggs:
        return _rule_select(rule, "", "0", "FALSE", joins="")
    count = " + ".join(missed)
    return _rule_select(rule, f"WITH a AS (SELECT person_id, {', '.join(aggs)} FROM ({f}) GROUP BY person_id)",
                        count, f"({count}) >= 1")


def rule_young_mother(rule: Rule, as_of_idx: int) -> str:
    """``young_mother``: the youngest known mother's age at the birth, in whole years."""
    thr = int(rule.get("max_age_years", 19))
    return _rule_select(rule, "WITH a AS (SELECT l.person_id, min(floor((c.birth_idx - p.birth_idx) / 12)) AS y "
                              "FROM link_mother l JOIN children c ON c.person_id = l.person_id "
                              "LEFT JOIN persons_n p ON p.person_id = l.subject_id GROUP BY l.person_id)",
                        "a.y", sql_compare("a.y", "<=", thr))


def rule_combine(rule: Rule, tables: dict[str, str]) -> str:
    """``combine``: all of / any of / none of other rules' flags (their age bands included)."""
    refs = [*rule.get("all", []), *rule.get("any", []), *rule.get("none", [])]
    alias = {rid: f"x{i}" for i, rid in enumerate(dict.fromkeys(refs))}
    parts = [f"{alias[r]}.flag" for r in rule.get("all", [])]
    if rule.get("any"):
        parts.append("(" + " OR ".join(f"{alias[r]}.flag" for r in rule.get("any")) + ")")
    parts += [f"NOT {alias[r]}.flag" for r in rule.get("none", [])]
    cond = "(" + (" AND ".join(parts) or "TRUE") + ")"
    joins = " ".join(f"JOIN {tables[r]} {a} ON {a}.person_id = c.person_id" for r, a in alias.items())
    # the value is the combination before the rule's own age band (as eval_combine passes it)
    return _rule_select(rule, "", f"CAST({cond} AS DOUBLE)", cond, joins=joins)


# -- growth against the 2023 reference (app/engine/reference/growth.py, same arithmetic) ----------

GROWTH_COLUMNS = ("height_p3", "height_p50", "height_p97", "weight_p3", "weight_p50", "weight_p97")


def _interp_sql(side: str, column: str) -> str:
    """np.interp(dec, mid-points, column) of one sex: NaN before the first mid-point, the last value
    held after it, NaN beyond the reference's end (78 months). The same operations in the same order
    as numpy (slope × (x − x0) + y0), so the doubles agree."""
    from app.engine.reference import growth as growth_ref

    end = _lit(growth_ref.reference_end_months())
    y0, y1 = f"{side}.{column}", f"{side}.{column}_next"
    return (f"CASE WHEN m.dec > {end} OR {side}.x0 IS NULL THEN NULL WHEN {side}.x1 IS NULL THEN {y0} "
            f"ELSE ({y1} - {y0}) / ({side}.x1 - {side}.x0) * (m.dec - {side}.x0) + {y0} END")


def _reference_sql() -> str:
    """growth_seg: per sex, each mid-point with the next one (x0, x1, column, column_next).

    The reference table is written into the SQL as literals (repr of the doubles pandas read), so
    the values are bit for bit the ones the pandas engine interpolates."""
    from app.engine.reference import growth as growth_ref

    ref = growth_ref.load_reference()
    cols = ["sex", "age_months", *GROWTH_COLUMNS]
    rows = ", ".join("(" + ", ".join(_lit(v) if i == 0 else _lit(float(v)) for i, v in enumerate(r)) + ")"
                     for r in ref[cols].itertuples(index=False, name=None))
    nxt = ", ".join(f"lead({c}) OVER w AS {c}_next" for c in GROWTH_COLUMNS)
    return (f"CREATE OR REPLACE TEMP TABLE growth_seg AS SELECT sex, age_months AS x0, lead(age_months) OVER w AS x1, "
            f"{', '.join(GROWTH_COLUMNS)}, {nxt} FROM (VALUES {rows}) t({', '.join(cols)}) "
            "WINDOW w AS (PARTITION BY sex ORDER BY age_months)")


def growth_prelude_sql(measurements: bool = True) -> list[str]:
    """The reference's mid-point segments per sex, and weight/height per (child, date) with the
    reference values at the measurement's decimal age (EvalContext cache "measurements")."""
    if not measurements:
        return [_reference_sql()]
    return [
        _reference_sql(),
        # weight and height per (child, date): the last record of a day (the pandas engine's
        # drop_duplicates keep="last" in event order, which is event_id order), paired by date
        """CREATE OR REPLACE TEMP TABLE meas AS
        WITH w AS (SELECT c.person_id, e.date, e.midx, e.value_num AS w, e.event_id AS wid
                   FROM ev e JOIN children c ON c.person_id = e.person_id
                   WHERE e.type = 'weight' AND e.value_num IS NOT NULL AND NOT isnan(e.value_num)
                   QUALIFY row_number() OVER (PARTITION BY c.person_id, e.date ORDER BY e.event_id DESC) = 1),
             h AS (SELECT c.person_id, e.date, e.midx, e.value_num AS h, e.event_id AS hid
                   FROM ev e JOIN children c ON c.person_id = e.person_id
                   WHERE e.type = 'height' AND e.value_num IS NOT NULL AND NOT isnan(e.value_num)
                   QUALIFY row_number() OVER (PARTITION BY c.person_id, e.date ORDER BY e.event_id DESC) = 1)
        SELECT coalesce(w.person_id, h.person_id) AS person_id, coalesce(w.date, h.date) AS date,
               coalesce(w.midx, h.midx) AS midx, w.w, h.h, w.wid, h.hid
        FROM w FULL OUTER JOIN h ON w.person_id = h.person_id AND w.date = h.date""",
        "CREATE OR REPLACE TEMP TABLE meas_ref AS " + _with_reference(
            "SELECT x.*, x.midx - c.birth_idx AS age, greatest(x.midx - c.birth_idx - 0.5, 0.0) AS dec, c.sex "
            "FROM meas x JOIN children c ON c.person_id = x.person_id"),
    ]


def _growth_measure(measure: str) -> str:
    """The measure of one row of meas_ref (growth_ref.z_scores / kaup_index / kaup_band / obesity_degree)."""
    from app.engine.reference import growth as growth_ref

    if measure in ("weight_z", "weight_z_drop", "weight_pct"):
        return _z_expr("w", "weight")  # a percentile is compared and returned as its z (see rule_growth)
    if measure in ("height_z", "height_pct"):
        return _z_expr("h", "height")
    kaup = "(w / ((h / 100.0) * (h / 100.0)))"
    if measure == "kaup":
        return kaup
    if measure == "kaup_band":
        return "CASE " + " ".join(
            f"WHEN {kaup} IS NOT NULL AND NOT isnan({kaup}) AND age BETWEEN {a} AND {b} THEN "
            f"(CASE WHEN {kaup} < {_lit(lo)} THEN -1.0 WHEN {kaup} > {_lit(hi)} THEN 1.0 ELSE 0.0 END)"
            for a, b, lo, hi in growth_ref.KAUP_BANDS) + " END"
    if measure == "obesity":
        std = "CASE sex " + " ".join(f"WHEN {_lit(sx)} THEN {_lit(a)} * (h * h) + {_lit(b)} * h + {_lit(c)}"
                                     for sx, (a, b, c) in growth_ref.OBESITY_STANDARD.items()) + " END"
        return f"CASE WHEN h >= 70 AND h <= 120 AND age >= 12 AND age < 84 THEN (w - {std}) / {std} * 100.0 END"
    raise NotCompiled(f"measure={measure} は未対応")


def rule_growth(rule: Rule, as_of_idx: int) -> str:
    """``growth``: the latest measurement's z/Kaup/肥満度 against the threshold, or the fall of
    weight z since the previous measurement (eval_growth)."""
    measure = rule.get("measure")
    x = _growth_measure(measure)
    # NaN (a class without a band, 0/0) and NULL both mean "no value", as pandas' dropna
    rows = (f"SELECT person_id, date, midx, x FROM (SELECT person_id, date, midx, ({x}) AS x FROM meas_ref "
            f"WHERE age >= {int(rule.get('min_age_months', 0))}) WHERE x IS NOT NULL AND NOT isnan(x)")
    if measure == "weight_z_drop":
        rows = (f"SELECT person_id, date, midx, lag(x) OVER (PARTITION BY person_id ORDER BY date) - x AS x "
                f"FROM ({rows})")
    last = f"SELECT * FROM ({rows}) QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY date DESC) = 1"
    if rule.get("window_months") is not None:
        last = f"SELECT * FROM ({last}) WHERE midx > {as_of_idx - int(rule.get('window_months'))}"
    value = "CASE WHEN isnan(a.x) THEN NULL ELSE a.x END"
    if measure.endswith("_pct"):
        cond = percentile_compare(value, rule.get("op"), rule.get("value"), rule.id)
    else:
        cond = sql_compare(value, rule.get("op"), rule.get("value"), where=rule.id)
    return _rule_select(rule, f"WITH a AS ({last})", value, cond)


# -- percentiles on the growth curve: compared in z-space, converted back after the fetch -------------

def _zlit(v: float) -> str:
    return f"'{'inf' if v > 0 else '-inf'}'::DOUBLE" if math.isinf(v) else _lit(float(v))


def percentile_compare(z: str, op: str, thr, where: str) -> str:
    """``pct op thr`` where pct = ndtr(z) × 100 (growth_ref.percentiles), as ``z op ndtri(thr / 100)``.

    DuckDB has no normal CDF; the CDF is monotonic, so the flag is the same except for a z within
    a rounding error of the threshold. The value (the percentile itself) is computed from the
    fetched z with scipy's ndtr, the pandas engine's own function."""
    from scipy.special import ndtri

    if op == "between":
        lo, hi = (float(ndtri(v / 100.0)) for v in thr)
        return f"coalesce({z} BETWEEN {_zlit(lo)} AND {_zlit(hi)}, FALSE)"
    if op not in (">=", ">", "<=", "<") or isinstance(thr, (str, list)):
        raise NotCompiled(f"{where}: パーセンタイルの比較 op={op} は未対応(>=, >, <=, <, between のみ)")
    return f"coalesce({z} {op} {_zlit(float(ndtri(thr / 100.0)))}, FALSE)"


def _z_expr(x: str, part: str) -> str:
    """growth_ref.z_scores: a two-piece normal around the median (the same operations)."""
    from app.engine.reference import growth as growth_ref

    z97 = _lit(growth_ref.Z97)
    p3, p50, p97 = (f"{part}_p{q}" for q in (3, 50, 97))
    return (f"CASE WHEN {x} < {p50} THEN ({x} - {p50}) / (({p50} - {p3}) / {z97}) "
            f"ELSE ({x} - {p50}) / (({p97} - {p50}) / {z97}) END")


def _with_reference(source: str, columns=GROWTH_COLUMNS) -> str:
    """Rows of ``source`` (with ``dec`` and ``sex``) plus the reference values at their decimal age."""
    return ("SELECT m.*, "
            + ", ".join(f"CASE m.sex WHEN 'M' THEN {_interp_sql('sm', col)} WHEN 'F' THEN {_interp_sql('sf', col)} "
                        f"ELSE ({_interp_sql('sm', col)} + {_interp_sql('sf', col)}) / 2 END AS {col}"
                        for col in columns)
            + f" FROM ({source}) m"
            " ASOF LEFT JOIN (SELECT * FROM growth_seg WHERE sex = 'M') sm ON m.dec >= sm.x0"
            " ASOF LEFT JOIN (SELECT * FROM growth_seg WHERE sex = 'F') sf ON m.dec >= sf.x0")


def rule_cohort_percentile(rule: Rule, as_of_idx: int) -> str:
    """``cohort_percentile`` (report ④): per band the latest measurement at one of its checkups, as a
    percentile on the growth curve (basis reference) or within the same checkup and sex (cohort)."""
    from app.engine.rules.evaluators import CHECKUP_BY_AGE

    measure = rule.get("measure", "weight")
    basis = rule.get("basis", "cohort")
    guess = "CASE " + " ".join(f"WHEN e.midx - c.birth_idx BETWEEN {lo} AND {hi} THEN {_lit(name)}"
                               for lo, hi, name in CHECKUP_BY_AGE) + " END"
    # the checkup a measurement came from: a checkup record on the same source line (the first in
    # event order), else the checkup of its age (_measurements_with_checkup)
    ms = (f"SELECT c.person_id, e.event_id, e.date, e.value_num AS x, c.sex, "
          f"greatest(e.midx - c.birth_idx - 0.5, 0.0) AS dec, coalesce(k.subtype, {guess}) AS checkup "
          f"FROM ev e JOIN children c ON c.person_id = e.person_id "
          f"LEFT JOIN (SELECT person_id, source_file, source_line, arg_min(subtype, event_id) AS subtype FROM ev "
          f"WHERE type = 'checkup' GROUP BY ALL) k ON k.person_id = e.person_id AND k.source_file = e.source_file "
          f"AND k.source_line = e.source_line "
          f"WHERE e.type = {_lit(measure)} AND e.value_num IS NOT NULL AND NOT isnan(e.value_num)")
    ms = (f"SELECT * FROM ({ms}) QUALIFY row_number() OVER (PARTITION BY person_id, checkup "
          "ORDER BY date DESC, event_id DESC) = 1")
    if basis == "reference":
        ref_cols = tuple(c for c in GROWTH_COLUMNS if c.startswith(measure))
        pct = f"SELECT *, {_z_expr('x', measure)} AS p FROM ({_with_reference(ms, ref_cols)})"
    else:
        # pandas rank(pct=True, method="average") × 100: (rank + (ties − 1) / 2) / n × 100
        pct = ("SELECT *, CASE WHEN checkup IS NOT NULL THEN (rank() OVER (PARTITION BY checkup, sex ORDER BY x) "
               "+ (count(*) OVER (PARTITION BY checkup, sex, x) - 1) / 2.0) / count(*) OVER (PARTITION BY checkup, sex) "
               f"* 100 END AS p FROM ({ms})")
    ctes, joins, flags, values = [f"ms AS ({pct})"], [], [], []
    for k, (ranges, band) in enumerate(_bands(rule)):
        ctes.append(f"b{k} AS (SELECT person_id, p FROM ms WHERE checkup IN ({', '.join(_lit(s) for s in band['checkup'])}) "
                    "QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY date DESC, event_id DESC) = 1)")
        joins.append(f"LEFT JOIN b{k} ON b{k}.person_id = c.person_id")
        p = f"CASE WHEN isnan(b{k}.p) THEN NULL ELSE b{k}.p END"
        conds = [percentile_compare(p, "between", [lo, hi], rule.id) if basis == "reference"
                 else f"coalesce({p} BETWEEN {_lit(lo)} AND {_lit(hi)}, FALSE)" for lo, hi in band["percentiles"]]
        flags.append(f"({_age_mask(ranges)} AND ({' OR '.join(conds)}))")
        values.append((ranges, p))
    value = "CASE " + " ".join(f"WHEN {_age_mask(r)} THEN {v}" for r, v in reversed(values)) + " END" \
        if values else "NULL"
    return _rule_select(rule, "WITH " + ", ".join(ctes), value, " OR ".join(flags) or "FALSE", joins=" ".join(joins))


# -- routine vaccinations against the schedule (app/engine/reference/vaccination.judge) ------------

def _vaccine_bound(age, after) -> str | None:
    """vaccination._bound: age-based and/or after the previous dose, the later of both (NULLs ignored)."""
    from app.engine.reference import vaccination as vacc

    school_march = ("((CASE WHEN c.birth_idx - floor(c.birth_idx / 12) * 12 >= 3 THEN floor(c.birth_idx / 12) + 7 "
                    "ELSE floor(c.birth_idx / 12) + 6 END) * 12 + 2)")
    parts = []
    if age == vacc.BEFORE_SCHOOL:
        parts.append(school_march)
    elif age == vacc.SCHOOL_YEAR:
        parts.append(f"({school_march} - 11)")
    elif age is not None:
        parts.append(f"(c.birth_idx + {_lit(float(age))})")
    if after is not None:
        parts.append(f"(c.prev_idx + {_lit(float(after))})")
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else f"greatest({', '.join(parts)})"


def _vaccine_status_sql(v, as_of_idx: int, grace: int) -> str:
    """One vaccine's status per child: the series by the age at the first dose, the first missing
    dose's recommended time and standard end, late / reminder / unknown before a move-in."""
    sat = ", ".join(_lit(s) for s in v.satisfied_by)
    eligible = ["s.person_id IS NULL", "c.birth_idx IS NOT NULL"]
    if v.born_from:
        eligible.append(f"c.birth_idx >= {int(ages.ym_index_from_text(pd.Series([v.born_from]))[0])}")
    if v.born_before:
        # a child born later who already has doses of this vaccine is still judged on them
        eligible.append(f"(c.birth_idx < {int(ages.ym_index_from_text(pd.Series([v.born_before]))[0])} OR cnt > 0)")
    series_k = "CASE " + " ".join(f"WHEN start_age >= {s.from_months} THEN {k}"
                                  for k, s in reversed(list(enumerate(v.series)))) + " ELSE 0 END"
    total = "CASE series_k " + " ".join(f"WHEN {k} THEN {len(s.doses)}" for k, s in enumerate(v.series)) + " END"
    rec, end = [], []
    for k, s in enumerate(v.series):
        for j, d in enumerate(s.doses):
            at = f"series_k = {k} AND nxt = {j}"
            r, e = _vaccine_bound(d.rec_age, d.rec_after), _vaccine_bound(d.end_age, d.end_after)
            rec.append(f"WHEN {at} THEN {r or 'NULL'}")
            # a bound after a missing previous dose cannot be computed: the legal end judges it
            end.append(f"WHEN {at} THEN coalesce({e or 'NULL'}, c.birth_idx + {v.legal_until_months})")
    late = f"(eligible AND NOT done AND {as_of_idx} >= end_idx + {grace + 1})"
    reminder = f"(eligible AND NOT done AND NOT {late} AND coalesce({as_of_idx} >= rec_idx + {grace + 1}, FALSE))"
    known = "(rf_idx IS NULL OR end_idx >= rf_idx)"
    status = (f"CASE WHEN NOT eligible THEN 'not_due' WHEN done THEN 'ok' WHEN {late} AND NOT {known} THEN 'unknown' "
              f"WHEN {late} AND cnt = 0 THEN 'unvaccinated' WHEN {late} THEN 'behind' WHEN {reminder} THEN 'reminder' "
              "WHEN cnt > 0 THEN 'ok' ELSE 'not_due' END")
    skip = (f"SELECT DISTINCT person_id FROM vdoses WHERE subtype IN ({', '.join(_lit(s) for s in v.skip_if_any)})"
            if v.skip_if_any else "SELECT NULL::VARCHAR AS person_id WHERE FALSE")
    base = (f"SELECT c.person_id, c.rf_idx, coalesce(d.cnt, 0) AS cnt, "
            f"coalesce(d.first_midx - c.birth_idx, greatest({as_of_idx} - c.birth_idx - 1, 0)) AS start_age, "
            f"c.birth_idx, d.last AS prev_idx, s.person_id AS skip_id "
            f"FROM children c LEFT JOIN (SELECT person_id, greatest(max(value_num), count(*)) AS cnt, "
            f"max(midx) AS last, min(midx) AS first_midx FROM vdoses WHERE subtype IN ({sat}) GROUP BY person_id) d "
            f"ON d.person_id = c.person_id LEFT JOIN ({skip}) s ON s.person_id = c.person_id")
    eligible_sql = " AND ".join(e.replace("s.person_id", "skip_id").replace("c.birth_idx", "birth_idx")
                                for e in eligible)
    step1 = f"SELECT *, {eligible_sql} AS eligible, {series_k} AS series_k FROM ({base})"
    step2 = f"SELECT *, {total} AS total FROM ({step1})"
    step3 = f"SELECT *, trunc(least(cnt, total - 1)) AS nxt, cnt >= total AS done FROM ({step2})"
    bounds = (f"SELECT *, CASE {' '.join(rec)} END AS rec_idx, CASE {' '.join(end)} END AS end_idx "
              f"FROM ({step3}) c")
    return f"SELECT person_id, {_lit(v.id)} AS vaccine, {status} AS status FROM ({bounds})"


def vaccine_prelude_sql(as_of_idx: int, graces: set[int]) -> list[str]:
    """Doses of the children, and one judgement table per grace (shared by the rules, as ctx.cache)."""
    from app.engine.reference import vaccination as vacc

    out = ["CREATE OR REPLACE TEMP TABLE vdoses AS SELECT e.person_id, e.subtype, e.value_num, e.midx "
           "FROM ev e JOIN children c ON c.person_id = e.person_id WHERE e.type = 'vaccination'"]
    for grace in sorted(graces):
        parts = " UNION ALL ".join(_vaccine_status_sql(v, as_of_idx, grace) for v in vacc.default_schedule())
        out.append(f"CREATE OR REPLACE TEMP TABLE vacc_judge_{grace} AS {parts}")
    return out


def rule_vaccine_schedule(rule: Rule, as_of_idx: int) -> str:
    """``vaccine_schedule``: vaccines in the listed statuses ≥ ``min_vaccines`` (eval_vaccine_schedule)."""
    grace = int(rule.get("grace_months", 1))
    statuses = rule.get("statuses", ["unvaccinated", "behind"])
    where = [f"status IN ({', '.join(_lit(s) for s in statuses)})"]
    if rule.get("vaccines"):
        where.append(f"vaccine IN ({', '.join(_lit(v) for v in rule.get('vaccines'))})")
    return _rule_select(rule, f"WITH a AS (SELECT person_id, count(*) AS n FROM vacc_judge_{grace} "
                              f"WHERE {' AND '.join(where)} GROUP BY person_id)",
                        "coalesce(a.n, 0)", f"coalesce(a.n, 0) >= {int(rule.get('min_vaccines', 1))}")


COMPILERS = {"events": rule_events, "cumulative_count": rule_cumulative_count,
             "checkup_by_age": rule_checkup_by_age, "due_checkups": rule_due_checkups,
             "young_mother": rule_young_mother, "growth": rule_growth, "cohort_percentile": rule_cohort_percentile,
             "vaccine_schedule": rule_vaccine_schedule}


# -- the rule set -------------------------------------------------------------------------------------

@dataclass
class CompiledRuleSet:
    """SQL of a rule set: the shared tables, then one table per compiled rule (in order)."""
    ruleset_id: str
    as_of: pd.Timestamp
    prelude: list[str]
    rules: dict[str, str]            # rule id -> SELECT (person_id, value, flag) over every child
    tables: dict[str, str]           # rule id -> its temp table
    not_compiled: dict[str, str]     # rule id -> "kind: why"
    flag_rules: list[str] = field(default_factory=list)  # compiled rules with role "flag"
    z_valued: set[str] = field(default_factory=set)  # value column holds z: percentile = ndtr(z) × 100

    def script(self) -> str:
        """All statements, readable: what a prefecture analyst would run by hand."""
        body = [s.strip() + ";" for s in self.prelude]
        body += [f"-- {rid}\nCREATE OR REPLACE TEMP TABLE {self.tables[rid]} AS {sql};" for rid, sql in self.rules.items()]
        body += [f"-- not compiled: {rid}: {why}" for rid, why in self.not_compiled.items()]
        return "\n\n".join(body)


DEFAULT_COLUMNS = {"persons": set(PERSON_COLUMNS), "events": set(EVENT_COLUMNS), "relations": set(RELATION_COLUMNS)}


def _needs_attrs(rule: Rule) -> bool:
    return bool(rule.get("for_child")) or bool(set(rule.get("where") or {}) & {"attrs_regex", "code_list", "attr_num",
                                                                               "attr_item"})


def _needs(rule: Rule) -> tuple[set[str], set[str]]:
    """(event types, shared tables) a compiled rule reads."""
    if rule.kind in ("events", "cumulative_count", "checkup_by_age"):
        return set(rule.get("event_types")), set()
    if rule.kind == "due_checkups":
        return set(rule.get("event_types", ["checkup"])), set()
    if rule.kind == "growth":
        return {"weight", "height"}, {"reference", "measurements"}
    if rule.kind == "cohort_percentile":
        return {rule.get("measure", "weight"), "checkup"}, {"reference", "source"}
    if rule.kind == "vaccine_schedule":
        return {"vaccination"}, {f"vaccine:{int(rule.get('grace_months', 1))}"}
    return set(), set()


def _z_valued(rule: Rule) -> bool:
    """Rules whose SQL value is a z that the runner turns into the percentile (see percentile_compare)."""
    return (rule.kind == "growth" and rule.get("measure", "").endswith("_pct")) or \
        (rule.kind == "cohort_percentile" and rule.get("basis", "cohort") == "reference")


def compile_ruleset(ruleset: RuleSet, as_of, columns: dict[str, set[str]] | None = None) -> CompiledRuleSet:
    """Compile every rule it can; the others are listed in ``not_compiled`` with the reason."""
    as_of = pd.Timestamp(as_of).normalize()
    as_of_idx = ages.ym_index_of(as_of)
    rules, tables, not_compiled = {}, {}, {}
    types, subjects, attrs, needs = set(), set(), False, set()
    # combine rules read the others' tables: compiled last, as the pandas engine evaluates them
    order = [r for r in ruleset.rules if r.kind != "combine"] + [r for r in ruleset.rules if r.kind == "combine"]
    for i, rule in enumerate(order):
        try:
            if rule.kind in NOT_COMPILED:
                raise NotCompiled(NOT_COMPILED[rule.kind])
            if rule.kind == "combine":
                missing = [r for r in (*rule.get("all", []), *rule.get("any", []), *rule.get("none", []))
                           if r not in tables]
                if missing:
                    raise NotCompiled(f"参照先 {', '.join(missing)} が未対応のため")
                sql = rule_combine(rule, tables)
            elif rule.kind in COMPILERS:
                sql = COMPILERS[rule.kind](rule, as_of_idx)
            else:
                raise NotCompiled("この kind のSQL変換はありません")
        except NotCompiled as exc:
            not_compiled[rule.id] = f"{rule.kind}: {exc}"
            continue
        rules[rule.id], tables[rule.id] = sql, f"r{i}"
        rule_types, rule_needs = _needs(rule)
        types |= rule_types
        needs |= rule_needs
        subjects.add("mother" if rule.kind == "young_mother" else rule.get("subject", "self"))
        attrs |= _needs_attrs(rule)
    prelude = prelude_sql(as_of, columns or DEFAULT_COLUMNS, sorted(types), attrs, subjects, frozenset(needs))
    flag_ids = [r.id for r in ruleset.rules if r.role == "flag" and r.id in rules]
    z_valued = {r.id for r in ruleset.rules if r.id in rules and _z_valued(r)}
    return CompiledRuleSet(ruleset.id, as_of, prelude, rules, tables, not_compiled, flag_ids, z_valued)


# -- running it ---------------------------------------------------------------------------------------

@dataclass
class SqlResult:
    """Flags and values of the compiled flag rules, indexed by person_id (sorted)."""
    matrix: pd.DataFrame             # bool, one column per compiled flag rule
    values: pd.DataFrame             # float, the value each threshold compared
    not_compiled: dict[str, str]
    seconds: dict[str, float]        # compile, load (shared tables), rules, fetch
    compiled: CompiledRuleSet
    threads: int = 0


def _connect(threads: int | None, memory_limit: str | None):
    import duckdb

    con = duckdb.connect(":memory:")
    # no spilling to disk: the events are person data and must not land unencrypted in a temp
    # folder; a prefecture's machine sets temp_directory to an encrypted volume instead
    con.execute("SET temp_directory = ''")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = {_lit(memory_limit)}")
    con.execute("SET preserve_insertion_order = false")
    return con


def _columns(con) -> dict[str, set[str]]:
    out = {}
    for name in ("persons", "events", "relations"):
        try:
            out[name] = {row[0] for row in con.execute(f"DESCRIBE src_{name}").fetchall()}
        except Exception:  # no relations given
            out[name] = set()
    return out


def _run(con, ruleset: RuleSet, as_of) -> SqlResult:
    t0 = time.perf_counter()
    compiled = compile_ruleset(ruleset, as_of, _columns(con))
    t1 = time.perf_counter()
    for stmt in compiled.prelude:
        con.execute(stmt)
    t2 = time.perf_counter()
    for rid, sql in compiled.rules.items():
        con.execute(f"CREATE OR REPLACE TEMP TABLE {compiled.tables[rid]} AS {sql}")
    t3 = time.perf_counter()
    ids = con.execute("SELECT person_id FROM children ORDER BY person_id").fetchnumpy()["person_id"]
    flags, values = {}, {}
    for rid in compiled.flag_rules:
        got = con.execute(f"SELECT flag, value FROM {compiled.tables[rid]} ORDER BY person_id").fetchnumpy()
        flags[rid] = np.ma.filled(got["flag"], False).astype(bool)
        values[rid] = np.ma.filled(np.ma.asarray(got["value"], dtype=float), np.nan)
        if rid in compiled.z_valued:
            from scipy.special import ndtr  # the pandas engine's own CDF, so the percentiles agree

            values[rid] = ndtr(values[rid]) * 100.0
    index = pd.Index(ids.astype(object), name="person_id")
    matrix = pd.DataFrame(flags, index=index)
    vals = pd.DataFrame(values, index=index)
    t4 = time.perf_counter()
    threads = int(con.execute("SELECT current_setting('threads')").fetchone()[0])
    return SqlResult(matrix, vals, dict(compiled.not_compiled),
                     {"compile": t1 - t0, "load": t2 - t1, "rules": t3 - t2, "fetch": t4 - t3}, compiled, threads)


def evaluate_frames(persons: pd.DataFrame, events: pd.DataFrame, relations: pd.DataFrame | None,
                    ruleset: RuleSet, as_of, threads: int | None = None,
                    memory_limit: str | None = None) -> SqlResult:
    """The compiled rule set over the frames the pandas engine gets (DuckDB scans them in place)."""
    con = _connect(threads, memory_limit)
    try:
        con.register("src_persons", persons)
        con.register("src_events", events)
        if relations is not None:
            con.register("src_relations", relations)
        return _run(con, ruleset, as_of)
    finally:
        con.close()


def evaluate_parquet(persons_path, events_path, relations_path, ruleset: RuleSet, as_of,
                     threads: int | None = None, memory_limit: str | None = None) -> SqlResult:
    """The compiled rule set over Parquet files of the same three tables (research ids only)."""
    con = _connect(threads, memory_limit)
    try:
        for name, path in (("persons", persons_path), ("events", events_path), ("relations", relations_path)):
            if path is not None:
                con.execute(f"CREATE VIEW src_{name} AS SELECT * FROM read_parquet({_lit(str(path))})")
        return _run(con, ruleset, as_of)
    finally:
        con.close()
