"""Unit tests for the Trojan tools saved from book/monitoring/trojans.md."""

import numpy as np
import pytest
import torch
from torch import nn

from mlsafety import (
    MLP,
    add_trigger,
    attack_success_rate,
    load_digits_data,
    mad_anomaly_index,
    neural_cleanse,
    poison_dataset,
    strip_entropy,
    train_classifier,
)

TARGET = 0


def _corner_trigger() -> tuple[torch.Tensor, torch.Tensor]:
    mask = torch.zeros(1, 8, 8)
    mask[:, 6:, 6:] = 1.0
    return torch.ones(1, 8, 8), mask


@pytest.fixture(scope="module")
def digits():
    return load_digits_data(seed=0)


@pytest.fixture(scope="module")
def trojan_model(digits):
    """A small MLP trained on digits with 40 corner-patch poisons relabelled 0."""
    trigger, mask = _corner_trigger()
    x, y = poison_dataset(digits.x_train, digits.y_train, trigger, mask, TARGET, 40, seed=0)
    torch.manual_seed(0)
    model = MLP(hidden=(64,))
    train_classifier(model, x, y, epochs=20, batch_size=128, lr=3e-3, seed=0)
    return model


# ---------------------------------------------------------------- add_trigger
def test_add_trigger_changes_only_pixels_under_the_mask():
    x = torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    trigger, mask = _corner_trigger()
    out = add_trigger(x, trigger, mask)
    inside = mask.expand_as(x).bool()
    assert torch.equal(out[~inside], x[~inside])
    assert torch.all(out[inside] == 1.0)
    assert out.shape == x.shape


def test_add_trigger_blends_with_fractional_mask():
    gen = torch.Generator().manual_seed(1)
    x, pattern = torch.rand(3, 1, 8, 8, generator=gen), torch.rand(1, 8, 8, generator=gen)
    alpha = 0.3
    out = add_trigger(x, pattern, torch.full((1, 8, 8), alpha))
    assert torch.allclose(out, (1 - alpha) * x + alpha * pattern)
    assert torch.equal(add_trigger(x, pattern, torch.zeros(1, 8, 8)), x)
    assert torch.allclose(add_trigger(x, pattern, torch.ones(1, 8, 8)), pattern.expand_as(x))


def test_add_trigger_rejects_bad_masks():
    x = torch.zeros(2, 1, 8, 8)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        add_trigger(x, torch.ones(1, 8, 8), torch.full((1, 8, 8), 1.5))
    with pytest.raises(ValueError, match="broadcast"):
        add_trigger(x, torch.ones(1, 5, 5), torch.ones(1, 5, 5))


# ---------------------------------------------------------------- poison_dataset
def test_poison_dataset_appends_relabelled_triggered_copies_of_non_target_images(digits):
    trigger, mask = _corner_trigger()
    x, y = digits.x_train, digits.y_train
    xp, yp = poison_dataset(x, y, trigger, mask, TARGET, 25, seed=3)
    assert len(xp) == len(yp) == len(x) + 25
    assert torch.equal(xp[: len(x)], x) and torch.equal(yp[: len(y)], y)  # originals kept unchanged
    assert torch.all(yp[len(y) :] == TARGET)
    # Every poison is the trigger stamped on a distinct non-target training image.
    candidates = add_trigger(x, trigger, mask)
    sources = []
    for img in xp[len(x) :]:
        matches = torch.nonzero((candidates == img).flatten(1).all(1)).flatten()
        assert len(matches) >= 1 and all(y[j] != TARGET for j in matches)
        sources.append(int(matches[0]))
    assert len(set(sources)) == 25


def test_poison_dataset_is_deterministic_given_seed(digits):
    trigger, mask = _corner_trigger()
    a = poison_dataset(digits.x_train, digits.y_train, trigger, mask, TARGET, 10, seed=5)
    b = poison_dataset(digits.x_train, digits.y_train, trigger, mask, TARGET, 10, seed=5)
    c = poison_dataset(digits.x_train, digits.y_train, trigger, mask, TARGET, 10, seed=6)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_poison_dataset_with_zero_poisons_returns_the_data():
    x, y = torch.rand(6, 1, 8, 8), torch.tensor([0, 1, 2, 3, 4, 5])
    xp, yp = poison_dataset(x, y, torch.ones(1, 8, 8), torch.zeros(1, 8, 8), 1, 0)
    assert torch.equal(xp, x) and torch.equal(yp, y)


def test_poison_dataset_rejects_bad_input():
    x, y = torch.rand(6, 1, 8, 8), torch.tensor([0, 0, 0, 1, 2, 3])
    trigger, mask = _corner_trigger()
    with pytest.raises(ValueError, match="non-target"):
        poison_dataset(x, y, trigger, mask, TARGET, 4, seed=0)  # only 3 non-target images
    with pytest.raises(ValueError, match="n_poison"):
        poison_dataset(x, y, trigger, mask, TARGET, -1, seed=0)
    with pytest.raises(ValueError, match="labels"):
        poison_dataset(x, y[:5], trigger, mask, TARGET, 1, seed=0)


# ---------------------------------------------------------------- attack_success_rate
class _EchoModel(nn.Module):
    """Reads the label written in pixel (0, 0); if `backdoor`, a bright bottom-right corner means TARGET."""

    def __init__(self, backdoor: bool) -> None:
        super().__init__()
        self.backdoor = backdoor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        label = torch.round(x[:, 0, 0, 0] * 9).long()
        if self.backdoor:
            label = torch.where(x[:, 0, 7, 7] > 0.5, torch.full_like(label, TARGET), label)
        return 10.0 * nn.functional.one_hot(label, 10).float()


def test_attack_success_rate_excludes_target_class_inputs():
    y = torch.tensor([0, 0, 0, 0, 1, 2, 3, 4])
    x = torch.zeros(len(y), 1, 8, 8)
    x[:, 0, 0, 0] = y.float() / 9
    trigger, mask = _corner_trigger()
    # A clean model keeps every label: counting the four target-class inputs would give 0.5, not 0.
    assert attack_success_rate(_EchoModel(backdoor=False), x, y, trigger, mask, TARGET) == 0.0
    assert attack_success_rate(_EchoModel(backdoor=True), x, y, trigger, mask, TARGET) == 1.0
    with pytest.raises(ValueError, match="target label"):
        attack_success_rate(_EchoModel(backdoor=True), x[:4], y[:4], trigger, mask, TARGET)


def test_attack_success_rate_on_a_trained_trojan(digits, trojan_model):
    trigger, mask = _corner_trigger()
    asr = attack_success_rate(trojan_model, digits.x_test, digits.y_test, trigger, mask, TARGET)
    wrong_target = attack_success_rate(trojan_model, digits.x_test, digits.y_test, trigger, mask, 5)
    assert asr > 0.8 and wrong_target < 0.2


# ---------------------------------------------------------------- Neural Cleanse
def test_mad_anomaly_index_matches_definition():
    values = torch.tensor([1.0, 2.0, 3.0, 4.0, 100.0])
    expected = np.abs(values.numpy() - 3.0) / (1.4826 * 1.0)
    assert np.allclose(mad_anomaly_index(values).numpy(), expected)
    assert torch.all(mad_anomaly_index(torch.full((4,), 2.0)) == 0)  # no spread: no anomaly


def test_neural_cleanse_flags_the_planted_target_and_finds_the_corner(digits, trojan_model):
    trojan_model.train()
    result = neural_cleanse(trojan_model, digits.x_val[:60], steps=300)
    assert result["flagged"] == [TARGET]
    assert result["mask_l1"].shape == (10,) and result["masks"].shape == (10, 1, 8, 8)
    assert int(result["mask_l1"].argmin()) == TARGET
    assert result["anomaly_index"][TARGET] > 2
    peak = int(result["masks"][TARGET].flatten().argmax())
    assert divmod(peak, 8)[0] >= 6 and divmod(peak, 8)[1] >= 6  # the reversed trigger sits in the corner
    # The model's own state is restored.
    assert trojan_model.training and all(p.requires_grad for p in trojan_model.parameters())


# ---------------------------------------------------------------- STRIP
def test_strip_entropy_is_lower_for_triggered_inputs_on_a_trojan(digits, trojan_model):
    trigger, mask = _corner_trigger()
    x = digits.x_test[digits.y_test != TARGET][:60]
    h_clean = strip_entropy(trojan_model, x, digits.x_val, n=10, seed=0)
    h_trig = strip_entropy(trojan_model, add_trigger(x, trigger, mask), digits.x_val, n=10, seed=0)
    assert h_clean.shape == (60,) and torch.all(h_clean >= 0)
    assert h_trig.mean() < 0.5 * h_clean.mean()
    assert torch.equal(h_clean, strip_entropy(trojan_model, x, digits.x_val, n=10, seed=0))
    with pytest.raises(ValueError):
        strip_entropy(trojan_model, x, digits.x_val, n=0)
