"""Estimates: a number with its 95% bootstrap interval and test size (cluster bootstrap over images for patches)."""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping

import numpy as np

__all__ = [
    "Estimate",
    "LevelEstimates",
    "accuracy_estimate",
    "class_rate_estimates",
    "paired_difference",
    "unpaired_difference",
    "level_estimates",
    "chance_level",
]

_METRICS = ("accuracy", "balanced")
_CHUNK = 2**22  # multinomial draws per block of resamples


def _finite_or_none(value):
    return None if value is None or not math.isfinite(value) else float(value)


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A number with its interval and the test size behind it.

    Attributes:
        value: the number, in percent (`unit="%"`) or percentage points (`unit="points"`, a difference).
        low: lower end of the interval (NaN when there is none, e.g. a class without test items).
        high: upper end of the interval.
        n: how many independent units the interval resamples (images, or source groups).
        n_units: how many items the number is computed over when finer than `n` (patches), else None.
        n_label: what `n` counts, e.g. `"images"`.
        units_label: what `n_units` counts, e.g. `"patches"`.
        confidence: the interval's coverage, e.g. 0.95.
        method: how the interval was computed, in words.
        unit: `"%"` or `"points"`.
        n_seeds: how many training seeds the number is the mean of (`stats.pooled_accuracy`); None when it is
            one trained network's number and its interval covers the test sampling alone.

    Example:
        >>> str(Estimate(71.4, 65.2, 77.0, n=36, n_units=864))
        '71.4% [65.2, 77.0] (n=36 images, 864 patches)'
    """

    value: float
    low: float
    high: float
    n: int
    n_units: int | None = None
    n_label: str = "images"
    units_label: str = "patches"
    confidence: float = 0.95
    method: str = ""
    unit: str = "%"
    n_seeds: int | None = None

    def __post_init__(self):
        if self.unit not in ("%", "points"):
            raise ValueError(f"Expected unit '%' or 'points'. Received: {self.unit!r}")
        for name, count in (("n", self.n), ("n_units", self.n_units), ("n_seeds", self.n_seeds)):
            if name in ("n_units", "n_seeds") and count is None:
                continue
            if not isinstance(count, (int, np.integer)) or isinstance(count, bool) or count < 0:
                raise ValueError(f"Expected {name} a non-negative integer. Received: {count!r}")
        if not 0 < self.confidence < 1:
            raise ValueError(f"Expected confidence between 0 and 1 (exclusive). Received: {self.confidence!r}")

    @property
    def has_interval(self) -> bool:
        """Whether both ends of the interval are finite numbers."""
        return math.isfinite(self.low) and math.isfinite(self.high)

    def to_dict(self) -> dict:
        """A JSON-ready dict (NaN as None)."""
        record = dataclasses.asdict(self)
        for key in ("value", "low", "high"):
            record[key] = _finite_or_none(record[key])
        return record

    def _number(self, value: float, signed: bool = False) -> str:
        return "n/a" if not math.isfinite(value) else f"{value:+.1f}" if signed else f"{value:.1f}"

    def __str__(self) -> str:
        points = self.unit == "points"
        value = self._number(self.value, signed=points)
        value += "" if value == "n/a" else " points" if points else "%"
        interval = f" [{self._number(self.low)}, {self._number(self.high)}]" if self.has_interval else " (no interval)"
        units = f", {self.n_units} {self.units_label}" if self.n_units is not None else ""
        seeds = "" if self.n_seeds is None else f", {self.n_seeds} seed" + ("s" if self.n_seeds != 1 else "")
        return f"{value}{interval} (n={self.n} {self.n_label}{units}{seeds})"


@dataclasses.dataclass(frozen=True)
class LevelEstimates:
    """Patch- and image-level numbers of one test set (paper 1 reports both) and the image level's gain."""

    patch: Estimate
    image: Estimate
    gain: Estimate


# ----------------------------------------------------------------------------------------------- validation


def _generator(random_state) -> np.random.Generator:
    if random_state is not None and (not isinstance(random_state, (int, np.integer)) or isinstance(random_state, bool)
                                     or random_state < 0):  # fmt: skip
        raise ValueError(f"Expected random_state a non-negative integer or None. Received: {random_state!r}")
    return np.random.default_rng(random_state)


def _check_settings(metric: str, n_boot, confidence) -> None:
    if metric not in _METRICS:
        raise ValueError(f"Expected metric one of {', '.join(_METRICS)}. Received: {metric!r}")
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 100:
        raise ValueError(f"Expected n_boot an integer of at least 100 (fewer leave a 95% interval's tails to a "
                         f"handful of resamples). Received: {n_boot!r}")  # fmt: skip
    if not isinstance(confidence, (float, int)) or isinstance(confidence, bool) or not 0 < confidence < 1:
        raise ValueError(f"Expected confidence between 0 and 1 (exclusive), e.g. 0.95. Received: {confidence!r}")


def _labels(y, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and np.issubdtype(y.dtype, np.number) and y.shape[1] > 0:
        y = y.argmax(axis=1)
    if y.ndim == 1 and not y.size:
        return y.astype(np.int64)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise ValueError(f"Expected {name} as non-negative integer labels (n,) or scores (n, K). "
                         f"Received: {y.dtype} array of shape {y.shape}")  # fmt: skip
    return y.astype(np.int64)


def _test_set(y_true, predictions: Mapping[str, object], groups, *, groups_name: str = "groups"):
    """Labels, predictions and each item's group index, checked for matching sizes."""
    y_true = _labels(y_true, "y_true")
    preds = [_labels(p, name) for name, p in predictions.items()]
    for name, pred in zip(predictions, preds):
        if len(pred) != len(y_true):
            raise ValueError(f"Expected {name} with one prediction per label ({len(y_true)}). Received: {len(pred)}")
    if groups is None:
        inverse, n_groups = np.arange(len(y_true)), len(y_true)
    else:
        groups = np.asarray(groups)
        if groups.shape != y_true.shape:
            raise ValueError(f"Expected {groups_name} with one id per test item, shape {y_true.shape}. "
                             f"Received: shape {groups.shape}")  # fmt: skip
        _, inverse = np.unique(groups, return_inverse=True)
        inverse = inverse.reshape(-1)
        n_groups = int(inverse.max()) + 1 if inverse.size else 0
    if n_groups < 2:
        what = "groups" if groups is not None else "test items"
        raise ValueError(f"Expected at least 2 {what} to resample. Received: {n_groups}")
    return y_true, preds, inverse, n_groups


# ----------------------------------------------------------------------------------------------- the bootstrap


def _group_counts(cells: np.ndarray, inverse: np.ndarray, n_groups: int, n_cells: int) -> np.ndarray:
    """`(n_groups, n_cells)` counts of each group's items in each cell."""
    return np.bincount(inverse * n_cells + cells, minlength=n_groups * n_cells).reshape(n_groups, n_cells)


def _resample(counts: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """`(n_boot, n_cells)` cell counts of `n_boot` resamples of the groups (rows of `counts`) with replacement."""
    types, multiplicity = np.unique(counts, axis=0, return_counts=True)
    n_groups = len(counts)
    pvals = multiplicity / n_groups
    types = types.astype(np.float64)
    out = np.empty((n_boot, counts.shape[1]))
    step = max(1, _CHUNK // len(types))
    for start in range(0, n_boot, step):
        stop = min(n_boot, start + step)
        out[start:stop] = rng.multinomial(n_groups, pvals, size=stop - start).astype(np.float64) @ types
    return out


def _metric(counts: np.ndarray, metric: str) -> np.ndarray:
    """Accuracy or mean per-class rate in percent from `(..., K, 2)` counts of [wrong, right] per true class."""
    totals = counts.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a class absent from a resample
        if metric == "accuracy":
            return 100.0 * counts[..., 1].sum(axis=-1) / totals.sum(axis=-1)
        return 100.0 * np.nanmean(counts[..., 1] / totals, axis=-1)


def _interval(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    finite = replicates[np.isfinite(replicates)]
    if not finite.size:
        return math.nan, math.nan
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def _sizes(n_items: int, n_groups: int, grouped: bool, item_name: str | None, group_name: str) -> dict:
    if grouped:
        return {"n": n_groups, "n_label": group_name, "n_units": n_items, "units_label": item_name or "patches"}
    return {"n": n_items, "n_label": item_name or "images", "n_units": None}


def _method(kind: str, metric: str, sizes: dict, grouped: bool, n_boot: int) -> str:
    what = "mean per-class rate" if metric == "balanced" else "accuracy"
    over = f"whole {sizes['n_label']} resampled" if grouped else f"{sizes['n_label']} resampled"
    return f"{what}; {kind}percentile bootstrap, {over}, {n_boot} resamples"


# ----------------------------------------------------------------------------------------------- estimates


def accuracy_estimate(y_true, y_pred, *, groups=None, metric: str = "accuracy", n_boot: int = 2000,
                      confidence: float = 0.95, random_state: int | None = 0, item_name: str | None = None,
                      group_name: str = "images") -> Estimate:  # fmt: skip
    """Accuracy (or the mean of per-class rates) in percent with a percentile bootstrap interval.

    Args:
        y_true: `(n,)` true labels.
        y_pred: `(n,)` predicted labels or `(n, K)` scores.
        groups: `(n,)` the group of each item (e.g. its image id): whole groups are resampled. None: items are.
        metric: `"accuracy"` (share of items right) or `"balanced"` (mean of the per-class rates: the mean
            diagonal of a row-normalised confusion matrix, as the papers report; a resample lacking a class
            averages over the classes it holds).
        n_boot: resamples (at least 100).
        confidence: the interval's coverage.
        random_state: seed of the resampling; the same seed gives the same interval.
        item_name: what an item is (default "patches" with groups, "images" without).
        group_name: what a group is.

    Returns:
        An `Estimate` with `n` = groups (or items) and `n_units` = items when grouped.

    Example:
        >>> estimate = accuracy_estimate([0, 1, 1, 0, 1, 0, 0, 1], [0, 1, 1, 0, 1, 0, 1, 0])
        >>> estimate.value, estimate.n, estimate.low <= 75.0 <= estimate.high
        (75.0, 8, True)
    """
    rng = _generator(random_state)
    _check_settings(metric, n_boot, confidence)
    y_true, (y_pred,), inverse, n_groups = _test_set(y_true, {"y_pred": y_pred}, groups)
    k = int(y_true.max()) + 1
    counts = _group_counts(y_true * 2 + (y_pred == y_true), inverse, n_groups, 2 * k)
    replicates = _metric(_resample(counts, n_boot, rng).reshape(n_boot, k, 2), metric)
    value = float(_metric(counts.sum(axis=0).reshape(k, 2), metric))
    sizes = _sizes(len(y_true), n_groups, groups is not None, item_name, group_name)
    return Estimate(value, *_interval(replicates, confidence), **sizes, confidence=confidence,
                    method=_method("", metric, sizes, groups is not None, n_boot))  # fmt: skip


def class_rate_estimates(y_true, y_pred, *, groups=None, n_classes: int | None = None, n_boot: int = 2000,
                         confidence: float = 0.95, random_state: int | None = 0, item_name: str | None = None,
                         group_name: str = "images") -> tuple[Estimate, list[Estimate]]:  # fmt: skip
    """The mean of the diagonal of the row-normalised confusion matrix and each class's rate (its diagonal
    entry, the true-positive rate), all from the same resamples.

    Args:
        y_true, y_pred, groups, n_boot, confidence, random_state, item_name, group_name: as `accuracy_estimate`.
        n_classes: K (default: inferred from the labels); a class without test items gets a NaN estimate.

    Returns:
        `(mean_diagonal, rates)`: `rates[k]` counts only class k's items (and the groups holding them).
    """
    rng = _generator(random_state)
    _check_settings("balanced", n_boot, confidence)
    y_true, (y_pred,), inverse, n_groups = _test_set(y_true, {"y_pred": y_pred}, groups)
    observed_k = int(max(y_true.max(), y_pred.max())) + 1
    if n_classes is not None and (not isinstance(n_classes, (int, np.integer)) or n_classes < observed_k):
        raise ValueError(f"Expected n_classes an integer of at least {observed_k} (the labels seen). "
                         f"Received: {n_classes!r}")  # fmt: skip
    k = int(n_classes or observed_k)
    counts = _group_counts(y_true * 2 + (y_pred == y_true), inverse, n_groups, 2 * k)
    replicates = _resample(counts, n_boot, rng).reshape(n_boot, k, 2)
    observed = counts.sum(axis=0).reshape(k, 2)
    grouped = groups is not None
    sizes = _sizes(len(y_true), n_groups, grouped, item_name, group_name)
    mean = Estimate(float(_metric(observed, "balanced")), *_interval(_metric(replicates, "balanced"), confidence),
                    **sizes, confidence=confidence, method=_method("", "balanced", sizes, grouped, n_boot))  # fmt: skip
    rates = []
    for c in range(k):
        in_class = counts[:, 2 * c:2 * c + 2].sum(axis=1)
        class_sizes = _sizes(int(in_class.sum()), int((in_class > 0).sum()), grouped, item_name, group_name)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = 100.0 * observed[c, 1] / observed[c].sum() if observed[c].sum() else math.nan
            class_replicates = 100.0 * replicates[:, c, 1] / replicates[:, c].sum(axis=1)
        rates.append(Estimate(float(value), *_interval(class_replicates, confidence), **class_sizes,
                              confidence=confidence, method="class rate; " + mean.method.split("; ", 1)[1]))  # fmt: skip
    return mean, rates


def paired_difference(y_true, pred_a, pred_b, *, groups=None, metric: str = "accuracy", n_boot: int = 2000,
                      confidence: float = 0.95, random_state: int | None = 0, item_name: str | None = None,
                      group_name: str = "images") -> Estimate:  # fmt: skip
    """The metric of `pred_a` minus that of `pred_b` on the same test items, in points, with a paired bootstrap.

    Each resample draws the test items (or whole groups) once and scores both predictions on them, so what the
    two have in common (the same hard images) cancels out of the difference.

    Args:
        y_true: `(n,)` true labels.
        pred_a: `(n,)` labels or `(n, K)` scores of the first method.
        pred_b: the second method's, on the same items in the same order.
        groups, metric, n_boot, confidence, random_state, item_name, group_name: as `accuracy_estimate`.

    Returns:
        An `Estimate` in points (`unit="points"`).
    """
    rng = _generator(random_state)
    _check_settings(metric, n_boot, confidence)
    y_true, (pred_a, pred_b), inverse, n_groups = _test_set(y_true, {"pred_a": pred_a, "pred_b": pred_b}, groups)
    k = int(y_true.max()) + 1
    cells = y_true * 4 + (pred_a == y_true) * 2 + (pred_b == y_true)
    counts = _group_counts(cells, inverse, n_groups, 4 * k)

    def difference(c):  # (..., K, a right?, b right?)
        c = c.reshape(*c.shape[:-1], k, 2, 2)
        return _metric(c.sum(axis=-1), metric) - _metric(c.sum(axis=-2), metric)

    replicates = difference(_resample(counts, n_boot, rng))
    sizes = _sizes(len(y_true), n_groups, groups is not None, item_name, group_name)
    return Estimate(float(difference(counts.sum(axis=0))), *_interval(replicates, confidence), **sizes,
                    confidence=confidence, unit="points",
                    method=_method("paired ", metric, sizes, groups is not None, n_boot))  # fmt: skip


def unpaired_difference(y_true_a, pred_a, y_true_b, pred_b, *, groups_a=None, groups_b=None,
                        metric: str = "accuracy", n_boot: int = 2000, confidence: float = 0.95,
                        random_state: int | None = 0, item_name: str | None = None,
                        group_name: str = "images") -> Estimate:  # fmt: skip
    """The metric on test set A minus that on test set B (different items), in points, by independent bootstraps.

    Args:
        y_true_a, pred_a: the first test set's labels and predictions.
        y_true_b, pred_b: the second's.
        groups_a, groups_b: each set's groups (or None), as in `accuracy_estimate`.
        metric, n_boot, confidence, random_state, item_name, group_name: as `accuracy_estimate`.

    Returns:
        An `Estimate` in points; `n` is the two sets' sizes together (the method names each).
    """
    rng = _generator(random_state)
    _check_settings(metric, n_boot, confidence)
    if (groups_a is None) != (groups_b is None):
        raise ValueError("Expected groups for both test sets or for neither. Received: groups for one only")
    values, replicates, sizes = [], [], []
    for y, pred, groups, name in ((y_true_a, pred_a, groups_a, "a"), (y_true_b, pred_b, groups_b, "b")):
        y, (pred,), inverse, n_groups = _test_set(y, {f"pred_{name}": pred}, groups, groups_name=f"groups_{name}")
        k = int(y.max()) + 1
        counts = _group_counts(y * 2 + (pred == y), inverse, n_groups, 2 * k)
        values.append(float(_metric(counts.sum(axis=0).reshape(k, 2), metric)))
        replicates.append(_metric(_resample(counts, n_boot, rng).reshape(n_boot, k, 2), metric))
        sizes.append(_sizes(len(y), n_groups, groups is not None, item_name, group_name))
    a, b = sizes
    units = None if a["n_units"] is None else a["n_units"] + b["n_units"]
    method = _method("independent ", metric, a, groups_a is not None, n_boot)
    method += f" ({a['n']} + {b['n']} {a['n_label']})"
    return Estimate(values[0] - values[1], *_interval(replicates[0] - replicates[1], confidence), n=a["n"] + b["n"],
                    n_label=a["n_label"], n_units=units, units_label=a.get("units_label", "patches"),
                    confidence=confidence, method=method, unit="points")  # fmt: skip


def level_estimates(y_true, patch_pred, image_ids, *, groups=None, metric: str = "accuracy", n_boot: int = 2000,
                    confidence: float = 0.95, random_state: int | None = 0) -> LevelEstimates:  # fmt: skip
    """Patch-level and image-level (majority vote) numbers of one test set, and the image level's gain, all
    resampling the same whole images (or whole groups of images: their source photos).

    Args:
        y_true: `(n_patches,)` true labels; all patches of an image share its label.
        patch_pred: `(n_patches,)` labels or `(n_patches, K)` probabilities (used to break tied votes, as
            `evaluate.majority_vote`).
        image_ids: `(n_patches,)` each patch's image.
        groups: `(n_patches,)` each patch's source (the same for all patches of an image): whole sources are
            resampled, with all their images. None: whole images are.
        metric, n_boot, confidence, random_state: as `accuracy_estimate`.

    Returns:
        `LevelEstimates(patch, image, gain)`; `gain` is image level minus patch level, in points.
    """
    from ..metrics import majority_vote

    rng = _generator(random_state)
    _check_settings(metric, n_boot, confidence)
    y_true, (labels,), inverse, n_images = _test_set(y_true, {"patch_pred": patch_pred}, image_ids,
                                                     groups_name="image_ids")  # fmt: skip
    image_true = np.full(n_images, -1)
    image_true[inverse] = y_true
    if np.any(image_true[inverse] != y_true):
        raise ValueError("Expected one true label per image (all its patches alike). Received: images whose "
                         "patches carry different labels")  # fmt: skip
    _, image_pred = majority_vote(patch_pred, inverse)
    k = int(y_true.max()) + 1
    patch_cells = y_true * 2 + (labels == y_true)
    image_cells = 2 * k + image_true * 2 + (image_pred == image_true)
    counts = (_group_counts(patch_cells, inverse, n_images, 4 * k)
              + _group_counts(image_cells, np.arange(n_images), n_images, 4 * k))  # fmt: skip
    group_name = "images"
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != y_true.shape:
            raise ValueError(f"Expected groups with one id per patch, shape {y_true.shape}. Received: shape {groups.shape}")
        image_group = np.zeros(n_images, dtype=np.int64)
        _, source = np.unique(groups, return_inverse=True)
        image_group[inverse] = source.reshape(-1)
        if np.any(image_group[inverse] != source.reshape(-1)):
            raise ValueError("Expected one group per image (all its patches alike). Received: images whose patches "
                             "carry different groups")  # fmt: skip
        n_sources = int(image_group.max()) + 1
        if n_sources < 2:
            raise ValueError(f"Expected at least 2 groups to resample. Received: {n_sources}")
        by_source = np.zeros((n_sources, 4 * k), dtype=counts.dtype)
        np.add.at(by_source, image_group, counts)
        counts, group_name = by_source, "sources"

    def both(c):
        c = c.reshape(*c.shape[:-1], 2, k, 2)
        return _metric(c[..., 0, :, :], metric), _metric(c[..., 1, :, :], metric)

    patch_value, image_value = both(counts.sum(axis=0))
    patch_reps, image_reps = both(_resample(counts, n_boot, rng))
    n_groups = len(counts)
    grouped = _sizes(len(y_true), n_groups, True, "patches", group_name)
    per_image = (_sizes(n_images, n_groups, True, "images", group_name) if group_name == "sources"
                 else _sizes(n_images, n_images, False, "images", "images"))  # fmt: skip

    def make(value, reps, sizes, kind="", unit="%"):
        return Estimate(float(value), *_interval(reps, confidence), **sizes, confidence=confidence, unit=unit,
                        method=_method(kind, metric, grouped, True, n_boot))  # fmt: skip

    return LevelEstimates(patch=make(patch_value, patch_reps, grouped),
                          image=make(image_value, image_reps, per_image),
                          gain=make(image_value - patch_value, image_reps - patch_reps, grouped, "paired ", "points"))


def chance_level(y_true, *, metric: str = "accuracy", n_classes: int | None = None) -> float:
    """The score, in percent, of a classifier that ignores its input.

    For `"balanced"` it is 100/K whatever the class sizes; for `"accuracy"` the share of the largest class
    (always answering it), which is 100/K for balanced classes.

    Args:
        y_true: `(n,)` true labels of the test set.
        metric: `"accuracy"` or `"balanced"`.
        n_classes: K for `"balanced"` (default: the classes present in `y_true`).

    Example:
        >>> chance_level([0, 0, 1, 2])
        50.0
    """
    if metric not in _METRICS:
        raise ValueError(f"Expected metric one of {', '.join(_METRICS)}. Received: {metric!r}")
    y_true = _labels(y_true, "y_true")
    if not y_true.size:
        raise ValueError("Expected at least one test label. Received: none")
    present = np.bincount(y_true)
    if metric == "balanced":
        k = n_classes if n_classes is not None else int((present > 0).sum())
        if not isinstance(k, (int, np.integer)) or k < (present > 0).sum():
            raise ValueError(f"Expected n_classes at least the {(present > 0).sum()} classes present. Received: {k!r}")
        return 100.0 / float(k)
    return float(100.0 * present.max() / y_true.size)
