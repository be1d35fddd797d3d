"""Evaluation as the papers report it, and the tree classifiers both papers use.

- Confusion matrices in percent, TPR, accuracy and the majority vote: `forensiclib.metrics` (numpy only, below
  `stats`), re-exported here.
- Bagged decision trees on DCT histograms: the baseline of Caldelli et al. 2017 (paper 1's [11]).
- Extremely randomized trees on deep features: 800 trees, min_samples_split=3 (paper 2, Sec. 5.3.1).
"""

from __future__ import annotations

import numpy as np

from .metrics import accuracy, confusion_matrix_percent, majority_vote, true_positive_rates

__all__ = [
    "confusion_matrix_percent",
    "accuracy",
    "true_positive_rates",
    "majority_vote",
    "bagged_trees",
    "extra_trees",
    "confusion_table",
]


def bagged_trees(n_estimators: int = 100, *, random_state: int | None = None, n_jobs: int | None = None):
    """Bagged decision trees, the classifier of Caldelli et al. 2017 (paper 1's baseline [11]).

    The number of trees of the original is not given in paper 1; 100 is an assumption.
    """
    from sklearn.ensemble import BaggingClassifier
    from sklearn.tree import DecisionTreeClassifier

    return BaggingClassifier(
        DecisionTreeClassifier(), n_estimators=n_estimators, random_state=random_state, n_jobs=n_jobs
    )


def extra_trees(
    n_estimators: int = 800, *, min_samples_split: int = 3, random_state: int | None = None, n_jobs: int | None = -1
):
    """Extremely randomized trees on deep features (paper 2, Sec. 5.3.1: 800 trees, min_samples_split=3)."""
    from sklearn.ensemble import ExtraTreesClassifier

    return ExtraTreesClassifier(
        n_estimators=n_estimators, min_samples_split=min_samples_split, random_state=random_state, n_jobs=n_jobs
    )


def confusion_table(matrix: np.ndarray, class_names, *, published: np.ndarray | None = None) -> str:
    """A markdown table of a percent confusion matrix; with `published`, each cell reads 'ours (paper)'."""
    matrix = np.asarray(matrix)
    names = list(class_names)
    if matrix.shape != (len(names), len(names)):
        raise ValueError(f"Expected a {len(names)}x{len(names)} matrix for {names}. Received shape {matrix.shape}")
    if published is not None and np.shape(published) != matrix.shape:
        raise ValueError(f"Expected published numbers of shape {matrix.shape}. Received {np.shape(published)}")
    from .tables import markdown_table

    rows = [[name, *(matrix[i, j] if published is None else f"{matrix[i, j]:.2f} ({published[i][j]:.2f})"
                     for j in range(len(names)))] for i, name in enumerate(names)]  # fmt: skip
    return markdown_table(["true \\ predicted (%)", *names], rows, digits=2)
