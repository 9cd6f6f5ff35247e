"""Calibration: thresholds by the mode method, weights by logistic regression, validation.

* **Mode method (モード法)**: the threshold is the valley between the two peaks of a bimodal
  histogram (report §3, 注1). The histogram compared is the population's and the child-guidance
  list's distribution of the same value, each normalised to one and mixed half and half, so
  where the two diverge the mixture has two peaks and the valley separates them; the flagged
  side is the one where the list's density exceeds the population's. The valley is found the
  way scikit-image's ``threshold_minimum`` finds it (3-point smoothing until exactly two local
  maxima remain, then the lowest bin between them) — a test checks they agree. When the
  histogram never becomes bimodal the result says so and keeps the design threshold: a visible
  fallback, never a silent one.
* **Weights**: logistic regression, C chosen by stratified k-fold CV on AUC, of the list on the flags; the
  coefficients are the calibrated weights of score = Σ weight × flag.
* **Validation** on held-out children only: ROC AUC with a bootstrap CI, precision and recall at
  the top k, calibration (bins, Brier), and per district and per nationality.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

# scipy and scikit-learn are imported inside the functions that fit or measure: importing them
# costs ~1.7 s, and the working list (which only reads stored runs and this module's caution
# text) must not pay that between the password and the first list (measured: list after login
# 2.7 s → see docs/SCALE.md).

_MODELS = ("sklearn.linear_model", "sklearn.isotonic", "sklearn.metrics", "sklearn.model_selection")


def import_models_in_background() -> threading.Thread:
    """Start importing scikit-learn on another thread, for a caller about to spend a while
    waiting on something that releases the GIL (a scoring run reading the store: SQLite and
    pyarrow work without it), so the ~1 s import overlaps that wait instead of following it.

    Python's per-module import locks make a later ``import`` in the calling thread wait for
    this one to finish; a failure here is left for that import to raise."""
    def run():
        for name in _MODELS:
            try:
                importlib.import_module(name)
            except ImportError:
                return
    thread = threading.Thread(target=run, name="import-scikit-learn", daemon=True)
    thread.start()
    return thread


@dataclass
class ValleyResult:
    threshold: float | None   # bin centre of the valley; None when not bimodal
    bimodal: bool
    peaks: tuple[int, ...]
    iterations: int
    message: str = ""


def valley(counts, bin_centers=None, max_num_iter: int = 10000) -> ValleyResult:
    """The valley between the two peaks of a histogram (Prewitt & Mendelsohn; Glasbey 1993).

    Same algorithm and edge trimming as ``skimage.filters.threshold_minimum(hist=...)``.
    """
    from scipy import ndimage

    counts = np.asarray(counts, dtype=float)
    centers = np.arange(counts.size, dtype=float) if bin_centers is None else np.asarray(bin_centers, float)
    if counts.size and (counts[0] == 0 or counts[-1] == 0):
        nz = counts > 0
        if not nz.any():
            return ValleyResult(None, False, (), 0, "値がありません")
        start = int(np.argmax(nz))
        end = nz.size - int(np.argmax(nz[::-1]))
        counts, centers = counts[start:end], centers[start:end]

    def local_maxima(h):
        # a plateau counts once, as skimage does (scipy's argrelmax would miss plateaus)
        idx, direction = [], 1
        for i in range(h.shape[0] - 1):
            if direction > 0:
                if h[i + 1] < h[i]:
                    direction = -1
                    idx.append(i)
            elif h[i + 1] > h[i]:
                direction = 1
        return idx

    smooth = counts.astype("float32", copy=False)
    maxima: list[int] = []
    it = 0
    for it in range(max_num_iter):
        smooth = ndimage.uniform_filter1d(smooth, 3)
        maxima = local_maxima(smooth)
        if len(maxima) < 3:
            break
    if len(maxima) != 2:
        return ValleyResult(None, False, tuple(maxima), it + 1,
                            "分布に二つの山(二峰性)が見つからないため、モード法の閾値は求められません")
    if it == max_num_iter - 1:
        return ValleyResult(None, False, tuple(maxima), it + 1, "平滑化が収束しませんでした")
    t = int(np.argmin(smooth[maxima[0]:maxima[1] + 1]))
    return ValleyResult(float(centers[maxima[0] + t]), True, tuple(maxima), it + 1)


@dataclass
class ModeThreshold:
    rule_id: str
    method: str                   # "mode" or "fallback"
    op: str                       # ">=" or "<=" : the flagged side
    value: float | None           # threshold to apply (None: keep design)
    valley: float | None
    message: str
    bins: list = field(default_factory=list)
    population: list = field(default_factory=list)
    custody: list = field(default_factory=list)


def mode_method(population, custody, rule_id: str = "", design: tuple[str, float] | None = None,
                n_bins: int = 30) -> ModeThreshold:
    """Threshold of one value by the mode method, population vs child-guidance list.

    Integer-valued data (counts, EPDS totals) get one bin per integer; the valley bin is the
    last value *not* flagged, so the threshold is valley + 1 (≥) or valley − 1 (≤).
    """
    pop = np.asarray(population, dtype=float)
    pop = pop[~np.isnan(pop)]
    cus = np.asarray(custody, dtype=float)
    cus = cus[~np.isnan(cus)]
    design_op, design_value = design if design else (">=", None)
    if len(pop) < 10 or len(cus) < 5:
        return ModeThreshold(rule_id, "fallback", design_op, design_value, None,
                             f"データが少ないため({len(pop)}人/リスト{len(cus)}人)設計値を使用")
    integer = np.allclose(pop, np.round(pop)) and np.allclose(cus, np.round(cus))
    lo, hi = float(min(pop.min(), cus.min())), float(max(pop.max(), cus.max()))
    if integer:
        edges = np.arange(lo - 0.5, hi + 1.5, 1.0)
    else:
        edges = np.linspace(lo, hi, n_bins + 1) if hi > lo else np.array([lo - 0.5, lo + 0.5])
    centers = (edges[:-1] + edges[1:]) / 2
    hp = np.histogram(pop, edges)[0].astype(float)
    hc = np.histogram(cus, edges)[0].astype(float)
    mix = 0.5 * hp / hp.sum() + 0.5 * hc / hc.sum()
    res = valley(mix, centers)
    common = dict(bins=centers.tolist(), population=hp.tolist(), custody=hc.tolist())
    if not res.bimodal:
        return ModeThreshold(rule_id, "fallback", design_op, design_value, None,
                             res.message + "。設計値を使用", **common)
    high = cus.mean() >= pop.mean()
    step = 1.0 if integer else 0.0
    value = res.threshold + step if high else res.threshold - step
    return ModeThreshold(rule_id, "mode", ">=" if high else "<=", float(value), res.threshold,
                         f"谷 {res.threshold:g} ({'以上' if high else '以下'}がリスト側)", **common)


@dataclass
class WeightFit:
    weights: dict[str, float]
    intercept: float
    C: float
    cv_auc_mean: float
    cv_auc_sd: float
    model: LogisticRegression | None = None


def fit_weights(X: pd.DataFrame, y, folds: int = 5, seed: int = 0) -> WeightFit:
    """Logistic regression of the list on the flags, regularisation chosen by stratified CV."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    y = np.asarray(y, dtype=int)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    search = GridSearchCV(LogisticRegression(solver="liblinear", max_iter=2000), {"C": np.logspace(-3, 2, 8)}, cv=cv,
                          scoring="roc_auc")
    search.fit(X.to_numpy(dtype=float), y)
    lr = search.best_estimator_
    i = search.best_index_
    return WeightFit(dict(zip(X.columns, map(float, lr.coef_[0]))), float(lr.intercept_[0]),
                     float(search.best_params_["C"]), float(search.cv_results_["mean_test_score"][i]),
                     float(search.cv_results_["std_test_score"][i]), lr)


def out_of_fold_probability(X: pd.DataFrame, y, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Probability of being on the list for each child, each predicted by a model that did
    not see that child (so a listed child's own label does not raise its probability)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y = np.asarray(y, dtype=int)
    k = int(min(folds, y.sum(), (1 - y).sum()))
    if k < 2:
        return np.full(len(y), np.nan)
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    # liblinear: same L2 model, several times faster than lbfgs on a few binary columns
    return cross_val_predict(LogisticRegression(solver="liblinear", max_iter=2000), X.to_numpy(float), y, cv=cv,
                             method="predict_proba")[:, 1]


def probability_on_score(score, y) -> np.ndarray:
    """Probability of being on the list as a function of the score alone (Platt scaling).

    One logistic curve over the score, fitted on every child: a 1-parameter-plus-intercept model
    hardly learns any one child's label, and unlike a model over the flags (or folds fitted
    separately) it can only rise with the score. Should the fitted slope not be positive (a
    rule set whose score does not track the list at all) an isotonic fit keeps it
    non-decreasing rather than inverted.
    """
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y, dtype=int)
    x = np.asarray(score, dtype=float).reshape(-1, 1)
    if y.sum() == 0 or y.sum() == len(y):
        return np.full(len(y), np.nan)
    model = LogisticRegression(C=1e4, max_iter=2000).fit(x, y)
    if model.coef_[0, 0] > 0:
        return model.predict_proba(x)[:, 1]
    return IsotonicRegression(increasing=True, out_of_bounds="clip").fit(x[:, 0], y).predict(x[:, 0])


CAUTION_AUC = 0.6


def validation_caution(metrics: dict | None) -> str:
    """A plain-Japanese warning when the held-out AUC's 95 % interval reaches below 0.6 ("" otherwise).

    The score's own AUC is used when present (the list is ordered by the score)."""
    v = (metrics or {}).get("validation") or {}
    if v.get("status") != "ok":
        return ""
    auc, ci = (v.get("score_auc"), v.get("score_auc_ci95")) if v.get("score_auc_ci95") else (v.get("auc"), v.get("auc_ci95"))
    if not ci or ci[0] is None or not np.isfinite(ci[0]) or ci[0] >= CAUTION_AUC:
        return ""
    return (f"注意：この順位づけは、確かめた結果（AUC {auc:.2f}、95%信頼区間 {ci[0]:.2f}〜{ci[1]:.2f}）では"
            f"偶然と大きく違わない可能性があります。順位や確率は目安にとどめ、一人ひとりの状況を見て判断してください。")


def _auc(y, s) -> float:
    """ROC AUC (NaN with one class only): roc_auc_score's value, as the Mann–Whitney form."""
    y = np.asarray(y, int)
    return _auc_ranks(y, np.asarray(s, float)) if 0 < y.sum() < len(y) else float("nan")


def _auc_ranks(y: np.ndarray, s: np.ndarray) -> float:
    """Mann–Whitney form of the AUC (ties count half): the share of (positive, negative) pairs
    the score orders right — what roc_auc_score computes as the area under the ROC steps
    (tests/test_calibration_validation.py checks both agree on tied and untied data)."""
    y = np.asarray(y)
    inv = np.unique(np.asarray(s, float), return_inverse=True)[1].reshape(-1)
    return _auc_counts(np.bincount(inv, weights=y == 1)[None, :], np.bincount(inv, weights=y != 1)[None, :])[0]


def _auc_counts(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """AUC per row from counts of positives and negatives per distinct score (ascending).

    Twice the Mann–Whitney U is an integer (each pair counts 2, a tie 1), summed exactly in
    float64 below 2**53, so the one division is the only rounding — the same value as the sum
    of average ranks minus P(P+1)/2 divided by P·N."""
    below = np.cumsum(neg, axis=1) - neg
    u2 = (pos * (2 * below + neg)).sum(axis=1)
    return (u2 / 2) / (pos.sum(axis=1) * neg.sum(axis=1))


def bootstrap_auc(y, s, n_boot: int = 200, seed: int = 0) -> tuple[float, float, float]:
    """AUC and its 95 % percentile-bootstrap interval.

    Each resample is counted per distinct score (two bincounts) instead of ranked; the
    resamples are drawn exactly as before, one ``integers`` call per resample."""
    y = np.asarray(y, int)
    s = np.asarray(s, float)
    rng = np.random.default_rng(seed)
    inv = np.unique(s, return_inverse=True)[1].reshape(-1)
    k = int(inv.max()) + 1 if len(inv) else 0
    pos, allc = [], []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        if 0 < y[i].sum() < len(i):
            pos.append(np.bincount(inv[i], weights=y[i] == 1, minlength=k))
            allc.append(np.bincount(inv[i], minlength=k).astype(float))
    vals = _auc_counts(np.array(pos), np.array(allc) - np.array(pos)) if pos else []
    lo, hi = (np.percentile(vals, [2.5, 97.5]) if len(vals) else (np.nan, np.nan))
    return _auc(y, s), float(lo), float(hi)


def at_top_k(y, s, k: int) -> dict:
    """Precision and recall among the k highest scores (ties broken by order)."""
    y = np.asarray(y, int)
    order = np.argsort(-np.asarray(s, float), kind="stable")[:k]
    hits = int(y[order].sum())
    return {"k": int(k), "hits": hits, "precision": hits / max(k, 1), "recall": hits / max(int(y.sum()), 1)}


def calibration_bins(y, p, n_bins: int = 10) -> list[dict]:
    """Mean predicted vs observed rate in quantile bins of the probability."""
    frame = pd.DataFrame({"y": np.asarray(y, int), "p": np.asarray(p, float)})
    frame["bin"] = pd.qcut(frame["p"].rank(method="first"), n_bins, labels=False)
    g = frame.groupby("bin").agg(n=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    return [{k: (float(v) if k != "n" else int(v)) for k, v in row.items()} for row in g.to_dict("records")]


def _group_metrics(y, p, flagged_any, groups: pd.Series, top_share: float) -> dict:
    frame = pd.DataFrame({"y": y, "p": p, "f": flagged_any, "g": groups.fillna("不明").to_numpy()})
    cut = np.quantile(frame["p"], 1 - top_share)
    frame["top"] = frame["p"] >= cut
    out = {}
    for name, part in frame.groupby("g"):
        top = part[part["top"]]
        out[str(name)] = {
            "n": int(len(part)), "positives": int(part["y"].sum()),
            "flag_rate": float(part["f"].mean()),
            "top_share": float(part["top"].mean()),
            "precision_in_top": float(top["y"].mean()) if len(top) else None,
            "auc": _auc(part["y"].to_numpy(), part["p"].to_numpy()) if part["y"].sum() >= 5 and
            (len(part) - part["y"].sum()) >= 5 else None,
        }
    return out


def validate(X: pd.DataFrame, y, weights: dict[str, float], groups: dict[str, pd.Series] | None = None,
             test_size: float = 0.3, seed: int = 0, ks=(50, 100, 200), n_boot: int = 200,
             top_share: float = 0.1) -> dict:
    """Held-out validation a manager can read.

    The children are split (stratified); the probability model is fitted on the training part
    only; every figure below is computed on the held-out part: AUC (+ 95 % bootstrap CI) of the
    probability and of the rule-set score Σ weight × flag, precision/recall at k, calibration
    bins and Brier score, and per group (district, nationality): flag rate, share in the top
    ``top_share``, precision there, AUC where the group has ≥5 of each class.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss
    from sklearn.model_selection import train_test_split

    y = np.asarray(y, int)
    if y.sum() < 10 or (len(y) - y.sum()) < 10:
        return {"status": "insufficient_labels", "positives": int(y.sum()), "n": int(len(y))}
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=test_size, stratify=y, random_state=seed)
    Xv = X.to_numpy(float)
    model = LogisticRegression(solver="liblinear", max_iter=2000).fit(Xv[tr], y[tr])
    p = model.predict_proba(Xv[te])[:, 1]
    w = np.array([weights.get(c, 0.0) for c in X.columns])
    score = Xv[te] @ w
    yt = y[te]
    auc, lo, hi = bootstrap_auc(yt, p, n_boot, seed)
    sauc, slo, shi = bootstrap_auc(yt, score, n_boot, seed + 1)
    out = {
        "status": "ok", "n_train": int(len(tr)), "n_test": int(len(te)), "positives_test": int(yt.sum()),
        "prevalence": float(y.mean()),
        "auc": auc, "auc_ci95": [lo, hi],
        "score_auc": sauc, "score_auc_ci95": [slo, shi],
        "top_k": [at_top_k(yt, p, k) for k in ks if k <= len(te)],
        "score_top_k": [at_top_k(yt, score, k) for k in ks if k <= len(te)],
        "brier": float(brier_score_loss(yt, p)),
        "calibration": calibration_bins(yt, p),
    }
    flagged_any = (Xv[te].sum(axis=1) > 0).astype(float)
    for name, g in (groups or {}).items():
        out[f"by_{name}"] = _group_metrics(yt, p, flagged_any, g.iloc[te].reset_index(drop=True), top_share)
    return out
