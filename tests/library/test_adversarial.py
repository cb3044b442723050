"""Unit tests of the attacks, adversarial training and randomised smoothing in `mlsafety`.

They exercise the code saved from book/robustness/adversarial-robustness.md exactly as the chapter
defines it, on a small MLP trained for a few epochs on the bundled digits (a module fixture).
"""

from __future__ import annotations

from statistics import NormalDist

import pytest
import torch
from scipy.stats import beta
from torch import nn

import mlsafety

EPS = 0.1


@pytest.fixture(scope="module")
def digits() -> mlsafety.DigitsData:
    return mlsafety.load_digits_data(seed=0)


@pytest.fixture(scope="module")
def model(digits: mlsafety.DigitsData) -> nn.Module:
    mlsafety.seed_everything(0)
    net = mlsafety.MLP(hidden=(64,))
    mlsafety.train_classifier(net, digits.x_train, digits.y_train, epochs=15, seed=0)
    assert mlsafety.accuracy(net, digits.x_test, digits.y_test) > 0.9
    return net


@pytest.fixture(scope="module")
def batch(digits: mlsafety.DigitsData) -> tuple[torch.Tensor, torch.Tensor]:
    return digits.x_test[:120], digits.y_test[:120]


class Constant(nn.Module):
    """A 'classifier' that always predicts the same class, whatever the input."""

    def __init__(self, label: int = 3, n_classes: int = 10) -> None:
        super().__init__()
        self.logits = nn.Parameter(nn.functional.one_hot(torch.tensor(label), n_classes).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits.expand(len(x), -1)


class CoinFlip(nn.Module):
    """Class 1 when the sum of the input is positive, else 0: a fair coin under zero-mean noise at x = 0."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(1.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.scale * x.flatten(1).sum(1)
        return torch.stack([-s, s], dim=1)


class ModeRecorder(nn.Module):
    """Wraps a model and records whether it was in training mode at each forward pass."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner, self.modes = inner, []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.modes.append(self.training)
        return self.inner(x)


def linf(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).flatten(1).abs().amax(1)


def l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).flatten(1).norm(dim=1)


# --- FGSM and PGD: shapes, clipping, the eps-ball -------------------------------------------------


def test_fgsm_shape_range_and_ball(model: nn.Module, batch: tuple) -> None:
    x, y = batch
    for targeted in (False, True):
        x_adv = mlsafety.fgsm(model, x, y, EPS, targeted=targeted)
        assert x_adv.shape == x.shape and x_adv.dtype == x.dtype and x_adv.device == x.device
        assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0
        assert float(linf(x_adv, x).max()) <= EPS + 1e-6
        assert not x_adv.requires_grad


@pytest.mark.parametrize("norm, dist", [("linf", linf), ("l2", l2)])
@pytest.mark.parametrize("random_start", [True, False])
def test_pgd_shape_range_and_ball(model: nn.Module, batch: tuple, norm: str, dist, random_start: bool) -> None:
    x, y = batch
    eps = EPS if norm == "linf" else 1.0
    x_adv = mlsafety.pgd(model, x, y, eps, eps / 4, 10, norm=norm, random_start=random_start, seed=0)
    assert x_adv.shape == x.shape and x_adv.dtype == x.dtype
    assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0
    assert float(dist(x_adv, x).max()) <= eps + 1e-5
    assert float(dist(x_adv, x).max()) > 0.5 * eps, "the attack should use its budget"


@pytest.mark.parametrize("norm, dist", [("linf", linf), ("l2", l2)])
def test_project_perturbation_lands_in_the_ball(norm: str, dist) -> None:
    delta = torch.randn(8, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    projected = mlsafety.project_perturbation(delta, 0.3, norm)
    assert float(dist(projected, torch.zeros_like(projected)).max()) <= 0.3 + 1e-6
    small = 1e-3 * delta
    assert torch.allclose(mlsafety.project_perturbation(small, 0.3, norm), small), "inside: unchanged"


def test_zero_budget_changes_nothing(model: nn.Module, batch: tuple) -> None:
    x, y = batch
    assert torch.equal(mlsafety.fgsm(model, x, y, 0.0), x)
    assert torch.equal(mlsafety.pgd(model, x, y, 0.0, 0.01, 5, seed=0), x)


def test_pgd_is_seeded(model: nn.Module, batch: tuple) -> None:
    x, y = batch
    a = mlsafety.pgd(model, x, y, EPS, 0.025, 3, seed=1)
    b = mlsafety.pgd(model, x, y, EPS, 0.025, 3, seed=1)
    c = mlsafety.pgd(model, x, y, EPS, 0.025, 0, seed=2)
    d = mlsafety.pgd(model, x, y, EPS, 0.025, 0, seed=3)
    assert torch.equal(a, b) and not torch.equal(c, d)


# --- attack strength -------------------------------------------------------------------------------


def test_attacks_hurt_and_pgd_at_least_as_strong_as_fgsm(model: nn.Module, batch: tuple) -> None:
    x, y = batch
    clean = mlsafety.adversarial_accuracy(model, (x, y))
    acc_fgsm = mlsafety.adversarial_accuracy(model, (x, y), mlsafety.fgsm, eps=EPS)
    acc_pgd = mlsafety.adversarial_accuracy(model, (x, y), mlsafety.pgd, eps=EPS, alpha=0.025, steps=20, seed=0)
    assert acc_fgsm < clean - 0.2
    assert acc_pgd <= acc_fgsm + 0.01, "PGD must be at least as strong as FGSM on the same budget"
    # the loss reached by PGD is at least that reached by FGSM
    loss = nn.functional.cross_entropy
    with torch.no_grad():
        assert (
            loss(model(mlsafety.pgd(model, x, y, EPS, 0.025, 20, seed=0)), y)
            >= loss(model(mlsafety.fgsm(model, x, y, EPS)), y) - 1e-4
        )


def test_pgd_never_weaker_with_more_steps(model: nn.Module, batch: tuple) -> None:
    x, y = batch
    accs = [
        mlsafety.adversarial_accuracy(model, (x, y), mlsafety.pgd, eps=EPS, alpha=0.025, steps=t, seed=0)
        for t in (1, 5, 20)
    ]
    assert accs[0] >= accs[1] >= accs[2]


@pytest.mark.parametrize("norm, eps", [("linf", 0.3), ("l2", 2.0)])
def test_targeted_pgd_reaches_the_target(model: nn.Module, batch: tuple, norm: str, eps: float) -> None:
    x, y = batch
    target = (y + 3) % 10
    x_adv = mlsafety.pgd(model, x, target, eps, eps / 8, 40, norm=norm, targeted=True, seed=0)
    hit = (mlsafety.predict_logits(model, x_adv).argmax(1) == target).float().mean().item()
    assert hit > 0.8


def test_targeted_fgsm_moves_toward_the_target(model: nn.Module, batch: tuple) -> None:
    x, y = batch
    target = (y + 3) % 10
    before = mlsafety.predict_logits(model, x).log_softmax(1).gather(1, target[:, None]).mean()
    after = mlsafety.predict_logits(model, mlsafety.fgsm(model, x, target, EPS, targeted=True)).log_softmax(1)
    assert after.gather(1, target[:, None]).mean() > before + 0.5


# --- side effects on the model -------------------------------------------------------------------


def test_attacks_use_eval_mode_restore_mode_and_leave_no_gradients(batch: tuple) -> None:
    x, y = batch
    mlsafety.seed_everything(0)
    inner = mlsafety.MLP(hidden=(32,), dropout=0.5)
    recorder = ModeRecorder(inner)
    recorder.train()
    mlsafety.fgsm(recorder, x, y, EPS)
    mlsafety.pgd(recorder, x, y, EPS, 0.025, 3, seed=0)
    mlsafety.smoothed_predict(recorder, x[:2], sigma=0.25, n=10)
    mlsafety.certify(recorder, x[:2], sigma=0.25, n0=5, n=10)
    assert recorder.modes and not any(recorder.modes), "attacks must run the model in eval mode"
    assert recorder.training and inner.training, "the caller's training mode must be restored"
    assert all(p.grad is None for p in recorder.parameters()), "no gradient may leak into parameters"
    recorder.eval()
    mlsafety.pgd(recorder, x, y, EPS, 0.025, 2, seed=0)
    assert not recorder.training


# --- bad input -------------------------------------------------------------------------------------


def test_bad_arguments_raise(model: nn.Module, batch: tuple) -> None:
    x, y = batch
    with pytest.raises(ValueError, match="norm"):
        mlsafety.pgd(model, x, y, EPS, 0.01, 5, norm="l1")
    with pytest.raises(ValueError, match="norm"):
        mlsafety.project_perturbation(x, EPS, "linfinity")
    with pytest.raises(ValueError, match="eps"):
        mlsafety.pgd(model, x, y, -0.1, 0.01, 5)
    with pytest.raises(ValueError, match="eps"):
        mlsafety.fgsm(model, x, y, -0.1)
    with pytest.raises(ValueError, match="eps"):
        mlsafety.fgsm(model, x, y, float("nan"))
    with pytest.raises(ValueError, match="steps"):
        mlsafety.pgd(model, x, y, EPS, 0.01, -1)
    with pytest.raises(ValueError, match="length"):
        mlsafety.fgsm(model, x, y[:-1], EPS)
    with pytest.raises(ValueError):
        mlsafety.adversarial_accuracy(model, [])
    with pytest.raises(ValueError):
        mlsafety.certify(model, x[:2], sigma=0.0, n0=5, n=10)
    with pytest.raises(ValueError):
        mlsafety.smoothed_predict(model, x[:2], sigma=0.25, n=10, alpha=1.5)


# --- adversarial_accuracy ------------------------------------------------------------------------


def test_adversarial_accuracy_accepts_tensors_and_batches(model: nn.Module, batch: tuple) -> None:
    x, y = batch
    assert mlsafety.adversarial_accuracy(model, (x, y)) == pytest.approx(mlsafety.accuracy(model, x, y))
    whole = mlsafety.adversarial_accuracy(model, (x, y), mlsafety.fgsm, eps=EPS)
    batches = [(x[i : i + 40], y[i : i + 40]) for i in range(0, len(x), 40)]
    assert mlsafety.adversarial_accuracy(model, batches, mlsafety.fgsm, eps=EPS) == pytest.approx(whole)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=50)
    assert mlsafety.adversarial_accuracy(model, loader, mlsafety.fgsm, eps=EPS) == pytest.approx(whole)


# --- adversarial training ----------------------------------------------------------------------


def test_pgd_loss_is_a_differentiable_scalar(model: nn.Module, batch: tuple) -> None:
    x, y = batch
    loss = mlsafety.pgd_loss(EPS, 0.025, 3)(model, x, y)
    assert loss.dim() == 0 and loss.requires_grad
    clean = nn.functional.cross_entropy(model(x), y)
    assert loss.item() > clean.item(), "the loss on adversarial examples exceeds the clean loss"
    model.zero_grad()


def test_adversarial_training_raises_robust_accuracy(digits: mlsafety.DigitsData, model: nn.Module) -> None:
    mlsafety.seed_everything(0)
    robust = mlsafety.MLP(hidden=(64,))
    history = mlsafety.adversarial_training(
        robust, digits.x_train, digits.y_train, eps=0.15, alpha=0.04, steps=3, epochs=15, seed=0
    )
    assert len(history["train_loss"]) == 15
    test = (digits.x_test, digits.y_test)
    kwargs = dict(eps=0.15, alpha=0.04, steps=10, seed=0)
    before = mlsafety.adversarial_accuracy(model, test, mlsafety.pgd, **kwargs)
    after = mlsafety.adversarial_accuracy(robust, test, mlsafety.pgd, **kwargs)
    assert after > before + 0.15
    assert mlsafety.adversarial_accuracy(robust, test) > 0.85


def test_smoothing_noise_loss(model: nn.Module, batch: tuple) -> None:
    x, y = batch
    a = mlsafety.smoothing_noise_loss(0.25, seed=0)(model, x, y)
    b = mlsafety.smoothing_noise_loss(0.25, seed=0)(model, x, y)
    assert a.dim() == 0 and a.requires_grad and torch.equal(a, b)
    assert a.item() > nn.functional.cross_entropy(model(x), y).item()
    model.zero_grad()


# --- randomised smoothing ------------------------------------------------------------------------


@pytest.mark.parametrize("n, alpha, sigma", [(100, 0.001, 0.25), (1000, 0.01, 0.5)])
def test_certify_radius_formula_on_a_constant_model(batch: tuple, n: int, alpha: float, sigma: float) -> None:
    x, _ = batch
    labels, radii = mlsafety.certify(Constant(3), x[:4], sigma=sigma, n0=10, n=n, alpha=alpha, seed=0)
    p_lower = beta.ppf(alpha, n, 1)  # Clopper-Pearson lower bound with n_A = n
    assert p_lower == pytest.approx(alpha ** (1 / n))
    expected = sigma * NormalDist().inv_cdf(p_lower)
    assert labels.tolist() == [3] * 4
    assert radii.shape == (4,) and torch.allclose(radii, torch.full((4,), expected), atol=1e-6)
    assert mlsafety.smoothed_predict(Constant(3), x[:4], sigma=sigma, n=n, alpha=alpha).tolist() == [3] * 4


def test_certify_and_predict_abstain_on_a_coin_flip() -> None:
    x = torch.zeros(3, 1, 8, 8)
    labels, radii = mlsafety.certify(CoinFlip(), x, sigma=0.5, n0=50, n=400, alpha=0.001, seed=0)
    assert labels.tolist() == [-1, -1, -1] and radii.tolist() == [0.0, 0.0, 0.0]
    assert mlsafety.smoothed_predict(CoinFlip(), x, sigma=0.5, n=400, alpha=0.001, seed=0).tolist() == [-1] * 3


def test_certify_on_a_trained_model(model: nn.Module, batch: tuple) -> None:
    x, y = batch
    labels, radii = mlsafety.certify(model, x[:40], sigma=0.1, n0=20, n=200, alpha=0.001, seed=0)
    assert labels.shape == radii.shape == (40,) and labels.dtype == torch.long
    assert bool(((labels >= -1) & (labels < 10)).all()) and bool((radii >= 0).all())
    assert bool((radii[labels == -1] == 0).all())
    assert float(radii.max()) <= 0.1 * NormalDist().inv_cdf(0.001 ** (1 / 200)) + 1e-6
    assert (labels == y[:40]).float().mean() > 0.7
    again = mlsafety.certify(model, x[:40], sigma=0.1, n0=20, n=200, alpha=0.001, seed=0)
    assert torch.equal(labels, again[0]) and torch.equal(radii, again[1])
