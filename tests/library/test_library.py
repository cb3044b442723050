"""Unit tests of the `mlsafety` library built in the Background chapters."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mlsafety


@pytest.fixture(scope="module")
def digits() -> mlsafety.DigitsData:
    return mlsafety.load_digits_data(seed=0)


def test_seed_everything_makes_draws_repeat() -> None:
    mlsafety.seed_everything(3)
    first = (torch.rand(3), np.random.rand(3))
    mlsafety.seed_everything(3)
    second = (torch.rand(3), np.random.rand(3))
    assert torch.equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    mlsafety.seed_everything(4)
    assert not torch.equal(first[0], torch.rand(3))


def test_device_is_usable() -> None:
    dev = mlsafety.device()
    assert isinstance(dev, torch.device)
    assert dev.type == ("cuda" if torch.cuda.is_available() else "cpu")
    torch.zeros(1, device=dev)


def test_digits_splits_shapes_ranges_and_disjointness(digits: mlsafety.DigitsData) -> None:
    parts = [(digits.x_train, digits.y_train), (digits.x_val, digits.y_val), (digits.x_test, digits.y_test)]
    assert sum(len(x) for x, _ in parts) == 1797
    for x, y in parts:
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert x.shape[1:] == (1, 8, 8) and len(x) == len(y)
        assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
        assert set(y.tolist()) == set(range(10)), "every split holds every class (stratified)"
    assert digits.n_classes == 10
    flat = [{tuple(row.flatten().tolist()) for row in x} for x, _ in parts]
    # the raw digits contain a few exact duplicates, so allow a handful of collisions
    assert len(flat[0] & flat[2]) < 10 and len(flat[1] & flat[2]) < 10


def test_digits_split_is_seeded(digits: mlsafety.DigitsData) -> None:
    again = mlsafety.load_digits_data(seed=0)
    other = mlsafety.load_digits_data(seed=1)
    assert torch.equal(digits.x_test, again.x_test) and torch.equal(digits.y_train, again.y_train)
    assert not torch.equal(digits.x_test, other.x_test)


@pytest.mark.parametrize("model", [mlsafety.MLP(), mlsafety.SmallCNN()], ids=["mlp", "cnn"])
def test_models_map_images_to_logits(model: torch.nn.Module, digits: mlsafety.DigitsData) -> None:
    logits = model(digits.x_val[:5])
    assert logits.shape == (5, 10)


def test_training_learns_and_is_deterministic(digits: mlsafety.DigitsData) -> None:
    def run() -> tuple[dict, torch.Tensor, float]:
        mlsafety.seed_everything(0)
        model = mlsafety.MLP()
        history = mlsafety.train_classifier(
            model, digits.x_train, digits.y_train, epochs=5, x_val=digits.x_val, y_val=digits.y_val, seed=0
        )
        logits = mlsafety.predict_logits(model, digits.x_test)
        return history, logits, mlsafety.accuracy(model, digits.x_test, digits.y_test)

    history, logits, acc = run()
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert len(history["val_acc"]) == 5
    assert acc > 0.85, f"an MLP should beat 85 % on digits after 5 epochs, got {acc:.3f}"
    assert logits.device.type == "cpu" and logits.shape == (len(digits.x_test), 10)
    history2, logits2, acc2 = run()
    assert torch.allclose(logits, logits2) and acc == acc2


def test_custom_loss_hook_is_used(digits: mlsafety.DigitsData) -> None:
    calls = []

    def loss_fn(model: torch.nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        calls.append(len(xb))
        return torch.nn.functional.cross_entropy(model(xb), yb)

    mlsafety.train_classifier(
        mlsafety.MLP(), digits.x_train[:128], digits.y_train[:128], epochs=1, batch_size=64, loss_fn=loss_fn
    )
    assert calls == [64, 64]


@pytest.mark.parametrize("kwargs", [{"optimizer": "rmsprop"}, {"schedule": "linear-warmup-typo"}])
def test_bad_training_options_are_refused_clearly(kwargs: dict, digits: mlsafety.DigitsData) -> None:
    with pytest.raises(ValueError, match=list(kwargs.values())[0]):
        mlsafety.train_classifier(mlsafety.MLP(), digits.x_train[:64], digits.y_train[:64], epochs=1, **kwargs)


@pytest.mark.parametrize("optimizer,schedule", [("sgd", None), ("adam", "cosine"), ("adamw", "cosine")])
def test_every_optimizer_and_schedule_trains(optimizer: str, schedule: str | None, digits: mlsafety.DigitsData) -> None:
    model = mlsafety.MLP()
    lr = 0.05 if optimizer == "sgd" else 1e-3
    history = mlsafety.train_classifier(
        model, digits.x_train, digits.y_train, epochs=3, lr=lr, optimizer=optimizer, schedule=schedule
    )
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_accuracy_counts_correct_predictions() -> None:
    class Fixed(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.one_hot(torch.zeros(len(x), dtype=torch.long), 10).float()

    y = torch.tensor([0, 0, 1, 2])
    assert mlsafety.accuracy(Fixed(), torch.zeros(4, 1, 8, 8), y) == pytest.approx(0.5)
