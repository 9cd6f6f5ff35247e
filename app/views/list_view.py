"""The working list (issue 6): ① conditions, ② results, ③ filters, the evidence panel,
follow-up and the visit sheet.

``ListView(context, parent=None)`` reads everything through the role-checked queries
(``app/store/queries/worklist.py``, ``app/store/followup.py``) on the context's worker; it
never filters by role itself — a nurse's frame simply has no score column.

Other views are reached only through the shared Selection: child_selected, open_child, and
``highlight`` (a chosen flag's evidence, which the timeline rings once that child is loaded).
All store work goes through the task API (``context.worker``) with a key per slot, so a newer
request supersedes an older one; the list reloads itself after a scoring run, an import, a
follow-up or a deletion (``store_changed``), so it never keeps showing an old run.
The evidence pane is emptied the moment the selection changes and only ever accepts the
answer for the child now selected (issue 15).

Run alone on fictional sample data (no store): ``python -m app.views.list_view``
(``--shot FILE.png`` saves a screenshot and exits; ``--rows N``, ``--nurse``).
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QMessageBox, QPushButton,
                               QSplitter, QVBoxLayout, QWidget)

from app.engine import worklist
from app.engine.worklist import TARGET_LABELS, ChildEvidence, WorklistData, WorklistFilter
from app.models.child_table_model import ChildTableModel, ColumnSpec, RuleInfo
from app.views.list.conditions_panel import ConditionsPanel
from app.views.list.evidence_panel import EvidencePanel
from app.views.list.filter_bar import FilterBar
from app.views.list.results_table import ResultsTable
# Importing the timeline package applies its shiboken6 6.12 / Python 3.11 refcount guard
# (see app/views/timeline/__init__.py); the list makes as many void Qt calls as the plots.
import app.views.timeline  # noqa: E402,F401  isort: skip


class StoreSource:
    """The list's data through the store's role-checked queries (runs on the worker thread)."""

    def __init__(self, session):
        self.session = session

    def can(self, capability: str) -> bool:
        return self.session.can(capability)

    def load(self, target: str | None = None, reveal: bool = False, run_id: int | None = None,
             working_only: bool = False) -> WorklistData:
        from app.store.queries.worklist import worklist_data
        return worklist_data(self.session, target=target, reveal=reveal, run_id=run_id, working_only=working_only)

    def evidence(self, person_id: str, data: WorklistData) -> ChildEvidence:
        """One child's evidence for the pane, logged like a timeline view (``view_child``): the
        pane shows one identifiable child's facts, so the auditor's per-child access counts it."""
        from app.store.audit import VIEW_CHILD
        from app.store.queries.worklist import child_evidence
        ev = child_evidence(self.session, person_id, run_id=data.run_id)
        self.session.audit_alone(VIEW_CHILD, object_type="person", object_ids=[str(person_id)],
                                 detail={"view": "evidence", "flags": int(len(ev.flags)),
                                         "run_id": None if data.run_id is None else int(data.run_id)})
        return ev

    def record_followup(self, person_id: str, values: dict) -> int:
        from app.store.followup import record_followup
        return record_followup(self.session, person_id, **values)

    def visit_sheets(self, person_ids: list[str], data: WorklistData, reveal: bool = False, **choice):
        """(sheets, footer) after the export gate allowed and logged the print."""
        from app.views.visit_sheet import prepare_visit_sheets
        return prepare_visit_sheets(self.session, person_ids, run_id=data.run_id if data else None,
                                    reveal=reveal, **choice)

    def print_allowed(self) -> None:
        """The gate's pre-check (terminal registered, role) before any file dialog; logs a refusal."""
        from app.store.exports import check_allowed
        check_allowed(self.session, "print_visit_sheet")

    def write_visit_sheet(self, pdf: bytes, path: str, **choice):
        from app.views.visit_sheet import write_visit_sheet
        return write_visit_sheet(self.session, pdf, path, **choice)


class ListView(QWidget):
    """The working list page of the main window (registry key ``list``)."""

    loaded = Signal()

    def __init__(self, context, parent=None, source=None):
        super().__init__(parent)
        self.context = context
        self.source = source or StoreSource(context.session)
        self.data: WorklistData | None = None
        self._ready = False
        self.error_text = ""
        self.reveal = False
        self.last_sheet: dict | None = None
        self.household_mode = False
        self._completing = False
        self._households = None
        self._children_frame = None
        self._pending_highlight: tuple[str | None, list[int]] = (None, [])
        self._following_selection = False
        can = self.source.can
        self.can_score = can("view_score")

        heading = QLabel(self.tr("Working list"))
        heading.setObjectName("pageHeading")
        self.status = QLabel()
        self.status.setStyleSheet("color:#38505e;")
        self.freshness = QLabel()
        self.freshness.setWordWrap(True)
        self.freshness.setStyleSheet("color:#5c4400;")
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addSpacing(12)
        top.addWidget(self.status, 1)

        self.conditions = ConditionsPanel(self.can_score)
        self.filters = FilterBar()
        self.model = ChildTableModel(self)
        self.table = ResultsTable(self.model)
        self.evidence = EvidencePanel()

        self.household_box = QCheckBox(self.tr("One row per household"))
        self.identity_button = QPushButton(self.tr("Show identity…"))
        self.identity_button.setToolTip(self.tr("Show real names (each time is logged)"))
        self.identity_button.setVisible(can("reidentify"))
        self.followup_button = QPushButton(self.tr("Record follow-up…"))
        self.followup_button.setVisible(can("record_followup"))
        self.sheet_button = QPushButton(self.tr("Visit sheet (PDF)…"))
        self.sheet_button.setVisible(can("print_visit_sheet"))
        self.timeline_button = QPushButton(self.tr("Open timeline"))
        self.timeline_button.setDefault(False)
        actions = QHBoxLayout()
        actions.addWidget(self.household_box)
        actions.addStretch(1)
        for b in (self.identity_button, self.followup_button, self.sheet_button, self.timeline_button):
            actions.addWidget(b)

        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(actions)
        split.addWidget(left)
        split.addWidget(self.evidence)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([820, 560])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(top)
        layout.addWidget(self.conditions)
        layout.addWidget(self.filters)
        layout.addWidget(self.freshness)
        layout.addWidget(split, 1)

        self.filters.filter_changed.connect(self._filter_changed)
        self.conditions.conditions_changed.connect(self._conditions_changed)
        self.conditions.target_changed.connect(lambda t: self.reload(target=t, run_id=None))
        self.conditions.run_changed.connect(lambda r: self.reload(target=self.data.target if self.data else None,
                                                                  run_id=r))
        self.model.rows_changed.connect(self._update_status)
        # After the table restored (or lost) its current row on a reset: filtering can take
        # the shown child off the list; the pane must not keep it.
        self.model.modelReset.connect(self._sync_evidence)
        self._evidence_data = None
        self.table.child_current.connect(self._child_current)
        self.table.child_activated.connect(self.open_timeline)
        self.evidence.rule_selected.connect(lambda r: self._remember_highlight(r, None))
        self.evidence.events_selected.connect(lambda ids: self._remember_highlight(None, ids))
        self.evidence.member_activated.connect(self.select_child)
        self.household_box.toggled.connect(self.set_household_mode)
        self.identity_button.clicked.connect(self._ask_reveal)
        self.followup_button.clicked.connect(self._followup_clicked)
        self.sheet_button.clicked.connect(self._sheet_clicked)
        self.timeline_button.clicked.connect(self._timeline_clicked)
        selection = getattr(context, "selection", None)
        if selection is not None:
            selection.child_selected.connect(self._selection_from_elsewhere)
        subscribe = getattr(context, "on_store_changed", None)
        if subscribe is not None:
            subscribe(self, ("import", "scoring", "followup", "deletion", "linkage"), self._store_changed)
        self.reload()

    def _store_changed(self, kinds: frozenset) -> None:
        # A new scoring run or delivery: show the newest run of the same target; a
        # follow-up or a deletion: the same run again with the new states.
        if self.data is not None and kinds & {"scoring", "import"}:
            self.reload(target=self.data.target, run_id=None)
        else:
            self.reload()

    # --- loading ------------------------------------------------------------------------
    def is_ready(self) -> bool:
        return self._ready

    def reload(self, target: str | None = None, run_id: int | None = None) -> None:
        """Load the list again (same target and run unless given).

        While the user looks at 抽出 only (the working list), only the run's order down to its
        last 抽出 or 至急 child is read: at 200,000 children that is a few thousand rows instead
        of every child. 「全件」, the household view or a re-ranking reads every child first
        (``_load_everyone``)."""
        self._ready = False
        if target is None and self.data is not None:
            target = self.data.target
            run_id = run_id if run_id is not None else self.data.run_id
        source = self.source
        options = {} if self._needs_everyone() else {"working_only": True}

        def load(target, reveal, run_id):
            if run_id is None:
                return worklist.prepare_index(source.load(target, reveal, **options))
            return worklist.prepare_index(source.load(target, reveal, run_id, **options))
        self.context.worker.run(load, target, self.reveal, run_id, key="list.load",
                                on_done=self.set_data, on_error=self._load_failed)

    def _needs_everyone(self) -> bool:
        """Whether what is asked for needs every child, not just the working list's rows: 「全件」,
        one row per household (a household counts all its children), or an order recomputed
        without some rules (a child outside 抽出 may then come first)."""
        if self.household_mode or not self.conditions.extracted_only() or not self.model.current_filter.extracted_only:
            return True
        return self.data is not None and set(self.conditions.counted_rules()) != {
            r["rule_id"] for r in self.data.rules}

    def _load_everyone(self) -> None:
        """Read every child of the shown run; set_data then applies what the user chose."""
        self._completing = True
        self.status.setText(self.tr("Reading all %1 children…").replace(
            "%1", f"{self.data.total or 0:,}" if self.data is not None else ""))
        self.reload()

    def _load_failed(self, error: BaseException) -> None:
        self.error_text = str(error)
        self.status.setText(self.tr("Could not load the list: %1").replace("%1", self.error_text))
        self._ready = True

    def set_data(self, data: WorklistData) -> None:
        # The rest of a list the user is looking at (after 「全件」 and the like): keep the rules
        # they chose to count, which set_run would otherwise reset.
        completing = self._completing and self.data is not None and (
            (self.data.target, self.data.run_id) == (data.target, data.run_id))
        counted = self.conditions.counted_rules() if completing else None
        self._completing = False
        self.data = data
        self._children_frame = data.frame
        self._households = None
        rules = self._rule_infos()
        self.conditions.set_run(data.targets or [(data.target, TARGET_LABELS.get(data.target, data.target))],
                                data.target, data.ruleset_text, rules, data.runs, data.run_id)
        self.conditions.set_extraction(data.extraction, data.extraction_where, data.caution)
        frame = data.frame
        places = data.places if data.places is not None else worklist.places_of(frame)
        self.filters.set_choices(sorted(places), places, [(r.rule_id, r.label) for r in rules])
        if counted is not None:
            self.conditions.restore_counted(counted)
            self._apply_conditions()
        else:
            self._show_frame()
        self._show_freshness()
        if data.message and not len(frame):
            self.status.setText(data.message)
        # Start on the child most in need (or the one chosen elsewhere) so the evidence shows.
        wanted = getattr(getattr(self.context, "selection", None), "current_child", None)
        if not (wanted and self.table.select_person(wanted)) and self.model.rowCount():
            self.table.selectRow(0)
        self._sync_evidence()
        self._ready = True
        self.loaded.emit()

    def _rule_infos(self) -> list[RuleInfo]:
        if self.data is None:
            return []
        return [RuleInfo(r["rule_id"], r.get("label", r["rule_id"]),
                         worklist.flag_short(r["rule_id"], r.get("label", "")),
                         r.get("disclosure", "staff"), r.get("threshold", "") or "")
                for r in self.data.rules]

    def _columns(self) -> list[ColumnSpec]:
        cols = [ColumnSpec("rank", self.tr("Order"), "int")]
        if self.can_score:
            cols += [ColumnSpec("score", self.tr("Score"), "score"), ColumnSpec("probability", self.tr("Probability"), "score")]
        if self.household_mode:
            cols += [ColumnSpec("household_id", self.tr("Household")), ColumnSpec("children", self.tr("Children"), "int")]
        cols += [ColumnSpec("pseudonym", self.tr("Pseudonym")), ColumnSpec("name_kanji", self.tr("Name")),
                 ColumnSpec("person_id", self.tr("Research ID")), ColumnSpec("district", self.tr("District")),
                 ColumnSpec("town", self.tr("Town")), ColumnSpec("age_months", self.tr("Age"), "months"),
                 ColumnSpec("flags", self.tr("Flags")), ColumnSpec("followup_status", self.tr("Follow-up")),
                 ColumnSpec("status_since", self.tr("Since extraction")),
                 ColumnSpec("moved_in_recent", self.tr("Move-in"), "bool"),
                 ColumnSpec("stale_sources", self.tr("Old data")), ColumnSpec("reasons", self.tr("Reasons"))]
        return cols

    def _show_frame(self) -> None:
        if self._children_frame is None:
            return
        frame = self._children_frame
        if self.household_mode:
            if self._households is None:
                # ~1 s at 200,000 children: group on the worker, show when ready.
                self.context.worker.run(worklist.group_households, frame, key="list.households",
                                        on_done=lambda h, f=frame: self._households_ready(h, f),
                                        on_error=self._load_failed)
                return
            frame = self._households
        index = self.data.index if self.data is not None and frame is self.data.frame else None
        # what "of N" counts: every child the user may list (the store counted them), or every household
        total = None if self.household_mode or self.data is None else self.data.total
        self.model.set_frame(frame, self._columns(), self._rule_infos(), index=index, total=total)
        header = self.table.horizontalHeader()
        key, ascending = self.model.current_sort
        col = self.model.column_of(key)
        if col >= 0:
            header.blockSignals(True)
            header.setSortIndicator(col, Qt.SortOrder.AscendingOrder if ascending else Qt.SortOrder.DescendingOrder)
            header.blockSignals(False)
        widths = {"rank": 76, "score": 60, "probability": 60, "pseudonym": 80, "person_id": 80, "district": 60,
                  "town": 90, "age_months": 80, "flags": 230, "followup_status": 90, "status_since": 90,
                  "moved_in_recent": 50, "stale_sources": 110, "household_id": 90, "children": 50,
                  "name_kanji": 110}
        for i, k in enumerate(self.model.column_keys()):
            if k in widths:
                self.table.setColumnWidth(i, widths[k])

    def _households_ready(self, households, source_frame) -> None:
        if source_frame is not self._children_frame:
            return  # the conditions changed meanwhile; a newer grouping is on its way
        self._households = households
        if self.household_mode:
            self._show_frame()

    def _show_freshness(self) -> None:
        if not self.data or not self.data.source_as_of:
            self.freshness.setText("")
            return
        items = sorted(self.data.source_as_of.items())
        main = [f"{worklist.SOURCE_LABELS.get(k, k)} {str(v)[:10]}" for k, v in items
                if v and k in worklist.FRESHNESS_SOURCES]
        every = [f"{worklist.SOURCE_LABELS.get(k, k)} {str(v)[:10]}" for k, v in items if v]
        self.freshness.setText(self.tr("Data as of — %1").replace("%1", "  ".join(main or every)))
        self.freshness.setToolTip("\n".join(every))

    # --- filters and conditions ---------------------------------------------------------
    def _filter_changed(self, spec: WorklistFilter) -> None:
        self.apply_filter(spec)

    def _conditions_changed(self, counted: list, top_k: int, score_cut) -> None:
        if self.data is None:
            return
        if not self.data.complete and self._needs_everyone():
            self._load_everyone()
            return
        self._apply_conditions()

    def _apply_conditions(self) -> None:
        """The order (rules counted) and the base filter (top k, score cut, 抽出 or 全件) of ①."""
        counted, top_k, score_cut = self.conditions.current()
        weights = {r["rule_id"]: float(r.get("weight", 1.0)) for r in self.data.rules}
        all_ids = [r["rule_id"] for r in self.data.rules]
        # Re-rank only when the user excluded rules; the run's own order stands otherwise.
        if set(counted) != set(all_ids):
            self._children_frame = worklist.recompute_need(self.data.frame, weights, counted)
        else:
            self._children_frame = self.data.frame
        self._households = None
        self._show_frame()
        self.filters.set_base(worklist.default_filter().with_(
            top_k=top_k or None, score_min=score_cut, extracted_only=self.conditions.extracted_only()))

    def apply_filter(self, spec: WorklistFilter) -> None:
        """Set the model's filter directly (tests, saved filters); a filter that may show children
        outside 抽出 first reads every child."""
        self.model.set_filter(spec)
        if self.data is not None and not self.data.complete and self._needs_everyone():
            self._load_everyone()

    def set_household_mode(self, on: bool) -> None:
        if on == self.household_mode:
            return
        self.household_mode = on
        if self.household_box.isChecked() != on:
            self.household_box.setChecked(on)
        if on and self.data is not None and not self.data.complete:
            self._load_everyone()
            return
        self._show_frame()

    def _update_status(self, shown: int, total: int) -> None:
        counts = worklist.summary_counts(self.model.frame, self.model.displayed_positions())
        unit = self.tr("households") if self.household_mode else self.tr("children")
        text = (self.tr("%1 of %2 %3 shown · %4 not yet followed · %5 brought into support since extraction")
                .replace("%1", f"{shown:,}").replace("%2", f"{total:,}").replace("%3", unit)
                .replace("%4", f"{counts['not_followed']:,}").replace("%5", f"{counts['case_since']:,}"))
        self.status.setText(text)

    # --- selection, evidence, timeline ------------------------------------------------------
    def current_child(self) -> str | None:
        idx = self.table.currentIndex()
        return self.model.person_at(idx.row()) if idx.isValid() else None

    def select_child(self, person_id: str) -> bool:
        """Make ``person_id`` the current row (if shown) and load its evidence."""
        return self.table.select_person(person_id)

    def _child_current(self, person_id: str) -> None:
        selection = getattr(self.context, "selection", None)
        if selection is not None and not self._following_selection:
            self._following_selection = True
            try:
                selection.child_selected.emit(person_id)
            finally:
                self._following_selection = False
        self._pending_highlight = (None, [])
        self._sync_evidence()

    def _sync_evidence(self) -> None:
        """Make the pane follow the current row: empty it at once, ask for the new child's
        evidence (superseding any earlier request), or clear it when no child is current."""
        pid = self.current_child()
        if pid is None:
            self.evidence.clear()
            self._evidence_data = None
            return
        if pid == self.evidence.requested and self._evidence_data is self.data:
            return
        self.evidence.show_loading(pid)
        self._evidence_data = self.data
        if self.data is not None:
            self.context.worker.run(self.source.evidence, pid, self.data, key="list.evidence",
                                    on_done=self._evidence_loaded,
                                    on_error=lambda e, p=pid: self._evidence_failed(p, e))

    def _evidence_loaded(self, ev: ChildEvidence) -> None:
        # Second line of defence after the key: the pane itself refuses another child.
        if ev.person_id == self.current_child():
            self.evidence.set_evidence(ev)
        else:
            self.evidence.dropped += 1

    def _evidence_failed(self, person_id: str, error: BaseException) -> None:
        self.evidence.show_failure(person_id, self.tr("Could not load the evidence: %1").replace("%1", str(error)))

    def _selection_from_elsewhere(self, person_id: str) -> None:
        if self._following_selection or person_id == self.current_child():
            return
        self._following_selection = True
        try:
            self.table.select_person(person_id)
        finally:
            self._following_selection = False

    def _remember_highlight(self, rule_id: str | None, event_ids: list | None) -> None:
        self._pending_highlight = (rule_id, list(event_ids or []))

    def open_timeline(self, person_id: str) -> None:
        """Open the child's timeline and pass on a chosen flag's highlight (Selection signals)."""
        selection = getattr(self.context, "selection", None)
        if selection is None:
            return
        rule_id, events = self._pending_highlight
        run_id = getattr(self.data, "run_id", None)
        if run_id is None:
            selection.open_child.emit(person_id)
        else:  # the timeline shows the run this list shows (its flags and its as-of date)
            selection.open_child_in_run.emit(person_id, int(run_id))
        if rule_id or events:
            selection.highlight.emit(person_id, rule_id or "", list(events))

    def _timeline_clicked(self) -> None:
        pid = self.current_child()
        if pid:
            self.open_timeline(pid)

    # --- identity -----------------------------------------------------------------------------
    def _ask_reveal(self) -> None:
        if self.reveal:
            self.set_reveal(False)
            return
        answer = QMessageBox.question(
            self, self.tr("Show identity"),
            self.tr("Real names will be shown for the children in your list. This is recorded in the "
                    "operation log with your name. Continue?"))
        if answer == QMessageBox.StandardButton.Yes:
            self.set_reveal(True)

    def set_reveal(self, on: bool) -> None:
        """Show or hide names (the query logs each reveal)."""
        self.reveal = on
        self.identity_button.setText(self.tr("Hide identity") if on else self.tr("Show identity…"))
        self.reload()

    # --- follow-up ----------------------------------------------------------------------------
    def _followup_clicked(self) -> None:
        pid = self.current_child()
        if not pid:
            return
        from app.views.list.followup_dialog import FollowupDialog
        row = self.model.row_of_person(pid)
        status = self.model.data(self.model.index(row, max(self.model.column_of("followup_status"), 0)))
        dialog = FollowupDialog(pid, status or worklist.NOT_FOLLOWED, self)
        if dialog.exec():
            self.record_followup(pid, dialog.values())

    def record_followup(self, person_id: str, values: dict) -> None:
        """Save a follow-up step. ``store_changed("followup")`` then reloads every view that
        shows follow-up states, this list included (its state and 'since extraction'); a child
        who is no longer listed leaves the evidence pane with it."""
        self.context.worker.run(self.source.record_followup, person_id, values, changes="followup",
                                on_error=lambda e: QMessageBox.warning(self, self.tr("Follow-up"), str(e)))

    # --- visit sheet -----------------------------------------------------------------------------
    def _sheet_clicked(self) -> None:
        """Gate pre-check → encrypted or (after the warning) plain → save dialog → sheet."""
        from app.views import export_dialogs as dialogs
        from app.views.visit_sheet import default_file_name

        people = self.table.selected_people()
        title = self.tr("Visit sheet")
        if not people:
            QMessageBox.information(self, title, self.tr("Select one or more children first."))
            return

        def allowed(_none) -> None:
            choice = dialogs.ask_encryption(self, title)
            if choice is None:
                return
            encrypt, passphrase, plain = choice
            path = dialogs.ask_save_path(self, title, default_file_name(people, encrypt), encrypt)
            if path:
                self.make_visit_sheet(people, path, passphrase=passphrase, plaintext_confirmed=plain)

        self.context.worker.run(self.source.print_allowed, on_done=allowed,
                                on_error=lambda e: dialogs.refusal_box(self, title, str(e)))

    def make_visit_sheet(self, person_ids: list[str], path: str, passphrase: str | None = None,
                         plaintext_confirmed: bool = False) -> None:
        """Gather the sheets on the worker (gate + audit, names after a logged reveal), paint the
        PDF in memory on this thread, write it through the gate on the worker."""
        from app.views.visit_sheet import pdf_bytes

        choice = {"encrypt": not plaintext_confirmed, "passphrase": passphrase,
                  "plaintext_confirmed": plaintext_confirmed}
        warn = lambda e: QMessageBox.warning(self, self.tr("Visit sheet"), str(e))  # noqa: E731

        def written(written_path):
            self.last_sheet = {**self.last_sheet, "path": str(written_path)}
            self.status.setText(self.tr("Visit sheet saved: %1").replace("%1", str(written_path)))

        def gathered(result):
            sheets, footer = result
            rendered = pdf_bytes(sheets, footer)
            self.last_sheet = {"pages": rendered.pages, "children": rendered.children,
                               "seconds": rendered.seconds, "path": None}
            self.context.worker.run(self.source.write_visit_sheet, rendered.pdf, path, footer=footer, **choice,
                                    on_done=written, on_error=warn)

        self.context.worker.run(self.source.visit_sheets, person_ids, self.data, self.reveal, **choice,
                                on_done=gathered, on_error=warn)


# --- standalone preview on fictional data ---------------------------------------------------------
class SampleSource:
    """Fictional data for ``python -m app.views.list_view`` and tests that need no store."""

    def __init__(self, rows: int = 2000, can_score: bool = True):
        from app.views.list.sample import SAMPLE_RULES, sample_as_of, sample_results
        self._frame = sample_results(rows, with_score=can_score)
        self._rules = [{"rule_id": k, "label": v[0], "weight": v[1], "disclosure": v[2], "threshold": v[3]}
                       for k, v in SAMPLE_RULES.items()]
        self._as_of = sample_as_of()
        self._caps = {"view_children", "reidentify", "record_followup", "print_visit_sheet"} | (
            {"view_score"} if can_score else set())
        self.recorded: list[tuple[str, dict]] = []

    def can(self, capability: str) -> bool:
        return capability in self._caps

    def load(self, target=None, reveal=False, working_only=False) -> WorklistData:
        # Fictional data is small: always every child (``complete``), whatever was asked.
        return WorklistData(frame=self._frame.copy(), rules=self._rules,
                            targets=[("abuse", TARGET_LABELS["abuse"])], target="abuse",
                            ruleset_text="見本ルール v1（架空データ）", run_id=None, source_as_of=self._as_of,
                            extraction="抽出 = 必要度の高い順に上位1割＋至急（見本）",
                            extraction_where="見本データ（架空）")

    def evidence(self, person_id: str, data) -> ChildEvidence:
        from app.views.list.sample import sample_evidence
        return sample_evidence(self._frame, person_id)

    def record_followup(self, person_id: str, values: dict) -> int:
        self.recorded.append((person_id, values))
        m = self._frame["person_id"] == person_id
        self._frame.loc[m, "followup_status"] = values["status"]
        self._frame.loc[m, "status_since"] = values["status"]
        self._frame.loc[m, "followed"] = values["status"] != worklist.NOT_FOLLOWED
        return len(self.recorded)

    def visit_sheets(self, person_ids, data, reveal=False, **choice):
        from app.engine.visit_sheet import build_sheets
        return build_sheets([self.evidence(p, data) for p in person_ids]), "見本（架空データ）"

    def print_allowed(self) -> None:
        """Fictional data: nothing to check at a gate."""

    def write_visit_sheet(self, pdf: bytes, path: str, encrypt=True, passphrase=None, plaintext_confirmed=False,
                          footer=""):
        """Fictional data, but the same rule: sealed unless plain was chosen."""
        from pathlib import Path

        from app.store.exports import check_encryption_choice, encrypt_container
        check_encryption_choice(encrypt, passphrase, plaintext_confirmed)
        out = Path(path)
        if encrypt:
            out = out if out.suffix == ".mmx" else out.with_name(out.name + ".mmx")
            pdf = encrypt_container(pdf, passphrase, {"name": out.stem, "content_type": "pdf", "footer": footer})
        out.write_bytes(pdf)
        return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    from app.views.application import make_application
    from app.views.context import AppContext, Selection
    from app.views.worker import ImmediateWorker

    parser = argparse.ArgumentParser(description="the working list on fictional sample data")
    parser.add_argument("--shot", help="save a screenshot to this PNG and exit")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--nurse", action="store_true", help="as a nurse sees it (no score)")
    args = parser.parse_args(argv)
    app = make_application()

    class _Session:
        role = "nurse" if args.nurse else "cg_manager"

    context = AppContext(_Session(), ImmediateWorker(), Selection())
    view = ListView(context, source=SampleSource(args.rows, can_score=not args.nurse))
    view.setWindowTitle("見守り — 作業リスト（見本・架空データ）")
    view.resize(1400, 860)
    view.show()
    if view.model.rowCount():
        view.table.selectRow(0)
    if args.shot:
        for _ in range(20):
            app.processEvents()
        view.grab().save(args.shot, "PNG")
        return 0
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
