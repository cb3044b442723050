"""Unit tests for the selection model saved from book/x-risk/human-ai-coevolution.md."""

import numpy as np
import pytest

from mlsafety import selection_with_assortment, takeover_threshold


def test_threshold_is_cost_minus_assorted_benefit() -> None:
    assert takeover_threshold(2.0, 1.0) == pytest.approx(1.0)
    assert takeover_threshold(2.0, 1.0, 0.3) == pytest.approx(0.4)
    assert takeover_threshold(4.0, 1.0, 0.5) == pytest.approx(-1.0)  # Hamilton's rule holds: none needed


@pytest.mark.parametrize(
    ("b", "c", "r"), [(-1.0, 1.0, 0.0), (2.0, -0.5, 0.0), (2.0, 1.0, 1.5), (2.0, 1.0, -0.1), (np.nan, 1.0, 0.0)]
)
def test_threshold_rejects_bad_input(b: float, c: float, r: float) -> None:
    with pytest.raises(ValueError):
        takeover_threshold(b, c, r)


def test_selfish_type_takes_over_without_assortment_or_penalty() -> None:
    traj = selection_with_assortment(0.99, 2.0, 1.0, generations=100)
    assert traj.shape == (101,)
    assert traj[0] == pytest.approx(0.99) and traj[-1] < 1e-6
    assert np.all(np.diff(traj) < 0)  # falls every generation, however common cooperators are


@pytest.mark.parametrize(("r", "p"), [(0.6, 0.0), (0.3, 0.5), (0.0, 1.2)])
def test_cooperators_win_just_above_threshold(r: float, p: float) -> None:
    assert r * 2.0 + p > 1.0
    assert selection_with_assortment(0.01, 2.0, 1.0, r, p, generations=2000)[-1] > 0.99


def test_log_odds_move_by_selection_times_advantage() -> None:
    traj = selection_with_assortment(0.5, 2.0, 1.0, 0.2, 0.1, generations=5, selection=0.7)
    logit = np.log(traj / (1 - traj))
    np.testing.assert_allclose(np.diff(logit), 0.7 * (0.2 * 2.0 - 1.0 + 0.1))


def test_exactly_at_threshold_nothing_changes() -> None:
    traj = selection_with_assortment(0.3, 2.0, 1.0, 0.25, 0.5, generations=50)
    np.testing.assert_allclose(traj, 0.3)


def test_broadcasting_and_finite_populations() -> None:
    r = np.array([0.0, 0.9])
    traj = selection_with_assortment(np.full((30, 1), 0.5), 2.0, 1.0, r, 0.0, generations=300, pop_size=40, seed=1)
    assert traj.shape == (301, 30, 2)
    final = traj[-1]
    assert set(np.unique(final)) <= {0.0, 1.0}  # every finite population ends with one type fixed
    assert final[:, 0].mean() < 0.1 and final[:, 1].mean() > 0.9
    np.testing.assert_allclose(traj * 40, np.round(traj * 40))  # shares are counts / pop_size
    again = selection_with_assortment(np.full((30, 1), 0.5), 2.0, 1.0, r, 0.0, generations=300, pop_size=40, seed=1)
    np.testing.assert_array_equal(traj, again)  # the seed fixes the run


def test_neutral_drift_is_unbiased() -> None:
    final = selection_with_assortment(np.full(400, 0.5), 0.0, 0.0, generations=400, pop_size=20, seed=0)[-1]
    assert abs(final.mean() - 0.5) < 0.1


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(x0=1.5),
        dict(x0=-0.1),
        dict(r=1.2),
        dict(b=-1.0),
        dict(c=-1.0),
        dict(generations=-1),
        dict(selection=0.0),
        dict(pop_size=0),
        dict(pop_size=2.5),
        dict(p=np.inf),
    ],
)
def test_selection_rejects_bad_input(kwargs: dict) -> None:
    args = dict(x0=0.5, b=2.0, c=1.0) | kwargs
    with pytest.raises(ValueError):
        selection_with_assortment(**args)
