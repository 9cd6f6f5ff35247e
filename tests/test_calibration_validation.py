"""Weights by logistic regression, held-out validation figures, top-k and calibration bins."""

import numpy as np
import pandas as pd
import pytest

from app.engine.calibration import at_top_k, bootstrap_auc, calibration_bins, fit_weights, validate


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(3)
    n = 3000
    X = pd.DataFrame({"strong": rng.random(n) < 0.2, "weak": rng.random(n) < 0.3,
                      "noise": rng.random(n) < 0.25}).astype(float)
    logit = -3 + 2.0 * X["strong"] + 0.7 * X["weak"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    groups = {"district": pd.Series(np.where(rng.random(n) < 0.5, "本庁", "追浜")),
              "nationality": pd.Series(np.where(rng.random(n) < 0.9, "日本", "ベトナム"))}
    return X, y, groups


def test_fit_weights_orders_the_signal(synthetic):
    X, y, _ = synthetic
    fit = fit_weights(X, y)
    assert fit.weights["strong"] > fit.weights["weak"] > abs(fit.weights["noise"])
    assert 0.6 < fit.cv_auc_mean < 0.9


def test_validate_on_held_out_part(synthetic):
    X, y, groups = synthetic
    v = validate(X, y, {"strong": 2.0, "weak": 0.7, "noise": 0.0}, groups, n_boot=50)
    assert v["n_test"] == pytest.approx(0.3 * len(y), abs=2)
    assert v["auc_ci95"][0] < v["auc"] < v["auc_ci95"][1]
    assert set(v["by_district"]) == {"本庁", "追浜"}
    assert sum(b["n"] for b in v["calibration"]) == v["n_test"]
    assert v["top_k"][0]["k"] == 50


def test_validate_refuses_without_labels():
    X = pd.DataFrame({"a": [0.0, 1.0] * 20})
    assert validate(X, np.zeros(40), {"a": 1.0})["status"] == "insufficient_labels"


def test_top_k_and_bins_by_hand():
    y = np.array([1, 0, 1, 0, 0, 0])
    s = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.3])
    assert at_top_k(y, s, 2) == {"k": 2, "hits": 1, "precision": 0.5, "recall": 0.5}
    assert at_top_k(y, s, 3)["recall"] == 1.0
    bins = calibration_bins(y, s, n_bins=2)
    assert [b["n"] for b in bins] == [3, 3] and bins[1]["observed"] == pytest.approx(2 / 3)
    auc, lo, hi = bootstrap_auc(y, s, n_boot=20)
    assert auc == pytest.approx(7 / 8) and lo <= hi  # 0.7 ranks below the negative 0.8


def test_rank_auc_equals_sklearn_with_ties():
    from sklearn.metrics import roc_auc_score
    from app.engine.calibration import _auc_ranks
    rng = np.random.default_rng(5)
    y = (rng.random(500) < 0.2).astype(int)
    s = np.round(rng.random(500) + 0.2 * y, 1)  # many ties
    assert _auc_ranks(y, s) == pytest.approx(roc_auc_score(y, s))


def test_auc_equals_roc_auc_score_on_random_data():
    """_auc replaced sklearn's roc_auc_score (whose input checks cost more than the AUC): the
    same value on tied and untied scores, balanced and rare positives."""
    from sklearn.metrics import roc_auc_score
    from app.engine.calibration import _auc
    rng = np.random.default_rng(11)
    for trial in range(60):
        n = int(rng.integers(10, 2000))
        y = (rng.random(n) < rng.uniform(0.03, 0.5)).astype(int)
        if not 0 < y.sum() < n:
            continue
        s = rng.random(n) + 0.3 * y
        if trial % 2:
            s = np.round(s, int(rng.integers(0, 3)))  # ties
        assert _auc(y, s) == pytest.approx(roc_auc_score(y, s), rel=0, abs=1e-12)
    assert np.isnan(_auc(np.zeros(5, int), np.arange(5.0)))


def test_bootstrap_counts_equal_ranking_each_resample():
    """The vectorised bootstrap gives, bit for bit, the interval of ranking every resample."""
    from scipy.stats import rankdata
    rng = np.random.default_rng(4)
    y = (rng.random(700) < 0.1).astype(int)
    s = np.round(rng.random(700) + 0.2 * y, 2)
    r = np.random.default_rng(9)
    vals = []
    for _ in range(80):
        i = r.integers(0, len(y), len(y))
        yi, si = y[i], s[i]
        if 0 < yi.sum() < len(i):
            p = int(yi.sum())
            vals.append((rankdata(si)[yi == 1].sum() - p * (p + 1) / 2) / (p * (len(i) - p)))
    _, lo, hi = bootstrap_auc(y, s, n_boot=80, seed=9)
    assert (lo, hi) == tuple(float(v) for v in np.percentile(vals, [2.5, 97.5]))
