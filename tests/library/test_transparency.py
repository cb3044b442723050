"""Unit tests of the attribution and probing functions of the Transparency chapter."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import mlsafety


def tiny_mlp(seed: int = 0) -> nn.Module:
    """A small random ReLU network on (N, 1, 4, 4) inputs with three classes."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 3)).eval()


@pytest.fixture
def batch() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    x = torch.rand(5, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    return tiny_mlp(), x, torch.tensor([0, 1, 2, 0, 1])


# gradient_saliency ---------------------------------------------------------------------------------


def test_saliency_shape_and_non_negative(batch) -> None:
    model, x, t = batch
    s = mlsafety.gradient_saliency(model, x, t)
    assert s.shape == x.shape
    assert (s >= 0).all()


def test_saliency_of_linear_model_is_absolute_weight() -> None:
    torch.manual_seed(0)
    lin = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    x = torch.rand(3, 1, 2, 2)
    s = mlsafety.gradient_saliency(lin, x, 1)
    expected = lin[1].weight[1].abs().detach().view(1, 1, 2, 2).expand_as(x)
    assert torch.allclose(s, expected)


def test_int_target_matches_tensor_target(batch) -> None:
    model, x, _ = batch
    a = mlsafety.gradient_saliency(model, x, 2)
    b = mlsafety.gradient_saliency(model, x, torch.full((len(x),), 2, dtype=torch.long))
    assert torch.equal(a, b)


def test_saliency_restores_training_mode_and_leaves_input_untouched(batch) -> None:
    model, x, t = batch
    model.train()
    x0 = x.clone()
    mlsafety.gradient_saliency(model, x, t)
    assert model.training
    assert torch.equal(x, x0) and not x.requires_grad


@pytest.mark.parametrize(
    "fn", [mlsafety.gradient_saliency, mlsafety.smoothgrad, mlsafety.integrated_gradients, mlsafety.occlusion_map]
)
def test_bad_targets_are_rejected(batch, fn) -> None:
    model, x, _ = batch
    with pytest.raises(ValueError, match="target"):
        fn(model, x, torch.tensor([0, 1]))  # wrong batch size
    with pytest.raises(ValueError, match="target"):
        fn(model, x, torch.zeros(len(x)))  # float targets
    with pytest.raises(ValueError, match="target"):
        fn(model, x, 7)  # class out of range
    with pytest.raises(TypeError):
        fn(model, x, "1")


def test_unbatched_input_is_rejected(batch) -> None:
    model, x, _ = batch
    with pytest.raises(ValueError, match="batched"):
        mlsafety.gradient_saliency(model, torch.rand(16), 0)


# smoothgrad ----------------------------------------------------------------------------------------


def test_smoothgrad_is_deterministic_with_a_seed(batch) -> None:
    model, x, t = batch
    a = mlsafety.smoothgrad(model, x, t, n=8, sigma=0.2, seed=3)
    b = mlsafety.smoothgrad(model, x, t, n=8, sigma=0.2, seed=3)
    c = mlsafety.smoothgrad(model, x, t, n=8, sigma=0.2, seed=4)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert a.shape == x.shape and (a >= 0).all()


def test_smoothgrad_with_zero_noise_equals_saliency(batch) -> None:
    model, x, t = batch
    assert torch.allclose(
        mlsafety.smoothgrad(model, x, t, n=5, sigma=0.0), mlsafety.gradient_saliency(model, x, t), atol=1e-6
    )


def test_smoothgrad_rejects_bad_parameters(batch) -> None:
    model, x, t = batch
    with pytest.raises(ValueError, match="n must"):
        mlsafety.smoothgrad(model, x, t, n=0)
    with pytest.raises(ValueError, match="sigma"):
        mlsafety.smoothgrad(model, x, t, sigma=-0.1)


# integrated_gradients ------------------------------------------------------------------------------


def test_integrated_gradients_completeness(batch) -> None:
    model, x, t = batch
    attr = mlsafety.integrated_gradients(model, x, t, steps=200)
    with torch.no_grad():
        delta = (model(x) - model(torch.zeros_like(x))).gather(1, t[:, None])[:, 0]
    assert attr.shape == x.shape
    assert torch.allclose(attr.flatten(1).sum(1), delta, rtol=1e-2, atol=1e-3)


def test_integrated_gradients_with_custom_baseline(batch) -> None:
    model, x, t = batch
    baseline = torch.full((1, 1, 4, 4), 0.5)
    attr = mlsafety.integrated_gradients(model, x, t, baseline=baseline, steps=200)
    with torch.no_grad():
        delta = (model(x) - model(baseline.expand_as(x))).gather(1, t[:, None])[:, 0]
    assert torch.allclose(attr.flatten(1).sum(1), delta, rtol=1e-2, atol=1e-3)
    same = mlsafety.integrated_gradients(model, baseline.expand_as(x), t, baseline=baseline)
    assert torch.equal(same, torch.zeros_like(x)), "an input equal to the baseline gets zero attribution"


def linear_model_and_inputs(n: int) -> tuple[nn.Sequential, torch.Tensor]:
    """A seeded linear model on 2x2 images and `n` random images for it."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), torch.rand(n, 1, 2, 2)


def test_integrated_gradients_is_exact_for_a_linear_model() -> None:
    lin, x = linear_model_and_inputs(3)
    attr = mlsafety.integrated_gradients(lin, x, 0, steps=1)
    assert torch.allclose(attr, x * lin[1].weight[0].detach().view(1, 1, 2, 2))


def test_integrated_gradients_rejects_bad_arguments(batch) -> None:
    model, x, t = batch
    with pytest.raises(ValueError, match="steps"):
        mlsafety.integrated_gradients(model, x, t, steps=0)
    with pytest.raises(ValueError, match="baseline"):
        mlsafety.integrated_gradients(model, x, t, baseline=torch.zeros(3, 3))


# occlusion_map -------------------------------------------------------------------------------------


def test_occlusion_shape_and_meaning(batch) -> None:
    model, x, t = batch
    occ = mlsafety.occlusion_map(model, x, t, patch=2)
    assert occ.shape == (len(x), 4, 4)
    blank = mlsafety.occlusion_map(model, torch.zeros_like(x), t, patch=2)
    assert torch.allclose(blank, torch.zeros_like(blank)), "occluding a blank image changes nothing"


def test_occlusion_of_linear_model_with_unit_patch() -> None:
    lin, x = linear_model_and_inputs(2)
    occ = mlsafety.occlusion_map(lin, x, 1, patch=1)
    assert torch.allclose(occ, (x * lin[1].weight[1].detach().view(1, 1, 2, 2))[:, 0], atol=1e-6)


def test_occlusion_rejects_bad_arguments(batch) -> None:
    model, x, t = batch
    with pytest.raises(ValueError, match="patch"):
        mlsafety.occlusion_map(model, x, t, patch=5)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        mlsafety.occlusion_map(model, x.flatten(1), t)


# layer_activations and linear_probe_accuracy ----------------------------------------------------------


def test_layer_activations_shape_and_values(batch) -> None:
    model, x, _ = batch
    acts = mlsafety.layer_activations(model, model[2], x, batch_size=2)
    assert acts.shape == (len(x), 12)
    with torch.no_grad():
        assert torch.allclose(acts, model[:3](x))
    assert all(not m._forward_hooks for m in model.modules()), "the hook is removed"


def test_layer_activations_rejects_foreign_layer(batch) -> None:
    model, x, _ = batch
    with pytest.raises(ValueError, match="submodule"):
        mlsafety.layer_activations(model, nn.ReLU(), x)


def test_linear_probe_separable_and_random_labels() -> None:
    g = torch.Generator().manual_seed(0)
    centres = 4 * torch.randn(3, 5, generator=g)
    y = torch.arange(300) % 3
    f = centres[y] + torch.randn(300, 5, generator=g)
    assert mlsafety.linear_probe_accuracy(f[:200], y[:200], f[200:], y[200:]) > 0.95
    noise = torch.randn(300, 5, generator=g)
    acc = mlsafety.linear_probe_accuracy(noise[:200], y[:200], noise[200:], y[200:])
    assert acc < 0.6, "nothing to decode from pure noise"
    assert acc == mlsafety.linear_probe_accuracy(noise[:200], y[:200], noise[200:], y[200:]), "deterministic"


def test_linear_probe_rejects_mismatched_inputs() -> None:
    f = torch.randn(10, 3)
    with pytest.raises(ValueError):
        mlsafety.linear_probe_accuracy(f, torch.zeros(9, dtype=torch.long), f, torch.zeros(10, dtype=torch.long))
    with pytest.raises(ValueError):
        mlsafety.linear_probe_accuracy(
            f, torch.zeros(10, dtype=torch.long), torch.randn(10, 4), torch.zeros(10, dtype=torch.long)
        )
