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
    row = conn.execute("SELECT geojson, source FROM map_boundaries WHERE name = ?", (BOUNDARY_NAME,)).fetchone()
    if row is not None:
        return json.loads(row[0]), row[1]
    return json.loads(_shipped_boundaries()), "shipped"


def session_boundaries(session) -> tuple[dict, str]:
    """``boundaries`` of the session's store (views pass the session, never its connection)."""
    return boundaries(session.conn)


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


# ---------------------------------------------------------------------------------------------
# What the staffing view loads, and the plan's way out (export gate).


class PlanData:
    """Everything the staffing view shows for one target (aggregates only, suppressed as due)."""

    def __init__(self, target, figures, proposal=None, staff=None, trends=None, can_plan=False):
        self.target = target
        self.figures = figures          # queries.aggregates.AreaFigures
        self.proposal = proposal        # engine.staffing.Proposal (table already suppressed) or None
        self.staff = staff              # district, nurses, seniors as stored
        self.trends = trends            # queries.aggregates.trend_figures frame
        self.can_plan = can_plan


def complete_staff(staff: pd.DataFrame, districts: list[str]) -> pd.DataFrame:
    """One row per district (0 nurses where nothing was entered yet)."""
    base = pd.DataFrame({"district": list(districts)})
    got = staff[["district", "nurses", "seniors"]] if len(staff) else pd.DataFrame(columns=["district", "nurses", "seniors"])
    out = base.merge(got, on="district", how="left")
    for col in ("nurses", "seniors"):
        out[col] = pd.to_numeric(out[col], errors="coerce").fillna(0).astype(int)
    return out


def load_plan_data(session, target: str = "abuse", staff: pd.DataFrame | None = None,
                   total_nurses: int | None = None, total_seniors: int | None = None,
                   minimum: int = 1, save_staff: bool = False) -> PlanData:
    """Figures, trends and (for PLAN_STAFFING) the stored staff and the proposal, in one call.

    ``staff`` replaces the stored staff for the proposal; with ``save_staff`` it is stored
    first (audited). Roles with VIEW_AGGREGATES only get the figures without a proposal.
    """
    from app.store.areas import all_districts
    from app.store.queries.aggregates import area_figures, staffing_proposal, trend_figures

    session.require(roles.VIEW_AGGREGATES)
    trends = trend_figures(session, target)
    if not session.can(roles.PLAN_STAFFING):
        return PlanData(target, area_figures(session), trends=trends)
    visible = session.visible_districts()
    districts = all_districts() if visible is None else visible
    if staff is not None and save_staff:
        set_district_staff(session, staff)
    staff = complete_staff(district_staff(session) if staff is None else staff, districts)
    proposal, figures = staffing_proposal(session, target, staff, total_nurses, total_seniors, minimum)
    return PlanData(target, figures, proposal, staff, trends, can_plan=True)


def export_plan(session, frame: pd.DataFrame, path, *, fmt: str = "csv", encrypt: bool = True,
                passphrase: str | None = None, plaintext_confirmed: bool = False, title: str = "配置計画"):
    """The plan table (display strings, areas only) through the export gate (EXPORT_PLAN).

    No ``@requires`` here on purpose: the gate checks the terminal and the role itself and logs
    a refusal, so the auditor sees attempts too.
    """
    from app.store.exports import export_frame

    return export_frame(session, frame, path, capability=roles.EXPORT_PLAN, kind="staffing_plan", fmt=fmt,
                        encrypt=encrypt, passphrase=passphrase, plaintext_confirmed=plaintext_confirmed,
                        title=title, object_ids=frame.iloc[:, 0].astype(str).tolist() if len(frame) else [])


def authorize_plan_print(session, *, encrypt: bool = True, passphrase: str | None = None,
                         plaintext_confirmed: bool = False) -> str:
    """Check (terminal, EXPORT_PLAN, encryption choice) and log a printout; returns its footer."""
    from app.store.exports import authorize_print, check_allowed, check_encryption_choice

    check_allowed(session, roles.EXPORT_PLAN)
    check_encryption_choice(encrypt, passphrase, plaintext_confirmed)
    return authorize_print(session, roles.EXPORT_PLAN, "staffing_plan")


def write_plan_document(session, data: bytes, path, *, content_type: str = "pdf", encrypt: bool = True,
                        passphrase: str | None = None, footer: str = "") -> Path:
    """Write a printable plan (already authorised) through the gate's one document writer: sealed
    in the .mmx container unless plain was chosen (the view asks the warning before it gets here)."""
    from app.store.exports import write_document

    return write_document(session, data, path, capability=roles.EXPORT_PLAN, content_type=content_type,
                          encrypt=encrypt, passphrase=passphrase, plaintext_confirmed=not encrypt, footer=footer)
