"""Unit tests for the tools saved from book/x-risk/existential-hazards.md."""

import numpy as np
import pytest
import torch

from mlsafety import add_deployment_cue, deployment_cue, simulate_recommender


# ---------------------------------------------------------------- simulate_recommender
def _last(run: dict, key: str, n: int = 20) -> float:
    return float(run[key][-n:].mean())


def test_recommender_returns_one_value_per_step_and_per_user():
    run = simulate_recommender("clicks", n_users=50, steps=30, seed=0)
    for key in ("clicks", "welfare", "diversity", "bait_share"):
        assert run[key].shape == (30,)
    assert run["drift"].shape == (50,)
    assert np.all((run["clicks"] > 0) & (run["clicks"] < 1))
    assert np.all((run["bait_share"] >= 0) & (run["bait_share"] <= 1))


def test_recommender_is_deterministic_given_the_seed():
    a, b = simulate_recommender(seed=3, steps=20), simulate_recommender(seed=3, steps=20)
    c = simulate_recommender(seed=4, steps=20)
    assert np.array_equal(a["clicks"], b["clicks"])
    assert not np.array_equal(a["clicks"], c["clicks"])


def test_click_maximiser_raises_clicks_by_changing_users():
    for seed in range(3):
        moving = simulate_recommender("clicks", seed=seed)
        fixed = simulate_recommender("clicks", drift=0.0, seed=seed)
        assert _last(moving, "clicks") > moving["clicks"][:20].mean() + 0.05  # clicks rise over time
        assert _last(moving, "clicks") > _last(fixed, "clicks") + 0.05  # because users changed


def test_click_maximiser_lowers_welfare_and_diversity_against_the_control():
    for seed in range(3):
        maxi = simulate_recommender("clicks", seed=seed)
        ctrl = simulate_recommender("initial", seed=seed)
        assert _last(ctrl, "welfare") > _last(maxi, "welfare") + 0.05
        assert ctrl["diversity"][-1] > maxi["diversity"][-1]
        assert maxi["drift"].mean() > ctrl["drift"].mean()


def test_no_drift_leaves_preferences_unchanged():
    run = simulate_recommender("clicks", drift=0.0, steps=25, seed=1)
    assert np.allclose(run["drift"], 0.0, atol=1e-12)
    assert np.allclose(run["diversity"], run["diversity"][0])


def test_without_bait_the_maximiser_recommends_no_bait():
    run = simulate_recommender("clicks", n_bait=0, steps=10, seed=0)
    assert np.all(run["bait_share"] == 0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"policy": "engagement"}, "unknown policy"),
        ({"n_users": 1}, "n_users"),
        ({"steps": 0}, "steps"),
        ({"n_bait": 40}, "n_bait"),
        ({"drift": 1.0}, "drift"),
        ({"drift": -0.1}, "drift"),
        ({"temperature": 0.0}, "temperature"),
    ],
)
def test_recommender_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_recommender(**kwargs)


# ---------------------------------------------------------------- deployment cue
def test_deployment_cue_marks_the_leftmost_column_only():
    pattern, mask = deployment_cue(8)
    assert pattern.shape == mask.shape == (1, 8, 8)
    assert torch.all(mask[0, :, 0] == 1) and torch.all(mask[0, :, 1:] == 0)
    assert torch.equal(pattern[0, :, 0], torch.tensor([1.0, 0.0] * 4))
    assert float(pattern[0, :, 1:].abs().sum()) == 0.0


def test_add_deployment_cue_changes_only_the_cue_column():
    x = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    out = add_deployment_cue(x)
    assert out.shape == x.shape
    assert torch.equal(out[..., 1:], x[..., 1:])
    assert torch.equal(out[:, 0, :, 0], torch.tensor([1.0, 0.0] * 4).expand(4, 8))
    assert torch.equal(add_deployment_cue(out), out)  # stamping twice changes nothing


def test_add_deployment_cue_is_absent_from_the_digits():
    from mlsafety import load_digits_data

    data = load_digits_data(seed=0)
    # The cue is a feature evaluation data never carry: the leftmost column of the digits is (almost) blank.
    assert float(data.x_test[..., 0].max()) <= 0.25
    assert not torch.equal(add_deployment_cue(data.x_test), data.x_test)


@pytest.mark.parametrize("shape", [(4, 8, 8), (4, 3, 8, 8), (4, 1, 8, 6)])
def test_add_deployment_cue_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match="expected square single-channel images"):
        add_deployment_cue(torch.zeros(shape))


def test_deployment_cue_rejects_tiny_images():
    with pytest.raises(ValueError, match="at least 2 pixels"):
        deployment_cue(1)
