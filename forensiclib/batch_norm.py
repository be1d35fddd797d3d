"""Batch normalisation's inference statistics re-estimated with a network's current weights ("precise BN").

Keras keeps the mean and variance a `BatchNormalization` layer uses at inference as moving averages taken while the
weights move; `recalibrate_batch_norm` replaces them with the mean of the batch statistics of some training batches,
and `PreciseBatchNorm` does so before every validation and at the end of a `fit`. `training.train` adds it to every
model with batch normalisation (paper 2's MISLnet; paper 1's CNN has none).
"""

from __future__ import annotations

import keras
import numpy as np

__all__ = ["BATCH_NORM_BATCHES", "PreciseBatchNorm", "recalibrate_batch_norm", "batch_norm_layers"]

#: Training batches over which `training.train` re-estimates batch normalisation's statistics (`PreciseBatchNorm`).
BATCH_NORM_BATCHES = 25


def batch_norm_layers(model: keras.Model) -> list:
    """Every `BatchNormalization` layer of `model`, nested models included."""
    return [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]


def recalibrate_batch_norm(model: keras.Model, x, *, batch_size: int | None = None, batches: int = BATCH_NORM_BATCHES,
                           seed: int = 0) -> int:  # fmt: skip
    """Re-estimate the moving mean and variance of every `BatchNormalization` layer of `model` with its current
    weights: the average of the batch statistics of `batches` training batches ("precise BN", Wu and Johnson 2021,
    "Rethinking 'Batch' in BatchNorm", Sec. 3).

    Keras keeps the statistics a network uses at inference as moving averages (momentum 0.99: about the last 100
    steps), taken while the weights move. After a few hundred steps at a falling rate they lag the final weights,
    and the network tested is not the network trained: on notebook 07's networks (about 740 and 610 steps) the
    re-estimated statistics moved the test accuracy by -0.4 to +7.6 points (manipulation) and +9.3 to +21.6 (camera,
    three seeds each, `benchmarks/bench_batch_norm.py`). The weights are not touched.

    Args:
        model: a built model; without batch normalisation nothing is done.
        x: the training inputs: an array or `ArrayFile` (`batches` batches of `batch_size` rows drawn at random
            with `seed`, without replacement), or a `tf.data.Dataset` of input batches or `(inputs, targets)` batches (its first
            `batches`).
        batch_size: rows per batch for array input (the training batch size: the statistics are those of a batch).
        batches: how many batches to average; fewer when `x` holds fewer.
        seed: seeds the rows drawn.

    Returns:
        The number of batches used (0 when the model has no batch normalisation).
    """
    import tensorflow as tf

    layers = batch_norm_layers(model)
    if not layers:
        return 0
    if not isinstance(batches, int) or batches < 1:
        raise ValueError(f"Expected batches a positive integer. Received: {batches!r}")
    if isinstance(x, tf.data.Dataset):
        inputs = (element[0] if isinstance(element, tuple) else element for element in x.take(batches))
    else:
        if not batch_size or batch_size < 1:
            raise ValueError(f"Expected a positive batch_size for array input. Received: {batch_size!r}")
        order = np.random.default_rng([seed, 7]).permutation(len(x))
        count = max(1, min(batches, len(x) // batch_size))
        inputs = (np.asarray(x[np.sort(order[k * batch_size:(k + 1) * batch_size])], np.float32) for k in range(count))
    momenta = [layer.momentum for layer in layers]
    used = 0
    try:
        for batch in inputs:
            for layer in layers:
                layer.momentum = used / (used + 1)  # the running mean of the batches' statistics so far
            model(batch, training=True)
            used += 1
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
    return used


class PreciseBatchNorm(keras.callbacks.Callback):
    """Re-estimates batch normalisation's statistics (`recalibrate_batch_norm`) before every validation and, when
    no validation ran, at the end of training: the validation loss, early stopping's choice and the network
    returned all use statistics of the weights they judge. It changes no weight and no training step (a training
    step normalises with its own batch's statistics).

    Args:
        x, batch_size, batches, seed: as `recalibrate_batch_norm`.
    """

    def __init__(self, x, *, batch_size: int | None = None, batches: int = BATCH_NORM_BATCHES, seed: int = 0):
        super().__init__()
        self.x, self.batch_size, self.batches, self.seed = x, batch_size, batches, seed
        self._validated = False

    def _recalibrate(self) -> None:
        recalibrate_batch_norm(self.model, self.x, batch_size=self.batch_size, batches=self.batches, seed=self.seed)

    def on_test_begin(self, logs=None):
        self._validated = True
        self._recalibrate()

    def on_train_end(self, logs=None):
        if not self._validated:
            self._recalibrate()
