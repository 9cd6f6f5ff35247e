"""① Conditions: the target (abuse / postpartum), the run's rule set, which rules count (and their
thresholds), and a top-k or — for roles allowed to see scores — a score cut. A second line says
what 抽出 means in this run and where it is set (the rule set's ``[extraction]``), switches
between 抽出 and 「全件」 in one click, and — for roles with the score — carries the validation's
caution in plain words when the ranking is not shown to be better than chance."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QMenu,
                               QRadioButton, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from app.models.child_table_model import RuleInfo


class ConditionsPanel(QWidget):
    target_changed = Signal(str)
    run_changed = Signal(int)
    # counted rule ids, top-k (0 = all), score cut (None = none)
    conditions_changed = Signal(list, int, object)

    def __init__(self, can_see_score: bool, parent=None):
        super().__init__(parent)
        self.can_see_score = can_see_score
        self._rules: list[RuleInfo] = []
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(2)
        row, row2 = QHBoxLayout(), QHBoxLayout()
        rows.addLayout(row)
        rows.addLayout(row2)
        row.addWidget(QLabel(self.tr("Target")))
        self.target = QComboBox()
        self.target.currentIndexChanged.connect(self._target_chosen)
        row.addWidget(self.target)
        self.ruleset = QLabel()
        self.ruleset.setStyleSheet("color:#38505e;")
        row.addWidget(self.ruleset)
        # Each scoring run records its rule set and data dates: choosing a run chooses them.
        self.run = QComboBox()
        self.run.setToolTip(self.tr("Scoring run (rule set, data date, when it was run)"))
        self.run.currentIndexChanged.connect(self._run_chosen)
        row.addWidget(self.run)
        self.rules_button = QToolButton()
        self.rules_button.setText(self.tr("Rules counted"))
        self.rules_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        # room for the menu arrow: the style's size hint leaves none, and it covered the last
        # character of 「数えるルール」
        self.rules_button.setMinimumWidth(self.rules_button.sizeHint().width()
                                          + self.rules_button.fontMetrics().horizontalAdvance("▼") + 6)
        self.rules_menu = QMenu(self)
        self.rules_button.setMenu(self.rules_menu)
        row.addWidget(self.rules_button)
        row.addWidget(QLabel(self.tr("Top")))
        self.top_k = QSpinBox()
        self.top_k.setRange(0, 1_000_000)
        self.top_k.setSpecialValueText(self.tr("all"))
        self.top_k.setSingleStep(50)
        self.top_k.setToolTip(self.tr("Show only the k children most in need (0 = all)"))
        self.top_k.valueChanged.connect(self._emit)
        row.addWidget(self.top_k)
        self.score_cut = QDoubleSpinBox()
        self.score_cut.setRange(-1, 100)
        self.score_cut.setDecimals(2)
        self.score_cut.setSingleStep(0.1)
        self.score_cut.setValue(-1)
        self.score_cut.setSpecialValueText(self.tr("no cut"))
        self.score_cut.valueChanged.connect(self._emit)
        if can_see_score:
            row.addWidget(QLabel(self.tr("Score ≥")))
            row.addWidget(self.score_cut)
        else:
            self.score_cut.hide()
        row.addStretch(1)
        # 抽出 (the run's definition) or 全件: one click apart
        self.extracted_button = QRadioButton(self.tr("Extracted"))
        self.everyone_button = QRadioButton(self.tr("All children"))
        self.extracted_button.setChecked(True)
        self._scope = QButtonGroup(self)
        for b in (self.extracted_button, self.everyone_button):
            self._scope.addButton(b)
            row2.addWidget(b)
        self.extracted_button.toggled.connect(self._emit)
        self.extraction = QLabel()
        self.extraction.setStyleSheet("color:#38505e;")
        row2.addWidget(self.extraction)
        row2.addStretch(1)
        self.caution = QLabel()
        self.caution.setWordWrap(True)
        self.caution.setStyleSheet("color:#8a2a00;")
        self.caution.hide()
        rows.addWidget(self.caution)
        self._quiet = False

    def set_extraction(self, definition: str, where: str, caution: str = "") -> None:
        """What 抽出 means in the shown run, where it is set, and the validation's caution (if any)."""
        place = where.split("\n")[0]
        text = definition or self.tr("Extraction is not defined for this run")
        self.extraction.setText(text + ("　" + self.tr("Set in: %1").replace("%1", place) if place else ""))
        self.extraction.setToolTip(self.tr("Set in: %1").replace("%1", where) if where else "")
        self.caution.setText(caution)
        self.caution.setVisible(bool(caution) and self.can_see_score)

    def extracted_only(self) -> bool:
        return self.extracted_button.isChecked()

    def show_everyone(self, on: bool = True) -> None:
        (self.everyone_button if on else self.extracted_button).setChecked(True)

    def set_run(self, targets: list[tuple[str, str]], current: str, ruleset_text: str,
                rules: list[RuleInfo], runs: list[tuple[int, str]] | None = None,
                run_id: int | None = None) -> None:
        """Show the available targets, the run (and its rule set) and one checkable entry per rule."""
        self._quiet = True
        self.run.clear()
        for rid, label in runs or []:
            self.run.addItem(label, rid)
        self.run.setCurrentIndex(max(self.run.findData(run_id), 0))
        self.run.setVisible(len(runs or []) > 1)
        self.ruleset.setVisible(len(runs or []) <= 1)
        self.target.clear()
        for key, label in targets:
            self.target.addItem(label, key)
        idx = self.target.findData(current)
        self.target.setCurrentIndex(max(idx, 0))
        self.ruleset.setText(ruleset_text)
        self._rules = rules
        self.rules_menu.clear()
        for r in rules:
            text = f"{r.label}（{r.threshold}）" if r.threshold else r.label
            action = QAction(text, self.rules_menu)
            action.setToolTip(self.tr("Thresholds are set in the rule set (Rules and scoring view)"))
            action.setCheckable(True)
            action.setChecked(True)
            action.setData(r.rule_id)
            action.toggled.connect(self._emit)
            self.rules_menu.addAction(action)
        self._quiet = False

    def counted_rules(self) -> list[str]:
        return [a.data() for a in self.rules_menu.actions() if a.isChecked()]

    def set_rule_counted(self, rule_id: str, on: bool) -> None:
        for a in self.rules_menu.actions():
            if a.data() == rule_id:
                # one action per rule; toggling it may rebuild the menu (the list reads every child)
                a.setChecked(on)
                return

    def _run_chosen(self) -> None:
        if not self._quiet and self.run.currentData() is not None:
            self.run_changed.emit(int(self.run.currentData()))

    def _target_chosen(self) -> None:
        if not self._quiet and self.target.currentData():
            self.target_changed.emit(self.target.currentData())

    def restore_counted(self, counted: list[str]) -> None:
        """Check exactly the rules in ``counted`` without signalling (the same run read again)."""
        self._quiet = True
        for a in self.rules_menu.actions():
            a.setChecked(a.data() in counted)
        self._quiet = False

    def current(self) -> tuple[list[str], int, float | None]:
        """(counted rule ids, top k (0 = all), score cut or None), as ``conditions_changed`` sends them."""
        cut = self.score_cut.value() if self.can_see_score and self.score_cut.value() >= 0 else None
        return self.counted_rules(), self.top_k.value(), cut

    def _emit(self, *_args) -> None:
        if self._quiet:
            return
        self.conditions_changed.emit(*self.current())
