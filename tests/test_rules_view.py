"""The rules view: data_admin edits, checks, versions and activates rule sets; cg_manager
reads the validation figures; roles without the right get nothing from the queries."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.store.queries import rulesets as q
from app.store.roles import AccessDenied
from app.views.context import AppContext
from app.views.rules_view import RulesView
from app.views.worker import ImmediateWorker
from conftest import open_as


@pytest.fixture
def admin_store(tmp_path, scored_store):
    """A private copy of the scored store (the tests below write rule sets)."""
    import shutil

    from app.store.keyslots import slot_path

    path = tmp_path / "copy.db"
    shutil.copy(scored_store, path)
    shutil.copy(slot_path(scored_store), slot_path(path))
    return path


def _view(qtbot, session):
    view = RulesView(AppContext(session, ImmediateWorker()))
    qtbot.addWidget(view)
    assert view.is_ready()
    return view


def _ruleset_row(view, ruleset_id: str, version: str | None = None) -> int:
    """The first table row of a rule set (of that version, if given), found by its id: the list shows titles."""
    table = view.ruleset_table
    return next(r for r in range(table.rowCount())
                if table.item(r, 1).data(Qt.ItemDataRole.UserRole) == ruleset_id
                and (version is None or table.item(r, 2).text() == version))


def test_manager_sees_validation_figures(qtbot, scored_store):
    session = open_as(scored_store, "manager")
    view = _view(qtbot, session)
    assert view.runs_table.rowCount() >= 2  # abuse and postpartum
    abuse_row = next(r for r in range(view.runs_table.rowCount()) if view.runs_table.item(r, 1).text() == "虐待予防")
    view.runs_table.selectRow(abuse_row)
    text = view.metrics_view.toPlainText()
    assert "ROC AUC" in text and "学習に使っていない児童での検証" in text
    assert view.counts_table.rowCount() > 0
    assert not view.save_button.isEnabled()  # reading only
    # a rule-set title cut at its column's edge can be read whole on hover
    title = view.runs_table.item(abuse_row, 2)
    assert title.text() and title.toolTip() == title.text()
    session.close()


def test_admin_sees_counts_but_not_custody_metrics(qtbot, scored_store):
    session = open_as(scored_store, "admin")
    view = _view(qtbot, session)
    view.runs_table.selectRow(0)
    text = view.metrics_view.toPlainText()
    assert "児童相談所の管理職にだけ表示" in text
    assert "ROC AUC" not in text
    session.close()


def test_invalid_rule_set_is_explained_and_not_stored(qtbot, admin_store):
    session = open_as(admin_store, "admin")
    view = _view(qtbot, session)
    before = len(q.list_rulesets(session))
    view.editor.setPlainText("[ruleset]\nid = \"broken\"\n[[rule]]\nid = 3\n")
    view.save_text()
    assert view.editor_status.text().startswith("問題があります")
    assert len(q.list_rulesets(session)) == before
    session.close()


def test_save_new_version_and_activate(qtbot, admin_store):
    session = open_as(admin_store, "admin")
    view = _view(qtbot, session)
    view.ruleset_table.selectRow(_ruleset_row(view, "improved"))
    text = view.editor.toPlainText()
    view.editor.setPlainText(text + "\n# threshold note by the data office\n")
    view.save_text()
    assert "improved の第" in view.editor_status.text()
    versions = q.list_rulesets(session)
    improved = versions[versions["ruleset_id"] == "improved"]
    assert len(improved) == 2
    newest = int(improved["version"].max())
    row = _ruleset_row(view, "improved", str(newest))
    view.ruleset_table.selectRow(row)
    view.activate_selected()
    active = q.list_rulesets(session)
    assert active[(active["ruleset_id"] == "improved") & (active["active"] == 1)]["version"].tolist() == [newest]
    actions = [r[0] for r in session.conn.execute("SELECT action FROM audit_log ORDER BY seq")]
    assert "ruleset_store" in actions and "ruleset_activate" in actions
    session.close()
    assert QApplication.instance()


@pytest.mark.parametrize("user", ["nurse", "chief", "auditor"])
def test_other_roles_get_nothing(scored_store, user):
    session = open_as(scored_store, user)
    for call in (lambda: q.list_rulesets(session), lambda: q.list_scoring_runs(session),
                 lambda: q.run_overview(session, 1), lambda: q.save_ruleset(session, "x")):
        with pytest.raises(AccessDenied):
            call()
    session.close()


def test_rules_list_shows_last_run_counts_and_warns(qtbot, scored_store):
    session = open_as(scored_store, "admin")
    view = _view(qtbot, session)
    view.ruleset_table.selectRow(_ruleset_row(view, "improved"))
    last = q.last_run_rule_counts(session, "improved")
    children = last["children"]
    table = view.rules_table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    col_n, col_check = headers.index("直近の判定で抽出"), headers.index("確認")
    by_id = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    for rule_id, n in last["counts"].items():
        r = by_id[rule_id]
        assert table.item(r, col_n).text() == f"{n:,} / {children:,}"
        check = table.item(r, col_check).text()
        assert ("1人も抽出していません" in check) == (n == 0)
        assert ("半数を超える" in check) == (n > children / 2)
    # the same warning helper in the runs tab
    assert "1人も抽出していません" in view.check_text_for(0, 100)
    assert "半数を超える児を抽出しています（60%）" in view.check_text_for(60, 100)
    assert view.check_text_for(10, 100) == ""
    assert "コードリスト" in view.check_text_for(3, 100, "コードリストに一致する記録が直近の判定で0件でした")
    session.close()
