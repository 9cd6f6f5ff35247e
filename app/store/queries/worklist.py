"""The working list's reads: the results frame of the latest scoring run, one child's evidence,
and the list export. Role-checked (``@requires``) and restricted to the user's districts.

What each role gets (DOMAIN.md "Users"):
- the score and probability columns only with VIEW_SCORE (cg_manager): a nurse sees the
  order (rank) and the reasons, not the number;
- the order itself from what the role may see: without VIEW_CUSTODY the run's second order
  (``rank_open``: no custody-derived rule counted) and 抽出 under it;
- names only with REIDENTIFY *and* an explicit ``reveal=True``, through
  ``queries/identity.identities`` which logs every reveal;
- rules derived from child-guidance data (``restricted = "custody"``) and custody events only
  with VIEW_CUSTODY.

The domain decisions (抽出, urgent, followed, data dates, "today" = the run's as-of date, a flag's
disclosure class) are made by ``app/engine/extraction.py`` and ``app/engine/disclosure.py``;
this module fetches rows by role and hands them over. The schema is the migrated one.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from app.engine import catalogue, disclosure, extraction, worklist
from app.engine.pseudonyms import display_pseudonym
from app.engine.rules import ages
from app.engine.worklist import FLAG_PREFIX, FRESHNESS_SOURCES, NOT_FOLLOWED, TARGET_LABELS, ChildEvidence, WorklistData
from app.store import frames, roles
from app.store.followup import followup_history, followup_state
from app.store.queries import requires
from app.store.scoring_runs import load_run

# Months after which a source's as-of date is a freshness warning; infants need fresher data.
STALE_DAYS_INFANT, STALE_DAYS = 92, 183
# A move-in within this many days is "new" (before it the data is unknown, not missed).
RECENT_MOVE_DAYS = 365
CUSTODY_SOURCES, CUSTODY_TYPES = catalogue.custody_sources(), catalogue.custody_types()
FLAG_COLUMNS = ["person_id", "rule_id", "flagged", "reason", "threshold", "label", "disclosure",
                "first_date", "last_date"]


def _runs_of(conn, target: str | None) -> list[tuple[int, str]]:
    """(run_id, Japanese label) of the target's runs, newest first: each run records its rule set."""
    rows = conn.execute("SELECT run_id, ruleset_id, ruleset_version, as_of, created_at FROM runs WHERE target = ?"
                        " ORDER BY run_id DESC LIMIT 50", (target or "",)).fetchall()
    return [(r[0], f"{r[1]} v{r[2]}（基準日 {str(r[3])[:10]}・実行 {str(r[4])[:10]}）") for r in rows]


def _targets(conn) -> list[tuple[str, str]]:
    found = [r[0] for r in conn.execute("SELECT DISTINCT target FROM runs ORDER BY target")]
    return [(t, TARGET_LABELS.get(t, t)) for t in found]


def _default_target(conn) -> str | None:
    targets = dict(_targets(conn))
    return "abuse" if "abuse" in targets else next(iter(targets), None)


def _run(conn, run_id, target) -> dict | None:
    return load_run(conn, int(run_id)) if run_id is not None else load_run(conn, None, target or _default_target(conn))


@functools.lru_cache(maxsize=8)
def _parsed(text: str):
    # a run's rule set text never changes (runs are never updated): parse it once per text
    from app.engine.rules.model import parse_ruleset

    return parse_ruleset(text, "run")


def _rules_of_run(run: dict) -> list[dict]:
    """rule_id, label, weight, disclosure, threshold, restricted for each flag rule of the run,
    from the rule set text the run stored, with the run's own weights and thresholds."""
    rs = _parsed(run["ruleset_text"])
    weights, thresholds = run.get("weights") or {}, run.get("thresholds") or {}
    return [{"rule_id": r.id, "label": (run.get("labels") or {}).get(r.id, r.label),
             "weight": float(weights.get(r.id, r.weight)), "disclosure": r.disclosure,
             "restricted": (run.get("restricted") or {}).get(r.id, r.restricted),
             "threshold": thresholds.get(r.id, "")} for r in rs.flag_rules]


def _hidden_rules(session, rules: list[dict]) -> set[str]:
    """Rules whose data class the role may not see (today: custody-derived without VIEW_CUSTODY)."""
    return set() if session.can(roles.VIEW_CUSTODY) else {r["rule_id"] for r in rules if r.get("restricted")}


def _source_dates(session) -> dict[str, str]:
    """Data date per source (extraction.source_data_dates); the child-guidance extract's date
    only with VIEW_CUSTODY — even its date is not for other roles."""
    rows = session.conn.execute("SELECT source, MAX(as_of) FROM sources GROUP BY source").fetchall()
    dates = extraction.source_data_dates(pd.DataFrame(rows, columns=["source", "as_of"]))
    if not session.can(roles.VIEW_CUSTODY):
        dates = {k: v for k, v in dates.items() if k not in CUSTODY_SOURCES}
    return dates


def _today(run: dict | None, source_dates: dict[str, str]) -> pd.Timestamp:
    return extraction.run_today((run or {}).get("as_of"), source_dates)


def _stale_text(age_months: np.ndarray, as_of: dict[str, str], today: pd.Timestamp) -> np.ndarray:
    """Per child, the sources whose data is too old for its age ("" when all are fresh)."""
    out = np.full(len(age_months), "", dtype=object)
    for source, value in sorted(as_of.items()):
        if source not in FRESHNESS_SOURCES or not value:
            continue
        days = (today - pd.Timestamp(value[:10])).days
        limit = np.where(age_months < 12, STALE_DAYS_INFANT, STALE_DAYS)
        stale = days > limit
        if stale.any():
            label = f"{catalogue.source_short(source)}({value[:10]})"
            out = np.where(stale, np.where(out == "", label, out + " " + label), out)
    return out


def _latest_assessment(conn) -> pd.Series:
    """The latest assessment フォロー状況 text per person (the health centre's list)."""
    # INDEXED BY: the small partial index of these rows, never a scan of all events
    rows = conn.execute("SELECT person_id, value_text FROM events INDEXED BY events_assessment WHERE type = 'assessment'"
                        " ORDER BY person_id, date, event_id").fetchall()
    a = pd.DataFrame(rows, columns=["person_id", "status"]).drop_duplicates("person_id", keep="last")
    return pd.Series(a["status"].fillna("").to_numpy(dtype=object), index=a["person_id"].to_numpy())


def _restricted(rule_ids: pd.Series, meta: dict[str, dict]) -> np.ndarray:
    """Boolean mask of rules derived from child-guidance data (a numpy mask: safe when empty)."""
    hidden = {r for r, d in meta.items() if d.get("restricted")}
    return rule_ids.isin(hidden).to_numpy(dtype=bool)


def _empty(message: str, targets, target) -> WorklistData:
    cols = ["person_id", "pseudonym", "household_id", "district", "town", "age_months", "flag_count", "reasons",
            "followup_status", "followup_date", "next_action_date", "followed", "status_since",
            "moved_in_recent", "move_in_date", "stale_sources", "rank", "urgent", "urgent_date", "extracted"]
    return WorklistData(frame=pd.DataFrame(columns=cols), targets=targets, target=target or "abuse", message=message)


@requires(roles.VIEW_CHILDREN, data_class="children")
def worklist_data(session, target: str | None = None, reveal: bool = False, run_id=None,
                  working_only: bool = False) -> WorklistData:
    """The results frame (app/engine/worklist.py) for the user's districts, from run ``run_id``
    or else the latest run of ``target``; ``runs`` lists the target's runs to choose from.

    ``working_only``: only the children the working list (抽出のみ) can show — the run's order,
    as the role may see it, down to its last 抽出 or 至急 child. Every filter that keeps 抽出
    only is answered exactly from these rows (their ranks are the ranks among all the user's
    children: they are a prefix of that order); ``total`` and ``places`` still count every
    child, and ``complete`` is False. A run stored before its orders were: every child.
    """
    conn = session.conn
    targets = _targets(conn)
    if target is None:
        target = _default_target(conn)
    run = _run(conn, run_id, target)
    if run is None:
        return _empty("採点（スコアリング）がまだ実行されていません。データ管理担当に依頼してください。", targets, target)
    order = _order_columns(session)
    cut = _working_cut(conn, run, order) if working_only else None
    evaluated = _children_of_run(session, run, order, cut)
    rules = _visible_rules(session, conn, run)
    flags = _fired_flags(conn, run, evaluated["person_id"], rules, cut is not None)
    source_as_of = _source_dates(session)
    today = _today(run, source_as_of)
    frame = _base_frame(evaluated, today)
    _add_flag_columns(frame, flags, rules)
    _add_followup(session, run, frame)
    moved = evaluated["moved_in"].fillna(0).to_numpy(dtype=bool)
    since = pd.to_datetime(evaluated["resident_from"]).astype("datetime64[ns]")
    frame["move_in_date"] = since.where(moved).to_numpy()
    frame["moved_in_recent"] = moved & ((today - since).dt.days.fillna(1e9).to_numpy() <= RECENT_MOVE_DAYS)
    frame["stale_sources"] = _stale_text(frame["age_months"].to_numpy(), source_as_of, today)
    _add_need(session, run, frame, rules, evaluated)
    if reveal and session.can(roles.REIDENTIFY) and len(frame):
        _add_names(session, frame)
    data = _result(session, run, frame, rules, targets, source_as_of)
    if cut is not None:
        data.complete = False
        data.total, data.places = _visible_places(session, run)
    else:
        data.total = len(frame)
        data.places = worklist.places_of(frame)
    return data


def _order_columns(session) -> tuple[str, str, str]:
    """(score, rank, 抽出) columns of the order the role may see: without VIEW_CUSTODY the run's
    second order, in which no custody-derived rule counted."""
    return ("score", "rank", "extracted") if session.can(roles.VIEW_CUSTODY) else ("score_open", "rank_open",
                                                                                   "extracted_open")


def _working_cut(conn, run: dict, order: tuple[str, str, str]) -> int | None:
    """The city rank of the run's last 抽出 or 至急 child under ``order`` (None: the run stored no
    order — it predates them — so every child is read). One index range (migration 0810)."""
    _, rank_col, ext_col = order
    stored = conn.execute(f"SELECT {rank_col} IS NOT NULL AND {ext_col} IS NOT NULL FROM scores WHERE run_id = ?"
                          " LIMIT 1", (run["run_id"],)).fetchone()
    if not stored or not stored[0]:
        return None
    last = conn.execute(f"SELECT MAX({rank_col}) FROM scores WHERE run_id = ? AND ({ext_col} = 1 OR urgent = 1)",
                        (run["run_id"],)).fetchone()
    return int(last[0] or 0)


# What the list reads per child: the run's scores joined to the person, in one query.
PERSON_FIELDS = ["household_id", "district", "town", "birth_ym", "resident_from", "moved_in"]


def _children_of_run(session, run: dict, order: tuple[str, str, str], cut: int | None) -> pd.DataFrame:
    """The children the run evaluated in the user's districts (only rank <= ``cut``, in rank order,
    when given), with their place, age and move-in fields and the order columns of the role
    (score and probability only with VIEW_SCORE)."""
    score_col, rank_col, ext_col = order
    score = [f"s.{score_col}", "s.probability"] if session.can(roles.VIEW_SCORE) else []
    cols = ["person_id", "city_rank", "extracted", "urgent", "urgent_date"] + (
        ["score", "probability"] if score else []) + PERSON_FIELDS
    where, params = session.district_filter_sql("p.district")
    # every child: the run's key order, so the person lookups walk persons in key order too
    # (3.1 s -> 0.75 s at 200,000 children against rank order); the model sorts by rank itself
    order_by = "s.person_id"
    if cut is not None:
        where += f" AND s.{rank_col} <= ?"
        params = [*params, cut]
        order_by = f"s.{rank_col}"
    rows = session.conn.execute(
        f"SELECT s.person_id, s.{rank_col}, s.{ext_col}, s.urgent, s.urgent_date, {', '.join(score + [''])}"
        f"{', '.join('p.' + c for c in PERSON_FIELDS)} FROM scores s JOIN persons p ON p.person_id = s.person_id"
        f" WHERE s.run_id = ? AND p.kind = 'child' AND {where} ORDER BY {order_by}",
        [run["run_id"], *params]).fetchall()
    return pd.DataFrame(rows, columns=cols)


def _visible_places(session, run: dict) -> tuple[int, dict[str, list[str]]]:
    """How many children of the run the user may see, and their districts and towns (the
    filter bar's choices), counted in the store without reading the children's rows."""
    where, params = session.district_filter_sql("p.district")
    # persons first (CROSS JOIN keeps SQLite to that order): the covering index of migration 0820
    # hands over the children in place order, each then one seek in the run's scores key
    rows = session.conn.execute(
        "SELECT p.district, p.town, COUNT(*) FROM persons p CROSS JOIN scores s"
        " ON s.run_id = ? AND s.person_id = p.person_id WHERE p.kind = 'child' AND " + where +
        " GROUP BY p.district, p.town", [run["run_id"], *params]).fetchall()
    places: dict[str, set] = {}
    for district, town, _n in rows:
        if district is not None:
            places.setdefault(district, set())
            if town is not None:
                places[district].add(town)
    return sum(r[2] for r in rows), {d: sorted(t) for d, t in sorted(places.items())}


def _visible_rules(session, conn, run: dict) -> list[dict]:
    """The run's rules without those the role may not see; each rule's badge class raised to the
    strictest class stored for any of its flags in the run (the engine's floor: 生活保護受給世帯
    is ✕ even where the rule set wrote △). A few indexed existence checks, no flag is read."""
    rules = _rules_of_run(run)
    hidden = _hidden_rules(session, rules)
    rules = [r for r in rules if r["rule_id"] not in hidden]
    for r in rules:
        for cls in reversed(disclosure.CLASSES):
            if conn.execute("SELECT 1 FROM flags WHERE run_id = ? AND rule_id = ? AND disclosure = ? LIMIT 1",
                            (run["run_id"], r["rule_id"], cls)).fetchone():
                r["disclosure"] = disclosure.strictest(r["disclosure"], cls)
                break
    return rules


# SQLite's default limit on bound parameters is 999 in old builds: read by chunks of ids.
_CHUNK = 900


def _fired_flags(conn, run: dict, person_ids: pd.Series, rules: list[dict], by_person: bool) -> pd.DataFrame:
    """The run's fired flags (person_id, rule_id, reason) of these children and visible rules:
    by primary key per child for a working list, else the run's range in one pass."""
    cols = ["person_id", "rule_id", "reason"]
    sql = "SELECT person_id, rule_id, reason FROM flags WHERE run_id = ? AND flagged"
    if by_person:
        ids = person_ids.astype(str).tolist()
        rows = []
        for i in range(0, len(ids), _CHUNK):
            part = ids[i:i + _CHUNK]
            rows += conn.execute(f"{sql} AND person_id IN ({','.join('?' * len(part))})"
                                 " ORDER BY person_id, rule_id", [run["run_id"], *part]).fetchall()
    else:
        rows = conn.execute(sql + " ORDER BY person_id, rule_id", (run["run_id"],)).fetchall()
    flags = pd.DataFrame(rows, columns=cols)
    keep = flags["rule_id"].isin([r["rule_id"] for r in rules]).to_numpy()
    if not by_person:
        keep &= flags["person_id"].isin(person_ids).to_numpy()
    return flags[keep].reset_index(drop=True)


def _base_frame(evaluated: pd.DataFrame, today: pd.Timestamp) -> pd.DataFrame:
    """One row per evaluated child: pseudonym, household, place and age on the run's today."""
    ids = evaluated["person_id"].astype(str)
    age = ages.age_months(ages.ym_index_from_text(evaluated["birth_ym"]), ages.ym_index_of(today))
    return pd.DataFrame({
        "person_id": ids.to_numpy(dtype=object),
        "pseudonym": [display_pseudonym(p) for p in ids],
        "household_id": evaluated["household_id"].to_numpy(dtype=object),
        "district": evaluated["district"].to_numpy(dtype=object),
        "town": evaluated["town"].to_numpy(dtype=object),
        "age_months": np.asarray(age, dtype=np.int64),
    })


def _add_flag_columns(frame: pd.DataFrame, flagged: pd.DataFrame, rules: list[dict]) -> None:
    """Wide bool flag columns, flag_count and the joined reasons text from the fired flags
    (one pivot, no loop over children)."""
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
    reason = flagged["reason"].fillna("").astype(str)
    # "label：reason" when the reason adds something; a reason that already names the rule stands
    # alone (str.startswith per flag measured faster than numpy's on fixed-width copies: 0.24 s
    # against 0.43 s for 500,000 flags)
    starts = np.array([r.startswith(n) for r, n in zip(reason, names)], dtype=bool)
    text = names.where(reason == "", reason.where(starts, names + "：" + reason))
    flagged_known = flagged["rule_id"].isin(rule_ids).to_numpy()
    frame["reasons"] = worklist.join_by_group(text.to_numpy(dtype=object)[flagged_known],
                                              flagged["person_id"].to_numpy(dtype=object)[flagged_known],
                                              frame["person_id"].to_numpy(dtype=object), sep="・")


def _add_followup(session, run: dict, frame: pd.DataFrame) -> None:
    """Follow-up: the nurses' records and the health centre's assessment list, one rule (engine)."""
    state = followup_state(session, extracted_at=run.get("created_at"))
    state = state.set_index("person_id").reindex(frame["person_id"])
    frame["followup_status"] = state["followup_status"].fillna(NOT_FOLLOWED).to_numpy(dtype=object)
    frame["followup_date"] = pd.to_datetime(state["followup_date"]).to_numpy()
    frame["next_action_date"] = pd.to_datetime(state["next_action_date"]).to_numpy()
    frame["status_since"] = state["status_since"].fillna("").to_numpy(dtype=object)
    assessment = _latest_assessment(session.conn).reindex(frame["person_id"]).fillna("").to_numpy(dtype=object)
    nurse_status = state["followup_status"].fillna("").to_numpy(dtype=object)
    # the engine's rule on each distinct (record, assessment) pair — a handful — not on every child
    codes, pairs = pd.factorize(pd.MultiIndex.from_arrays([nurse_status, assessment]))
    nurse, listed = pairs.get_level_values(0).to_numpy(dtype=object), pairs.get_level_values(1).to_numpy(dtype=object)
    followed = extraction.is_followed(nurse, listed)
    by_nurse = extraction.is_followed(nurse, np.full(len(pairs), ""))
    frame["followed"] = followed[codes] if len(pairs) else np.zeros(0, dtype=bool)
    by_assessment = (followed & ~by_nurse)[codes] if len(pairs) else np.zeros(0, dtype=bool)
    frame.loc[by_assessment, "followup_status"] = "フォロー済(アセスメント)"


def _add_names(session, frame: pd.DataFrame) -> None:
    """Names (REIDENTIFY and an explicit reveal), through identities(), which logs the reveal."""
    from app.store.queries.identity import identities
    names = identities(session, frame["person_id"].tolist(), purpose="作業リスト").set_index("person_id")
    frame["name_kanji"] = frame["person_id"].map(names["name_kanji"]).fillna("").to_numpy(dtype=object)
    frame["name_kana"] = frame["person_id"].map(names["name_kana"]).fillna("").to_numpy(dtype=object)


def _result(session, run: dict, frame: pd.DataFrame, rules: list[dict], targets, source_as_of) -> WorklistData:
    """The WorklistData around the frame: rule badges, run choice, 抽出 definition, caution."""
    target = run["target"]
    rs = f"{run.get('ruleset_id', '')} v{run.get('ruleset_version', '')}".strip()
    as_of_text = str(run.get("as_of") or "")[:10]
    spec = _spec_of(run)
    data = WorklistData(
        frame=frame, rules=[{k: r[k] for k in ("rule_id", "label", "weight", "disclosure", "threshold")} for r in rules],
        targets=targets or [(target, TARGET_LABELS.get(target, target))],
        target=target,
        ruleset_text=f"ルールセット {rs}（基準日 {as_of_text}）" if as_of_text else f"ルールセット {rs}",
        run_id=run.get("run_id"), extracted_at=run.get("created_at"), source_as_of=source_as_of,
        runs=_runs_of(session.conn, target),
        message="" if len(frame) else "表示できる子どもがいません（担当地区を確認してください）。")
    data.extraction = spec.describe()
    # first line: where it is set (shown); second: why k is what it is (tooltip)
    data.extraction_where = f"ルールセット {run.get('ruleset_id', '')} の [extraction]" + (
        f"\n{spec.capacity_note}" if spec.capacity_note else "")
    if session.can(roles.VIEW_SCORE):
        from app.engine.calibration import validation_caution
        data.caution = validation_caution(run.get("metrics"))
    return data


def _spec_of(run: dict) -> extraction.ExtractionSpec:
    """The 抽出 definition the run applied (a run from before it was stored: its rule set's)."""
    return (extraction.spec_from_dict(run["extraction"]) if run.get("extraction")
            else extraction.extraction_spec(run.get("ruleset_text")))


def _add_need(session, run: dict, frame: pd.DataFrame, rules: list[dict], s: pd.DataFrame) -> None:
    """rank, urgent and 抽出 under the order the role may see (``order``, read with the children
    in ``s``, row for row); score and probability only with VIEW_SCORE."""
    urgent = pd.to_numeric(s["urgent"]).fillna(0).to_numpy(dtype=float) > 0
    if s["city_rank"].notna().all() and s["extracted"].notna().all():
        city_rank, extracted = s["city_rank"].to_numpy(dtype=float), s["extracted"].to_numpy(dtype=float) > 0
    else:
        # A run stored before the two orders were: rebuild the role's order from the visible flags
        # and the run's weights with the same engine functions (urgent unknown for such runs).
        w = np.array([r["weight"] for r in rules], dtype=float)
        mat = frame[[FLAG_PREFIX + r["rule_id"] for r in rules]].to_numpy(dtype=float)
        score = mat @ w if len(rules) else np.zeros(len(frame))
        city_rank = extraction.need_order(score, urgent, frame["flag_count"], frame["person_id"]).astype(float)
        extracted = extraction.extract(score, urgent, city_rank, _spec_of(run))
    # Rank over the visible children, in the city order (urgent first, then need).
    by_need = np.lexsort((frame["person_id"].to_numpy(dtype=str), np.nan_to_num(city_rank, nan=np.inf)))
    rank = np.empty(len(frame), dtype=np.int64)
    rank[by_need] = np.arange(1, len(frame) + 1)
    frame["rank"] = rank
    frame["urgent"] = urgent
    frame["urgent_date"] = pd.to_datetime(s["urgent_date"]).astype("datetime64[ns]").to_numpy()
    frame["extracted"] = extracted
    if session.can(roles.VIEW_SCORE):
        frame["score"] = s["score"].astype(float).to_numpy()
        frame["probability"] = s["probability"].astype(float).to_numpy()


def _evidence_rows(conn, run_id: int, pid: str, flags: pd.DataFrame, can_custody: bool,
                   source_as_of: dict[str, str]) -> pd.DataFrame:
    """The event rows behind one child's flags: two indexed lookups on the child's own rows
    (evidence by (person_id, run_id), events by primary key), never a table scan."""
    from app.engine.rules.describe import describe

    cols = ["rule_id", "event_id", "role", "source", "date", "description", "value", "as_of", "disclosure"]
    links = pd.DataFrame(conn.execute("SELECT rule_id, event_id, role FROM evidence WHERE person_id = ? AND run_id = ?",
                                      (pid, run_id)).fetchall(), columns=["rule_id", "event_id", "role"])
    links = links[links["rule_id"].isin(flags["rule_id"])]
    if links.empty:
        return pd.DataFrame(columns=cols)
    ids = sorted({int(e) for e in links["event_id"]})
    cur = conn.execute(f"SELECT {', '.join(frames.EVENT_COLUMNS)} FROM events WHERE event_id IN "
                       f"({','.join('?' * len(ids))})", ids)
    events = pd.DataFrame(cur.fetchall(), columns=frames.EVENT_COLUMNS)
    events["date"] = pd.to_datetime(events["date"])
    events["value_num"] = pd.to_numeric(events["value_num"])
    if not can_custody:
        events = events[~events["source"].isin(CUSTODY_SOURCES) & ~events["type"].isin(CUSTODY_TYPES)]
    events["description"] = describe(events) if len(events) else pd.Series(dtype=object)
    joined = links.merge(events, on="event_id", how="inner")
    value = joined["value_text"].fillna("").astype(str)
    num = joined["value_num"].map(lambda v: "" if pd.isna(v) else f"{v:g}")
    joined["value"] = value.where(value != "", num)
    joined["as_of"] = joined["source"].map(lambda x: str(source_as_of.get(x, "") or "")[:10])
    # A row is shown at least as guarded as its flag (an EPDS score behind a staff-only flag is
    # staff-only here too); the flag, in turn, is as guarded as its strictest row (below).
    flag_cls = joined["rule_id"].map(dict(zip(flags["rule_id"], flags["disclosure"])))
    joined["disclosure"] = [disclosure.strictest(a, b) for a, b in zip(joined["disclosure"], flag_cls)]
    return joined.reindex(columns=cols)


@requires(roles.VIEW_CHILDREN, data_class="children")
def child_evidence(session, person_id: str, run_id=None, target: str | None = None) -> ChildEvidence:
    """The evidence panel's content for one visible child (flags, rows behind them, household,
    follow-up history) in run ``run_id``, else the latest run of ``target`` (default: abuse).
    Every read is an indexed lookup on this child's own rows. Raises LookupError for a child
    the user may not see."""
    conn = session.conn
    pid = str(person_id)
    # one indexed row, not a frame: this runs on every click
    cols = ["person_id", "district", "town", "birth_ym", "household_id", "mother_id"]
    found = conn.execute(f"SELECT {', '.join(cols)} FROM persons WHERE person_id = ?", (pid,)).fetchone()
    visible = session.visible_districts()
    if found is None or (visible is not None and found[1] not in visible):
        raise LookupError(f"研究用ID {pid} の子どもは表示できません")
    child = pd.Series(dict(zip(cols, found)))
    source_as_of = _source_dates(session)
    run = _run(conn, run_id, target)
    today = _today(run, source_as_of)
    age = int(ages.age_months(ages.ym_index_from_text(pd.Series([child["birth_ym"]])), ages.ym_index_of(today))[0])
    flags = pd.DataFrame(columns=["rule_id", "label", "flagged", "reason", "threshold", "disclosure",
                                  "first_date", "last_date"])
    rows = pd.DataFrame(columns=["rule_id", "event_id", "role", "source", "date", "description", "value", "as_of",
                                 "disclosure"])
    can_custody = session.can(roles.VIEW_CUSTODY)
    rules: list[dict] = []
    urgent_date = None
    if run is not None:
        f = pd.DataFrame(conn.execute(f"SELECT {', '.join(FLAG_COLUMNS)} FROM flags WHERE run_id = ? AND person_id = ?",
                                      (run["run_id"], pid)).fetchall(), columns=FLAG_COLUMNS)
        rules = _rules_of_run(run)
        meta = {r["rule_id"]: r for r in rules}
        f = f[~f["rule_id"].isin(_hidden_rules(session, rules))].copy()
        f["flagged"] = f["flagged"].fillna(0).astype(bool)
        f["label"] = f["rule_id"].map(lambda r: meta.get(r, {}).get("label", r))
        # the stored per-flag class (strictest of rule and evidence, set by the engine at the run);
        # never more open than the rule's own class
        f["disclosure"] = [disclosure.strictest(a, meta.get(r, {}).get("disclosure"))
                           for a, r in zip(f["disclosure"], f["rule_id"])]
        f["first_date"], f["last_date"] = pd.to_datetime(f["first_date"]), pd.to_datetime(f["last_date"])
        rows = _evidence_rows(conn, run["run_id"], pid, f, can_custody, source_as_of)
        f["disclosure"] = disclosure.flag_classes(f, rows)
        flags = f.reindex(columns=flags.columns)
        hit = conn.execute("SELECT urgent_date FROM scores WHERE run_id = ? AND person_id = ? AND urgent = 1",
                           (run["run_id"], pid)).fetchone()
        urgent_date = pd.Timestamp(hit[0]) if hit and hit[0] else None
    household = _household(session, child, run, rules, today)
    ev = ChildEvidence(person_id=pid, pseudonym=display_pseudonym(pid), district=child["district"],
                       town=child["town"], age_months=age, flags=flags, rows=rows, household=household,
                       followups=followup_history(session, pid), source_as_of=source_as_of)
    ev.urgent_date = urgent_date
    ev.urgent_ago = extraction.months_ago(urgent_date, today) if urgent_date is not None else ""
    return ev


def _household(session, child: pd.Series, run: dict | None, rules: list[dict], today) -> pd.DataFrame:
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
    ids = rel["person_id"].tolist()
    members = pd.DataFrame(conn.execute(
        f"SELECT person_id, birth_ym, kind FROM persons WHERE person_id IN ({','.join('?' * len(ids))})", ids
    ).fetchall(), columns=["person_id", "birth_ym", "kind"])
    rel = rel.merge(members, on="person_id", how="left")
    age = ages.age_months(ages.ym_index_from_text(rel["birth_ym"].fillna("")), ages.ym_index_of(today))
    flags_text = pd.Series("", index=rel.index, dtype=object)
    printable = flags_text
    if run is not None and len(rel):
        marks = ",".join("?" * len(rel))
        fl = pd.DataFrame(conn.execute(
            f"SELECT person_id, rule_id, disclosure FROM flags WHERE run_id = ? AND flagged AND person_id IN ({marks})",
            [run["run_id"], *rel["person_id"].tolist()]).fetchall(), columns=["person_id", "rule_id", "disclosure"])
        meta = {r["rule_id"]: r for r in rules}
        if not session.can(roles.VIEW_CUSTODY):
            fl = fl[~_restricted(fl["rule_id"], meta)]
        fl["label"] = fl["rule_id"].map(lambda r: meta.get(r, {}).get("label", r))
        joined = worklist.join_by_group(fl["label"].to_numpy(dtype=object), fl["person_id"].to_numpy(dtype=object),
                                        rel["person_id"].to_numpy(dtype=object), sep="・")
        flags_text = pd.Series(joined, index=rel.index)
        # The printed sheet lists only the members' flags that are not ✕ (their stored class).
        ok = fl[fl["disclosure"].fillna("staff") != "never"]
        printable = pd.Series(worklist.join_by_group(ok["label"].to_numpy(dtype=object), ok["person_id"].to_numpy(dtype=object),
                                                     rel["person_id"].to_numpy(dtype=object), sep="・"), index=rel.index)
    return pd.DataFrame({
        "person_id": rel["person_id"],
        "pseudonym": [display_pseudonym(p) for p in rel["person_id"]],
        "relation": rel["relation"].map(lambda r: labels.get(r, r)),
        "age_months": pd.Series(age, index=rel.index).where(rel["birth_ym"].fillna("") != "").astype("Float64"),
        "flags": flags_text,
        "printable_flags": printable,
        "disclosure": "staff",
    })


def list_export_frame(data: WorklistData, with_score: bool) -> pd.DataFrame:
    """The list export's columns (issue 15 interface), in the role's rank order: rank,
    research_id, district, urgent (0/1), follow_up, one 0/1 column per rule the role may see
    named by rule id, and score/probability only for a role with the score."""
    f = data.frame.sort_values("rank", kind="stable")
    out = pd.DataFrame({"rank": f["rank"].to_numpy(dtype=int), "research_id": f["person_id"].to_numpy(dtype=object),
                        "district": f["district"].to_numpy(dtype=object),
                        "urgent": f["urgent"].to_numpy(dtype=bool).astype(int),
                        "follow_up": f["followup_status"].to_numpy(dtype=object)})
    for r in data.rules:
        out[r["rule_id"]] = f[FLAG_PREFIX + r["rule_id"]].to_numpy(dtype=bool).astype(int)
    if with_score:
        out["score"] = f["score"].to_numpy(dtype=float)
        out["probability"] = f["probability"].to_numpy(dtype=float)
    return out


def list_export_notes(data: WorklistData) -> tuple[str, ...]:
    """The legend under the exported list: each rule column's disclosure class (the strictest
    any of its flags has in the run, as the list shows it), so a printout keeps what the
    screen's ○△✕ say."""
    from app.engine.subject_access import DISCLOSURE_MARKS
    from app.engine.timeline_layout import DISCLOSURE_LABELS

    if not data.rules:
        return ()
    classes = "、".join(f"{r['rule_id']}={DISCLOSURE_MARKS.get(r['disclosure'], '△')}"
                       f"{DISCLOSURE_LABELS.get(r['disclosure'], DISCLOSURE_LABELS['staff'])}" for r in data.rules)
    notes = [f"開示区分（列ごと）: {classes}"]
    if any(r["disclosure"] == "never" for r in data.rules):
        notes.append("✕開示厳禁の列は、本人・家族に見せたり伝えたりしないでください。")
    return tuple(notes)


@requires(roles.EXPORT_LIST, data_class="children")
def export_list(session, path, *, encrypt: bool = True, passphrase: str | None = None,
                plaintext_confirmed: bool = False, target: str | None = None, extracted_only: bool = False):
    """The working list through the export gate: every child the role may see, in the role's own
    order (a nurse: her area and her order, no score) — the 抽出 come first, as on screen;
    ``extracted_only`` keeps just them."""
    from app.store.exports import export_frame

    data = worklist_data(session, target=target)
    if extracted_only and len(data.frame):
        data.frame = data.frame[data.frame["extracted"].to_numpy(dtype=bool)]
    out = list_export_frame(data, session.can(roles.VIEW_SCORE))
    return export_frame(session, out, path, capability=roles.EXPORT_LIST, kind="list", encrypt=encrypt,
                        passphrase=passphrase, plaintext_confirmed=plaintext_confirmed,
                        notes=list_export_notes(data),
                        title="作業リスト", object_ids=out["research_id"].tolist())
