"""Library functions send their inputs to wherever the model is (CONTRIBUTING.md, "Code cells").

A reader in Colab has the model on `cuda` and may pass inputs made on the CPU. This machine has
no GPU, so the test stands in a second device: a probe model whose parameter lives on PyTorch's
`meta` device (shapes without data). Copying a CPU tensor to `meta` works, so a function that moves
its inputs to the model's device reaches the probe's forward with a `meta` input, and the probe
stops the call there. A function that forgets to move them hands the probe a CPU tensor: the same
mistake that crashed a chapter on a GPU ("Expected all tensors to be on the same device").
"""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn

import mlsafety


class ReachedModel(Exception):
    """The input arrived at the model's forward on the model's device."""


class DeviceProbe(nn.Module):
    """A model on the `meta` device that checks where its input is, then stops the call."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(64, 10, device="meta"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device != self.weight.device:
            raise AssertionError(f"the input reached the model on {x.device}, the model is on {self.weight.device}")
        raise ReachedModel


class ProbeMLP(nn.Module):
    """The probe inside an MLP-shaped model (`.net`), for functions that read the MLP's layers."""

    def __init__(self, probe: DeviceProbe) -> None:
        super().__init__()
        self.net = nn.Sequential(probe, nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


X = torch.rand(4, 64)
IMAGES = torch.rand(4, 1, 8, 8)
Y = torch.tensor([0, 1, 2, 3])
MASK = torch.zeros(64)
MASK[:4] = 1

# One call per library function that takes a model, with CPU inputs.
CALLS = {
    "predict_logits": lambda m: mlsafety.predict_logits(m, X),
    "accuracy": lambda m: mlsafety.accuracy(m, X, Y),
    "cross_entropy_loss": lambda m: mlsafety.cross_entropy_loss(m, X, Y),
    "fgsm": lambda m: mlsafety.fgsm(m, X, Y, eps=0.1),
    "pgd": lambda m: mlsafety.pgd(m, X, Y, eps=0.1, alpha=0.05, steps=2, seed=0),
    "adversarial_accuracy": lambda m: mlsafety.adversarial_accuracy(m, (X, Y)),
    "pgd_loss": lambda m: mlsafety.pgd_loss(eps=0.1, alpha=0.05, steps=1)(m, X, Y),
    "smoothed_predict": lambda m: mlsafety.smoothed_predict(m, X[:1], sigma=0.25, n=10),
    "certify": lambda m: mlsafety.certify(m, X[0], sigma=0.25, n0=10, n=20),
    "smoothing_noise_loss": lambda m: mlsafety.smoothing_noise_loss(sigma=0.25)(m, X, Y),
    "corruption_errors": lambda m: mlsafety.corruption_errors(m, IMAGES, Y, kinds=("gaussian_noise",), severities=(1,)),
    "mixup_loss": lambda m: mlsafety.mixup_loss()(m, X, Y),
    "augmix_loss": lambda m: mlsafety.augmix_loss()(m, IMAGES, Y),
    "pixmix_loss": lambda m: mlsafety.pixmix_loss(mlsafety.ifs_fractals(4, seed=0))(m, IMAGES, Y),
    "odin_score": lambda m: mlsafety.odin_score(m, X),
    "penultimate_features": lambda m: mlsafety.penultimate_features(ProbeMLP(m), X),
    "outlier_exposure_loss": lambda m: mlsafety.outlier_exposure_loss(X)(m, X, Y),
    "gradient_saliency": lambda m: mlsafety.gradient_saliency(m, X, Y),
    "smoothgrad": lambda m: mlsafety.smoothgrad(m, X, Y, n=2),
    "integrated_gradients": lambda m: mlsafety.integrated_gradients(m, X, Y, steps=2),
    "occlusion_map": lambda m: mlsafety.occlusion_map(m, IMAGES[:1], 0),
    "layer_activations": lambda m: mlsafety.layer_activations(m, m, X),
    "attack_success_rate": lambda m: mlsafety.attack_success_rate(m, X, Y, torch.ones(64), MASK, target=0),
    "neural_cleanse": lambda m: mlsafety.neural_cleanse(m, X, n_classes=10, steps=1),
    "strip_entropy": lambda m: mlsafety.strip_entropy(m, X, X, n=2),
    "safety_metric_panel": lambda m: mlsafety.safety_metric_panel(m, IMAGES, Y, IMAGES, n_adversarial=2),
    "monitor_report": lambda m: mlsafety.monitor_report(
        m, mlsafety.DigitsData(IMAGES, Y, IMAGES, Y, IMAGES, Y), {"noise": IMAGES}
    ),
}

# Functions that take a model but decide its device themselves (they move the model to
# mlsafety.device()), so a probe that cannot be moved is the wrong test for them; they are
# exercised on the GPU by `make gpu-check`.
MOVES_THE_MODEL = {"train_classifier", "adversarial_training", "train_one_epoch"}
TAKES_NO_INPUT = {"model_device"}  # tested on its own below


def functions_taking_a_model() -> set[str]:
    names = set()
    for name in mlsafety.__all__:
        obj = getattr(mlsafety, name)
        if inspect.isfunction(obj) and "model" in inspect.signature(obj).parameters:
            names.add(name)
    return names


def test_every_function_taking_a_model_is_covered() -> None:
    missing = functions_taking_a_model() - set(CALLS) - MOVES_THE_MODEL - TAKES_NO_INPUT
    assert not missing, f"add a call for each of these to CALLS in {__file__}: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(CALLS))
def test_inputs_reach_the_model_on_its_device(name: str) -> None:
    model = DeviceProbe()
    with pytest.raises(ReachedModel):
        CALLS[name](model)


def test_model_device_is_where_the_parameters_are() -> None:
    assert mlsafety.model_device(DeviceProbe()) == torch.device("meta")
    assert mlsafety.model_device(nn.ReLU()) == mlsafety.device()  # no parameters: the default device
