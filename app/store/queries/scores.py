"""Role-checked reads of scoring runs (issue 5).

- flags and their reasons: nurse and cg_manager (VIEW_CHILDREN), within their districts;
- the numeric score, probability and the validation metrics: only with VIEW_SCORE;
- anything derived from child-guidance data — rules marked ``restricted = "custody"``, the
  on-list state, the metrics computed against the list — only with VIEW_CUSTODY (cg_manager).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.engine import catalogue
from app.store import frames, roles
from app.store.queries import requires
from app.store.scoring_runs import compare_runs, load_run, run_table

FLAG_COLUMNS = ["person_id", "rule_id", "flagged", "reason", "threshold", "label", "disclosure", "restricted",
                "first_date", "last_date"]


def _visible_ids(session, run_id: int) -> list[str]:
    where, params = session.district_filter_sql("p.district")
    rows = session.conn.execute(
        f"SELECT s.person_id FROM scores s JOIN persons p ON p.person_id = s.person_id"
        f" WHERE s.run_id = ? AND {where}", [run_id, *params]).fetchall()
    return [r[0] for r in rows]


def _run_or_none(session, run_id, target):
    return load_run(session.conn, run_id, target)


def _hide_custody(session, run: dict) -> set[str]:
    if session.can(roles.VIEW_CUSTODY):
        return set()
    return {rid for rid, r in (run.get("restricted") or {}).items() if r}


@requires(roles.VIEW_CHILDREN, data_class="children")
def list_runs(session, target: str | None = None) -> pd.DataFrame:
    """Runs (newest first): id, date, target, rule set, as-of, children, flagged. No metrics."""
    where, params = ("WHERE target=?", [target]) if target else ("", [])
    rows = session.conn.execute(
        f"SELECT run_id, created_at, created_by, target, ruleset_id, ruleset_version, as_of, children, flagged"
        f" FROM runs {where} ORDER BY run_id DESC", params).fetchall()
    return pd.DataFrame(rows, columns=["run_id", "created_at", "created_by", "target", "ruleset_id",
                                       "ruleset_version", "as_of", "children", "flagged"])


@requires(roles.VIEW_CHILDREN, data_class="children")
def run_flags(session, run_id: int | None = None, target: str = "abuse", person_ids=None,
              flagged_only: bool = True) -> pd.DataFrame:
    """Flags with reason and threshold for the children the user may see."""
    run = _run_or_none(session, run_id, target)
    if run is None:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    ids = _visible_ids(session, run["run_id"])
    if person_ids is not None:
        ids = sorted(set(ids) & {str(p) for p in person_ids})
    f = run_table(session.conn, "flags", run["run_id"], FLAG_COLUMNS, ids)
    f = f[~f["rule_id"].isin(_hide_custody(session, run))]
    if flagged_only:
        f = f[f["flagged"] == 1]
    return f.reset_index(drop=True)


@requires(roles.VIEW_CHILDREN, data_class="children")
def child_evidence(session, person_id: str, run_id: int | None = None, target: str = "abuse") -> pd.DataFrame:
    """The event rows behind each flag of one child: rule, role, source, date, type, value."""
    run = _run_or_none(session, run_id, target)
    cols = ["rule_id", "role", "event_id", "source", "date", "type", "subtype", "value_num", "value_text",
            "disclosure"]
    if run is None or str(person_id) not in set(_visible_ids(session, run["run_id"])):
        return pd.DataFrame(columns=cols)
    ev = run_table(session.conn, "evidence", run["run_id"], ["person_id", "rule_id", "event_id", "role"], [person_id])
    ev = ev[~ev["rule_id"].isin(_hide_custody(session, run))]
    ids = ev["event_id"].astype("int64").tolist()
    if not ids:
        return pd.DataFrame(columns=cols)
    q = session.conn.execute(
        f"SELECT event_id, source, date, type, subtype, value_num, value_text, disclosure FROM events"
        f" WHERE event_id IN ({','.join('?' * len(ids))})", ids).fetchall()
    events = pd.DataFrame(q, columns=["event_id", "source", "date", "type", "subtype", "value_num", "value_text",
                                      "disclosure"])
    if not session.can(roles.VIEW_CUSTODY):
        events = events[~events["type"].isin(catalogue.custody_types())
                        & ~events["source"].isin(catalogue.custody_sources())]
    out = ev.merge(events, on="event_id")
    return out[cols].sort_values(["rule_id", "date"]).reset_index(drop=True)


@requires(roles.VIEW_SCORE, data_class="score")
def run_scores(session, run_id: int | None = None, target: str = "abuse") -> pd.DataFrame:
    """Score, probability and rank per visible child."""
    run = _run_or_none(session, run_id, target)
    cols = ["person_id", "target", "score", "probability", "rank"]
    if run is None:
        return pd.DataFrame(columns=cols)
    return run_table(session.conn, "scores", run["run_id"], cols, _visible_ids(session, run["run_id"]))


@requires(roles.VIEW_CHILDREN, data_class="children")
def run_follow_state(session, run_id: int | None = None, target: str = "abuse") -> pd.DataFrame:
    """Follow-up state at run time; the on-list columns only with VIEW_CUSTODY."""
    run = _run_or_none(session, run_id, target)
    cols = ["person_id", "followed", "follow_status", "follow_date", "follow_source", "on_custody_list",
            "custody_first_date"]
    if run is None:
        return pd.DataFrame(columns=cols)
    f = run_table(session.conn, "run_follow", run["run_id"], cols, _visible_ids(session, run["run_id"]))
    if not session.can(roles.VIEW_CUSTODY):
        f = f.drop(columns=["on_custody_list", "custody_first_date"])
    return f


@requires(roles.VIEW_SCORE, roles.VIEW_CUSTODY, data_class="custody")
def run_metrics(session, run_id: int | None = None, target: str = "abuse") -> dict:
    """Validation figures of a run (computed against the child-guidance list)."""
    run = _run_or_none(session, run_id, target)
    return {} if run is None else {"run_id": run["run_id"], "ruleset": f"{run['ruleset_id']}@{run['ruleset_version']}",
                                   "as_of": run["as_of"], "source_as_of": run["source_as_of"],
                                   "thresholds": run["thresholds"], "weights": run["weights"],
                                   "metrics": run["metrics"]}


@requires(roles.VIEW_SCORE, data_class="score")
def compare(session, run_a: int, run_b: int, top_k: int | None = None) -> dict:
    """Who entered / left 抽出 (or the top-k when given) between two runs, among the children the user may see."""
    ids = set(_visible_ids(session, run_a)) | set(_visible_ids(session, run_b))
    return compare_runs(session.conn, run_a, run_b, top_k, sorted(ids))


@requires(roles.EXPORT_FLAGS, data_class="children")
def flags_export_frame(session, run_id: int | None = None, target: str = "abuse") -> pd.DataFrame:
    """One row per child: research_id, district, age in months, one 0/1 column per flag rule,
    score (only with VIEW_SCORE), follow-up state. Custody-derived columns only with VIEW_CUSTODY."""
    run = _run_or_none(session, run_id, target)
    if run is None:
        return pd.DataFrame(columns=["research_id", "district", "age_months"])
    rid = run["run_id"]
    ids = _visible_ids(session, rid)
    conn = session.conn
    f = run_table(conn, "flags", rid, ["person_id", "rule_id", "flagged"], ids)
    hidden = _hide_custody(session, run)
    f = f[~f["rule_id"].isin(hidden)]
    # Every rule of the run gets a column and every visible child a row: the store keeps only
    # the flags that fired, so a missing (child, rule) pair is a 0.
    rules = [r for r in run["labels"] if r not in hidden]
    wide = (f.pivot(index="person_id", columns="rule_id", values="flagged")
            .reindex(index=pd.Index(ids, name="person_id"), columns=rules).fillna(0).astype(int))
    persons = frames.persons_frame(conn, person_ids=ids).set_index("person_id")
    from app.engine.rules import ages
    age = ages.age_months(ages.ym_index_from_text(persons["birth_ym"]), ages.ym_index_of(run["as_of"]))
    out = pd.DataFrame({"research_id": wide.index, "district": persons["district"].reindex(wide.index).to_numpy(),
                        "age_months": pd.Series(age, index=persons.index).reindex(wide.index).to_numpy()})
    out["age_months"] = out["age_months"].astype("Int64")
    for r in rules:
        out[r] = wide[r].to_numpy()
    if session.can(roles.VIEW_SCORE):
        s = run_table(conn, "scores", rid, ["person_id", "score"], ids).set_index("person_id")["score"]
        out["score"] = s.reindex(wide.index).to_numpy()
    fo = run_table(conn, "run_follow", rid, ["person_id", "followed"], ids).set_index("person_id")["followed"]
    out["follow_up"] = np.where(fo.reindex(wide.index).fillna(0).to_numpy() == 1, "フォロー済み", "未")
    return out.reset_index(drop=True)
