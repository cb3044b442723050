"""Unit tests for the MDP and POWER tools saved from book/alignment/power-aversion.md."""

import numpy as np
import pytest
import torch

from mlsafety import check_transitions, optimal_values, power


def two_cycle_mdp() -> np.ndarray:
    """Turner et al. (2021), Fig. 3: state 0 stays or steps to 1, state 1 returns to 0, state 2 terminal."""
    t = np.zeros((3, 2, 3))
    t[0, 0, 0] = t[0, 1, 1] = 1.0
    t[1, :, 0] = 1.0
    t[2, :, 2] = 1.0
    return t


def complete_mdp(n: int) -> np.ndarray:
    """Every state reaches every state in one step (action a moves to state a)."""
    t = np.zeros((n, n, n))
    for s in range(n):
        t[s, np.arange(n), np.arange(n)] = 1.0
    return t


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9, 0.99])
def test_power_matches_hand_computed_values_on_three_states(gamma: float) -> None:
    # Hand computation: a terminal state has POWER E[R] = 1/2; the stay-or-alternate state has
    # POWER E[max(Ra, Rb) on Ra >= Rb] + E[(Rb + gamma Ra) / (1 + gamma) on Rb > Ra]
    # = (2/3 + gamma/2) / (1 + gamma) (Turner et al. 2021, Fig. 3). State 1 must step to state 0
    # first: POWER(1) = (1 - gamma) E[V*(0)] = (1 - gamma) / 2 + gamma POWER(0).
    est = power(two_cycle_mdp(), gamma, n_samples=40_000, seed=0)
    alternating = (2 / 3 + gamma / 2) / (1 + gamma)
    forced = (1 - gamma) / 2 + gamma * alternating
    np.testing.assert_allclose(est, [alternating, forced, 0.5], atol=0.01)


def test_power_reaches_upper_bound_when_every_state_is_one_step_away() -> None:
    # Proposition 5.4: POWER = E[max_s R(s)] = n / (n + 1) for n i.i.d. uniform states.
    np.testing.assert_allclose(power(complete_mdp(3), 0.7, n_samples=40_000), 0.75, atol=0.01)


def test_power_is_seeded_and_orders_states_by_options() -> None:
    t = two_cycle_mdp()
    np.testing.assert_array_equal(power(t, 0.9, 2000, seed=3), power(t, 0.9, 2000, seed=3))
    est = power(t, 0.9, 5000, seed=1)
    assert est[0] > est[2] + 0.05


def test_value_iteration_matches_closed_forms() -> None:
    gamma = 0.8
    r = np.array([1.0, 2.0, 3.0])
    v = optimal_values(two_cycle_mdp(), r, gamma)
    # state 2 terminal: R / (1 - gamma); state 0 picks the better of staying and alternating
    stay, alternate = r[0] / (1 - gamma), (r[0] + gamma * r[1]) / (1 - gamma**2)
    np.testing.assert_allclose(v[2], 3.0 / (1 - gamma))
    np.testing.assert_allclose(v[0], max(stay, alternate))
    np.testing.assert_allclose(v[1], r[1] + gamma * v[0])
    # a chain 0 -> 1 -> 2 (absorbing): V(0) = R0 + gamma R1 + gamma^2 R2 / (1 - gamma)
    chain = np.zeros((3, 1, 3))
    chain[0, 0, 1] = chain[1, 0, 2] = chain[2, 0, 2] = 1.0
    np.testing.assert_allclose(optimal_values(chain, r, 0.5)[0], 1.0 + 0.5 * 2.0 + 0.25 * 3.0 / 0.5)


def test_optimal_values_satisfy_bellman_equation_on_random_stochastic_mdp() -> None:
    rng = np.random.default_rng(0)
    t = rng.dirichlet(np.ones(6), size=(6, 3))
    rewards = rng.normal(size=(5, 6))
    v = optimal_values(t, rewards, 0.95)
    backup = rewards + 0.95 * np.einsum("sat,bt->bsa", t, v).max(axis=2)
    np.testing.assert_allclose(v, backup, atol=1e-8)
    assert v.shape == rewards.shape and optimal_values(t, rewards[0], 0.95).shape == (6,)


def test_accepts_torch_tensors() -> None:
    t = torch.tensor(two_cycle_mdp())
    np.testing.assert_allclose(optimal_values(t, torch.tensor([1.0, 2.0, 3.0]), 0.5)[2], 6.0)


@pytest.mark.parametrize(
    "transitions, message",
    [
        (np.full((3, 2, 3), 0.5), "probability distribution"),  # rows sum to 1.5
        (np.ones((3, 2, 4)) / 4, "shape"),  # not (S, A, S)
        (np.zeros((3, 2, 3)), "probability distribution"),  # rows sum to 0
        (np.where(two_cycle_mdp() > 0, 1.5, -0.25), "non-negative"),  # sums to 1, negative entries
        (np.ones((3, 2)), "shape"),  # not three-dimensional
    ],
)
def test_bad_transitions_raise(transitions: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_transitions(transitions)
        optimal_values(transitions, np.zeros(transitions.shape[0]), 0.5)


@pytest.mark.parametrize("gamma", [-0.1, 1.0, 1.5])
def test_gamma_out_of_range_raises(gamma: float) -> None:
    with pytest.raises(ValueError, match="gamma"):
        optimal_values(two_cycle_mdp(), np.zeros(3), gamma)
    with pytest.raises(ValueError, match="gamma"):
        power(two_cycle_mdp(), gamma, n_samples=10)


def test_bad_rewards_and_sample_counts_raise() -> None:
    with pytest.raises(ValueError, match="rewards must have shape"):
        optimal_values(two_cycle_mdp(), np.zeros(4), 0.5)
    with pytest.raises(ValueError, match="NaN"):
        optimal_values(two_cycle_mdp(), np.array([0.0, np.nan, 1.0]), 0.5)
    with pytest.raises(ValueError, match="n_samples"):
        power(two_cycle_mdp(), 0.5, n_samples=0)
