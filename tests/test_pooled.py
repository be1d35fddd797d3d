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


def test_pool_estimates_adds_the_seeds_spread_to_their_own_test_sampling():
    runs = [stats.Estimate(v, v - 6, v + 6, n=40, unit="points") for v in (5.0, 7.0, 6.0)]
    own_splits = stats.pool_estimates(runs)
    shared = stats.pool_estimates(runs, same_test_set=True)
    assert own_splits.value == shared.value == 6.0 and own_splits.n_seeds == 3
    assert own_splits.n == 120 and shared.n == 40
    assert shared.high - shared.low > own_splits.high - own_splits.low  # one test set: its sampling is not averaged
    spread = stats.pool_estimates([stats.Estimate(v, v - 6, v + 6, n=40, unit="points") for v in (0.0, 12.0, 6.0)])
    assert spread.high - spread.low > own_splits.high - own_splits.low
    single = stats.pool_estimates(runs[:1])
    assert single.n_seeds == 1 and (single.low, single.high) == (runs[0].low, runs[0].high)
    with pytest.raises(ValueError, match="Expected Estimates in one unit"):
        stats.pool_estimates([runs[0], stats.Estimate(50.0, 40.0, 60.0, n=10)])


def test_pooled_verdict_decides_on_the_pooled_evidence_not_on_agreement():
    small = [stats.verdict(stats.Estimate(v, v - 4, v + 4, n=60, unit="points"), ">") for v in (3.0, 3.5, 2.5)]
    assert [v.verdict for v in small] == ["inconclusive"] * 3  # no seed decides alone
    pooled = stats.pooled_verdict(small, seeds=[0, 1, 2])
    assert pooled.verdict == "held" and pooled.estimate.n_seeds == 3  # together they do
    assert "alone: inconclusive at seed 0" in pooled.reason
    lucky = [stats.verdict(stats.Estimate(v, v - 2, v + 2, n=60, unit="points"), ">") for v in (8.0, -1.0, -6.0)]
    assert stats.pooled_verdict(lucky).verdict == "inconclusive"  # one seed held; the evidence does not
    chance = stats.Verdict("not meaningful at this size", "a reaches chance")
    assert stats.pooled_verdict([small[0], chance]).verdict == "not meaningful at this size"
    failed = stats.pooled_verdict(small, failed=["camera network at seed 1 did not learn"])
    assert failed.verdict == "not meaningful at this size" and "did not learn" in failed.reason
    with pytest.raises(ValueError, match="Expected a stats.Verdict at seed index 0"):
        stats.pooled_verdict(["held"])


def test_combine_independent_adds_standard_errors_in_quadrature():
    a, b = stats.Estimate(90.0, 86.0, 94.0, n=20), stats.Estimate(80.0, 77.0, 83.0, n=30)
    difference = stats.combine_independent([a, b], [1, -1])
    assert difference.unit == "points" and difference.value == 10.0 and difference.n == 50
    assert difference.high - difference.low == pytest.approx(2 * 5.0)  # sqrt(4^2 + 3^2)
    mean = stats.combine_independent([a, b], [0.5, 0.5])
    assert mean.unit == "%" and mean.value == 85.0
    with pytest.raises(ValueError, match=r"Expected one finite weight per estimate \(2\)"):
        stats.combine_independent([a, b], [1])
