"""Training helpers shared by both papers: seeds, schedules, early stopping, tf.distribute.

    result = train(lambda: compile_mislnet(mislnet(6, input_size=64)), x, y, epochs=10, batch_size=40,
                   callbacks=[halving_schedule(1e-3)], seed=0)

`train` builds the model inside the strategy's scope, so the same call trains
on one CPU, several GPUs (`tf.distribute.MirroredStrategy()`) or several hosts
(`MultiWorkerMirroredStrategy` with `TF_CONFIG`); the default is TensorFlow's
no-op strategy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import keras
import numpy as np

from .session import seed_everything

__all__ = ["TrainResult", "train", "halving_schedule", "early_stopping"]


@dataclasses.dataclass
class TrainResult:
    """A trained model and its per-epoch history (`history["loss"]`, `history["val_loss"]`, ...)."""

    model: keras.Model
    history: dict[str, list[float]]

    @property
    def epochs_run(self) -> int:
        return len(next(iter(self.history.values()), []))


def halving_schedule(initial_rate: float, *, every_epochs: int = 3) -> keras.callbacks.Callback:
    """Learning rate `initial_rate * 0.5 ** (epoch // every_epochs)` (paper 2, Sec. 5.1: halved every 3 epochs)."""
    if initial_rate <= 0 or every_epochs < 1:
        raise ValueError(f"Expected a positive rate and every_epochs >= 1. Received: {initial_rate!r}, {every_epochs!r}")
    return keras.callbacks.LearningRateScheduler(lambda epoch: initial_rate * 0.5 ** (epoch // every_epochs))


def early_stopping(patience: int = 3) -> keras.callbacks.Callback:
    """Stop when the validation loss stops improving and restore the best weights (paper 1, Sec. IV)."""
    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)


def train(
    build: Callable[[], keras.Model],
    x,
    y=None,
    *,
    validation_data=None,
    epochs: int,
    batch_size: int | None = None,
    steps_per_epoch: int | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    strategy=None,
    seed: int = 0,
    verbose: int | str = 2,
) -> TrainResult:
    """Seed, build the model inside the strategy's scope, fit, and return model and history.

    Args:
        build: returns a compiled model (called inside `strategy.scope()`).
        x, y: arrays, or a `tf.data.Dataset` as `x` with `y=None`.
        validation_data: `(x_val, y_val)` or a dataset; needed for `early_stopping`.
        epochs: maximum epochs.
        batch_size: for array input (None for datasets).
        steps_per_epoch: for endless datasets.
        callbacks: e.g. `halving_schedule(...)`, `early_stopping()`.
        strategy: a `tf.distribute.Strategy`; None uses the default (one device).
        seed: seeds weight initialisation, shuffling and dropout; ops are made deterministic.
        verbose: Keras verbosity (2: one line per epoch, readable in executed notebooks).
    """
    import tensorflow as tf

    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"Expected epochs a positive integer. Received: {epochs!r}")
    seed_everything(seed)
    tf.config.experimental.enable_op_determinism()
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = build()
    history = model.fit(
        x,
        y,
        validation_data=validation_data,
        epochs=epochs,
        batch_size=batch_size,
        steps_per_epoch=steps_per_epoch,
        callbacks=list(callbacks),
        shuffle=not isinstance(x, tf.data.Dataset),  # datasets shuffle themselves
        verbose=verbose,
    )
    return TrainResult(model=model, history={k: [float(v) for v in vs] for k, vs in history.history.items()})

