"""Rule sets and scoring runs in the store: versioned rule sets, runs that are never
overwritten (flags, evidence, scores, follow-up state, metrics), and run comparison.

Reads for the views go through ``app/store/queries/scores.py`` (role-checked); this module
writes, and loads for commands that already checked the capability.
"""

from __future__ import annotations

import json

import pandas as pd

from app.engine import calibration
from app.engine.extraction import run_today, source_data_dates
from app.engine.progress import Progress, ensure
from app.engine.rules import RuleSet, parse_ruleset
from app.engine.rules.context import EvalContext
from app.engine.scoring import RunResult, columns_read, evaluate, events_read
from app.resource_files import resource_path
from app.store import frames, roles
from app.store.audit import now_iso
from app.store.database import NULL, iso_dates, transaction

# Shipped rule sets installed into a store the first time scoring runs; the improved rule set
# is the default for the abuse target, postpartum for its own target.
SHIPPED = ("report_2023", "improved", "postpartum")
DEFAULT_ACTIVE = ("improved", "postpartum")




# -- rule sets ----------------------------------------------------------------------------

def store_ruleset(session, text: str, activate: bool = False, note: str = "") -> tuple[str, int]:
    """Store a rule set (TOML text) as a new version unless the same text is stored already.

    The version written in the file is a floor: the stored version is above every stored one.
    """
    session.require(roles.MANAGE_RULES)
    rs = parse_ruleset(text, "rule set")
    conn = session.conn
    same = conn.execute("SELECT version FROM rulesets WHERE ruleset_id=? AND toml=?", (rs.id, text)).fetchone()
    with transaction(conn):
        if same:
            version = same[0]
        else:
            top = conn.execute("SELECT MAX(version) FROM rulesets WHERE ruleset_id=?", (rs.id,)).fetchone()[0]
            version = max(rs.version, (top or 0) + 1)
            conn.execute("INSERT INTO rulesets(ruleset_id, version, target, title, toml, created_at, created_by, note)"
                         " VALUES (?,?,?,?,?,?,?,?)", (rs.id, version, rs.target, rs.title, text, now_iso(),
                                                        session.user, note))
        if activate:
            conn.execute("UPDATE rulesets SET active=0 WHERE target=?", (rs.target,))
            conn.execute("UPDATE rulesets SET active=1 WHERE ruleset_id=? AND version=?", (rs.id, version))
        session.audit("ruleset_store", "ruleset", [f"{rs.id}@{version}"], {"activate": activate, "new": not same})
    return rs.id, version


def ensure_shipped_rulesets(session) -> None:
    """Install the shipped rule sets once; activate the defaults where a target has none."""
    conn = session.conn
    have = {r[0] for r in conn.execute("SELECT DISTINCT ruleset_id FROM rulesets")}
    for name in SHIPPED:
        if name not in have:
            text = resource_path("rules", f"{name}.toml").read_text(encoding="utf-8")
            rs = parse_ruleset(text, name)
            has_active = conn.execute("SELECT 1 FROM rulesets WHERE target=? AND active=1", (rs.target,)).fetchone()
            store_ruleset(session, text, activate=(name in DEFAULT_ACTIVE and not has_active))


def load_ruleset(conn, ruleset_id: str, version: int | None = None) -> RuleSet:
    """A stored rule set (the newest version when ``version`` is None)."""
    if version is None:
        row = conn.execute("SELECT toml, version FROM rulesets WHERE ruleset_id=? ORDER BY version DESC LIMIT 1",
                           (ruleset_id,)).fetchone()
    else:
        row = conn.execute("SELECT toml, version FROM rulesets WHERE ruleset_id=? AND version=?",
                           (ruleset_id, version)).fetchone()
    if row is None:
        raise KeyError(f"{ruleset_id}@{version}")
    rs = parse_ruleset(row[0], ruleset_id)
    return RuleSet(rs.id, row[1], rs.target, rs.title, rs.rules, rs.source_text)


def active_rulesets(conn) -> list[RuleSet]:
    """The active rule set of every target."""
    rows = conn.execute("SELECT ruleset_id, version FROM rulesets WHERE active=1 ORDER BY target").fetchall()
    return [load_ruleset(conn, rid, ver) for rid, ver in rows]


# -- runs -----------------------------------------------------------------------------------

def data_as_of(conn) -> pd.Timestamp:
    """The date a new run counts ages at (extraction.run_today without a run): the newest 抽出日
    of the resident registry, else of any source; the clock only for a store with no data."""
    today = run_today(None, source_as_of(conn))
    return today if today is not None else pd.Timestamp.today().normalize()


def source_as_of(conn) -> dict[str, str]:
    """Per source, its data date (extraction.source_data_dates)."""
    return source_data_dates(frames.sources_frame(conn))


def save_run(session, result: RunResult, ruleset: RuleSet) -> int:
    """Persist one run in one transaction; returns its run_id. Nothing earlier is changed."""
    conn = session.conn
    labels = {r.id: r.label for r in ruleset.flag_rules}
    disclosure = {r.id: r.disclosure for r in ruleset.flag_rules}
    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO runs(created_at, created_by, target, ruleset_id, ruleset_version, ruleset_text, as_of,"
            " source_as_of, thresholds, weights, restricted, labels, metrics, children, flagged, extraction)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (now_iso(), session.user, result.target, result.ruleset_id, result.ruleset_version, ruleset.source_text,
             result.as_of.strftime("%Y-%m-%d"), json.dumps(result.source_as_of, ensure_ascii=False),
             json.dumps(result.thresholds, ensure_ascii=False), json.dumps(result.weights),
             json.dumps(result.restricted), json.dumps(labels, ensure_ascii=False),
             json.dumps(result.metrics, ensure_ascii=False, default=float),
             int(result.matrix.shape[0]), int(result.matrix.any(axis=1).sum()) if result.matrix.shape[1] else 0,
             json.dumps(result.extraction.to_dict(), ensure_ascii=False)))
        run_id = int(cur.lastrowid)
        # Only the flags that fired: a (child, rule) pair without a row is "not flagged". The
        # other ~90 % of rows carried nothing (no reason, no evidence) — measured at 13,913
        # children: 516,705 rows of which 40,375 flagged.
        f = result.flags[result.flags["flagged"].astype(bool)]

        def flag_rows(f):
            rule = f["rule_id"].to_numpy(dtype=object)
            return ([run_id] * len(f), f["person_id"].tolist(), rule.tolist(), f["flagged"].astype(int).tolist(),
                    f["reason"].tolist(), f["threshold"].tolist(), pd.Series(rule).map(labels).tolist(),
                    (f["disclosure"] if "disclosure" in f else pd.Series(rule).map(disclosure)).tolist(),
                    pd.Series(rule).map({k: NULL if v is None else v for k, v in result.restricted.items()}).tolist(),
                    iso_dates(f["first_date"]), iso_dates(f["last_date"]))
        _insert(conn, "INSERT INTO flags(run_id, person_id, rule_id, flagged, reason, threshold, label, disclosure,"
                " restricted, first_date, last_date) VALUES (?,?,?,?,?,?,?,?,?,?,?)", f, flag_rows)
        _insert(conn, "INSERT INTO evidence(run_id, person_id, rule_id, event_id, role) VALUES (?,?,?,?,?)",
                result.evidence, lambda e: ([run_id] * len(e), e["person_id"].tolist(), e["rule_id"].tolist(),
                                            e["event_id"].astype("int64").tolist(), e["role"].tolist()))

        def score_rows(s):
            prob = s["probability"].to_numpy(dtype=float).tolist()  # NaN: stored as NULL (database.NULL)
            return ([run_id] * len(s), s["person_id"].tolist(), s["target"].tolist(),
                    s["score"].astype(float).tolist(), prob, s["rank"].astype(int).tolist(),
                    s["score_open"].astype(float).tolist(), s["rank_open"].astype(int).tolist(),
                    s["extracted"].astype(int).tolist(), s["extracted_open"].astype(int).tolist(),
                    s["urgent"].astype(int).tolist(), iso_dates(s["urgent_date"]))
        _insert(conn, "INSERT INTO scores(run_id, person_id, target, score, probability, rank, score_open, rank_open,"
                " extracted, extracted_open, urgent, urgent_date) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                result.scores, score_rows)
        _insert(conn, "INSERT INTO run_follow(run_id, person_id, followed, follow_status, follow_date, follow_source,"
                " on_custody_list, custody_first_date) VALUES (?,?,?,?,?,?,?,?)", result.follow,
                lambda fo: ([run_id] * len(fo), fo["person_id"].tolist(), fo["followed"].astype(int).tolist(),
                            fo["follow_status"].tolist(), iso_dates(fo["follow_date"]), fo["follow_source"].tolist(),
                            fo["on_custody_list"].astype(int).tolist(), iso_dates(fo["custody_first_date"])))
        session.audit("score_run", "run", [run_id], {
            "ruleset": f"{result.ruleset_id}@{result.ruleset_version}", "target": result.target,
            "as_of": result.as_of.strftime("%Y-%m-%d"), "children": int(result.matrix.shape[0])})
    return run_id


def _insert(conn, sql: str, frame: pd.DataFrame, columns, rows: int = 50_000) -> None:
    """executemany over ``columns(part)`` (the parameter lists) of consecutive parts of a frame:
    the Python objects of at most ``rows`` rows exist at a time (a run at 200,000 children
    writes ~2 M rows)."""
    for start in range(0, len(frame), rows):
        conn.executemany(sql, zip(*columns(frame.iloc[start:start + rows])))


def run_scoring(session, target: str | None = None, as_of=None, ruleset: RuleSet | None = None,
                progress: Progress | None = None, validate: bool = True) -> list[int]:
    """Score the active rule set of every target (or one) and store a run for each."""
    session.require(roles.RUN_SCORING)
    progress = ensure(progress)
    conn = session.conn
    if ruleset is None and session.can(roles.MANAGE_RULES):
        ensure_shipped_rulesets(session)
    sets = [ruleset] if ruleset is not None else active_rulesets(conn)
    if not sets:
        sets = [parse_ruleset(resource_path("rules", f"{n}.toml").read_text("utf-8"), n) for n in DEFAULT_ACTIVE]
    if target:
        sets = [s for s in sets if s.target == target]
    progress.step(0.0, "データを読み込んでいます")
    if sets:  # the probability (and validation) fit with scikit-learn after the load
        calibration.import_models_in_background()
    at = pd.Timestamp(as_of) if as_of is not None else data_as_of(conn)
    src = source_as_of(conn)
    # only the event types these rule sets read, compact; the children and their linked events
    # are prepared once and shared by every rule set of the run, and the frames they came from
    # are let go (at 200,000 children persons alone hold ~0.8 GB of strings)
    # the second reader's page cache is small: the load reads each page once, and at 200,000
    # children a second 256 MB cache took the run past 4 GB
    second = session.connection_opener(cache_mib=8)
    events = frames.scoring_events_frame(conn, types=events_read(sets), only=columns_read(sets), second=second)
    context = EvalContext(frames.persons_frame(conn, second=second), events, frames.relations_frame(conn), at)
    del events
    # the pages read stay in SQLCipher's cache (up to 256 MB) until the connection closes; the
    # run has read them all once and writes only new pages from here
    conn.execute("PRAGMA shrink_memory").fetchall()
    ids = []
    for i, rs in enumerate(sets):
        sub = progress.sub(0.1 + 0.9 * i / len(sets), 0.1 + 0.9 * (i + 0.8) / len(sets))
        result = evaluate(None, None, None, rs, at, sub, validate=validate, source_as_of=src, context=context)
        # Saved here, before the next rule set is evaluated: saving on a thread of its own while the
        # next one was evaluated gained ~3 s at 200,000 children but kept this result alive meanwhile
        # (peak 3.65 → 3.94 GB, too near the 4 GB aim); at 13,913 it gained ~0.1 s.
        ids.append(save_run(session, result, rs))
        del result
    progress.step(1.0, "採点を保存しました")
    return ids


def load_run(conn, run_id: int | None = None, target: str | None = None) -> dict | None:
    """A run's metadata (JSON fields parsed); the newest of ``target`` when run_id is None."""
    if run_id is None:
        where, params = ("WHERE target=?", [target]) if target else ("", [])
        row = conn.execute(f"SELECT run_id FROM runs {where} ORDER BY run_id DESC LIMIT 1", params).fetchone()
        if row is None:
            return None
        run_id = row[0]
    cur = conn.execute("SELECT * FROM runs WHERE run_id=?", (run_id,))
    row = cur.fetchone()
    if row is None:
        return None
    run = dict(zip([d[0] for d in cur.description], row))
    for k in ("source_as_of", "thresholds", "weights", "restricted", "labels", "metrics", "extraction"):
        run[k] = json.loads(run[k] or "{}")
    return run


def run_table(conn, table: str, run_id: int, columns: list[str], person_ids=None) -> pd.DataFrame:
    where, params = "run_id=?", [run_id]
    if person_ids is not None:
        ids = list(person_ids)
        where += f" AND person_id IN ({','.join('?' * len(ids))})" if ids else " AND 0=1"
        params += ids
    rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {where}", params).fetchall()
    return pd.DataFrame(rows, columns=columns)


def compare_runs(conn, run_a: int, run_b: int, top_k: int | None = None, person_ids=None) -> dict:
    """Who entered and who left between two runs.

    "On the list" = 抽出 as the run stored it (app/engine/extraction.py); with an explicit
    ``top_k`` (or for a run stored before 抽出 was recorded: 200), among the ``top_k`` ranks with
    a score above zero. Also: per rule, children newly flagged / no longer flagged, and follow-up changes.
    """
    def on_list(run_id):
        s = run_table(conn, "scores", run_id, ["person_id", "rank", "score", "extracted"], person_ids)
        if top_k is None and len(s) and s["extracted"].notna().all():
            return set(s.loc[s["extracted"] == 1, "person_id"])
        return set(s.loc[(s["rank"] <= (top_k or 200)) & (s["score"] > 0), "person_id"])

    a, b = on_list(run_a), on_list(run_b)
    fa = run_table(conn, "flags", run_a, ["person_id", "rule_id", "flagged"], person_ids)
    fb = run_table(conn, "flags", run_b, ["person_id", "rule_id", "flagged"], person_ids)
    m = fa.merge(fb, on=["person_id", "rule_id"], how="outer", suffixes=("_a", "_b")).fillna({"flagged_a": 0, "flagged_b": 0})
    by_rule = {}
    for rule_id, g in m.groupby("rule_id"):
        by_rule[rule_id] = {"newly_flagged": int(((g["flagged_b"] == 1) & (g["flagged_a"] == 0)).sum()),
                            "no_longer_flagged": int(((g["flagged_a"] == 1) & (g["flagged_b"] == 0)).sum())}
    fo_a = run_table(conn, "run_follow", run_a, ["person_id", "followed"], person_ids)
    fo_b = run_table(conn, "run_follow", run_b, ["person_id", "followed"], person_ids)
    fo = fo_a.merge(fo_b, on="person_id", suffixes=("_a", "_b"))
    newly_followed = sorted(fo.loc[(fo["followed_b"] == 1) & (fo["followed_a"] == 0), "person_id"])
    return {"run_a": run_a, "run_b": run_b, "top_k": top_k,
            "entered": sorted(b - a), "left": sorted(a - b), "stayed": len(a & b),
            "by_rule": by_rule, "newly_followed": newly_followed,
            "newly_followed_on_list_a": sorted(set(newly_followed) & a)}


def run_active_rulesets(session, progress: Progress | None = None) -> list[int]:
    """Score every target with its active rule set (what ``python -m app score`` does)."""
    return run_scoring(session, progress=progress)
