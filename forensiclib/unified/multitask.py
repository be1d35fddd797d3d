"""Multitask learning with tied lower layers (paper 2, Sec. 4.2).

Two or more network legs, one per task, share the very same layer objects up
to and including the share depth (the hybrid feature extractor f_H), so there is
one set of shared weights: each training step sums the task losses with weight
1 (lambda_t = 1 in Eq. 6) and applies one update, and gradients from every task
reach the shared weights. The shared batch-normalisation layers hold one set of
statistics, updated by every leg (the paper averages them across legs after
each iteration; a single shared set is the same idea without the copy).
Layers above the share depth are separate per task and named with the task
suffix (`fc2_B`, `output_B`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import keras
import numpy as np

from .. import training
from ..data.patchfile import ArrayFile
from ..training import file_dataset
from .common import (
    Evaluation,
    MultitaskNetwork,
    UnifiedSettings,
    _cached_evaluation,
    _check_depths,
    _check_pair,
    _check_patches,
    _check_settings,
    _folder,
    _load_trained,
    _predict,
    _schedule,
    _store_trained,
)
from .mislnet import SHARE_DEPTHS, apply_layers, compile_mislnet, mislnet_blocks
from .patches import PatchSet
from .transfer import feature_extractor

__all__ = ["multitask_model", "paired_dataset", "train_multitask", "evaluate_multitask", "run_multitask"]


def multitask_model(
    tasks: Mapping[str, int],
    share_depth: str,
    *,
    input_size: int = 256,
    name: str = "multitask",
) -> keras.Model:
    """A multi-input, multi-output MISLnet whose legs share every block up to `share_depth`.

    Args:
        tasks: task name -> number of classes, e.g. `{"manipulation": 6, "camera": 20}`;
            names must be identifiers (they become layer-name suffixes).
        share_depth: one of `SHARE_DEPTHS`.
        input_size: patch side.

    Returns:
        An uncompiled model with inputs `patch_<task>` and outputs `output_<task>`, in
        the order of `tasks`. Compile with `compile_mislnet` (one loss per output, weight 1).

    Example:
        >>> model = compile_mislnet(multitask_model({"manipulation": 6, "camera": 20}, "conv3"))  # doctest: +SKIP
    """
    if share_depth not in SHARE_DEPTHS:
        raise ValueError(f"Expected a share depth among {list(SHARE_DEPTHS)}. Received: {share_depth!r}")
    if len(tasks) < 2 or not all(isinstance(t, str) and t.isidentifier() for t in tasks):
        raise ValueError(f"Expected at least two tasks named by identifiers. Received: {list(tasks)}")
    first = next(iter(tasks.values()))
    shared = mislnet_blocks(first)  # only the blocks up to the share depth are used
    last = SHARE_DEPTHS.index(share_depth)
    inputs, outputs = [], []
    for task, n_classes in tasks.items():
        own = mislnet_blocks(n_classes, suffix=f"_{task}")
        x = patch = keras.Input((input_size, input_size, 1), name=f"patch_{task}")
        for index, depth in enumerate((*SHARE_DEPTHS, "output")):
            x = apply_layers(x, shared[depth] if index <= last else own[depth])
        inputs.append(patch)
        outputs.append(x)
    return keras.Model(inputs, outputs, name=name)


def paired_dataset(
    patches: Mapping[str, np.ndarray],
    labels: Mapping[str, np.ndarray],
    *,
    batch_size: int = 40,
    random_state: int | None = None,
):
    """A tf.data pipeline giving each step one batch per task (paper 2: 40 patches per task).

    Each task's data are shuffled and repeated independently, so tasks of
    different sizes pair up; an epoch is `ceil(max(n_task) / batch_size)` steps.
    A task's patches may be an `ArrayFile` (streamed from disk, `training.file_dataset`).

    Returns:
        `(dataset, steps_per_epoch)`; the dataset yields
        `({"patch_<task>": x}, {"output_<task>": y})`.
    """
    import tensorflow as tf

    if set(patches) != set(labels):
        raise ValueError(f"Expected the same tasks in patches and labels. Received {sorted(patches)} and {sorted(labels)}")
    seed = int(np.random.default_rng(random_state).integers(2**31))
    parts = []
    for offset, task in enumerate(patches):
        x, y = patches[task], np.asarray(labels[task])
        if len(x) != len(y):
            raise ValueError(f"Task {task!r}: {len(x)} patches but {len(y)} labels")
        if isinstance(x, ArrayFile):  # streamed from disk, a batch at a time
            parts.append(file_dataset(x, y, batch_size=batch_size, shuffle=True, seed=seed + offset, endless=True))
        else:
            part = tf.data.Dataset.from_tensor_slices((np.asarray(x, np.float32), y)).shuffle(len(x), seed=seed + offset)
            parts.append(part.repeat().batch(batch_size))
    names = list(patches)

    def combine(*batches):
        return (
            {f"patch_{t}": b[0] for t, b in zip(names, batches)},
            {f"output_{t}": b[1] for t, b in zip(names, batches)},
        )

    dataset = tf.data.Dataset.zip(tuple(parts)).map(combine).prefetch(tf.data.AUTOTUNE)
    steps = -(-max(len(v) for v in patches.values()) // batch_size)
    return dataset, steps


# --- multitask (Sec. 4.2, 5.3) -----------------------------------------------------------------


def _check_tasks(name: str, sets) -> None:
    if not isinstance(sets, Mapping) or len(sets) < 2:
        raise ValueError(f"Expected {name} a mapping of at least two task names to PatchSets. Received: {sets!r:.200}")
    bad = [t for t in sets if not (isinstance(t, str) and t.isidentifier())]
    if bad:
        raise ValueError(f"Expected task names that are identifiers (they name layers). Received: {bad}")


def train_multitask(
    train_sets: Mapping[str, PatchSet],
    share_depth: str,
    settings: UnifiedSettings = UnifiedSettings(),
    *,
    cache_dir: str | Path | None = None,
    verbose: int | str = 2,
) -> MultitaskNetwork:
    """Train a hybrid network whose task legs are tied up to `share_depth` (paper 2, Sec. 4.2 and 5.3); cached.

    One step takes `settings.batch_size` patches of every task (`paired_dataset`) and
    applies one SGD update of the summed task losses; an epoch is
    `ceil(largest task's patches / batch_size)` steps; rate and halving as in Sec. 5.1.
    The network is cached under `<cache>/unified/<key>/model.keras`, the key hashing every
    task's name, patches and labels, the depth, the settings and `UNIFIED_VERSION`.

    Args:
        train_sets: task name (an identifier, e.g. `"manipulation"`) -> its training patches,
            in the order the legs are built.
        share_depth: one of `SHARE_DEPTHS`; `"fc2"` gives the paper's hybrid feature extractor.
        settings: see `UnifiedSettings`.
        cache_dir: folder for the results (default `<cache>/unified/`).
        verbose: Keras training verbosity.

    Returns:
        A `MultitaskNetwork`.

    Example:
        >>> hybrid = train_multitask({"manipulation": a_train, "camera": b_train}, "fc2")  # doctest: +SKIP
    """
    _check_settings(settings)
    _check_depths((share_depth,))
    _check_tasks("train_sets", train_sets)
    for task, patches in train_sets.items():
        _check_patches(f"train_sets[{task!r}]", patches, settings.patch_size)
    tasks = {task: patches.classes for task, patches in train_sets.items()}
    digests = [[task, patches.digest()] for task, patches in train_sets.items()]
    folder = _folder(cache_dir, "multitask", digests, share_depth, settings._training())
    loaded = _load_trained(folder)
    if loaded is not None:
        model, meta = loaded
        return MultitaskNetwork(tasks, share_depth, model, folder / "model.keras", meta["history"], True)
    sizes = {task: len(classes) for task, classes in tasks.items()}
    dataset, steps = paired_dataset(
        {task: p.x for task, p in train_sets.items()}, {task: p.y for task, p in train_sets.items()},
        batch_size=settings.batch_size, random_state=settings.seed,
    )  # fmt: skip
    result = training.train(
        lambda: compile_mislnet(multitask_model(sizes, share_depth, input_size=settings.patch_size),
                                learning_rate=settings.learning_rate),
        dataset, epochs=settings.epochs, steps_per_epoch=steps, callbacks=[_schedule(settings)],
        seed=settings.seed, verbose=verbose, backup_dir=training.checkpoint_dir(folder),
    )  # fmt: skip
    _store_trained(folder, result.model, {"history": result.history, "tasks": {t: list(c) for t, c in tasks.items()}})
    return MultitaskNetwork(tasks, share_depth, result.model, folder / "model.keras", result.history, False)


def evaluate_multitask(network: MultitaskNetwork, test_sets: Mapping[str, PatchSet]) -> dict[str, Evaluation]:
    """Each task's leg on its test patches (`feature_extractor(model, "output", task=...)`); cached with the network.

    Args:
        network: from `train_multitask`.
        test_sets: task name -> test patches, for some or all of the network's tasks.

    Returns:
        `{task: Evaluation}` in the order of `test_sets`.
    """
    if not isinstance(network, MultitaskNetwork):
        raise ValueError(f"Expected a MultitaskNetwork (see train_multitask). Received: {type(network).__name__}")
    unknown = [task for task in test_sets if task not in network.tasks]
    if unknown:
        raise ValueError(f"Expected test sets of the network's tasks {list(network.tasks)}. Received: {unknown}")
    evaluations = {}
    for task, patches in test_sets.items():
        if patches.classes != network.tasks[task]:
            raise ValueError(
                f"Expected test_sets[{task!r}] of classes {list(network.tasks[task])}. "
                f"Received: {list(patches.classes)}"
            )
        path = network.model_path.parent / f"test-{task}-{patches.digest()[:24]}.npz"

        def compute(task=task, patches=patches):
            return patches.y, _predict(feature_extractor(network.model, "output", task=task), patches.x)

        evaluations[task] = _cached_evaluation(path, patches.classes, compute)
    return evaluations


def run_multitask(
    train_sets: Mapping[str, PatchSet],
    test_sets: Mapping[str, PatchSet],
    settings: UnifiedSettings = UnifiedSettings(),
    *,
    share_depths: Sequence[str] = SHARE_DEPTHS,
    cache_dir: str | Path | None = None,
    verbose: int | str = 2,
) -> dict[str, dict[str, float]]:
    """Multitask learning at every share depth: each task's test accuracy (paper 2, Sec. 5.3, Fig. 3 dashed).

    Args:
        train_sets, test_sets: task name -> patches; the same task names in both.
        settings: see `UnifiedSettings`.
        share_depths: the depths to try.
        cache_dir: folder for the results (default `<cache>/unified/`); each depth's network
            is cached, so `train_multitask(train_sets, "fc2", settings)` afterwards loads it.
        verbose: Keras training verbosity.

    Returns:
        `{share depth: {task: test accuracy}}`.
    """
    _check_settings(settings)
    depths = _check_depths(share_depths)
    _check_tasks("train_sets", train_sets)
    if list(test_sets) != list(train_sets):
        raise ValueError(f"Expected test_sets for the tasks {list(train_sets)}, in order. Received: {list(test_sets)}")
    for task in train_sets:
        _check_pair(train_sets[task], test_sets[task], settings.patch_size, f" of task {task!r}")
    accuracies = {}
    for depth in depths:
        network = train_multitask(train_sets, depth, settings, cache_dir=cache_dir, verbose=verbose)
        accuracies[depth] = {task: e.accuracy for task, e in evaluate_multitask(network, test_sets).items()}
    return accuracies
