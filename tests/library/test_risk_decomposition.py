"""Unit tests of the functions saved by book/hazard-analysis/risk-decomposition.md."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

import mlsafety

# --- nines -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reliability", "expected"), [(0.9, 1.0), (0.99, 2.0), (0.999, 3.0), (0.999999, 6.0), (0.5, math.log10(2))]
)
def test_nines_values(reliability: float, expected: float) -> None:
    assert mlsafety.nines(reliability) == pytest.approx(expected, abs=1e-9)


def test_nines_is_exact_for_round_reliabilities_and_increasing() -> None:
    assert mlsafety.nines(0.999) == 3.0  # rounding removes the floating-point residue of 1 - 0.999
    values = [mlsafety.nines(r) for r in (0.1, 0.5, 0.9, 0.95, 0.99, 0.995)]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert isinstance(mlsafety.nines(np.float64(0.99)), float)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5, float("nan"), float("inf")])
def test_nines_rejects_values_outside_the_open_unit_interval(bad: float) -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        mlsafety.nines(bad)


# --- risk --------------------------------------------------------------------------------------


def test_risk_of_one_hazard_is_the_product_of_its_factors() -> None:
    value = mlsafety.risk(0.01, 0.5, 0.2, severity=1000.0)
    assert isinstance(value, float)
    assert value == pytest.approx(0.01 * 0.5 * 0.2 * 1000.0)
    assert mlsafety.risk(0.3, 1.0, 1.0) == pytest.approx(0.3)  # severity defaults to 1


def test_risk_divides_by_the_ability_to_cope() -> None:
    base = mlsafety.risk(0.1, 0.5, 0.5, severity=100.0)
    assert mlsafety.risk(0.1, 0.5, 0.5, severity=100.0, ability_to_cope=None) == base
    assert mlsafety.risk(0.1, 0.5, 0.5, severity=100.0, ability_to_cope=4.0) == pytest.approx(base / 4)
    assert mlsafety.risk(0.1, 0.5, 0.5, severity=100.0, ability_to_cope=1e-6) > 1e5 * base


def test_risk_works_per_hazard_on_arrays_and_broadcasts_scalars() -> None:
    p = np.array([1e-4, 5e-3, 2e-3])
    v = np.array([0.4, 0.15, 0.5])
    s = np.array([1e6, 2e4, 3e4])
    out = mlsafety.risk(p, 1.0, v, severity=s, ability_to_cope=[1.0, 2.0, 1.0])
    assert isinstance(out, np.ndarray) and out.shape == (3,)
    np.testing.assert_allclose(out, p * v * s / np.array([1.0, 2.0, 1.0]))
    assert np.all(mlsafety.risk(p, 0.0, v, severity=s) == 0)  # no exposure, no risk


def test_risk_zero_and_one_are_valid_probabilities() -> None:
    assert mlsafety.risk(0.0, 1.0, 1.0, severity=5.0) == 0.0
    assert mlsafety.risk(1.0, 1.0, 1.0, severity=5.0) == 5.0


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(hazard_prob=1.2, exposure=0.5, vulnerability=0.5), "hazard_prob"),
        (dict(hazard_prob=0.1, exposure=-0.1, vulnerability=0.5), "exposure"),
        (dict(hazard_prob=0.1, exposure=0.5, vulnerability=float("nan")), "vulnerability"),
        (dict(hazard_prob=[0.1, 2.0], exposure=0.5, vulnerability=0.5), "hazard_prob"),
        (dict(hazard_prob=0.1, exposure=0.5, vulnerability=0.5, severity=-1.0), "severity"),
        (dict(hazard_prob=0.1, exposure=0.5, vulnerability=0.5, severity=float("inf")), "severity"),
        (dict(hazard_prob=0.1, exposure=0.5, vulnerability=0.5, ability_to_cope=0.0), "ability_to_cope"),
        (dict(hazard_prob=0.1, exposure=0.5, vulnerability=0.5, ability_to_cope=-2.0), "ability_to_cope"),
    ],
)
def test_risk_rejects_invalid_factors_and_names_them(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        mlsafety.risk(**kwargs)


def test_risk_rejects_shapes_that_do_not_broadcast() -> None:
    with pytest.raises(ValueError, match="broadcast"):
        mlsafety.risk([0.1, 0.2, 0.3], [0.5, 0.5], 0.5)


# --- samples_to_demonstrate --------------------------------------------------------------------


def test_zero_failure_count_matches_the_closed_form_and_the_rule_of_three() -> None:
    assert mlsafety.samples_to_demonstrate(0.01) == 299  # ceil(ln 0.05 / ln 0.99) = ceil(298.07)
    for eps in (1e-3, 1e-6, 1e-9):
        n = mlsafety.samples_to_demonstrate(eps)
        assert n * eps == pytest.approx(-math.log(0.05), rel=1e-3)  # about 3 / eps

        def survive(m: int, eps: float = eps) -> float:  # (1 - eps) ** m without rounding 1 - eps
            return math.exp(m * math.log1p(-eps))

        assert survive(n) <= 0.05 < survive(n - 1)  # the smallest such n


@pytest.mark.parametrize("failures", [1, 2, 5, 10])
@pytest.mark.parametrize("eps", [0.05, 1e-3])
def test_with_failures_it_is_the_smallest_n_passing_the_binomial_test(failures: int, eps: float) -> None:
    n = mlsafety.samples_to_demonstrate(eps, confidence=0.95, failures=failures)
    assert binom.cdf(failures, n, eps) <= 0.05 < binom.cdf(failures, n - 1, eps)


def test_more_failures_or_confidence_or_nines_need_more_samples() -> None:
    base = mlsafety.samples_to_demonstrate(1e-3)
    assert mlsafety.samples_to_demonstrate(1e-3, failures=1) > base
    assert mlsafety.samples_to_demonstrate(1e-3, confidence=0.99) > base
    assert mlsafety.samples_to_demonstrate(1e-4) > 9.9 * base
    assert mlsafety.samples_to_demonstrate(1e-3, confidence=0.5) < base


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(failure_rate=0.0), "failure_rate"),
        (dict(failure_rate=1.0), "failure_rate"),
        (dict(failure_rate=1e-3, confidence=1.0), "confidence"),
        (dict(failure_rate=1e-3, confidence=0.0), "confidence"),
        (dict(failure_rate=1e-3, failures=-1), "failures"),
        (dict(failure_rate=1e-3, failures=1.5), "failures"),
        (dict(failure_rate=1e-3, failures=True), "failures"),
    ],
)
def test_samples_to_demonstrate_rejects_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        mlsafety.samples_to_demonstrate(**kwargs)
