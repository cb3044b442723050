"""Unit tests of the tail-statistics tools saved in the Black Swans chapter."""

from __future__ import annotations

import numpy as np
import pytest

import mlsafety


def test_survival_function_sorts_and_counts() -> None:
    x, surv = mlsafety.survival_function(np.array([3.0, 1.0, 2.0, 5.0]))
    assert np.array_equal(x, [5.0, 3.0, 2.0, 1.0])
    assert np.allclose(surv, [0.25, 0.5, 0.75, 1.0])  # fraction at least as large as each value


def test_survival_function_of_pareto_has_slope_minus_alpha() -> None:
    rng = np.random.default_rng(0)
    x, surv = mlsafety.survival_function(rng.pareto(2.0, 200_000) + 1.0)
    # between the 10 % and 0.1 % tails, log S falls by alpha per unit of log x
    upper, lower = np.searchsorted(surv, 1e-3), np.searchsorted(surv, 1e-1)
    slope = np.log(surv[upper] / surv[lower]) / np.log(x[upper] / x[lower])
    assert -2.2 < slope < -1.8


def test_top_share_limits() -> None:
    assert mlsafety.top_share(np.ones(1000), 0.01) == pytest.approx(0.01)
    one_giant = np.concatenate([np.ones(999), [1e9]])
    assert mlsafety.top_share(one_giant, 0.001) > 0.999
    # a fraction too small for one sample still counts the largest sample
    assert mlsafety.top_share(np.array([1.0, 1.0, 2.0]), 1e-6) == pytest.approx(0.5)


def test_top_share_orders_thin_and_heavy_tails() -> None:
    rng = np.random.default_rng(1)
    thin = np.abs(rng.standard_normal(100_000))
    heavy = rng.pareto(1.1, 100_000) + 1.0
    assert mlsafety.top_share(heavy, 0.01) > 5 * mlsafety.top_share(thin, 0.01)


def test_mean_excess_matches_theory() -> None:
    rng = np.random.default_rng(2)
    expo = rng.exponential(2.0, 400_000)
    assert mlsafety.mean_excess(expo, 1.0) == pytest.approx(2.0, rel=0.03)  # memoryless
    assert mlsafety.mean_excess(expo, 8.0) == pytest.approx(2.0, rel=0.1)
    pareto = rng.pareto(3.0, 400_000) + 1.0
    for u in (2.0, 5.0):  # u / (alpha - 1) for a Pareto tail
        assert mlsafety.mean_excess(pareto, u) == pytest.approx(u / 2.0, rel=0.1)
    with pytest.raises(ValueError):
        mlsafety.mean_excess(expo, expo.max() + 1.0)


@pytest.mark.parametrize("alpha", [0.8, 1.5, 3.0])
def test_hill_recovers_pareto_index(alpha: float) -> None:
    rng = np.random.default_rng(3)
    sample = rng.pareto(alpha, 200_000) + 1.0
    assert mlsafety.hill_estimator(sample, 5_000) == pytest.approx(alpha, rel=0.05)


def test_hill_scalar_and_array_k_agree() -> None:
    rng = np.random.default_rng(4)
    sample = rng.pareto(2.0, 10_000) + 1.0
    ks = np.array([10, 100, 1_000])
    many = mlsafety.hill_estimator(sample, ks)
    assert isinstance(many, np.ndarray) and many.shape == (3,)
    singles = [mlsafety.hill_estimator(sample, int(k)) for k in ks]
    assert all(isinstance(v, float) for v in singles)
    assert np.allclose(many, singles)
    # the direct formula of the chapter's equation
    top = np.sort(sample)[::-1]
    direct = 100 / np.sum(np.log(top[:100] / top[100]))
    assert many[1] == pytest.approx(direct)


def test_hill_plot_rises_for_a_lognormal_but_not_a_power_law() -> None:
    rng = np.random.default_rng(5)
    logn = rng.lognormal(0.0, 1.0, 200_000)
    power = rng.pareto(1.5, 200_000) + 1.0
    assert mlsafety.hill_estimator(logn, 200) > 1.4 * mlsafety.hill_estimator(logn, 20_000)
    ratio = mlsafety.hill_estimator(power, 200) / mlsafety.hill_estimator(power, 20_000)
    assert 0.75 < ratio < 1.25


def test_hill_rejects_bad_input() -> None:
    sample = np.arange(1.0, 11.0)
    with pytest.raises(ValueError):
        mlsafety.hill_estimator(sample, 0)
    with pytest.raises(ValueError):
        mlsafety.hill_estimator(sample, 10)
    with pytest.raises(ValueError):
        mlsafety.hill_estimator(np.array([3.0, 2.0, 0.0, -1.0]), 2)
