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

import dataclasses
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
    _callbacks,
    _check_depths,
    _check_pair,
    _check_patches,
    _check_settings,
    _folder,
    _load_trained,
    _predict,
    _rows,
    _store_trained,
    _validation_rows,
)
from .mislnet import SHARE_DEPTHS, apply_layers, block_layer_names, compile_mislnet, mislnet_blocks
from .patches import PatchSet
from .transfer import feature_extractor

__all__ = ["multitask_model", "TiedLegs", "check_tied_legs", "paired_dataset", "validation_dataset", "train_multitask", "evaluate_multitask",
           "multitask_sweep", "run_multitask"]


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


@dataclasses.dataclass(frozen=True)
class TiedLegs:
    """What `check_tied_legs` found in a multitask network.

    Attributes:
        shared: names of the layers every leg calls (one object each), input to output.
        own: task -> names of the layers only that task's leg calls.
        leg_weights: task -> the number of weights (scalars) its leg uses, shared ones included.
        shared_weights: the number of weights in the shared layers.
        weights: the number of weights the network holds (each variable once).
        outputs: the names of the network's outputs, one per task.
    """

    shared: tuple[str, ...]
    own: dict[str, tuple[str, ...]]
    leg_weights: dict[str, int]
    shared_weights: int
    weights: int
    outputs: tuple[str, ...]


def check_tied_legs(model: keras.Model, tasks: Sequence[str], share_depth: str) -> TiedLegs:
    """Check that a multitask network's legs share its blocks up to `share_depth` and nothing above.

    Each leg is the sub-network from `patch_<task>` to `output_<task>`. The blocks up to the share depth must be
    layer objects every leg calls, once each in the network; the blocks above, each leg's own (suffix `_<task>`);
    and the network's weights must number the legs' weights less what the other legs share.

    Returns:
        `TiedLegs`, what was counted.

    Raises:
        ValueError: listing every difference (a block not shared, a layer in the wrong leg, a weight count off).
    """
    if share_depth not in SHARE_DEPTHS:
        raise ValueError(f"Expected a share depth among {list(SHARE_DEPTHS)}. Received: {share_depth!r}")
    tasks = list(tasks)
    names = [layer.name for layer in model.layers]
    missing = [f"{kind}_{t}" for t in tasks for kind in ("patch", "output") if f"{kind}_{t}" not in names]
    if len(tasks) < 2 or missing:
        raise ValueError(f"Expected a network with an input patch_<task> and an output output_<task> for each of "
                         f"at least two tasks {tasks}. Received model {model.name!r} without {missing}")  # fmt: skip
    legs = {t: keras.Model(model.get_layer(f"patch_{t}").output, model.get_layer(f"output_{t}").output)
            for t in tasks}  # fmt: skip
    calls = {}  # layer object -> the tasks whose leg calls it
    for task, leg in legs.items():
        for layer in leg.layers[1:]:
            calls.setdefault(id(layer), (layer, []))[1].append(task)
    last = SHARE_DEPTHS.index(share_depth)
    blocks = (*SHARE_DEPTHS, "output")
    expected_shared = [n for d in blocks[: last + 1] for n in block_layer_names(d)]
    expected_own = {t: [n for d in blocks[last + 1 :] for n in block_layer_names(d, suffix=f"_{t}")] for t in tasks}
    shared = [layer.name for layer, users in calls.values() if users == tasks]
    own = {t: [layer.name for layer, users in calls.values() if users == [t]] for t in tasks}
    problems = []
    if shared != expected_shared:
        problems.append(f"shared by every leg: {shared}, expected {expected_shared}")
    problems += [f"{t}'s own layers: {own[t]}, expected {expected_own[t]}" for t in tasks if own[t] != expected_own[t]]
    if len(set(names)) != len(model.layers) or len({id(layer) for layer in model.layers}) != len(model.layers):
        problems.append("a layer name or object appears twice in the network")
    count = lambda variables: int(sum(np.prod(v.shape) for v in variables))  # noqa: E731
    leg_weights = {t: count(leg.weights) for t, leg in legs.items()}
    shared_weights = count([w for layer, users in calls.values() if users == tasks for w in layer.weights])
    weights = count(model.weights)
    if weights != sum(leg_weights.values()) - (len(tasks) - 1) * shared_weights:
        problems.append(f"{weights} weights in the network, but the legs hold {sum(leg_weights.values())} less "
                        f"{len(tasks) - 1} x {shared_weights} shared")  # fmt: skip
    if problems:
        raise ValueError(f"Expected legs tied up to {share_depth} in {model.name!r}. Received: {'; '.join(problems)}")
    return TiedLegs(tuple(shared), {t: tuple(v) for t, v in own.items()}, leg_weights, shared_weights, weights,
                    tuple(model.output_names))  # fmt: skip


def paired_dataset(
    patches: Mapping[str, np.ndarray],
    labels: Mapping[str, np.ndarray],
    *,
    batch_size: int | Mapping[str, int] = 40,
    random_state: int | None = None,
):
    """A tf.data pipeline giving each step one batch per task (paper 2: 40 patches per task).

    Each task's data are shuffled and repeated independently, so tasks of
    different sizes pair up; an epoch is `max(ceil(n_task / batch_task))` steps. `batch_size` may give each task
    its own (paper 2, Sec. 5.4: 40, 40 and 5 for the 3-task hybrid, so that every task sees the same number of
    steps per epoch).
    A task's patches may be an `ArrayFile` (streamed from disk, `training.file_dataset`).

    Returns:
        `(dataset, steps_per_epoch)`; the dataset yields
        `({"patch_<task>": x}, {"output_<task>": y})`.
    """
    import tensorflow as tf

    if set(patches) != set(labels):
        raise ValueError(f"Expected the same tasks in patches and labels. Received {sorted(patches)} and {sorted(labels)}")
    seed = int(np.random.default_rng(random_state).integers(2**31))
    sizes = _batch_sizes(batch_size, patches)
    parts = []
    for offset, task in enumerate(patches):
        x, y, batch_size = patches[task], np.asarray(labels[task]), sizes[task]
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
    steps = max(-(-len(v) // sizes[t]) for t, v in patches.items())
    return dataset, steps


def _batch_norm_batches(patches: Mapping[str, np.ndarray], sizes: Mapping[str, int], seed: int):
    """`training.BATCH_NORM_BATCHES` steps of every task's training patches, drawn at random with `seed` and paired
    as `paired_dataset` pairs them (inputs only): what `train` re-estimates batch normalisation's statistics on,
    kept apart from the training pipeline, whose shuffles it must not move."""
    import tensorflow as tf

    steps = max(1, min(training.BATCH_NORM_BATCHES, *(len(x) // sizes[t] for t, x in patches.items())))
    inputs = {}
    for offset, (task, x) in enumerate(patches.items()):
        order = np.random.default_rng([seed, offset, 11]).permutation(len(x))
        inputs[f"patch_{task}"] = np.stack([np.asarray(x[np.sort(order[k * sizes[task]:(k + 1) * sizes[task]])],
                                                       np.float32) for k in range(steps)])  # fmt: skip
    return tf.data.Dataset.from_tensor_slices(inputs)


def _batch_sizes(batch_size, tasks) -> dict[str, int]:
    sizes = dict(batch_size) if isinstance(batch_size, Mapping) else {task: batch_size for task in tasks}
    if set(sizes) != set(tasks) or not all(isinstance(b, int) and not isinstance(b, bool) and b > 0
                                           for b in sizes.values()):  # fmt: skip
        raise ValueError(f"Expected a positive batch size for each task {list(tasks)}. Received: {batch_size!r}")
    return sizes


def validation_dataset(patches: Mapping[str, np.ndarray], labels: Mapping[str, np.ndarray], *, batch_size: int = 40):
    """Every task's validation patches, a batch of each per step, for the summed validation loss (`val_loss`).

    A finite pipeline of `ceil(max(n_task) / batch_size)` steps: a task with fewer patches repeats them in order,
    so every step holds a batch of every task. Yields what `paired_dataset` yields.
    """
    import tensorflow as tf

    n = max(len(x) for x in patches.values())
    order = {task: np.resize(np.arange(len(x)), n) for task, x in patches.items()}
    inputs = {f"patch_{t}": np.asarray(_rows(x, order[t]), np.float32) for t, x in patches.items()}
    targets = {f"output_{t}": np.asarray(labels[t])[order[t]] for t in patches}
    return tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(batch_size)


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
    batch_sizes: Mapping[str, int] | None = None,
    cache_dir: str | Path | None = None,
    verbose: int | str = 0,
) -> MultitaskNetwork:
    """Train a hybrid network whose task legs are tied up to `share_depth` (paper 2, Sec. 4.2 and 5.3); cached.

    One step takes `settings.batch_size` patches of every task (`paired_dataset`) and
    applies one SGD update of the summed task losses; an epoch is
    `ceil(largest task's patches / batch_size)` steps (with `batch_sizes`, each task's own: the most steps any
    task needs); rate and halving as in Sec. 5.1. Each task holds out a share of its training images
    (`validation_split`); training stops when the summed validation loss of all legs has not improved for
    `settings.patience` epochs, keeping the best epoch's weights (`.status`: plateau or cap).
    The network is cached under `<cache>/unified/<key>/model.keras`, the key hashing every
    task's name, patches and labels, the depth, the settings and `UNIFIED_VERSION`.

    Args:
        train_sets: task name (an identifier, e.g. `"manipulation"`) -> its training patches,
            in the order the legs are built.
        share_depth: one of `SHARE_DEPTHS`; `"fc2"` gives the paper's hybrid feature extractor.
        settings: see `UnifiedSettings`.
        batch_sizes: task -> patches per step (default: `settings.batch_size` for every task).
        cache_dir: folder for the results (default `<cache>/unified/`).
        verbose: Keras training verbosity (0, the default: no per-epoch log; the history is returned to plot).

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
    sizes = _batch_sizes(settings.batch_size if batch_sizes is None else batch_sizes, train_sets)
    digests = [[task, patches.digest()] for task, patches in train_sets.items()]
    per_task = [] if batch_sizes is None else [sizes]
    folder = _folder(cache_dir, "multitask", digests, share_depth, settings._training(), *per_task)
    loaded = _load_trained(folder)
    if loaded is not None:
        model, meta = loaded
        history = meta["history"]
        return MultitaskNetwork(tasks, share_depth, model, folder / "model.keras", history, True, settings.status(history))
    rows = {task: _validation_rows(settings, patches) for task, patches in train_sets.items()}
    dataset, steps = paired_dataset(
        {task: _rows(p.x, rows[task][0]) for task, p in train_sets.items()},
        {task: p.y[rows[task][0]] for task, p in train_sets.items()},
        batch_size=sizes, random_state=settings.seed,
    )  # fmt: skip
    validation = validation_dataset({task: _rows(p.x, rows[task][1]) for task, p in train_sets.items()},
                                    {task: p.y[rows[task][1]] for task, p in train_sets.items()},
                                    batch_size=settings.batch_size)  # fmt: skip
    n_classes = {task: len(classes) for task, classes in tasks.items()}
    statistics = _batch_norm_batches({task: _rows(p.x, rows[task][0]) for task, p in train_sets.items()}, sizes,
                                     settings.seed)  # fmt: skip
    result = training.train(
        lambda: compile_mislnet(multitask_model(n_classes, share_depth, input_size=settings.patch_size),
                                learning_rate=settings.learning_rate),
        dataset, validation_data=validation, epochs=settings.epochs, steps_per_epoch=steps,
        callbacks=_callbacks(settings), seed=settings.seed, verbose=verbose, backup_dir=training.checkpoint_dir(folder),
        batch_norm_data=statistics,
    )  # fmt: skip
    _store_trained(folder, result.model, {"history": result.history, "tasks": {t: list(c) for t, c in tasks.items()}})
    return MultitaskNetwork(tasks, share_depth, result.model, folder / "model.keras", result.history, False,
                            settings.status(result.history))  # fmt: skip


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

        evaluations[task] = _cached_evaluation(path, patches.classes, compute, units=patches.units,
                                               status=network.status)  # fmt: skip
    return evaluations


def multitask_sweep(
    train_sets: Mapping[str, PatchSet],
    test_sets: Mapping[str, PatchSet],
    settings: UnifiedSettings = UnifiedSettings(),
    *,
    share_depths: Sequence[str] = SHARE_DEPTHS,
    cache_dir: str | Path | None = None,
    verbose: int | str = 0,
) -> dict[str, dict[str, Evaluation]]:
    """Multitask learning at every share depth: each task's test evaluation (paper 2, Sec. 5.3, Fig. 3 dashed).

    Args:
        train_sets, test_sets: task name -> patches; the same task names in both.
        settings: see `UnifiedSettings`.
        share_depths: the depths to try.
        cache_dir: folder for the results (default `<cache>/unified/`); each depth's network
            is cached, so `train_multitask(train_sets, "fc2", settings)` afterwards loads it.
        verbose: Keras training verbosity (0, the default: no per-epoch log; the history is returned to plot).

    Returns:
        `{share depth: {task: Evaluation}}` (`.estimate()`, `.status` of the network).
    """
    _check_settings(settings)
    depths = _check_depths(share_depths)
    _check_tasks("train_sets", train_sets)
    if list(test_sets) != list(train_sets):
        raise ValueError(f"Expected test_sets for the tasks {list(train_sets)}, in order. Received: {list(test_sets)}")
    for task in train_sets:
        _check_pair(train_sets[task], test_sets[task], settings.patch_size, f" of task {task!r}")
    evaluations = {}
    for depth in depths:
        network = train_multitask(train_sets, depth, settings, cache_dir=cache_dir, verbose=verbose)
        evaluations[depth] = evaluate_multitask(network, test_sets)
    return evaluations


def run_multitask(train_sets: Mapping[str, PatchSet], test_sets: Mapping[str, PatchSet],
                  settings: UnifiedSettings = UnifiedSettings(), **options) -> dict[str, dict[str, float]]:  # fmt: skip
    """`multitask_sweep`'s test accuracies only: `{share depth: {task: accuracy}}` (Sec. 5.3); same arguments."""
    sweep = multitask_sweep(train_sets, test_sets, settings, **options)
    return {depth: {task: e.accuracy for task, e in tasks.items()} for depth, tasks in sweep.items()}
