"""The map offline in QtWebEngine: local files only, polygons drawn, a click reaches Python."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from app.engine.aggregates import aggregate, suppress
from app.engine.map_render import MAP_MEASURES, render_map_html
from app.engine.synth.geography import build_geojson, load_geography


@pytest.fixture(scope="session")
def geo_and_figures():
    geo = load_geography()
    geojson = build_geojson(geo.towns)
    towns = geo.towns.sample(3000, replace=True, weights=geo.towns["pop2015"], random_state=1)
    children = pd.DataFrame({"person_id": [f"{i:07d}" for i in range(len(towns))],
                             "district": towns["district"].to_numpy(), "town": towns["town"].to_numpy()})
    flagged = pd.DataFrame({"person_id": children["person_id"].sample(400, random_state=2), "target": "abuse"})
    figures = suppress(aggregate(children, flagged, pd.DataFrame(columns=["person_id", "followed", "in_support"]),
                                 districts=sorted(geo.districts["district"]), towns=geo.towns))
    return geojson, figures


def test_page_has_no_external_url(geo_and_figures):
    geojson, figures = geo_and_figures
    for measure in MAP_MEASURES:
        html = render_map_html(geojson, figures, "postpartum", measure)
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html), measure
        assert "leaflet/leaflet.js" in html and "cdn" not in html.lower()
        assert "d3" not in re.findall(r'src="([^"]+)"', html)


def test_page_embeds_only_suppressed_figures(geo_and_figures):
    geojson, figures = geo_and_figures
    html = render_map_html(geojson, figures)
    assert "<5" in html or "&lt;5" in html
    # No research id and no coordinates of a person: only polygons and area figures.
    assert "0000001" not in html
    assert html.count('"level": "town"') == sum(f["properties"]["level"] == "town" for f in geojson["features"])


def _wait(qtbot, page, js, predicate, timeout=15000):
    box = {}

    def poll():
        page.runJavaScript(js, 0, lambda v: box.__setitem__("v", v))
        return predicate(box.get("v"))

    qtbot.waitUntil(lambda: poll(), timeout=timeout)
    return box["v"]


def test_map_draws_offline_and_click_reaches_python(qtbot, geo_and_figures):
    from PySide6.QtCore import QObject, QUrl, Signal, Slot
    from PySide6.QtWebChannel import QWebChannel
    from PySide6.QtWebEngineCore import QWebEnginePage
    from PySide6.QtWebEngineWidgets import QWebEngineView

    from app.views import web_scheme
    from app.views.map_view import _CHANNEL_JS

    class Bridge(QObject):
        clicked = Signal(str)

        @Slot(str)
        def districtClicked(self, name):  # noqa: N802
            self.clicked.emit(name)

    geojson, figures = geo_and_figures
    # A remote script in the page must be blocked by the interceptor (network "disabled").
    html = render_map_html(geojson, figures).replace(
        "</head>", _CHANNEL_JS + '<script src="https://example.invalid/x.js"></script></head>', 1)
    handler = web_scheme.memory_handler()
    url = handler.put("/test/map.html", html.encode("utf-8"))
    view = QWebEngineView()
    page = QWebEnginePage(web_scheme.local_profile(), view)
    view.setPage(page)
    bridge = Bridge()
    channel = QWebChannel(page)
    channel.registerObject("bridge", bridge)
    page.setWebChannel(channel)
    view.resize(900, 700)
    view.show()
    qtbot.addWidget(view)
    with qtbot.waitSignal(page.loadFinished, timeout=20000) as loaded:
        view.load(QUrl(url))
    assert loaded.args == [True]
    paths = _wait(qtbot, page, "window.mimamori ? window.mimamori.pathCount() : 0", lambda v: bool(v))
    assert paths == len(figures.district.query("target == 'abuse'"))  # one polygon per district
    assert _wait(qtbot, page, "typeof window.remoteLoaded", lambda v: v is not None) == "undefined"
    assert "/leaflet/leaflet.js" in "".join(handler.served)
    # Switching the measure restyles in place.
    _wait(qtbot, page, "window.mimamori.setMeasure('abuse', 'flagged')", lambda v: v is True)
    _wait(qtbot, page, "typeof window.mimamoriBridge", lambda v: v == "object")
    with qtbot.waitSignal(bridge.clicked, timeout=10000) as clicked:
        page.runJavaScript("document.querySelector('path.leaflet-interactive')"
                           ".dispatchEvent(new MouseEvent('click', {bubbles: true}))", 0)
    assert clicked.args[0] in set(figures.district["district"])
    # Zoomed in, towns replace districts.
    _wait(qtbot, page, "window.mimamori.map.setZoom(14); window.mimamori.level()", lambda v: v == "town")
    towns = _wait(qtbot, page, "window.mimamori.pathCount()", lambda v: bool(v) and v > 100)
    assert towns >= 300
    # A pixel check too: the drawn map is not a blank page.
    image = view.grab().toImage()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 37)}
    assert len(colours) > 3
    handler.drop("/test/map.html")
    # Any navigation off the machine is blocked by the interceptor.
    with qtbot.waitSignal(page.loadFinished, timeout=20000) as remote:
        view.load(QUrl("https://example.invalid/"))
    assert remote.args == [False]
    assert "https://example.invalid/" in web_scheme.request_interceptor().blocked


def test_map_view_in_window_for_admin(qtbot, tmp_path):
    from app.store.opening import create_store
    from app.views.context import AppContext
    from app.views.map_view import MapView
    from app.views.worker import ImmediateWorker

    session = create_store(tmp_path / "s.db", "admin", "test-pass-1234")
    context = AppContext(session, ImmediateWorker())
    seen, navigated = [], []
    context.selection.district_selected.connect(seen.append)
    context.selection.navigate.connect(navigated.append)
    view = MapView(context)
    view.resize(1000, 700)
    view.show()
    qtbot.addWidget(view)
    qtbot.waitUntil(view.is_ready, timeout=30000)
    view.bridge.districtClicked("追浜")
    assert seen == ["追浜"] and navigated == []  # data_admin may not open the list
    assert "audit" not in view.info.text()
    session.close()
