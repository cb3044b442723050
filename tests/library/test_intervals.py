"""Seed and bootstrap intervals (mlsafety.seed_interval, mlsafety.bootstrap_interval)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

import mlsafety


def test_seed_interval_matches_the_t_interval_by_hand() -> None:
    values = [0.91, 0.93, 0.90, 0.94, 0.92]
    mean, low, high = mlsafety.seed_interval(values)
    half = stats.t.ppf(0.975, 4) * np.std(values, ddof=1) / np.sqrt(5)
    assert mean == pytest.approx(0.92)
    assert (low, high) == pytest.approx((0.92 - half, 0.92 + half))


def test_seed_interval_widens_with_confidence_and_accepts_tensors() -> None:
    values = torch.tensor([1.0, 2.0, 4.0])
    _, low90, high90 = mlsafety.seed_interval(values, confidence=0.9)
    _, low99, high99 = mlsafety.seed_interval(values, confidence=0.99)
    assert low99 < low90 < high90 < high99


@pytest.mark.parametrize("values, confidence", [([1.0], 0.95), ([1.0, float("nan")], 0.95), ([1.0, 2.0], 1.0)])
def test_seed_interval_rejects_bad_input(values: list, confidence: float) -> None:
    with pytest.raises(ValueError):
        mlsafety.seed_interval(values, confidence=confidence)


def test_bootstrap_interval_covers_the_mean_and_shrinks_with_n() -> None:
    rng = np.random.default_rng(0)
    small, large = rng.normal(1.0, 1.0, 50), rng.normal(1.0, 1.0, 2000)
    est_s, lo_s, hi_s = mlsafety.bootstrap_interval(np.mean, small)
    est_l, lo_l, hi_l = mlsafety.bootstrap_interval(np.mean, large)
    assert lo_s < est_s < hi_s and lo_l < 1.0 < hi_l
    assert hi_l - lo_l < (hi_s - lo_s) / 3  # about sqrt(40) times narrower
    # the percentile interval of a mean is close to the normal approximation
    se = large.std(ddof=1) / np.sqrt(len(large))
    assert hi_l - lo_l == pytest.approx(2 * 1.96 * se, rel=0.15)


def test_paired_bootstrap_keeps_rows_together() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(0.0, 1.0, 300)
    b = a + 0.1  # a constant difference: every paired resample gives exactly 0.1
    est, low, high = mlsafety.bootstrap_interval(lambda u, v: float(np.mean(v - u)), a, b)
    assert est == pytest.approx(0.1) and low == pytest.approx(0.1) and high == pytest.approx(0.1)


def test_bootstrap_interval_is_seeded() -> None:
    x = np.arange(20.0)
    assert mlsafety.bootstrap_interval(np.mean, x, seed=3) == mlsafety.bootstrap_interval(np.mean, x, seed=3)
    assert mlsafety.bootstrap_interval(np.mean, x, seed=3) != mlsafety.bootstrap_interval(np.mean, x, seed=4)


@pytest.mark.parametrize(
    "arrays, kwargs",
    [
        ((), {}),
        (([1.0],), {}),
        (([1.0, 2.0], [1.0]), {}),
        (([1.0, 2.0],), {"confidence": 0.0}),
        (([1.0, 2.0],), {"n_resamples": 10}),
    ],
)
def test_bootstrap_interval_rejects_bad_input(arrays: tuple, kwargs: dict) -> None:
    with pytest.raises(ValueError):
        mlsafety.bootstrap_interval(np.mean, *arrays, **kwargs)
