"""The list view driven with pytest-qt on fictional sample data (no store): filter, sort, select,
open the timeline, record a status, household mode, legend and disclosure cues."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from app.models.child_table_model import FlagIdsRole, PersonIdRole, RawValueRole, UrgentRole


@pytest.fixture
def make_view(qtbot):
    from app.views.context import AppContext, Selection
    from app.views.list_view import ListView, SampleSource
    from app.views.worker import ImmediateWorker

    def make(can_score=True, rows=600):
        class _Session:
            role = "cg_manager" if can_score else "nurse"

        context = AppContext(_Session(), ImmediateWorker(), Selection())
        source = SampleSource(rows, can_score=can_score)
        view = ListView(context, source=source)
        qtbot.addWidget(view)
        view.resize(1300, 800)
        view.show()
        qtbot.waitExposed(view)
        return view, context, source
    return make


def _column(view, key):
    return view.model.column_of(key)


def test_loads_with_working_filter(make_view):
    """The default list: 抽出 ∩ not yet followed, urgent children always on it, in need order."""
    view, _ctx, source = make_view()
    assert view.is_ready()
    frame = source._frame
    expected = int(((frame["extracted"] & ~frame["followed"]) | frame["urgent"]).sum())
    assert view.model.rowCount() == expected < len(frame) // 5
    ranks = [view.model.data(view.model.index(r, _column(view, "rank")), RawValueRole) for r in range(20)]
    assert [int(r) for r in ranks] == sorted(int(r) for r in ranks)
    assert view.conditions.extraction.text().startswith("抽出 = ")


def test_urgent_child_is_first_and_marked(make_view):
    view, _ctx, source = make_view(can_score=False, rows=3000)
    frame = source._frame
    urgent = set(frame.loc[frame["urgent"], "person_id"])
    assert urgent
    col = _column(view, "rank")
    first = [view.model.data(view.model.index(r, col), PersonIdRole) for r in range(len(urgent))]
    assert set(first) == urgent
    cell = view.model.index(0, col)
    assert view.model.data(cell, UrgentRole) is True
    assert view.model.data(cell).startswith("至急")           # a word, not only a colour
    assert "EPDS" in view.model.data(cell, Qt.ItemDataRole.ToolTipRole)
    # 「全件」 is one click away and keeps the urgent children first
    view.conditions.everyone_button.click()
    assert view.model.rowCount() > len(frame) // 2
    assert {view.model.data(view.model.index(r, col), PersonIdRole) for r in range(len(urgent))} == urgent
    view.conditions.extracted_button.click()
    assert view.model.rowCount() < len(frame) // 5


def test_filter_bar_district_and_text(make_view, qtbot):
    view, _ctx, source = make_view()
    bar = view.filters
    bar.district.setCurrentIndex(bar.district.findData("追浜"))
    districts = {view.model.data(view.model.index(r, _column(view, "district"))) for r in range(view.model.rowCount())}
    assert districts == {"追浜"}
    # Japanese typed text arrives as an input-method commit (keyClicks cannot type it, TECH_NOTES)
    from PySide6.QtGui import QInputMethodEvent
    from PySide6.QtWidgets import QApplication
    bar.text.setFocus()
    event = QInputMethodEvent()
    event.setCommitString("EPDS")
    QApplication.sendEvent(bar.text, event)
    bar.flush()
    n = view.model.rowCount()
    assert n > 0
    col = _column(view, "reasons")
    assert all("EPDS" in view.model.data(view.model.index(r, col)) for r in range(n))
    bar.reset_to_default()
    frame = source._frame
    assert view.model.rowCount() == int(((frame["extracted"] & ~frame["followed"]) | frame["urgent"]).sum())


def test_header_click_sorts_in_pandas(make_view, qtbot):
    view, *_ = make_view()
    header = view.table.horizontalHeader()
    col = _column(view, "age_months")
    header.setSortIndicator(col, Qt.SortOrder.DescendingOrder)   # what a header click emits
    assert view.model.current_sort == ("age_months", False)
    ages = [view.model.data(view.model.index(r, col), Qt.ItemDataRole.UserRole + 5) for r in range(view.model.rowCount())]
    assert ages == sorted(ages, reverse=True)


def test_select_updates_evidence_and_selection(make_view, qtbot):
    view, ctx, _ = make_view()
    seen = []
    ctx.selection.child_selected.connect(seen.append)
    view.table.selectRow(2)
    pid = view.model.data(view.model.index(2, 0), PersonIdRole)
    assert seen == [pid]
    assert view.evidence.evidence is not None and view.evidence.evidence.person_id == pid
    flags = view.model.data(view.model.index(2, 0), FlagIdsRole)
    assert len(view.evidence.items_of_kind("flag")) == len(flags)
    # a selection made elsewhere (map, timeline) follows into the list
    other = view.model.person_at(7)
    ctx.selection.child_selected.emit(other)
    assert view.current_child() == other


def test_enter_and_double_click_open_the_timeline(make_view, qtbot):
    view, ctx, _ = make_view()
    opened = []
    ctx.selection.open_child.connect(opened.append)
    view.table.selectRow(0)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    pid = view.model.person_at(0)
    assert opened == [pid]
    rect = view.table.visualRect(view.model.index(1, 1))
    # Qt 6 item views need the press/release before the double-click event.
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened[-1] == view.model.person_at(1)


def test_record_status_leaves_the_working_filter(make_view, qtbot):
    view, _ctx, source = make_view()
    # the first child who is not urgent (至急 stays on the list even when followed)
    pid = next(p for p in (view.model.person_at(r) for r in range(view.model.rowCount()))
               if not bool(source._frame.loc[source._frame["person_id"] == p, "urgent"].iloc[0]))
    before = view.model.rowCount()
    view.record_followup(pid, {"status": "訪問済み", "date": "2025-04-02", "note": "母と面談", "next_action_date": None})
    assert source.recorded[-1][0] == pid
    assert view.model.rowCount() == before - 1          # followed now: out of "not yet followed"
    view.filters.followup.setCurrentIndex(view.filters.followup.findData("訪問済み"))
    assert view.model.row_of_person(pid) >= 0
    row = view.model.row_of_person(pid)
    assert view.model.data(view.model.index(row, _column(view, "status_since"))) == "訪問済み"


def test_score_columns_only_for_score_role(make_view):
    manager, *_ = make_view(can_score=True)
    nurse, *_ = make_view(can_score=False)
    assert "score" in manager.model.column_keys() and "probability" in manager.model.column_keys()
    assert "score" not in nurse.model.column_keys() and "probability" not in nurse.model.column_keys()
    assert "rank" in nurse.model.column_keys()          # a nurse sees the order …
    assert nurse.conditions.score_cut.isHidden()        # … but cannot cut by score


def test_household_mode(make_view):
    view, _ctx, source = make_view()
    view.set_household_mode(True)
    assert "household_id" in view.model.column_keys()
    ids = [view.model.data(view.model.index(r, _column(view, "household_id"))) for r in range(view.model.rowCount())]
    assert len(ids) == len(set(ids))
    view.set_household_mode(False)
    assert "household_id" not in view.model.column_keys()


def test_disclosure_has_icon_and_text_not_only_colour(make_view):
    """Colour is never the only cue: each class differs in its text label and in its icon's
    shape, also after a deuteranopia simulation and in greyscale."""
    from app.views.list.evidence_panel import DisclosureRole
    from app.views.list.legend import disclosure_pixmap

    view, *_ = make_view()
    view.table.selectRow(0)
    items = [i for kind in ("flag", "row", "member") for i in view.evidence.items_of_kind(kind)]
    assert items
    for item in items:
        cls = item.data(0, DisclosureRole)
        assert cls in ("discuss", "staff", "never")
        assert not item.icon(0).isNull()
        assert item.text(1)                     # the text label column
    labels = {cls: w.text() for cls, w in view.evidence.legend.items.items()}
    assert len(set(labels.values())) == 3 and view.evidence.legend.isVisible()

    def simulated(cls, mode):
        img = disclosure_pixmap(cls, 32).toImage().convertToFormat(QImage.Format.Format_ARGB32)
        arr = np.frombuffer(img.constBits(), np.uint8).reshape(32, 32, 4).astype(float)
        rgb, alpha = arr[..., [2, 1, 0]] / 255, arr[..., 3] / 255
        if mode == "deutan":   # Machado et al. 2009, severity 1.0
            m = np.array([[0.367, 0.861, -0.228], [0.280, 0.673, 0.047], [-0.012, 0.043, 0.969]])
            rgb = rgb @ m.T
        grey = (rgb @ np.array([0.299, 0.587, 0.114])) * alpha
        return grey > 0.15   # the drawn shape

    for mode in ("deutan", "grey"):
        shapes = {cls: simulated(cls, mode) for cls in ("discuss", "staff", "never")}
        for a in shapes:
            for b in shapes:
                if a < b:
                    differ = np.logical_xor(shapes[a], shapes[b]).mean()
                    assert differ > 0.08, (mode, a, b, differ)


def test_selected_flag_is_highlighted_on_the_timeline(qtbot):
    """The list reaches the timeline only through the shared Selection (no lookup of another
    view by guessed method names): selecting a flag, then opening the timeline, emits
    open_child and highlight(child, rule, event ids)."""
    from app.views.context import AppContext, Selection
    from app.views.list.evidence_panel import RuleRole
    from app.views.list_view import ListView, SampleSource
    from app.views.worker import ImmediateWorker

    class _Session:
        role = "nurse"

    context = AppContext(_Session(), ImmediateWorker(), Selection())
    view = ListView(context, source=SampleSource(300, can_score=False))
    qtbot.addWidget(view)
    opened, asked = [], []
    context.selection.open_child.connect(opened.append)
    context.selection.highlight.connect(lambda pid, rule, ids: asked.append((pid, rule, list(ids))))
    view.table.selectRow(0)
    flag_item = view.evidence.items_of_kind("flag")[0]
    view.evidence.tree.setCurrentItem(flag_item)
    rule = flag_item.data(0, RuleRole)
    view.timeline_button.click()
    pid = view.current_child()
    assert opened == [pid]
    assert asked == [(pid, rule, [])]
    # an evidence row (not a flag) highlights its events
    row_item = flag_item.child(0)
    view.evidence.tree.setCurrentItem(row_item)
    view.open_timeline(pid)
    assert asked[-1][0] == pid and asked[-1][1] == "" and asked[-1][2]


def test_the_timeline_is_opened_in_the_lists_run(make_view):
    """With a scoring run shown, the list opens the timeline in that run (open_child_in_run),
    so the timeline's flags and "today" are the list's."""
    import dataclasses

    view, ctx, _ = make_view()
    plain, in_run = [], []
    ctx.selection.open_child.connect(plain.append)
    ctx.selection.open_child_in_run.connect(lambda pid, run: in_run.append((pid, run)))
    view.data = dataclasses.replace(view.data, run_id=7)
    pid = view.model.person_at(0)
    view.open_timeline(pid)
    assert in_run == [(pid, 7)] and plain == []
    assert ctx.selection.run_for(pid) == 7
