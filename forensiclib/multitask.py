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

from collections.abc import Mapping

import keras
import numpy as np

from .models import SHARE_DEPTHS, apply_layers, mislnet_blocks
from .patchfile import ArrayFile
from .training import file_dataset

__all__ = ["multitask_model", "paired_dataset"]


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
