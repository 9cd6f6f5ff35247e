"""Scoring: evaluate a rule set over the events, keep the evidence, score, rank.

``evaluate(persons, events, relations, ruleset, as_of)`` returns a :class:`RunResult`:

* ``flags``     one row per (child, flag rule) evaluated: flagged, reason, threshold, dates;
* ``evidence``  event rows behind each flag (role ``trigger`` or ``context``);
* ``scores``    score = Σ weight × flag (関連スコア), calibrated probability, rank;
* ``follow``    follow-up state from the assessment list and nurses' follow-up records, and —
  separately, for cg_manager only — whether the child is on the child-guidance list;
* ``metrics``   held-out validation when the list is available (see calibration.validate).

Children evaluated: ``kind == child``, resident on the as-of date, aged 0–83 calendar months.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.engine import calibration
from app.engine.progress import Progress, ensure
from app.engine.rules.context import EvalContext
from app.engine.rules.evaluators import EVALUATORS, RuleOutput
from app.engine.rules.model import RuleSet

# assessment フォロー状況 values meaning the centre is (or was) following the family
FOLLOWED_MARKERS = ("済", "中", "継続")
CUSTODY_LABEL_SUBTYPES = ("一時保護", "通告", "相談")


@dataclass
class RunResult:
    ruleset_id: str
    ruleset_version: int
    target: str
    as_of: pd.Timestamp
    children: pd.DataFrame          # person_id, district, town, nationality, sex, age_months, household_id
    matrix: pd.DataFrame            # index person_id, one bool column per flag rule
    values: pd.DataFrame            # index person_id, the value each threshold was compared with
    flags: pd.DataFrame
    evidence: pd.DataFrame
    scores: pd.DataFrame
    follow: pd.DataFrame
    thresholds: dict[str, str]
    weights: dict[str, float]
    restricted: dict[str, str | None]
    labels: np.ndarray | None = None  # on the child-guidance list (custody-derived!)
    metrics: dict = field(default_factory=dict)
    source_as_of: dict = field(default_factory=dict)

    def flag_counts(self, by_label: bool = True) -> pd.DataFrame:
        """Flagged children per rule, split by list membership (table 7-36 layout)."""
        m = self.matrix
        if not by_label or self.labels is None:
            return m.sum().to_frame("flagged")
        lab = self.labels.astype(bool)
        return pd.DataFrame({"list_flagged": m[lab].sum(), "list_not": (~m[lab]).sum(),
                             "other_flagged": m[~lab].sum(), "other_not": (~m[~lab]).sum()})


def _follow_state(ctx: EvalContext) -> tuple[pd.DataFrame, np.ndarray]:
    n = ctx.n
    ids = ctx.pos
    out = pd.DataFrame({"person_id": ids, "followed": False, "follow_status": "",
                        "follow_date": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]"),
                        "follow_source": "", "on_custody_list": False,
                        "custody_first_date": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")})
    fu = ctx.linked(["assessment", "followup"]).sort_values(["_pos", "date", "event_id"])
    if len(fu):
        last = fu[~fu["_pos"].duplicated(keep="last")]
        p = last["_pos"].to_numpy()
        status = last["value_text"].fillna("")
        is_followed = status.str.contains("|".join(FOLLOWED_MARKERS)) & ~status.str.contains("未")
        # A nurse's own follow-up record means the family was reached — unless its status
        # still says not yet handled (未対応).
        is_followed |= last["type"].eq("followup") & status.ne("") & ~status.str.startswith("未")
        out.loc[p, "followed"] = is_followed.to_numpy()
        out.loc[p, "follow_status"] = status.to_numpy()
        out.loc[p, "follow_date"] = last["date"].to_numpy()
        out.loc[p, "follow_source"] = last["type"].map({"assessment": "アセスメント", "followup": "フォロー記録"}).to_numpy()
    cu = ctx.linked(["custody"])
    cu = cu[cu["subtype"].isin(CUSTODY_LABEL_SUBTYPES) | (cu["subtype"] == "")]
    labels = np.zeros(n, dtype=bool)
    if len(cu):
        first = cu.groupby("_pos")["date"].min()
        labels[first.index.to_numpy()] = True
        out.loc[first.index.to_numpy(), "on_custody_list"] = True
        out.loc[first.index.to_numpy(), "custody_first_date"] = first.to_numpy()
    return out, labels


def evaluate(persons: pd.DataFrame, events: pd.DataFrame, relations: pd.DataFrame | None,
             ruleset: RuleSet, as_of, progress: Progress | None = None, validate: bool = True,
             source_as_of: dict | None = None) -> RunResult:
    """Run a rule set over the frames of DATA_MODEL.md as of a date."""
    progress = ensure(progress)
    progress.step(0.0, "準備中")
    ctx = EvalContext(persons, events, relations, as_of)
    ctx.set_all_persons(persons)
    ctx.labels = {r.id: r.label for r in ruleset.rules}
    rules = list(ruleset.rules)
    # combine rules read the outputs of the others: evaluate them last
    order = [r for r in rules if r.kind != "combine"] + [r for r in rules if r.kind == "combine"]
    outputs: dict[str, RuleOutput] = {}
    for i, rule in enumerate(order):
        progress.step(0.05 + 0.75 * i / max(len(order), 1), f"判定中: {rule.label}")
        outputs[rule.id] = EVALUATORS[rule.kind](ctx, rule)
        ctx.outputs[rule.id] = outputs[rule.id]
    progress.step(0.8, "スコア計算中")
    flag_rules = [r for r in rules if r.role == "flag"]
    ids = ctx.pos
    matrix = pd.DataFrame({r.id: outputs[r.id].flag for r in flag_rules}, index=ids)
    values = pd.DataFrame({r.id: outputs[r.id].value for r in flag_rules}, index=ids)

    n, k = ctx.n, len(flag_rules)
    flags = pd.DataFrame({
        "person_id": np.tile(ids.to_numpy(), k),
        "rule_id": np.repeat([r.id for r in flag_rules], n),
        "flagged": np.concatenate([outputs[r.id].flag for r in flag_rules]) if k else [],
        "reason": np.concatenate([outputs[r.id].reason for r in flag_rules]) if k else [],
        "threshold": np.repeat([outputs[r.id].threshold for r in flag_rules], n),
        "first_date": np.concatenate([outputs[r.id].first_date for r in flag_rules]) if k else [],
        "last_date": np.concatenate([outputs[r.id].last_date for r in flag_rules]) if k else [],
    })
    ev_parts = []
    for r in flag_rules:
        e = outputs[r.id].evidence
        if len(e):
            ev_parts.append(pd.DataFrame({"person_id": ids.to_numpy()[e["_pos"].to_numpy()], "rule_id": r.id,
                                          "event_id": e["event_id"].to_numpy(), "role": e["role"].to_numpy()}))
    evidence = (pd.concat(ev_parts, ignore_index=True) if ev_parts else
                pd.DataFrame(columns=["person_id", "rule_id", "event_id", "role"]))

    weights = {r.id: r.weight for r in flag_rules}
    w = np.array([weights[c] for c in matrix.columns])
    score = matrix.to_numpy(float) @ w if k else np.zeros(n)
    follow, labels = _follow_state(ctx)
    metrics: dict = {"children": int(n), "flagged_any": int(matrix.any(axis=1).sum()) if k else 0,
                     "list_children": int(labels.sum())}
    prob = np.full(n, np.nan)
    if labels.sum() >= 2 and (n - labels.sum()) >= 2 and k:
        progress.step(0.85, "確率の推定中")
        prob = calibration.out_of_fold_probability(matrix.astype(float), labels)
        metrics["probability_model"] = "logistic regression on the flags, out-of-fold (5-fold)"
    if validate and k:
        progress.step(0.9, "検証中")
        groups = {"district": ctx.children["district"], "nationality": ctx.children["nationality"]}
        metrics["validation"] = calibration.validate(matrix.astype(float), labels, weights, groups)
    # rank 1 = highest score; ties by probability, then research id for a stable order
    order_idx = np.lexsort((ids.to_numpy(), -np.nan_to_num(prob, nan=-1.0), -score))
    rank = np.empty(n, dtype=int)
    rank[order_idx] = np.arange(1, n + 1)
    scores = pd.DataFrame({"person_id": ids.to_numpy(), "target": ruleset.target, "score": score,
                           "probability": prob, "rank": rank})
    ch = ctx.children
    children = pd.DataFrame({"person_id": ids.to_numpy(), "district": ch["district"].to_numpy(),
                             "town": ch["town"].to_numpy(), "nationality": ch["nationality"].to_numpy(),
                             "sex": ch["sex"].to_numpy(), "age_months": ch["age"].to_numpy().astype(int),
                             "household_id": ch["household_id"].to_numpy(),
                             "moved_in": ch["moved_in"].to_numpy()})
    progress.step(1.0, "完了")
    return RunResult(
        ruleset_id=ruleset.id, ruleset_version=ruleset.version, target=ruleset.target, as_of=ctx.as_of,
        children=children, matrix=matrix, values=values, flags=flags, evidence=evidence, scores=scores,
        follow=follow, thresholds={r.id: outputs[r.id].threshold for r in flag_rules}, weights=weights,
        restricted={r.id: r.restricted for r in flag_rules}, labels=labels, metrics=metrics,
        source_as_of=dict(source_as_of or {}))


def calibrate(persons, events, relations, ruleset: RuleSet, as_of, progress: Progress | None = None) -> dict:
    """Mode-method thresholds for the rules marked ``calibrate``, logistic weights, validation.

    Returns a JSON-ready dict; nothing is changed in the rule set (a data_admin applies it).
    """
    progress = ensure(progress)
    res = evaluate(persons, events, relations, ruleset, as_of, progress.sub(0, 0.6), validate=False)
    labels = res.labels
    thresholds = []
    for r in ruleset.flag_rules:
        if not r.calibrate:
            continue
        agg = r.get("aggregate") or {}
        design = (agg.get("op", r.get("op", ">=")), agg.get("value", r.get("value")))
        vals = res.values[r.id].to_numpy()
        mt = calibration.mode_method(vals, vals[labels], r.id, design)
        thresholds.append(mt.__dict__)
    progress.step(0.7, "重みの推定中")
    out = {"ruleset": {"id": ruleset.id, "version": ruleset.version, "target": ruleset.target},
           "as_of": str(res.as_of.date()), "children": int(res.matrix.shape[0]),
           "list_children": int(labels.sum()), "thresholds": thresholds}
    if labels.sum() >= 10:
        fit = calibration.fit_weights(res.matrix.astype(float), labels)
        out["weights"] = {"coefficients": fit.weights, "intercept": fit.intercept, "C": fit.C,
                          "cv_auc_mean": fit.cv_auc_mean, "cv_auc_sd": fit.cv_auc_sd}
        progress.step(0.85, "検証中")
        groups = {"district": res.children["district"], "nationality": res.children["nationality"]}
        out["validation_design_weights"] = calibration.validate(res.matrix.astype(float), labels, res.weights, groups)
        out["validation_fitted_weights"] = calibration.validate(res.matrix.astype(float), labels, fit.weights, groups)
    else:
        out["weights"] = {"status": "insufficient_labels"}
    out["flag_counts"] = res.flag_counts().to_dict(orient="index")
    progress.step(1.0, "完了")
    return out
