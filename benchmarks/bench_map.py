"""District map benchmark: aggregate → suppress → build the page → page drawn in QtWebEngine.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_map.py [--size 13913] [--quick]
    python -m app bench --only bench_map     (through the runner, one process per size)

Inputs are built in memory from the shipped geography (children placed in towns in
proportion to the 2015 census population, 10 % flagged per target as the run's top share,
a third of them followed): nothing is written to disk. The stages are the ones the map view
runs: ``engine.aggregates.aggregate`` and ``suppress`` (the chief's <5 + complementary
suppression over districts and towns), ``engine.map_render.render_map_html`` (the whole
page, every measure × target embedded), and the page served from memory until Leaflet has
drawn the district polygons (``window.mimamori.pathCount() > 0``) — first load (cold
QtWebEngine) and a reload. The store query (``queries.aggregates.area_figures``) is not
included: it needs an imported store (measured by hand on the demo, see the issue report).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run_all import peak_rss_mb, row  # noqa: E402

SIZED = True
DEFAULT_SIZE = 13913


def _inputs(size: int, seed: int = 0):
    from app.engine.synth.geography import build_geojson, load_geography

    geo = load_geography()
    rng = np.random.default_rng(seed)
    towns = geo.towns.sample(size, replace=True, weights=geo.towns["pop2015"], random_state=seed)
    ids = np.char.add("C", np.arange(size).astype(str))
    children = pd.DataFrame({"person_id": ids, "district": towns["district"].to_numpy(),
                             "town": towns["town"].to_numpy()})
    k = max(1, size // 10)
    flagged = pd.concat([pd.DataFrame({"person_id": rng.choice(ids, k, replace=False), "target": t})
                         for t in ("abuse", "postpartum")], ignore_index=True)
    previous = pd.concat([pd.DataFrame({"person_id": rng.choice(ids, k, replace=False), "target": t})
                          for t in ("abuse", "postpartum")], ignore_index=True)
    fu_ids = rng.choice(flagged["person_id"].unique(), len(flagged) // 3, replace=False)
    followups = pd.DataFrame({"person_id": fu_ids, "followed": True,
                              "in_support": rng.random(len(fu_ids)) < 0.3})
    return geo, build_geojson(geo.towns), children, flagged, previous, followups


def _median(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def _page_ready(html: str, timeout: float = 90.0) -> tuple[float, float, int]:
    """Seconds from load() to drawn polygons, for a first load and a reload; polygons drawn."""
    from PySide6.QtCore import QUrl
    from PySide6.QtWebEngineCore import QWebEnginePage
    from PySide6.QtWebEngineWidgets import QWebEngineView

    from app.views import web_scheme
    from app.views.application import make_application

    app = make_application()
    view = QWebEngineView()
    page = QWebEnginePage(web_scheme.local_profile(), view)
    view.setPage(page)
    view.resize(1200, 800)
    view.show()
    handler = web_scheme.memory_handler()
    out = []
    count = 0
    state = {}
    page.loadFinished.connect(lambda ok: state.__setitem__("loaded", ok))
    for i in range(2):
        path = f"/bench/map-{i}.html"
        url = handler.put(path, html.encode("utf-8"))
        box = {}
        state.clear()
        t = time.perf_counter()
        view.load(QUrl(url))
        deadline = t + timeout
        while time.perf_counter() < deadline:
            app.processEvents()
            if "loaded" not in state:   # the old page would still answer the probe
                time.sleep(0.002)
                continue
            page.runJavaScript("window.mimamori ? window.mimamori.pathCount() : 0", 0,
                               lambda v: box.__setitem__("n", v))
            app.processEvents()
            if isinstance(box.get("n"), (int, float)) and box["n"] > 0:
                break
            time.sleep(0.005)
        out.append(time.perf_counter() - t)
        count = int(box.get("n") or 0)
        handler.drop(path)
    view.close()
    return out[0], out[1], count


def run(size: int | None = None, quick: bool = False) -> list[dict]:
    from app.engine.aggregates import aggregate, suppress
    from app.engine.map_render import render_map_html

    size = size or (300 if quick else DEFAULT_SIZE)
    repeat = 2 if quick else 5
    geo, geojson, children, flagged, previous, followups = _inputs(size)
    districts = sorted(geo.districts["district"])
    t_agg, figures = _median(lambda: aggregate(children, flagged, followups, previous, districts=districts,
                                               towns=geo.towns), repeat)
    t_sup, shown = _median(lambda: suppress(figures), repeat)
    hidden = int((shown.town["flagged_state"] != "").sum())
    t_html, html = _median(lambda: render_map_html(geojson, shown, "abuse", "not_followed"), repeat)
    rows = [
        row("map: aggregate (districts + towns, 2 targets)", size, t_agg, peak_rss_mb(),
            f"{len(figures['town']) // 2} towns, median of {repeat}"),
        row("map: suppress (<5 + complementary)", size, t_sup, peak_rss_mb(),
            f"{hidden} of {len(shown.town)} town cells of 'flagged' hidden, median of {repeat}"),
        row("map: build page HTML", size, t_html, peak_rss_mb(),
            f"{len(html.encode('utf-8')) / 2**20:.2f} MiB page, median of {repeat}"),
    ]
    try:
        first, again, paths = _page_ready(html)
        rows.append(row("map: page drawn in QtWebEngine (first load)", size, first, peak_rss_mb(),
                        f"{paths} district polygons; includes QtWebEngine start"))
        rows.append(row("map: page drawn in QtWebEngine (reload)", size, again, peak_rss_mb(),
                        "warm engine: what switching target/reloading costs"))
    except Exception as exc:  # noqa: BLE001 - a benchmark reports, never fails the run
        rows.append(row("map: page drawn in QtWebEngine", size, None, None, f"failed: {exc}", status="failed"))
    return rows


if __name__ == "__main__":
    import argparse

    from benchmarks.run_all import format_table

    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE)
    parser.add_argument("--quick", action="store_true")
    a = parser.parse_args()
    print(format_table(run(a.size, a.quick)))
