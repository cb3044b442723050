"""Forecast scoring and aggregation of the ML for Improved Decision-Making chapter
(mlsafety.brier_decomposition, mlsafety.aggregate_forecasts, mlsafety.interval_coverage)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mlsafety

decompose, aggregate, coverage = mlsafety.brier_decomposition, mlsafety.aggregate_forecasts, mlsafety.interval_coverage


# --- brier_decomposition -------------------------------------------------------------------------


@pytest.mark.parametrize("n_bins", [2, 5, 11, 21])
def test_identity_is_exact_when_forecasts_equal_bin_values(n_bins: int) -> None:
    rng = np.random.default_rng(n_bins)
    probs = rng.integers(0, n_bins, 5_000) / (n_bins - 1)
    outcomes = (rng.random(5_000) < probs).astype(float)
    rel, res, unc = decompose(probs, outcomes, n_bins)
    assert np.mean((probs - outcomes) ** 2) == pytest.approx(rel - res + unc, abs=1e-12)


def test_identity_is_exact_when_a_bins_forecasts_coincide_off_the_bin_values() -> None:
    # the terms use each bin's mean forecast, so equality within bins suffices (Murphy's partition)
    rng = np.random.default_rng(3)
    probs = 0.02 + 0.96 * rng.integers(0, 11, 5_000) / 10  # one value per bin, none a bin value
    outcomes = (rng.random(5_000) < probs).astype(float)
    rel, res, unc = decompose(probs, outcomes, 11)
    assert np.mean((probs - outcomes) ** 2) == pytest.approx(rel - res + unc, abs=1e-12)


def test_hand_computed_example() -> None:
    # bin 0.2: outcomes 0, 1 (frequency 0.5); bin 0.8: outcomes 1, 1 (frequency 1); base rate 0.75
    d = decompose([0.2, 0.2, 0.8, 0.8], [0, 1, 1, 1], n_bins=11)
    assert d.reliability == pytest.approx(0.5 * 0.3**2 + 0.5 * 0.2**2)  # 0.065
    assert d.resolution == pytest.approx(0.5 * 0.25**2 + 0.5 * 0.25**2)  # 0.0625
    assert d.uncertainty == pytest.approx(0.75 * 0.25)  # 0.1875
    assert d.reliability - d.resolution + d.uncertainty == pytest.approx(0.19)  # the Brier score by hand


def test_base_rate_forecaster_has_no_reliability_error_and_no_resolution() -> None:
    outcomes = np.array([1, 0, 0, 1, 0, 1, 0, 0, 0, 1] * 10, dtype=float)  # base rate 0.4, a bin value
    rel, res, unc = decompose(np.full(100, 0.4), outcomes)
    assert rel == pytest.approx(0.0, abs=1e-15) and res == pytest.approx(0.0, abs=1e-15)
    assert unc == pytest.approx(0.24)


def test_perfect_forecaster_has_resolution_equal_to_uncertainty() -> None:
    outcomes = np.array([0, 1, 1, 0, 1], dtype=float)
    rel, res, unc = decompose(outcomes, outcomes)
    assert rel == pytest.approx(0.0) and res == pytest.approx(unc) == pytest.approx(0.24)


def test_residual_off_grid_equals_the_two_within_bin_terms() -> None:
    """Off the bin values, BS - (REL - RES + UNC) = within-bin variance - 2 * within-bin covariance."""
    rng = np.random.default_rng(0)
    probs = rng.random(3_000)
    outcomes = (rng.random(3_000) < probs).astype(float)
    rel, res, unc = decompose(probs, outcomes, n_bins=6)
    bins = np.rint(probs * 5).astype(int)
    wbv = wbc = 0.0
    for b in np.unique(bins):
        p, o = probs[bins == b], outcomes[bins == b]
        wbv += np.sum((p - p.mean()) ** 2) / len(probs)
        wbc += np.sum((p - p.mean()) * (o - o.mean())) / len(probs)
    residual = np.mean((probs - outcomes) ** 2) - (rel - res + unc)
    assert residual == pytest.approx(wbv - 2 * wbc, abs=1e-12)
    assert abs(residual) > 1e-6  # it really is not exact here


def test_overconfidence_raises_reliability_not_resolution() -> None:
    rng = np.random.default_rng(1)
    truth = rng.random(20_000)
    outcomes = (rng.random(20_000) < truth).astype(float)
    z = np.log(truth) - np.log1p(-truth)
    calibrated = decompose(np.round(truth, 1), outcomes)
    overconfident = decompose(np.round(1 / (1 + np.exp(-3 * z)), 1), outcomes)
    assert overconfident.reliability > calibrated.reliability + 0.01
    assert abs(overconfident.resolution - calibrated.resolution) < 0.01


def test_decomposition_accepts_tensors_and_booleans() -> None:
    probs, outcomes = torch.tensor([0.1, 0.9, 0.5]), torch.tensor([False, True, True])
    assert tuple(decompose(probs, outcomes)) == pytest.approx(tuple(decompose([0.1, 0.9, 0.5], [0, 1, 1])))


@pytest.mark.parametrize(
    "probs, outcomes, n_bins, match",
    [
        ([0.5, 1.2], [0, 1], 11, r"\[0, 1\]"),
        ([-0.1, 0.5], [0, 1], 11, r"\[0, 1\]"),
        ([0.5, float("nan")], [0, 1], 11, "finite"),
        ([0.5, 0.5, 0.5], [0, 1], 11, "mismatched lengths"),
        ([0.5, 0.5], [0, 2], 11, "0 or 1"),
        ([], [], 11, "empty"),
        ([0.5, 0.5], [0, 1], 1, "n_bins"),
        ([0.5, 0.5], [0, 1], 2.5, "n_bins"),
        ([0.5, 0.5], [0, 1], True, "n_bins"),
    ],
)
def test_decomposition_rejects_bad_input(probs, outcomes, n_bins, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        decompose(probs, outcomes, n_bins)


# --- aggregate_forecasts -------------------------------------------------------------------------


def test_mean_median_and_logodds_by_hand() -> None:
    assert aggregate([0.2, 0.4, 0.9], "mean") == pytest.approx(0.5)
    assert aggregate([0.2, 0.4, 0.9], "median") == pytest.approx(0.4)
    # mean log-odds of 0.9 and 0.99 = log of the geometric mean of the odds 9 and 99
    odds = np.sqrt(9 * 99)
    assert aggregate([0.9, 0.99], "logodds") == pytest.approx(odds / (1 + odds))
    assert aggregate([0.9, 0.99], "mean") == pytest.approx(0.945)


def test_returns_a_float_for_one_question_and_an_array_per_question_for_a_matrix() -> None:
    one = aggregate([0.3, 0.5])
    assert isinstance(one, float)
    many = aggregate(np.array([[0.2, 0.4, 0.9], [0.5, 0.5, 0.8]]), "median")
    assert many.shape == (2,)
    assert many == pytest.approx([0.4, 0.5])


@pytest.mark.parametrize("method", ["mean", "median", "logodds"])
def test_extremising_pushes_away_from_one_half(method: str) -> None:
    for forecasts in ([0.6, 0.7, 0.75], [0.1, 0.3, 0.2], [0.55, 0.52, 0.51]):
        plain = aggregate(forecasts, method)
        pushed = aggregate(forecasts, method, extremize=2.5)
        shrunk = aggregate(forecasts, method, extremize=0.5)
        assert abs(pushed - 0.5) > abs(plain - 0.5) > abs(shrunk - 0.5)
        assert np.sign(pushed - 0.5) == np.sign(plain - 0.5) == np.sign(shrunk - 0.5)
    assert aggregate([0.3, 0.7], method, extremize=3.0) == pytest.approx(0.5)  # 0.5 is a fixed point


def test_extremising_matches_the_power_formula() -> None:
    p, a = 0.7, 2.0
    assert aggregate([p], "mean", extremize=a) == pytest.approx(p**a / (p**a + (1 - p) ** a))


def test_certain_forecasts_are_clipped_not_infinite() -> None:
    assert aggregate([0.0, 1.0], "logodds") == pytest.approx(0.5)
    assert 0.999 < aggregate([1.0, 1.0], "logodds", extremize=2.0) <= 1.0
    assert aggregate(torch.tensor([0.0, 0.0]), "mean") < 1e-5


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"probs": [0.5, 1.5]}, r"\[0, 1\]"),
        ({"probs": [0.5, float("nan")]}, "finite"),
        ({"probs": []}, "empty"),
        ({"probs": [0.5], "method": "geometric"}, "method"),
        ({"probs": [0.5], "extremize": 0.0}, "extremize"),
        ({"probs": [0.5], "extremize": -1.0}, "extremize"),
        ({"probs": [0.5], "extremize": float("inf")}, "extremize"),
        ({"probs": [0.5], "eps": 0.0}, "eps"),
    ],
)
def test_aggregate_rejects_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        aggregate(**kwargs)


# --- interval_coverage ---------------------------------------------------------------------------


def test_coverage_by_hand_with_closed_endpoints() -> None:
    lower, upper = [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]
    assert coverage(lower, upper, [0.0, 1.0, 0.5, 1.5]) == pytest.approx(0.75)
    assert coverage(torch.tensor([-1.0, 2.0]), torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0])) == pytest.approx(0.5)


def test_gaussian_quantile_intervals_cover_at_their_level() -> None:
    rng = np.random.default_rng(0)
    y = rng.standard_normal(50_000)
    assert coverage(np.full_like(y, -1.6449), np.full_like(y, 1.6449), y) == pytest.approx(0.90, abs=0.01)


@pytest.mark.parametrize(
    "lower, upper, outcomes, match",
    [
        ([0.0, 0.0], [1.0], [0.5, 0.5], "mismatched lengths"),
        ([0.0, 2.0], [1.0, 1.0], [0.5, 0.5], "lower <= upper"),
        ([0.0], [float("inf")], [0.5], "finite"),
        ([], [], [], "empty"),
    ],
)
def test_coverage_rejects_bad_input(lower, upper, outcomes, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        coverage(lower, upper, outcomes)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_functions_accept_tensors_on_cuda() -> None:
    dev = torch.device("cuda")
    probs = torch.tensor([0.1, 0.9, 0.5, 0.5], device=dev)
    outcomes = torch.tensor([0.0, 1.0, 1.0, 0.0], device=dev)
    assert tuple(decompose(probs, outcomes)) == pytest.approx(tuple(decompose(probs.cpu(), outcomes.cpu())))
    assert aggregate(probs, "logodds") == pytest.approx(aggregate(probs.cpu(), "logodds"))
    assert coverage(probs - 0.25, probs + 0.25, outcomes) == pytest.approx(0.5)
