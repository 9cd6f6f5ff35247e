"""Scoring: evaluate a rule set over the events, keep the evidence, score, rank.

``evaluate(persons, events, relations, ruleset, as_of)`` returns a :class:`RunResult`:

* ``flags``     one row per (child, flag rule) evaluated: flagged, reason, threshold, dates;
* ``evidence``  event rows behind each flag (role ``trigger`` or ``context``);
* ``scores``    score = Σ weight × flag (関連スコア), probability calibrated on the score, rank, and
  the same for the order a role without the custody capability may see (``score_open``,
  ``rank_open``: without custody-derived rules), 抽出 under each order and 至急 (EPDS 問10);
* ``follow``    follow-up state from the assessment list and nurses' follow-up records, and —
  separately, for cg_manager only — whether the child is on the child-guidance list;
* ``metrics``   held-out validation when the list is available (see calibration.validate).

Children evaluated: ``kind == child``, resident on the as-of date, aged 0–83 calendar months.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.engine import calibration, disclosure, extraction
from app.engine.progress import Progress, ensure
from app.engine.rules.context import EvalContext
from app.engine.rules.evaluators import EVALUATORS, RuleOutput, event_types_read
from app.engine.rules.model import RuleSet

CUSTODY_LABEL_SUBTYPES = ("一時保護", "通告", "相談")
# read by every run whatever its rules: follow-up state, the list, 至急 (EPDS 問10)
RUN_EVENT_TYPES = frozenset({"assessment", "followup", "custody", "epds"})


def events_read(rulesets) -> set[str]:
    """Every event type a run of these rule sets reads: its rules' and the run's own."""
    return set(RUN_EVENT_TYPES).union(*(event_types_read(r) for rs in rulesets for r in rs.rules))


def columns_read(rulesets) -> dict[str, set[str]]:
    """Event columns read for some types only: column -> those types (empty: none).

    An event's household_id is read only by rules whose subject is the household
    (EvalContext.linked), its source_file/source_line only to pair a measurement with its
    checkup (cohort_percentile); every other column for every type (attrs too: reading it
    only for the few types that need it, by the type index, cost more at 200,000 children
    than the column itself, the rows being scattered over the file)."""
    rules = [r for rs in rulesets for r in rs.rules]
    household = set().union(*(event_types_read(r) for r in rules if r.get("subject") == "household"))
    lines = set().union(*(event_types_read(r) for r in rules if r.kind == "cohort_percentile"))
    return {"household_id": household, "source_file": lines, "source_line": lines}


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
    extraction: extraction.ExtractionSpec = field(default_factory=extraction.ExtractionSpec)

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
        # followed is decided from each kind's latest entry (extraction.is_followed, the one rule)
        latest = {kind: part[~part["_pos"].duplicated(keep="last")].set_index("_pos")["value_text"]
                  for kind, part in fu.groupby("type")}
        status_of = {kind: latest.get(kind, pd.Series(dtype=object)).reindex(range(n)).fillna("").to_numpy()
                     for kind in ("followup", "assessment")}
        out["followed"] = _per_distinct(extraction.is_followed, status_of["followup"], status_of["assessment"])
        out.loc[p, "follow_status"] = last["value_text"].fillna("").to_numpy()
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


def _per_distinct(fn, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``fn(a, b)`` of an element-wise function, computed once per distinct (a, b) pair (the
    texts of 200,000 children are a handful of statuses, mostly "")."""
    ca, ua = pd.factorize(pd.Series(a, dtype=object), use_na_sentinel=False)
    cb, ub = pd.factorize(pd.Series(b, dtype=object), use_na_sentinel=False)
    pair, inv = np.unique(ca.astype("int64") * max(len(ub), 1) + cb, return_inverse=True)
    once = np.asarray(fn(np.asarray(ua, dtype=object)[pair // max(len(ub), 1)],
                         np.asarray(ub, dtype=object)[pair % max(len(ub), 1)]))
    return once[inv.reshape(-1)]


def evaluate(persons: pd.DataFrame | None, events: pd.DataFrame | None, relations: pd.DataFrame | None,
             ruleset: RuleSet, as_of, progress: Progress | None = None, validate: bool = True,
             source_as_of: dict | None = None, context: EvalContext | None = None) -> RunResult:
    """Run a rule set over the frames of DATA_MODEL.md as of a date.

    ``context``: an :class:`EvalContext` built once over the same frames and date, to score
    several rule sets without preparing the children and events again (the frames are then
    not read)."""
    progress = ensure(progress)
    progress.step(0.0, "準備中")
    if context is None:
        ctx = EvalContext(persons, events, relations, as_of)
    else:
        ctx = context
        if ctx.as_of != pd.Timestamp(as_of).normalize():
            raise ValueError(f"context prepared for {ctx.as_of.date()}, not {as_of}")
    # what one rule set's rules produced; the prepared events and caches stay shared
    ctx.outputs = {}
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
    flags, evidence, ev_rows = _flags_and_evidence(ids, flag_rules, outputs, n)

    weights = {r.id: r.weight for r in flag_rules}
    score, score_open = _scores(matrix, weights, flag_rules)
    follow, labels = _follow_state(ctx)
    metrics: dict = {"children": int(n), "flagged_any": int(matrix.any(axis=1).sum()) if k else 0,
                     "list_children": int(labels.sum()),
                     # plain diagnostics per rule (empty code list, nothing matched) for the rules view
                     "rule_notes": {r.id: outputs[r.id].note for r in flag_rules if outputs[r.id].note}}
    prob = np.full(n, np.nan)
    if labels.sum() >= 2 and (n - labels.sum()) >= 2 and k:
        progress.step(0.85, "確率の推定中")
        prob = calibration.probability_on_score(score, labels)
        metrics["probability_model"] = "logistic regression on the score (Platt scaling): rises with the score"
    if validate and k:
        progress.step(0.9, "検証中")
        groups = {"district": ctx.children["district"], "nationality": ctx.children["nationality"]}
        metrics["validation"] = calibration.validate(matrix.astype(float), labels, weights, groups)
    scores, spec = _score_frame(ruleset, ctx, matrix, flag_rules, score, score_open, prob)
    metrics["extracted"] = int(scores["extracted"].sum())
    metrics["extracted_open"] = int(scores["extracted_open"].sum())
    metrics["urgent"] = int(scores["urgent"].sum())
    flags["disclosure"] = _flag_disclosure(ruleset, flag_rules, flags["flagged"].to_numpy(dtype=bool), evidence,
                                           np.concatenate(ev_rows) if ev_rows else np.zeros(0, dtype=int), ctx)
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
        source_as_of=dict(source_as_of or {}), extraction=spec)


def _flags_and_evidence(ids: pd.Index, flag_rules, outputs: dict, n: int):
    """One flags row per child and flag rule (rule after rule, ``n`` rows each), the evidence
    rows, and for each evidence row the number of its flags row."""
    k = len(flag_rules)
    # rule ids and threshold texts repeated as references to one string per rule: np.repeat of
    # a list makes a fixed-width unicode array first (5 M rows × the longest threshold text ×
    # 4 bytes: ~2 GB at 200,000 children) and then one new string object per row
    flags = pd.DataFrame({
        "person_id": np.tile(ids.to_numpy(), k),
        "rule_id": np.repeat(_objects([r.id for r in flag_rules]), n),
        "flagged": np.concatenate([outputs[r.id].flag for r in flag_rules]) if k else [],
        "reason": np.concatenate([outputs[r.id].reason for r in flag_rules]) if k else [],
        "threshold": np.repeat(_objects([outputs[r.id].threshold for r in flag_rules]), n),
        "first_date": np.concatenate([outputs[r.id].first_date for r in flag_rules]) if k else [],
        "last_date": np.concatenate([outputs[r.id].last_date for r in flag_rules]) if k else [],
    }, copy=False)  # fresh arrays: no second copy of five million rows to stack them into blocks
    ev_parts, ev_rows = [], []
    for j, r in enumerate(flag_rules):
        e = outputs[r.id].evidence
        if len(e):
            ev_parts.append(pd.DataFrame({"person_id": ids.to_numpy()[e["_pos"].to_numpy()], "rule_id": r.id,
                                          "event_id": e["event_id"].to_numpy(), "role": e["role"].to_numpy()}))
            ev_rows.append(j * n + e["_pos"].to_numpy())  # the flags row each evidence row belongs to
    evidence = (pd.concat(ev_parts, ignore_index=True) if ev_parts else
                pd.DataFrame(columns=["person_id", "rule_id", "event_id", "role"]))
    return flags, evidence, ev_rows


def _score_frame(ruleset: RuleSet, ctx: EvalContext, matrix: pd.DataFrame, flag_rules, score: np.ndarray,
                 score_open: np.ndarray, prob: np.ndarray):
    """Per child: score, probability, urgency, both orders (every rule / open rules only) and
    抽出 by the rule set's extraction spec; (scores, spec)."""
    ids, n, k = ctx.pos, ctx.n, len(flag_rules)
    spec = extraction.extraction_spec(ruleset.source_text)
    urgent, urgent_date = extraction.urgent_children(ctx.linked(["epds"], "mother"), n, ctx.as_of,
                                                     spec.urgent_months)
    flag_count = matrix.to_numpy(bool).sum(axis=1) if k else np.zeros(n, dtype=int)
    open_cols = [r.id for r in flag_rules if not r.restricted]
    open_count = matrix[open_cols].to_numpy(bool).sum(axis=1) if open_cols else np.zeros(n, dtype=int)
    rank = extraction.need_order(score, urgent, flag_count, ids.to_numpy())
    rank_open = extraction.need_order(score_open, urgent, open_count, ids.to_numpy())
    scores = pd.DataFrame({"person_id": ids.to_numpy(), "target": ruleset.target, "score": score,
                           "probability": prob, "rank": rank, "score_open": score_open, "rank_open": rank_open,
                           "extracted": extraction.extract(score, urgent, rank, spec),
                           "extracted_open": extraction.extract(score_open, urgent, rank_open, spec),
                           "urgent": urgent, "urgent_date": urgent_date})
    return scores, spec


def _objects(values: list) -> np.ndarray:
    """An object array of these values as they are (no fixed-width unicode copy)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _scores(matrix: pd.DataFrame, weights: dict[str, float], flag_rules) -> tuple[np.ndarray, np.ndarray]:
    """Σ weight × flag over every rule, and over the rules a role without the custody capability
    may see (no ``restricted`` rule): the second orders the list of such a role, so her order
    never rests on a flag hidden from her."""
    if not len(matrix.columns):
        return np.zeros(len(matrix)), np.zeros(len(matrix))
    m = matrix.to_numpy(float)
    w = np.array([weights[c] for c in matrix.columns])
    open_w = np.array([0.0 if r.restricted else weights[r.id] for r in flag_rules])
    return m @ w, m @ open_w


def _flag_disclosure(ruleset: RuleSet, flag_rules, fired: np.ndarray, evidence: pd.DataFrame,
                     evidence_row: np.ndarray, ctx: EvalContext) -> np.ndarray:
    """Per flag row, the strictest of its rule's class, the classes of the event types the rule
    reads, and the classes of this child's evidence rows (app/engine/disclosure.py's rules).

    The flags are rule after rule, ``ctx.n`` rows each; ``evidence_row`` is the flags row of
    each evidence row. Levels are compared as integers per row number (as disclosure.flag_classes
    does per person and rule, on five million string pairs at 200,000 children)."""
    floors = disclosure.rule_floors(ruleset, ctx.type_classes)
    level = np.repeat(np.array([disclosure.STRICTNESS[floors.get(r.id, disclosure.DEFAULT)] for r in flag_rules],
                               dtype=np.int8), ctx.n)
    if len(evidence) and fired.any():
        row_class = ctx.disclosure_of_events(evidence["event_id"].astype("int64").to_numpy())
        if row_class is not None:
            # a class the store does not know counts as the default, as in disclosure.flag_classes
            ev_level = pd.Series(row_class, dtype=object).map(disclosure.STRICTNESS).fillna(
                disclosure.STRICTNESS[disclosure.DEFAULT]).to_numpy(dtype=np.int8)
            top = np.zeros(len(level), dtype=np.int8)
            np.maximum.at(top, evidence_row, ev_level)
            level = np.where(fired, np.maximum(level, top), level)
    return np.asarray(disclosure.CLASSES, dtype=object)[level]


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
