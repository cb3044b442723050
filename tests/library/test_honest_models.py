"""Unit tests for the CCS tools saved from book/alignment/honest-models.md."""

import numpy as np
import pytest
import torch

from mlsafety import CCSProbe, ccs_loss, fit_ccs_probe, normalize_contrast_pairs


def planted_pairs(n: int = 400, d: int = 12, seed: int = 0, signal: float = 3.0, offset: float = 5.0):
    """Contrast pairs whose truth lies along a planted unit direction u, plus an answer-token offset."""
    gen = torch.Generator().manual_seed(seed)
    u = torch.randn(d, generator=gen)
    u = u / u.norm()
    truth = torch.randint(0, 2, (n,), generator=gen).bool()
    sign = truth.float() * 2 - 1  # +1 if "yes" is the right answer
    answer_token = offset * torch.randn(d, generator=gen)  # a constant difference between the sides
    h_pos = torch.randn(n, d, generator=gen) + signal * sign[:, None] * u + answer_token
    h_neg = torch.randn(n, d, generator=gen) - signal * sign[:, None] * u
    return h_pos, h_neg, truth, u


def test_loss_is_zero_for_consistent_confident_predictions() -> None:
    p = torch.tensor([1.0, 0.0, 1.0, 0.0])
    assert ccs_loss(p, 1 - p).item() == 0.0


def test_loss_matches_hand_computed_values() -> None:
    half = torch.full((3,), 0.5)
    assert ccs_loss(half, half).item() == pytest.approx(0.25)  # consistent, not confident
    high = torch.full((3,), 0.9)
    assert ccs_loss(high, high).item() == pytest.approx(0.8**2 + 0.9**2)  # neither
    mixed = ccs_loss(torch.tensor([1.0, 0.5]), torch.tensor([0.0, 0.5]))
    assert mixed.item() == pytest.approx((0.0 + 0.25) / 2)


def test_loss_is_positive_for_inconsistent_predictions() -> None:
    p = torch.tensor([0.9, 0.8, 0.2])
    assert ccs_loss(p, p).item() > 0.1


def test_loss_accepts_numpy_arrays() -> None:
    p = np.array([1.0, 0.0])
    assert ccs_loss(p, 1 - p).item() == 0.0


def test_mismatched_shapes_raise() -> None:
    with pytest.raises(ValueError, match="same shape"):
        ccs_loss(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="same shape"):
        normalize_contrast_pairs(torch.zeros(5, 3), torch.zeros(5, 4))
    with pytest.raises(ValueError, match="same shape"):
        fit_ccs_probe(torch.zeros(5, 3), torch.zeros(6, 3), steps=1)


def test_normalize_rejects_too_few_rows() -> None:
    with pytest.raises(ValueError, match="shape"):
        normalize_contrast_pairs(torch.zeros(1, 3), torch.zeros(1, 3))


def test_normalization_removes_a_per_side_offset() -> None:
    h_pos, h_neg, _, _ = planted_pairs()
    h_pos, h_neg = h_pos.double(), h_neg.double()
    base = normalize_contrast_pairs(h_pos, h_neg)
    shifted = normalize_contrast_pairs(h_pos + 7.0, h_neg - 3.0 * torch.arange(h_neg.shape[1]))
    for a, b in zip(base, shifted, strict=True):
        assert torch.allclose(a, b, atol=1e-9)
    for side in base:
        assert side.mean(0).abs().max() < 1e-9
        assert torch.allclose(side.std(0), torch.ones(side.shape[1], dtype=side.dtype), atol=1e-5)


def test_ccs_recovers_a_planted_direction_up_to_sign() -> None:
    h_pos, h_neg, truth, u = planted_pairs()
    probe = fit_ccs_probe(*normalize_contrast_pairs(h_pos, h_neg), steps=300, seed=0)
    assert isinstance(probe, CCSProbe) and probe.weight.shape == (h_pos.shape[1],)
    cosine = torch.nn.functional.cosine_similarity(probe.weight, u, dim=0).abs()
    assert cosine > 0.9
    says_yes = probe.credence(*normalize_contrast_pairs(h_pos, h_neg)) > 0.5
    accuracy = (says_yes == truth).float().mean().item()
    assert max(accuracy, 1 - accuracy) > 0.95
    assert probe.loss < 0.1


def test_without_normalization_the_answer_token_can_win() -> None:
    # With a large answer-token offset and a weak truth signal, the raw states admit the degenerate
    # solution p(yes side) = 1, p(no side) = 0: near-zero loss, one answer for every question.
    h_pos, h_neg, truth, _ = planted_pairs(signal=0.5, offset=20.0)
    probe = fit_ccs_probe(h_pos, h_neg, steps=300, seed=0)
    says_yes = probe.credence(h_pos, h_neg) > 0.5
    assert probe.loss < 0.05
    assert says_yes.float().mean().item() in (0.0, 1.0)


def test_probe_output_and_credence() -> None:
    probe = CCSProbe(weight=torch.tensor([2.0, 0.0]), bias=torch.tensor(0.0))
    h = np.array([[0.0, 5.0], [1.0, 0.0]])
    p = probe(h)
    assert p[0].item() == pytest.approx(0.5)
    assert p[1].item() == pytest.approx(torch.sigmoid(torch.tensor(2.0)).item())
    credence = probe.credence(torch.tensor([[10.0, 0.0]]), torch.tensor([[-10.0, 0.0]]))
    assert credence.item() == pytest.approx(1.0, abs=1e-6)


def test_fit_is_deterministic_given_the_seed() -> None:
    h_pos, h_neg, _, _ = planted_pairs(n=100)
    a = fit_ccs_probe(h_pos, h_neg, steps=20, seed=3)
    b = fit_ccs_probe(h_pos, h_neg, steps=20, seed=3)
    assert torch.equal(a.weight, b.weight) and a.loss == b.loss


def test_fit_rejects_bad_settings() -> None:
    h = torch.zeros(4, 2)
    with pytest.raises(ValueError):
        fit_ccs_probe(h, h, steps=0)
    with pytest.raises(ValueError):
        fit_ccs_probe(h, h, n_restarts=0)
