"""The evidence panel: for the selected child, each flag with its rule, threshold and the rows
behind it, the household, and the follow-up history. Every item carries its disclosure class
as colour + icon + text (legend always visible above the tree).

The pane never shows one child's facts under another child's selection (issue 15):
``show_loading(id)`` empties it the moment the selection changes and remembers which child
it now waits for; ``set_evidence`` refuses an answer for any other child.
"""

from __future__ import annotations

import re

import pandas as pd
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from app.engine.worklist import SOURCE_LABELS, ChildEvidence, age_text
from app.views.list.legend import DisclosureLegend, disclosure_icon, disclosure_text
from app.views.theme import disclosure_colour

RuleRole = Qt.ItemDataRole.UserRole + 1
EventIdsRole = Qt.ItemDataRole.UserRole + 2
DisclosureRole = Qt.ItemDataRole.UserRole + 3
KindRole = Qt.ItemDataRole.UserRole + 4   # "flag" | "row" | "member" | "followup" | "section"



def _date(value) -> str:
    if value is None:
        return ""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    return "" if pd.isna(ts) else ts.strftime("%Y-%m-%d")


class EvidencePanel(QWidget):
    """Shows a :class:`ChildEvidence`; emits what the user picked so the timeline can highlight it."""

    rule_selected = Signal(str)          # a flag was selected
    events_selected = Signal(list)       # evidence rows (event ids) were selected
    member_activated = Signal(str)       # a household member was double-clicked (research ID)

    COLUMNS = 5  # item, disclosure, date, value, source (as of)
    ITEM, DISCLOSURE, DATE, VALUE, SOURCE = range(5)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.evidence: ChildEvidence | None = None
        self.requested: str | None = None   # the child whose evidence the pane waits for / shows
        self.dropped = 0                    # late answers refused (for tests and diagnostics)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel(self.tr("Select a child to see the evidence."))
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight:600; font-size:11.5pt;")
        layout.addWidget(self.title)
        self.legend = DisclosureLegend()
        layout.addWidget(self.legend)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(self.COLUMNS)
        self.tree.setHeaderLabels([self.tr("Item"), self.tr("Disclosure"), self.tr("Date"), self.tr("Value"),
                                   self.tr("Source (as of)")])
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        layout.addWidget(self.tree, 1)

    # --- content ---------------------------------------------------------------------
    def clear(self) -> None:
        self.evidence = None
        self.requested = None
        self.tree.clear()
        self.title.setText(self.tr("Select a child to see the evidence."))

    def show_loading(self, person_id: str) -> None:
        """Empty the pane at once and wait for ``person_id``'s evidence."""
        self.evidence = None
        self.requested = person_id
        self.tree.clear()
        self.title.setText(self.tr("Loading… (%1)").replace("%1", person_id))

    def show_failure(self, person_id: str, message: str) -> None:
        if person_id != self.requested:
            return
        self.evidence = None
        self.tree.clear()
        self.title.setText(message)

    def set_evidence(self, ev: ChildEvidence) -> bool:
        """Show ``ev`` unless the pane now waits for another child (then drop it: False)."""
        if self.requested is not None and ev.person_id != self.requested:
            self.dropped += 1
            return False
        self.requested = ev.person_id
        self.evidence = ev
        self.tree.clear()
        who = ev.name or ev.pseudonym
        age = age_text(ev.age_months) if ev.age_months is not None else ""
        self.title.setText(f"{who}（{ev.person_id}）  {ev.district} {ev.town}  {age}")
        self._add_urgent(ev)
        self._add_flags(ev)
        self._add_household(ev)
        self._add_followups(ev)
        self.tree.expandAll()
        for col in range(self.COLUMNS):
            self.tree.resizeColumnToContents(col)
        # Long reasons stay readable in the tooltip; keep the other columns in view.
        self.tree.setColumnWidth(0, min(self.tree.columnWidth(0), 330))
        return True

    def _add_urgent(self, ev: ChildEvidence) -> None:
        """至急 first, with the questionnaire's date and how long before the run's as-of date it was."""
        when = getattr(ev, "urgent_date", None)
        if when is None:
            return
        item = self._section(self.tr("Urgent: EPDS item 10 answered %1 (%2)")
                             .replace("%1", str(when)[:10]).replace("%2", ev.urgent_ago))
        item.setFirstColumnSpanned(True)
        item.setToolTip(0, self.tr("Urgent: the mother answered EPDS item 10 (self-harm) with 1 or more"
                                   " on %1 (%2)").replace("%1", str(when)[:10]).replace("%2", ev.urgent_ago))
        item.setForeground(0, QBrush(QColor("#b00020")))

    def _section(self, text: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([text])
        font = QFont(item.font(0))
        font.setBold(True)
        item.setFont(0, font)
        item.setData(0, KindRole, "section")
        item.setFirstColumnSpanned(False)
        self.tree.addTopLevelItem(item)
        return item

    def _mark(self, item: QTreeWidgetItem, cls: str) -> None:
        """Colour AND icon AND text label for a disclosure class."""
        item.setIcon(0, disclosure_icon(cls))
        item.setText(1, disclosure_text(cls))
        item.setForeground(1, QBrush(disclosure_colour(cls)))
        item.setData(0, DisclosureRole, cls)

    def _add_flags(self, ev: ChildEvidence) -> None:
        flagged = ev.flags[ev.flags["flagged"].astype(bool)] if len(ev.flags) else ev.flags
        section = self._section(self.tr("Flags (%1)").replace("%1", str(len(flagged))))
        rows = ev.rows if len(ev.rows) else pd.DataFrame(columns=["rule_id"])
        for rec in flagged.itertuples(index=False):
            reason = str(rec.reason or "")
            # Scoring reasons often start with the rule's label already.
            text = reason if reason.startswith(str(rec.label)) else (f"{rec.label} — {reason}" if reason else rec.label)
            item = QTreeWidgetItem([text, "", f"{_date(rec.first_date)}〜{_date(rec.last_date)}",
                                    self.tr("threshold: %1").replace("%1", str(rec.threshold or "")), ""])
            item.setToolTip(0, text)
            item.setData(0, KindRole, "flag")
            item.setData(0, RuleRole, rec.rule_id)
            mine = rows[rows["rule_id"] == rec.rule_id]
            item.setData(0, EventIdsRole, [int(e) for e in mine["event_id"]] if len(mine) else [])
            self._mark(item, rec.disclosure or "staff")
            section.addChild(item)
            for r in mine.itertuples(index=False):
                src = SOURCE_LABELS.get(r.source, r.source)
                as_of = f"{src}（{r.as_of}時点）" if r.as_of else src
                text = re.sub(r"^\d{4}-\d{2}-\d{2}\s*", "", str(r.description))  # the date has its column
                child = QTreeWidgetItem([text, "", _date(r.date), str(r.value or ""), as_of])
                child.setToolTip(0, r.description)
                child.setData(0, KindRole, "row")
                child.setData(0, RuleRole, rec.rule_id)
                child.setData(0, EventIdsRole, [int(r.event_id)])
                self._mark(child, r.disclosure or rec.disclosure or "staff")
                item.addChild(child)
        if not len(flagged):
            section.addChild(QTreeWidgetItem([self.tr("No flags for this child.")]))

    def _add_household(self, ev: ChildEvidence) -> None:
        section = self._section(self.tr("Household"))
        for m in ev.household.itertuples(index=False):
            age = age_text(m.age_months) if m.age_months is not None and not pd.isna(m.age_months) else ""
            item = QTreeWidgetItem([f"{m.relation}: {m.pseudonym}", "", age, str(m.flags or ""), ""])
            item.setToolTip(3, str(m.flags or ""))
            item.setData(0, KindRole, "member")
            item.setData(0, RuleRole, None)
            item.setData(0, Qt.ItemDataRole.UserRole + 9, m.person_id)
            self._mark(item, getattr(m, "disclosure", "staff") or "staff")
            section.addChild(item)
        if not len(ev.household):
            section.addChild(QTreeWidgetItem([self.tr("No household members known.")]))

    def _add_followups(self, ev: ChildEvidence) -> None:
        section = self._section(self.tr("Follow-up history"))
        for f in ev.followups.itertuples(index=False):
            nxt = _date(f.next_action_date)
            note = str(f.note or "")
            value = f.status + (("  " + self.tr("next: %1").replace("%1", nxt)) if nxt else "")
            item = QTreeWidgetItem([note or f.status, "", _date(f.date), value, str(f.user)])
            item.setToolTip(0, note)
            item.setData(0, KindRole, "followup")
            # Nurses' own notes are staff-only facts.
            self._mark(item, "staff")
            section.addChild(item)
        if not len(ev.followups):
            section.addChild(QTreeWidgetItem([self.tr("Not yet followed up.")]))

    # --- interaction --------------------------------------------------------------------
    def items_of_kind(self, kind: str) -> list[QTreeWidgetItem]:
        out = []
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop(0)
            if item.data(0, KindRole) == kind:
                out.append(item)
            stack.extend(item.child(i) for i in range(item.childCount()))
        return out

    def select_rule(self, rule_id: str) -> bool:
        for item in self.items_of_kind("flag"):
            if item.data(0, RuleRole) == rule_id:
                self.tree.setCurrentItem(item)
                return True
        return False

    def _selection_changed(self) -> None:
        item = self.tree.currentItem()
        if item is None:
            return
        kind = item.data(0, KindRole)
        # A flag highlights its rule's evidence; a single row highlights just its events.
        if kind == "flag":
            self.rule_selected.emit(item.data(0, RuleRole))
        elif kind == "row":
            ids = item.data(0, EventIdsRole) or []
            if ids:
                self.events_selected.emit(list(ids))

    def _double_clicked(self, item: QTreeWidgetItem, _col: int) -> None:
        if item.data(0, KindRole) == "member":
            pid = item.data(0, Qt.ItemDataRole.UserRole + 9)
            if pid:
                self.member_activated.emit(str(pid))
