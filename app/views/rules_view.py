"""Rules and scoring: the rule sets stored in the database, their versions, and the scoring
runs with what each found — for data_admin (edit, activate, run) and cg_manager (read the
validation figures). Runs alone: ``python -m app.views.rules_view [--db PATH]``.
"""

from __future__ import annotations

import html

import pandas as pd
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QMessageBox, QPlainTextEdit, QPushButton,
    QSplitter, QTableWidget, QTableWidgetItem, QTabWidget, QTextBrowser, QVBoxLayout, QWidget,
)

from app.engine import catalogue
from app.engine.japanese_time import format_date, format_jst
from app.store import roles
from app.store.queries import rulesets as q
from app.views.theme import disclosure_label, disclosure_symbol

TARGET_JA = {"abuse": "虐待予防", "postpartum": "産後うつ・育児不安"}


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[list]) -> None:
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            item = QTableWidgetItem("" if value is None else str(value))
            if isinstance(value, (int, float)):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            elif value:
                # a long rule-set title or note is cut at the column's edge: the whole text on hover
                item.setToolTip(str(value))
            table.setItem(r, c, item)
    table.resizeColumnsToContents()


def _pct(x) -> str:
    return "—" if x is None or pd.isna(x) else f"{100 * x:.1f}%"


def _num(x, digits: int = 3) -> str:
    return "—" if x is None or pd.isna(x) else f"{x:.{digits}f}"


def _labels() -> dict[str, str]:
    # Literal translate() calls so pyside6-lupdate finds the strings used in the HTML below.
    return {
        'Run %1': QCoreApplication.translate("RulesView", 'Run %1'),
        "note": QCoreApplication.translate(
            "RulesView", "Validation figures are computed against the child-guidance list; "
                         "they are shown to child-guidance managers only."),
        'Rule set': QCoreApplication.translate("RulesView", 'Rule set'),
        'Run by': QCoreApplication.translate("RulesView", 'Run by'),
        'Ages counted at': QCoreApplication.translate("RulesView", 'Ages counted at'),
        'Children': QCoreApplication.translate("RulesView", 'Children'),
        'Children with at least one flag': QCoreApplication.translate("RulesView", 'Children with at least one flag'),
        'Data as of (extraction date per source)': QCoreApplication.translate("RulesView", 'Data as of (extraction date per source)'),
        'No validation: %1': QCoreApplication.translate("RulesView", 'No validation: %1'),
        'Validation on held-out children': QCoreApplication.translate("RulesView", 'Validation on held-out children'),
        'Held-out children: %1 (on the list: %2). Model trained on %3 others.': QCoreApplication.translate(
            "RulesView", 'Held-out children: %1 (on the list: %2). Model trained on %3 others.'),
        'Measure': QCoreApplication.translate("RulesView", 'Measure'),
        'Score (Σ weight × flag)': QCoreApplication.translate("RulesView", 'Score (Σ weight × flag)'),
        'Calibrated probability': QCoreApplication.translate("RulesView", 'Calibrated probability'),
        'Top %1: precision / recall': QCoreApplication.translate("RulesView", 'Top %1: precision / recall'),
        'By district (fairness check)': QCoreApplication.translate("RulesView", 'By district (fairness check)'),
        'By nationality (fairness check)': QCoreApplication.translate("RulesView", 'By nationality (fairness check)'),
        'On list': QCoreApplication.translate("RulesView", 'On list'),
        'Flag rate': QCoreApplication.translate("RulesView", 'Flag rate'),
        'Share in top': QCoreApplication.translate("RulesView", 'Share in top'),
        'Precision in top': QCoreApplication.translate("RulesView", 'Precision in top'),
        '(unknown)': QCoreApplication.translate("RulesView", '(unknown)'),
        'Calibration (predicted vs observed, by tenths)': QCoreApplication.translate(
            "RulesView", 'Calibration (predicted vs observed, by tenths)'),
    }


def ruleset_name(ruleset_id: str, version, titles: dict | None = None) -> str:
    """A rule set as a person names it: its title and version (``産後うつ・育児不安 第1版``);
    the id is for the TOML and the CLI."""
    title = (titles or {}).get((ruleset_id, int(version))) or (titles or {}).get(ruleset_id) or ruleset_id
    return QCoreApplication.translate("RulesView", "%1, version %2").replace("%1", title).replace("%2", str(version))


def metrics_html(overview: dict, titles: dict | None = None) -> str:
    """The run's figures as HTML a manager can read (no person data). ``titles`` maps a rule
    set id (or (id, version)) to its title."""
    labels = _labels()

    def label(text: str) -> str:
        return labels.get(text, text)

    e = html.escape
    parts = [f"<h3>{e(label('Run %1').replace('%1', str(overview['run_id'])))} — "
             f"{e(TARGET_JA.get(overview['target'], overview['target']))}</h3>",
             "<table cellspacing=0 cellpadding=3>"]
    for name, value in (
        (label("Rule set"), ruleset_name(*str(overview["ruleset"]).rsplit("@", 1), titles)
         if "@" in str(overview["ruleset"]) else overview["ruleset"]),
        (label("Run by"), f"{overview['created_by']} · {format_jst(overview['created_at'])}"),
        (label("Ages counted at"), format_date(overview["as_of"])), (label("Children"), overview["children"]),
        (label("Children with at least one flag"), overview["flagged"]),
    ):
        parts.append(f"<tr><td><b>{e(name)}</b></td><td>{e(str(value))}</td></tr>")
    parts.append("</table>")
    if overview["source_as_of"]:
        parts.append(f"<p><b>{e(label('Data as of (extraction date per source)'))}</b>: " + "、".join(
            f"{e(catalogue.source_label(k))} {e(format_date(v))}" for k, v in sorted(overview["source_as_of"].items()))
            + "</p>")
    metrics = overview.get("metrics")
    if metrics is None:
        note = label("note")
        parts.append(f"<p><i>{e(note)}</i></p>")
        return "".join(parts)
    v = (metrics or {}).get("validation") or {}
    if v.get("status") != "ok":
        parts.append(f"<p>{e(label('No validation: %1').replace('%1', str(v.get('status') or v.get('reason') or '—')))}</p>")
        return "".join(parts)
    lo, hi = (v.get("score_auc_ci95") or [None, None])[:2]
    parts.append(f"<h4>{e(label('Validation on held-out children'))}</h4>")
    held = (label("Held-out children: %1 (on the list: %2). Model trained on %3 others.")
            .replace("%1", str(v.get("n_test"))).replace("%2", str(v.get("positives_test")))
            .replace("%3", str(v.get("n_train"))))
    parts.append(f"<p>{e(held)}</p>")
    parts.append("<table border=1 cellspacing=0 cellpadding=3>"
                 f"<tr><th>{e(label('Measure'))}</th><th>{e(label('Score (Σ weight × flag)'))}</th>"
                 f"<th>{e(label('Calibrated probability'))}</th></tr>"
                 f"<tr><td>ROC AUC (95% CI)</td><td>{_num(v.get('score_auc'))} ({_num(lo)}–{_num(hi)})</td>"
                 f"<td>{_num(v.get('auc'))} ({_num((v.get('auc_ci95') or [None])[0])}–"
                 f"{_num((v.get('auc_ci95') or [None, None])[1])})</td></tr>")
    for a, b in zip(v.get("score_top_k") or [], v.get("top_k") or []):
        parts.append(f"<tr><td>{e(label('Top %1: precision / recall').replace('%1', str(a['k'])))}</td>"
                     f"<td>{_pct(a['precision'])} / {_pct(a['recall'])}</td><td>{_pct(b['precision'])} / {_pct(b['recall'])}</td></tr>")
    parts.append(f"<tr><td>Brier</td><td>—</td><td>{_num(v.get('brier'))}</td></tr></table>")
    for key, title in (("by_district", label("By district (fairness check)")),
                       ("by_nationality", label("By nationality (fairness check)"))):
        groups = v.get(key) or {}
        if not groups:
            continue
        parts.append(f"<h4>{e(title)}</h4><table border=1 cellspacing=0 cellpadding=3>"
                     f"<tr><th></th><th>{e(label('Children'))}</th><th>{e(label('On list'))}</th><th>{e(label('Flag rate'))}</th>"
                     f"<th>{e(label('Share in top'))}</th><th>{e(label('Precision in top'))}</th><th>AUC</th></tr>")
        for name, g in sorted(groups.items()):
            parts.append(f"<tr><td>{e(name or label('(unknown)'))}</td><td>{g.get('n')}</td><td>{g.get('positives')}</td>"
                         f"<td>{_pct(g.get('flag_rate'))}</td><td>{_pct(g.get('top_share'))}</td>"
                         f"<td>{_pct(g.get('precision_in_top'))}</td><td>{_num(g.get('auc'))}</td></tr>")
        parts.append("</table>")
    calib = v.get("calibration") or []
    if calib:
        parts.append(f"<h4>{e(label('Calibration (predicted vs observed, by tenths)'))}</h4><p>" + "　".join(
            f"{_pct(c['predicted'])}→{_pct(c['observed'])}" for c in calib) + "</p>")
    return "".join(parts)


class RulesView(QWidget):
    def __init__(self, context, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        session = context.session
        self.can_edit = session.can(roles.MANAGE_RULES)
        self.can_run = session.can(roles.RUN_SCORING)
        self._ready = False
        self._rulesets = pd.DataFrame()
        self._runs = pd.DataFrame()

        layout = QVBoxLayout(self)
        heading = QLabel(self.tr("Rules and scoring"))
        heading.setObjectName("pageHeading")
        layout.addWidget(heading)
        intro = QLabel(self.tr(
            "Rule sets are stored and versioned in the database; each scoring run records the rule set, "
            "the data's as-of dates, thresholds and weights, and is never overwritten. "
            "The analysis never decides: a person assesses every case."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)
        self.tabs.addTab(self._rulesets_tab(), self.tr("Rule sets"))
        self.tabs.addTab(self._runs_tab(), self.tr("Scoring runs and validation"))
        context.on_store_changed(self, ("scoring", "rules", "import"), lambda _kinds: self.reload())
        self.reload()

    # -- layout -------------------------------------------------------------------------
    def _rulesets_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        split = QSplitter(Qt.Orientation.Vertical)
        self.ruleset_table = _table([self.tr("Target"), self.tr("Rule set"), self.tr("Version"),
                                     self.tr("Active"), self.tr("Title"), self.tr("Stored"), self.tr("By")])
        self.ruleset_table.itemSelectionChanged.connect(self._ruleset_selected)
        split.addWidget(self.ruleset_table)
        detail = QTabWidget()
        self.rules_table = _table([self.tr("Rule id"), self.tr("Item"), self.tr("Ages"), self.tr("Weight"),
                                   self.tr("Disclosure"), self.tr("Flagged in the last run"), self.tr("Check"),
                                   self.tr("Description")])
        self.rules_table.setWordWrap(True)
        detail.addTab(self.rules_table, self.tr("Rules"))
        editor_page = QWidget()
        ed = QVBoxLayout(editor_page)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("rulesetEditor")
        # The rule set's own text (TOML keys, source keys): a machine format on purpose, edited
        # by the data admin; the Japanese-only check skips it.
        self.editor.setProperty("machine_text", True)
        self.editor.setReadOnly(not self.can_edit)
        ed.addWidget(self.editor, 1)
        buttons = QHBoxLayout()
        self.check_button = QPushButton(self.tr("Check"))
        self.save_button = QPushButton(self.tr("Save as new version"))
        self.activate_button = QPushButton(self.tr("Make the selected version active"))
        for b in (self.check_button, self.save_button, self.activate_button):
            b.setEnabled(self.can_edit)
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.editor_status = QLabel("")
        self.editor_status.setWordWrap(True)
        ed.addLayout(buttons)
        ed.addWidget(self.editor_status)
        detail.addTab(editor_page, self.tr("Rule set text (TOML)"))
        split.addWidget(detail)
        split.setSizes([180, 420])
        layout.addWidget(split)
        self.check_button.clicked.connect(self.check_text)
        self.save_button.clicked.connect(self.save_text)
        self.activate_button.clicked.connect(self.activate_selected)
        return page

    def _runs_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        top = QHBoxLayout()
        self.run_button = QPushButton(self.tr("Score now with the active rule sets"))
        self.run_button.setEnabled(self.can_run)
        self.run_button.clicked.connect(self.run_scoring)
        top.addWidget(self.run_button)
        top.addStretch(1)
        layout.addLayout(top)
        split = QSplitter(Qt.Orientation.Horizontal)
        left = QSplitter(Qt.Orientation.Vertical)
        self.runs_table = _table([self.tr("Run"), self.tr("Target"), self.tr("Rule set"), self.tr("As of"),
                                  self.tr("Children"), self.tr("Flagged"), self.tr("Run at")])
        self.runs_table.itemSelectionChanged.connect(self._run_selected)
        left.addWidget(self.runs_table)
        self.counts_table = _table([self.tr("Item"), self.tr("Children flagged"), self.tr("Check"),
                                    self.tr("Threshold"), self.tr("Weight")])
        left.addWidget(self.counts_table)
        split.addWidget(left)
        self.metrics_view = QTextBrowser()
        self.metrics_view.setObjectName("runMetrics")
        split.addWidget(self.metrics_view)
        split.setSizes([560, 640])
        layout.addWidget(split, 1)
        return page

    # -- data ---------------------------------------------------------------------------
    def is_ready(self) -> bool:
        return self._ready

    def reload(self) -> None:
        session = self.context.session

        def load():
            return q.list_rulesets(session), q.list_scoring_runs(session)

        self.context.worker.run(load, key="rules.load", on_done=self._loaded, on_error=self._error)

    def _loaded(self, result) -> None:
        self._rulesets, self._runs = result
        self._titles = {**{r.ruleset_id: r.title for r in self._rulesets.itertuples() if r.title},
                        **{(r.ruleset_id, int(r.version)): r.title for r in self._rulesets.itertuples() if r.title}}
        _fill(self.ruleset_table, [
            [TARGET_JA.get(r.target, r.target), r.title or r.ruleset_id, int(r.version),
             self.tr("● active") if r.active else "", r.title, format_jst(r.created_at), r.created_by]
            for r in self._rulesets.itertuples()])
        # The id (what the TOML and the CLI use) rides on the row, not on screen.
        for row, rid in enumerate(self._rulesets["ruleset_id"] if len(self._rulesets) else []):
            self.ruleset_table.item(row, 1).setData(Qt.ItemDataRole.UserRole, rid)
            self.ruleset_table.item(row, 1).setToolTip(rid)
        self.ruleset_table.setColumnHidden(4, True)  # the title is the rule set's name now
        _fill(self.runs_table, [
            [int(r.run_id), TARGET_JA.get(r.target, r.target),
             ruleset_name(r.ruleset_id, r.ruleset_version, self._titles), format_date(r.as_of),
             int(r.children), int(r.flagged), format_jst(r.created_at)] for r in self._runs.itertuples()])
        if len(self._rulesets):
            self.ruleset_table.selectRow(0)
        if len(self._runs):
            self.runs_table.selectRow(0)
            self.tabs.setCurrentIndex(1)
        else:
            self.metrics_view.setHtml(html.escape(self.tr("No scoring run yet.")))
        self._ready = True

    def _error(self, error: BaseException) -> None:
        self._ready = True
        QMessageBox.warning(self, self.tr("Rules and scoring"), str(error))

    def _selected_ruleset(self):
        rows = self.ruleset_table.selectionModel().selectedRows()
        if not rows or self._rulesets.empty:
            return None
        return self._rulesets.iloc[rows[0].row()]

    def _ruleset_selected(self) -> None:
        row = self._selected_ruleset()
        if row is None:
            return
        session = self.context.session
        rid, version = row["ruleset_id"], int(row["version"])

        def load():
            return (q.ruleset_rules(session, rid, version), q.ruleset_text(session, rid, version),
                    q.last_run_rule_counts(session, rid))

        self.context.worker.run(load, key="rules.ruleset", on_done=self._show_ruleset, on_error=self._error)

    def check_text_for(self, flagged, children, note: str = "") -> str:
        """The plain warning shown next to a rule's count ('' when nothing to say)."""
        parts = []
        if flagged is not None and children:
            if flagged == 0:
                parts.append(self.tr("⚠ flags no child"))
            elif flagged > children / 2:
                parts.append(self.tr("⚠ flags more than half of the children (%1%)")
                             .replace("%1", f"{100 * flagged / children:.0f}"))
        if note:
            parts.append(note)
        return " / ".join(parts)

    def _show_ruleset(self, result) -> None:
        rules, text, last = result
        rules = rules[rules["role"] != "fact"] if "role" in rules else rules
        counts = (last or {}).get("counts", {})
        notes = (last or {}).get("notes", {})
        children = (last or {}).get("children")
        rows = []
        for r in rules.itertuples():
            n = counts.get(r.rule_id)
            shown = (f"{n:,} / {children:,}" if n is not None and children else
                     (self.tr("not run yet") if last is None else "—"))
            rows.append([r.rule_id, r.label, r.ages, r.weight,
                         f"{disclosure_symbol(r.disclosure)} {disclosure_label(r.disclosure)}", shown,
                         self.check_text_for(n, children, notes.get(r.rule_id, "")), r.description])
        _fill(self.rules_table, rows)
        # Rule ids are the TOML's names (the editor tab shows them); on screen a rule is its
        # Japanese item name, with the id in the tooltip for whoever edits the TOML.
        self.rules_table.setColumnHidden(0, True)
        for row, rule_id in enumerate(rules["rule_id"] if len(rules) else []):
            if self.rules_table.item(row, 1) is not None:
                self.rules_table.item(row, 1).setToolTip(rule_id)
        self.rules_table.horizontalHeader().setSectionResizeMode(7, QHeaderView.ResizeMode.Stretch)
        self.rules_table.resizeRowsToContents()
        self.editor.setPlainText(text)
        self.editor_status.setText("")

    def _run_selected(self) -> None:
        rows = self.runs_table.selectionModel().selectedRows()
        if not rows or self._runs.empty:
            return
        run_id = int(self._runs.iloc[rows[0].row()]["run_id"])
        self.context.worker.run(q.run_overview, self.context.session, run_id, key="rules.run",
                                on_done=self._show_run, on_error=self._error)

    def _show_run(self, overview: dict) -> None:
        rules = overview["rules"]
        notes = overview.get("notes") or {}
        _fill(self.counts_table, [
            [r.label, int(r.flagged), self.check_text_for(int(r.flagged), int(overview["children"]), notes.get(r.rule_id, "")),
             r.threshold, r.weight] for r in rules.itertuples()])
        self.metrics_view.setHtml(metrics_html(overview, getattr(self, "_titles", None)))

    # -- actions ------------------------------------------------------------------------
    def check_text(self) -> bool:
        from app.engine.rules.model import RuleSetError

        try:
            rid = q.check_ruleset(self.context.session, self.editor.toPlainText())
        except (RuleSetError, ValueError) as exc:
            self.editor_status.setText(self.tr("Problem: %1").replace("%1", str(exc)))
            return False
        self.editor_status.setText(self.tr("The rule set %1 is valid.").replace("%1", rid))
        return True

    def save_text(self) -> None:
        if not self.check_text():
            return
        text = self.editor.toPlainText()
        self.context.worker.run(q.save_ruleset, self.context.session, text, changes="rules",
                                on_done=self._saved, on_error=self._error)

    def _saved(self, result) -> None:
        rid, version = result
        self.editor_status.setText(self.tr("Stored as %1 version %2.").replace("%1", rid).replace("%2", str(version)))
        self.reload()

    def activate_selected(self) -> None:
        row = self._selected_ruleset()
        if row is None:
            return
        self.context.worker.run(q.activate_ruleset, self.context.session, row["ruleset_id"], int(row["version"]),
                                changes="rules", on_done=lambda _r: self.reload(), on_error=self._error)

    def run_scoring(self) -> None:
        self.run_button.setEnabled(False)
        self.context.worker.run(q.start_scoring, self.context.session, changes="scoring",
                                progress_title=self.tr("Scoring…"), parent=self,
                                on_done=lambda _ids: (self.run_button.setEnabled(True), self.reload()),
                                on_error=lambda exc: (self.run_button.setEnabled(True), self._error(exc)))


if __name__ == "__main__":
    import sys

    from app.store.demo_location import DEMO_PASSWORD, demo_store_path
    from app.store.opening import open_store
    from app.views.application import make_application
    from app.views.context import AppContext
    from app.views.worker import Worker

    application = make_application()
    path = sys.argv[sys.argv.index("--db") + 1] if "--db" in sys.argv else demo_store_path()
    view = RulesView(AppContext(open_store(path, "manager", DEMO_PASSWORD), Worker()))
    view.resize(1300, 850)
    view.show()
    sys.exit(application.exec())
