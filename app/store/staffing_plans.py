"""Map boundaries, staff per district and saved staffing plans (migration 0500).

``store_boundaries(session, folder)`` keeps a delivery's ``chiku.geojson`` in the store (the
import pipeline skips that file); the map reads it with ``boundaries``. Without one, the map
uses the approximate outlines shipped with the app (town centroids of the 2015 census,
``app/engine/synth/geography.py``) and says so.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

from app.store import roles
from app.store.audit import now_iso
from app.store.database import transaction
from app.store.queries import requires

BOUNDARY_NAME = "chiku"


class PlanError(ValueError):
    """A staff entry or plan that cannot be saved; the message is for the user (Japanese)."""


@requires(roles.IMPORT, data_class="admin")
def store_boundaries(session, folder: Path | str) -> bool:
    """Store ``folder/chiku.geojson`` (district and town outlines); False if the file is absent."""
    path = Path(folder) / "chiku.geojson" if Path(folder).is_dir() else Path(folder)
    if not path.is_file():
        return False
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    if data.get("type") != "FeatureCollection":
        raise PlanError(f"{path.name} は GeoJSON の FeatureCollection ではありません")
    with transaction(session.conn):
        session.conn.execute(
            "INSERT OR REPLACE INTO map_boundaries(name, geojson, source, stored_at, stored_by) VALUES (?,?,?,?,?)",
            (BOUNDARY_NAME, json.dumps(data, ensure_ascii=False), path.name, now_iso(), session.user))
        session.audit("store_boundaries", "boundaries", [BOUNDARY_NAME], {"features": len(data.get("features", []))})
    return True


@lru_cache(maxsize=1)
def _shipped_boundaries() -> str:
    from app.engine.synth.geography import build_geojson, load_geography

    return json.dumps(build_geojson(load_geography().towns), ensure_ascii=False)


def boundaries(conn) -> tuple[dict, str]:
    """(GeoJSON, where it came from): the stored delivery's outlines, else the shipped ones."""
    try:
        row = conn.execute("SELECT geojson, source FROM map_boundaries WHERE name = ?", (BOUNDARY_NAME,)).fetchone()
    except Exception:  # noqa: BLE001 - a store older than migration 0500
        row = None
    if row is not None:
        return json.loads(row[0]), row[1]
    return json.loads(_shipped_boundaries()), "shipped"


def _read_staff(conn) -> pd.DataFrame:
    rows = conn.execute("SELECT district, nurses, seniors, updated_by, updated_at FROM district_staff").fetchall()
    return pd.DataFrame(rows, columns=["district", "nurses", "seniors", "updated_by", "updated_at"])


@requires(roles.PLAN_STAFFING, data_class="aggregates")
def district_staff(session) -> pd.DataFrame:
    """Staff per district as entered (district, nurses, seniors, updated_by, updated_at)."""
    return _read_staff(session.conn)


@requires(roles.PLAN_STAFFING, data_class="aggregates")
def set_district_staff(session, staff: pd.DataFrame) -> None:
    """Replace the staff table with ``staff`` (district, nurses, seniors); audited."""
    if (staff["nurses"] < 0).any() or (staff["seniors"] < 0).any():
        raise PlanError("人数に負の値は入力できません")
    if (staff["seniors"] > staff["nurses"]).any():
        bad = staff.loc[staff["seniors"] > staff["nurses"], "district"].tolist()
        raise PlanError(f"ベテラン保健師の数が保健師数を超えています: {'、'.join(bad)}")
    stamp = now_iso()
    with transaction(session.conn):
        session.conn.execute("DELETE FROM district_staff")
        session.conn.executemany(
            "INSERT INTO district_staff(district, nurses, seniors, updated_by, updated_at) VALUES (?,?,?,?,?)",
            [(str(r.district), int(r.nurses), int(r.seniors), session.user, stamp) for r in staff.itertuples()])
        session.audit("set_district_staff", "district_staff", staff["district"].tolist(),
                      {"nurses": int(staff["nurses"].sum()), "seniors": int(staff["seniors"].sum())})


@requires(roles.PLAN_STAFFING, data_class="aggregates")
def save_plan(session, target: str, run_ref: str, method: str, totals: dict, rows: pd.DataFrame,
              note: str = "") -> int:
    """Save a proposal as shown to the chief (already suppressed); returns its plan_id."""
    payload = json.loads(rows.to_json(orient="records", force_ascii=False))
    with transaction(session.conn):
        cur = session.conn.execute(
            "INSERT INTO staffing_plans(created_at, created_by, target, run_ref, method, totals, rows, note)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (now_iso(), session.user, target, run_ref, method, json.dumps(totals, ensure_ascii=False),
             json.dumps(payload, ensure_ascii=False), note))
        plan_id = int(cur.lastrowid)
        session.audit("save_staffing_plan", "staffing_plan", [plan_id], {"target": target})
    return plan_id


@requires(roles.PLAN_STAFFING, data_class="aggregates")
def list_plans(session) -> pd.DataFrame:
    rows = session.conn.execute(
        "SELECT plan_id, created_at, created_by, target, run_ref, totals FROM staffing_plans ORDER BY plan_id DESC"
    ).fetchall()
    return pd.DataFrame(rows, columns=["plan_id", "created_at", "created_by", "target", "run_ref", "totals"])
