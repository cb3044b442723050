"""Unit tests of the Digits-C corruption benchmark and the augmentations of the Black Swan Robustness chapter."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mlsafety

RANDOM_KINDS = ("gaussian_noise", "impulse_noise", "fog", "occlusion", "translate", "rotate")


@pytest.fixture(scope="module")
def digits() -> mlsafety.DigitsData:
    return mlsafety.load_digits_data(seed=0)


@pytest.fixture(scope="module")
def images(digits: mlsafety.DigitsData) -> torch.Tensor:
    return digits.x_test[:120]


@pytest.fixture(scope="module")
def small_model(digits: mlsafety.DigitsData) -> torch.nn.Module:
    mlsafety.seed_everything(0)
    model = mlsafety.MLP(hidden=(32,))
    mlsafety.train_classifier(model, digits.x_train, digits.y_train, epochs=3, seed=0)
    return model


def test_benchmark_covers_required_kinds() -> None:
    kinds = mlsafety.CORRUPTIONS
    assert len(kinds) >= 6 and len(set(kinds)) == len(kinds)
    for required in ("gaussian_noise", "blur", "contrast"):
        assert required in kinds
    assert {"translate", "rotate"} & set(kinds), "a geometric shift is part of the benchmark"
    assert set(mlsafety.CORRUPTION_LEVELS) == set(kinds)
    assert all(len(levels) == 5 for levels in mlsafety.CORRUPTION_LEVELS.values())


@pytest.mark.parametrize("kind", mlsafety.CORRUPTIONS)
def test_corrupt_keeps_shape_dtype_and_range(kind: str, images: torch.Tensor) -> None:
    before = images.clone()
    for severity in range(1, 6):
        out = mlsafety.corrupt(images, kind, severity, seed=3)
        assert out.shape == images.shape and out.dtype == images.dtype
        assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
        assert not torch.equal(out, images), f"{kind} at severity {severity} should change the images"
    assert torch.equal(images, before), "corrupt must not modify its input"


@pytest.mark.parametrize("kind", mlsafety.CORRUPTIONS)
def test_corrupt_is_deterministic_given_the_seed(kind: str, images: torch.Tensor) -> None:
    first = mlsafety.corrupt(images, kind, 3, seed=7)
    assert torch.equal(first, mlsafety.corrupt(images, kind, 3, seed=7))
    if kind in RANDOM_KINDS:
        assert not torch.equal(first, mlsafety.corrupt(images, kind, 3, seed=8))


@pytest.mark.parametrize("kind", mlsafety.CORRUPTIONS)
def test_higher_severity_moves_images_further_from_clean(kind: str, digits: mlsafety.DigitsData) -> None:
    x = digits.x_test[:200]
    dist = [(mlsafety.corrupt(x, kind, s) - x).flatten(1).norm(dim=1).mean().item() for s in range(1, 6)]
    assert all(a < b for a, b in zip(dist, dist[1:], strict=False)), f"{kind}: mean distances {np.round(dist, 3)}"


@pytest.mark.parametrize("severity", [0, 6, -1, 2.5, "3", True])
def test_corrupt_refuses_a_bad_severity(severity: object, images: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="severity"):
        mlsafety.corrupt(images, "blur", severity)


def test_corrupt_refuses_unknown_kinds_and_shapes(images: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="unknown corruption 'snow'"):
        mlsafety.corrupt(images, "snow", 1)
    with pytest.raises(ValueError, match="shape"):
        mlsafety.corrupt(images[:, 0], "blur", 1)


def test_corruption_errors_table(small_model: torch.nn.Module, digits: mlsafety.DigitsData) -> None:
    errors = mlsafety.corruption_errors(small_model, digits.x_test, digits.y_test)
    assert set(errors) == set(mlsafety.CORRUPTIONS)
    for e in errors.values():
        assert e.shape == (5,) and np.all((e >= 0) & (e <= 1))
    clean_error = 1 - mlsafety.accuracy(small_model, digits.x_test, digits.y_test)
    assert np.mean([e[-1] for e in errors.values()]) > clean_error, "severity 5 should cost accuracy"
    subset = mlsafety.corruption_errors(small_model, digits.x_test, digits.y_test, kinds=("blur",), severities=(1, 5))
    assert list(subset) == ["blur"] and subset["blur"].shape == (2,)
    assert np.allclose(subset["blur"], errors["blur"][[0, 4]])


def test_baseline_scores_exactly_100_against_itself(small_model: torch.nn.Module, digits: mlsafety.DigitsData) -> None:
    errors = mlsafety.corruption_errors(small_model, digits.x_test, digits.y_test)
    clean = 1 - mlsafety.accuracy(small_model, digits.x_test, digits.y_test)
    assert mlsafety.mean_corruption_error(errors, errors) == pytest.approx(100.0)
    assert all(v == pytest.approx(100.0) for v in mlsafety.normalized_corruption_errors(errors, errors).values())
    assert mlsafety.relative_mean_corruption_error(errors, clean, errors, clean) == pytest.approx(100.0)


def test_mce_and_relative_mce_follow_the_definitions() -> None:
    errors = {"a": np.full(5, 0.1), "b": np.full(5, 0.2)}
    baseline = {"a": np.full(5, 0.2), "b": np.full(5, 0.2)}
    ce = mlsafety.normalized_corruption_errors(errors, baseline)
    assert ce == pytest.approx({"a": 50.0, "b": 100.0})
    assert mlsafety.mean_corruption_error(errors, baseline) == pytest.approx(75.0)
    # relative CE: a (0.1-0.05)/(0.2-0.1) = 50 %, b (0.2-0.05)/(0.2-0.1) = 150 %
    assert mlsafety.relative_mean_corruption_error(errors, 0.05, baseline, 0.1) == pytest.approx(100.0)


def test_mce_refuses_mismatched_or_degenerate_inputs() -> None:
    errors = {"a": np.full(5, 0.1)}
    with pytest.raises(ValueError, match="same corruption kinds"):
        mlsafety.mean_corruption_error(errors, {"b": np.full(5, 0.1)})
    with pytest.raises(ValueError, match="no errors"):
        mlsafety.mean_corruption_error(errors, {"a": np.zeros(5)})


def train_with_loss(digits: mlsafety.DigitsData, loss_fn) -> torch.nn.Module:
    """A small MLP trained (seeded) for 3 epochs on 256 digits with `loss_fn`; its loss must fall."""
    mlsafety.seed_everything(0)
    model = mlsafety.MLP(hidden=(32,))
    history = mlsafety.train_classifier(
        model, digits.x_train[:256], digits.y_train[:256], epochs=3, loss_fn=loss_fn, seed=0
    )
    assert all(np.isfinite(history["train_loss"]))
    assert history["train_loss"][-1] < history["train_loss"][0]
    return model


def test_mixup_loss_plugs_into_training_and_is_deterministic(digits: mlsafety.DigitsData) -> None:
    logits = [
        mlsafety.predict_logits(train_with_loss(digits, mlsafety.mixup_loss(alpha=0.4, seed=1)), digits.x_test[:20])
        for _ in range(2)
    ]
    assert torch.allclose(logits[0], logits[1])
    with pytest.raises(ValueError, match="alpha"):
        mlsafety.mixup_loss(alpha=0.0)


def test_augmix_keeps_shape_and_range_and_is_seeded(images: torch.Tensor) -> None:
    out = mlsafety.augmix(images, seed=0)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert torch.equal(out, mlsafety.augmix(images, seed=0))
    assert not torch.equal(out, mlsafety.augmix(images, seed=1))
    assert not torch.equal(out, images)
    rng = np.random.default_rng(5)
    assert not torch.equal(mlsafety.augmix(images, seed=rng), mlsafety.augmix(images, seed=rng)), (
        "a shared generator gives fresh draws on each call"
    )


def test_augmix_does_not_use_the_test_corruptions() -> None:
    assert not set(mlsafety.AUGMIX_OPS) & set(mlsafety.CORRUPTIONS)


@pytest.mark.parametrize("consistency", [0.0, 12.0])
def test_augmix_loss_plugs_into_training(consistency: float, digits: mlsafety.DigitsData) -> None:
    train_with_loss(digits, mlsafety.augmix_loss(consistency=consistency, seed=0))
    with pytest.raises(ValueError, match="consistency"):
        mlsafety.augmix_loss(consistency=-1.0)


def test_ifs_fractals_shape_range_and_seed() -> None:
    pics = mlsafety.ifs_fractals(5, seed=0)
    assert pics.shape == (5, 1, 8, 8) and pics.dtype == torch.float32
    assert float(pics.min()) >= 0.0 and float(pics.max()) <= 1.0
    assert torch.allclose(pics.amax(dim=(1, 2, 3)), torch.ones(5)), "each picture is scaled to peak 1"
    assert torch.equal(pics, mlsafety.ifs_fractals(5, seed=0))
    assert not torch.equal(pics, mlsafety.ifs_fractals(5, seed=1))


def test_pixmix_keeps_shape_and_range_and_is_seeded(images: torch.Tensor) -> None:
    mixing = mlsafety.ifs_fractals(10, seed=0)
    out = mlsafety.pixmix(images, mixing, seed=0)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert torch.equal(out, mlsafety.pixmix(images, mixing, seed=0))
    assert not torch.equal(out, mlsafety.pixmix(images, mixing, seed=1))
    assert not torch.equal(out, images)
    other = mlsafety.ifs_fractals(10, seed=1)
    assert torch.equal(mlsafety.pixmix(images, mixing, k=0, seed=0), mlsafety.pixmix(images, other, k=0, seed=0)), (
        "with no mixing rounds the mixing set plays no part"
    )
    assert not torch.equal(mlsafety.pixmix(images, mixing, seed=0), mlsafety.pixmix(images, other, seed=0))


def test_pixmix_loss_plugs_into_training(digits: mlsafety.DigitsData) -> None:
    train_with_loss(digits, mlsafety.pixmix_loss(mlsafety.ifs_fractals(20, seed=0), seed=0))
    with pytest.raises(ValueError, match="mixing_set"):
        mlsafety.pixmix_loss(torch.empty(0, 1, 8, 8))
