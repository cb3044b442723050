"""Unit tests for the anomaly-detection tools saved from book/monitoring/anomaly-detection.md."""

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

import mlsafety
from mlsafety import (
    MahalanobisDetector,
    aupr,
    auroc,
    energy_score,
    fpr_at_tpr,
    max_logit_score,
    msp_score,
    odin_score,
    outlier_exposure_loss,
    penultimate_features,
    roc_curve,
)


def _sk_labels(normal, anomaly):
    y = np.r_[np.zeros(len(normal)), np.ones(len(anomaly))]
    return y, np.r_[normal, anomaly]


# ---------------------------------------------------------------- metrics
@pytest.mark.parametrize("seed", range(5))
def test_auroc_aupr_match_sklearn_on_random_data(seed):
    rng = np.random.default_rng(seed)
    normal, anomaly = rng.normal(0, 1, 300), rng.normal(0.7, 1.3, 120)
    y, s = _sk_labels(normal, anomaly)
    assert auroc(normal, anomaly) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert aupr(normal, anomaly) == pytest.approx(average_precision_score(y, s), abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_metrics_match_sklearn_with_many_ties(seed):
    rng = np.random.default_rng(100 + seed)
    normal, anomaly = rng.integers(0, 4, 200).astype(float), rng.integers(1, 5, 50).astype(float)
    y, s = _sk_labels(normal, anomaly)
    assert auroc(normal, anomaly) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert aupr(normal, anomaly) == pytest.approx(average_precision_score(y, s), abs=1e-12)
    pairs = np.mean((anomaly[:, None] > normal) + 0.5 * (anomaly[:, None] == normal))
    assert auroc(normal, anomaly) == pytest.approx(pairs, abs=1e-12)


def test_auroc_special_cases():
    assert auroc(np.full(7, 3.0), np.full(4, 3.0)) == 0.5  # all-equal scores: chance
    assert auroc([0.0, 1.0], [2.0, 3.0]) == 1.0
    assert auroc([2.0, 3.0], [0.0, 1.0]) == 0.0
    assert auroc([1.0], [1.0]) == 0.5
    assert auroc([0.0, 1.0, 2.0], [1.0]) == pytest.approx(0.5)  # one win, one tie, one loss


def test_auroc_accepts_tensors_and_is_rank_invariant():
    rng = np.random.default_rng(0)
    normal, anomaly = rng.normal(size=50), rng.normal(1, 1, 30)
    base = auroc(normal, anomaly)
    assert auroc(torch.tensor(normal), torch.tensor(anomaly)) == pytest.approx(base)
    assert auroc(np.exp(normal), np.exp(anomaly)) == pytest.approx(base)  # monotone transform


def test_aupr_special_cases():
    assert aupr([0.0, 1.0], [2.0, 3.0]) == 1.0
    # all tied: precision equals the anomaly fraction
    assert aupr(np.zeros(6), np.zeros(2)) == pytest.approx(2 / 8)


def test_fpr_at_tpr_values():
    normal, anomaly = [0.1, 0.4, 0.4, 0.8], [0.4, 0.9]
    assert fpr_at_tpr(normal, anomaly, tpr=0.5) == 0.0
    assert fpr_at_tpr(normal, anomaly, tpr=1.0) == 0.75
    assert fpr_at_tpr([0.0, 1.0], [2.0, 3.0]) == 0.0
    assert fpr_at_tpr(np.ones(5), np.ones(5)) == 1.0  # ties with the threshold are flagged
    # 20 anomalies at 95 % TPR: 19 must be flagged, so the threshold is the 19th highest
    anomaly = np.arange(20.0)
    normal = np.array([0.5, 1.5, 100.0])
    assert fpr_at_tpr(normal, anomaly, 0.95) == pytest.approx(2 / 3)


def test_fpr_at_tpr_matches_roc_curve():
    rng = np.random.default_rng(3)
    normal, anomaly = rng.normal(size=400), rng.normal(1.0, 1.0, 200)
    fpr, tpr, _ = roc_curve(normal, anomaly)
    expected = fpr[np.argmax(tpr >= 0.95)]
    assert fpr_at_tpr(normal, anomaly, 0.95) == pytest.approx(expected)


def test_roc_curve_shape_and_area():
    rng = np.random.default_rng(4)
    normal, anomaly = rng.integers(0, 6, 100).astype(float), rng.integers(2, 8, 80).astype(float)
    fpr, tpr, thr = roc_curve(normal, anomaly)
    assert fpr[0] == 0 and tpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0) and np.all(np.diff(thr) < 0)
    assert np.trapezoid(tpr, fpr) == pytest.approx(auroc(normal, anomaly))


@pytest.mark.parametrize("fn", [auroc, aupr, fpr_at_tpr, roc_curve])
def test_metrics_reject_empty_and_nonfinite(fn):
    with pytest.raises(ValueError, match="empty"):
        fn([], [1.0, 2.0])
    with pytest.raises(ValueError, match="empty"):
        fn([1.0, 2.0], [])
    with pytest.raises(ValueError, match="NaN"):
        fn([1.0, np.nan], [1.0])


def test_fpr_at_tpr_rejects_bad_tpr():
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="tpr"):
            fpr_at_tpr([0.0], [1.0], tpr=bad)


# ---------------------------------------------------------------- scores
def test_logit_scores_shapes_and_relations():
    torch.manual_seed(0)
    logits = torch.randn(50, 6) * 3
    for fn in (msp_score, max_logit_score, energy_score):
        assert fn(logits).shape == (50,)
    assert torch.all(msp_score(logits) <= -1 / 6 + 1e-12) and torch.all(msp_score(logits) >= -1)
    assert torch.allclose(max_logit_score(logits), -logits.double().amax(1))
    # energy is a smooth maximum: -max - T log K <= E <= -max
    e = energy_score(logits)
    assert torch.all(e <= max_logit_score(logits) + 1e-12)
    assert torch.all(e >= max_logit_score(logits) - np.log(6) - 1e-12)
    # low temperature approaches the max-logit score
    assert torch.allclose(energy_score(logits, temperature=1e-3), max_logit_score(logits), atol=1e-2)


def test_scores_are_monotone_in_confidence():
    # scaling logits up makes the prediction more confident: every score decreases
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.5, 0.1, -0.3]])
    for fn in (msp_score, max_logit_score, energy_score):
        assert torch.all(fn(3 * logits) < fn(logits))
    uniform = torch.zeros(1, 4)
    assert msp_score(uniform).item() == pytest.approx(-0.25)
    assert energy_score(uniform).item() == pytest.approx(-np.log(4))


def test_uniform_cross_entropy_score_values_and_invariance():
    torch.manual_seed(0)
    logits = torch.randn(40, 5) * 2
    s = mlsafety.uniform_cross_entropy_score(logits)
    # minus the cross-entropy from the uniform distribution to the softmax, computed directly
    direct = torch.log_softmax(logits.double(), dim=-1).mean(dim=-1)
    assert torch.allclose(s, direct)
    # its maximum, -log K, is reached at the uniform softmax; every other softmax scores lower
    assert mlsafety.uniform_cross_entropy_score(torch.zeros(1, 5)).item() == pytest.approx(-np.log(5))
    assert torch.all(s <= -np.log(5) + 1e-12)
    # like the MSP, it ignores a shift of all logits; it equals the energy plus the mean logit
    assert torch.allclose(mlsafety.uniform_cross_entropy_score(logits + 7.0), s)
    assert torch.allclose(s, energy_score(logits) + logits.double().mean(dim=-1))
    # more confident logits score as less anomalous
    assert torch.all(mlsafety.uniform_cross_entropy_score(3 * logits) < s)


def test_energy_rejects_bad_temperature():
    with pytest.raises(ValueError):
        energy_score(torch.zeros(2, 3), temperature=0.0)


def test_odin_shape_and_limits():
    torch.manual_seed(0)
    model = mlsafety.MLP(in_features=64, hidden=(16,), n_classes=5).to(mlsafety.device())
    x = torch.rand(20, 1, 8, 8)
    s = odin_score(model, x, temperature=1000.0, eps=0.0)
    assert s.shape == (20,)
    # with eps = 0, ODIN is the tempered MSP
    logits = mlsafety.predict_logits(model, x)
    assert torch.allclose(s, msp_score(logits / 1000.0), atol=1e-6)
    # the input step raises the tempered top probability, so the score cannot go up
    s_step = odin_score(model, x, temperature=1000.0, eps=0.01)
    assert torch.all(s_step <= s + 1e-7)
    assert model.training  # training mode is restored
    with pytest.raises(ValueError):
        odin_score(model, x, temperature=0.0)


def test_penultimate_features_shapes():
    mlp = mlsafety.MLP(hidden=(32, 16), n_classes=4)
    assert penultimate_features(mlp, torch.rand(7, 1, 8, 8)).shape == (7, 16)
    cnn = mlsafety.SmallCNN(n_classes=4)
    f = penultimate_features(cnn, torch.rand(7, 1, 8, 8))
    assert f.shape[0] == 7 and f.dim() == 2
    with pytest.raises(ValueError):
        penultimate_features(torch.nn.Linear(3, 2), torch.rand(2, 3))


def test_mahalanobis_on_gaussian_clusters():
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.9], [0.9, 1.0]])
    means = np.array([[0.0, 0.0], [6.0, 0.0]])
    x = np.concatenate([rng.multivariate_normal(m, cov, 300) for m in means])
    y = np.repeat([0, 1], 300)
    det = MahalanobisDetector(ridge=1e-6).fit(torch.tensor(x), torch.tensor(y))
    assert torch.allclose(det.means, torch.tensor(means), atol=0.2)
    # a point off the correlation axis is more anomalous than one equally far along it
    along, across = torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0, -1.0]])
    assert det.score(across).item() > 5 * det.score(along).item()
    inlier = torch.tensor(rng.multivariate_normal(means[1], cov, 200))
    outlier = torch.tensor(rng.multivariate_normal([0.0, 4.0], cov, 200))
    assert auroc(det.score(inlier), det.score(outlier)) > 0.95
    assert det.score(torch.tensor(means)).max().item() < 1e-2


def test_mahalanobis_errors():
    det = MahalanobisDetector()
    with pytest.raises(ValueError):
        det.score(torch.zeros(3, 2))
    with pytest.raises(ValueError):
        det.fit(torch.zeros(4, 2), torch.zeros(3))
    det.fit(torch.randn(10, 2), torch.tensor([0, 1] * 5))
    with pytest.raises(ValueError):
        det.score(torch.zeros(3, 5))


# ---------------------------------------------------------------- Outlier Exposure
def test_outlier_exposure_loss_value():
    model = torch.nn.Linear(4, 3)
    torch.nn.init.zeros_(model.weight)
    torch.nn.init.zeros_(model.bias)
    xb, yb = torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])
    loss = outlier_exposure_loss(torch.randn(10, 4), weight=0.5)(model, xb, yb)
    # zero logits: in-distribution CE = log 3, uniform cross-entropy = log 3
    assert loss.item() == pytest.approx(1.5 * np.log(3), rel=1e-6)
    assert outlier_exposure_loss(torch.randn(10, 4), weight=0.0)(model, xb, yb).item() == pytest.approx(np.log(3))


def test_outlier_exposure_trains_and_lowers_outlier_confidence():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 2, generator=g) * 0.3 + torch.tensor([[2.0, 0.0]])
    x = torch.cat([x, -x])
    y = torch.cat([torch.zeros(200), torch.ones(200)]).long()
    outliers = torch.randn(400, 2, generator=g) * 0.3 + torch.tensor([[0.0, 4.0]])
    scores = []
    for loss_fn in (None, outlier_exposure_loss(outliers, weight=1.0)):
        torch.manual_seed(0)
        m = mlsafety.MLP(in_features=2, hidden=(16,), n_classes=2)
        mlsafety.train_classifier(m, x, y, epochs=15, lr=1e-2, loss_fn=loss_fn)
        scores.append(msp_score(mlsafety.predict_logits(m, outliers)).mean().item())
        assert mlsafety.accuracy(m, x, y) > 0.95
    assert scores[1] > scores[0]  # OE: outliers get a lower top probability


def test_outlier_exposure_rejects_bad_input():
    with pytest.raises(ValueError):
        outlier_exposure_loss(torch.zeros(0, 4))
    with pytest.raises(ValueError):
        outlier_exposure_loss(torch.zeros(3, 4), weight=-1.0)
