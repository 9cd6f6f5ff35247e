"""The district map as one self-contained folium page: no tiles, no CDN, no external URL.

Districts and towns (``chiku.geojson``: features with ``level`` = ``district`` (property 地区)
or ``town`` (町名, 地区)) are drawn as a choropleth of a chosen measure and target. Every
measure × target is embedded once (already suppressed for the chief), so switching is a
restyle in the page (``mimamori.setMeasure(target, measure)``) rather than a reload that
would lose the zoom. Towns replace districts when zoomed in. The legend is plain HTML (no d3).
Clicks go to ``window.mimamoriBridge.districtClicked(name)`` when the host page provides it
(QWebChannel in the app). Leaflet is referenced by relative URLs (``leaflet/leaflet.js``);
whoever serves the page serves those files from ``resources/web/leaflet``.
"""

from __future__ import annotations

import json
import math

import folium
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement
from jinja2 import Template

from app.engine.aggregates import (
    MEASURE_LABELS, NO_PREVIOUS_RUN, TARGET_LABELS, TARGETS, SuppressedFigures, display,
)

MAP_MEASURES = ("not_followed", "flagged", "nf_per_1000", "per_1000", "change", "visits")
# ColorBrewer OrRd (sequential) and RdBu (diverging, for change): readable in grey and by
# the common colour-vision deficiencies; the tooltip always carries the number too.
SEQUENTIAL = ["#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"]
DIVERGING = ["#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b"]
HIDDEN_FILL = "#d9d9d9"
NO_DATA_FILL = "#ffffff"
TOWN_ZOOM = 13
LEAFLET_JS = "leaflet/leaflet.js"
LEAFLET_CSS = "leaflet/leaflet.css"


def class_breaks(values, measure: str, classes: int = 5) -> list[float]:
    """Upper bounds of the colour classes: quantiles of the shown values (symmetric for change)."""
    v = pd.Series(values, dtype=float).dropna()
    if v.empty:
        return []
    if measure == "change":
        m = float(v.abs().max()) or 1.0
        return [-0.6 * m, -0.2 * m, 0.2 * m, 0.6 * m, m]
    qs = np.unique(np.round(np.quantile(v, np.linspace(0, 1, classes + 1)[1:]), 1))
    return [float(q) for q in qs]


def _colour(value, state: str, breaks: list[float], measure: str) -> str:
    if state:
        return HIDDEN_FILL
    if value is None or (isinstance(value, float) and math.isnan(value)) or not breaks:
        return NO_DATA_FILL
    palette = DIVERGING if measure == "change" else SEQUENTIAL
    for i, b in enumerate(breaks):
        if value <= b + 1e-9:
            return palette[min(i, len(palette) - 1)] if measure == "change" else palette[
                min(i + len(palette) - len(breaks), len(palette) - 1)]
    return palette[-1]


def _tooltip(name: str, row: pd.Series | None, target: str, note: str) -> str:
    lines = [f"<b>{name}</b>", f"<span class='mm-sub'>{TARGET_LABELS[target]}</span>"]
    if row is None:
        lines.append("データなし")
    else:
        for m in ("children", "flagged", "not_followed", "per_1000", "nf_per_1000", "change", "visits"):
            lines.append(f"{MEASURE_LABELS[m]}: {display(row.get(m), row.get(m + '_state', ''), m)}")
    if note:
        lines.append(f"<span class='mm-sub'>{note}</span>")
    return "<br>".join(lines)


def _attach(geojson: dict, figures: SuppressedFigures, breaks: dict) -> dict:
    """A copy of the GeoJSON whose features carry colours, values and tooltips per target × measure."""
    idx = {
        "district": figures.district.set_index(["target", "district"]),
        "town": figures.town.set_index(["target", "district", "town"]),
    }
    features = []
    for f in geojson.get("features", []):
        p = f.get("properties", {})
        level = p.get("level", "district")
        if level not in idx:
            continue
        district = p.get("地区", "")
        name = district if level == "district" else f"{p.get('町名', '')}（{district}）"
        props = {"level": level, "地区": district, "町名": p.get("町名", ""), "fill": {}, "text": {}, "tip": {}}
        for target in TARGETS:
            key = (target, district) if level == "district" else (target, district, p.get("町名", ""))
            row = idx[level].loc[key] if key in idx[level].index else None
            note = "境界は概略です" if p.get("approximate") else ""
            props["tip"][target] = _tooltip(name, row, target, note)
            for m in MAP_MEASURES:
                value = None if row is None else row.get(m)
                state = "" if row is None else row.get(m + "_state", "")
                k = f"{target}/{m}"
                props["fill"][k] = _colour(value, state, breaks[level][k], m)
                text = display(value, state, m) if row is not None else "—"
                # The label on each area stays short (the legend and the tooltip say it in full).
                props["text"][k] = "前回なし" if text == NO_PREVIOUS_RUN else text
        features.append({"type": "Feature", "properties": props, "geometry": f["geometry"]})
    return {"type": "FeatureCollection", "features": features}


def legend_spec(breaks: dict, level: str, target: str, measure: str) -> dict:
    """The legend for one measure (also what the page shows; kept here so it can be tested)."""
    b = breaks[level][f"{target}/{measure}"]
    palette = DIVERGING if measure == "change" else SEQUENTIAL[len(SEQUENTIAL) - len(b):]
    items, lower = [], None
    for colour, upper in zip(palette, b):
        fmt = ((lambda x: f"{x:,.1f}") if measure in ("per_1000", "nf_per_1000")
               else (lambda x: f"{x:+,.0f}" if measure == "change" else f"{x:,.0f}"))
        items.append({"colour": colour, "label": f"〜 {fmt(upper)}" if lower is None else f"{fmt(lower)} 〜 {fmt(upper)}"})
        lower = upper
    if measure == "change" and not b:
        items.append({"colour": NO_DATA_FILL, "label": NO_PREVIOUS_RUN})
    return {"title": f"{MEASURE_LABELS[measure]}（{TARGET_LABELS[target]}）", "items": items}


_SCRIPT = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this.map_name }};
  var districts = {{ this.district_name }};
  var towns = {{ this.town_name }};
  var legends = {{ this.legends }};
  var state = {target: {{ this.target|tojson }}, measure: {{ this.measure|tojson }}};
  var outline = L.geoJson(districts.toGeoJSON(), {interactive: false,
      style: function () { return {fill: false, color: "#333", weight: 2.5}; }});
  function styleFor(f) {
    var k = state.target + "/" + state.measure;
    var p = f.properties;
    var hidden = p.text[k] === "<5" || p.text[k] === "X";
    return {fillColor: p.fill[k], fillOpacity: 0.85, color: "#555", weight: p.level === "district" ? 1.5 : 0.6,
            dashArray: hidden ? "4 3" : null};
  }
  function bind(layer) {
    layer.eachLayer(function (l) {
      var p = l.feature.properties;
      l.bindTooltip(function () { return p.tip[state.target]; }, {sticky: true});
      l.on("click", function () {
        if (window.mimamoriBridge) { window.mimamoriBridge.districtClicked(p["地区"]); }
        window.mimamoriLastClick = p["地区"];
      });
      l.on("mouseover", function () { l.setStyle({weight: 3, color: "#000"}); });
      l.on("mouseout", function () { l.setStyle(styleFor(l.feature)); });
    });
  }
  // Leaflet keeps one tooltip per layer: the permanent district labels live on a separate,
  // non-interactive copy so the hover tooltip keeps all the figures.
  var labels = L.geoJson(districts.toGeoJSON(), {interactive: false, style: function () { return {stroke: false, fill: false}; }});
  labels.eachLayer(function (l) {
    var p = l.feature.properties;
    l.bindTooltip(p["地区"], {permanent: true, direction: "center", className: "mm-label"});
  });
  bind(districts);
  bind(towns);
  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () { this._div = L.DomUtil.create("div", "mm-legend"); return this._div; };
  legend.addTo(map);
  function level() { return map.getZoom() >= {{ this.town_zoom }} ? "town" : "district"; }
  function render() {
    var lv = level();
    if (lv === "town") {
      if (map.hasLayer(districts)) { map.removeLayer(districts); }
      if (map.hasLayer(labels)) { map.removeLayer(labels); }
      if (!map.hasLayer(towns)) { towns.addTo(map); outline.addTo(map); }
    } else {
      if (map.hasLayer(towns)) { map.removeLayer(towns); map.removeLayer(outline); }
      if (!map.hasLayer(districts)) { districts.addTo(map); }
      if (!map.hasLayer(labels)) { labels.addTo(map); }
    }
    districts.setStyle(styleFor); towns.setStyle(styleFor);
    labels.eachLayer(function (l) {
        if (l.getTooltip()) {
            l.getTooltip().setContent(l.feature.properties["地区"] + "<br>"
                                      + l.feature.properties.text[state.target + "/" + state.measure]);
        }
    });
    var spec = legends[lv][state.target + "/" + state.measure];
    var html = "<b>" + spec.title + "</b><br><span class='mm-sub'>" + (lv === "town" ? "町丁別" : "地区別") + "</span>";
    spec.items.forEach(function (it) {
      html += "<div><i style='background:" + it.colour + "'></i>" + it.label + "</div>";
    });
    html += "<div><i class='mm-hidden'></i>&lt;5・X（秘匿）</div>";
    html += "<div class='mm-sub'>{{ this.note }}</div>";
    legend._div.innerHTML = html;
  }
  map.removeLayer(towns);
  map.on("zoomend", render);
  render();
  window.mimamori = {
    setMeasure: function (target, measure) { state.target = target; state.measure = measure; render(); return true; },
    pathCount: function () { return document.querySelectorAll("path.leaflet-interactive").length; },
    level: level,
    map: map
  };
  window.mimamoriReady = true;
  document.title = "ready";
})();
{% endmacro %}
""")


class _MapScript(MacroElement):
    def __init__(self, map_name, district_name, town_name, legends, target, measure, note):
        super().__init__()
        self._template = _SCRIPT
        self.map_name, self.district_name, self.town_name = map_name, district_name, town_name
        self.legends = json.dumps(legends, ensure_ascii=False)
        self.target, self.measure, self.note, self.town_zoom = target, measure, note, TOWN_ZOOM


_CSS = """
<style>
html, body { background: #eef2f4; font-family: "Noto Sans CJK JP", "Yu Gothic UI", "Meiryo", sans-serif; }
.leaflet-container { background: #eef2f4; }
.mm-legend { background: white; padding: 8px 10px; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3);
             font-size: 12px; line-height: 18px; max-width: 260px; }
.mm-legend i { width: 16px; height: 14px; float: left; margin-right: 6px; margin-top: 2px; border: 1px solid #999; }
.mm-legend i.mm-hidden { background: #d9d9d9; border: 1px dashed #555; }
.mm-sub { color: #555; font-size: 11px; }
.mm-label { background: rgba(255,255,255,.8); border: none; box-shadow: none; font-size: 12px;
            font-weight: 600; text-align: center; padding: 1px 4px; }
.mm-label:before { display: none; }
</style>
"""


def render_map_html(geojson: dict, figures: SuppressedFigures, target: str = "abuse",
                    measure: str = "not_followed") -> str:
    """The whole map page (HTML text) for ``figures`` over ``geojson``.

    Only aggregate figures are embedded — never a point or a person. The page references
    only relative URLs (``leaflet/…``), so it draws nothing unless those are served locally.
    """
    if target not in TARGETS or measure not in MAP_MEASURES:
        raise ValueError(f"unknown target/measure: {target}/{measure}")
    breaks: dict[str, dict] = {"district": {}, "town": {}}
    for level, frame in (("district", figures.district), ("town", figures.town)):
        for t in TARGETS:
            sub = frame[frame["target"] == t]
            for m in MAP_MEASURES:
                breaks[level][f"{t}/{m}"] = class_breaks(sub[m] if m in sub else [], m)
    data = _attach(geojson, figures, breaks)
    legends = {lv: {k: legend_spec(breaks, lv, k.split("/")[0], k.split("/")[1]) for k in breaks[lv]}
               for lv in breaks}
    fmap = folium.Map(location=[35.25, 139.67], zoom_start=11, tiles=None, zoom_control=True,
                      attribution_control=False, min_zoom=9, max_zoom=16)
    # Local copies only (TECH_NOTES: unmodified folium pulls Leaflet, jQuery, Bootstrap from CDNs).
    fmap.default_js = [("leaflet", LEAFLET_JS)]
    fmap.default_css = [("leaflet_css", LEAFLET_CSS)]
    fmap.get_root().header.add_child(Element(_CSS))
    k = f"{target}/{measure}"
    style = lambda f: {"fillColor": f["properties"]["fill"][k], "fillOpacity": 0.85,  # noqa: E731
                       "color": "#555", "weight": 1.5}
    dist = folium.GeoJson({"type": "FeatureCollection",
                           "features": [f for f in data["features"] if f["properties"]["level"] == "district"]},
                          name="districts", style_function=style)
    town = folium.GeoJson({"type": "FeatureCollection",
                           "features": [f for f in data["features"] if f["properties"]["level"] == "town"]},
                          name="towns", style_function=style)
    dist.add_to(fmap)
    town.add_to(fmap)
    note = "境界は概略（町丁重心による推定）" if any(
        f.get("properties", {}).get("approximate") for f in geojson.get("features", [])) else ""
    fmap.add_child(_MapScript(fmap.get_name(), dist.get_name(), town.get_name(), legends, target, measure, note))
    bounds = _bounds(data)
    if bounds:
        fmap.fit_bounds(bounds)
    return fmap.get_root().render()


def _bounds(data: dict):
    xs, ys = [], []

    def walk(c):
        if c and isinstance(c[0], (int, float)):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for x in c:
                walk(x)

    for f in data["features"]:
        if f["properties"]["level"] == "district":
            walk(f["geometry"]["coordinates"])
    if not xs:
        return None
    return [[min(ys), min(xs)], [max(ys), max(xs)]]
