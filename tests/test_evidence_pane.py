"""Issue 15, "it shows the wrong child": the evidence pane clears the moment the selection
changes, says 読み込み中, and never shows one child's facts under another child; it lets go
of a child who leaves the list; after a scoring run every open view shows the new run."""

from __future__ import annotations

import shutil
import time

import pytest

from app.views.context import AppContext, Selection
from app.views.list_view import ListView, SampleSource
from app.views.worker import ImmediateWorker
from conftest import open_as
from task_helpers import DeferredWorker


class _Session:
    role = "nurse"


def _deferred_view(qtbot, rows=300):
    worker = DeferredWorker()
    context = AppContext(_Session(), worker, Selection())
    source = SampleSource(rows, can_score=False)
    view = ListView(context, source=source)
    qtbot.addWidget(view)
    view.resize(1300, 800)
    view.show()
    worker.finish(worker.find("load"))          # the list itself arrives
    return view, worker, source


def _pane_child(view):
    ev = view.evidence.evidence
    return ev.person_id if ev is not None else None


def test_select_a_then_b_quickly_never_shows_a_under_b(qtbot):
    view, worker, source = _deferred_view(qtbot)
    worker.queue.clear()                        # the first row's request is not under test
    a, b = view.model.person_at(1), view.model.person_at(2)

    t0 = time.perf_counter()
    view.table.selectRow(1)
    cleared_ms = (time.perf_counter() - t0) * 1000
    # At once, before any answer: empty, 読み込み中, waiting for A.
    assert view.evidence.tree.topLevelItemCount() == 0 and "読み込み中" in view.evidence.title.text()
    assert view.evidence.requested == a and cleared_ms < 150
    view.table.selectRow(2)
    assert view.evidence.tree.topLevelItemCount() == 0 and b in view.evidence.title.text()
    assert worker.names() == ["evidence", "evidence"]

    # A's answer arrives while B is selected: nothing of A may appear.
    worker.finish(0)
    assert _pane_child(view) is None and "読み込み中" in view.evidence.title.text()
    worker.finish(0)
    assert _pane_child(view) == b and b in view.evidence.title.text()

    # Reordered: B requested, then A; B's late answer comes last and must be dropped.
    view.table.selectRow(2)   # still B: no new request
    assert worker.queue == []
    view.table.selectRow(1)
    view.table.selectRow(3)
    c = view.model.person_at(3)
    worker.finish(1)          # C answers first
    assert _pane_child(view) == c
    worker.finish(0)          # A's late answer (superseded): dropped
    assert _pane_child(view) == c
    # The pane's own guard, independent of the task keys: an answer for another child is refused.
    assert not view.evidence.set_evidence(source.evidence(a, view.data))
    assert _pane_child(view) == c and view.evidence.dropped >= 1


def test_filtering_the_shown_child_away_clears_the_pane(qtbot):
    context = AppContext(_Session(), ImmediateWorker(), Selection())
    view = ListView(context, source=SampleSource(300, can_score=False))
    qtbot.addWidget(view)
    view.show()
    view.table.selectRow(0)
    shown = _pane_child(view)
    district = view.model.frame.loc[view.model.frame["person_id"] == shown, "district"].iloc[0]
    other = next(d for d in view.model.frame["district"].unique() if d != district)
    bar = view.filters
    bar.district.setCurrentIndex(bar.district.findData(other))
    assert view.model.row_of_person(shown) < 0
    assert _pane_child(view) != shown
    assert shown not in view.evidence.title.text()


def test_following_up_a_child_takes_it_off_the_list_and_the_pane(qtbot):
    from app.engine import worklist

    context = AppContext(_Session(), ImmediateWorker(), Selection())
    source = SampleSource(300, can_score=False)
    view = ListView(context, source=source)
    qtbot.addWidget(view)
    view.show()
    # 至急 children stay on the list even when followed; take the first one who is not.
    frame = view.model.frame
    urgent = set(frame.loc[frame["urgent"].astype(bool), "person_id"]) if "urgent" in frame else set()
    row = next(r for r in range(view.model.rowCount()) if view.model.person_at(r) not in urgent)
    view.table.selectRow(row)
    pid = view.current_child()
    assert _pane_child(view) == pid
    view.record_followup(pid, {"status": "訪問済み", "date": "2025-03-01", "note": "",
                               "next_action_date": None})
    assert "訪問済み" in worklist.FOLLOWUP_STATUSES
    assert source.recorded and source.recorded[-1][0] == pid
    assert view.model.row_of_person(pid) < 0            # the default list is "not yet followed"
    assert _pane_child(view) != pid and pid not in view.evidence.title.text()


@pytest.fixture
def store_copy(scored_store, tmp_path):
    """A private copy of the shared scored store (this test writes a new run)."""
    path = tmp_path / "store.db"
    for f in scored_store.parent.glob(scored_store.name + "*"):   # the database and its key slots
        shutil.copy(f, tmp_path / f.name)
    return path


def test_after_a_scoring_run_every_open_view_shows_the_new_run(qtbot, store_copy, monkeypatch):
    from app.store.queries import rulesets as q
    from app.views.rules_view import RulesView
    from app.views.staffing_view import StaffingView
    from app.views.timeline_view import TimelineView

    session = open_as(store_copy, "manager")
    context = AppContext(session, ImmediateWorker(), Selection())
    views = {"list": ListView(context), "rules": RulesView(context), "staffing": StaffingView(context),
             "timeline": TimelineView(context)}
    for v in views.values():
        qtbot.addWidget(v)
        v.show()
    listed = views["list"]
    old_run = listed.data.run_id
    pid = listed.current_child()
    context.selection.open_child.emit(pid)
    old_timeline = views["timeline"].data
    old_staffing = views["staffing"].data
    old_runs = len(views["rules"]._runs)
    assert old_run is not None and old_timeline is not None

    views["rules"].run_scoring()             # the real button's path: start_scoring + changes="scoring"

    new_runs = q.list_scoring_runs(session)
    newest = int(new_runs[new_runs["target"] == listed.data.target]["run_id"].max())
    assert newest != old_run
    assert listed.data.run_id == newest                     # the list shows the new run …
    assert len(views["rules"]._runs) > old_runs             # … the rules view lists it …
    assert views["staffing"].data is not old_staffing       # … the staffing plan reloaded …
    assert views["timeline"].data is not old_timeline       # … and the open timeline too
    assert _pane_child(listed) == listed.current_child()
    for v in views.values():
        v.close()
        v.deleteLater()
    qtbot.wait(10)
    session.close()
