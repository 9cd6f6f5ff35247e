"""District and town aggregates for the map and the staffing plan — never individual rows.

Every function requires VIEW_AGGREGATES (or PLAN_STAFFING) and returns counts per area only.
Suppression (``app/engine/aggregates.py``: <5 and complementary) is applied for every role
that may not see individual children (the chief, data_admin); a role that may open the
working list anyway (cg_manager) gets exact figures, since suppression would hide nothing
from it. Areas are limited to ``session.visible_districts()``.

What is counted:
- children: persons of kind ``child`` still resident (``resident_to`` empty);
- 抽出 ("flagged") for a target, in the newest run of that target: the children the run stored as
  extracted under its rule set's ``[extraction]`` definition (app/engine/extraction.py), under
  the order the role may see — the same set the working list shows, so the list, the map and
  the staffing plan agree. A run stored before 抽出 was recorded is extracted again by the same
  engine function from its stored scores, and the figures say so;
- followed: extraction.is_followed over the latest nurse's record and the latest assessment
  (as the working list counts it); in support: latest status 支援中(ケース化) or an assessment
  saying 中/継続;
- change: extracted now minus extracted in the run before (same target).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.engine import aggregates as agg
from app.engine import extraction
from app.engine.staffing import load, propose
from app.store import roles
from app.store.areas import all_districts
from app.store.queries import requires

FALLBACK_TEXT = "（この実行は抽出を記録する前のもの：保存されたスコアから同じ定義で再計算）"
IN_SUPPORT = "支援中(ケース化)"
NOT_FOLLOWED = "未対応"
UNKNOWN_DISTRICT = "地区不明"   # a child whose address has no district (kept in the city total)


@dataclass
class AreaFigures:
    figures: agg.SuppressedFigures
    runs: dict = field(default_factory=dict)   # target -> {run_id, created_at, as_of}
    message: str = ""

    @property
    def suppressed(self) -> bool:
        return self.figures.suppressed


def _runs(conn, target: str) -> list[dict]:
    """Runs of ``target``, oldest first (run_id, created_at, as_of, children, extraction, ruleset_text)."""
    rows = conn.execute("SELECT run_id, created_at, as_of, children, extraction, ruleset_text FROM runs"
                        " WHERE target = ? ORDER BY run_id", (target,)).fetchall()
    cols = ["run_id", "created_at", "as_of", "children", "extraction", "ruleset_text"]
    return [dict(zip(cols, r)) for r in rows]


def _spec(run: dict) -> extraction.ExtractionSpec:
    stored = json.loads(run.get("extraction") or "{}")
    return extraction.spec_from_dict(stored) if stored else extraction.extraction_spec(run.get("ruleset_text"))


def _flagged(session, run: dict, target: str) -> pd.DataFrame:
    """The run's 抽出 (see the module docstring) under the order the role may see."""
    conn = session.conn
    column = "extracted" if session.can(roles.VIEW_CUSTODY) else "extracted_open"
    s = pd.DataFrame(conn.execute(f"SELECT person_id, score, rank, urgent, {column} FROM scores WHERE run_id = ?",
                                  (run["run_id"],)).fetchall(), columns=["person_id", "score", "rank", "urgent", "x"])
    spec = _spec(run)
    if len(s) and s["x"].notna().all():
        chosen = s["x"].to_numpy(dtype=float) > 0
        run["high_need"] = spec.describe()
    else:
        chosen = extraction.extract(s["score"].to_numpy(float), pd.to_numeric(s["urgent"]).fillna(0).to_numpy(dtype=bool),
                                    s["rank"].to_numpy(float), spec)
        run["high_need"] = spec.describe() + FALLBACK_TEXT
    return pd.DataFrame({"person_id": s.loc[chosen, "person_id"].to_numpy(), "target": target})


def _children(session) -> pd.DataFrame:
    where, params = session.district_filter_sql("district")
    rows = session.conn.execute(
        f"SELECT person_id, district, town FROM persons WHERE kind = 'child' AND resident_to IS NULL AND {where}",
        params).fetchall()
    frame = pd.DataFrame(rows, columns=["person_id", "district", "town"])
    frame["district"] = frame["district"].fillna("").replace("", UNKNOWN_DISTRICT)
    frame["town"] = frame["town"].fillna("")
    return frame


def _followups(conn, ids: set[str], before: str | None = None) -> pd.DataFrame:
    """Latest follow-up state per child (followed, in_support), followed by extraction.is_followed."""
    cut, params = ("WHERE recorded_at <= ?", [before]) if before else ("", [])
    rows = conn.execute(f"SELECT person_id, status FROM followups {cut} ORDER BY person_id, action_date, followup_id",
                        params).fetchall()
    nurse = pd.DataFrame(rows, columns=["person_id", "status"]).drop_duplicates("person_id", keep="last")
    rows = conn.execute("SELECT person_id, value_text FROM events WHERE type = 'assessment'"
                        " ORDER BY person_id, date, event_id").fetchall()
    asm = pd.DataFrame(rows, columns=["person_id", "status"]).drop_duplicates("person_id", keep="last")
    both = nurse.merge(asm, on="person_id", how="outer", suffixes=("_nurse", "_asm")).fillna("")
    both = both[both["person_id"].isin(ids)]
    return pd.DataFrame({
        "person_id": both["person_id"].to_numpy(),
        "followed": extraction.is_followed(both["status_nurse"].to_numpy(), both["status_asm"].to_numpy()),
        "in_support": (both["status_nurse"].eq(IN_SUPPORT) | both["status_asm"].str.contains("中|継続")).to_numpy()})


def _towns(session) -> pd.DataFrame:
    from app.engine.synth.geography import load_geography

    towns = load_geography().towns[["district", "town"]]
    visible = session.visible_districts()
    return towns if visible is None else towns[towns["district"].isin(visible)]


def _exact(session, run_index: int = -1, model: agg.VisitModel = agg.VisitModel()):
    """Exact figures (kept inside this module) and the runs used."""
    conn = session.conn
    children = _children(session)
    flagged, previous, used = [], [], {}
    for target in agg.TARGETS:
        runs = _runs(conn, target)
        if len(runs) >= -run_index:
            run = runs[run_index]
            used[target] = run
            flagged.append(_flagged(session, run, target))
            if len(runs) >= 1 - run_index:
                previous.append(_flagged(session, runs[run_index - 1], target))
    flagged_df = pd.concat(flagged, ignore_index=True) if flagged else pd.DataFrame(columns=["person_id", "target"])
    prev_df = pd.concat(previous, ignore_index=True) if previous else None
    cut = None
    if run_index != -1 and used:
        cut = max(str(r.get("created_at") or "") for r in used.values()) or None
    followups = _followups(conn, set(children["person_id"]), before=cut)
    visible = session.visible_districts()
    districts = all_districts() if visible is None else visible
    figures = agg.aggregate(children, flagged_df, followups, prev_df, model=model, districts=districts,
                            towns=_towns(session))
    return figures, used


def _suppress_for(session) -> bool:
    return session.role == roles.CHIEF or not session.can(roles.VIEW_CHILDREN)


@requires(roles.VIEW_AGGREGATES, data_class="aggregates")
def area_figures(session) -> AreaFigures:
    """Figures per district and town for every target, suppressed as the role requires."""
    figures, used = _exact(session)
    message = "" if used else "スコアリングの結果がまだありません（抽出数は0として表示）"
    session.audit("view_aggregates", "aggregates", list(used), {"suppressed": _suppress_for(session)})
    return AreaFigures(agg.suppress(figures, enabled=_suppress_for(session)), used, message)


@requires(roles.VIEW_AGGREGATES, data_class="aggregates")
def trend_figures(session, target: str = "abuse", last: int = 8) -> pd.DataFrame:
    """District figures for each of the last ``last`` runs of ``target`` (oldest first), suppressed.

    Columns: run_id, created_at, district, children, flagged, not_followed, visits and their
    ``_state`` columns. Follow-up state is the one recorded up to each run's creation.
    """
    runs = _runs(session.conn, target)
    out = []
    for i in range(max(0, len(runs) - last), len(runs)):
        figures, used = _exact(session, run_index=i - len(runs))
        s = agg.suppress(figures, enabled=_suppress_for(session))
        d = s.district[s.district["target"] == target].copy()
        d.insert(0, "run_id", runs[i]["run_id"])
        d.insert(1, "created_at", runs[i].get("created_at", ""))
        out.append(d)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


@requires(roles.PLAN_STAFFING, data_class="aggregates")
def staffing_proposal(session, target: str, staff: pd.DataFrame, total_nurses: int | None = None,
                      total_seniors: int | None = None, minimum: int = 1):
    """The allocation proposal on exact visits, returned with every hidden figure removed.

    ``staff``: district, nurses, seniors (current). Returns (Proposal, AreaFigures). The
    proposal's table carries only what the chief may see: visits and loads are NaN where
    the district's visits are suppressed (their ``visits_state`` says why).
    """
    exact, used = _exact(session)
    d = exact["district"][exact["district"]["target"] == target][["district", "children", "not_followed", "visits"]]
    # No nurse can be sent to an unknown district: it stays in the figures, not in the plan.
    d = d[d["district"] != UNKNOWN_DISTRICT]
    d = d.merge(staff[["district", "nurses", "seniors"]], on="district", how="left")
    proposal = propose(d, total_nurses, total_seniors, minimum)
    shown = agg.suppress(exact, enabled=_suppress_for(session))
    view = shown.district[shown.district["target"] == target].set_index("district")
    t = proposal.table.set_index("district")
    for col in ("children", "not_followed", "visits"):
        t[col] = view[col].reindex(t.index)
        t[col + "_state"] = view[col + "_state"].reindex(t.index).fillna("")
    # Loads from the shown (whole) visits, not the exact fractions: a load to one decimal
    # times the nurses would otherwise give back the exact visits the rounding withheld.
    t["load_before"] = load(t["visits"].to_numpy(float), t["nurses"].to_numpy(float))
    t["load_after"] = load(t["visits"].to_numpy(float), t["nurses_after"].to_numpy(float))
    shown_total = float(t["visits"].sum())
    t["quota"] = proposal.total_nurses * t["visits"] / shown_total if shown_total > 0 else 0.0
    hidden = t["visits_state"] != ""
    for col in ("load_before", "load_after", "quota"):
        t.loc[hidden, col] = np.nan
    t["flagged"] = view["flagged"].reindex(t.index)
    t["flagged_state"] = view["flagged_state"].reindex(t.index).fillna("")
    proposal.table = t.reset_index()
    session.audit("staffing_proposal", "aggregates", [target], {"nurses": proposal.total_nurses})
    return proposal, AreaFigures(shown, used)


DISTRICT_EXPORT_COLUMNS = {"children": "children", "flagged": "extracted", "not_followed": "extracted_not_followed"}


@requires(roles.VIEW_AGGREGATES, data_class="aggregates")
def district_export_frame(session, target: str = "abuse") -> pd.DataFrame:
    """One row per district: children, extracted (抽出), extracted_not_followed — each a whole
    number or, where the map hides it, its suppression mark (``<5`` / ``X``), as on the map."""
    figures, _used = _exact(session)
    shown = agg.suppress(figures, enabled=_suppress_for(session))
    d = shown.district[shown.district["target"] == target]
    out = pd.DataFrame({"district": d["district"].to_numpy()})
    for measure, name in DISTRICT_EXPORT_COLUMNS.items():
        values = d[measure].to_numpy(dtype=float)
        states = d[measure + "_state"].fillna("").to_numpy(dtype=object)
        out[name] = [state if state else str(int(v)) for v, state in zip(values, states)]
    return out


def run_label(run: dict | None) -> str:
    if not run:
        return ""
    from app.engine.japanese_time import format_date

    when = format_date(run.get("as_of") or run.get("created_at") or "")
    return f"実行 {run.get('run_id')}（{when}）" if when else f"実行 {run.get('run_id')}"


__all__ = ["AreaFigures", "area_figures", "trend_figures", "staffing_proposal", "district_export_frame", "run_label"]
