"""The timeline's role-checked query: custody only for cg_manager, district limits, audit, templates."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from app.store import roles
from app.store.areas import expand
from app.store.database import transaction
from app.store.queries.timeline import (ChildNotVisible, edit_shipped_template, load_child_timeline,
                                        load_templates, save_user_template)
from app.views.timeline.sample import CHILD_ID, MOTHER_ID, SIBLING_ID, sample_timeline_data
from tests.conftest import open_as

OWN = expand(["中央"])[0]          # a district of the nurse's centre
OTHER = [d for d in expand(["北"])][0]


@pytest.fixture
def store(store_with_roles):
    """The sample household written into a real store (tmp_path only)."""
    data = sample_timeline_data(60)
    conn = store_with_roles.conn
    with transaction(conn):
        for pid, kind, ym, district, moved, mother in [
                (CHILD_ID, "child", "2021-03", OWN, 1, MOTHER_ID), (MOTHER_ID, "adult", "1995-05", OWN, 1, ""),
                (SIBLING_ID, "child", "2023-06", OWN, 0, MOTHER_ID), ("1000009", "child", "2021-05", OTHER, 0, "")]:
            conn.execute("INSERT INTO persons(person_id, kind, sex, birth_ym, household_id, district, town,"
                         " nationality, resident_from, resident_to, moved_in, mother_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                         (pid, kind, "M", ym, "H0a1b2c3d" if pid != "1000009" else "Hffff0000", district, "",
                          "日本", "2022-01-15" if moved else None, None, moved, mother))
        ev = data.events.copy()
        ev["date"] = ev["date"].dt.strftime("%Y-%m-%d")
        for row in ev.itertuples(index=False):
            conn.execute(f"INSERT INTO events({', '.join(ev.columns)}) VALUES ({','.join('?' * len(ev.columns))})",
                         [None if (isinstance(v, float) and pd.isna(v)) else v for v in row])
        conn.execute("INSERT INTO sources VALUES ('kenshin','kenshin.csv','2025-02-28',1,'健康課',10,10,0,'utf-8')")
    path = store_with_roles.db_path
    return path, data


def _audited(session, action):
    rows = session.conn.execute("SELECT object_ids FROM audit_log WHERE action = ? AND user = ?",
                                (action, session.user)).fetchall()
    return [json.loads(r[0]) for r in rows]


def test_nurse_never_receives_child_guidance_records(store):
    path, data = store
    assert (data.events["type"] == "custody").any()
    nurse = open_as(path, "nurse")
    got = load_child_timeline(nurse, CHILD_ID)
    assert not (got.events["type"] == "custody").any()
    assert not (got.events["type"] == "income_bracket").any()   # raw extraction data
    assert not nurse.can(roles.VIEW_CUSTODY)
    manager = open_as(path, "manager")
    full = load_child_timeline(manager, CHILD_ID)
    assert (full.events["type"] == "custody").sum() == 1
    assert (full.events["type"] == "income_bracket").sum() == 1
    # Same record otherwise: the nurse's events are the manager's minus the hidden types.
    assert len(full.events) - len(got.events) == 2


def test_the_view_built_from_a_nurses_data_has_no_custody(qtbot, store):
    from app.views.timeline_view import TimelineView

    path, _ = store
    view = TimelineView(None)
    qtbot.addWidget(view)
    view.set_data(load_child_timeline(open_as(path, "nurse"), CHILD_ID))
    assert "custody" not in view.model.lane_keys()
    assert not (view.model.events["type"] == "custody").any()


def test_household_members_and_as_of(store):
    path, _ = store
    got = load_child_timeline(open_as(path, "manager"), CHILD_ID)
    assert set(got.members["person_id"]) == {MOTHER_ID, SIBLING_ID}
    assert (got.events["type"] == "epds").any()          # the mother's EPDS comes with the child
    assert got.sources["kenshin"].isoformat() == "2025-02-28"
    assert got.child["moved_in"] and got.child["resident_from"].isoformat() == "2022-01-15"
    assert got.child["pseudonym"] and "person_id" in got.child


def test_every_open_is_audited(store):
    path, _ = store
    nurse = open_as(path, "nurse")
    load_child_timeline(nurse, CHILD_ID)
    load_child_timeline(nurse, CHILD_ID)
    assert _audited(nurse, "view_child") == [[CHILD_ID], [CHILD_ID]]


def test_districts_and_roles_are_enforced(store):
    path, _ = store
    with pytest.raises(ChildNotVisible):
        load_child_timeline(open_as(path, "nurse"), "1000009")    # another centre's child
    with pytest.raises(ChildNotVisible):
        load_child_timeline(open_as(path, "nurse_noarea"), CHILD_ID)
    with pytest.raises(ChildNotVisible):
        load_child_timeline(open_as(path, "manager"), MOTHER_ID)   # not a child
    for user in ("chief", "auditor", "admin"):
        with pytest.raises(roles.AccessDenied):
            load_child_timeline(open_as(path, user), CHILD_ID)


def test_templates_per_role_user_copies_and_admin_edits(store):
    path, _ = store
    nurse = open_as(path, "nurse")
    ids = [t.id for t in load_templates(nurse)]
    assert "infant_visit" in ids and "cg_referral" not in ids          # 児相照会 is cg_manager's
    assert "cg_referral" in [t.id for t in load_templates(open_as(path, "manager"))]
    mine = save_user_template(nurse, "infant_visit", "私の訪問前", ["flags", "household"])
    assert set(mine.must_see) <= set(mine.lanes) and "household" in mine.lanes
    assert "guardian" in mine.lanes                                      # must-see kept
    reloaded = [t for t in load_templates(nurse) if not t.shipped]
    assert [t.name for t in reloaded] == ["私の訪問前"]
    assert not [t for t in load_templates(open_as(path, "manager")) if not t.shipped]
    with pytest.raises(roles.AccessDenied):
        edit_shipped_template(nurse, {"id": "infant_visit", "name": "x", "lanes": ["flags"]})
    admin = open_as(path, "admin")
    edited = edit_shipped_template(admin, {"id": "infant_visit", "name": "乳児訪問（改）",
                                           "lanes": ["flags", "checkup", "dental"], "must_see": ["flags"],
                                           "roles": ["nurse"]})
    assert edited.name == "乳児訪問（改）"
    names = [t.name for t in load_templates(open_as(path, "nurse"))]
    assert "乳児訪問（改）" in names
    assert _audited(admin, "timeline_template_edit") == [["infant_visit"]]


def test_view_opens_through_the_worker_and_saves_a_template(qtbot, store):
    from app.views.context import AppContext
    from app.views.timeline_view import TimelineView
    from app.views.worker import ImmediateWorker

    path, _ = store
    nurse = open_as(path, "nurse")
    context = AppContext(nurse, ImmediateWorker())
    view = TimelineView(context)
    qtbot.addWidget(view)
    context.selection.open_child.emit(CHILD_ID)            # e.g. from the working list
    assert view.data is not None and view.data.child["person_id"] == CHILD_ID
    assert not view.data.is_sample and not view.sample_badge.isVisibleTo(view)
    assert "cg_referral" not in [t.id for t in view.templates]
    view.apply_template("infant_visit")
    view.set_lane_visible("household", False)
    view.save_template_as("訪問前チェック")
    assert view.template.name == "訪問前チェック" and not view.template.shipped
    assert "household" not in view.template.lanes and "guardian" in view.template.lanes
    assert "household" not in view.visible_lane_groups()
    context.selection.open_child.emit("1000009")              # outside her area
    assert "表示できません" in view.header.text()
    assert view.data is None and view.plot.model is None and not view.plot._items  # nothing left over


def test_the_timelines_today_is_the_runs_as_of_date_not_the_machines(store):
    """One "today" (issue 19): with a run, its as-of date; before any run, the data's date."""
    import datetime as dt

    path, _ = store
    nurse = open_as(path, "nurse")
    # no run yet: the newest delivered data date (kenshin 2025-02-28), not date.today()
    assert load_child_timeline(nurse, CHILD_ID).as_of == dt.date(2025, 2, 28) != dt.date.today()
    with transaction(nurse.conn):
        nurse.conn.execute("INSERT INTO runs(created_at, created_by, target, ruleset_id, ruleset_version,"
                           " ruleset_text, as_of) VALUES ('2026-01-05T09:00:00', 'admin', 'abuse', 'abuse', 1, '',"
                           " '2024-12-31')")
    got = load_child_timeline(open_as(path, "nurse"), CHILD_ID)
    assert got.as_of == dt.date(2024, 12, 31)


def _two_runs(path) -> tuple[int, int]:
    """An older postpartum run (as of 2024-06-30, flag pp_rule) and a newer abuse run (as of
    2024-12-31, flag abuse_rule), both flagging CHILD_ID: (postpartum run, abuse run)."""
    admin = open_as(path, "nurse")
    conn = admin.conn
    ids = []
    with transaction(conn):
        for target, as_of, rule in (("postpartum", "2024-06-30", "pp_rule"), ("abuse", "2024-12-31", "abuse_rule")):
            cur = conn.execute("INSERT INTO runs(created_at, created_by, target, ruleset_id, ruleset_version,"
                               " ruleset_text, as_of) VALUES ('2026-01-05T09:00:00', 'admin', ?, ?, 3, '', ?)",
                               (target, target, as_of))
            ids.append(cur.lastrowid)
            conn.execute("INSERT INTO flags(run_id, person_id, rule_id, flagged, reason, first_date, last_date)"
                         " VALUES (?,?,?,1,'理由','2024-01-10','2024-02-10')", (cur.lastrowid, CHILD_ID, rule))
    return ids[0], ids[1]


def test_the_list_run_gives_the_timelines_flags_and_today(store):
    """Opened with the list's run, the timeline shows that run's flags and as-of date; without a
    run id, the newest run of the default target (abuse), as before."""
    import datetime as dt

    path, _ = store
    postpartum, abuse = _two_runs(path)
    nurse = open_as(path, "nurse")
    got = load_child_timeline(nurse, CHILD_ID, run_id=postpartum)
    assert got.flags["rule_id"].tolist() == ["pp_rule"]
    assert got.as_of == dt.date(2024, 6, 30)
    assert got.run["run_id"] == postpartum and got.run["target"] == "postpartum"
    default = load_child_timeline(nurse, CHILD_ID)
    assert default.flags["rule_id"].tolist() == ["abuse_rule"]
    assert default.as_of == dt.date(2024, 12, 31) and default.run["run_id"] == abuse
    assert _audited(nurse, "view_child") == [[CHILD_ID], [CHILD_ID]]
    with pytest.raises(LookupError, match="見つかりません"):
        load_child_timeline(nurse, CHILD_ID, run_id=abuse + 99)


def test_opening_from_the_list_passes_its_run_to_the_timeline(qtbot, store):
    """open_child_in_run reaches the view (also one created after the request, as the main
    window does); a plain open_child afterwards goes back to the default run."""
    import datetime as dt

    from app.views.context import AppContext
    from app.views.timeline_view import TimelineView
    from app.views.worker import ImmediateWorker

    path, _ = store
    postpartum, abuse = _two_runs(path)
    context = AppContext(open_as(path, "nurse"), ImmediateWorker())
    context.selection.child_selected.emit(CHILD_ID)
    context.selection.open_child_in_run.emit(CHILD_ID, postpartum)   # before the page exists
    view = TimelineView(context)
    qtbot.addWidget(view)
    assert view.data.run["run_id"] == postpartum and view.data.as_of == dt.date(2024, 6, 30)
    assert "pp_rule" in view.data.flags["rule_id"].tolist()
    assert "基準日 2024年6月30日" in view.freshness.text() and "postpartum v3" in view.freshness.text()
    view._reopen()                                  # a store change keeps the run asked for
    assert view.data.run["run_id"] == postpartum
    context.selection.open_child.emit(CHILD_ID)
    assert view.data.run["run_id"] == abuse and view.data.as_of == dt.date(2024, 12, 31)
    assert context.selection.run_for(CHILD_ID) is None
