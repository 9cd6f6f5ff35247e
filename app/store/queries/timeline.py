"""One child's timeline, role-checked and audited, plus the timeline templates.

``load_child_timeline(session, person_id, run_id=None)`` is the only way the timeline view gets
case data (flags and "today" from ``run_id`` — the run the working list showed — or else from the
newest run of the default target):
- requires VIEW_TIMELINE, and the child must be in the user's visible districts;
- custody (child-guidance) events only with VIEW_CUSTODY — removed here, so a nurse's view
  never receives them (and their evidence rows are dropped with them);
- raw extraction-only data (income bracket, RAW_ONLY_TYPES) only with VIEW_CUSTODY (the full
  view of cg_manager); nurses see such facts only as a flag with its reason (DOMAIN.md);
- every open is audited: ``view_child`` with the child's id.

Templates: shipped ones (resources/config/timeline_templates.toml) with data_admin's
overrides applied (MANAGE_RULES edits them), plus the user's own saved ones.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from app.engine import catalogue, extraction
from app.engine import timeline_layout as tl
from app.engine.pseudonyms import display_pseudonym
from app.store import roles
from app.store.audit import VIEW_CHILD, now_iso
from app.store.database import transaction
from app.store.frames import events_frame, household_assistance_frame, persons_frame, relations_frame, sources_frame
from app.store.queries import requires

RAW_ONLY_TYPES = catalogue.raw_only_types()
CUSTODY_TYPES = catalogue.custody_types()
_RELATION_JA = {"mother": "母", "father": "父", "guardian": "保護者", "sibling": "きょうだい"}


class ChildNotVisible(LookupError):
    """The child does not exist or is outside the user's districts (message for the user)."""


class RunNotFound(LookupError):
    """The scoring run asked for is not in the store (message for the user)."""


DEFAULT_TARGET = "abuse"
_RUN_COLUMNS = ["run_id", "target", "ruleset_id", "ruleset_version", "as_of", "restricted"]


def _birth_date(birth_ym: str) -> dt.date | None:
    # The analysis data holds the birth month only; mid-month keeps curves within ±2 weeks.
    try:
        year, month = int(birth_ym[:4]), int(birth_ym[5:7])
        return dt.date(year, month, 15)
    except (TypeError, ValueError):
        return None


def _date_or_none(value) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _household(conn, child: pd.Series) -> pd.DataFrame:
    """Household members: relations of the child, the mother, and persons of the same household."""
    pid = child["person_id"]
    rel = relations_frame(conn, [pid])
    rel = rel[rel["related_id"] != pid]
    members = {r.related_id: r.relation for r in rel.itertuples()}
    if child["mother_id"]:
        members.setdefault(child["mother_id"], "mother")
    if child["household_id"]:
        same = conn.execute("SELECT person_id, kind FROM persons WHERE household_id = ? AND person_id <> ?",
                            (child["household_id"], pid)).fetchall()
        for other, kind in same:
            members.setdefault(other, "sibling" if kind == "child" else "guardian")
    frame = pd.DataFrame({"person_id": list(members), "relation": list(members.values())})
    frame["label"] = [f"{_RELATION_JA.get(r, r)} {display_pseudonym(p)}"
                      for p, r in zip(frame["person_id"], frame["relation"])]
    return frame


def _shown_run(conn, run_id: int | None) -> dict | None:
    """The run whose flags and as-of date the timeline shows: ``run_id`` (the list's run), or
    the newest run of the default target; None before any run."""
    cols = ", ".join(_RUN_COLUMNS)
    if run_id is None:
        row = conn.execute(f"SELECT {cols} FROM runs WHERE target = ? ORDER BY run_id DESC LIMIT 1",
                           (DEFAULT_TARGET,)).fetchone()
    else:
        row = conn.execute(f"SELECT {cols} FROM runs WHERE run_id = ?", (int(run_id),)).fetchone()
        if row is None:
            raise RunNotFound(f"判定結果（実行番号 {int(run_id)}）が見つかりません")
    return None if row is None else dict(zip(_RUN_COLUMNS, row))


def _flags_and_evidence(conn, pid: str, run: dict | None,
                        hide_restricted: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The child's flags and evidence from the scoring ``run`` (none without a run).

    Rules derived from child-guidance data (``restricted``) are dropped unless the caller
    may see custody records, together with their evidence rows.
    """
    empty = tl.TimelineData(child={}, events=pd.DataFrame())
    flags, evidence = empty.flags, empty.evidence
    if run is None:
        return flags, evidence
    run_id = run["run_id"]
    columns = [*flags.columns, "restricted"]
    rows = conn.execute(f"SELECT {', '.join(columns)} FROM flags WHERE person_id = ? AND run_id = ?",
                        (pid, run_id)).fetchall()
    found = pd.DataFrame(rows, columns=columns)
    if hide_restricted:
        found = found[found["restricted"].fillna("") == ""]
    restricted = json.loads(run["restricted"] or "{}")
    hidden_rules = set() if not hide_restricted else {r for r, v in restricted.items() if v}
    flags = found.reindex(columns=flags.columns)
    flags["flagged"] = flags["flagged"].fillna(0).astype(bool)
    for c in ("first_date", "last_date"):
        flags[c] = pd.to_datetime(flags[c])
    rows = conn.execute(f"SELECT {', '.join(evidence.columns)} FROM evidence WHERE person_id = ? AND run_id = ?",
                        (pid, run_id)).fetchall()
    evidence = pd.DataFrame(rows, columns=list(evidence.columns))
    evidence = evidence[~evidence["rule_id"].isin(hidden_rules)].reset_index(drop=True)
    return flags.reset_index(drop=True), evidence


@requires(roles.VIEW_TIMELINE, data_class="timeline")
def load_child_timeline(session, person_id: str, run_id: int | None = None) -> tl.TimelineData:
    """Everything the timeline may show this user about one child (audited as ``view_child``).

    Flags and "today" come from ``run_id`` when given (the run the working list showed, so the
    list and the timeline agree about the child), else from the newest run of the default target.
    """
    conn = session.conn
    pid = str(person_id)
    run = _shown_run(conn, run_id)
    persons = persons_frame(conn, session.visible_districts(), [pid])
    if persons.empty or persons.iloc[0]["kind"] != "child":
        raise ChildNotVisible("この子どもの記録は表示できません（担当地区外か、存在しません）")
    child = persons.iloc[0]
    members = _household(conn, child)
    ids = [pid, *members["person_id"].tolist()]
    events = events_frame(conn, person_ids=ids)
    if child["household_id"]:
        # Household-level events (public assistance) may sit on a householder outside `ids`.
        household = household_assistance_frame(conn, child["household_id"])
        household = household[~household["event_id"].isin(events["event_id"])]
        events = pd.concat([events, household], ignore_index=True) if len(household) else events
    hidden = []
    if not session.can(roles.VIEW_CUSTODY):
        hidden += [*CUSTODY_TYPES, *RAW_ONLY_TYPES]
    events = events[~events["type"].isin(hidden)].reset_index(drop=True)
    flags, evidence = _flags_and_evidence(conn, pid, run, hide_restricted=not session.can(roles.VIEW_CUSTODY))
    evidence = evidence[evidence["event_id"].isin(events["event_id"])].reset_index(drop=True)
    sources = sources_frame(conn)
    if not session.can(roles.VIEW_CUSTODY):
        sources = sources[~sources["source"].isin(catalogue.custody_sources())]
    as_of_by_source = {s: _date_or_none(v) for s, v in sources.groupby("source")["as_of"].max().items()}
    # "today" is the engine's one definition: the as-of date of the run whose flags are shown
    # (else the data's date) — never the machine's date, so ages and windows match the list
    today = extraction.run_today(None if run is None else run["as_of"], extraction.source_data_dates(sources))
    as_of = None if today is None else today.date()
    data = tl.TimelineData(
        child={"person_id": pid, "pseudonym": display_pseudonym(pid), "sex": child["sex"],
               "birth_date": _birth_date(child["birth_ym"]), "birth_ym": child["birth_ym"],
               "resident_from": _date_or_none(child["resident_from"]),
               "resident_to": _date_or_none(child["resident_to"]),
               "moved_in": bool(child["moved_in"]), "household_id": child["household_id"]},
        events=events, members=members, flags=flags, evidence=evidence,
        sources=as_of_by_source, as_of=as_of,
        run=None if run is None else {k: run[k] for k in _RUN_COLUMNS if k != "restricted"})
    data.windows = tl.child_vaccine_windows(data)
    with transaction(conn):
        session.audit(VIEW_CHILD, object_type="person", object_ids=[pid],
                      detail={"view": "timeline", "events": int(len(events)),
                              "run_id": None if run is None else int(run["run_id"])})
    return data


# -- templates ----------------------------------------------------------------------------
def _overrides(conn) -> dict[str, dict]:
    return {tid: json.loads(d) for tid, d in
            conn.execute("SELECT template_id, definition FROM timeline_template_overrides")}


@requires(roles.VIEW_TIMELINE, data_class="admin")
def load_templates(session) -> list[tl.LaneTemplate]:
    """Shipped templates (with data_admin's edits) offered to this role, then the user's own."""
    overrides = _overrides(session.conn)
    shipped = [tl.template_from_dict(overrides[t.id]) if t.id in overrides else t
               for t in tl.shipped_templates()]
    shipped = [t for t in shipped if not t.roles or session.role in t.roles]
    rows = session.conn.execute(
        "SELECT definition FROM timeline_user_templates WHERE user = ? ORDER BY template_id",
        (session.user,)).fetchall()
    own = [tl.template_from_dict(json.loads(d), shipped=False, owner=session.user) for (d,) in rows]
    return shipped + own


@requires(roles.VIEW_TIMELINE, data_class="admin")
def save_user_template(session, base_id: str, name: str, lanes: list[str],
                       series: str | None = None) -> tl.LaneTemplate:
    """Save the user's own template derived from ``base_id``; its must-see lanes always stay."""
    base = {t.id: t for t in load_templates(session) if t.shipped}.get(base_id)
    if base is None:
        raise KeyError(base_id)
    template_id = f"user:{base_id}:{name}"
    template = tl.template_from_dict({
        "id": template_id, "name": name, "lanes": [k for k in lanes if k in base.lanes],
        "must_see": base.must_see, "roles": [session.role], "series": series or base.series,
    }, shipped=False, owner=session.user)
    with transaction(session.conn):
        session.conn.execute(
            "INSERT OR REPLACE INTO timeline_user_templates(user, template_id, base_id, definition, updated_at)"
            " VALUES (?,?,?,?,?)",
            (session.user, template_id, base_id, json.dumps(template.as_dict(), ensure_ascii=False), now_iso()))
        session.audit("timeline_template_save", object_type="template", object_ids=[template_id])
    return template


@requires(roles.MANAGE_RULES, data_class="admin")
def edit_shipped_template(session, definition: dict) -> tl.LaneTemplate:
    """data_admin replaces a shipped template's definition (validated; audited)."""
    shipped_ids = {t.id for t in tl.shipped_templates()}
    template = tl.template_from_dict(definition)
    if template.id not in shipped_ids:
        raise KeyError(template.id)
    with transaction(session.conn):
        session.conn.execute(
            "INSERT INTO timeline_template_overrides(template_id, definition, version, edited_by, edited_at)"
            " VALUES (?,?,1,?,?) ON CONFLICT(template_id) DO UPDATE SET definition=excluded.definition,"
            " version=version+1, edited_by=excluded.edited_by, edited_at=excluded.edited_at",
            (template.id, json.dumps(template.as_dict(), ensure_ascii=False), session.user, now_iso()))
        session.audit("timeline_template_edit", object_type="template", object_ids=[template.id])
    return template
