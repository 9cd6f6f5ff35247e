"""Role-checked access to the audit log: verification, the auditor's search and the
unusual-access report.

The auditor sees the log only (ids and actions, never case contents); data_admin may
verify the chain because verifying reveals nothing.
"""

from __future__ import annotations

import json

import pandas as pd

from app.store import audit, roles
from app.store.areas import expand
from app.store.database import transaction
from app.store.queries import requires

# verify_log needs either capability (verifying reveals no contents); the governance
# matrix reads this table for queries that are not decorated with @requires.
QUERY_ANY_OF = {"verify_log": (roles.VIEW_AUDIT, roles.MANAGE_USERS)}
QUERY_CAPABILITIES = {"accept_restore": (roles.MANAGE_USERS,)}
QUERY_DATA_CLASSES = {"accept_restore": "admin"}
LOG_COLUMNS = ["seq", "ts", "user", "role", "terminal", "action", "object_type", "object_ids", "detail"]
# Defaults for the unusual-access report: more than this many different children within
# the window is more than a home-visit preparation needs.
BURST_WINDOW_MINUTES = 10
BURST_CHILDREN = 20


def full_verification(conn, db_path, slots=None) -> audit.Verification:
    """Everything that can be checked from inside the store, without writing anything:
    the file's page HMACs and structure, the chain with its anchors and sealed head, the
    head kept in the key-slot file, and every account's signed grant."""
    from app.store.accounts import check_all_grants
    from app.store.keyslots import SlotFile
    from app.store.opening import DAMAGED, integrity_problems

    damage = integrity_problems(conn)
    if damage:
        return audit.Verification(False, 0, None, f"{DAMAGED}: {damage[0]}")
    result = audit.verify(conn)
    if not result.ok:
        return result
    if slots is None:
        slots = SlotFile.load(db_path)
    reason = audit.check_outside_head(conn, slots.audit_head)
    if reason is None and slots.audit_head is None and audit.has_history(conn) and slots.loaded_format >= 2:
        reason = "鍵ファイルに保管した操作ログの末尾情報がありません（削除されています）"
    if reason:
        return audit.Verification(False, result.entries, None, reason)
    problems = check_all_grants(conn)
    if problems:
        return audit.Verification(False, result.entries, None, "; ".join(problems[:3]))
    return result


def verify_log(session, against: dict | None = None) -> audit.Verification:
    """The verification made at login (``open_store(verify_first=True)``) or a fresh one, and
    optionally whether the store still extends the auditor's kept head; the check is logged."""
    # Verifying reveals no contents, so data_admin may run it as well as the auditor.
    if not (session.can(roles.VIEW_AUDIT) or session.can(roles.MANAGE_USERS)):
        session.require(roles.VIEW_AUDIT)
    result = session.preverified or full_verification(session.conn, session.db_path)
    if result.ok and against is not None:
        from app.store import meta

        reason = audit.check_against(session.conn, against, meta.get(session.conn, "grant_key"))
        if reason:
            result = audit.Verification(False, result.entries, None, reason)
    with transaction(session.conn):
        session.audit("audit_verify", detail={"ok": result.ok, "entries": result.entries,
                                              "first_broken": result.first_broken,
                                              "reason": result.reason[:200],
                                              "against": (against or {}).get("count")})
    return result


@requires(roles.VIEW_AUDIT, data_class="audit")
def save_head(session) -> dict:
    """The head for the auditor to keep outside the store (after this check is logged)."""
    from app.store import meta

    with transaction(session.conn):
        session.audit("audit_head_saved")
    return audit.kept_head(session.conn, session.user, meta.get(session.conn, "grant_key"))


def accept_restore(session, reason: str = "") -> int:
    """data_admin: acknowledge that the store was restored from an older copy (logged)."""
    session.require(roles.MANAGE_USERS)
    with transaction(session.conn):
        seq = audit.accept_restore(session.conn, session.db_path, user=session.user, role=session.role,
                                   terminal=session.terminal_id, reason=reason)
    audit.write_outside_head(session.conn, session.db_path)
    return seq


def _where(user: str | None, action: str | None, start: str | None, end: str | None) -> tuple[str, list]:
    clauses, params = [], []
    if user:
        clauses.append("user = ?")
        params.append(user)
    if action:
        clauses.append("action = ?")
        params.append(action)
    if start:
        # ts is ISO-8601 with offset; comparing the date prefix keeps the period inclusive.
        clauses.append("substr(ts, 1, 10) >= ?")
        params.append(start[:10])
    if end:
        clauses.append("substr(ts, 1, 10) <= ?")
        params.append(end[:10])
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


@requires(roles.VIEW_AUDIT, data_class="audit")
def search_log(session, user: str | None = None, action: str | None = None,
               start: str | None = None, end: str | None = None, limit: int | None = 10000,
               log_search: bool = True) -> pd.DataFrame:
    """Log entries filtered by user, action and period (ISO dates, inclusive), newest first."""
    where, params = _where(user, action, start, end)
    sql = f"SELECT {', '.join(LOG_COLUMNS)} FROM audit_log{where} ORDER BY seq DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    frame = pd.DataFrame(session.conn.execute(sql, params).fetchall(), columns=LOG_COLUMNS)
    if log_search:
        with transaction(session.conn):
            session.audit("audit_search", detail={"user": user, "action": action, "start": start,
                                                  "end": end, "rows": len(frame)})
    return frame


@requires(roles.VIEW_AUDIT, data_class="audit")
def terminal_labels(session) -> dict[str, str]:
    """Registered terminals' labels by id: the log shows a terminal by the name it was registered
    with (its id, what the entry records, stays in the tooltip and in every export)."""
    conn = session.conn
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='terminals'").fetchone():
        return {}
    return {tid: label for tid, label in conn.execute("SELECT terminal_id, label FROM terminals") if label}


@requires(roles.VIEW_AUDIT, data_class="audit")
def log_facets(session) -> dict[str, list[str]]:
    """Distinct users and actions, for the auditor's filter choices."""
    users = [r[0] for r in session.conn.execute("SELECT DISTINCT user FROM audit_log ORDER BY user")]
    actions = [r[0] for r in session.conn.execute("SELECT DISTINCT action FROM audit_log ORDER BY action")]
    return {"users": users, "actions": actions}


def _child_views(session, start: str | None, end: str | None) -> pd.DataFrame:
    placeholders = ",".join("?" * len(audit.CHILD_ACCESS_ACTIONS))
    where, params = _where(None, None, start, end)
    where = (where + " AND " if where else " WHERE ") + f"action IN ({placeholders})"
    rows = session.conn.execute(
        f"SELECT seq, ts, user, role, action, object_ids, detail FROM audit_log{where} ORDER BY seq",
        params + list(audit.CHILD_ACCESS_ACTIONS)).fetchall()
    views = pd.DataFrame(rows, columns=["seq", "ts", "user", "role", "action", "object_ids", "detail"])
    if views.empty:
        return views.assign(person_id=pd.Series(dtype=str), district=pd.Series(dtype=str))
    views["person_id"] = views["object_ids"].map(json.loads)
    views = views.explode("person_id").dropna(subset=["person_id"])
    # The district the child lived in, when the view recorded it; else the current one.
    views["district"] = views["detail"].map(lambda d: json.loads(d or "{}").get("district"))
    tables = {r[0] for r in session.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "persons" in tables and views["district"].isna().any():
        current = dict(session.conn.execute("SELECT person_id, district FROM persons").fetchall())
        views["district"] = views["district"].fillna(views["person_id"].map(current))
    return views


@requires(roles.VIEW_AUDIT, data_class="audit")
def unusual_access(session, start: str | None = None, end: str | None = None,
                   window_minutes: int = BURST_WINDOW_MINUTES,
                   burst_children: int = BURST_CHILDREN) -> pd.DataFrame:
    """Findings for the auditor: bursts (one user viewing more than ``burst_children``
    different children within ``window_minutes``) and views of children outside the
    user's area. One row per finding: kind, user, first_ts, last_ts, children, seqs, note.
    """
    views = _child_views(session, start, end)
    out_cols = ["kind", "user", "first_ts", "last_ts", "children", "seqs", "note"]
    findings: list[dict] = []
    if not views.empty:
        views["when"] = pd.to_datetime(views["ts"], utc=True, format="ISO8601")
        window = pd.Timedelta(minutes=window_minutes)
        for user, group in views.sort_values("when").groupby("user", sort=True):
            when = group["when"].dt.tz_convert(None).to_numpy()
            people = group["person_id"].to_numpy()
            # For each view, the views of the next `window`: distinct children in it.
            ends = when.searchsorted(when + window.to_timedelta64(), side="left")
            i, n = 0, len(when)
            while i < n:
                distinct = len(set(people[i:ends[i]]))
                if distinct > burst_children:
                    j = ends[i]
                    findings.append({
                        "kind": "burst", "user": user, "first_ts": group["ts"].iloc[i],
                        "last_ts": group["ts"].iloc[j - 1], "children": distinct,
                        "seqs": [int(s) for s in group["seq"].iloc[i:j].unique()],
                        "note": f"{window_minutes}分間に{distinct}人の記録を閲覧"})
                    i = j  # one finding per burst, not one per view inside it
                else:
                    i += 1
        areas = dict(session.conn.execute("SELECT name, areas FROM users").fetchall())
        for user, group in views.groupby("user", sort=True):
            user_areas = json.loads(areas.get(user, "[]"))
            if not user_areas:
                continue  # an account without an area is city-wide (or sees nothing at all)
            allowed = set(expand(user_areas))
            outside = group[group["district"].notna() & ~group["district"].isin(allowed)]
            if not outside.empty:
                findings.append({
                    "kind": "outside_area", "user": user, "first_ts": outside["ts"].iloc[0],
                    "last_ts": outside["ts"].iloc[-1], "children": int(outside["person_id"].nunique()),
                    "seqs": [int(s) for s in outside["seq"].unique()],
                    "note": "担当地区外の子どもを閲覧: " + "、".join(sorted(outside["district"].unique()))})
    with transaction(session.conn):
        session.audit("audit_unusual_report", detail={"findings": len(findings), "start": start, "end": end})
    return pd.DataFrame(findings, columns=out_cols)
