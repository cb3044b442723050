"""Unit tests for the tools saved from book/x-risk/safety-capabilities-balance.md."""

import numpy as np
import pytest
import torch
from torch import nn

from mlsafety import capability_correlation, load_digits_data, safety_metric_panel, train_model_family

PANEL_KEYS = {
    "clean_accuracy",
    "corruption_accuracy",
    "relative_corruption_error",
    "anomaly_auroc",
    "ece",
    "brier",
    "adversarial_accuracy",
    "adversarial_retention",
}


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    data = load_digits_data(seed=0)
    known_train, known_test = data.y_train < 6, data.y_test < 6
    return (
        data.x_train[known_train],
        data.y_train[known_train],
        data.x_test[known_test],
        data.y_test[known_test],
        data.x_test[~known_test],
    )


def test_capability_correlation_of_monotone_and_reversed_metrics() -> None:
    capability = np.linspace(0.3, 0.9, 12)
    rho, low, high = capability_correlation(capability, capability**3, n_resamples=200)
    assert rho == pytest.approx(1.0) and low == pytest.approx(1.0) and high == pytest.approx(1.0)
    rho, _, high = capability_correlation(capability, -np.exp(capability), n_resamples=200)
    assert rho == pytest.approx(-1.0) and high == pytest.approx(-1.0)


def test_capability_correlation_is_a_rank_correlation_with_an_interval() -> None:
    rng = np.random.default_rng(0)
    capability = rng.normal(size=200)
    unrelated = rng.normal(size=200)
    rho, low, high = capability_correlation(capability, unrelated, n_resamples=300)
    assert low < rho < high and low < 0 < high and abs(rho) < 0.2
    noisy = capability + 0.5 * rng.normal(size=200)
    rho, low, high = capability_correlation(capability, noisy, n_resamples=300)
    assert 0.7 < low < rho < high < 1.0
    # invariant to monotone transformations of either argument
    assert capability_correlation(np.exp(capability), noisy**3, n_resamples=300)[0] == pytest.approx(rho)


def test_capability_correlation_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="same models"):
        capability_correlation([0.1, 0.2, 0.3], [0.1, 0.2])
    with pytest.raises(ValueError, match="at least 3"):
        capability_correlation([0.1, 0.2], [0.3, 0.4])
    with pytest.raises(ValueError, match="finite"):
        capability_correlation([0.1, 0.2, np.nan], [0.3, 0.4, 0.5])
    with pytest.raises(ValueError, match="vary"):
        capability_correlation([0.1, 0.2, 0.3], [0.5, 0.5, 0.5])


def test_model_family_has_one_trained_model_per_width_and_seed(digits) -> None:
    x, y, x_test, y_test, _ = digits
    family = train_model_family(x, y, widths=(2, 64), seeds=(0, 1), depth=2, epochs=3)
    assert [(m["width"], m["seed"]) for m in family] == [(2, 0), (2, 1), (64, 0), (64, 1)]
    assert family[0]["params"] == 64 * 2 + 2 + 2 * 2 + 2 + 2 * 6 + 6
    assert all(isinstance(m["model"], nn.Module) for m in family)
    # different seeds give different initial weights, hence different models
    w0, w1 = (next(iter(m["model"].parameters())) for m in family[2:])
    assert not torch.equal(w0, w1)


def test_model_family_rejects_bad_input(digits) -> None:
    x, y, *_ = digits
    with pytest.raises(ValueError, match="equal length"):
        train_model_family(x, y[:-1])
    with pytest.raises(ValueError, match="width"):
        train_model_family(x, y, widths=())
    with pytest.raises(ValueError, match=">= 1"):
        train_model_family(x, y, widths=(0, 4))


def test_safety_metric_panel_values_and_directions(digits) -> None:
    x, y, x_test, y_test, x_anomaly = digits
    small, large = (train_model_family(x, y, widths=(w,), seeds=(0,), epochs=8)[0]["model"] for w in (2, 128))
    p_small = safety_metric_panel(small, x_test, y_test, x_anomaly, n_adversarial=60, severities=(3,))
    p_large = safety_metric_panel(large, x_test, y_test, x_anomaly, n_adversarial=60, severities=(3,))
    for p in (p_small, p_large):
        assert set(p) == PANEL_KEYS
        assert all(isinstance(v, float) and np.isfinite(v) for v in p.values())
        assert 0 <= p["adversarial_accuracy"] <= 1 and 0 <= p["ece"] <= 1 and 0 <= p["brier"] <= 2
        assert p["relative_corruption_error"] == pytest.approx(
            (1 - p["corruption_accuracy"]) - (1 - p["clean_accuracy"])
        )
    assert p_large["clean_accuracy"] > p_small["clean_accuracy"] + 0.2
    assert p_large["anomaly_auroc"] > p_small["anomaly_auroc"] + 0.1
    assert p_large["brier"] < p_small["brier"]
    # eps = 0 is no attack: adversarial accuracy equals clean accuracy on the subset
    p_zero = safety_metric_panel(large, x_test, y_test, x_anomaly, eps=0.0, n_adversarial=60, severities=(1,))
    assert p_zero["adversarial_retention"] == pytest.approx(1.0)


def test_safety_metric_panel_rejects_bad_input(digits) -> None:
    x, y, x_test, y_test, x_anomaly = digits
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 6))
    with pytest.raises(ValueError, match="equal length"):
        safety_metric_panel(model, x_test, y_test[:-1], x_anomaly)
    with pytest.raises(ValueError, match="x_anomaly"):
        safety_metric_panel(model, x_test, y_test, x_anomaly[:0])
    with pytest.raises(ValueError, match="eps"):
        safety_metric_panel(model, x_test, y_test, x_anomaly, eps=-0.1)


def test_capability_correlation_matches_scipy_spearman_with_ties() -> None:
    from scipy.stats import spearmanr

    rng = np.random.default_rng(1)
    for n in (3, 8, 40):
        capability = rng.integers(0, 4, n).astype(float)  # many ties, as in bootstrap resamples
        capability[:2] = (0.0, 3.0)  # never constant
        metric = rng.normal(size=n)
        rho, _, _ = capability_correlation(capability, metric, n_resamples=100)
        assert rho == pytest.approx(spearmanr(capability, metric)[0])
