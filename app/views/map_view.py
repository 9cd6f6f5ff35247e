"""The district map: a folium choropleth in a QWebEngineView, served from memory, offline.

The page (app/engine/map_render.py) is built on the worker thread from aggregates only
(app/store/queries/aggregates.py) and served by ``web_scheme.MemorySchemeHandler`` — never
written to disk, never ``setHtml`` (it fails above ~1–2 MB). A click on a district comes back
through QWebChannel: it selects the district and, for roles that may see the working list,
opens the list filtered to it.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEnginePage
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.store import roles
from app.views import web_scheme

_CHANNEL_JS = ('<script src="qwebchannel.js"></script><script>'
               'new QWebChannel(qt.webChannelTransport, function (ch) { window.mimamoriBridge = ch.objects.bridge; });'
               '</script>')


def build_map_page(session, target: str, measure: str, progress=None):
    """Worker-thread work: the aggregates and the page HTML (str) for them."""
    from app.engine.map_render import render_map_html
    from app.store.queries.aggregates import area_figures
    from app.store.staffing_plans import session_boundaries

    figures = area_figures(session)
    geojson, source = session_boundaries(session)
    return render_map_html(geojson, figures.figures, target, measure), figures, source


class MapBridge(QObject):
    """The object the page sees as ``bridge`` (QWebChannel)."""

    district_clicked = Signal(str)

    @Slot(str)
    def districtClicked(self, name: str) -> None:  # noqa: N802 - called from JavaScript
        self.district_clicked.emit(name)


class MapView(QWidget):
    _counter = 0

    def __init__(self, context, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self._ready = False
        self._path = ""
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.target = QComboBox()
        self.target.addItem(self.tr("Child abuse"), "abuse")
        self.target.addItem(self.tr("Postpartum depression / parenting anxiety"), "postpartum")
        self.measure = QComboBox()
        for key, text in (("not_followed", self.tr("Flagged, not yet followed")),
                          ("flagged", self.tr("Flagged children")),
                          ("nf_per_1000", self.tr("Not yet followed per 1,000 children")),
                          ("per_1000", self.tr("Flagged per 1,000 children")),
                          ("change", self.tr("Change since the previous run")),
                          ("visits", self.tr("Expected visits per month"))):
            self.measure.addItem(text, key)
        bar.addWidget(QLabel(self.tr("Target")))
        bar.addWidget(self.target)
        bar.addWidget(QLabel(self.tr("Measure")))
        bar.addWidget(self.measure)
        bar.addStretch(1)
        layout.addLayout(bar)
        self.info = QLabel()
        self.info.setWordWrap(True)
        layout.addWidget(self.info)
        self.view = QWebEngineView()
        self.page = QWebEnginePage(web_scheme.local_profile(), self.view)
        self.view.setPage(self.page)
        self.bridge = MapBridge(self)
        self.channel = QWebChannel(self.page)
        self.channel.registerObject("bridge", self.bridge)
        self.page.setWebChannel(self.channel)
        self.page.loadFinished.connect(self._on_loaded)
        layout.addWidget(self.view, 1)
        self.bridge.district_clicked.connect(self._on_district)
        self.target.currentIndexChanged.connect(self._restyle)
        self.measure.currentIndexChanged.connect(self._restyle)
        self._started = False
        # A new run, delivery or follow-up changes the counts; before the first show the
        # first load will read them anyway.
        context.on_store_changed(self, ("scoring", "import", "followup", "deletion", "boundaries"),
                                 lambda _kinds: self.reload() if self._started else None)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        # Load on first show: a QWebEngineView reparented (into the main window's stack)
        # while a load is under way crashed offscreen.
        super().showEvent(event)
        if not self._started:
            self._started = True
            QTimer.singleShot(0, self.reload)

    # -- loading
    def reload(self) -> None:
        self._ready = False
        self.context.worker.run(build_map_page, self.context.session, self.target.currentData(),
                                self.measure.currentData(), key="map.page", on_done=self._show,
                                on_error=self._failed)

    def _show(self, result) -> None:
        html, figures, source = result
        html = html.replace("</head>", _CHANNEL_JS + "</head>", 1)
        handler = web_scheme.memory_handler()
        if self._path:
            handler.drop(self._path)
        MapView._counter += 1
        self._path = f"/map/index-{MapView._counter}.html"
        url = handler.put(self._path, html.encode("utf-8"))
        notes = []
        if figures.suppressed:
            notes.append(self.tr("Small counts are suppressed: <5 = fewer than five, X = hidden so it cannot be "
                                 "worked out from the totals."))
        if source == "shipped":
            notes.append(self.tr("Boundaries are approximate (built from town centroids)."))
        if figures.message:
            notes.append(figures.message)
        self._notes = notes
        # Targets with no earlier run: 「前回からの増減」 has nothing to compare with.
        district = figures.figures.district
        self._no_previous = {t for t in district["target"].unique()
                             if district.loc[district["target"] == t, "flagged_prev"].isna().all()}
        self._update_info()
        self.view.load(QUrl(url))

    def _update_info(self) -> None:
        notes = list(getattr(self, "_notes", []))
        if self.measure.currentData() == "change" and self.target.currentData() in getattr(self, "_no_previous", ()):
            notes.insert(0, self.tr("No earlier scoring run: the change is shown from the next run on."))
        self.info.setText(" ".join(notes))

    def _failed(self, error: BaseException) -> None:
        self.info.setText(str(error))
        self._ready = True

    def _on_loaded(self, ok: bool) -> None:
        if not ok:
            self.info.setText(self.tr("The map page could not be loaded."))
            self._ready = True
            return
        self._probe()

    def _probe(self, tries: int = 0) -> None:
        def done(count):
            if isinstance(count, (int, float)) and count > 0:
                # The compositor shows the drawn frame a moment after the DOM has it.
                QTimer.singleShot(400, self._set_ready)
            elif tries < 100:
                QTimer.singleShot(50, lambda: self._probe(tries + 1))
            else:
                self._ready = True
        self.page.runJavaScript("window.mimamori ? window.mimamori.pathCount() : 0", 0, done)

    def _set_ready(self) -> None:
        self._ready = True

    def is_ready(self) -> bool:
        """True once the page has loaded and its polygons are drawn (for snapshot and tests)."""
        return self._ready

    # -- interaction
    def _restyle(self) -> None:
        self._update_info()
        js = f"window.mimamori && window.mimamori.setMeasure({json.dumps(self.target.currentData())}, " \
             f"{json.dumps(self.measure.currentData())})"
        self.page.runJavaScript(js, 0)

    def _on_district(self, name: str) -> None:
        self.context.selection.district_selected.emit(name)
        if self.context.session.can(roles.VIEW_CHILDREN):
            self.context.selection.navigate.emit("list")

