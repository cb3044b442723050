"""Unit tests for the tools saved from book/monitoring/detecting-emergent-behavior.md."""

import numpy as np
import pytest
import torch

from mlsafety import (
    exact_match_accuracy,
    js_divergence,
    modular_addition_data,
    optimise_proxy,
    policy_divergence,
    sequence_accuracy,
    token_accuracy,
)


def each_rejects(functions, *args) -> None:
    """Every one of `functions` raises ValueError on `args`."""
    for function in functions:
        with pytest.raises(ValueError):
            function(*args)


# ------------------------------------------------------------ sequence metrics
def test_token_and_exact_match_accuracy():
    target = np.array([[1, 2, 3], [4, 5, 6]])
    pred = np.array([[1, 2, 3], [4, 0, 6]])
    assert token_accuracy(pred, target) == pytest.approx(5 / 6)
    assert exact_match_accuracy(pred, target) == pytest.approx(0.5)
    assert token_accuracy(torch.tensor(target), torch.tensor(target)) == 1.0
    assert exact_match_accuracy(torch.tensor(pred), torch.tensor(target)) == pytest.approx(0.5)


def test_exact_match_never_exceeds_token_accuracy():
    rng = np.random.default_rng(0)
    target = rng.integers(0, 3, (200, 5))
    pred = np.where(rng.random((200, 5)) < 0.8, target, (target + 1) % 3)
    assert exact_match_accuracy(pred, target) <= token_accuracy(pred, target)


@pytest.mark.parametrize(
    "pred,target",
    [
        (np.zeros((2, 3)), np.zeros((2, 4))),  # shape mismatch
        (np.zeros(3), np.zeros(3)),  # not 2-D
        (np.zeros((0, 3)), np.zeros((0, 3))),  # empty
    ],
)
def test_sequence_metrics_reject_bad_shapes(pred, target):
    each_rejects((token_accuracy, exact_match_accuracy), pred, target)


def test_sequence_accuracy_values_and_arrays():
    assert sequence_accuracy(0.5, 3) == pytest.approx(0.125)
    assert sequence_accuracy(1.0, 50) == 1.0 and sequence_accuracy(0.0, 1) == 0.0
    assert sequence_accuracy(0.9, 1) == pytest.approx(0.9)
    out = sequence_accuracy(np.array([0.1, 0.5, 0.9]), 2)
    assert isinstance(out, np.ndarray) and np.allclose(out, [0.01, 0.25, 0.81])
    assert sequence_accuracy(0.9, np.int64(2)) == pytest.approx(0.81)


def test_sequence_accuracy_is_sharper_for_longer_answers():
    p = np.linspace(0.5, 0.99, 20)
    short, long = sequence_accuracy(p, 2), sequence_accuracy(p, 20)
    assert np.all(long <= short)
    assert long[-1] - long[len(p) // 2] > short[-1] - short[len(p) // 2]


@pytest.mark.parametrize("p,length", [(1.2, 3), (-0.1, 3), (float("nan"), 3), (0.5, 0), (0.5, 2.5), (0.5, True)])
def test_sequence_accuracy_rejects_bad_input(p, length):
    with pytest.raises(ValueError):
        sequence_accuracy(p, length)


# ------------------------------------------------------------ modular addition data
def test_modular_addition_data_covers_table_and_is_correct():
    x_tr, y_tr, x_te, y_te = modular_addition_data(7, 0.4, seed=0)
    x, y = torch.cat([x_tr, x_te]), torch.cat([y_tr, y_te])
    assert len(x) == 49 and len({tuple(r) for r in x.tolist()}) == 49
    assert torch.equal(y, (x[:, 0] + x[:, 1]) % 7)
    assert len(x_tr) == round(0.4 * 49)
    assert x_tr.dtype == torch.int64 and y_tr.dtype == torch.int64


def test_modular_addition_data_is_seeded():
    a = modular_addition_data(11, 0.5, seed=3)
    b = modular_addition_data(11, 0.5, seed=3)
    c = modular_addition_data(11, 0.5, seed=4)
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    assert not torch.equal(a[0], c[0])


@pytest.mark.parametrize("p,frac", [(1, 0.5), (7.0, 0.5), (7, 0.0), (7, 1.0), (7, -0.2)])
def test_modular_addition_data_rejects_bad_input(p, frac):
    with pytest.raises(ValueError):
        modular_addition_data(p, frac)


# ------------------------------------------------------------ best-of-n proxy optimisation
def test_optimise_proxy_with_perfect_proxy_is_monotone():
    rng = np.random.default_rng(0)
    r = rng.standard_normal(5000)
    mean_true, mean_proxy = optimise_proxy(r, r, [1, 4, 16, 64], n_trials=300, seed=0)
    assert np.allclose(mean_true, mean_proxy)
    assert np.all(np.diff(mean_true) > 0)


def test_optimise_proxy_rare_exploit_turns_down():
    rng = np.random.default_rng(0)
    q = rng.standard_normal(50_000)
    exploit = rng.random(50_000) < 1e-3
    budgets = 2 ** np.arange(0, 14)
    mean_true, mean_proxy = optimise_proxy(q - 3 * exploit, q + 4 * exploit, budgets, n_trials=200, seed=0)
    peak = int(np.argmax(mean_true))
    assert 0 < peak < len(budgets) - 1 and mean_true[-1] < mean_true[peak] - 1.0
    assert mean_proxy[-1] > mean_proxy[0]


def test_optimise_proxy_budget_one_is_the_pool_mean_and_seeded():
    t = np.arange(10.0)
    mean_true, _ = optimise_proxy(t, -t, [1], n_trials=20_000, seed=1)
    assert mean_true[0] == pytest.approx(4.5, abs=0.1)
    a = optimise_proxy(t, t, [3, 5], seed=7)
    b = optimise_proxy(t, t, [3, 5], seed=7)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(true_reward=[1.0, 2.0], proxy_reward=[1.0], budgets=[1]),
        dict(true_reward=[], proxy_reward=[], budgets=[1]),
        dict(true_reward=[1.0, np.nan], proxy_reward=[1.0, 2.0], budgets=[1]),
        dict(true_reward=[1.0, 2.0], proxy_reward=[1.0, 2.0], budgets=[0]),
        dict(true_reward=[1.0, 2.0], proxy_reward=[1.0, 2.0], budgets=[1.5]),
        dict(true_reward=[1.0, 2.0], proxy_reward=[1.0, 2.0], budgets=[]),
        dict(true_reward=[1.0, 2.0], proxy_reward=[1.0, 2.0], budgets=[1], n_trials=0),
    ],
)
def test_optimise_proxy_rejects_bad_input(kwargs):
    with pytest.raises(ValueError):
        optimise_proxy(**kwargs)


# ------------------------------------------------------------ divergences
def test_js_divergence_known_values():
    p = np.array([[1.0, 0.0], [0.5, 0.5], [0.3, 0.7]])
    q = np.array([[0.0, 1.0], [0.5, 0.5], [0.3, 0.7]])
    assert np.allclose(js_divergence(p, q), [1.0, 0.0, 0.0])
    # 1-D inputs are one state; symmetric; bounded in [0, 1]
    assert js_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(js_divergence([0.5, 0.5], [1.0, 0.0]))
    rng = np.random.default_rng(0)
    a, b = rng.dirichlet(np.ones(5), 100), rng.dirichlet(np.ones(5), 100)
    d = js_divergence(a, b)
    assert np.all((d >= 0) & (d <= 1)) and np.allclose(d, js_divergence(b, a))


def test_js_divergence_matches_formula():
    p, q = np.array([0.2, 0.3, 0.5]), np.array([0.6, 0.1, 0.3])
    m = (p + q) / 2
    expected = 0.5 * np.sum(p * np.log2(p / m)) + 0.5 * np.sum(q * np.log2(q / m))
    assert js_divergence(p, q)[0] == pytest.approx(expected)


def test_policy_divergence_is_mean_over_states_and_accepts_tensors():
    p = np.array([[1.0, 0.0], [0.5, 0.5]])
    q = np.array([[0.0, 1.0], [0.5, 0.5]])
    assert policy_divergence(p, q) == pytest.approx(0.5)
    assert policy_divergence(torch.tensor(p), torch.tensor(p)) == pytest.approx(0.0)


@pytest.mark.parametrize(
    "p,q",
    [
        ([[0.5, 0.6]], [[0.5, 0.5]]),  # row does not sum to 1
        ([[-0.1, 1.1]], [[0.5, 0.5]]),  # negative probability
        ([[0.5, 0.5]], [[0.2, 0.3, 0.5]]),  # shape mismatch
        ([[np.nan, 1.0]], [[0.5, 0.5]]),  # NaN
        (np.zeros((0, 2)), np.zeros((0, 2))),  # empty
    ],
)
def test_divergences_reject_bad_input(p, q):
    each_rejects((js_divergence, policy_divergence), p, q)
