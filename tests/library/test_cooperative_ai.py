"""Unit tests for the game-theory tools saved from book/systemic-safety/cooperative-ai.md."""

import numpy as np
import pytest

from mlsafety import (
    PD_COOPERATE,
    PD_DEFECT,
    PD_PAYOFFS,
    always_cooperate,
    always_defect,
    generous_tit_for_tat,
    grim_trigger,
    iterated_game,
    nash_equilibria,
    random_move,
    replicator_dynamics,
    round_robin,
    tit_for_tat,
    win_stay_lose_shift,
)

STAG_HUNT = np.array([[3.0, 0.0], [2.0, 1.0]])  # stag/stag 3, stag alone 0, hares alone 2, shared hares 1


def _as_set(equilibria: list[tuple[np.ndarray, np.ndarray]]) -> set[tuple[float, ...]]:
    return {tuple(np.round(np.concatenate([x, y]), 6)) for x, y in equilibria}


def test_prisoners_dilemma_has_only_mutual_defection() -> None:
    found = nash_equilibria(PD_PAYOFFS, PD_PAYOFFS.T)
    assert _as_set(found) == {(0.0, 1.0, 0.0, 1.0)}


def test_stag_hunt_has_two_pure_and_one_mixed_equilibrium() -> None:
    found = nash_equilibria(STAG_HUNT, STAG_HUNT.T)
    # mixed: the column player hunts stag with p such that 3p = 2p + (1 - p), so p = 1/2
    assert _as_set(found) == {(1.0, 0.0, 1.0, 0.0), (0.0, 1.0, 0.0, 1.0), (0.5, 0.5, 0.5, 0.5)}


def test_matching_pennies_has_a_unique_mixed_equilibrium() -> None:
    pennies = np.array([[1.0, -1.0], [-1.0, 1.0]])
    found = nash_equilibria(pennies, -pennies)
    assert _as_set(found) == {(0.5, 0.5, 0.5, 0.5)}


def test_asymmetric_mixed_equilibrium_is_hand_computed() -> None:
    # Battle of the sexes with unequal payoffs: row mixes to make the column indifferent, and vice versa.
    A = np.array([[2.0, 0.0], [0.0, 1.0]])
    B = np.array([[1.0, 0.0], [0.0, 2.0]])
    found = _as_set(nash_equilibria(A, B))
    assert (round(2 / 3, 6), round(1 / 3, 6), round(1 / 3, 6), round(2 / 3, 6)) in found
    assert len(found) == 3


def test_rock_paper_scissors_and_rectangular_games() -> None:
    rps = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
    found = nash_equilibria(rps, -rps)
    assert len(found) == 1 and np.allclose(found[0][0], 1 / 3) and np.allclose(found[0][1], 1 / 3)
    # a 2x3 game in which column 2 is strictly dominated for the column player
    A = np.array([[3.0, 0.0, 1.0], [0.0, 2.0, 1.0]])
    B = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, -1.0]])
    for x, y in nash_equilibria(A, B):
        assert y[2] == 0.0 and np.isclose(x.sum(), 1.0) and np.isclose(y.sum(), 1.0)
        assert (A @ y).max() <= x @ A @ y + 1e-9 and (x @ B).max() <= x @ B @ y + 1e-9


def test_nash_equilibria_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="same shape"):
        nash_equilibria(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="same shape"):
        nash_equilibria(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        nash_equilibria(np.array([[np.nan, 0.0], [0.0, 1.0]]), np.eye(2))


def test_replicator_dynamics_stays_on_the_simplex_and_defection_wins_the_pd() -> None:
    traj = replicator_dynamics(PD_PAYOFFS, np.array([0.9, 0.1]), steps=3000, dt=0.01)
    assert traj.shape == (3001, 2)
    assert np.allclose(traj.sum(axis=1), 1.0) and (traj >= 0).all()
    assert traj[-1, PD_DEFECT] > 0.999
    assert np.all(np.diff(traj[:, PD_COOPERATE]) <= 1e-12)


def test_replicator_dynamics_rest_points_and_bistability() -> None:
    # an absent strategy stays absent; the Stag Hunt's mixed rest point at 1/2 separates two basins
    assert np.allclose(replicator_dynamics(STAG_HUNT, np.array([1.0, 0.0]), 100, 0.1)[-1], [1.0, 0.0])
    assert replicator_dynamics(STAG_HUNT, np.array([0.55, 0.45]), 4000, 0.05)[-1, 0] > 0.99
    assert replicator_dynamics(STAG_HUNT, np.array([0.45, 0.55]), 4000, 0.05)[-1, 0] < 0.01


def test_replicator_dynamics_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="square"):
        replicator_dynamics(np.zeros((2, 3)), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="one share per strategy"):
        replicator_dynamics(np.zeros((2, 2)), np.array([0.2, 0.3, 0.5]))
    with pytest.raises(ValueError, match="probability vector"):
        replicator_dynamics(np.zeros((2, 2)), np.array([0.7, 0.7]))
    with pytest.raises(ValueError, match="dt"):
        replicator_dynamics(np.zeros((2, 2)), np.array([0.5, 0.5]), dt=0.0)


def test_iterated_game_hand_computed_scores() -> None:
    # TFT cooperates once (S = 0 for TFT, T = 5 for ALLD), then both defect for 9 rounds (P = 1 each)
    result = iterated_game(tit_for_tat, always_defect, rounds=10, noise=0.0)
    assert (result.score_a, result.score_b) == (9.0, 14.0)
    assert result.moves_a == [PD_COOPERATE] + [PD_DEFECT] * 9 and result.moves_b == [PD_DEFECT] * 10
    assert iterated_game(tit_for_tat, tit_for_tat, rounds=7)[:2] == (21.0, 21.0)
    # WSLS against ALLD alternates: C (S=0), D (P=1), C (S=0), D (P=1)
    assert iterated_game(win_stay_lose_shift, always_defect, rounds=4)[:2] == (2.0, 12.0)


def test_iterated_game_noise_flips_moves_and_is_seeded() -> None:
    flipped = iterated_game(always_cooperate, always_cooperate, rounds=50, noise=1.0)
    assert flipped.moves_a == [PD_DEFECT] * 50 and flipped.score_a == 50.0
    a = iterated_game(tit_for_tat, tit_for_tat, rounds=200, noise=0.05, seed=3)
    b = iterated_game(tit_for_tat, tit_for_tat, rounds=200, noise=0.05, seed=3)
    assert a == b and a.score_a < 600.0  # errors break perfect mutual cooperation


def test_iterated_game_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="2x2"):
        iterated_game(tit_for_tat, always_defect, payoffs=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="noise"):
        iterated_game(tit_for_tat, always_defect, noise=1.5)
    with pytest.raises(ValueError, match="rounds"):
        iterated_game(tit_for_tat, always_defect, rounds=0)
    with pytest.raises(ValueError, match="must return 0"):
        iterated_game(lambda mine, theirs, rng: 2, always_defect, rounds=1)


def test_strategies_respond_to_history() -> None:
    rng = np.random.default_rng(0)
    assert grim_trigger([0, 0, 0], [0, 1, 0], rng) == PD_DEFECT
    assert tit_for_tat([0, 1], [1, 0], rng) == PD_COOPERATE
    assert win_stay_lose_shift([1], [1], rng) == PD_COOPERATE and win_stay_lose_shift([0], [1], rng) == PD_DEFECT
    forgiveness = np.mean([generous_tit_for_tat([0], [1], rng) == PD_COOPERATE for _ in range(3000)])
    assert 0.28 < forgiveness < 0.39
    assert 0.45 < np.mean([random_move([], [], rng) for _ in range(3000)]) < 0.55


def test_round_robin_matrix_is_per_round_and_symmetric_for_self_play() -> None:
    table = round_robin({"TFT": tit_for_tat, "ALLD": always_defect, "ALLC": always_cooperate}, rounds=10)
    expected = np.array([[3.0, 0.9, 3.0], [1.4, 1.0, 5.0], [3.0, 0.0, 3.0]])
    assert np.allclose(table, expected)
    with pytest.raises(ValueError, match="at least one"):
        round_robin({})
