"""The working list's reads: the results frame of the latest scoring run, one child's evidence,
and the list export. Role-checked (``@requires``) and restricted to the user's districts.

What each role gets (DOMAIN.md "Users"):
- the score and probability columns only with VIEW_SCORE (cg_manager): a nurse sees the
  order (rank) and the reasons, not the number;
- names only with REIDENTIFY *and* an explicit ``reveal=True``, through
  ``queries/identity.identities`` which logs every reveal;
- rules derived from child-guidance data (``restricted = "custody"``) and custody events only
  with VIEW_CUSTODY.

The scoring tables (runs, flags, evidence, scores) belong to the scoring engineer; this module
reads the columns DATA_MODEL.md names and tolerates extra ones. With no run stored, the frame
is empty and ``message`` says why.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from app.engine import catalogue, worklist
from app.engine.pseudonyms import display_pseudonym
from app.engine.rules import ages
from app.engine.worklist import FLAG_PREFIX, FRESHNESS_SOURCES, NOT_FOLLOWED, TARGET_LABELS, ChildEvidence, WorklistData
from app.store import frames, roles
from app.store.followup import followup_history, followup_state
from app.store.queries import requires

# Follow-up markers of the health centre's assessment list (same reading as app/engine/scoring.py).
ASSESSMENT_FOLLOWED = ("済", "中", "継続")
# Months after which a source's as-of date is a freshness warning; infants need fresher data.
STALE_DAYS_INFANT, STALE_DAYS = 92, 183
# A move-in within this many days is "new" (before it the data is unknown, not missed).
RECENT_MOVE_DAYS = 365
STRICTNESS = {"discuss": 0, "staff": 1, "never": 2}
CUSTODY_SOURCES, CUSTODY_TYPES = catalogue.custody_sources(), catalogue.custody_types()


def _table_exists(conn, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


def _columns(conn, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def _latest_run(conn, target: str | None) -> dict | None:
    """The newest run (of ``target`` if given) as a dict of its columns, JSON fields parsed."""
    if not _table_exists(conn, "runs"):
        return None
    cols = _columns(conn, "runs")
    key = "run_id" if "run_id" in cols else "rowid"
    where, params = "", []
    if target and "target" in cols:
        where, params = "WHERE target = ?", [target]
    row = conn.execute(f"SELECT {key}, * FROM runs {where} ORDER BY {key} DESC LIMIT 1", params).fetchone()
    if row is None:
        return None
    run = dict(zip(["run_id", *cols], row))
    for k, v in list(run.items()):
        if isinstance(v, str) and v[:1] in "{[":
            try:
                run[k] = json.loads(v)
            except ValueError:
                pass
    return run


def _run_by_id(conn, run_id) -> dict | None:
    if not _table_exists(conn, "runs"):
        return None
    cur = conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,))
    row = cur.fetchone()
    if row is None:
        return None
    run = dict(zip([d[0] for d in cur.description], row))
    for k, v in list(run.items()):
        if isinstance(v, str) and v[:1] in "{[":
            try:
                run[k] = json.loads(v)
            except ValueError:
                pass
    return run


def _runs_of(conn, target: str | None) -> list[tuple[int, str]]:
    """(run_id, Japanese label) of the target's runs, newest first: each run records its rule set."""
    if not _table_exists(conn, "runs"):
        return []
    rows = conn.execute("SELECT run_id, ruleset_id, ruleset_version, as_of, created_at FROM runs WHERE target = ?"
                        " ORDER BY run_id DESC LIMIT 50", (target or "",)).fetchall()
    return [(r[0], f"{r[1]} v{r[2]}（基準日 {str(r[3])[:10]}・実行 {str(r[4])[:10]}）") for r in rows]


def _default_target(conn) -> str | None:
    targets = dict(_targets(conn))
    return "abuse" if "abuse" in targets else next(iter(targets), None)


def _targets(conn) -> list[tuple[str, str]]:
    if not _table_exists(conn, "runs") or "target" not in _columns(conn, "runs"):
        return []
    found = [r[0] for r in conn.execute("SELECT DISTINCT target FROM runs ORDER BY target")]
    return [(t, TARGET_LABELS.get(t, t)) for t in found]


def _run_filter(conn, table: str, run: dict) -> tuple[str, list]:
    if "run_id" in _columns(conn, table):
        return "run_id = ?", [run["run_id"]]
    return "1=1", []


def _rules_of_run(conn, run: dict, flags: pd.DataFrame) -> list[dict]:
    """rule_id, label, weight, disclosure, threshold, restricted for each flag rule of the run.

    Labels and disclosure come from the run's rule set when it can be found (stored TOML),
    otherwise from what the flags table carries.
    """
    info: dict[str, dict] = {}
    text = run.get("ruleset_text") or run.get("ruleset_source") or run.get("ruleset_toml")
    if not text and _table_exists(conn, "rulesets"):
        cols = _columns(conn, "rulesets")
        body = next((c for c in ("body", "source_text", "toml", "text") if c in cols), None)
        rid, ver = run.get("ruleset_id"), run.get("ruleset_version")
        if body and rid is not None and "ruleset_id" in cols:
            sql = f"SELECT {body} FROM rulesets WHERE ruleset_id = ?"
            params = [rid]
            if ver is not None and "version" in cols:
                sql, params = sql + " AND version = ?", [rid, ver]
            row = conn.execute(sql + " LIMIT 1", params).fetchone()
            text = row[0] if row else None
    if text:
        from app.engine.rules.model import RuleSetError, parse_ruleset
        try:
            rs = parse_ruleset(text, "run")
            for r in rs.flag_rules:
                info[r.id] = {"rule_id": r.id, "label": r.label, "weight": r.weight, "disclosure": r.disclosure,
                              "restricted": r.restricted, "threshold": ""}
        except RuleSetError:
            pass
    weights = run.get("weights") if isinstance(run.get("weights"), dict) else {}
    thresholds = run.get("thresholds") if isinstance(run.get("thresholds"), dict) else {}
    restricted = run.get("restricted") if isinstance(run.get("restricted"), dict) else {}
    labels = run.get("labels") if isinstance(run.get("labels"), dict) else {}
    order = list(dict.fromkeys(list(info) + flags["rule_id"].drop_duplicates().tolist()))
    out = []
    for rule_id in order:
        d = info.get(rule_id, {"rule_id": rule_id, "label": rule_id, "weight": 1.0, "disclosure": "staff",
                               "restricted": None, "threshold": ""})
        for col in ("label", "disclosure"):
            if col in flags and (d.get(col) in (None, "", rule_id)):
                vals = flags.loc[flags["rule_id"] == rule_id, col].dropna()
                if len(vals):
                    d[col] = vals.iloc[0]
        if labels.get(rule_id):
            d["label"] = labels[rule_id]
        d["weight"] = float(weights.get(rule_id, d.get("weight", 1.0)))
        d["threshold"] = thresholds.get(rule_id) or (
            flags.loc[flags["rule_id"] == rule_id, "threshold"].dropna().iloc[0]
            if "threshold" in flags and flags.loc[flags["rule_id"] == rule_id, "threshold"].notna().any() else "")
        d["restricted"] = restricted.get(rule_id, d.get("restricted"))
        out.append(d)
    return out


def _source_as_of(conn) -> dict[str, str]:
    if not _table_exists(conn, "sources"):
        return {}
    rows = conn.execute("SELECT source, MAX(as_of) FROM sources GROUP BY source").fetchall()
    return {s: (a or "") for s, a in rows}


def _data_date(run: dict | None, as_of: dict[str, str]) -> pd.Timestamp:
    """The date ages are counted at: the run's as-of date, else the newest source, else today."""
    for value in ((run or {}).get("as_of"), max([v for v in as_of.values() if v], default=None)):
        if value:
            try:
                return pd.Timestamp(str(value)[:10])
            except ValueError:
                continue
    return pd.Timestamp(dt.date.today())


def _stale_text(age_months: np.ndarray, as_of: dict[str, str], today: pd.Timestamp) -> np.ndarray:
    """Per child, the sources whose data is too old for its age ("" when all are fresh)."""
    out = np.full(len(age_months), "", dtype=object)
    for source, value in sorted(as_of.items()):
        if source not in FRESHNESS_SOURCES or not value:
            continue
        try:
            days = (today - pd.Timestamp(value[:10])).days
        except ValueError:
            continue
        limit = np.where(age_months < 12, STALE_DAYS_INFANT, STALE_DAYS)
        stale = days > limit
        if stale.any():
            label = f"{catalogue.source_short(source)}({value[:10]})"
            out = np.where(stale, np.where(out == "", label, out + " " + label), out)
    return out


def _assessment_followed(conn, person_ids: list[str]) -> pd.Series:
    """Latest assessment フォロー状況 per child says followed (済/中/継続, not 未)."""
    if not person_ids:
        return pd.Series(dtype=bool)
    rows = conn.execute(
        "SELECT person_id, value_text FROM events WHERE type = 'assessment' ORDER BY person_id, date, event_id"
    ).fetchall()
    if not rows:
        return pd.Series(dtype=bool)
    a = pd.DataFrame(rows, columns=["person_id", "status"]).drop_duplicates("person_id", keep="last")
    s = a["status"].fillna("")
    followed = s.str.contains("|".join(ASSESSMENT_FOLLOWED)) & ~s.str.contains("未")
    return pd.Series(followed.to_numpy(), index=a["person_id"].to_numpy())


def _restricted(rule_ids: pd.Series, meta: dict[str, dict]) -> np.ndarray:
    """Boolean mask of rules derived from child-guidance data (a numpy mask: safe when empty)."""
    hidden = {r for r, d in meta.items() if d.get("restricted")}
    return rule_ids.isin(hidden).to_numpy(dtype=bool)


def _empty(message: str, targets, target) -> WorklistData:
    cols = ["person_id", "pseudonym", "household_id", "district", "town", "age_months", "flag_count", "reasons",
            "followup_status", "followup_date", "next_action_date", "followed", "status_since",
            "moved_in_recent", "move_in_date", "stale_sources", "rank"]
    return WorklistData(frame=pd.DataFrame(columns=cols), targets=targets, target=target or "abuse", message=message)


@requires(roles.VIEW_CHILDREN, data_class="children")
def worklist_data(session, target: str | None = None, reveal: bool = False, run_id=None) -> WorklistData:
    """The results frame (app/engine/worklist.py) for the user's districts, from run ``run_id``
    or else the latest run of ``target``; ``runs`` lists the target's runs to choose from."""
    conn = session.conn
    targets = _targets(conn)
    if target is None:
        target = _default_target(conn)
    run = _run_by_id(conn, run_id) if run_id is not None else _latest_run(conn, target)
    if run is not None:
        target = run.get("target", target)
    if run is None or not _table_exists(conn, "flags"):
        return _empty("採点（スコアリング）がまだ実行されていません。データ管理担当に依頼してください。", targets, target)
    districts = session.visible_districts()
    persons = frames.persons_frame(conn, districts=districts)
    persons = persons[persons["kind"] == "child"]
    where, params = _run_filter(conn, "flags", run)
    fcols = [c for c in ("person_id", "rule_id", "flagged", "reason", "threshold", "label", "disclosure")
             if c in _columns(conn, "flags")]
    flags = pd.DataFrame(conn.execute(f"SELECT {', '.join(fcols)} FROM flags WHERE {where}", params).fetchall(),
                         columns=fcols)
    flags = flags[flags["person_id"].isin(persons["person_id"])]
    rules = _rules_of_run(conn, run, flags)
    if not session.can(roles.VIEW_CUSTODY):
        hidden = {r["rule_id"] for r in rules if r.get("restricted")}
        rules = [r for r in rules if r["rule_id"] not in hidden]
        flags = flags[~flags["rule_id"].isin(hidden)]
    evaluated = persons[persons["person_id"].isin(flags["person_id"].unique())].reset_index(drop=True)
    ids = evaluated["person_id"].astype(str)
    source_as_of = _source_as_of(conn)
    if not session.can(roles.VIEW_CUSTODY):
        # even the date of the child-guidance extract is not for other roles
        source_as_of = {k: v for k, v in source_as_of.items() if k not in CUSTODY_SOURCES}
    at = _data_date(run, source_as_of)
    age = ages.age_months(ages.ym_index_from_text(evaluated["birth_ym"]), ages.ym_index_of(at))
    frame = pd.DataFrame({
        "person_id": ids.to_numpy(dtype=object),
        "pseudonym": [display_pseudonym(p) for p in ids],
        "household_id": evaluated["household_id"].to_numpy(dtype=object),
        "district": evaluated["district"].to_numpy(dtype=object),
        "town": evaluated["town"].to_numpy(dtype=object),
        "age_months": np.asarray(age, dtype=np.int64),
    })
    # Wide bool flag columns: one pivot, no loop over children.
    flagged = flags[flags["flagged"].astype(bool)]
    rule_ids = [r["rule_id"] for r in rules]
    pos = pd.Index(frame["person_id"])
    mat = np.zeros((len(frame), len(rule_ids)), dtype=bool)
    if len(flagged):
        r_idx = pd.Index(rule_ids).get_indexer(flagged["rule_id"])
        p_idx = pos.get_indexer(flagged["person_id"])
        ok = (r_idx >= 0) & (p_idx >= 0)
        mat[p_idx[ok], r_idx[ok]] = True
    for j, rule_id in enumerate(rule_ids):
        frame[FLAG_PREFIX + rule_id] = mat[:, j]
    frame["flag_count"] = mat.sum(axis=1)
    label = {r["rule_id"]: r["label"] for r in rules}
    names = flagged["rule_id"].map(label).fillna(flagged["rule_id"])
    reason = flagged["reason"].fillna("").astype(str) if "reason" in flagged else pd.Series("", index=flagged.index)
    # "label：reason" when the reason adds something; a reason that already names the rule stands alone
    starts = np.array([r.startswith(n) for r, n in zip(reason, names)], dtype=bool)
    text = names.where(reason == "", reason.where(starts, names + "：" + reason))
    flagged_known = flagged["rule_id"].isin(rule_ids).to_numpy()
    frame["reasons"] = worklist.join_by_group(text.to_numpy(dtype=object)[flagged_known],
                                              flagged["person_id"].to_numpy(dtype=object)[flagged_known],
                                              frame["person_id"].to_numpy(dtype=object), sep="・")
    # Follow-up: the nurses' records, and the health centre's assessment list.
    state = followup_state(session, extracted_at=run.get("created_at"))
    state = state.set_index("person_id").reindex(frame["person_id"])
    frame["followup_status"] = state["followup_status"].fillna(NOT_FOLLOWED).to_numpy(dtype=object)
    frame["followup_date"] = pd.to_datetime(state["followup_date"]).to_numpy()
    frame["next_action_date"] = pd.to_datetime(state["next_action_date"]).to_numpy()
    frame["status_since"] = state["status_since"].fillna("").to_numpy(dtype=object)
    assessed = _assessment_followed(conn, frame["person_id"].tolist()).reindex(frame["person_id"])
    assessed = assessed.astype("boolean").fillna(False).to_numpy(dtype=bool)
    frame["followed"] = (frame["followup_status"] != NOT_FOLLOWED).to_numpy() | assessed
    frame.loc[assessed & (frame["followup_status"] == NOT_FOLLOWED).to_numpy(), "followup_status"] = "フォロー済(アセスメント)"
    moved = evaluated["moved_in"].to_numpy(dtype=bool)
    since = pd.to_datetime(evaluated["resident_from"])
    frame["move_in_date"] = since.where(moved).to_numpy()
    frame["moved_in_recent"] = moved & ((pd.Timestamp(dt.date.today()) - since).dt.days.fillna(1e9).to_numpy()
                                        <= RECENT_MOVE_DAYS)
    frame["stale_sources"] = _stale_text(frame["age_months"].to_numpy(), source_as_of, pd.Timestamp(dt.date.today()))
    _add_scores(session, conn, run, frame, rules)
    if reveal and session.can(roles.REIDENTIFY) and len(frame):
        from app.store.queries.identity import identities
        names = identities(session, frame["person_id"].tolist(), purpose="作業リスト").set_index("person_id")
        frame["name_kanji"] = frame["person_id"].map(names["name_kanji"]).fillna("").to_numpy(dtype=object)
        frame["name_kana"] = frame["person_id"].map(names["name_kana"]).fillna("").to_numpy(dtype=object)
    rs = f"{run.get('ruleset_id', '')} v{run.get('ruleset_version', '')}".strip()
    as_of_text = str(run.get("as_of") or "")[:10]
    return WorklistData(
        frame=frame, rules=[{k: r[k] for k in ("rule_id", "label", "weight", "disclosure", "threshold")} for r in rules],
        targets=targets or [(target or "abuse", TARGET_LABELS.get(target or "abuse", target))],
        target=target or "abuse",
        ruleset_text=f"ルールセット {rs}（基準日 {as_of_text}）" if as_of_text else f"ルールセット {rs}",
        run_id=run.get("run_id"), extracted_at=run.get("created_at"), source_as_of=source_as_of,
        runs=_runs_of(conn, target),
        message="" if len(frame) else "表示できる子どもがいません（担当地区を確認してください）。")


def _add_scores(session, conn, run: dict, frame: pd.DataFrame, rules: list[dict]) -> None:
    """rank for everyone; score and probability only with VIEW_SCORE."""
    scores = None
    if _table_exists(conn, "scores"):
        cols = _columns(conn, "scores")
        where, params = _run_filter(conn, "scores", run)
        if "target" in cols and run.get("target"):
            where, params = where + " AND target = ?", [*params, run["target"]]
        want = [c for c in ("person_id", "score", "probability", "rank") if c in cols]
        scores = pd.DataFrame(conn.execute(f"SELECT {', '.join(want)} FROM scores WHERE {where}", params).fetchall(),
                              columns=want).drop_duplicates("person_id").set_index("person_id")
    if scores is not None and "score" in scores and len(scores):
        s = scores.reindex(frame["person_id"])
        score = s["score"].astype(float).to_numpy()
        prob = s["probability"].astype(float).to_numpy() if "probability" in s else np.full(len(frame), np.nan)
    else:
        # No stored scores: Σ weight × flag over the run's rules (DOMAIN.md §6).
        w = np.array([r["weight"] for r in rules], dtype=float)
        mat = frame[[FLAG_PREFIX + r["rule_id"] for r in rules]].to_numpy(dtype=float) if rules else np.zeros((len(frame), 0))
        score, prob = (mat @ w if rules else np.zeros(len(frame))), np.full(len(frame), np.nan)
    # Rank over the visible children: 1 = most in need; ties by flag count then research ID.
    order = np.lexsort((frame["person_id"].to_numpy(dtype=str), -frame["flag_count"].to_numpy(),
                        -np.nan_to_num(score, nan=-np.inf)))
    rank = np.empty(len(frame), dtype=np.int64)
    rank[order] = np.arange(1, len(frame) + 1)
    frame["rank"] = rank
    if session.can(roles.VIEW_SCORE):
        frame["score"] = score
        frame["probability"] = prob


@requires(roles.VIEW_CHILDREN, data_class="children")
def child_evidence(session, person_id: str, run_id=None, target: str | None = None) -> ChildEvidence:
    """The evidence panel's content for one visible child (flags, rows behind them, household,
    follow-up history) in run ``run_id``, else the latest run of ``target`` (default: abuse).
    Raises LookupError for a child the user may not see."""
    from app.engine.rules.describe import describe

    conn = session.conn
    pid = str(person_id)
    districts = session.visible_districts()
    me = frames.persons_frame(conn, districts=districts, person_ids=[pid])
    if me.empty:
        raise LookupError(f"研究用ID {pid} の子どもは表示できません")
    child = me.iloc[0]
    source_as_of = _source_as_of(conn)
    if not session.can(roles.VIEW_CUSTODY):
        source_as_of = {k: v for k, v in source_as_of.items() if k not in CUSTODY_SOURCES}
    run = _run_by_id(conn, run_id) if run_id is not None else _latest_run(conn, target or _default_target(conn))
    at = _data_date(run, source_as_of)
    age = int(ages.age_months(ages.ym_index_from_text(pd.Series([child["birth_ym"]])), ages.ym_index_of(at))[0])
    flags = pd.DataFrame(columns=["rule_id", "label", "flagged", "reason", "threshold", "disclosure",
                                  "first_date", "last_date"])
    rows = pd.DataFrame(columns=["rule_id", "event_id", "role", "source", "date", "description", "value", "as_of",
                                 "disclosure"])
    can_custody = session.can(roles.VIEW_CUSTODY)
    rules: list[dict] = []
    if run is not None and _table_exists(conn, "flags"):
        where, params = _run_filter(conn, "flags", run)
        fcols = [c for c in ("person_id", "rule_id", "flagged", "reason", "threshold", "label", "disclosure",
                             "first_date", "last_date") if c in _columns(conn, "flags")]
        all_flags = pd.DataFrame(conn.execute(
            f"SELECT {', '.join(fcols)} FROM flags WHERE {where} AND person_id = ?", [*params, pid]).fetchall(),
            columns=fcols)
        rules = _rules_of_run(conn, run, all_flags) if len(all_flags) else []
        meta = {r["rule_id"]: r for r in rules}
        if not can_custody:
            all_flags = all_flags[~_restricted(all_flags["rule_id"], meta)]
        f = all_flags.copy()
        f["flagged"] = f["flagged"].fillna(0).astype(bool)
        f["label"] = f["rule_id"].map(lambda r: meta.get(r, {}).get("label", r))
        f["disclosure"] = f["rule_id"].map(lambda r: meta.get(r, {}).get("disclosure", "staff"))
        if "threshold" not in f or f["threshold"].isna().all():
            f["threshold"] = f["rule_id"].map(lambda r: meta.get(r, {}).get("threshold", ""))
        for c in ("first_date", "last_date", "reason"):
            if c not in f:
                f[c] = None
        f["first_date"], f["last_date"] = pd.to_datetime(f["first_date"]), pd.to_datetime(f["last_date"])
        flags = f.reindex(columns=flags.columns)
        if _table_exists(conn, "evidence"):
            where, params = _run_filter(conn, "evidence", run)
            ecols = [c for c in ("rule_id", "event_id", "role") if c in _columns(conn, "evidence")]
            ev_links = pd.DataFrame(conn.execute(
                f"SELECT {', '.join(ecols)} FROM evidence WHERE {where} AND person_id = ?", [*params, pid]).fetchall(),
                columns=ecols)
            ev_links = ev_links[ev_links["rule_id"].isin(flags["rule_id"])]
            if len(ev_links):
                events = frames.events_frame(conn).iloc[0:0]
                marks = ",".join("?" * len(ev_links))
                cur = conn.execute(f"SELECT {', '.join(frames.EVENT_COLUMNS)} FROM events WHERE event_id IN ({marks})",
                                   [int(e) for e in ev_links["event_id"]])
                events = pd.DataFrame(cur.fetchall(), columns=frames.EVENT_COLUMNS)
                events["date"] = pd.to_datetime(events["date"])
                events["value_num"] = pd.to_numeric(events["value_num"])
                if not can_custody:
                    events = events[~events["source"].isin(CUSTODY_SOURCES) & ~events["type"].isin(CUSTODY_TYPES)]
                events["description"] = describe(events) if len(events) else pd.Series(dtype=object)
                joined = ev_links.merge(events, on="event_id", how="inner")
                value = joined["value_text"].fillna("").astype(str)
                num = joined["value_num"].map(lambda v: "" if pd.isna(v) else f"{v:g}")
                joined["value"] = value.where(value != "", num)
                joined["as_of"] = joined["source"].map(lambda s: str(source_as_of.get(s, "") or "")[:10])
                # A row is shown at least as guarded as its flag (an EPDS score behind a
                # staff-only flag is staff-only here too).
                flag_cls = joined["rule_id"].map(dict(zip(flags["rule_id"], flags["disclosure"]))).fillna("staff")
                row_cls = joined["disclosure"].fillna("staff")
                stricter = row_cls.map(STRICTNESS).fillna(1) >= flag_cls.map(STRICTNESS).fillna(1)
                joined["disclosure"] = row_cls.where(stricter, flag_cls)
                rows = joined.reindex(columns=rows.columns)
    household = _household(session, child, run, rules)
    return ChildEvidence(person_id=pid, pseudonym=display_pseudonym(pid), district=child["district"],
                         town=child["town"], age_months=age, flags=flags, rows=rows, household=household,
                         followups=followup_history(session, pid), source_as_of=source_as_of)


def _household(session, child: pd.Series, run: dict | None, rules: list[dict]) -> pd.DataFrame:
    """Guardians and siblings of the child with their flags in the same run (staff-only facts)."""
    conn = session.conn
    pid = child["person_id"]
    rel = pd.DataFrame(conn.execute(
        "SELECT related_id, relation FROM relations WHERE person_id = ? UNION "
        "SELECT person_id, CASE relation WHEN 'child' THEN 'guardian' ELSE relation END FROM relations "
        "WHERE related_id = ? AND relation IN ('child', 'sibling')", (pid, pid)).fetchall(),
        columns=["person_id", "relation"]).drop_duplicates("person_id")
    same_house = pd.DataFrame(conn.execute(
        "SELECT person_id, kind FROM persons WHERE household_id = ? AND household_id != '' AND person_id != ?",
        (child["household_id"], pid)).fetchall(), columns=["person_id", "kind"])
    extra = same_house[~same_house["person_id"].isin(rel["person_id"])]
    rel = pd.concat([rel, pd.DataFrame({"person_id": extra["person_id"],
                                        "relation": np.where(extra["kind"] == "child", "sibling", "household")})],
                    ignore_index=True)
    if child.get("mother_id") and child["mother_id"] not in set(rel["person_id"]):
        rel = pd.concat([rel, pd.DataFrame([{"person_id": child["mother_id"], "relation": "mother"}])], ignore_index=True)
    labels = {"mother": "母", "father": "父", "guardian": "保護者", "sibling": "きょうだい", "household": "世帯員"}
    members = frames.persons_frame(conn, person_ids=rel["person_id"].tolist()) if len(rel) else frames.persons_frame(conn, person_ids=[])
    rel = rel.merge(members[["person_id", "birth_ym", "kind"]], on="person_id", how="left")
    at = _data_date(run, _source_as_of(conn))
    age = ages.age_months(ages.ym_index_from_text(rel["birth_ym"].fillna("")), ages.ym_index_of(at))
    flags_text = pd.Series("", index=rel.index, dtype=object)
    if run is not None and _table_exists(conn, "flags") and len(rel):
        where, params = _run_filter(conn, "flags", run)
        marks = ",".join("?" * len(rel))
        fl = pd.DataFrame(conn.execute(
            f"SELECT person_id, rule_id FROM flags WHERE {where} AND flagged AND person_id IN ({marks})",
            [*params, *rel["person_id"].tolist()]).fetchall(), columns=["person_id", "rule_id"])
        meta = {r["rule_id"]: r for r in rules}
        if not session.can(roles.VIEW_CUSTODY):
            fl = fl[~_restricted(fl["rule_id"], meta)]
        fl["label"] = fl["rule_id"].map(lambda r: meta.get(r, {}).get("label", r))
        joined = worklist.join_by_group(fl["label"].to_numpy(dtype=object), fl["person_id"].to_numpy(dtype=object),
                                        rel["person_id"].to_numpy(dtype=object), sep="・")
        flags_text = pd.Series(joined, index=rel.index)
    return pd.DataFrame({
        "person_id": rel["person_id"],
        "pseudonym": [display_pseudonym(p) for p in rel["person_id"]],
        "relation": rel["relation"].map(lambda r: labels.get(r, r)),
        "age_months": pd.Series(age, index=rel.index).where(rel["birth_ym"].fillna("") != "").astype("Float64"),
        "flags": flags_text,
        "disclosure": "staff",
    })


@requires(roles.EXPORT_LIST, data_class="children")
def export_list(session, path, *, encrypt: bool = True, passphrase: str | None = None,
                plaintext_confirmed: bool = False, target: str | None = None):
    """The working list (research ID, pseudonym, district, town, age, flags, reasons, follow-up,
    need order — and the score for roles allowed to see it) through the export gate."""
    from app.store.exports import export_frame

    data = worklist_data(session, target=target)
    f = data.frame
    cols = [c for c in ("rank", "score", "probability", "person_id", "pseudonym", "district", "town", "age_months",
                        "flag_count", "reasons", "followup_status", "status_since", "moved_in_recent", "stale_sources")
            if c in f]
    out = f.sort_values("rank")[cols + worklist.flag_columns(f)]
    return export_frame(session, out, path, capability=roles.EXPORT_LIST, kind="list", encrypt=encrypt,
                        passphrase=passphrase, plaintext_confirmed=plaintext_confirmed,
                        title="作業リスト", object_ids=out["person_id"].tolist())
