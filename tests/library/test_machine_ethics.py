"""Tests for the machine-ethics code in mlsafety (book/alignment/machine-ethics.md)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mlsafety


def planted_pairs(n_pairs: int = 400, n_features: int = 6, seed: int = 0):
    """Pairs of random feature vectors labelled by a planted linear utility, with Bradley-Terry noise."""
    gen = torch.Generator().manual_seed(seed)
    w = torch.tensor([3.0, 2.0, 1.0, 0.0, -1.0, -2.0])[:n_features]
    xa = torch.rand(n_pairs, n_features, generator=gen)
    xb = torch.rand(n_pairs, n_features, generator=gen)
    p = torch.sigmoid(xa @ w - xb @ w)
    y = (torch.rand(n_pairs, generator=gen) < p).float()
    return w, xa, xb, y


def test_bradley_terry_recovers_planted_order() -> None:
    w, xa, xb, y = planted_pairs()
    model = mlsafety.fit_bradley_terry(xa, xb, y, steps=400, weight_decay=0.0)
    items = torch.eye(len(w))  # one-hot items: their utilities are the planted weights
    learned = model.utility(items)
    assert torch.equal(torch.argsort(learned), torch.argsort(w)), (learned, w)
    assert isinstance(model, mlsafety.UtilityModel)


def test_bradley_terry_mlp_beats_chance_and_probabilities_are_consistent() -> None:
    _, xa, xb, y = planted_pairs(seed=1)
    model = mlsafety.fit_bradley_terry(xa, xb, y, hidden=8, steps=300)
    p = model.prob_prefers(xa, xb)
    assert ((p > 0.5).float() == y).float().mean() > 0.7
    assert torch.allclose(model.prob_prefers(xb, xa), 1 - p, atol=1e-6)


def test_bradley_terry_rejects_bad_input() -> None:
    _, xa, xb, y = planted_pairs(n_pairs=10)
    with pytest.raises(ValueError, match="equal shape"):
        mlsafety.fit_bradley_terry(xa, xb[:, :3], y)
    with pytest.raises(ValueError, match="labels"):
        mlsafety.fit_bradley_terry(xa, xb, y[:5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mlsafety.fit_bradley_terry(xa, xb, y + 2)
    with pytest.raises(ValueError, match="steps"):
        mlsafety.fit_bradley_terry(xa, xb, y, steps=0)


def test_scenario_features_count_known_words_only() -> None:
    vocab = mlsafety.scenario_vocabulary(["You help 2 friends.", "You help a stranger."])
    x = mlsafety.scenario_features(["You help you, 2 unknown!"], vocab)
    assert x.shape == (1, len(vocab))
    assert x[0, vocab["you"]] == 2 and x[0, vocab["help"]] == 1 and x[0, vocab["2"]] == 1
    assert x.sum() == 4  # "unknown" is dropped
    with pytest.raises(ValueError, match="empty"):
        mlsafety.scenario_features(["x"], {})


def test_choiceworthiness_hand_computed() -> None:
    credences = [0.25, 0.75]
    scores = [[0.0, 10.0, 5.0], [2.0, 0.0, 1.0]]
    # none: 0.25*[0,10,5] + 0.75*[2,0,1] = [1.5, 2.5, 2.0]
    np.testing.assert_allclose(mlsafety.choiceworthiness(credences, scores, "none"), [1.5, 2.5, 2.0])
    # range: [0,1,.5] and [1,0,.5] -> [0.75, 0.25, 0.5]
    np.testing.assert_allclose(mlsafety.choiceworthiness(credences, scores, "range"), [0.75, 0.25, 0.5])
    # variance: both rows are (mean-centred) multiples of [-1, 1, 0] and [1, -1, 0] with sd sqrt(2/3)
    z = np.array([-1.0, 1.0, 0.0]) / np.sqrt(2 / 3)
    np.testing.assert_allclose(mlsafety.choiceworthiness(credences, scores, "variance"), 0.25 * z - 0.75 * z)


def test_normalisation_changes_the_chosen_option() -> None:
    credences = [0.4, 0.6]
    scores = [[100.0, 0.0], [0.0, 1.0]]  # a theory with a huge scale against a likelier one with a small scale
    assert np.argmax(mlsafety.choiceworthiness(credences, scores, "none")) == 0  # 40 vs 0.6
    assert np.argmax(mlsafety.choiceworthiness(credences, scores, "range")) == 1  # 0.4 vs 0.6
    assert np.argmax(mlsafety.choiceworthiness(credences, scores, "variance")) == 1


def test_indifferent_theory_gets_no_say() -> None:
    out = mlsafety.normalize_choiceworthiness([[3.0, 3.0, 3.0], [0.0, 2.0, 4.0]], "range")
    np.testing.assert_allclose(out, [[0, 0, 0], [0, 0.5, 1]])


def test_moral_parliament_hand_computed() -> None:
    credences = [0.5, 0.3, 0.2]
    scores = [[3, 2, 0], [0, 2, 3], [0, 3, 2]]
    # seats 50/30/20; plurality: A 50, C 30, B 20
    np.testing.assert_allclose(mlsafety.moral_parliament(credences, scores, 100, "plurality"), [50, 20, 30])
    # Borda (2 points for best, 1 for middle, 0 for worst), per theory:
    # theory 1: A2 B1 C0; theory 2: A0 B1 C2; theory 3: A0 B2 C1 -> A 100, B 120, C 80
    expected = 50 * np.array([2, 1, 0]) + 30 * np.array([0, 1, 2]) + 20 * np.array([0, 2, 1])
    np.testing.assert_allclose(mlsafety.moral_parliament(credences, scores, 100, "borda"), [100, 120, 80])
    np.testing.assert_allclose(expected, [100, 120, 80])
    # The voting rule changes the choice: plurality elects A, Borda elects the compromise B.


def test_moral_parliament_seats_and_ties() -> None:
    # 3 seats for credences 1/3 each: largest remainder gives one each
    votes = mlsafety.moral_parliament([1 / 3, 1 / 3, 1 / 3], [[1, 1], [1, 0], [0, 1]], seats=3)
    np.testing.assert_allclose(votes, [1.5, 1.5])  # the tied delegate splits its vote
    borda = mlsafety.moral_parliament([1.0], [[1, 1, 0]], seats=2, rule="borda")
    np.testing.assert_allclose(borda, [3, 3, 0])  # 1 below + 0.5 tie = 1.5 each, times 2 seats


def test_aggregation_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        mlsafety.choiceworthiness([0.5, 0.6], [[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="shape"):
        mlsafety.choiceworthiness([0.5, 0.5], [[1, 0, 2]])
    with pytest.raises(ValueError, match="finite"):
        mlsafety.choiceworthiness([1.0], [[np.nan, 1]])
    with pytest.raises(ValueError, match="method"):
        mlsafety.choiceworthiness([1.0], [[0, 1]], "zscore")
    with pytest.raises(ValueError, match="rule"):
        mlsafety.moral_parliament([1.0], [[0, 1]], rule="veto")
    with pytest.raises(ValueError, match="seats"):
        mlsafety.moral_parliament([1.0], [[0, 1]], seats=0)


def test_load_ethics_comparisons_is_well_formed() -> None:
    rows = mlsafety.load_ethics_comparisons()
    assert len(rows) >= 300
    assert {r["split"] for r in rows} == {"train", "test"}
    for r in rows:
        assert r["scenario_a"] and r["scenario_b"] and r["scenario_a"] != r["scenario_b"]
        assert r["prefers_a"] in (0, 1)
        assert r["prefers_a"] == int(r["rating_a"] > r["rating_b"])  # labels follow the ratings
    train = {s for r in mlsafety.load_ethics_comparisons("train") for s in (r["scenario_a"], r["scenario_b"])}
    test = {s for r in mlsafety.load_ethics_comparisons("test") for s in (r["scenario_a"], r["scenario_b"])}
    assert not train & test  # the split is by scenario
    with pytest.raises(ValueError, match="split"):
        mlsafety.load_ethics_comparisons("validation")
