"""The mode method (valley between two peaks) agrees with scikit-image and falls back visibly."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from skimage.filters import threshold_minimum

from app.engine.calibration import mode_method, valley


def _bimodal(rng, n1, n2, m1, m2, s):
    return np.concatenate([rng.normal(m1, s, n1), rng.normal(m2, s, n2)])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(200, 3000), st.integers(50, 1000),
       st.floats(5, 10), st.floats(18, 25), st.integers(20, 60))
def test_valley_agrees_with_skimage_threshold_minimum(seed, n1, n2, m1, m2, bins):
    rng = np.random.default_rng(seed)
    x = _bimodal(rng, n1, n2, m1, m2, 2.0)
    counts, edges = np.histogram(x, bins)
    centers = (edges[:-1] + edges[1:]) / 2
    ours = valley(counts, centers)
    try:
        theirs = threshold_minimum(hist=(counts, centers))
    except RuntimeError:
        assert not ours.bimodal
        return
    assert ours.bimodal
    assert ours.threshold == pytest.approx(theirs)


def test_valley_on_plain_counts_with_zero_edges():
    counts = np.array([0, 0, 5, 30, 12, 3, 2, 9, 25, 8, 0])
    assert valley(counts).threshold == threshold_minimum(hist=counts)


def test_unimodal_falls_back_visibly():
    rng = np.random.default_rng(1)
    pop = np.round(rng.normal(5, 2, 5000)).clip(0, 30)
    lst = np.round(rng.normal(5.3, 2, 300)).clip(0, 30)
    res = mode_method(pop, lst, "epds", design=(">=", 13))
    assert res.method == "fallback" and res.value == 13 and res.op == ">="
    assert "二峰性" in res.message


def test_mode_method_population_vs_list_finds_the_side_of_the_list():
    rng = np.random.default_rng(2)
    pop = np.round(rng.normal(5, 2.5, 8000)).clip(0, 30)
    lst = np.round(rng.normal(16, 2.5, 400)).clip(0, 30)
    res = mode_method(pop, lst, "epds", design=(">=", 13))
    assert res.method == "mode" and res.op == ">="
    assert 8 <= res.value <= 13
    # the integer valley bin itself is the last unflagged value
    assert res.value == res.valley + 1
    low = mode_method(-pop, -lst, "x")
    assert low.op == "<=" and low.value == -res.value


def test_too_few_values_fall_back():
    res = mode_method([1, 2, 3], [4], "x", design=(">=", 2))
    assert res.method == "fallback" and "少ない" in res.message
