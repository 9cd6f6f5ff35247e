"""The per-child timeline view (issue 7): lanes, numeric series, templates, household mode.

``TimelineView(context, parent=None)`` shows one child's record as the role-checked query
(``app/store/queries/timeline.py``) returns it; it never filters by role itself. Other views
connect through:
- ``open_child(person_id, run_id=None)`` (also wired to ``context.selection.open_child`` and
  ``open_child_in_run``: the run's flags and as-of date; without a run, the newest default run),
- ``highlight_rule(rule_id)`` / ``highlight_events(event_ids)`` (the evidence panel),
- the signal ``event_selected(int event_id)`` when a mark is clicked.

Run alone on the SAMPLE child (架空データ): ``python -m app.views.timeline_view``
(``--shot FILE.png`` saves a screenshot and exits).
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QInputDialog, QLabel, QMenu,
                               QPushButton, QToolButton, QVBoxLayout, QWidget)

from app.engine import catalogue
from app.engine import timeline_layout as tl
from app.engine.worklist import TARGET_LABELS
from app.models.timeline_model import (DISCLOSURE_STYLE, FLAG_STYLE, SERIES, WINDOW_STYLE,
                                       TimelineModel, date_ja)
from app.views.timeline.plot import TimelinePlot

VIEW_KEY = "timeline"
PRESETS = {"1m": 31.0, "6m": 183.0, "1y": 366.0, "all": None}


def legend_html() -> str:
    """The always-visible legend: disclosure classes (colour + shape + label) and other cues."""
    parts = [f'<span style="color:{s["color"]}; font-size:14pt">{s["glyph"]}</span> {tl.DISCLOSURE_LABELS[k]}'
             for k, s in DISCLOSURE_STYLE.items()]
    parts.append('<span style="font-size:14pt">◯</span> 白抜き = 未受診・未実施')
    parts.append(f'<span style="color:{FLAG_STYLE["color"]}; font-size:14pt">{FLAG_STYLE["glyph"]}</span> フラグの根拠')
    parts.append(f'<span style="color:{WINDOW_STYLE["done"][0]}; font-size:14pt">█</span> 標準接種期間')
    parts.append(f'<span style="color:{WINDOW_STYLE["due"][0]}; font-size:14pt">█</span> 接種時期')
    parts.append('<span style="color:#E07070; font-size:14pt">█</span> 「遅れ」未接種')
    parts.append('<span style="color:#999999">▨</span> データなし（転入前）')
    return "\u3000".join(parts)


class TimelineView(QWidget):
    event_selected = Signal(int)
    data_loaded = Signal()

    def __init__(self, context=None, parent=None):
        super().__init__(parent)
        self.context = context
        self.data: tl.TimelineData | None = None
        self.model: TimelineModel | None = None
        self.templates: list[tl.LaneTemplate] = []
        self.template: tl.LaneTemplate | None = None
        self.hidden: set[str] = set()
        self.household_mode = False
        self.error_text = ""
        self.run_id: int | None = None   # the run asked for (None: the newest default run)

        top = self._build_top_bar(context)

        self.legend = QLabel(legend_html())
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setStyleSheet("background:#f7f9fa; border:1px solid #d5dbe0; padding:3px 8px;")

        self.plot = TimelinePlot(self)
        self.plot.mark_clicked.connect(self._mark_clicked)

        presets = self._build_presets()

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.freshness)
        layout.addWidget(self.legend)
        layout.addWidget(self.plot, 1)
        layout.addLayout(presets)

        self._load_templates()
        self._wanted_highlight: tuple[str, str, list] | None = None
        if context is not None and getattr(context, "selection", None) is not None:
            context.selection.open_child.connect(self.open_child)
            context.selection.open_child_in_run.connect(self.open_child)
            context.selection.highlight.connect(self._highlight_requested)
            context.on_store_changed(self, ("followup", "scoring", "import", "deletion"),
                                     lambda _kinds: self._reopen())
            current = getattr(context.selection, "current_child", None)
            if current:
                self.open_child(current, context.selection.run_for(current))

    def _build_top_bar(self, context) -> QHBoxLayout:
        """The child's heading, sample badge, template, lanes, household, era and graph choices."""
        self.header = QLabel()
        self.header.setObjectName("pageHeading")
        self.sample_badge = QLabel(self.tr("SAMPLE (fictional data)"))
        self.sample_badge.setObjectName("demoBadge")
        self.sample_badge.setStyleSheet("background:#fff3c4; color:#5c4400; border:1px solid #d9b84a; padding:2px 8px;")
        self.sample_badge.hide()
        self.freshness = QLabel()
        self.freshness.setWordWrap(True)
        self.freshness.setStyleSheet("color:#444;")

        self.template_box = QComboBox()
        self.template_box.currentIndexChanged.connect(self._template_chosen)
        self.lanes_button = QToolButton()
        self.lanes_button.setText(self.tr("Lanes"))
        self.lanes_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.lanes_menu = QMenu(self)
        self.lanes_button.setMenu(self.lanes_menu)
        self.save_button = QToolButton()
        self.save_button.setText(self.tr("Save as mine…"))
        self.save_button.clicked.connect(self._ask_template_name)
        self.save_button.setEnabled(context is not None)
        self.household_box = QCheckBox(self.tr("Household"))
        self.household_box.toggled.connect(self.set_household_mode)
        self.wareki_box = QCheckBox(self.tr("Japanese era years"))
        self.wareki_box.toggled.connect(lambda on: self.plot.wareki(on))
        self.series_box = QComboBox()
        for key, (label, _unit) in SERIES.items():
            self.series_box.addItem(label, key)
        self.series_box.currentIndexChanged.connect(
            lambda _i: self.plot.set_series(self.series_box.currentData()))

        top = QHBoxLayout()
        top.addWidget(self.header)
        top.addWidget(self.sample_badge)
        top.addStretch(1)
        top.addWidget(QLabel(self.tr("Template")))
        top.addWidget(self.template_box)
        top.addWidget(self.lanes_button)
        top.addWidget(self.save_button)
        top.addWidget(self.household_box)
        top.addWidget(self.wareki_box)
        top.addWidget(QLabel(self.tr("Graph")))
        top.addWidget(self.series_box)
        return top

    def _build_presets(self) -> QHBoxLayout:
        """Range presets and the navigation hint under the plot."""
        presets = QHBoxLayout()
        presets.addWidget(QLabel(self.tr("Range")))
        self.preset_buttons = {}
        for key, text in (("1m", self.tr("1 month")), ("6m", self.tr("6 months")),
                          ("1y", self.tr("1 year")), ("all", self.tr("Whole period"))):
            button = QPushButton(text)
            button.clicked.connect(lambda _checked=False, k=key: self.set_range_preset(k))
            presets.addWidget(button)
            self.preset_buttons[key] = button
        presets.addStretch(1)
        hint = QLabel(self.tr("Wheel: zoom · drag: pan · drag the band below: move the range"))
        hint.setStyleSheet("color:#666;")
        presets.addWidget(hint)
        return presets

    # -- loading ------------------------------------------------------------------
    def open_child(self, person_id: str, run_id: int | None = None) -> None:
        """Load one child's record through the worker (role-checked and audited by the query),
        with the flags and "today" of ``run_id`` (else of the newest default run)."""
        from app.store.queries.timeline import load_child_timeline

        self.run_id = None if run_id is None else int(run_id)
        self.context.worker.run(load_child_timeline, self.context.session, str(person_id), self.run_id,
                                key="timeline.child", on_done=self.set_data, on_error=self._load_failed)

    def _reopen(self) -> None:
        if self.data is not None:
            self.open_child(str(self.data.child["person_id"]), self.run_id)

    def _highlight_requested(self, person_id: str, rule_id: str, event_ids: list) -> None:
        """Ring a flag's evidence for ``person_id`` now, or once that child's record arrives."""
        self._wanted_highlight = (person_id, rule_id, list(event_ids))
        self._apply_highlight()

    def _apply_highlight(self) -> None:
        if self._wanted_highlight is None or self.data is None:
            return
        person_id, rule_id, event_ids = self._wanted_highlight
        if str(self.data.child["person_id"]) != person_id:
            return
        self._wanted_highlight = None
        if rule_id:
            self.highlight_rule(rule_id)
        elif event_ids:
            self.highlight_events(event_ids)

    def _load_failed(self, error: BaseException) -> None:
        # Never leave the previous child on screen under another child's error.
        self.data, self.model = None, None
        self.plot.clear_child()
        self.sample_badge.hide()
        self.freshness.clear()
        self.error_text = str(error)
        self.header.setText(self.tr("Could not open the record: %1").replace("%1", self.error_text))

    def set_data(self, data: tl.TimelineData) -> None:
        """Show ``data`` (already filtered for the user's role)."""
        self.data = data
        child = data.child
        sex = {"M": "男", "F": "女"}.get(str(child.get("sex", "")), "")
        birth = child.get("birth_date")
        birth_text = f"{birth.year}年{birth.month}月生" if birth is not None else ""
        self.header.setText(f"{child.get('pseudonym') or child['person_id']}（{sex} {birth_text}）")
        self.sample_badge.setVisible(bool(data.is_sample))
        # Freshness of the sources this record draws on (plus those whose age always matters).
        used = set(data.events["source"].astype(str)) | set(catalogue.freshness_sources())
        sources = "、".join(f"{tl.SOURCE_LABELS.get(k, k)} {date_ja(v)}" for k, v in sorted(data.sources.items())
                           if v is not None and k in used)
        text = self.tr("Data as of: %1").replace("%1", sources or "—")
        if data.run is not None:
            # which scoring run the flags and "today" come from, so it can be matched to the list
            text += "\n" + self.run_text(data.run)
        self.freshness.setText(text)
        self.plot.model = None  # a new child opens on its whole life, not the last child's range
        self._rebuild()
        self.set_range_preset("all")
        self._apply_highlight()
        self.data_loaded.emit()

    def run_text(self, run: dict) -> str:
        """「表示中の判定: 虐待予防 ルールセット abuse v1（基準日 …）」 for the run shown."""
        target = TARGET_LABELS.get(run.get("target"), run.get("target") or "")
        ruleset = f"{run.get('ruleset_id', '')} v{run.get('ruleset_version', '')}"
        return (self.tr("Flags shown: %1, rule set %2 (reference date %3)").replace("%1", target)
                .replace("%2", ruleset).replace("%3", date_ja(run.get("as_of"))))

    def _rebuild(self) -> None:
        if self.data is None:
            return
        lanes = self.template.visible(self.hidden) if self.template else None
        self.model = TimelineModel(self.data, household_mode=self.household_mode, lane_groups=lanes)
        keep = self.plot.day_range() if self.plot.model is not None else None
        self.plot.set_model(self.model)
        if keep is not None:
            self.plot.set_day_range(*keep)

    # -- templates ----------------------------------------------------------------
    def _load_templates(self) -> None:
        """Shipped templates at once; the store's (edits, the user's own) through the worker."""
        session = getattr(self.context, "session", None)
        templates = tl.shipped_templates()
        if session is not None:
            templates = [t for t in templates if not t.roles or session.role in t.roles]
        self._set_templates(templates)
        if session is not None:
            from app.store.queries.timeline import load_templates

            # The connection belongs to the worker thread (app/views/worker.py).
            self.context.worker.run(load_templates, session, key="timeline.templates", on_done=self._set_templates,
                                    on_error=lambda _exc: None)

    def _set_templates(self, templates: list[tl.LaneTemplate]) -> None:
        current = self.template.id if self.template is not None else None
        self.templates = list(templates)
        self.template_box.blockSignals(True)
        self.template_box.clear()
        for t in self.templates:
            self.template_box.addItem(t.name + ("" if t.shipped else self.tr(" (mine)")), t.id)
        self.template_box.blockSignals(False)
        ids = [t.id for t in self.templates]
        wanted = getattr(self, "_wanted_template", None)
        if wanted in ids:
            self._wanted_template = None
            self.apply_template(wanted)
        elif ids:
            self.apply_template(current if current in ids else ids[0])

    def apply_template(self, template_id: str) -> None:
        """Switch to a template: its lanes, its must-see set, its first series."""
        match = [t for t in self.templates if t.id == template_id]
        if not match:
            raise KeyError(template_id)
        self.template = match[0]
        self.hidden = set()
        index = self.template_box.findData(template_id)
        if index != self.template_box.currentIndex():
            self.template_box.blockSignals(True)
            self.template_box.setCurrentIndex(index)
            self.template_box.blockSignals(False)
        self._fill_lane_menu()
        series_index = self.series_box.findData(self.template.series)
        if series_index >= 0:
            self.series_box.blockSignals(True)
            self.series_box.setCurrentIndex(series_index)
            self.series_box.blockSignals(False)
            self.plot._series_key = self.template.series
        self._rebuild()

    def _template_chosen(self, index: int) -> None:
        if index >= 0:
            self.apply_template(self.template_box.itemData(index))

    def _fill_lane_menu(self) -> None:
        self.lanes_menu.clear()
        self.lane_actions: dict[str, QAction] = {}
        for key in self.template.lanes:
            must = key in self.template.must_see
            action = QAction(tl.LANE_LABELS[key] + (self.tr(" (must see)") if must else ""), self.lanes_menu)
            action.setCheckable(True)
            action.setChecked(True)
            action.setEnabled(not must)
            action.toggled.connect(lambda on, k=key: self.set_lane_visible(k, on))
            self.lanes_menu.addAction(action)
            self.lane_actions[key] = action

    def set_lane_visible(self, key: str, visible: bool) -> bool:
        """Show or hide a lane group; must-see lanes cannot be hidden (returns False)."""
        if self.template is None or key not in self.template.lanes:
            return False
        if not visible and key in self.template.must_see:
            return False
        changed = (key in self.hidden) == visible
        if visible:
            self.hidden.discard(key)
        else:
            self.hidden.add(key)
        if changed:
            self._rebuild()
        return True

    def visible_lane_groups(self) -> list[str]:
        return sorted({self.model.lane_group(k) for k in self.model.lane_keys()}) if self.model else []

    def _ask_template_name(self) -> None:
        name, ok = QInputDialog.getText(self, self.tr("Save template"), self.tr("Name of your template:"))
        if ok and name.strip():
            self.save_template_as(name.strip())

    def save_template_as(self, name: str) -> None:
        """Save the current template with the lanes now shown as the user's own (in the store)."""
        from app.store.queries.timeline import save_user_template

        base = self.template.id if self.template.shipped else self._base_of(self.template)
        lanes = self.template.visible(self.hidden)

        def saved(template):
            self._wanted_template = template.id
            self._load_templates()

        self.context.worker.run(save_user_template, self.context.session, base, name, lanes,
                                self.series_box.currentData(), changes="templates", on_done=saved,
                                on_error=self._load_failed)

    def _base_of(self, template: tl.LaneTemplate) -> str:
        # User templates are named "user:<base id>:<name>".
        return template.id.split(":", 2)[1]

    # -- range, modes, selection -----------------------------------------------------
    def set_range_preset(self, key: str) -> None:
        """1か月 / 6か月 / 1年 up to the data's as-of date, or 全期間."""
        if self.model is None:
            return
        lo, hi = self.model.day_range()
        days = PRESETS[key]
        if days is None:
            self.plot.set_day_range(lo, hi)
        else:
            end = tl.day_of(self.model.as_of) + 3
            self.plot.set_day_range(end - days, end)

    def set_household_mode(self, on: bool) -> None:
        """Add the household members (siblings, guardians) as extra lanes."""
        self.household_mode = bool(on)
        if self.household_box.isChecked() != self.household_mode:
            self.household_box.setChecked(self.household_mode)
        self._rebuild()

    def highlight_events(self, event_ids) -> None:
        """Ring these events' marks (from the evidence panel); [] clears."""
        if self.model is None:
            return
        index = self.model._event_index
        rows = index.reindex(list(event_ids)).dropna().astype(int).tolist()
        self.plot.highlight_rows(rows)

    def highlight_rule(self, rule_id: str) -> None:
        """Ring the evidence events of one flag's rule."""
        if self.model is not None:
            self.highlight_events(self.model.events_of_rule(rule_id))

    def _mark_clicked(self, row: int) -> None:
        event_id = self.model.event_id_at(row)
        self.plot.highlight_rows([row])
        self.event_selected.emit(event_id)


def main(argv: list[str] | None = None) -> int:
    """Preview on the SAMPLE child (架空データ); ``--shot FILE`` saves a PNG and exits."""
    import argparse

    from app.views.application import make_application
    from app.views.timeline.sample import sample_timeline_data

    parser = argparse.ArgumentParser(description="Timeline preview on a fictional sample child")
    parser.add_argument("--shot", help="save a screenshot to this PNG and exit")
    parser.add_argument("--household", action="store_true")
    parser.add_argument("--events", type=int, default=120)
    args = parser.parse_args(argv)
    app = make_application()
    view = TimelineView(None)
    view.resize(1500, 950)
    view.set_data(sample_timeline_data(args.events))
    if args.household:
        view.set_household_mode(True)
    view.show()
    if args.shot:
        app.processEvents()
        view.grab().save(args.shot)
        return 0
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
