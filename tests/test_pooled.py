"""Numbers over seeds: the interval covers training variance and the sampling of independent sources together."""

import numpy as np
import pytest

from forensiclib import stats


def _simulate(rng, *, n_seeds=3, n_sources=20, per_source=6, n_classes=3, skill=1.0, seed_sd=0.4, source_sd=1.0,
              image_sd=0.3):  # fmt: skip
    """A classifier whose accuracy moves with the training seed and with the source photo of each test image."""
    seed_effect = rng.normal(0, seed_sd, n_seeds)
    source_effect = rng.normal(0, source_sd, n_sources)
    units = np.repeat(np.arange(n_sources), per_source)
    y = rng.integers(0, n_classes, units.size)
    predictions = []
    for s in range(n_seeds):
        logit = skill + seed_effect[s] + source_effect[units] + rng.normal(0, image_sd, units.size)
        right = rng.random(units.size) < 1 / (1 + np.exp(-logit))
        predictions.append(np.where(right, y, (y + rng.integers(1, n_classes, units.size)) % n_classes))
    return y, predictions, units


def _true_accuracy(*, skill=1.0, seed_sd=0.4, source_sd=1.0, image_sd=0.3, n=2_000_000):
    rng = np.random.default_rng(99)
    logit = skill + rng.normal(0, seed_sd, n) + rng.normal(0, source_sd, n) + rng.normal(0, image_sd, n)
    return 100 * float(np.mean(1 / (1 + np.exp(-logit))))


def test_the_pooled_interval_covers_about_95_percent_where_one_seed_s_image_bootstrap_does_not():
    truth = _true_accuracy()
    rng = np.random.default_rng(1)
    pooled_hits = image_hits = 0
    trials = 400
    for i in range(trials):
        y, predictions, units = _simulate(rng)
        pooled = stats.pooled_accuracy(y, predictions, units=units, n_boot=400, random_state=i)
        pooled_hits += pooled.low <= truth <= pooled.high
        one_seed = stats.accuracy_estimate(y, predictions[0], n_boot=400, random_state=i, item_name="images")
        image_hits += one_seed.low <= truth <= one_seed.high
    assert 0.91 <= pooled_hits / trials <= 0.99
    assert image_hits / trials < 0.75


def test_the_value_is_the_mean_over_seeds_and_n_counts_sources_images_and_seeds():
    y = np.array([0, 0, 1, 1, 0, 1, 1, 0])
    units = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    seeds = [np.array([0, 0, 1, 1, 1, 1, 1, 0]), np.array([0, 1, 1, 1, 0, 1, 0, 0])]
    estimate = stats.pooled_accuracy(y, seeds, units=units, item_name="images")
    assert estimate.value == pytest.approx(np.mean([np.mean(p == y) for p in seeds]) * 100)
    assert (estimate.n, estimate.n_units, estimate.n_seeds) == (4, 8, 2)
    assert "2 seeds" in str(estimate) and "sources" in str(estimate)
    assert "the same test set at every seed" in estimate.method
    assert 0 <= estimate.low <= estimate.value <= estimate.high <= 100


def test_seeds_with_their_own_splits_are_resampled_each_on_its_own():
    rng = np.random.default_rng(0)
    ys, preds, units = [], [], []
    for s in range(3):
        y, p, u = _simulate(rng, n_seeds=1, n_sources=10)
        ys.append(y), preds.append(p[0]), units.append(u + 100 * s)
    estimate = stats.pooled_accuracy(ys, preds, units=units)
    assert "each seed its own test split" in estimate.method
    assert estimate.n == 30 and estimate.n_units == sum(len(y) for y in ys)


def test_more_spread_between_seeds_widens_the_interval():
    y, predictions, units = _simulate(np.random.default_rng(3), seed_sd=0.0)
    calm = stats.pooled_accuracy(y, predictions, units=units)
    shifted = [predictions[0], predictions[1], np.where(np.arange(len(y)) % 2 == 0, (y + 1) % 3, predictions[2])]
    noisy = stats.pooled_accuracy(y, shifted, units=units)
    assert noisy.high - noisy.low > calm.high - calm.low


def test_the_paired_difference_is_the_mean_of_the_seeds_differences_and_shared_errors_cancel():
    y, a, units = _simulate(np.random.default_rng(4))
    b = [np.where(np.arange(len(y)) % 10 == 0, (y + 1) % 3, p) for p in a]  # B: A with 10% more wrong
    difference = stats.pooled_difference(y, a, b, units=units)
    expected = np.mean([100 * (np.mean(pa == y) - np.mean(pb == y)) for pa, pb in zip(a, b)])
    assert difference.value == pytest.approx(expected)
    assert difference.unit == "points" and difference.n_seeds == 3
    assert stats.verdict(difference, ">").verdict == "held"
    assert stats.verdict(stats.pooled_difference(y, b, a, units=units), ">").verdict == "not held"


def test_one_seed_cannot_decide_a_claim():
    y, a, units = _simulate(np.random.default_rng(5), n_seeds=1)
    b = [np.full_like(y, 0)]
    difference = stats.pooled_difference(y, a, b, units=units)
    assert difference.n_seeds == 1 and "training variance not included" in difference.method
    assert difference.low > 0  # the test sampling alone would call it held
    decided = stats.verdict(difference, ">")
    assert decided.verdict == "inconclusive" and "one training run" in decided.reason


def test_bad_input_says_what_was_expected():
    y, a, units = _simulate(np.random.default_rng(6), n_seeds=2)
    with pytest.raises(ValueError, match="Expected units"):
        stats.pooled_accuracy(y, a, units=None)
    with pytest.raises(ValueError, match="one entry per seed"):
        stats.pooled_accuracy(y, np.array(a[0]), units=units)
    with pytest.raises(ValueError, match="same number of seeds"):
        stats.pooled_difference(y, a, a[:1], units=units)
    with pytest.raises(ValueError, match="one prediction per test item"):
        stats.pooled_accuracy(y, [a[0], a[1][:-1]], units=units)
    with pytest.raises(ValueError, match="at least 2 sources"):
        stats.pooled_accuracy(y, a, units=np.zeros_like(units))
    with pytest.raises(ValueError, match="Expected n_seeds a non-negative integer"):
        stats.Estimate(50.0, 40.0, 60.0, n=10, n_seeds=-1)
