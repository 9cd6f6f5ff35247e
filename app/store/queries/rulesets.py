"""Role-checked access to rule sets and scoring runs for the rules view.

data_admin manages rule sets (MANAGE_RULES) and runs scoring; cg_manager reads them with
the validation figures (VIEW_SCORE + VIEW_CUSTODY, since they are computed against the
child-guidance list). Only aggregates leave here: flag counts per rule, never rows.
"""

from __future__ import annotations

import pandas as pd

from app.engine.rules.model import parse_ruleset
from app.store import roles, scoring_runs
from app.store.database import transaction
from app.store.queries import requires

RULESET_COLUMNS = ["ruleset_id", "version", "target", "title", "active", "created_at", "created_by", "note"]
RUN_COLUMNS = ["run_id", "created_at", "created_by", "target", "ruleset_id", "ruleset_version", "as_of",
               "children", "flagged"]


def _may_read_rules(session) -> None:
    if not (session.can(roles.MANAGE_RULES) or session.can(roles.VIEW_SCORE)):
        session.require(roles.MANAGE_RULES)


def list_rulesets(session) -> pd.DataFrame:
    """Every stored version of every rule set, newest first."""
    _may_read_rules(session)
    if session.can(roles.MANAGE_RULES):
        scoring_runs.ensure_shipped_rulesets(session)
    rows = session.conn.execute(
        f"SELECT {', '.join(RULESET_COLUMNS)} FROM rulesets ORDER BY target, ruleset_id, version DESC").fetchall()
    return pd.DataFrame(rows, columns=RULESET_COLUMNS)


def ruleset_text(session, ruleset_id: str, version: int) -> str:
    _may_read_rules(session)
    row = session.conn.execute("SELECT toml FROM rulesets WHERE ruleset_id=? AND version=?",
                               (ruleset_id, int(version))).fetchone()
    if row is None:
        raise KeyError(f"{ruleset_id}@{version}")
    return row[0]


def ruleset_rules(session, ruleset_id: str, version: int) -> pd.DataFrame:
    """One row per rule: id, label, kind, role, age bands, weight, disclosure, description."""
    text = ruleset_text(session, ruleset_id, version)
    rs = parse_ruleset(text, ruleset_id)
    rows = []
    for rule in rs.rules:
        ages = "、".join(f"{lo}〜{hi}か月" for lo, hi in rule.age_ranges)
        rows.append({
            "rule_id": rule.id, "label": rule.label, "kind": rule.kind, "role": rule.role,
            "ages": ages, "weight": rule.weight, "disclosure": rule.disclosure,
            "restricted": rule.restricted or "", "description": rule.description,
        })
    return pd.DataFrame(rows)


def check_ruleset(session, text: str) -> str:
    """Parse a rule set; returns its id or raises RuleSetError with the problem (Japanese)."""
    session.require(roles.MANAGE_RULES)
    return parse_ruleset(text, "編集中のルールセット").id


@requires(roles.MANAGE_RULES, data_class="admin")
def save_ruleset(session, text: str, activate: bool = False, note: str = "") -> tuple[str, int]:
    return scoring_runs.store_ruleset(session, text, activate=activate, note=note)


@requires(roles.MANAGE_RULES, data_class="admin")
def activate_ruleset(session, ruleset_id: str, version: int) -> None:
    conn = session.conn
    row = conn.execute("SELECT target FROM rulesets WHERE ruleset_id=? AND version=?",
                       (ruleset_id, int(version))).fetchone()
    if row is None:
        raise KeyError(f"{ruleset_id}@{version}")
    with transaction(conn):
        conn.execute("UPDATE rulesets SET active=0 WHERE target=?", (row[0],))
        conn.execute("UPDATE rulesets SET active=1 WHERE ruleset_id=? AND version=?", (ruleset_id, int(version)))
        session.audit("ruleset_activate", "ruleset", [f"{ruleset_id}@{version}"])


def list_scoring_runs(session) -> pd.DataFrame:
    """Runs, newest first, with their aggregate counts (no person rows)."""
    _may_read_rules(session)
    rows = session.conn.execute(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs ORDER BY run_id DESC").fetchall()
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def run_overview(session, run_id: int) -> dict:
    """What a run was and what it found: rule set, as-of dates, thresholds, weights,
    flag counts per rule; validation metrics only for roles that may see them."""
    _may_read_rules(session)
    run = scoring_runs.load_run(session.conn, int(run_id))
    if run is None:
        raise KeyError(run_id)
    hidden = set() if session.can(roles.VIEW_CUSTODY) else {r for r, v in run["restricted"].items() if v}
    counts = pd.DataFrame(session.conn.execute(
        "SELECT rule_id, SUM(flagged) FROM flags WHERE run_id=? GROUP BY rule_id", (int(run_id),)).fetchall(),
        columns=["rule_id", "flagged"])
    # Only fired flags are stored: a rule that flagged nobody has no rows, and counts 0.
    counts = (counts.set_index("rule_id").reindex(list(run["labels"])).fillna({"flagged": 0})
              .rename_axis("rule_id").reset_index())
    counts = counts[~counts["rule_id"].isin(hidden)]
    counts["label"] = counts["rule_id"].map(lambda r: run["labels"].get(r, r))
    counts["threshold"] = counts["rule_id"].map(lambda r: run["thresholds"].get(r, ""))
    counts["weight"] = counts["rule_id"].map(lambda r: run["weights"].get(r))
    show_metrics = session.can(roles.VIEW_SCORE) and session.can(roles.VIEW_CUSTODY)
    with transaction(session.conn):
        session.audit("run_view", "run", [run_id], {"metrics": show_metrics})
    notes = {k: v for k, v in ((run["metrics"] or {}).get("rule_notes") or {}).items() if k not in hidden}
    return {
        "notes": notes,
        "run_id": run["run_id"], "target": run["target"], "created_at": run["created_at"],
        "created_by": run["created_by"], "ruleset": f"{run['ruleset_id']}@{run['ruleset_version']}",
        "as_of": run["as_of"], "source_as_of": run["source_as_of"], "children": run["children"],
        "flagged": run["flagged"], "rules": counts.sort_values("rule_id").reset_index(drop=True),
        "metrics": run["metrics"] if show_metrics else None,
    }


def last_run_rule_counts(session, ruleset_id: str) -> dict | None:
    """The newest run of a rule set (any version): children, and per rule how many it flagged
    and its diagnostic note — so the rules list can say which rule flags none or most."""
    _may_read_rules(session)
    row = session.conn.execute("SELECT run_id FROM runs WHERE ruleset_id=? ORDER BY run_id DESC LIMIT 1",
                               (ruleset_id,)).fetchone()
    if row is None:
        return None
    run = scoring_runs.load_run(session.conn, int(row[0]))
    hidden = set() if session.can(roles.VIEW_CUSTODY) else {r for r, v in run["restricted"].items() if v}
    counts = dict(session.conn.execute(
        "SELECT rule_id, SUM(flagged) FROM flags WHERE run_id=? GROUP BY rule_id", (int(row[0]),)).fetchall())
    notes = (run["metrics"] or {}).get("rule_notes") or {}
    # Only fired flags are stored: a rule of the run with no rows flagged nobody (0).
    return {"run_id": run["run_id"], "version": run["ruleset_version"], "children": run["children"],
            "counts": {k: int(counts.get(k, 0) or 0) for k in run["labels"] if k not in hidden},
            "notes": {k: v for k, v in notes.items() if k not in hidden}}


def start_scoring(session, progress=None) -> list[int]:
    """Run the active rule set of every target (RUN_SCORING)."""
    session.require(roles.RUN_SCORING)
    return scoring_runs.run_scoring(session, progress=progress)


# Declarations for the governance role matrix (tests/test_governance_matrix.py).
QUERY_ANY_OF = {
    "list_rulesets": (roles.MANAGE_RULES, roles.VIEW_SCORE),
    "ruleset_text": (roles.MANAGE_RULES, roles.VIEW_SCORE),
    "ruleset_rules": (roles.MANAGE_RULES, roles.VIEW_SCORE),
    "list_scoring_runs": (roles.MANAGE_RULES, roles.VIEW_SCORE),
    "run_overview": (roles.MANAGE_RULES, roles.VIEW_SCORE),
    "last_run_rule_counts": (roles.MANAGE_RULES, roles.VIEW_SCORE),
}
QUERY_CAPABILITIES = {
    "check_ruleset": (roles.MANAGE_RULES,),
    "start_scoring": (roles.RUN_SCORING,),
}
QUERY_DATA_CLASSES = {
    "list_rulesets": "admin", "ruleset_text": "admin", "ruleset_rules": "admin", "list_scoring_runs": "admin",
    "check_ruleset": "admin", "start_scoring": "admin",
    # Per-rule counts for everyone allowed; metrics against the list only with VIEW_CUSTODY.
    "run_overview": "aggregates",
    "last_run_rule_counts": "aggregates",
}
