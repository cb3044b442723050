"""Unit tests for monitor_report, saved from book/x-risk/review-and-conclusion.md."""

from __future__ import annotations

import pytest
import torch

import mlsafety
from mlsafety import MLP, DigitsData, add_trigger, load_digits_data, monitor_report, poison_dataset, train_classifier

CLASSES = 3
PATCH_MASK = torch.zeros(1, 8, 8)
PATCH_MASK[:, 6:, 6:] = 1.0
PATCH = torch.ones(1, 8, 8)


def _subset(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    keep = y < CLASSES
    return x[keep], y[keep]


@pytest.fixture(scope="module")
def setting() -> dict:
    full = load_digits_data(seed=0)
    data = DigitsData(
        *_subset(full.x_train, full.y_train), *_subset(full.x_val, full.y_val), *_subset(full.x_test, full.y_test)
    )

    def train(x: torch.Tensor, y: torch.Tensor) -> torch.nn.Module:
        torch.manual_seed(0)
        model = MLP(hidden=(32,), n_classes=CLASSES)
        train_classifier(model, x, y, epochs=15, batch_size=64, lr=3e-3, seed=0)
        return model

    return {
        "data": data,
        "anomalies": {"held-out": full.x_test[full.y_test >= CLASSES][:60]},
        "clean": train(data.x_train, data.y_train),
    }


@pytest.fixture(scope="module")
def report(setting: dict) -> dict[str, float]:
    return monitor_report(setting["clean"], setting["data"], setting["anomalies"], pgd_steps=5)


def test_report_has_one_finite_number_per_monitor(report: dict[str, float]) -> None:
    expected = {
        "clean accuracy",
        "corruption accuracy",
        "PGD accuracy",
        "AUROC held-out",
        "FPR95 held-out",
        "ECE",
        "ECE after temperature scaling",
        "fitted temperature",
        "Neural Cleanse label",
        "Neural Cleanse index",
        "Neural Cleanse flags",
        "saliency vs random model",
    }
    assert set(report) == expected
    assert all(isinstance(v, float) and v == v for v in report.values())
    for name in expected - {
        "fitted temperature",
        "Neural Cleanse label",
        "Neural Cleanse index",
        "Neural Cleanse flags",
        "saliency vs random model",
    }:
        assert 0.0 <= report[name] <= 1.0, name
    assert -1.0 <= report["saliency vs random model"] <= 1.0
    assert report["fitted temperature"] > 0 and report["Neural Cleanse flags"] in (0.0, 1.0, 2.0, 3.0)
    assert report["Neural Cleanse label"] in (0.0, 1.0, 2.0)


def test_report_directions_on_a_trained_model(report: dict[str, float]) -> None:
    assert report["clean accuracy"] > 0.9
    assert report["PGD accuracy"] < report["clean accuracy"]
    assert report["corruption accuracy"] < report["clean accuracy"]
    assert report["AUROC held-out"] > 0.6  # held-out digits look less familiar than test digits
    assert abs(report["saliency vs random model"]) < 0.5


def test_zero_budget_attack_leaves_clean_accuracy(setting: dict) -> None:
    r = monitor_report(setting["clean"], setting["data"], setting["anomalies"], eps=0.0, scan=False)
    assert r["PGD accuracy"] == pytest.approx(r["clean accuracy"])
    assert "Neural Cleanse index" not in r and "STRIP AUROC" not in r


def test_strip_separates_triggered_inputs_only_on_the_backdoored_model() -> None:
    full = load_digits_data(seed=0)
    models = {}
    for name, n_poison in (("clean", 0), ("backdoored", 40)):
        x, y = poison_dataset(full.x_train, full.y_train, PATCH, PATCH_MASK, 0, n_poison, seed=0)
        torch.manual_seed(0)
        models[name] = MLP(hidden=(64,))
        train_classifier(models[name], x, y, epochs=15, batch_size=128, lr=3e-3, seed=0)
    suspects = add_trigger(full.x_test[full.y_test != 0][:60], PATCH, PATCH_MASK)
    noise = {"noise": torch.rand(20, 1, 8, 8, generator=torch.Generator().manual_seed(0))}
    kwargs = {"triggered": suspects, "scan": False, "pgd_steps": 1}
    clean = monitor_report(models["clean"], full, noise, **kwargs)
    backdoored = monitor_report(models["backdoored"], full, noise, **kwargs)
    assert backdoored["STRIP AUROC"] > clean["STRIP AUROC"] + 0.1
    assert backdoored["clean accuracy"] > 0.9  # the Trojan is invisible to clean accuracy


def test_report_is_deterministic_and_leaves_the_global_generator_alone(setting: dict) -> None:
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    kwargs = {"pgd_steps": 2, "n_scan": 20, "seed": 1}
    first = monitor_report(setting["clean"], setting["data"], setting["anomalies"], **kwargs)
    assert torch.equal(torch.rand(3), expected_next)
    second = monitor_report(setting["clean"], setting["data"], setting["anomalies"], **kwargs)
    assert first == second


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"score": "entropy"}, "unknown score"),
        ({"eps": -0.1}, "eps"),
        ({"severity": 0}, "severity"),
        ({"severity": True}, "severity"),
        ({"triggered": torch.zeros(0, 1, 8, 8)}, "triggered"),
        ({"n_scan": 0}, "n_scan"),
        ({"scan_steps": 0}, "scan_steps"),
    ],
)
def test_bad_options_raise_value_error(setting: dict, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        monitor_report(setting["clean"], setting["data"], setting["anomalies"], **kwargs)


@pytest.mark.parametrize("anomalies", [{}, {"empty": torch.zeros(0, 1, 8, 8)}, {"list": [1, 2]}, None])
def test_bad_anomalies_raise_value_error(setting: dict, anomalies: object) -> None:
    with pytest.raises(ValueError, match="anomalies"):
        monitor_report(setting["clean"], setting["data"], anomalies)


def test_labels_outside_the_models_classes_raise_value_error(setting: dict) -> None:
    data = setting["data"]
    wrong = DigitsData(data.x_train, data.y_train, data.x_val, data.y_val, data.x_test, data.y_test + CLASSES)
    with pytest.raises(ValueError, match="labels must lie"):
        monitor_report(setting["clean"], wrong, setting["anomalies"])


def test_mismatched_lengths_raise_value_error(setting: dict) -> None:
    data = setting["data"]
    wrong = DigitsData(data.x_train, data.y_train, data.x_val, data.y_val, data.x_test, data.y_test[:-1])
    with pytest.raises(ValueError, match="one label each"):
        monitor_report(setting["clean"], wrong, setting["anomalies"])


def test_monitor_report_is_exported() -> None:
    assert "monitor_report" in mlsafety.__all__
