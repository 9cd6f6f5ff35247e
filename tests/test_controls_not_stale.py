"""Controls never go stale silently: a registered terminal shows in the list at once; the
staffing proposal follows a changed total without a button, and nothing can be exported or
printed while the proposal on screen is out of date."""

from __future__ import annotations

from conftest import open_as

from app.views.context import AppContext, Selection
from app.views.worker import ImmediateWorker


def test_registering_this_terminal_lists_it(qtbot, store_with_roles):
    from app.views.users_view import UsersView

    view = UsersView(AppContext(store_with_roles, ImmediateWorker(), settings=None))
    qtbot.addWidget(view)
    assert view.is_ready() and view.terminals_table.rowCount() == 0
    assert "まだありません" in view.terminal_label.text()
    view.register_terminal()
    assert view.terminals_table.rowCount() == 1
    assert view.terminals_table.item(0, 0).text().startswith(store_with_roles.terminal_id)
    assert "この端末" in view.terminals_table.item(0, 0).text()
    assert view.terminals_table.item(0, 4).text() == "可"
    assert not view.register_button.isEnabled()


def test_staffing_proposal_follows_a_changed_total(qtbot, scored_store):
    from app.views.staffing_view import StaffingView

    chief = open_as(scored_store, "chief")
    try:
        view = StaffingView(AppContext(chief, ImmediateWorker(), Selection()))
        qtbot.addWidget(view)
        view.resize(1300, 850)
        view.show()
        qtbot.waitUntil(view.is_ready, timeout=20000)
        before = int(view.data.proposal.table["nurses_after"].sum())
        view.total_nurses.setValue(before + 4)
        # Out of date until recomputed: no export or printout of a stale proposal.
        assert not view.export_button.isEnabled() and not view.print_button.isEnabled()
        qtbot.waitUntil(lambda: view.is_ready() and int(view.data.proposal.table["nurses_after"].sum()) == before + 4,
                        timeout=20000)
        assert view.export_button.isEnabled() and view.print_button.isEnabled()
        # The printable page states what the table shows.
        assert f"保健師 {before + 4}人" in view.plan_html()
        # Editing one district's staff recomputes too, and says the entry is not saved yet.
        name = view._district_names[0]
        view.set_staff(name, 7, 0)
        qtbot.waitUntil(lambda: view.is_ready() and "保存されていません" in view.status.text(), timeout=20000)
        assert int(view.data.staff.set_index("district").loc[name, "nurses"]) == 7
    finally:
        chief.close()
