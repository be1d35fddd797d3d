"""The metrics the papers report, in numpy alone (what `stats` and `evaluate` build on).

- Confusion matrices normalised by row, in percent (paper 1, Tables I-VII): row = true class.
- True positive rate per class, TP / (TP + FN) (paper 1, Fig. 3): the diagonal of that matrix.
- Majority vote from patches to images (paper 1, Sec. III-B and IV-B).

`forensiclib.evaluate` re-exports them beside the tree classifiers and the markdown confusion table.
"""

from __future__ import annotations

import numpy as np

__all__ = ["confusion_matrix_percent", "accuracy", "true_positive_rates", "majority_vote"]


def _labels(y, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2:
        y = y.argmax(axis=1)
    if y.ndim != 1 or (y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0)):
        raise ValueError(f"Expected {name} as non-negative integer labels (n,) or scores (n, K). Received {y.dtype} {y.shape}")
    return y


def confusion_matrix_percent(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """Row-normalised confusion matrix in percent: entry (i, j) = % of class-i samples predicted j.

    Args:
        y_true: `(n,)` true labels.
        y_pred: `(n,)` predicted labels or `(n, K)` scores.
        n_classes: K (default: inferred from the labels).

    Returns:
        `(K, K)` float64; a row of a class with no samples is NaN.

    Example:
        >>> confusion_matrix_percent([0, 0, 1, 1], [0, 1, 1, 1]).tolist()
        [[50.0, 50.0], [0.0, 100.0]]
    """
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"Expected as many predictions as labels. Received {len(y_pred)} and {len(y_true)}")
    k = n_classes or int(max(y_true.max(initial=-1), y_pred.max(initial=-1)) + 1)
    counts = np.zeros((k, k))
    np.add.at(counts, (y_true, y_pred), 1)
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, 100.0 * counts / totals, np.nan)


def accuracy(y_true, y_pred) -> float:
    """Fraction of correct predictions."""
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    return float(np.mean(y_true == y_pred)) if len(y_true) else float("nan")


def true_positive_rates(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """TPR = TP / (TP + FN) per class, as fractions: `(K,)`."""
    return np.diag(confusion_matrix_percent(y_true, y_pred, n_classes)) / 100.0


def majority_vote(patch_predictions, image_index) -> tuple[np.ndarray, np.ndarray]:
    """Image labels by majority vote of their patches (paper 1, Sec. III-B).

    Args:
        patch_predictions: `(n_patches,)` labels, or `(n_patches, K)` probabilities.
        image_index: `(n_patches,)` id of each patch's image.

    Returns:
        `(images, labels)`: the sorted unique image ids and the voted label of each.
        A tie goes to the tied class with the larger summed probability when
        probabilities are given, else to the smaller class index.

    Example:
        >>> majority_vote([0, 1, 1, 2, 2, 0], [7, 7, 7, 9, 9, 9])[1].tolist()
        [1, 0]
    """
    scores = np.asarray(patch_predictions)
    labels = _labels(scores, "patch_predictions")
    image_index = np.asarray(image_index)
    if image_index.shape != labels.shape:
        raise ValueError(f"Expected one image id per patch. Received {image_index.shape} for {labels.shape} patches")
    images, inverse = np.unique(image_index, return_inverse=True)
    k = scores.shape[1] if scores.ndim == 2 else int(labels.max(initial=0)) + 1
    votes = np.zeros((len(images), k))
    np.add.at(votes, (inverse, labels), 1)
    if scores.ndim == 2:
        summed = np.zeros((len(images), k))
        np.add.at(summed, inverse, scores)
        tie_break = summed / (summed.max(axis=1, keepdims=True) + 1e-12) * 0.5  # < 1 vote
        votes = votes + np.where(votes == votes.max(axis=1, keepdims=True), tie_break, 0)
    return images, votes.argmax(axis=1)
