"""Unit tests of the accident-model tools saved by book/hazard-analysis/accident-models.md."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlsafety
from mlsafety import FailureMode, fmea_table, swiss_cheese_failure_rate


def _modes() -> list[FailureMode]:
    return [
        FailureMode("a", "rare catastrophe", "death", 10, 2, 2),  # RPN 40
        FailureMode("b", "common nuisance", "annoyance", 4, 8, 8),  # RPN 256
        FailureMode("c", "middling", "delay", 5, 4, 2),  # RPN 40, lower severity
    ]


def test_rpn_is_the_product_of_the_ratings() -> None:
    assert FailureMode("x", "y", "z", 7, 3, 9).rpn == 7 * 3 * 9


@pytest.mark.parametrize("ratings", [(0, 5, 5), (5, 11, 5), (5, 5, 2.5), (5, -1, 5)])
def test_ratings_outside_1_to_10_are_rejected(ratings: tuple) -> None:
    with pytest.raises(ValueError):
        FailureMode("x", "y", "z", *ratings)


def test_fmea_table_sorts_by_rpn_and_breaks_ties_by_severity() -> None:
    lines = fmea_table(_modes()).splitlines()
    assert lines[0].split()[:4] == ["RPN", "S", "O", "D"]
    assert set(lines[1]) == {"-"}
    body = [line.split()[:2] for line in lines[2:]]
    assert body == [["256", "4"], ["40", "10"], ["40", "5"]]
    assert all(len(line) <= len(lines[1]) for line in lines)


def test_fmea_table_can_sort_by_severity_first() -> None:
    body = fmea_table(_modes(), sort_by="severity").splitlines()[2:]
    assert [line.split()[1] for line in body] == ["10", "5", "4"]
    with pytest.raises(ValueError):
        fmea_table(_modes(), sort_by="occurrence")


def test_independent_layers_multiply() -> None:
    probs = [0.3, 0.2, 0.5]
    rate = swiss_cheese_failure_rate(probs, 400_000, common_cause=0.0, seed=1)
    exact = math.prod(probs)
    assert abs(rate - exact) < 4 * math.sqrt(exact * (1 - exact) / 400_000)


def test_single_layer_rate_is_its_hole_probability_at_any_correlation() -> None:
    for rho in (0.0, 0.5, 1.0):
        rate = swiss_cheese_failure_rate([0.25], 200_000, common_cause=rho, seed=2)
        assert abs(rate - 0.25) < 0.01


def test_fully_shared_holes_make_the_stack_as_good_as_its_best_layer() -> None:
    rate = swiss_cheese_failure_rate([0.4, 0.1, 0.3], 200_000, common_cause=1.0, seed=3)
    assert abs(rate - 0.1) < 0.005


def test_correlation_erodes_defence_in_depth_monotonically() -> None:
    rates = [swiss_cheese_failure_rate([0.2] * 4, 200_000, common_cause=rho, seed=4) for rho in (0.0, 0.3, 0.6, 0.9)]
    assert all(a < b for a, b in zip(rates, rates[1:], strict=False))
    assert rates[-1] > 20 * rates[0]


def test_edge_probabilities_and_seeding() -> None:
    assert swiss_cheese_failure_rate([0.0, 0.5], 10_000) == 0.0
    assert swiss_cheese_failure_rate([1.0, 1.0], 10_000) == 1.0
    first = swiss_cheese_failure_rate([0.3, 0.3], 50_000, common_cause=0.4, seed=5)
    again = swiss_cheese_failure_rate([0.3, 0.3], 50_000, common_cause=0.4, seed=5)
    other = swiss_cheese_failure_rate([0.3, 0.3], 50_000, common_cause=0.4, seed=6)
    assert first == again and first != other


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(hole_probs=[]),
        dict(hole_probs=[1.2]),
        dict(hole_probs=[0.2], common_cause=1.5),
        dict(hole_probs=[0.2], n_trials=0),
    ],
)
def test_invalid_arguments_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        swiss_cheese_failure_rate(**kwargs)


def test_tools_are_exported_at_the_top_level() -> None:
    for name in ("FailureMode", "fmea_table", "swiss_cheese_failure_rate"):
        assert name in mlsafety.__all__
    assert np.isfinite(swiss_cheese_failure_rate([0.5], 1_000))
