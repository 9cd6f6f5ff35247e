"""Yokosuka's towns and districts, and approximate boundary polygons built from town centroids.

No boundary polygons exist offline, so town cells are Voronoi cells of the 2015 population
centroids clipped to a buffered convex hull of the city; a district is the union of its towns'
cells (shared edges cancel). Every feature says ``approximate: true``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import ConvexHull, Voronoi

from app.resource_files import resource_path


@dataclass(frozen=True)
class Geography:
    towns: pd.DataFrame  # town, district, centre, pop2015, lat, lon, key_code
    districts: pd.DataFrame  # district, centre


def load_geography() -> Geography:
    """Towns (354 町丁) with their district and health-welfare centre, in a fixed order."""
    with open(resource_path("reference", "yokosuka_towns_2015.json"), encoding="utf-8") as fh:
        towns = pd.DataFrame(json.load(fh))
    districts = pd.read_csv(resource_path("reference", "yokosuka_districts.csv"), encoding="utf-8")
    districts = districts.rename(columns={"health_welfare_centre": "centre"})[["district", "centre"]]
    towns = towns.rename(columns={"chome": "town"}).merge(districts, on="district", how="left")
    towns = towns.sort_values("key_code", kind="stable").reset_index(drop=True)
    return Geography(towns=towns[["town", "district", "centre", "pop2015", "lat", "lon", "key_code"]],
                     districts=districts)


def town_weights(towns: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Share of young families per town: 2015 population with gamma noise (not uniform)."""
    pop = towns["pop2015"].to_numpy(dtype=float)
    # Some towns are family-heavy (new housing), some old: a multiplicative gamma factor.
    factor = rng.gamma(shape=3.0, scale=1 / 3.0, size=len(pop))
    w = pop * factor
    return w / w.sum()


def _clip_convex(poly: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Sutherland–Hodgman: polygon ``poly`` clipped by the convex counter-clockwise ``clip``."""
    out = poly
    for i in range(len(clip)):
        a, b = clip[i], clip[(i + 1) % len(clip)]
        if len(out) == 0:
            break
        inp, out = out, []
        edge = b - a
        side = edge[0] * (inp[:, 1] - a[1]) - edge[1] * (inp[:, 0] - a[0])
        for j in range(len(inp)):
            p, q = inp[j - 1], inp[j]
            sp, sq = side[j - 1], side[j]
            if sq >= 0:
                if sp < 0:
                    out.append(p + (q - p) * (sp / (sp - sq)))
                out.append(q)
            elif sp >= 0:
                out.append(p + (q - p) * (sp / (sp - sq)))
        out = np.array(out) if out else np.empty((0, 2))
    return out


def _ring_area(ring: list[tuple[float, float]]) -> float:
    x = np.array([p[0] for p in ring])
    y = np.array([p[1] for p in ring])
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _point_in_ring(pt: tuple[float, float], ring: list[tuple[float, float]]) -> bool:
    x, y = pt
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i]
        x2, y2 = ring[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _union_cells(cells: list[list[tuple[float, float]]]) -> list[list[list[list[float]]]]:
    """Union of adjacent cells by cancelling shared edges; returns MultiPolygon coordinates."""
    edges: dict[tuple, tuple] = {}
    for cell in cells:
        for i in range(len(cell)):
            a, b = cell[i], cell[(i + 1) % len(cell)]
            if (b, a) in edges:
                del edges[(b, a)]
            else:
                edges[(a, b)] = (a, b)
    nxt: dict[tuple, list[tuple]] = {}
    for a, b in sorted(edges):
        nxt.setdefault(a, []).append(b)
    rings = []
    while nxt:
        start = min(nxt)
        ring = [start]
        cur = start
        while True:
            b = nxt[cur].pop()
            if not nxt[cur]:
                del nxt[cur]
            if b == start:
                break
            ring.append(b)
            cur = b
            if cur not in nxt:
                break
        if len(ring) >= 3:
            rings.append(ring)
    outers = [r for r in rings if _ring_area(r) > 0]
    holes = [r for r in rings if _ring_area(r) <= 0]
    polys = [[r] for r in outers]
    for h in holes:
        for poly in polys:
            if _point_in_ring(h[0], poly[0]):
                poly.append(h)
                break
    return [[[list(p) for p in r + [r[0]]] for r in poly] for poly in polys]


def build_geojson(towns: pd.DataFrame) -> dict:
    """District and town features (approximate Voronoi polygons) as a GeoJSON dict."""
    pts = towns[["lon", "lat"]].to_numpy(dtype=float)
    # Towns sharing a centroid would break Voronoi: nudge duplicates deterministically.
    _, first = np.unique(np.round(pts, 6), axis=0, return_index=True)
    dup = np.setdiff1d(np.arange(len(pts)), first)
    pts[dup] += 1e-4 * (1 + np.arange(len(dup)))[:, None]
    hull = ConvexHull(pts)
    hull_pts = pts[hull.vertices]
    centre = hull_pts.mean(axis=0)
    # A 1.2 km-ish margin around the outermost centroids stands in for the coastline.
    d = hull_pts - centre
    norm = np.linalg.norm(d, axis=1, keepdims=True)
    clip = hull_pts + d / norm * 0.012
    far = np.array([[centre[0] + dx, centre[1] + dy] for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1))])
    vor = Voronoi(np.vstack([pts, far]))
    cells = []
    for i in range(len(pts)):
        region = vor.regions[vor.point_region[i]]
        poly = vor.vertices[region]
        ang = np.arctan2(poly[:, 1] - pts[i, 1], poly[:, 0] - pts[i, 0])
        poly = poly[np.argsort(ang)]
        poly = _clip_convex(poly, clip)
        cells.append([(round(float(x), 6), round(float(y), 6)) for x, y in poly])
    features = []
    for (district, centre_name), idx in towns.groupby(["district", "centre"], sort=True).groups.items():
        coords = _union_cells([cells[i] for i in sorted(idx)])
        features.append({
            "type": "Feature",
            "properties": {"level": "district", "地区": district, "健康福祉センター": centre_name,
                           "approximate": True},
            "geometry": {"type": "MultiPolygon", "coordinates": coords},
        })
    for i, row in enumerate(towns.itertuples(index=False)):
        ring = [list(p) for p in cells[i]] + [list(cells[i][0])]
        features.append({
            "type": "Feature",
            "properties": {"level": "town", "町名": row.town, "地区": row.district,
                           "健康福祉センター": row.centre, "approximate": True},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        })
    return {"type": "FeatureCollection", "features": features}
