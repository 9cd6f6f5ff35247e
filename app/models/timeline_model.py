"""Adapts one child's ``TimelineData`` into what the timeline plot draws.

Built once per child (and per lane set / household mode): per-lane numpy arrays of x (days),
y (row), event ids, symbols, brushes and pens; vaccine due-window bars; short labels for the
few notable marks (missed checkups, overdue doses); numeric series with their reference bands.
Zooming never rebuilds any of it. Tooltip text is composed on demand for the hovered event.

Disclosure classes are shown by colour AND shape AND a text label (never colour alone):
``discuss`` ○ green "家族と話してよい", ``staff`` △ orange "職員限り", ``never`` ✕ vermilion
"開示厳禁" (the same look as app/views/theme.py). A hollow mark means "did not happen" (missed checkup, planned but not done).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from PySide6.QtGui import QBrush, QColor, QPen

from app.engine import catalogue
from app.engine import timeline_layout as tl

# The app-wide disclosure look (app/views/theme.py, mirrored here because models may not
# import views; a test keeps the two equal): Okabe-Ito colour + a shape + a text label.
DISCLOSURE_STYLE = {
    "discuss": {"color": "#009E73", "symbol": "o", "glyph": "○"},
    "staff": {"color": "#E69F00", "symbol": "t1", "glyph": "△"},
    "never": {"color": "#D55E00", "symbol": "x", "glyph": "✕"},
}
FLAG_STYLE = {"color": "#7A1FA2", "symbol": "star", "glyph": "★"}
WINDOW_STYLE = {  # vaccine due windows: fill colour + a text cue for the notable ones
    "done": ("#BFD9EC", ""), "due": ("#FFE28A", "接種時期"), "future": ("#E6E6E6", ""),
    "overdue": ("#F4A3A3", "遅れ"), "unknown": ("#EEEEEE", ""), "reminder": ("#FFD1A6", "推奨時期を過ぎた"),
}
SERIES = {  # key: (label, unit)
    "weight": ("体重", "kg"), "height": ("身長", "cm"), "kaup": ("カウプ指数", ""),
    "caries": ("むし歯本数", "本"), "epds": ("母のEPDS合計", "点"),
}
MARK_SIZE = 11
VACCINE_SUBTYPE_LABELS = {
    "DPT-IPV-Hib": "5種混合", "DPT-IPV": "4種混合", "Hib": "Hib", "PCV": "小児肺炎球菌",
    "HepB": "B型肝炎", "Rota": "ロタ", "BCG": "BCG", "MR": "MR", "VZV": "水痘", "JE": "日本脳炎",
}


def _pen(color: QColor, width: float) -> QPen:
    """A cosmetic pen (width in screen pixels whatever the zoom), as pyqtgraph's mkPen makes."""
    pen = QPen(color)
    pen.setWidthF(width)
    pen.setCosmetic(True)
    return pen


def date_ja(value) -> str:
    if value is None or pd.isna(value):
        return "不明"
    d = pd.Timestamp(value)
    return f"{d.year}年{d.month}月{d.day}日"


@dataclass
class Lane:
    key: str
    label: str
    y: float


@dataclass
class LaneMarks:
    """One lane's marks as arrays (index i = one mark)."""

    x: np.ndarray
    y: np.ndarray
    rows: np.ndarray  # positions in the model's events frame
    symbols: list
    brushes: list
    pens: list


@dataclass
class TimelineModel:
    """Lane items for one child; rebuild only when the data, lane set or mode changes."""

    data: tl.TimelineData
    household_mode: bool = False
    lane_groups: list[str] | None = None  # lane groups to draw (template); None = all
    lanes: list[Lane] = field(default_factory=list)
    marks: dict[str, LaneMarks] = field(default_factory=dict)
    windows: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[tuple[float, float, str]] = field(default_factory=list)

    def __post_init__(self):
        self.events = self.data.events.reset_index(drop=True)
        self.child_id = str(self.data.child["person_id"])
        birth = self.data.child.get("birth_date")
        self.birth = pd.Timestamp(birth).date() if birth is not None else None
        self.as_of = self.data.as_of or dt.date.today()
        self.x = tl.to_days(self.events["date"]) if len(self.events) else np.array([])
        self.lane_of = tl.assign_lanes(self.events, self.child_id, self.data.members,
                                       self.household_mode) if len(self.events) else np.array([], dtype=object)
        self._vaccines, self._vaccine_names = {}, {}
        self.flag_rules = np.array([], dtype=object)
        self._event_index = pd.Series(np.arange(len(self.events)), index=self.events["event_id"].to_numpy())
        self._build_lanes()
        self._build_marks()

    # -- construction ---------------------------------------------------------------
    def _build_lanes(self) -> None:
        keys = [k for k, _ in tl.LANES]
        present = set(self.lane_of.tolist())
        has_custody = "custody" in present
        lanes: list[tuple[str, str]] = []
        wanted = set(self.lane_groups) if self.lane_groups is not None else set(keys)
        for key in keys:
            if key not in wanted:
                continue
            if key == "custody" and not has_custody:
                continue  # roles without custody never get an empty custody lane either
            if key == "vaccination":
                if self.birth is None:
                    continue
                self._vaccines = {vid: satisfied for vid, _n, satisfied in tl.vaccine_lanes(self.birth)}
                self._vaccine_names = {vid: name for vid, name, _s in tl.vaccine_lanes(self.birth)}
                lanes += [(f"vaccination:{vid}", f"予防接種 {name}") for vid, name in self._vaccine_names.items()]
                continue
            lanes.append((key, tl.LANE_LABELS[key]))
        if self.household_mode and "household" in wanted:
            for _, member in self.data.members.iterrows():
                lanes.append((f"member:{member['person_id']}", str(member["label"])))
        self.lanes = [Lane(k, label, -float(i)) for i, (k, label) in enumerate(lanes)]
        self._lane_y = {lane.key: lane.y for lane in self.lanes}

    def lane_keys(self) -> list[str]:
        return [lane.key for lane in self.lanes]

    def lane_group(self, key: str) -> str:
        """Template-level lane key (``vaccination:MR`` -> ``vaccination``; members -> ``household``)."""
        if key.startswith("vaccination:"):
            return "vaccination"
        if key.startswith("member:"):
            return "household"
        return key

    def _build_marks(self) -> None:
        ev = self.events
        lane_key = self.lane_of
        subtype = ev["subtype"].astype(str).to_numpy()
        is_vaccination = lane_key == "vaccination"
        disclosure = ev["disclosure"].fillna("staff").to_numpy(dtype=object)
        hollow = ev["value_text"].isin(["missed"]).to_numpy()
        styles = {}
        for cls, style in DISCLOSURE_STYLE.items():
            color = QColor(style["color"])
            styles[(cls, False)] = (style["symbol"], QBrush(color), _pen(color.darker(140), 1))
            styles[(cls, True)] = (style["symbol"], QBrush(QColor("#FFFFFF")), _pen(color, 2.5))
        # Sub-rows inside the medical lane keep receipts and diagnoses from hiding each other.
        offset = np.where(ev["type"].to_numpy(dtype=object) == "diagnosis", -0.22, 0.0)
        self.marks = {}
        self.notes = []
        for lane in self.lanes:
            if lane.key.startswith("vaccination:"):
                # A 5種混合 dose counts for both the Hib and the 4種混合 series: it shows in both.
                satisfied = list(self._vaccines[lane.key.split(":", 1)[1]])
                rows = np.flatnonzero(is_vaccination & np.isin(subtype, satisfied))
            else:
                rows = np.flatnonzero(lane_key == lane.key)
            rows = rows[~np.isnan(self.x[rows])]
            keys = [(d if d in DISCLOSURE_STYLE else "staff", bool(h))
                    for d, h in zip(disclosure[rows], hollow[rows])]
            picked = [styles[k] for k in keys]
            self.marks[lane.key] = LaneMarks(
                x=self.x[rows], y=np.full(len(rows), lane.y) + offset[rows], rows=rows,
                symbols=[p[0] for p in picked], brushes=[p[1] for p in picked],
                pens=[p[2] for p in picked])
            for r in rows[hollow[rows]]:
                self.notes.append((self.x[r], lane.y, f"{ev.at[r, 'subtype']} 未受診"))
        self._build_flags()
        self._build_windows()

    def _build_flags(self) -> None:
        """Flag marks at the dates of their trigger evidence (or the flag's first date)."""
        if "flags" not in self._lane_y:
            return
        flags = self.data.flags
        flags = flags[flags["flagged"].astype(bool)] if len(flags) else flags
        evidence = self.data.evidence
        xs, rules = [], []
        for _, flag in flags.iterrows():
            trig = evidence[(evidence["rule_id"] == flag["rule_id"]) & (evidence["role"] == "trigger")]
            rows = self._event_index.reindex(trig["event_id"].to_numpy()).dropna().astype(int).to_numpy()
            days = self.x[rows] if len(rows) else np.array([tl.day_of(flag["first_date"])])
            xs += days.tolist()
            rules += [flag["rule_id"]] * len(days)
        color = QColor(FLAG_STYLE["color"])
        self.flag_rules = np.array(rules, dtype=object)
        y = self._lane_y["flags"]
        self.marks["flags"] = LaneMarks(
            x=np.array(xs, dtype=float), y=np.full(len(xs), y), rows=np.full(len(xs), -1),
            symbols=[FLAG_STYLE["symbol"]] * len(xs), brushes=[QBrush(color)] * len(xs),
            pens=[_pen(color.darker(150), 1)] * len(xs))

    def _build_windows(self) -> None:
        if self.birth is None:
            self.windows = pd.DataFrame(columns=["vaccine", "dose", "start", "end", "given", "status", "y"])
            return
        win = self.data.windows if self.data.windows is not None else tl.child_vaccine_windows(self.data)
        win = win.copy()
        win["y"] = win["vaccine"].map(lambda v: self._lane_y.get(f"vaccination:{v}", np.nan))
        self.windows = win.dropna(subset=["y"]).reset_index(drop=True)
        for _, w in self.windows[self.windows["status"] == "overdue"].iterrows():
            self.notes.append((w["start"], w["y"], f"第{int(w['dose'])}回 遅れ"))

    # -- queries used by the view ------------------------------------------------------
    def day_range(self) -> tuple[float, float]:
        """Whole-life range: birth (or first event) to the as-of date, padded a little."""
        lo = tl.day_of(self.birth) if self.birth else np.nanmin(self.x) if len(self.x) else tl.day_of(self.as_of) - 365
        hi = tl.day_of(self.as_of)
        if len(self.x):
            hi = max(hi, float(np.nanmax(self.x)))
        pad = max(7.0, (hi - lo) * 0.02)
        return lo - pad, hi + pad

    def position_of(self, event_ids) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of the drawn marks of these events (events without a visible mark are skipped)."""
        rows = self._event_index.reindex(list(event_ids)).dropna().astype(int).to_numpy()
        xs, ys = [], []
        for marks in self.marks.values():
            hit = np.isin(marks.rows, rows)
            xs.append(marks.x[hit])
            ys.append(marks.y[hit])
        return (np.concatenate(xs) if xs else np.array([]), np.concatenate(ys) if ys else np.array([]))

    def events_of_rule(self, rule_id: str) -> list[int]:
        ev = self.data.evidence
        return ev.loc[ev["rule_id"] == rule_id, "event_id"].astype(int).tolist()

    def event_id_at(self, row: int) -> int:
        return int(self.events.at[row, "event_id"])

    def series(self, key: str) -> dict:
        """Numeric series ``key`` (see SERIES): x, y, event rows, and bands (x, p3, p50, p97) or None."""
        ev = self.events
        own = ev["person_id"].astype(str) == self.child_id
        bands = None
        if key in ("weight", "height"):
            sel = own & (ev["type"] == key)
            if self.birth is not None:
                bands = tl.growth_bands(str(self.data.child.get("sex", "")), self.birth, key)
        elif key == "caries":
            sel = own & (ev["type"] == "dental") & ev["value_num"].notna()
        elif key == "epds":
            sel = ev["type"] == "epds"
        elif key == "kaup":
            if self.birth is None:
                return {"x": np.array([]), "y": np.array([]), "rows": np.array([], int), "bands": None}
            k = tl.kaup_series(ev, self.child_id, self.birth)
            rows = self._event_index.reindex(k["event_id"].to_numpy()).to_numpy().astype(int)
            return {"x": k["x"].to_numpy(), "y": k["y"].to_numpy(), "rows": rows, "bands": None}
        else:
            raise KeyError(key)
        rows = np.flatnonzero(sel.to_numpy())
        order = np.argsort(self.x[rows], kind="stable")
        rows = rows[order]
        return {"x": self.x[rows], "y": ev["value_num"].to_numpy(dtype=float)[rows], "rows": rows,
                "bands": bands}

    def tooltip(self, row: int) -> str:
        """Hover text for one event: what, value, date, source, as-of date, disclosure label."""
        e = self.events.iloc[row]
        etype = str(e["type"])
        attrs = {}
        try:
            attrs = json.loads(e["attrs"]) if isinstance(e["attrs"], str) and e["attrs"] else {}
        except ValueError:
            attrs = {}
        title = catalogue.type_label(etype)
        subtype = "" if pd.isna(e["subtype"]) else str(e["subtype"])
        text = "" if pd.isna(e["value_text"]) else str(e["value_text"])
        num = e["value_num"]
        value = ""
        if etype in ("checkup", "dental"):
            title += f" {subtype}"
            value = catalogue.status_word(text)
            if etype == "dental" and not pd.isna(num):
                value += f"（むし歯 {int(num)}本）"
            if attrs.get("judgement"):
                value += f" 判定: {attrs['judgement']}"
            if attrs.get("findings"):
                value += f" 所見: {attrs['findings']}"
        elif etype == "vaccination":
            title += f" {VACCINE_SUBTYPE_LABELS.get(subtype, subtype)}"
            value = f"第{int(num)}回" if not pd.isna(num) else ""
        elif etype == "epds":
            value = f"合計 {int(num)}点" if not pd.isna(num) else ""
        elif etype in ("height", "weight"):
            value = f"{num:g} {'cm' if etype == 'height' else 'kg'}"
        elif etype == "night_visit":
            dx = "、".join(d.get("name", "") for d in attrs.get("diagnoses", []))
            value = f"{text}" + (f" 診断: {dx}" if dx else "")
        elif etype in ("consultation", "assessment"):
            value = " ".join(s for s in (subtype, text, attrs.get("content", "")) if s)
        elif etype == "followup":
            value = " ".join(s for s in (catalogue.status_word(text), attrs.get("note", "")) if s)
        elif etype == "custody":
            value = " ".join(s for s in (subtype, attrs.get("complaint", "")) if s)
        else:
            parts = [subtype, catalogue.status_word(text)]
            if not pd.isna(num) and etype not in ("income_bracket",):
                parts.append(f"{num:g}")
            value = " ".join(p for p in parts if p)
        who = ""
        person = str(e["person_id"])
        if person != self.child_id:
            match = self.data.members[self.data.members["person_id"].astype(str) == person]
            who = f"（{match['label'].iloc[0]}）" if len(match) else "（世帯員）"
        source = str(e["source"])
        as_of = self.data.sources.get(source)
        location = str(e["source_file"] or "")
        if location and not pd.isna(e["source_line"]):
            location += f" {int(e['source_line'])}行目"
        disclosure = str(e["disclosure"]) if e["disclosure"] in DISCLOSURE_STYLE else "staff"
        lines = [f"{title}{who}" + (f": {value}" if value else ""),
                 f"日付: {date_ja(e['date'])}",
                 f"出典: {tl.SOURCE_LABELS.get(source, source)}" + (f"（{location}）" if location else ""),
                 f"データ時点: {date_ja(as_of) if as_of is not None else '不明'}",
                 f"開示区分: {DISCLOSURE_STYLE[disclosure]['glyph']} {tl.DISCLOSURE_LABELS[disclosure]}"]
        return "\n".join(lines)

    def flag_tooltip(self, index: int) -> str:
        rule = self.flag_rules[index]
        flag = self.data.flags[self.data.flags["rule_id"] == rule].iloc[0]
        return "\n".join([f"{FLAG_STYLE['glyph']} フラグ: {rule}", str(flag["reason"]),
                          f"基準: {flag['threshold']}",
                          f"日付: {date_ja(tl.date_of(self.marks['flags'].x[index]))}",
                          "開示区分: △ 職員限り（スコア・フラグは家族に伝えない）"])

    def window_tooltip(self, index: int) -> str:
        w = self.windows.iloc[index]
        status = {"done": "接種済み", "due": "接種時期（未接種）", "future": "これから",
                  "overdue": "標準的な接種時期を過ぎて未接種（遅れ）",
                  "unknown": "転入前に接種時期（市のデータなし）",
                  "reminder": "推奨時期を過ぎた（標準的な接種期間内）"}[w["status"]]
        text = [f"予防接種 {self._vaccine_names.get(w['vaccine'], w['vaccine'])} 第{int(w['dose'])}回",
                f"推奨〜標準的な接種期間の終わり: {date_ja(tl.date_of(w['start']))}〜{date_ja(tl.date_of(w['end']))}",
                f"状態: {status}"]
        if not pd.isna(w["given"]):
            text.append(f"接種日: {date_ja(tl.date_of(w['given']))}")
        as_of = self.data.sources.get("yobo")
        text.append(f"データ時点: {date_ja(as_of) if as_of is not None else '不明'}")
        text.append("開示区分: ○ 家族と話してよい（接種の案内）")
        return "\n".join(text)
