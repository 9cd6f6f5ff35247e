"""The staffing view on a real (small, synthetic) store: staff entry, the proposal, suppression
for the chief, the high-need definition, and the export gate (refused on an unregistered terminal)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from tests.conftest import PASSWORD, open_as

PASSPHRASE = "plan-export-pass-2025"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """150 synthetic children imported and scored, with a chief and a cg_manager (module scope)."""
    from app.engine.synth import generate_delivery
    from app.store.accounts import add_user
    from app.store.importing import import_delivery
    from app.store.opening import create_store
    from app.store.scoring_runs import run_active_rulesets

    base = tmp_path_factory.mktemp("staffing")
    generate_delivery(base / "delivery", children=150)
    admin = create_store(base / "store.db", "admin", PASSWORD)
    import_delivery(admin, base / "delivery")
    run_active_rulesets(admin)
    add_user(admin, "chief", "chief", PASSWORD)
    add_user(admin, "manager", "cg_manager", PASSWORD)
    admin.close()
    return base / "store.db"


@pytest.fixture
def chief(store):
    s = open_as(store, "chief")
    yield s
    s.close()


def _view(qtbot, session):
    from app.views.context import AppContext, Selection
    from app.views.staffing_view import StaffingView
    from app.views.worker import ImmediateWorker

    view = StaffingView(AppContext(session, ImmediateWorker(), Selection()))
    qtbot.addWidget(view)
    view.resize(1300, 850)
    view.show()
    qtbot.waitUntil(view.is_ready, timeout=20000)
    return view


def _column(view, col: int) -> list[str]:
    return [view.cell_text(r, col) for r in range(view.table.rowCount())]


def test_high_need_is_the_runs_stored_extraction_not_any_flag(chief):
    """抽出 = what the run stored under its rule set's [extraction] definition, in the order the
    chief may see (no custody-derived rule)."""
    from app.store.queries.aggregates import _exact

    conn = chief.conn
    run_id = conn.execute("SELECT run_id FROM runs WHERE target='abuse' ORDER BY run_id DESC LIMIT 1").fetchone()[0]
    stored = {r[0] for r in conn.execute("SELECT person_id FROM scores WHERE run_id=? AND extracted_open=1",
                                         (run_id,))}
    figures, used = _exact(chief)
    d = figures["district"]
    flagged = int(d.loc[d["target"] == "abuse", "flagged"].sum())
    counted = {r[0] for r in conn.execute("SELECT person_id FROM persons WHERE kind='child' AND resident_to IS NULL")}
    assert flagged == len(stored & counted) > 0
    assert used["abuse"]["high_need"].startswith("抽出 = ")


def test_chief_enters_staff_and_sees_the_proposal(qtbot, chief):
    from app.engine.staffing import METHOD_TEXT
    from app.store.staffing_plans import district_staff

    view = _view(qtbot, chief)
    names = view._district_names
    assert len(names) == 10 and "地区不明" not in names
    for i, name in enumerate(names):
        view.set_staff(name, 1 + i % 3, 1 if i % 4 == 0 else 0)
    entered = view.entered_staff()
    view.save_and_update()
    qtbot.waitUntil(view.is_ready, timeout=20000)
    stored = district_staff(chief).set_index("district").loc[names]
    assert stored["nurses"].tolist() == entered["nurses"].tolist()
    assert stored["seniors"].tolist() == entered["seniors"].tolist()
    # The proposal redistributes the same nurses and seniors; the method is stated.
    t = view.data.proposal.table
    assert int(t["nurses_after"].sum()) == int(entered["nurses"].sum()) == view.total_nurses.value()
    assert int(t["seniors_after"].sum()) == int(entered["seniors"].sum())
    assert (t["seniors_after"] <= t["nurses_after"]).all() and (t["nurses_after"] >= 1).all()
    assert METHOD_TEXT.format(minimum=1)[:20] in view.method.text()
    # Before and after side by side in the table (the staff spin boxes, then the proposal).
    assert _column(view, 5)[:10] == [str(v) for v in entered["nurses"]]
    assert _column(view, 8)[:10] == [str(int(v)) for v in t.set_index("district").loc[names, "nurses_after"]]
    # Another total in the spin box: the proposal follows it.
    view.total_nurses.setValue(int(entered["nurses"].sum()) + 5)
    view.reload(totals=True)
    qtbot.waitUntil(view.is_ready, timeout=20000)
    assert int(view.data.proposal.table["nurses_after"].sum()) == int(entered["nurses"].sum()) + 5
    view.tabs.setCurrentIndex(1)
    assert view.trend_table.rowCount() >= 1


def test_small_counts_are_suppressed_for_the_chief(qtbot, chief):
    view = _view(qtbot, chief)
    shown_any_hidden = False
    for col in (1, 2, 3, 4):
        for text in _column(view, col):
            if text in ("<5", "X"):
                shown_any_hidden = True
                continue
            assert int(text.replace(",", "")) >= 5, (col, text)
    assert shown_any_hidden  # 150 children over 10 districts: some cells must be hidden
    assert "5人未満" in view.info.text()
    # The loads of a district with hidden visits are hidden too; the export carries the same strings.
    rows = view._rows()
    hidden = rows["visits_state"].fillna("") != ""
    assert all(_column(view, 7)[i] == "—" for i in np.flatnonzero(hidden))
    # Loads come from the shown whole visits, so they give back nothing finer than the table.
    shown = rows[~hidden & (rows["nurses_after"] > 0)]
    assert np.allclose(shown["load_after"] * shown["nurses_after"], shown["visits"])
    assert (shown["visits"] == shown["visits"].round()).all()
    frame = view.plan_frame()
    counts = frame.iloc[:, 1:5].to_numpy().ravel()
    assert all(v in ("<5", "X") or int(v.replace(",", "")) >= 5 for v in counts)
    # Charts draw no bar for a hidden figure.
    import pyqtgraph as pg

    bars = [it for it in view.measure_chart.getPlotItem().items if isinstance(it, pg.BarGraphItem)]
    heights = np.concatenate([np.atleast_1d(b.opts["height"]) for b in bars])
    labels = [it.textItem.toPlainText() for it in view.measure_chart.getPlotItem().items
              if isinstance(it, pg.TextItem)]
    assert len(bars) == 1 and len(heights) + len(labels) == 10
    assert (heights >= 5).all() and set(labels) <= {"<5", "X"}


def test_manager_sees_exact_figures_without_the_plan(qtbot, store):
    manager = open_as(store, "manager")
    try:
        view = _view(qtbot, manager)
        assert view.data.proposal is None and not view.recompute_button.isEnabled()
        assert not view.export_button.isEnabled()
        assert "<5" not in _column(view, 1)
    finally:
        manager.close()


def test_export_refused_on_an_unregistered_terminal_then_allowed(qtbot, chief, store, tmp_path):
    from app.store.exports import decrypt_container
    from app.store.terminals import register_terminal

    view = _view(qtbot, chief)
    target = tmp_path / "plan.csv"
    view.export_to(str(target), fmt="csv", passphrase=PASSPHRASE)
    assert "登録されていません" in view.status.text()
    assert not list(tmp_path.iterdir())
    view.print_to(str(tmp_path / "plan.pdf"), passphrase=PASSPHRASE)
    assert not list(tmp_path.iterdir())
    refused = chief.conn.execute("SELECT COUNT(*) FROM audit_log WHERE action='export_refused' AND user='chief'"
                                 ).fetchone()[0]
    assert refused >= 2

    admin = open_as(store, "admin")
    try:
        register_terminal(admin, "課長席")
    finally:
        admin.close()
    view.export_to(str(target), fmt="csv", passphrase=PASSPHRASE)
    sealed = tmp_path / "plan.csv.mmx"
    assert sealed.exists() and not target.exists()
    header, payload = decrypt_container(sealed.read_bytes(), PASSPHRASE)
    text = payload.decode("utf-8-sig")
    assert "出力者: chief" in text and header["terminal"] == chief.terminal_id
    plan = pd.read_csv(io.StringIO(text), comment="#", dtype=str)
    assert list(plan.columns)[:2] == ["地区", "子どもの数"] and len(plan) == 10
    # No individual rows: no research id of any child appears.
    ids = [r[0] for r in chief.conn.execute("SELECT person_id FROM persons LIMIT 50")]
    assert not any(i in text for i in ids)
    # Plain text only with the explicit choice; the printable page is a real PDF.
    view.print_to(str(tmp_path / "plan.pdf"), plaintext_confirmed=True)
    pdf = (tmp_path / "plan.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    actions = [r[0] for r in chief.conn.execute("SELECT action FROM audit_log WHERE user='chief'")]
    assert "export" in actions and "print" in actions
