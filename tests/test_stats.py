import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats as scipy_stats

import forensiclib as fl


def _predictions(y_true, accuracy, rng, n_classes):
    """Predictions right with probability `accuracy`, otherwise another class."""
    right = rng.random(len(y_true)) < accuracy
    wrong = (y_true + rng.integers(1, n_classes, len(y_true))) % n_classes
    return np.where(right, y_true, wrong)


def _grouped(n_groups, per_group, rng, n_classes=3):
    """Patches whose rightness depends on their image (a hard or an easy one), as with real images."""
    groups = np.repeat(np.arange(n_groups), per_group)
    y_true = rng.integers(0, n_classes, n_groups)[groups]
    accuracy = rng.choice([0.2, 0.95], n_groups)[groups]
    right = rng.random(len(groups)) < accuracy
    return y_true, np.where(right, y_true, (y_true + 1) % n_classes), groups


# ------------------------------------------------------------------------------------------------ the verdicts


def test_overlapping_samples_are_inconclusive():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 3, 60)
    a, b = _predictions(y_true, 0.72, rng, 3), _predictions(y_true, 0.70, rng, 3)
    difference = fl.paired_difference(y_true, a, b)
    assert difference.low < 0 < difference.high
    result = fl.verdict(difference, ">")
    assert result.verdict == "inconclusive" and result.holds is None
    assert "contains 0" in result.reason and str(difference) in result.reason


def test_clearly_separated_samples_are_held_and_reversed_ones_not_held():
    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 3, 200)
    good, poor = _predictions(y_true, 0.95, rng, 3), _predictions(y_true, 0.5, rng, 3)
    held = fl.verdict(fl.paired_difference(y_true, good, poor), ">")
    assert held.verdict == "held" and held.holds is True and "lies above 0" in held.reason
    not_held = fl.verdict(fl.paired_difference(y_true, poor, good), ">")
    assert not_held.verdict == "not held" and not_held.holds is False and "lies below 0" in not_held.reason
    # the same relation read the other way round
    assert fl.verdict(fl.paired_difference(y_true, poor, good), "<").verdict == "held"


def test_non_inferiority_margin_and_threshold():
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 2, 400)
    a = _predictions(y_true, 0.9, rng, 2)
    # b: a with 6 of its right and 6 of its wrong answers flipped, as accurate and nearly the same predictions
    flip = np.concatenate([np.flatnonzero(a == y_true)[:6], np.flatnonzero(a != y_true)[:6]])
    b = a.copy()
    b[flip] = 1 - b[flip]
    difference = fl.paired_difference(y_true, b, a)
    assert difference.value == 0 and -3 < difference.low and difference.high < 3
    assert fl.verdict(difference, ">").verdict == "inconclusive"
    at_least = fl.verdict(difference, ">=", margin=5.0)
    assert at_least.verdict == "held" and at_least.boundary == -5.0 and "5-point margin" in at_least.reason
    estimate = fl.accuracy_estimate(y_true, a)
    assert fl.verdict(estimate, ">", threshold=estimate.low - 1).verdict == "held"
    assert fl.verdict(estimate, ">", threshold=estimate.high + 1).verdict == "not held"
    assert fl.verdict(estimate, "<=", threshold=estimate.high + 1, margin=0.5).boundary == estimate.high + 1.5


def test_numbers_near_chance_are_not_meaningful():
    rng = np.random.default_rng(4)
    y_true = np.repeat(np.arange(5), 8)  # 40 images, 5 balanced classes: chance is 20%
    guessing = rng.integers(0, 5, 40)
    knowing = _predictions(y_true, 0.9, rng, 5)
    chance = fl.chance_level(y_true)
    assert chance == pytest.approx(20.0) == fl.chance_level(y_true, metric="balanced")
    estimates = {"CNN": fl.accuracy_estimate(y_true, knowing), "guess": fl.accuracy_estimate(y_true, guessing)}
    result = fl.verdict(fl.paired_difference(y_true, knowing, guessing), ">", compared=estimates, chance=chance)
    assert result.verdict == "not meaningful at this size" and result.reason.startswith("guess ")
    assert "reaches chance (20%)" in result.reason and "CNN" not in result.reason
    # far above chance: decided on the difference
    estimates = {"CNN": estimates["CNN"]}
    assert fl.verdict(fl.paired_difference(y_true, knowing, guessing), ">", compared=estimates,
                      chance={"CNN": chance}).verdict == "held"  # fmt: skip


def test_chance_level_of_unbalanced_classes():
    y_true = [0] * 6 + [1] * 2 + [2] * 2
    assert fl.chance_level(y_true) == pytest.approx(60.0)  # always answering the largest class
    assert fl.chance_level(y_true, metric="balanced") == pytest.approx(100 / 3)
    assert fl.chance_level(y_true, metric="balanced", n_classes=4) == pytest.approx(25.0)


def test_a_verdict_that_differs_between_seeds_is_inconclusive():
    held = fl.Verdict("held", "difference +9.0 points")
    combined = fl.seed_verdict([held, "held", "not held"], seeds=[0, 1, 2])
    assert combined.verdict == "inconclusive" and "not held at seed 2" in combined.reason
    assert fl.seed_verdict(["held", held, "held"]).verdict == "held"
    assert fl.seed_verdict(["not meaningful at this size", "held"]).verdict == "inconclusive"


def test_across_seeds_summary():
    values = [fl.Estimate(70.0, 60.0, 80.0, n=30), fl.Estimate(74.0, 64.0, 84.0, n=30), 72.5]
    summary = fl.across_seeds(values)
    assert summary.mean == pytest.approx(np.mean([70, 74, 72.5]))
    assert summary.sd == pytest.approx(np.std([70, 74, 72.5], ddof=1))
    assert (summary.min, summary.max, summary.n_seeds) == (70.0, 74.0, 3)
    assert fl.across_seeds([5.0]).sd is None and "over 1 seeds" in str(fl.across_seeds([5.0]))
    assert summary.to_dict()["values"] == [70.0, 74.0, 72.5]


# ------------------------------------------------------------------------------------------------ the intervals


def test_grouped_interval_is_wider_than_the_naive_one_on_grouped_data():
    y_true, y_pred, groups = _grouped(40, 24, np.random.default_rng(5))
    grouped = fl.accuracy_estimate(y_true, y_pred, groups=groups)
    naive = fl.accuracy_estimate(y_true, y_pred, item_name="patches")
    assert grouped.value == naive.value
    assert grouped.high - grouped.low > 1.5 * (naive.high - naive.low)
    assert (grouped.n, grouped.n_units, naive.n, naive.n_units) == (40, 960, 960, None)
    assert str(grouped).endswith("(n=40 images, 960 patches)") and str(naive).endswith("(n=960 patches)")


def test_grouped_interval_covers_the_truth_and_the_naive_one_does_not():
    """Over many simulated test sets whose patch accuracy is known (each image easy or hard with equal odds,
    (0.2 + 0.95) / 2 = 57.5%), the grouped 95% interval covers it about 95% of the time; the naive one far less."""
    truth, covered_grouped, covered_naive, trials = 57.5, 0, 0, 200
    for seed in range(trials):
        y_true, y_pred, groups = _grouped(30, 10, np.random.default_rng(seed))
        grouped = fl.accuracy_estimate(y_true, y_pred, groups=groups, n_boot=500, random_state=seed)
        naive = fl.accuracy_estimate(y_true, y_pred, n_boot=500, random_state=seed)
        covered_grouped += grouped.low <= truth <= grouped.high
        covered_naive += naive.low <= truth <= naive.high
    assert 0.88 <= covered_grouped / trials <= 0.99
    assert covered_naive / trials < 0.8


def test_equal_methods_are_rarely_told_apart():
    """Two predictions equally accurate by construction: the paired test decides about 5% of the time."""
    decided, trials = 0, 200
    for seed in range(trials):
        rng = np.random.default_rng(seed)
        y_true = rng.integers(0, 3, 100)
        a, b = _predictions(y_true, 0.7, rng, 3), _predictions(y_true, 0.7, rng, 3)
        decided += fl.verdict(fl.paired_difference(y_true, a, b, n_boot=500, random_state=seed)).verdict != "inconclusive"
    assert decided / trials < 0.1


def test_cluster_bootstrap_matches_resampling_groups_one_by_one():
    """The multinomial shortcut has the distribution of drawing whole groups with replacement, by hand."""
    y_true, y_pred, groups = _grouped(30, 10, np.random.default_rng(6))
    estimate = fl.accuracy_estimate(y_true, y_pred, groups=groups, n_boot=4000)
    rng = np.random.default_rng(60)
    right = (y_true == y_pred).reshape(30, 10)
    by_hand = [right[rng.integers(0, 30, 30)].mean() * 100 for _ in range(4000)]
    low, high = np.percentile(by_hand, [2.5, 97.5])
    assert estimate.low == pytest.approx(low, abs=2.0) and estimate.high == pytest.approx(high, abs=2.0)


def test_interval_of_a_large_sample_is_close_to_wilsons():
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 2, 3000)
    y_pred = _predictions(y_true, 0.7, rng, 2)
    estimate = fl.accuracy_estimate(y_true, y_pred, n_boot=4000)
    n, p = len(y_true), np.mean(y_true == y_pred)
    z = scipy_stats.norm.ppf(0.975)
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    assert estimate.value == pytest.approx(100 * p)
    assert estimate.low == pytest.approx(100 * (centre - half), abs=0.4)
    assert estimate.high == pytest.approx(100 * (centre + half), abs=0.4)


def test_same_seed_same_interval_and_another_seed_another():
    y_true, y_pred, groups = _grouped(20, 5, np.random.default_rng(8))
    first, again = (fl.accuracy_estimate(y_true, y_pred, groups=groups, random_state=3) for _ in range(2))
    assert first == again
    others = [fl.accuracy_estimate(y_true, y_pred, groups=groups, random_state=seed) for seed in range(4, 9)]
    assert len({(e.low, e.high) for e in [first, *others]}) > 1
    a = fl.paired_difference(y_true, y_pred, y_true, groups=groups, random_state=9)
    assert a == fl.paired_difference(y_true, y_pred, y_true, groups=groups, random_state=9)


def test_balanced_metric_and_class_rates_are_the_confusion_matrix_diagonal():
    rng = np.random.default_rng(9)
    y_true = np.repeat([0, 1, 2], [30, 10, 20])
    y_pred = _predictions(y_true, 0.7, rng, 3)
    diagonal = np.diag(fl.confusion_matrix_percent(y_true, y_pred, n_classes=4))
    mean, rates = fl.class_rate_estimates(y_true, y_pred, n_classes=4)
    assert mean.value == pytest.approx(np.nanmean(diagonal))
    assert fl.accuracy_estimate(y_true, y_pred, metric="balanced").value == pytest.approx(mean.value)
    assert [r.value for r in rates[:3]] == pytest.approx(diagonal[:3].tolist())
    assert [r.n for r in rates] == [30, 10, 20, 0]
    assert all(r.low <= r.value <= r.high for r in rates[:3])
    assert math.isnan(rates[3].value) and not rates[3].has_interval and rates[3].to_dict()["value"] is None


def test_paired_interval_is_narrower_than_unpaired_on_correlated_predictions():
    rng = np.random.default_rng(10)
    y_true = rng.integers(0, 3, 150)
    a = _predictions(y_true, 0.75, rng, 3)
    b = np.where(rng.random(150) < 0.9, a, y_true)  # b fixes some of a's errors
    paired = fl.paired_difference(y_true, b, a)
    unpaired = fl.unpaired_difference(y_true, b, y_true, a)
    expected = fl.accuracy_estimate(y_true, b).value - fl.accuracy_estimate(y_true, a).value
    assert paired.value == pytest.approx(expected) == unpaired.value
    assert paired.high - paired.low < unpaired.high - unpaired.low
    assert unpaired.n == 300 and "(150 + 150 images)" in unpaired.method and paired.unit == "points"


def test_patch_and_image_level_from_one_resampling():
    y_true, y_pred, groups = _grouped(36, 24, np.random.default_rng(11))
    levels = fl.level_estimates(y_true, y_pred, groups)
    _, voted = fl.majority_vote(y_pred, groups)
    image_true = y_true.reshape(36, 24)[:, 0]
    assert levels.patch.value == pytest.approx(100 * np.mean(y_true == y_pred))
    assert levels.image.value == pytest.approx(100 * np.mean(voted == image_true))
    assert levels.gain.value == pytest.approx(levels.image.value - levels.patch.value)
    assert (levels.patch.n, levels.patch.n_units, levels.image.n, levels.image.n_units) == (36, 864, 36, None)
    assert levels.image.low <= levels.image.value <= levels.image.high


# ------------------------------------------------------------------------------------------------ records


def test_estimate_text_and_record():
    estimate = fl.Estimate(71.4, 65.2, 77.0, n=36, n_units=864, method="m")
    assert str(estimate) == "71.4% [65.2, 77.0] (n=36 images, 864 patches)"
    assert str(fl.Estimate(-3.25, -9.0, 2.0, n=12, unit="points")) == "-3.2 points [-9.0, 2.0] (n=12 images)"
    assert str(fl.Estimate(math.nan, math.nan, math.nan, n=0)) == "n/a (no interval) (n=0 images)"
    assert fl.Estimate(**estimate.to_dict()) == estimate
    result = fl.verdict(fl.Estimate(5.0, 1.0, 9.0, n=30, unit="points"))
    assert result.to_dict()["estimate"]["low"] == 1.0 and str(result).startswith("held: difference +5.0 points")
    assert fl.verdict(fl.Estimate(5.0, math.nan, math.nan, n=1, unit="points")).verdict == "inconclusive"


def test_a_compared_number_without_interval_is_not_meaningful():
    empty = fl.Estimate(math.nan, math.nan, math.nan, n=0)
    result = fl.verdict(fl.Estimate(5.0, 1.0, 9.0, n=30, unit="points"), compared={"class c": empty}, chance=20.0)
    assert result.verdict == "not meaningful at this size" and result.reason == "class c n/a (no interval) (n=0 images) has no interval"


def test_stats_needs_no_tensorflow():
    code = "import sys, forensiclib.stats; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


# ------------------------------------------------------------------------------------------------ errors


def test_estimate_errors():
    with pytest.raises(ValueError, match=r"Expected unit '%' or 'points'. Received: 'fraction'"):
        fl.Estimate(1.0, 0.0, 2.0, n=3, unit="fraction")
    with pytest.raises(ValueError, match=r"Expected n a non-negative integer. Received: -1"):
        fl.Estimate(1.0, 0.0, 2.0, n=-1)
    with pytest.raises(ValueError, match=r"Expected n_units a non-negative integer. Received: 2.5"):
        fl.Estimate(1.0, 0.0, 2.0, n=1, n_units=2.5)
    with pytest.raises(ValueError, match=r"Expected confidence between 0 and 1 \(exclusive\). Received: 95"):
        fl.Estimate(1.0, 0.0, 2.0, n=1, confidence=95)


def test_bootstrap_argument_errors():
    y = [0, 1, 0, 1]
    with pytest.raises(ValueError, match="Expected random_state a non-negative integer or None. Received: 'a'"):
        fl.accuracy_estimate(y, y, random_state="a")
    with pytest.raises(ValueError, match="Expected metric one of accuracy, balanced. Received: 'f1'"):
        fl.accuracy_estimate(y, y, metric="f1")
    with pytest.raises(ValueError, match="Expected n_boot an integer of at least 100 .* Received: 10"):
        fl.paired_difference(y, y, y, n_boot=10)
    with pytest.raises(ValueError, match=r"Expected confidence between 0 and 1 \(exclusive\), e.g. 0.95. Received: 1.5"):
        fl.accuracy_estimate(y, y, confidence=1.5)
    with pytest.raises(ValueError, match=r"Expected y_true as non-negative integer labels \(n,\) or scores \(n, K\). "
                                         r"Received: float64 array of shape \(2,\)"):  # fmt: skip
        fl.accuracy_estimate([0.5, 1.0], [0, 1])
    with pytest.raises(ValueError, match=r"Expected pred_b with one prediction per label \(4\). Received: 3"):
        fl.paired_difference(y, y, y[:3])
    with pytest.raises(ValueError, match=r"Expected groups with one id per test item, shape \(4,\). Received: shape \(2,\)"):
        fl.accuracy_estimate(y, y, groups=[0, 1])
    with pytest.raises(ValueError, match="Expected at least 2 groups to resample. Received: 1"):
        fl.accuracy_estimate(y, y, groups=[7, 7, 7, 7])
    with pytest.raises(ValueError, match="Expected at least 2 test items to resample. Received: 0"):
        fl.accuracy_estimate([], [])
    with pytest.raises(ValueError, match="Expected groups for both test sets or for neither"):
        fl.unpaired_difference(y, y, y, y, groups_a=[0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"Expected groups_b with one id per test item"):
        fl.unpaired_difference(y, y, y, y, groups_a=[0, 0, 1, 1], groups_b=[0])
    with pytest.raises(ValueError, match="Expected n_classes an integer of at least 2 .* Received: 1"):
        fl.class_rate_estimates(y, y, n_classes=1)
    with pytest.raises(ValueError, match="Expected one true label per image .* Received: images whose patches"):
        fl.level_estimates(y, y, [0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"Expected image_ids with one id per test item"):
        fl.level_estimates(y, y, [0, 1])


def test_chance_level_errors():
    with pytest.raises(ValueError, match="Expected metric one of accuracy, balanced. Received: 'top5'"):
        fl.chance_level([0, 1], metric="top5")
    with pytest.raises(ValueError, match="Expected at least one test label. Received: none"):
        fl.chance_level([])
    with pytest.raises(ValueError, match="Expected n_classes at least the 2 classes present. Received: 1"):
        fl.chance_level([0, 1], metric="balanced", n_classes=1)


def test_verdict_errors():
    estimate = fl.Estimate(5.0, 1.0, 9.0, n=30, unit="points")
    with pytest.raises(ValueError, match="Expected estimate an Estimate. Received: float"):
        fl.verdict(5.0)
    with pytest.raises(ValueError, match="Expected relation one of >, >=, <, <=. Received: '=>'"):
        fl.verdict(estimate, "=>")
    with pytest.raises(ValueError, match="Expected threshold a finite number. Received: nan"):
        fl.verdict(estimate, threshold=math.nan)
    with pytest.raises(ValueError, match="Expected margin a non-negative number, and only with '>=' or '<='. "
                                         "Received: margin=2 with '>'"):  # fmt: skip
        fl.verdict(estimate, ">", margin=2)
    with pytest.raises(ValueError, match=r"Received: margin=-1 with '>='"):
        fl.verdict(estimate, ">=", margin=-1)
    with pytest.raises(ValueError, match=r"Expected compared and chance together .* Received: compared=\['A'\], chance=None"):
        fl.verdict(estimate, compared={"A": estimate})
    with pytest.raises(ValueError, match=r"Expected a chance level for each compared number \['A'\]. Received: \['B'\]"):
        fl.verdict(estimate, compared={"A": estimate}, chance={"B": 20.0})
    with pytest.raises(ValueError, match=r"Expected compared\['A'\] an Estimate. Received: float"):
        fl.verdict(estimate, compared={"A": 50.0}, chance=20.0)


def test_seed_errors():
    with pytest.raises(ValueError, match="Expected a non-empty sequence of numbers or Estimates, one per seed"):
        fl.across_seeds([])
    with pytest.raises(ValueError, match=r"Expected Estimates in one unit. Received: \['%', 'points'\]"):
        fl.across_seeds([fl.Estimate(1.0, 0.0, 2.0, n=3), fl.Estimate(1.0, 0.0, 2.0, n=3, unit="points")])
    with pytest.raises(ValueError, match="Expected a finite number or Estimate for each seed. Received: nan"):
        fl.across_seeds([1.0, math.nan])
    with pytest.raises(ValueError, match="Expected a non-empty sequence of verdicts, one per seed. Received: 'held'"):
        fl.seed_verdict("held")
    with pytest.raises(ValueError, match=r"Expected verdicts among held, not held, inconclusive, not meaningful at "
                                         r"this size. Received: \['holds'\]"):  # fmt: skip
        fl.seed_verdict(["held", "holds"])
    with pytest.raises(ValueError, match=r"Expected one seed per verdict \(2\). Received: 1"):
        fl.seed_verdict(["held", "held"], seeds=[0])


def test_over_seeds_pools_a_claim_s_evidence_and_refuses_nothing_to_combine():
    def seed(value):
        return fl.verdict(fl.Estimate(value, value - 4, value + 4, n=40, unit="points"), ">")

    held, shaky = seed(5.0), seed(2.0)
    one, detail = fl.over_seeds({3: held})
    assert one.verdict == "inconclusive" and "one training run" in one.reason  # one seed cannot decide
    assert detail == f"seed 3: held, {held.reason}"
    both, detail = fl.over_seeds({0: held, 1: shaky})
    assert both.estimate.n_seeds == 2 and "alone: held at seed 0, inconclusive at seed 1" in both.reason
    assert detail == f"seed 0: held, {held.reason}; seed 1: inconclusive, {shaky.reason}"
    assert fl.over_seeds({0: held, 1: held, 2: held})[0].verdict == "held"
    failed, _ = fl.over_seeds({0: held, 1: held}, failed=["the network of seed 1 did not learn"])
    assert failed.verdict == "not meaningful at this size"
    with pytest.raises(ValueError, match=r"Expected the verdicts of at least one seed \(seed -> Verdict\). Received: \{\}"):
        fl.over_seeds({})
    with pytest.raises(ValueError, match=r"Expected a Verdict at every seed. Received something else at seed \[1\]"):
        fl.over_seeds({0: held, 1: "held"})
    assert fl.every_claim({"fc1": held, "fc2": shaky}).verdict == "inconclusive"
