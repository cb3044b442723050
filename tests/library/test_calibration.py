"""Unit tests of the calibration metrics, temperature scaling and quantile loss of the Interpretable
Uncertainty chapter."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import mlsafety  # noqa: E402

ECE, MCE, RMS = mlsafety.expected_calibration_error, mlsafety.max_calibration_error, mlsafety.rms_calibration_error
BINNED = (ECE, MCE, RMS)


def calibrated_sample(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random probability vectors with labels drawn from them, so the top label is right with prob = confidence."""
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(k, 0.3), size=n)
    labels = np.array([rng.choice(k, p=p) for p in probs])
    return probs, labels


def test_perfectly_calibrated_data_has_small_errors() -> None:
    probs, labels = calibrated_sample(20_000, 4, seed=0)
    assert ECE(probs, labels) < 0.02
    assert RMS(probs, labels) < 0.03


def test_always_confident_and_wrong_gives_one() -> None:
    probs = np.tile([1.0, 0.0, 0.0], (50, 1))
    labels = np.full(50, 2)
    for f in BINNED:
        assert f(probs, labels) == pytest.approx(1.0)


def test_always_confident_and_right_gives_zero() -> None:
    probs = np.tile([0.0, 1.0], (10, 1))
    for f in BINNED:
        assert f(probs, np.ones(10, dtype=int)) == pytest.approx(0.0)


def test_hand_example_and_one_bin() -> None:
    # confidences 0.9 (right), 0.9 (wrong), 0.6 (right), 0.6 (right); two bins of 0.5 width
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    labels = np.array([0, 1, 0, 0])
    # bin (0.5, 1]: with n_bins=2 all four share one bin: acc 0.75, conf 0.75 -> 0
    assert ECE(probs, labels, n_bins=2) == pytest.approx(0.0)
    assert ECE(probs, labels, n_bins=1) == pytest.approx(0.0)
    # with 10 bins: 0.9-bin gap |0.5-0.9|=0.4, 0.6-bin gap |1-0.6|=0.4
    assert ECE(probs, labels, n_bins=10) == pytest.approx(0.4)
    assert MCE(probs, labels, n_bins=10) == pytest.approx(0.4)
    assert RMS(probs, labels, n_bins=10) == pytest.approx(0.4)


def test_empty_bins_are_skipped() -> None:
    probs = np.array([[0.95, 0.05]] * 4 + [[0.55, 0.45]] * 4)
    labels = np.array([0, 0, 0, 1, 0, 0, 1, 1])
    count, acc, conf = mlsafety.calibration_bins(probs, labels, n_bins=100)
    assert len(count) == 2 and count.sum() == 8
    expected = 0.5 * abs(0.75 - 0.95) + 0.5 * abs(0.5 - 0.55)
    assert ECE(probs, labels, n_bins=100) == pytest.approx(expected)
    assert MCE(probs, labels, n_bins=100) == pytest.approx(0.2)


def test_one_class() -> None:
    probs = np.ones((7, 1))
    labels = np.zeros(7, dtype=int)
    for f in BINNED:
        assert f(probs, labels) == pytest.approx(0.0)
    assert mlsafety.brier_score(probs, labels) == pytest.approx(0.0)


def test_ordering_mce_rms_ece() -> None:
    rng = np.random.default_rng(3)
    for seed in range(5):
        logits = rng.normal(size=(300, 5)) * (seed + 1)
        probs = torch.tensor(logits).softmax(1).numpy()
        labels = rng.integers(0, 5, 300)
        e, r, m = ECE(probs, labels), RMS(probs, labels), MCE(probs, labels)
        assert e <= r + 1e-12 <= m + 2e-12


def test_accepts_torch_and_numpy_alike() -> None:
    probs, labels = calibrated_sample(200, 3, seed=1)
    for f in (*BINNED, mlsafety.brier_score):
        assert f(torch.tensor(probs), torch.tensor(labels)) == pytest.approx(f(probs, labels))


def test_brier_bounds_and_hand_value() -> None:
    probs = np.array([[0.7, 0.2, 0.1], [0.5, 0.5, 0.0]])
    labels = np.array([0, 2])
    # (0.09 + 0.04 + 0.01) and (0.25 + 0.25 + 1.0)
    assert mlsafety.brier_score(probs, labels) == pytest.approx((0.14 + 1.5) / 2)
    assert mlsafety.brier_score(np.eye(3), np.arange(3)) == pytest.approx(0.0)
    assert mlsafety.brier_score(np.eye(3), np.array([1, 2, 0])) == pytest.approx(2.0)
    probs, labels = calibrated_sample(500, 4, seed=2)
    assert 0.0 <= mlsafety.brier_score(probs, labels) <= 2.0


@pytest.mark.parametrize(
    "bad_call, message",
    [
        (lambda f: f(np.full((3, 2), 0.5), np.zeros(4, dtype=int)), "mismatched lengths"),
        (lambda f: f(np.full((3, 2), 0.6), np.zeros(3, dtype=int)), "sum to one"),
        (lambda f: f(np.zeros((0, 2)), np.zeros(0, dtype=int)), "empty"),
        (lambda f: f(np.full((3, 2), 0.5), np.array([0, 1, 2])), "labels"),
        (lambda f: f(np.full(3, 0.5), np.zeros(3, dtype=int)), "2-D"),
        (lambda f: f(np.array([[1.5, -0.5]]), np.zeros(1, dtype=int)), "non-negative"),
    ],
)
def test_invalid_input_errors(bad_call, message: str) -> None:
    for f in (*BINNED, mlsafety.brier_score):
        with pytest.raises(ValueError, match=message):
            bad_call(f)


@pytest.mark.parametrize("n_bins", [0, -3, 2.5])
def test_invalid_n_bins(n_bins) -> None:
    probs, labels = calibrated_sample(20, 3, seed=0)
    for f in BINNED:
        with pytest.raises(ValueError, match="n_bins"):
            f(probs, labels, n_bins=n_bins)


def test_fit_temperature_recovers_known_temperature() -> None:
    gen = torch.Generator().manual_seed(0)
    logits = 3.0 * torch.randn(20_000, 10, generator=gen)
    true_t = 2.5
    labels = torch.multinomial((logits / true_t).softmax(1), 1, generator=gen).squeeze(1)
    t = mlsafety.fit_temperature(logits, labels)
    assert isinstance(t, float) and t > 0
    assert t == pytest.approx(true_t, rel=0.05)
    t_np = mlsafety.fit_temperature(logits.numpy(), labels.numpy())
    assert t_np == pytest.approx(t, rel=1e-4)


def test_fit_temperature_sharpens_underconfident_logits() -> None:
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(5000, 4, generator=gen)
    labels = torch.multinomial((logits / 0.5).softmax(1), 1, generator=gen).squeeze(1)
    assert mlsafety.fit_temperature(logits, labels) == pytest.approx(0.5, rel=0.1)


def test_temperature_scaling_keeps_argmax_and_lowers_nll() -> None:
    gen = torch.Generator().manual_seed(2)
    logits = 4.0 * torch.randn(2000, 6, generator=gen)
    labels = torch.multinomial((logits / 3.0).softmax(1), 1, generator=gen).squeeze(1)
    t = mlsafety.fit_temperature(logits, labels)
    assert torch.equal((logits / t).argmax(1), logits.argmax(1))
    nll = torch.nn.functional.cross_entropy
    assert nll(logits / t, labels) <= nll(logits, labels)


def test_fit_temperature_invalid_input() -> None:
    with pytest.raises(ValueError, match="equal length"):
        mlsafety.fit_temperature(np.zeros((3, 2)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="non-empty"):
        mlsafety.fit_temperature(np.zeros((0, 2)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="finite"):
        mlsafety.fit_temperature(np.array([[np.nan, 0.0]]), np.zeros(1, dtype=int))
    with pytest.raises(ValueError, match="labels"):
        mlsafety.fit_temperature(np.zeros((2, 2)), np.array([0, 5]))


def test_reliability_diagram_draws_on_given_axes() -> None:
    probs, labels = calibrated_sample(300, 3, seed=4)
    fig, ax = plt.subplots()
    out = mlsafety.reliability_diagram(probs, labels, n_bins=10, ax=ax)
    assert out is ax
    assert len(ax.patches) > 0 and "ECE" in ax.get_title()
    plt.close(fig)
    new_ax = mlsafety.reliability_diagram(torch.tensor(probs), torch.tensor(labels))
    assert isinstance(new_ax, plt.Axes)
    plt.close(new_ax.figure)
    with pytest.raises(ValueError):
        mlsafety.reliability_diagram(probs, labels[:-1])


def test_pinball_loss_values_and_optimum() -> None:
    y = np.array([1.0, 2.0, 3.0])
    assert mlsafety.pinball_loss(y, y, 0.3) == pytest.approx(0.0)
    # under-prediction by 1 costs q, over-prediction by 1 costs 1 - q
    assert mlsafety.pinball_loss(np.array([1.0]), np.array([0.0]), 0.9) == pytest.approx(0.9)
    assert mlsafety.pinball_loss(np.array([0.0]), np.array([1.0]), 0.9) == pytest.approx(0.1)
    # q = 0.5: half the mean absolute error
    assert mlsafety.pinball_loss(torch.tensor([0.0, 4.0]), torch.tensor([1.0, 1.0]), 0.5) == pytest.approx(1.0)
    # the empirical q-quantile minimises the loss over constant predictions
    samples = np.random.default_rng(0).normal(size=2001)
    grid = np.linspace(-3, 3, 601)
    best = grid[np.argmin([mlsafety.pinball_loss(samples, np.full_like(samples, g), 0.8) for g in grid])]
    assert best == pytest.approx(np.quantile(samples, 0.8), abs=0.02)


def test_pinball_loss_invalid_input() -> None:
    with pytest.raises(ValueError, match="q must"):
        mlsafety.pinball_loss(np.zeros(2), np.zeros(2), 1.0)
    with pytest.raises(ValueError, match="equal length"):
        mlsafety.pinball_loss(np.zeros(2), np.zeros(3), 0.5)
    with pytest.raises(ValueError, match="equal length"):
        mlsafety.pinball_loss(np.zeros(0), np.zeros(0), 0.5)


def test_conformal_quantile_rank_and_coverage() -> None:
    scores = np.arange(1.0, 10.0)  # n = 9: rank ceil(10 * 0.8) = 8 for alpha = 0.2
    assert mlsafety.conformal_quantile(scores, 0.2) == 8.0
    assert mlsafety.conformal_quantile(torch.tensor(scores[::-1].copy()), 0.2) == 8.0  # order and type free
    assert mlsafety.conformal_quantile(scores, 0.05) == np.inf  # rank 10 > n: the set must be everything
    # exchangeable calibration and test scores: average coverage is at least 1 - alpha, and at most
    # 1 - alpha + 1 / (n + 1) without ties
    rng = np.random.default_rng(0)
    n, alpha = 50, 0.1
    covered = [rng.standard_normal() <= mlsafety.conformal_quantile(rng.standard_normal(n), alpha) for _ in range(4000)]
    assert 1 - alpha - 0.015 <= np.mean(covered) <= 1 - alpha + 1 / (n + 1) + 0.015


def test_conformal_quantile_invalid_input() -> None:
    with pytest.raises(ValueError, match="alpha must"):
        mlsafety.conformal_quantile(np.ones(5), 0.0)
    with pytest.raises(ValueError, match="finite"):
        mlsafety.conformal_quantile(np.array([]), 0.1)
    with pytest.raises(ValueError, match="finite"):
        mlsafety.conformal_quantile(np.array([1.0, np.nan]), 0.1)
