"""Extremely randomized trees on deep features (paper 2, Sec. 5.3.1 and 5.4, Tables 2-3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import (
    Evaluation,
    _as_model,
    _cached_evaluation,
    _check_pair,
    _folder,
    _weights_digest,
)
from .mislnet import SHARE_DEPTHS, block_layer_names
from .patches import PatchSet, _check_positive
from .transfer import deep_features

__all__ = ["deep_feature_trees"]

# --- extremely randomized trees on deep features (Sec. 5.3.1, 5.4) -----------------------------


def deep_feature_trees(
    network,
    train_set: PatchSet,
    test_set: PatchSet,
    *,
    task: str | None = None,
    depth: str = "fc2",
    n_estimators: int = 800,
    min_samples_split: int = 3,
    random_state: int = 0,
    n_jobs: int | None = -1,
    cache_dir: str | Path | None = None,
) -> Evaluation:
    """Extremely randomized trees on a network's deep features (paper 2, Sec. 5.3.1, Tables 2-3); cached.

    The `depth` responses (paper: `fc2`, 200 values) of the training and test patches
    (`deep_features`) train and test an `extra_trees` classifier (paper: 800 trees, at
    least 3 samples to split a node). The network may come from another task than the
    patches (Sec. 5.4: camera set C on features of networks A, B, A+B, A+B+C).

    Args:
        network: a `keras.Model`, `SingleTaskResult` or `MultitaskNetwork`.
        train_set, test_set: patches of the task the trees learn (same classes).
        task: for a multitask network, which leg gives the features (needed only where
            `depth` is above the share depth; at or below it every leg gives the same).
        depth: the block whose output is the feature.
        n_estimators: trees (fewer for small profiles).
        min_samples_split: as in scikit-learn.
        random_state: seeds the trees.
        n_jobs: processes for the trees (-1: all cores); results do not depend on it.
        cache_dir: folder for the results (default `<cache>/unified/`).

    Returns:
        An `Evaluation` (probabilities are the trees' vote fractions); `.accuracy`.

    Example:
        >>> deep_feature_trees(hybrid, c_train, c_test, task="camera").accuracy  # doctest: +SKIP
    """
    from ..evaluate import extra_trees

    model = _as_model(network)
    if depth not in (*SHARE_DEPTHS, "output"):
        raise ValueError(f"Expected depth among {list(SHARE_DEPTHS)} or 'output'. Received: {depth!r}")
    legs = [i.name.removeprefix("patch_") for i in model.inputs if i.name.startswith("patch_")]
    if len(model.inputs) > 1 and task is None:
        if depth == "output" or block_layer_names(depth)[-1] not in {layer.name for layer in model.layers}:
            raise ValueError(f"Expected task among {legs}: {depth!r} is not shared. Received: None")
        task = legs[0]  # a shared block: every leg gives the same features
    _check_positive("n_estimators", n_estimators)
    if not isinstance(min_samples_split, int) or isinstance(min_samples_split, bool) or min_samples_split < 2:
        raise ValueError(f"Expected min_samples_split an integer of at least 2. Received: {min_samples_split!r}")
    if not isinstance(random_state, int) or isinstance(random_state, bool) or random_state < 0:
        raise ValueError(f"Expected random_state a non-negative integer. Received: {random_state!r}")
    _check_pair(train_set, test_set, int(model.inputs[0].shape[1]), source="the network's input")
    folder = _folder(cache_dir, "trees", _weights_digest(model), task, depth, train_set.digest(), test_set.digest(),
                     n_estimators, min_samples_split, random_state)  # fmt: skip

    def compute():
        x_train = deep_features(model, train_set.x, depth=depth, task=task)
        x_test = deep_features(model, test_set.x, depth=depth, task=task)
        trees = extra_trees(n_estimators, min_samples_split=min_samples_split, random_state=random_state,
                            n_jobs=n_jobs).fit(x_train, train_set.y)  # fmt: skip
        probabilities = np.zeros((len(test_set), len(train_set.classes)), np.float32)
        probabilities[:, trees.classes_] = trees.predict_proba(x_test)
        return test_set.y, probabilities

    return _cached_evaluation(folder / "evaluation.npz", train_set.classes, compute, units=test_set.units)


#: Paper 2's tasks: manipulation detection (A), 20 camera models (B), 5 other camera models with less data (C).
