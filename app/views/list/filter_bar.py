"""③ The filter bar: district, town, age band, any rule, follow-up state, move-in, stale data and
free text on the reasons. Emits a :class:`WorklistFilter`; the model applies it in pandas."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QVBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from app.engine import worklist
from app.engine.worklist import AGE_BANDS, FOLLOWUP_STATUSES, WorklistFilter

ALL = "__all__"
NOT_FOLLOWED = "__not_followed__"


class FilterBar(QWidget):
    filter_changed = Signal(object)  # WorklistFilter

    def __init__(self, parent=None):
        super().__init__(parent)
        self._base = worklist.default_filter()
        self._towns_by_district: dict[str, list[str]] = {}
        # Two rows: the choice filters, then the switches and free text (fits 1280 px windows).
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(4)
        row, row2 = QHBoxLayout(), QHBoxLayout()
        rows.addLayout(row)
        rows.addLayout(row2)

        self.district = QComboBox()
        self.town = QComboBox()
        self.age = QComboBox()
        self.rule = QComboBox()
        self.followup = QComboBox()
        self.moved_in = QCheckBox(self.tr("Recent move-in"))
        self.stale = QCheckBox(self.tr("Old data"))
        self.text = QLineEdit()
        self.text.setPlaceholderText(self.tr("Search reasons, ID, town…"))
        self.text.setClearButtonEnabled(True)
        self.text.setMinimumWidth(180)
        self.reset = QPushButton(self.tr("Working filter"))
        self.reset.setToolTip(self.tr("Not yet followed, highest need first (the default)"))

        self.age.addItem(self.tr("All ages"), None)
        for label, lo, hi in AGE_BANDS:
            self.age.addItem(label, (lo, hi))
        self.followup.addItem(self.tr("Not yet followed"), NOT_FOLLOWED)
        self.followup.addItem(self.tr("All follow-up states"), ALL)
        for status in FOLLOWUP_STATUSES:
            self.followup.addItem(status, status)

        # Combos sized to a few characters, not to their longest item (rule labels and town
        # names are long); the popup still shows whole items. Keeps the window usable at 1280 px.
        for combo, chars in ((self.district, 5), (self.town, 7), (self.age, 5), (self.rule, 9), (self.followup, 6)):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(chars)
        self.text.setMinimumWidth(120)
        for label, widget in ((self.tr("District"), self.district), (self.tr("Town"), self.town),
                              (self.tr("Age"), self.age), (self.tr("Flag"), self.rule),
                              (self.tr("Follow-up"), self.followup)):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addStretch(1)
        row2.addWidget(self.moved_in)
        row2.addWidget(self.stale)
        row2.addWidget(self.text, 1)
        row2.addWidget(self.reset)

        # Typing is debounced so a fast typist does not trigger a filter per key.
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(150)
        self._typing.timeout.connect(self._emit)
        self.text.textChanged.connect(lambda _t: self._typing.start())
        for combo in (self.age, self.rule, self.followup, self.town):
            combo.currentIndexChanged.connect(self._emit)
        self.district.currentIndexChanged.connect(self._district_changed)
        self.moved_in.toggled.connect(self._emit)
        self.stale.toggled.connect(self._emit)
        self.reset.clicked.connect(self.reset_to_default)
        self._quiet = False

    def set_choices(self, districts: list[str], towns_by_district: dict[str, list[str]],
                    rules: list[tuple[str, str]]) -> None:
        """Fill the combos from the loaded results (districts the user may see, rule labels)."""
        self._quiet = True
        self._towns_by_district = towns_by_district
        self.district.clear()
        self.district.addItem(self.tr("All districts"), ALL)
        for d in districts:
            self.district.addItem(d, d)
        self.rule.clear()
        self.rule.addItem(self.tr("Any flag"), ALL)
        for rule_id, label in rules:
            self.rule.addItem(label, rule_id)
        self._fill_towns()
        self._quiet = False

    def _fill_towns(self) -> None:
        d = self.district.currentData()
        towns = (sorted({t for ts in self._towns_by_district.values() for t in ts}) if d in (None, ALL)
                 else self._towns_by_district.get(d, []))
        quiet, self._quiet = self._quiet, True
        self.town.clear()
        self.town.addItem(self.tr("All towns"), ALL)
        for t in towns:
            self.town.addItem(t, t)
        self._quiet = quiet

    def _district_changed(self) -> None:
        self._fill_towns()
        self._emit()

    def current(self) -> WorklistFilter:
        """The filter the widgets describe, on top of the conditions' score cut / top-k."""
        d, t, age, rule, fu = (self.district.currentData(), self.town.currentData(), self.age.currentData(),
                               self.rule.currentData(), self.followup.currentData())
        return self._base.with_(
            districts=() if d in (None, ALL) else (d,),
            towns=() if t in (None, ALL) else (t,),
            age_min=age[0] if age else None, age_max=age[1] if age else None,
            any_rules=() if rule in (None, ALL) else (rule,),
            not_followed_only=fu == NOT_FOLLOWED,
            statuses=() if fu in (None, ALL, NOT_FOLLOWED) else (fu,),
            moved_in_only=self.moved_in.isChecked(), stale_only=self.stale.isChecked(),
            text=self.text.text())

    def set_base(self, base: WorklistFilter) -> None:
        """Conditions from panel ① (min flags, score cut, top-k) that the bar builds on."""
        self._base = base
        self._emit()

    def reset_to_default(self) -> None:
        self._quiet = True
        for combo in (self.district, self.town, self.age, self.rule):
            combo.setCurrentIndex(0)
        self.followup.setCurrentIndex(self.followup.findData(NOT_FOLLOWED))
        self.moved_in.setChecked(False)
        self.stale.setChecked(False)
        self.text.clear()
        self._typing.stop()
        self._quiet = False
        self._emit()

    def _emit(self, *_args) -> None:
        if not self._quiet:
            self.filter_changed.emit(self.current())

    def flush(self) -> None:
        """Apply pending typed text now (tests, Enter key)."""
        if self._typing.isActive():
            self._typing.stop()
            self._emit()

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.flush()
        super().keyPressEvent(event)
