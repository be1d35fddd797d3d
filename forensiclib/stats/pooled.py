"""Numbers over several training seeds: one interval for the training variance and the test sampling together.

A network's test accuracy moves with two kinds of chance: which test sources were drawn (a second photo of the
same scene, a second device of the same model, would score differently) and how training went (initial weights,
the patches drawn, the order of the batches). A bootstrap over the test set of one trained network sees only the
first. A reproduced number is therefore the **mean over seeds**, and its interval covers both:

    variance = V_units + s_seeds^2 / S
    interval = mean +/- t(df) * sqrt(variance)

- `V_units`: the variance of the seed mean when the independent test units (source photos, source images,
  devices; never patches or images that share a source) are resampled with replacement. When every seed is
  tested on the same items (paper 2: the data are fixed, the seed sets the weights and the patches drawn) one
  resample of the units serves every seed (a crossed design); when each seed draws its own split (paper 1),
  each seed's units are resampled on their own (nested).
- `s_seeds^2 / S`: the variance of a mean of S training runs, from the spread of the seeds' own numbers.
- `t(df)`: Student's t quantile with Welch-Satterthwaite degrees of freedom (units: G - 1; seeds: S - 1), so
  that three seeds give the wide interval three seeds deserve (t = 4.3 at df = 2) rather than a percentile of
  ten distinct seed resamples.

In the nested case the seeds' spread already holds some test-sampling variance, which `V_units` counts again: the
interval is then somewhat conservative, never too narrow. With one seed the training variance cannot be
estimated: the interval is the units' percentile bootstrap and says so in its method, and such a number cannot
decide a claim (`verdict` of a one-seed pooled difference is inconclusive; see `pooled_difference`).

`tests/test_pooled.py` checks on simulated classifiers with seed-to-seed variance and shared sources that this
interval covers the true mean about 95% of the time, where a bootstrap over one seed's test images does not.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np

from .estimates import (
    Estimate,
    _check_settings,
    _generator,
    _group_counts,
    _interval,
    _labels,
    _metric,
    _resample,
)
from .verdicts import VERDICTS, Verdict, verdict

__all__ = ["pooled_accuracy", "pooled_difference", "pool_estimates", "pooled_verdict", "over_seeds", "combine_independent"]


def _per_seed(value, n_seeds: int) -> list:
    """`value` once per seed: a list of length `n_seeds` as given, or one array repeated (shared by all seeds)."""
    if isinstance(value, (list, tuple)) and len(value) == n_seeds and all(np.ndim(v) >= 1 for v in value):
        return [np.asarray(v) for v in value]
    return [np.asarray(value)] * n_seeds


def _seed_runs(y_true, predictions: dict[str, Sequence], units, unit_name: str):
    """Check and normalise per-seed test outputs: `(ys, {name: preds}, inverses, group counts, crossed)`."""
    lengths = {name: len(p) for name, p in predictions.items()
               if not isinstance(p, (str, bytes)) and isinstance(p, Sequence)}  # fmt: skip
    if len(lengths) != len(predictions) or not lengths or min(lengths.values()) < 1:
        raise ValueError("Expected the predictions as a non-empty list with one entry per seed. Received: "
                         + ", ".join(f"{n}: {type(p).__name__}" for n, p in predictions.items()))  # fmt: skip
    if len(set(lengths.values())) > 1:
        raise ValueError(f"Expected the same number of seeds for every method. Received: {lengths}")
    n_seeds = next(iter(lengths.values()))
    ys = [_labels(y, "y_true") for y in _per_seed(y_true, n_seeds)]
    preds = {name: [_labels(p, name) for p in seq] for name, seq in predictions.items()}
    if units is None:
        raise ValueError(f"Expected units: the independent test unit ({unit_name}) of each test item, so that "
                         "items sharing a source are resampled together. Received: None")  # fmt: skip
    unit_arrays = _per_seed(units, n_seeds)
    inverses, counts_of_groups = [], []
    for s in range(n_seeds):
        n = len(ys[s])
        if n == 0:
            raise ValueError(f"Expected test items at seed index {s}. Received: none")
        for name, seq in preds.items():
            if len(seq[s]) != n:
                raise ValueError(f"Expected {name} at seed index {s} with one prediction per test item ({n}). "
                                 f"Received: {len(seq[s])}")  # fmt: skip
        if unit_arrays[s].shape != (n,):
            raise ValueError(f"Expected units at seed index {s} with one id per test item, shape ({n},). "
                             f"Received: shape {unit_arrays[s].shape}")  # fmt: skip
        _, inverse = np.unique(unit_arrays[s], return_inverse=True)
        inverse = inverse.reshape(-1)
        n_groups = int(inverse.max()) + 1
        if n_groups < 2:
            raise ValueError(f"Expected at least 2 {unit_name} to resample at seed index {s}. Received: {n_groups}")
        inverses.append(inverse)
        counts_of_groups.append(n_groups)
    crossed = all(np.array_equal(ys[0], y) and np.array_equal(unit_arrays[0], u) for y, u in zip(ys, unit_arrays))
    return ys, preds, inverses, counts_of_groups, crossed


def _t_quantile(probability: float, df: float) -> float:
    from scipy.stats import t

    return float(t.ppf(probability, df)) if math.isfinite(df) else float(t.ppf(probability, 1e9))


def _unit_variance(replicates: np.ndarray) -> float:
    """The variance of the seed mean over the units' resamples (`(B,)` replicates)."""
    finite = replicates[np.isfinite(replicates)]
    return float(np.var(finite, ddof=1)) if finite.size > 1 else 0.0


def _pooled(values: np.ndarray, v_units: float, n_groups: list[int], crossed: bool, confidence: float,
            unit: str) -> tuple[float, float, float, str]:  # fmt: skip
    """`(mean, low, high, how)` from the seeds' values `(S,)` (at least 2) and the variance of their mean over the
    test units' resampling."""
    mean = float(np.mean(values))
    n_seeds = len(values)
    bound = (0.0, 100.0) if unit == "%" else (-100.0, 100.0)
    v_seeds = float(np.var(values, ddof=1)) / n_seeds
    df_units = (n_groups[0] - 1) if crossed else float(sum(g - 1 for g in n_groups))
    df_seeds = n_seeds - 1
    total = v_units + v_seeds
    if total == 0.0:
        return mean, mean, mean, f"mean over {n_seeds} seeds; no variance between seeds or resamples"
    df = total**2 / ((v_units**2 / max(df_units, 1) if v_units else 0.0) + (v_seeds**2 / df_seeds if v_seeds else 0.0))
    half = _t_quantile(0.5 + confidence / 2.0, df) * math.sqrt(total)
    low, high = max(bound[0], mean - half), min(bound[1], mean + half)
    design = "the same test set at every seed" if crossed else "each seed its own test split"
    how = (f"mean over {n_seeds} seeds ({design}); ± t(df={df:.1f}) × √(unit-bootstrap variance + "
           f"between-seed variance / {n_seeds}); sd between seeds {math.sqrt(v_seeds * n_seeds):.1f}")
    return mean, low, high, how


def _pooled_from_replicates(values, replicates, n_groups, crossed, confidence, unit):
    """`_pooled`, or with one seed the units' percentile interval (the training variance cannot be estimated)."""
    if len(values) == 1:
        low, high = _interval(replicates, confidence)
        return float(values[0]), low, high, "one seed: training variance not included; percentile bootstrap"
    return _pooled(values, _unit_variance(replicates), n_groups, crossed, confidence, unit)


def _replicates(cells_per_seed: list[np.ndarray], inverses: list[np.ndarray], n_groups: list[int], n_cells: int,
                crossed: bool, n_boot: int, rng: np.random.Generator) -> list[np.ndarray]:  # fmt: skip
    """Per seed, `(n_boot, n_cells)` resampled cell counts; one draw of the units for all seeds when crossed."""
    if crossed:
        stacked = np.concatenate([_group_counts(c, inverses[0], n_groups[0], n_cells) for c in cells_per_seed], axis=1)
        resampled = _resample(stacked, n_boot, rng)
        return [resampled[:, s * n_cells:(s + 1) * n_cells] for s in range(len(cells_per_seed))]
    return [_resample(_group_counts(c, inv, g, n_cells), n_boot, rng)
            for c, inv, g in zip(cells_per_seed, inverses, n_groups)]  # fmt: skip


def _sizes(ys, n_groups, crossed, item_name, unit_name, n_seeds) -> dict:
    n = n_groups[0] if crossed else sum(n_groups)
    items = len(ys[0]) if crossed else sum(len(y) for y in ys)
    return {"n": n, "n_label": unit_name, "n_units": items, "units_label": item_name, "n_seeds": n_seeds}


def pooled_accuracy(y_true, predictions: Sequence, *, units, metric: str = "accuracy", n_boot: int = 2000,
                    confidence: float = 0.95, random_state: int | None = 0, item_name: str = "patches",
                    unit_name: str = "sources") -> Estimate:  # fmt: skip
    """The mean over seeds of a test accuracy, with an interval over seeds and independent test units together.

    Args:
        y_true: `(n,)` true labels shared by every seed, or a list with one `(n_s,)` array per seed.
        predictions: a list with one entry per seed: `(n_s,)` predicted labels or `(n_s, K)` scores.
        units: `(n,)` each test item's independent unit (source photo, source image, device), shared, or a list
            per seed. Items of one unit are resampled together.
        metric: `"accuracy"` or `"balanced"` (mean per-class rate).
        n_boot: resamples of the units (at least 100).
        confidence: the interval's coverage.
        random_state: seed of the resampling.
        item_name: what a test item is (`"patches"`, `"images"`).
        unit_name: what a unit is (`"sources"`, `"devices"`).

    Returns:
        An `Estimate` with `n` = units (summed over seeds when each seed has its own split), `n_units` = items,
        `n_seeds` = seeds; the method says how the interval was made.

    Example:
        >>> y = [0, 0, 1, 1, 0, 1]
        >>> est = pooled_accuracy(y, [[0, 0, 1, 1, 1, 1], [0, 1, 1, 1, 0, 1]], units=[0, 0, 1, 1, 2, 2])
        >>> round(est.value, 1), est.n, est.n_seeds
        (83.3, 3, 2)
    """
    rng = _generator(random_state)
    _check_settings(metric, n_boot, confidence)
    ys, preds, inverses, n_groups, crossed = _seed_runs(y_true, {"predictions": predictions}, units, unit_name)
    preds = preds["predictions"]
    k = int(max(max(y.max() for y in ys), max(p.max() for p in preds))) + 1
    cells = [y * 2 + (p == y) for y, p in zip(ys, preds)]
    values = np.array([float(_metric(np.bincount(c, minlength=2 * k).reshape(k, 2), metric)) for c in cells])
    reps = _replicates(cells, inverses, n_groups, 2 * k, crossed, n_boot, rng)
    seed_mean = np.nanmean(np.stack([_metric(r.reshape(n_boot, k, 2), metric) for r in reps]), axis=0)
    mean, low, high, how = _pooled_from_replicates(values, seed_mean, n_groups, crossed, confidence, "%")
    what = "mean per-class rate" if metric == "balanced" else "accuracy"
    return Estimate(mean, low, high, **_sizes(ys, n_groups, crossed, item_name, unit_name, len(values)),
                    confidence=confidence, method=f"{what}; {how}; whole {unit_name} resampled, {n_boot} resamples")


def pooled_difference(y_true, predictions_a: Sequence, predictions_b: Sequence, *, units, metric: str = "accuracy",
                      n_boot: int = 2000, confidence: float = 0.95, random_state: int | None = 0,
                      item_name: str = "patches", unit_name: str = "sources") -> Estimate:  # fmt: skip
    """The mean over seeds of method A's metric minus method B's, paired within each seed, in points.

    At each seed A and B are scored on the same test items (a network and its baseline, two share depths of one
    sweep); the units are resampled once for both, so what the two share cancels; the seeds' differences then
    enter as in `pooled_accuracy`.

    Args:
        y_true: as `pooled_accuracy`.
        predictions_a: one entry per seed, A's predictions on that seed's test items.
        predictions_b: B's, on the same items in the same order.
        units, metric, n_boot, confidence, random_state, item_name, unit_name: as `pooled_accuracy`.

    Returns:
        An `Estimate` in points with `n_seeds`. With one seed the training variance is not in the interval (its
        method says so) and `stats.verdict` returns inconclusive for it: one training run cannot decide a claim.
    """
    rng = _generator(random_state)
    _check_settings(metric, n_boot, confidence)
    ys, preds, inverses, n_groups, crossed = _seed_runs(y_true, {"predictions_a": predictions_a,
                                                                 "predictions_b": predictions_b}, units, unit_name)  # fmt: skip
    a, b = preds["predictions_a"], preds["predictions_b"]
    k = int(max(max(y.max() for y in ys), *(p.max() for p in a + b))) + 1

    def difference(c):  # (..., 4K) counts -> A's metric minus B's
        c = c.reshape(*c.shape[:-1], k, 2, 2)
        return _metric(c.sum(axis=-1), metric) - _metric(c.sum(axis=-2), metric)

    cells = [y * 4 + (pa == y) * 2 + (pb == y) for y, pa, pb in zip(ys, a, b)]
    values = np.array([float(difference(np.bincount(c, minlength=4 * k))) for c in cells])
    reps = _replicates(cells, inverses, n_groups, 4 * k, crossed, n_boot, rng)
    seed_mean = np.nanmean(np.stack([difference(r) for r in reps]), axis=0)
    mean, low, high, how = _pooled_from_replicates(values, seed_mean, n_groups, crossed, confidence, "points")
    what = "mean per-class rate" if metric == "balanced" else "accuracy"
    return Estimate(mean, low, high, **_sizes(ys, n_groups, crossed, item_name, unit_name, len(values)),
                    confidence=confidence, unit="points",
                    method=f"{what}, paired difference; {how}; whole {unit_name} resampled, {n_boot} resamples")



def pool_estimates(estimates: Sequence[Estimate], *, same_test_set: bool = False) -> Estimate:
    """Pool one number measured at several seeds, from each seed's `Estimate` alone (when the predictions behind
    them are not at hand): the mean over seeds, with the interval of `pooled_accuracy`, each seed's test-sampling
    variance read off its own interval (normal approximation: `((high - low) / (2 z))^2`).

    Args:
        estimates: the number at each seed, each with its interval (a bootstrap over its test units).
        same_test_set: True when every seed was tested on the same units (then the seeds' test-sampling variances
            are averaged, not divided by the seeds again); False when each seed drew its own split.

    Returns:
        An `Estimate` with `n_seeds`; `n` and `n_units` summed over the seeds' own splits (or the first seed's
        when they share one). With one seed, that seed's estimate with `n_seeds=1` (it cannot decide a claim).

    Example:
        >>> runs = [Estimate(v, v - 6, v + 6, n=40, unit="points") for v in (5.0, 7.0, 6.0)]
        >>> str(pool_estimates(runs))
        '+6.0 points [2.3, 9.7] (n=120 images, 3 seeds)'
    """
    if isinstance(estimates, (str, bytes)) or not isinstance(estimates, Sequence) or not estimates:
        raise ValueError(f"Expected a non-empty sequence of Estimates, one per seed. Received: {estimates!r}")
    for i, e in enumerate(estimates):
        if not isinstance(e, Estimate):
            raise ValueError(f"Expected an Estimate at seed index {i}. Received: {type(e).__name__}")
    units = {e.unit for e in estimates}
    confidences = {e.confidence for e in estimates}
    if len(units) > 1 or len(confidences) > 1:
        raise ValueError(f"Expected Estimates in one unit and at one confidence. Received: units {sorted(units)}, "
                         f"confidences {sorted(confidences)}")  # fmt: skip
    first = estimates[0]

    if len(estimates) == 1:
        return dataclasses.replace(first, n_seeds=1, method=f"{first.method}; one seed: training variance not included")
    if not all(e.has_interval for e in estimates):
        missing = [i for i, e in enumerate(estimates) if not e.has_interval]
        return dataclasses.replace(first, value=float(np.mean([e.value for e in estimates])), low=math.nan,
                                   high=math.nan, n_seeds=len(estimates),
                                   method=f"mean over {len(estimates)} seeds; no interval: seed index {missing} has none")
    z = _t_quantile(0.5 + first.confidence / 2.0, math.inf)
    variances = np.array([((e.high - e.low) / (2 * z)) ** 2 for e in estimates])
    values = np.array([e.value for e in estimates])
    n_seeds = len(estimates)
    v_units = float(variances.mean()) if same_test_set else float(variances.sum()) / n_seeds**2
    groups = [first.n] if same_test_set else [e.n for e in estimates]
    mean, low, high, how = _pooled(values, v_units, groups, same_test_set, first.confidence, first.unit)
    how = how.replace("unit-bootstrap variance", "the seeds' own test-sampling variances")
    n = first.n if same_test_set else sum(e.n for e in estimates)
    n_units = first.n_units if same_test_set or first.n_units is None else sum(e.n_units or 0 for e in estimates)
    return Estimate(mean, low, high, n=n, n_units=n_units, n_label=first.n_label, units_label=first.units_label,
                    confidence=first.confidence, unit=first.unit, n_seeds=n_seeds,
                    method=f"{how}; from each seed's interval ({first.method})")


def pooled_verdict(verdicts: Sequence[Verdict], *, seeds: Sequence[int] | None = None, same_test_set: bool = False,
                   failed: Sequence[str] = ()) -> Verdict:  # fmt: skip
    """One verdict on a claim from its verdicts at several seeds, decided on their evidence pooled.

    Each seed's `Verdict` carries the estimate it rests on; `pool_estimates` pools them and the pooled estimate is
    decided with the same relation and boundary (`stats.verdict`). This replaces "held when every seed agrees": a
    small effect that every seed shows can be held, and one that a single seed shows strongly is not.

    Args:
        verdicts: the claim's `Verdict` at each seed (from `stats.verdict`, with its estimate).
        seeds: the seeds, for the reason (default 0, 1, ...).
        same_test_set: as `pool_estimates`.
        failed: one line per network behind the claim that did not learn (`training.TrainingStatus.learned`);
            any makes the claim not meaningful at this size.

    Returns:
        A `Verdict` with the pooled estimate; not meaningful at this size when a network failed or a seed found a
        compared number at chance; inconclusive with one seed.
    """
    if isinstance(verdicts, (str, bytes)) or not isinstance(verdicts, Sequence) or not verdicts:
        raise ValueError(f"Expected a non-empty sequence of Verdicts, one per seed. Received: {verdicts!r}")
    for i, v in enumerate(verdicts):
        if not isinstance(v, Verdict) or v.verdict not in VERDICTS:
            raise ValueError(f"Expected a stats.Verdict at seed index {i}. Received: {v!r}")
    seeds = list(range(len(verdicts))) if seeds is None else list(seeds)
    if len(seeds) != len(verdicts):
        raise ValueError(f"Expected one seed per verdict ({len(verdicts)}). Received: {len(seeds)}")
    if failed:
        return Verdict("not meaningful at this size", "; ".join(failed))
    at_chance = [f"seed {s}: {v.reason}" for s, v in zip(seeds, verdicts) if v.verdict == "not meaningful at this size"]
    if at_chance:
        return Verdict("not meaningful at this size", "; ".join(at_chance))
    if any(v.estimate is None or v.relation is None for v in verdicts):
        return Verdict("inconclusive", "a seed's verdict carries no estimate to pool")
    rules = {(v.relation, v.boundary) for v in verdicts}
    if len(rules) > 1:
        raise ValueError(f"Expected one relation and boundary at every seed. Received: {sorted(rules, key=str)}")
    relation, boundary = rules.pop()
    pooled = pool_estimates([v.estimate for v in verdicts], same_test_set=same_test_set)
    decided = verdict(pooled, relation, threshold=boundary)
    per_seed = ", ".join(f"{v.verdict} at seed {s}" for s, v in zip(seeds, verdicts))
    return Verdict(decided.verdict, f"{decided.reason} (alone: {per_seed})", estimate=pooled, relation=relation,
                   boundary=boundary)


def combine_independent(estimates: Sequence[Estimate], weights: Sequence[float], *, unit: str | None = None) -> Estimate:
    """A weighted sum of numbers measured on independent test sets (different datasets), with its interval.

    For a comparison across datasets, e.g. "UCID social is easier than IPLab" (weights 1, -1, in points) or "the
    three datasets average about 90%" (weights 1/3 each), where no test item is shared and no paired bootstrap
    exists. Each number's standard error is read off its own interval (normal approximation,
    `(high - low) / (2 z)`), and the errors add in quadrature.

    Args:
        estimates: the numbers, each with its interval, on independent test sets.
        weights: one weight per number.
        unit: the result's unit; default `"points"` when the weights sum to 0 (a difference), else the numbers'.

    Returns:
        An `Estimate` with `n` (and `n_units`) summed over the test sets.

    Example:
        >>> a, b = Estimate(90.0, 86.0, 94.0, n=20), Estimate(80.0, 77.0, 83.0, n=30)
        >>> str(combine_independent([a, b], [1, -1]))
        '+10.0 points [5.0, 15.0] (n=50 images)'
    """
    if isinstance(estimates, (str, bytes)) or not isinstance(estimates, Sequence) or not estimates:
        raise ValueError(f"Expected a non-empty sequence of Estimates. Received: {estimates!r}")
    if not all(isinstance(e, Estimate) for e in estimates):
        raise ValueError(f"Expected Estimates. Received: {[type(e).__name__ for e in estimates]}")
    if len(weights) != len(estimates) or not all(isinstance(w, (int, float)) and math.isfinite(w) for w in weights):
        raise ValueError(f"Expected one finite weight per estimate ({len(estimates)}). Received: {list(weights)!r}")
    confidence = estimates[0].confidence
    z = _t_quantile(0.5 + confidence / 2.0, math.inf)
    value = float(sum(w * e.value for w, e in zip(weights, estimates)))
    unit = unit or ("points" if abs(sum(weights)) < 1e-12 else estimates[0].unit)
    n_units = None if any(e.n_units is None for e in estimates) else int(sum(e.n_units for e in estimates))
    common = dict(n=int(sum(e.n for e in estimates)), n_units=n_units, n_label=estimates[0].n_label,
                  units_label=estimates[0].units_label, confidence=confidence, unit=unit)  # fmt: skip
    if not all(e.has_interval for e in estimates):
        return Estimate(value, math.nan, math.nan, method="weighted sum of independent estimates; a term has no "
                        "interval", **common)  # fmt: skip
    se = math.sqrt(sum((w * (e.high - e.low) / (2 * z)) ** 2 for w, e in zip(weights, estimates)))
    return Estimate(value, value - z * se, value + z * se, **common,
                    method="weighted sum of estimates on independent test sets; normal approximation, each "
                           "standard error read off its own interval")  # fmt: skip


def over_seeds(per_seed: Mapping[int, Verdict], *, failed: Sequence[str] = ()) -> tuple[Verdict, str]:
    """A claim decided at every seed, combined on the pooled evidence (`pooled_verdict`; one seed: inconclusive).

    Args:
        per_seed: seed -> the claim's `Verdict` at that seed, with the estimate it rests on.
        failed: as `pooled_verdict` (networks behind the claim that did not learn).

    Returns:
        `(verdict, detail)`: the pooled verdict and each seed's own verdict with its evidence
        ("seed 0: held, ...; seed 1: inconclusive, ...").
    """
    if not isinstance(per_seed, Mapping) or not per_seed:
        raise ValueError(f"Expected the verdicts of at least one seed (seed -> Verdict). Received: {per_seed!r}")
    wrong = [seed for seed, v in per_seed.items() if not isinstance(v, Verdict)]
    if wrong:
        raise ValueError(f"Expected a Verdict at every seed. Received something else at seed {wrong}")
    detail = "; ".join(f"seed {seed}: {v.verdict}, {v.reason}" for seed, v in per_seed.items())
    return pooled_verdict(list(per_seed.values()), seeds=list(per_seed), failed=failed), detail
