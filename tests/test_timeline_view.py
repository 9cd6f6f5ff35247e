"""The timeline view on the SAMPLE child: zoom labels, templates, hover, selection, modes."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from PySide6.QtGui import QFontMetricsF, QWheelEvent
from PySide6.QtWidgets import QApplication

from app.engine import timeline_layout as tl
from app.views.timeline.date_axis import choose_ticks, tick_labels, tick_values, wareki_year
from app.models.timeline_model import DISCLOSURE_STYLE, TimelineModel
from app.views.timeline.sample import sample_timeline_data, without_custody
from app.views.timeline_view import TimelineView


@pytest.fixture(scope="module")
def sample():
    return sample_timeline_data(200)


@pytest.fixture
def view(qtbot, sample):
    v = TimelineView(None)
    qtbot.addWidget(v)
    v.resize(1400, 900)
    v.set_data(sample)
    v.show()
    qtbot.waitExposed(v)
    return v


def _labels(view, lo, hi):
    view.plot.set_day_range(lo, hi)
    view.grab()  # paint: the axis lays its labels out while drawing
    return [t for _, _, t in view.plot.lanes_axis.label_layout()]


def _day(text):
    return tl.day_of(text)


def test_opens_the_sample_child_with_its_lanes(view):
    keys = view.model.lane_keys()
    for key in ("flags", "checkup", "dental", "vaccination:MR", "medical", "night", "guardian",
                "household", "consultation", "assessment"):
        assert key in keys
    assert view.sample_badge.isVisibleTo(view)
    assert "あ-1001" in view.header.text()


def test_zoom_through_year_month_day_labels(view):
    wide = _labels(view, _day("2019-01-01"), _day("2025-06-01"))
    assert "2022年1月" in wide                      # whole life on a wide window: half-years
    metrics = QFontMetricsF(view.plot.lanes_axis._font)
    kind, _step, _values, years, _minor = choose_ticks(_day("2019-01-01"), _day("2025-06-01"), 420, metrics)
    assert kind == "year" and "2022年" in years and not any("月" in t for t in years)
    months = _labels(view, _day("2022-12-20"), _day("2023-07-10"))
    assert "2023年1月" in months and "3月" in months
    days = _labels(view, _day("2023-03-25"), _day("2023-04-14"))
    assert re.fullmatch(r"2023年3月\d+日", days[0]), days    # the first label carries the year
    assert any(re.fullmatch(r"4月\d日", t) for t in days)       # a new month names the month
    assert any(re.fullmatch(r"\d+日", t) for t in days)         # other days only the day
    hours = _labels(view, _day("2023-04-03"), _day("2023-04-04"))
    assert any(t.endswith("時") for t in hours)


def test_wareki_labels(view):
    view.wareki_box.setChecked(True)
    labels = _labels(view, _day("2021-06-01"), _day("2024-06-01"))
    assert "令和4年1月" in labels and not any("2022" in t for t in labels)
    years = tick_labels("year", tick_values("year", 1, _day("2018-06-01"), _day("2021-06-01")), wareki=True)
    assert years == ["平成31年", "令和2年", "令和3年"]
    assert wareki_year(tl.date_of(_day("2019-05-01"))) == "令和元年"
    view.wareki_box.setChecked(False)


@pytest.mark.parametrize("width", [500, 900, 1400])
def test_axis_labels_never_touch(qtbot, view, width):
    view.resize(width, 700)
    rng = np.random.default_rng(width)
    for _ in range(12):
        lo = _day("2019-01-01") + rng.uniform(0, 2000)
        span = float(np.exp(rng.uniform(np.log(0.8), np.log(2400))))
        view.plot.set_day_range(lo, lo + span)
        view.grab()
        layout = view.plot.lanes_axis.label_layout()
        assert layout, "no labels at all"
        for (c1, w1, t1), (c2, w2, t2) in zip(layout, layout[1:]):
            assert c2 - c1 >= (w1 + w2) / 2 + 4, (t1, t2, span)


def test_wheel_zoom_stays_within_a_day_and_six_years(view):
    vb = view.plot.lanes.getViewBox()
    view.plot.set_day_range(_day("2023-04-01"), _day("2023-04-01") + 0.2)
    lo, hi = view.plot.day_range()
    assert hi - lo >= 0.99
    view.set_range_preset("all")
    lo, hi = view.plot.day_range()
    assert (lo, hi) == pytest.approx(view.model.day_range())
    assert vb.state["limits"]["xRange"][0] == 1.0 and vb.state["limits"]["xRange"][1] >= 6 * 365
    # A real wheel turn over the lanes zooms in around the pointer.
    centre = view.plot.mapFromScene(vb.sceneBoundingRect().center())
    event = QWheelEvent(QPointF(centre), QPointF(view.plot.viewport().mapToGlobal(centre)), QPoint(0, 0),
                        QPoint(0, 480), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.plot.viewport(), event)
    lo2, hi2 = view.plot.day_range()
    assert hi2 - lo2 < (hi - lo) * 0.8 and lo2 > lo and hi2 < hi


def test_presets_and_range_slider(view):
    view.set_range_preset("1m")
    lo, hi = view.plot.day_range()
    assert 28 <= hi - lo <= 35
    view.set_range_preset("1y")
    lo, hi = view.plot.day_range()
    assert abs(view.plot.region.getRegion()[0] - lo) < 1e-6   # the slider follows the view
    view.plot.region.setRegion((_day("2022-01-01"), _day("2022-07-01")))
    lo, hi = view.plot.day_range()
    assert abs(lo - _day("2022-01-01")) < 1 and abs(hi - _day("2022-07-01")) < 1


def test_templates_switch_lanes_and_must_see_cannot_be_hidden(view):
    view.apply_template("before_3y_checkup")
    groups = set(view.visible_lane_groups())
    assert "dental" in groups and "guardian" not in groups
    assert view.set_lane_visible("dental", False) is False   # must-see
    assert "dental" in view.visible_lane_groups()
    assert view.lane_actions["dental"].isEnabled() is False
    assert view.set_lane_visible("medical", False) is True
    assert "medical" not in view.visible_lane_groups()
    view.template_box.setCurrentIndex(view.template_box.findData("infant_visit"))
    assert view.template.id == "infant_visit" and "guardian" in view.visible_lane_groups()
    assert view.series_box.currentData() == "weight"


def test_hover_text_has_value_date_source_as_of_and_disclosure(view, qtbot):
    model = view.model
    marks = model.marks["guardian"]
    text = view.plot.describe_at(marks.x[0], marks.y[0])
    assert "EPDS" in text and "合計 15点" in text and "2023年7月20日" in text
    assert "出典: EPDS" in text and "データ時点: 2024年12月31日" in text
    assert "開示区分: △ 職員限り" in text
    # The same text through a real mouse move over the mark.
    view.plot.set_range_preset = None
    view.set_range_preset("all")
    vb = view.plot.lanes.getViewBox()
    scene = vb.mapViewToScene(QPointF(marks.x[0], marks.y[0]))
    pos = view.plot.mapFromScene(scene)
    qtbot.mouseMove(view.plot.viewport(), QPoint(pos.x(), pos.y()))
    qtbot.waitUntil(lambda: "合計 15点" in view.plot.last_hover_text, timeout=2000)
    # Series hover: weight with its value and source.
    series = model.series("weight")
    text = view.plot.describe_at(series["x"][0], series["y"][0], plot="series")
    assert "体重" in text and "9.1 kg" in text
    # Vaccine window hover tells an overdue dose.
    w = model.windows[model.windows["status"] == "overdue"].iloc[0]
    text = view.plot.describe_at((w["start"] + w["end"]) / 2, w["y"])
    assert "未接種" in text and "標準的な接種時期" in text


def test_highlight_rule_and_click_selection(view, qtbot):
    view.highlight_rule("checkup")
    assert view.plot.highlighted_count() == 2
    view.highlight_events([])
    assert view.plot.highlighted_count() == 0
    view.set_range_preset("all")
    marks = view.model.marks["night"]
    vb = view.plot.lanes.getViewBox()
    pos = view.plot.mapFromScene(vb.mapViewToScene(QPointF(marks.x[0], marks.y[0])))
    expected = view.model.event_id_at(int(marks.rows[0]))
    with qtbot.waitSignal(view.event_selected, timeout=2000) as blocker:
        qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos.x(), pos.y()))
    assert blocker.args == [expected]
    assert view.plot.highlighted_count() == 1


def test_household_mode_adds_member_lanes(view):
    view.set_household_mode(True)
    labels = [lane.label for lane in view.model.lanes]
    assert "弟 う-3307" in labels and "母 い-2041" in labels
    view.set_household_mode(False)
    assert not any(k.startswith("member:") for k in view.model.lane_keys())


def test_no_custody_lane_without_custody_events(qtbot, sample):
    v = TimelineView(None)
    qtbot.addWidget(v)
    v.set_data(without_custody(sample))
    assert "custody" not in v.model.lane_keys()
    assert not (v.model.events["type"] == "custody").any()


def test_not_yet_resident_shading(view):
    texts = [item.toPlainText() for _, item in view.plot._items if hasattr(item, "toPlainText")]
    assert any("データなし（転入前）" in t and "転入 2022年1月15日" in t for t in texts)


def test_disclosure_look_matches_the_app_theme():
    from app.views.theme import DISCLOSURE_STYLE as THEME

    for cls, (colour, glyph, symbol) in THEME.items():
        assert DISCLOSURE_STYLE[cls] == {"color": colour, "symbol": symbol, "glyph": glyph}


def test_every_mark_has_colour_and_shape_by_disclosure(sample):
    model = TimelineModel(sample)
    marks = model.marks["medical"]
    disclosure = model.events["disclosure"].to_numpy()[marks.rows]
    for cls in set(disclosure):
        symbols = {s for s, d in zip(marks.symbols, disclosure) if d == cls}
        assert symbols == {DISCLOSURE_STYLE[cls]["symbol"]}


@pytest.mark.parametrize("key", ["height", "weight", "kaup", "caries", "epds"])
def test_every_series_draws(view, key):
    view.series_box.setCurrentIndex(view.series_box.findData(key))
    series = view.model.series(key)
    assert len(series["x"]) >= 1
    lo, hi = view.plot.series.getViewBox().viewRange()[1]
    assert lo <= np.nanmin(series["y"]) and np.nanmax(series["y"]) <= hi
    if key == "epds":
        assert lo <= 0 and hi >= 30       # the whole 0–30 scale with the cut-off lines
    view.grab()


def test_singleton_refcount_guard_is_active():
    """shiboken6 6.12 / Python 3.11 drops references to None on void calls (see the package doc)."""
    import sys

    import app.views.timeline  # noqa: F401 - applies the guard

    if sys.version_info < (3, 12):
        assert all(sys.getrefcount(s) > 2 ** 39 for s in (None, True, False))
