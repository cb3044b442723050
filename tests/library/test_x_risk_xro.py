"""Tests for the X-Risk Overview chapter's saved functions (mlsafety.x_risk)."""

import math

import numpy as np
import pytest

import mlsafety


def test_load_training_compute_columns_and_values():
    data = mlsafety.load_training_compute()
    n = len(data["model"])
    assert 10 <= n <= 20
    assert all(len(data[key]) == n for key in ("year", "flop", "confidence", "source"))
    assert np.all(np.diff(data["year"]) >= 0), "rows are in publication order"
    assert np.all(data["flop"] > 1e15) and np.all(data["flop"] < 1e27)
    assert all(source.strip() for source in data["source"]), "every row names its source"
    gpt3 = data["flop"][list(data["model"]).index("GPT-3 175B")]
    assert gpt3 == pytest.approx(3.14e23)
    alexnet_year = data["year"][list(data["model"]).index("AlexNet")]
    assert 2012.7 < alexnet_year < 2012.8  # 30 September 2012


def test_fit_doubling_time_recovers_a_known_rate():
    years = np.linspace(2010, 2020, 11)
    flop = 1e18 * 2 ** ((years - 2010) * 12 / 6)  # doubles every 6 months
    doubling, slope, intercept = mlsafety.fit_doubling_time(years, flop)
    assert doubling == pytest.approx(6.0, rel=1e-6)
    assert slope == pytest.approx(2 * math.log10(2), rel=1e-6)
    assert intercept + slope * 2010 == pytest.approx(18.0, rel=1e-6)


def test_fit_doubling_time_direction():
    years = np.array([2012.0, 2014.0, 2016.0, 2018.0])
    fast = mlsafety.fit_doubling_time(years, 10.0 ** (17 + 1.0 * (years - 2012)))[0]
    slow = mlsafety.fit_doubling_time(years, 10.0 ** (17 + 0.3 * (years - 2012)))[0]
    assert fast < slow
    shrinking = mlsafety.fit_doubling_time(years, 10.0 ** (20 - 0.5 * (years - 2012)))[0]
    assert math.isinf(shrinking)  # compute that falls never doubles


def test_fit_doubling_time_on_the_book_table_is_months_scale():
    data = mlsafety.load_training_compute()
    doubling, _, _ = mlsafety.fit_doubling_time(data["year"], data["flop"])
    assert 3.0 < doubling < 12.0


@pytest.mark.parametrize(
    ("years", "flop", "message"),
    [
        ([2020.0], [1e20], "at least two"),
        ([2020.0, 2021.0], [1e20], "equal length"),
        ([2020.0, 2021.0], [1e20, 0.0], "positive"),
        ([2020.0, float("nan")], [1e20, 1e21], "finite"),
        ([2020.0, 2020.0], [1e20, 1e21], "not all be equal"),
    ],
)
def test_fit_doubling_time_rejects_bad_input(years, flop, message):
    with pytest.raises(ValueError, match=message):
        mlsafety.fit_doubling_time(years, flop)
