"""District and town aggregates for the map and the staffing plan — never individual rows.

Every function requires VIEW_AGGREGATES (or PLAN_STAFFING) and returns counts per area only.
Suppression (``app/engine/aggregates.py``: <5 and complementary) is applied for every role
that may not see individual children (the chief, data_admin); a role that may open the
working list anyway (cg_manager) gets exact figures, since suppression would hide nothing
from it. Areas are limited to ``session.visible_districts()``.

What is counted:
- children: persons of kind ``child`` still resident (``resident_to`` empty);
- flagged ("high need") for a target, in the newest run of that target: the child is in the
  top ``top_share`` (default ``TOP_SHARE`` = 10 %) of the run's own ranking with a score above
  zero — ``scores.rank <= ceil(top_share × runs.children)`` and ``scores.score > 0``. Most
  children carry at least one single rule flag (the report's eight items fire widely), so
  "one flag or more" would count most of the city; the scoring engineer defines no cut of
  its own in the run, and this one follows theirs where they draw one: ``compare_runs`` puts a
  child "on the list" when ranked within the top k with a score above zero, and
  ``calibration.validate`` reports each district's share in the top 10 %. A share of the
  run (not a fixed k) keeps the cut meaningful at any city size. A run without scores (an
  older store) falls back to "at least one rule flagged", and the figures say so;
- followed: a follow-up record other than 未対応, or an assessment whose フォロー状況 says
  済/中/継続 (as the working list counts it); in support: latest status 支援中(ケース化);
- change: flagged now minus flagged in the run before (same target).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.engine import aggregates as agg
from app.engine.staffing import load, propose
from app.store import roles
from app.store.areas import all_districts
from app.store.queries import requires

ASSESSMENT_FOLLOWED = ("済", "中", "継続")
TOP_SHARE = 0.10
HIGH_NEED_TEXT = "抽出 = 実行のスコア順位で上位{share:.0%}（スコア0より大）"
FALLBACK_TEXT = "この実行にはスコアがないため、抽出 = ルールが1つ以上該当"
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


def _table_exists(conn, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


def _columns(conn, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def _runs(conn, target: str) -> list[dict]:
    """Runs of ``target``, oldest first (run_id, created_at, as_of); [] without a runs table."""
    if not _table_exists(conn, "runs"):
        return []
    cols = _columns(conn, "runs")
    key = "run_id" if "run_id" in cols else "rowid"
    wanted = [c for c in ("created_at", "as_of", "children") if c in cols]
    where, params = ("WHERE target = ?", [target]) if "target" in cols else ("", [])
    rows = conn.execute(f"SELECT {key}{''.join(', ' + c for c in wanted)} FROM runs {where} ORDER BY {key}",
                        params).fetchall()
    return [dict(zip(["run_id", *wanted], r)) for r in rows]


def _flagged(conn, run: dict, target: str, top_share: float = TOP_SHARE) -> pd.DataFrame:
    """The run's high-need children (see the module docstring): top ``top_share`` by rank, score > 0."""
    run_id = run["run_id"]
    has_scores = _table_exists(conn, "scores") and conn.execute(
        "SELECT 1 FROM scores WHERE run_id = ? LIMIT 1", (run_id,)).fetchone() is not None
    if has_scores:
        total = run.get("children") or conn.execute("SELECT COUNT(*) FROM scores WHERE run_id = ?",
                                                    (run_id,)).fetchone()[0]
        k = int(np.ceil(top_share * int(total)))
        rows = conn.execute("SELECT person_id FROM scores WHERE run_id = ? AND rank <= ? AND score > 0",
                            (run_id, k)).fetchall()
    else:
        cols = _columns(conn, "flags")
        where, params = ("run_id = ?", [run_id]) if "run_id" in cols else ("1=1", [])
        flag_col = "flagged" if "flagged" in cols else "1"
        rows = conn.execute(f"SELECT DISTINCT person_id FROM flags WHERE {where} AND {flag_col}", params).fetchall()
    run["high_need"] = HIGH_NEED_TEXT.format(share=top_share) if has_scores else FALLBACK_TEXT
    return pd.DataFrame({"person_id": [r[0] for r in rows], "target": target})


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
    """Latest follow-up state per child (followed, in_support, contacted)."""
    frames = []
    if _table_exists(conn, "followups"):
        cut, params = ("WHERE recorded_at <= ?", [before]) if before else ("", [])
        rows = conn.execute(f"SELECT person_id, status FROM followups {cut} ORDER BY person_id, action_date, followup_id",
                            params).fetchall()
        f = pd.DataFrame(rows, columns=["person_id", "status"]).drop_duplicates("person_id", keep="last")
        frames.append(pd.DataFrame({"person_id": f["person_id"], "followed": f["status"] != NOT_FOLLOWED,
                                    "in_support": f["status"] == IN_SUPPORT}))
    if _table_exists(conn, "events"):
        rows = conn.execute("SELECT person_id, value_text FROM events WHERE type = 'assessment'"
                            " ORDER BY person_id, date, event_id").fetchall()
        a = pd.DataFrame(rows, columns=["person_id", "status"]).drop_duplicates("person_id", keep="last")
        s = a["status"].fillna("")
        frames.append(pd.DataFrame({"person_id": a["person_id"],
                                    "followed": s.str.contains("|".join(ASSESSMENT_FOLLOWED)) & ~s.str.contains("未"),
                                    "in_support": s.str.contains("中|継続")}))
    if not frames:
        return pd.DataFrame(columns=["person_id", "followed", "in_support"])
    both = pd.concat(frames, ignore_index=True)
    both = both[both["person_id"].isin(ids)]
    return both.groupby("person_id", as_index=False)[["followed", "in_support"]].any()


def _towns(session) -> pd.DataFrame:
    from app.engine.synth.geography import load_geography

    towns = load_geography().towns[["district", "town"]]
    visible = session.visible_districts()
    return towns if visible is None else towns[towns["district"].isin(visible)]


def _exact(session, top_share: float = TOP_SHARE, run_index: int = -1, model: agg.VisitModel = agg.VisitModel()):
    """Exact figures (kept inside this module) and the runs used."""
    conn = session.conn
    children = _children(session)
    flagged, previous, used = [], [], {}
    has_flags = _table_exists(conn, "flags")
    for target in agg.TARGETS:
        runs = _runs(conn, target) if has_flags else []
        if len(runs) >= -run_index:
            run = runs[run_index]
            used[target] = run
            flagged.append(_flagged(conn, run, target, top_share))
            if len(runs) >= 1 - run_index:
                previous.append(_flagged(conn, runs[run_index - 1], target, top_share))
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
def area_figures(session, top_share: float = TOP_SHARE) -> AreaFigures:
    """Figures per district and town for every target, suppressed as the role requires."""
    figures, used = _exact(session, top_share)
    message = "" if used else "スコアリングの結果がまだありません（抽出数は0として表示）"
    session.audit("view_aggregates", "aggregates", list(used), {"suppressed": _suppress_for(session)})
    return AreaFigures(agg.suppress(figures, enabled=_suppress_for(session)), used, message)


@requires(roles.VIEW_AGGREGATES, data_class="aggregates")
def trend_figures(session, target: str = "abuse", top_share: float = TOP_SHARE, last: int = 8) -> pd.DataFrame:
    """District figures for each of the last ``last`` runs of ``target`` (oldest first), suppressed.

    Columns: run_id, created_at, district, children, flagged, not_followed, visits and their
    ``_state`` columns. Follow-up state is the one recorded up to each run's creation.
    """
    runs = _runs(session.conn, target) if _table_exists(session.conn, "flags") else []
    out = []
    for i in range(max(0, len(runs) - last), len(runs)):
        figures, used = _exact(session, top_share, run_index=i - len(runs))
        s = agg.suppress(figures, enabled=_suppress_for(session))
        d = s.district[s.district["target"] == target].copy()
        d.insert(0, "run_id", runs[i]["run_id"])
        d.insert(1, "created_at", runs[i].get("created_at", ""))
        out.append(d)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


@requires(roles.PLAN_STAFFING, data_class="aggregates")
def staffing_proposal(session, target: str, staff: pd.DataFrame, total_nurses: int | None = None,
                      total_seniors: int | None = None, minimum: int = 1, top_share: float = TOP_SHARE):
    """The allocation proposal on exact visits, returned with every hidden figure removed.

    ``staff``: district, nurses, seniors (current). Returns (Proposal, AreaFigures). The
    proposal's table carries only what the chief may see: visits and loads are NaN where
    the district's visits are suppressed (their ``visits_state`` says why).
    """
    exact, used = _exact(session, top_share)
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


def run_label(run: dict | None) -> str:
    if not run:
        return ""
    when = str(run.get("as_of") or run.get("created_at") or "")[:10]
    return f"実行 {run.get('run_id')}（{when}）" if when else f"実行 {run.get('run_id')}"


__all__ = ["AreaFigures", "area_figures", "trend_figures", "staffing_proposal", "run_label"]
