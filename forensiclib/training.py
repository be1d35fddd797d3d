"""Training helpers shared by both papers: seeds, schedules, early stopping, tf.distribute.

    result = train(lambda: compile_mislnet(mislnet(6, input_size=64)), x, y, epochs=10, batch_size=40,
                   callbacks=[halving_schedule(1e-3)], seed=0)

`train` builds the model inside the strategy's scope, so the same call trains
on one CPU, several GPUs (`tf.distribute.MirroredStrategy()`) or several hosts
(`MultiWorkerMirroredStrategy` with `TF_CONFIG`); the default is TensorFlow's
no-op strategy. Keras 3's `fit` does not run under `MultiWorkerMirroredStrategy`
(keras-team/keras#20585), so there `train` runs its own loop: every global batch
of `batch_size` examples (a seeded permutation per epoch, the last partial batch
dropped) is split evenly between the workers, each replica's loss is scaled by the
global batch size and the gradients are summed across workers, so an update equals
the one a single worker would make on the whole batch (dropout masks and batch-norm
statistics are drawn per replica, so runs agree closely, not bit for bit). Epoch
callbacks (learning-rate schedules, early stopping) run on every worker alike.
Multi-worker training takes arrays and single-output models (paper 1's CNN, paper 2's
single-task networks and transfer heads); multitask training needs one host.

Notebooks do not pass a strategy: `train` then uses `default_strategy()`, which the
environment variable `FORENSICLIB_STRATEGY` selects: unset or `default` (one device),
`mirrored` (every GPU of this host) or `multiworker` (the hosts listed in `TF_CONFIG`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np

from ._heap import tune_heap
from ._keras_compat import array_dataset, build_train_state
from .batch_norm import BATCH_NORM_BATCHES, PreciseBatchNorm, batch_norm_layers, recalibrate_batch_norm
from .seeding import seed_everything

__all__ = ["TrainResult", "train", "predict", "fit_dataset", "halving_schedule", "early_stopping",
           "default_strategy", "STRATEGIES", "checkpoint_dir", "PreciseBatchNorm", "recalibrate_batch_norm",
           "BATCH_NORM_BATCHES"]

#: Values of `FORENSICLIB_STRATEGY` and the tf.distribute strategy each selects.
STRATEGIES = ("default", "mirrored", "multiworker")
_strategy = None


@dataclasses.dataclass
class TrainResult:
    """A trained model and its per-epoch history (`history["loss"]`, `history["val_loss"]`, ...)."""

    model: keras.Model
    history: dict[str, list[float]]

    @property
    def epochs_run(self) -> int:
        return len(next(iter(self.history.values()), []))

    def status(self, max_epochs: int) -> TrainingStatus:
        """Plateau or cap: see `training_status`."""
        return training_status(self.history, max_epochs)


@dataclasses.dataclass(frozen=True)
class TrainingStatus:
    """How a training run with early stopping ended: on a plateau of the validation loss, or at its epoch cap; and
    whether the network learned its task at all.

    Attributes:
        epochs_run: epochs trained.
        max_epochs: the cap.
        best_epoch: the epoch (1-based) of the lowest validation loss, whose weights were kept; None without one.
        plateaued: True when training stopped before the cap because the validation loss stopped improving.
        best_validation_accuracy: the highest validation accuracy of any epoch, in percent; None when unknown.
        chance_bound: the upper end of the validation accuracy's 95% interval under guessing, in percent; None
            when the classes or the validation size were not given.
        fixed: True when the run had no early stopping and trained its set number of epochs (`patience=0`).
    """

    epochs_run: int
    max_epochs: int
    best_epoch: int | None
    plateaued: bool
    best_validation_accuracy: float | None = None
    chance_bound: float | None = None
    fixed: bool = False

    @property
    def learned(self) -> bool | None:
        """False when the validation accuracy never left its chance interval ("did not learn"): numbers from such
        a network say nothing about its method. None when that cannot be told."""
        if self.best_validation_accuracy is None or self.chance_bound is None:
            return None
        return self.best_validation_accuracy > self.chance_bound

    def __str__(self) -> str:
        if self.learned is False:
            return (f"did not learn: validation accuracy never above {self.best_validation_accuracy:.1f}%, within "
                    f"chance (up to {self.chance_bound:.1f}%), in {self.epochs_run} epochs")  # fmt: skip
        if self.fixed:
            return f"trained its fixed {self.epochs_run} of {self.max_epochs} epochs (no early stopping)"
        if self.plateaued:
            return f"stopped on a plateau after {self.epochs_run} of at most {self.max_epochs} epochs (best: {self.best_epoch})"
        best = f" (best: {self.best_epoch})" if self.best_epoch else ""
        return f"hit the cap of {self.max_epochs} epochs{best}: may still have been learning"

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "learned": self.learned, "text": str(self)}


def chance_bound(n_classes: int, n_validation: int) -> float:
    """The upper end, in percent, of the 95% interval of an accuracy measured on `n_validation` independent items
    (images) by a classifier that guesses among `n_classes` (normal approximation of the binomial, one-sided 97.5%).

    Example:
        >>> round(chance_bound(5, 25), 1)
        35.7
    """
    for name, value in (("n_classes", n_classes), ("n_validation", n_validation)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < (2 if name == "n_classes" else 1):
            raise ValueError(f"Expected {name} a positive integer{' of at least 2' if name == 'n_classes' else ''}. "
                             f"Received: {value!r}")  # fmt: skip
    p = 1.0 / n_classes
    return 100.0 * (p + 1.96 * math.sqrt(p * (1 - p) / n_validation))


def training_status(history: dict[str, Sequence[float]], max_epochs: int, *, patience: int | None = None,
                    n_classes: int | None = None, n_validation: int | None = None) -> TrainingStatus:  # fmt: skip
    """Read from a history whether training plateaued or was capped, so that numbers from a capped network are flagged,
    and, given the classes and the validation size, whether the network learned at all.

    A run that ended before `max_epochs` stopped early (`early_stopping`); one that ran them all was capped,
    unless, given the `patience`, its best validation loss came `patience` or more epochs before the end (early
    stopping fired at the last epoch). Without the patience that cannot be known, and it counts as capped.
    `patience=0` means no early stopping: the run trained a fixed number of epochs (`fixed`, neither plateau nor cap).
    With `n_classes` and `n_validation` (independent validation items: images, not their patches), a network whose
    `val_accuracy` never rose above `chance_bound(n_classes, n_validation)` "did not learn".
    """
    if not isinstance(max_epochs, int) or max_epochs < 1:
        raise ValueError(f"Expected max_epochs a positive integer. Received: {max_epochs!r}")
    losses = list(history.get("val_loss") or [])
    epochs_run = len(losses) or len(next(iter(history.values()), []))
    best = int(np.argmin(losses)) + 1 if losses else None
    fixed = patience == 0
    fired_at_the_end = not fixed and patience is not None and best is not None and best + patience <= epochs_run
    accuracies = list(history.get("val_accuracy") or [])
    best_accuracy = 100.0 * float(np.max(accuracies)) if accuracies else None
    bound = chance_bound(n_classes, n_validation) if n_classes is not None and n_validation is not None else None
    plateaued = not fixed and (epochs_run < max_epochs or fired_at_the_end)
    return TrainingStatus(epochs_run, max_epochs, best, plateaued, best_accuracy if bound is not None else None, bound,
                          fixed)  # fmt: skip


def halving_schedule(initial_rate: float, *, every_epochs: int = 3) -> keras.callbacks.Callback:
    """Learning rate `initial_rate * 0.5 ** (epoch // every_epochs)` (paper 2, Sec. 5.1: halved every 3 epochs)."""
    if initial_rate <= 0 or every_epochs < 1:
        raise ValueError(f"Expected a positive rate and every_epochs >= 1. Received: {initial_rate!r}, {every_epochs!r}")
    return keras.callbacks.LearningRateScheduler(lambda epoch: initial_rate * 0.5 ** (epoch // every_epochs))


def early_stopping(patience: int = 3) -> keras.callbacks.Callback:
    """Stop when the validation loss stops improving and restore the best weights (paper 1, Sec. IV)."""
    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)


def default_strategy():
    """The strategy `FORENSICLIB_STRATEGY` names (see the module docstring), created once per process."""
    global _strategy
    import os

    import tensorflow as tf

    name = os.environ.get("FORENSICLIB_STRATEGY", "") or "default"
    if name not in STRATEGIES:
        raise ValueError(f"Expected FORENSICLIB_STRATEGY among {', '.join(STRATEGIES)}. Received: {name!r}")
    if _strategy is None or _strategy[0] != name:
        made = {"default": tf.distribute.get_strategy, "mirrored": tf.distribute.MirroredStrategy,
                "multiworker": tf.distribute.MultiWorkerMirroredStrategy}[name]()  # fmt: skip
        _strategy = (name, made)
    return _strategy[1]


def checkpoint_dir(entry) -> Path | None:
    """Where a training run cached in folder `entry` keeps its per-epoch checkpoint (`entry/backup`), or None when
    checkpointing is off. It is on with `FORENSICLIB_CHECKPOINT=1`, which the runner sets for profiles with
    `checkpoint_each_epoch: true` (the paper profile)."""
    import os

    return Path(entry) / "backup" if os.environ.get("FORENSICLIB_CHECKPOINT", "") == "1" else None


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
    backup_dir=None,
    batch_norm_batches: int = BATCH_NORM_BATCHES,
    batch_norm_data=None,
) -> TrainResult:
    """Seed, build the model inside the strategy's scope, fit, and return model and history.

    Args:
        build: returns a compiled model (called inside `strategy.scope()`).
        x, y: arrays, an `ArrayFile` as `x` (streamed from disk, see `fit_dataset`), or a `tf.data.Dataset`
            as `x` with `y=None`.
        validation_data: `(x_val, y_val)` or a dataset; needed for `early_stopping`.
        epochs: maximum epochs.
        batch_size: for array input (None for datasets).
        steps_per_epoch: for endless datasets.
        callbacks: e.g. `halving_schedule(...)`, `early_stopping()`.
        strategy: a `tf.distribute.Strategy`; None uses `default_strategy()` (one device unless
            `FORENSICLIB_STRATEGY` says otherwise).
        seed: seeds weight initialisation, shuffling and dropout; ops are made deterministic.
        verbose: Keras verbosity (2: one line per epoch, readable in executed notebooks).
        backup_dir: if given, the model and optimizer state are saved there after every epoch
            (`keras.callbacks.BackupAndRestore`); a run killed and started again resumes after the last
            finished epoch, and the backup is deleted when training ends. The resumed run draws the
            remaining epochs' shuffles afresh, so it ends close to, not bit for bit at, an uninterrupted one.
            Not used under `MultiWorkerMirroredStrategy`.
        batch_norm_batches: for a model with batch normalisation, the training batches over which its statistics
            are re-estimated before every validation and at the end (`PreciseBatchNorm`); 0: Keras's moving
            averages as they stand. Models without batch normalisation (paper 1's CNN) are not affected, nor is
            multi-worker training (its replicas draw their own batch statistics).
        batch_norm_data: the training inputs the statistics are re-estimated on: an array or `ArrayFile`, or a
            dataset of input batches; None: `x` when it is an array or `ArrayFile`. With a dataset `x` and no
            `batch_norm_data` nothing is re-estimated: drawing batches from the training pipeline would move its
            shuffles (and make them race with its prefetching).
    """
    import tensorflow as tf

    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"Expected epochs a positive integer. Received: {epochs!r}")
    if not isinstance(batch_norm_batches, int) or batch_norm_batches < 0:
        raise ValueError(f"Expected batch_norm_batches a non-negative integer. Received: {batch_norm_batches!r}")
    tune_heap()  # TensorFlow's tensors come from the heap instead of fresh pages (forensiclib._heap)
    seed_everything(seed)
    tf.config.experimental.enable_op_determinism()
    strategy = strategy or default_strategy()
    with strategy.scope():
        model = build()
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        history = _fit_multi_worker(model, x, y, validation_data=validation_data, epochs=epochs, batch_size=batch_size,
                                    callbacks=callbacks, strategy=strategy, seed=seed, verbose=verbose)  # fmt: skip
        return TrainResult(model=model, history=history)
    if backup_dir is not None:
        callbacks = [keras.callbacks.BackupAndRestore(str(backup_dir), delete_checkpoint=True), *callbacks]
    if batch_norm_data is None and not isinstance(x, tf.data.Dataset):
        batch_norm_data = x
    if batch_norm_batches and batch_norm_data is not None and batch_norm_layers(model):
        if not isinstance(batch_norm_data, tf.data.Dataset) and not batch_size:
            raise ValueError("Expected batch_size with array batch_norm_data (the rows per re-estimation batch). "
                             "Received: batch_size=None")
        # the validation loss, early stopping's best weights and the model returned see re-estimated statistics
        callbacks = [PreciseBatchNorm(batch_norm_data, batch_size=batch_size, batches=batch_norm_batches, seed=seed),
                     *callbacks]  # fmt: skip
    dataset = fit_dataset(x, y, batch_size=batch_size, shuffle=True, seed=seed)
    with strategy.scope():
        # Without a tf.distribute strategy Keras creates the optimizer's slots and the metrics' variables inside
        # the first trace of the train step, and a tf.function whose first trace created variables is traced
        # again: building them first, from the batches' shapes, saves that second trace (about 0.4 s of each
        # MISLnet fit at 64x64; the weights are the same bit for bit, tests/test_training.py).
        build_train_state(model, dataset.element_spec)
    history = model.fit(
        dataset,
        validation_data=None if validation_data is None else fit_dataset(*_pair(validation_data),
                                                                              batch_size=batch_size, shuffle=False),
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        callbacks=list(callbacks),
        shuffle=False,  # arrays are shuffled by the adapter, datasets shuffle themselves
        verbose=verbose,
    )  # fmt: skip
    return TrainResult(model=model, history={k: [float(v) for v in vs] for k, vs in history.history.items()})


def _pair(data):
    """`validation_data` as `(x, y)`: a dataset stands for both (`y` None)."""
    import tensorflow as tf

    return (data, None) if isinstance(data, tf.data.Dataset) else tuple(data)


def fit_dataset(x, y=None, *, batch_size: int | None = None, shuffle: bool = False, seed: int = 0):
    """The dataset `train` and `predict` hand to Keras, with tf.data's autotuning off.

    - Arrays: the dataset `fit(x, y, batch_size=..., shuffle=...)` would build (Keras' own array adapter, same
      batches in the same order), so training gives the same weights bit for bit as `fit(x, y)`
      (`tests/test_training.py`): the shuffles are drawn from the global seed inside the adapter's own graph.
    - An `ArrayFile` (`x`, and `y` too if it is one): streamed from disk by `file_dataset`, a batch read while the
      previous one trains; each epoch a permutation from `seed` and the epoch's number.
    - A `tf.data.Dataset` as `x`: itself.

    Why autotuning off: with it on, while a dataset iterator lived, TensorFlow's oneDNN kernels ran whole epochs
    on one core of two: MISLnet at 64x64 trained at about 370 or about 600 patches/s on this 2-core machine, at
    random per epoch, while the same train step fed constant tensors never slowed (`benchmarks/bench_training.py`
    measures both ways side by side). With autotuning off every epoch runs on all cores.
    """
    import tensorflow as tf
    from .data.patchfile import ArrayFile

    if not batch_size:
        batch_size = 32  # Keras' default
    if isinstance(x, tf.data.Dataset):
        dataset = x
    elif isinstance(x, ArrayFile):
        dataset = file_dataset(x, y, batch_size=batch_size, shuffle=shuffle, seed=seed)
    else:
        dataset, n_batches = array_dataset(x, y, batch_size=batch_size, shuffle=shuffle)
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(n_batches))
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def file_dataset(x, y=None, *, batch_size: int, shuffle: bool = False, seed: int = 0, endless: bool = False):
    """A tf.data pipeline of batches read from an `ArrayFile` (and labels `y`, in memory or another `ArrayFile`).

    A Python generator reads each batch's rows (`ArrayFile.read`, no memory map), and `prefetch(2)` keeps the
    next batches coming while one trains, so memory holds a few batches, whatever the file's size. With
    `shuffle`, every pass over the rows is a new permutation drawn from `seed` and the pass's number (the same
    seed gives the same batches); without, the rows in order. `endless`: passes follow each other without end
    and batches run across their borders (as `shuffle(n).repeat().batch(...)` would); otherwise one pass, the
    last batch partial. The paper profile's patches stream this way (`patches_from_dataset(on_disk=...)`).
    """
    import itertools

    import tensorflow as tf

    n = len(x)
    if y is not None and len(y) != n:
        raise ValueError(f"Expected one label per row: {n} rows. Received: {len(y)} labels")
    if n == 0 or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"Expected rows and a positive batch_size. Received: {n} rows, batch_size {batch_size!r}")
    calls = itertools.count()

    def batches():
        call = next(calls)  # each iteration over the dataset (each epoch) draws new permutations
        passes = itertools.count()
        order = lambda: (np.random.default_rng([seed, call, next(passes)]).permutation(n) if shuffle  # noqa: E731
                         else np.arange(n))  # fmt: skip
        pending = order()
        while len(pending) or endless:  # endless: refilled below, also when a pass ended on a batch border
            while endless and len(pending) < batch_size:
                pending = np.concatenate([pending, order()])
            rows, pending = pending[:batch_size], pending[batch_size:]
            xb = x[rows]
            yield xb if y is None else (xb, np.asarray(y[rows]))

    x_spec = tf.TensorSpec((None, *x.shape[1:]), tf.float32)
    signature = x_spec if y is None else (x_spec, tf.TensorSpec((None, *np.shape(y)[1:]), tf.as_dtype(np.asarray(y[:1]).dtype)))
    dataset = tf.data.Dataset.from_generator(batches, output_signature=signature)
    if not endless:
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(-(-n // batch_size)))
    return dataset.prefetch(2)


def predict(model: keras.Model, x, *, batch_size: int = 256) -> np.ndarray:
    """`model.predict(x)` in batches of `batch_size`, on all cores (the batches of `fit_dataset`, autotuning off).

    `x`: an array (taken as float32), an `ArrayFile` (streamed) or a dataset."""
    import tensorflow as tf

    from .data.patchfile import ArrayFile

    if not isinstance(x, (ArrayFile, tf.data.Dataset)):
        x = np.asarray(x, np.float32)
    return model.predict(fit_dataset(x, batch_size=batch_size), verbose=0)


def _fit_multi_worker(model, x, y, *, validation_data, epochs, batch_size, callbacks, strategy, seed, verbose) -> dict:
    """`fit` for `MultiWorkerMirroredStrategy`: a custom loop (see the module docstring)."""
    import tensorflow as tf

    if isinstance(x, tf.data.Dataset) or y is None or not isinstance(model.loss, str):
        raise ValueError("Expected arrays x and y and a single-output model for multi-worker training. Received: "
                         f"x of type {type(x).__name__}, y {'missing' if y is None else 'given'}, loss {model.loss!r}")
    workers = strategy.num_replicas_in_sync
    if not batch_size or batch_size % workers:
        raise ValueError(f"Expected batch_size a multiple of the {workers} replicas. Received: {batch_size!r}")
    x, y = np.asarray(x), np.asarray(y)
    per_replica, n_batches = batch_size // workers, len(x) // batch_size
    if n_batches < 1:
        raise ValueError(f"Expected at least one batch of {batch_size} examples. Received {len(x)} examples")
    loss_fn = keras.losses.get(model.loss)  # per-example losses

    @tf.function
    def step(xb, yb):
        def replica(xb, yb):
            with tf.GradientTape() as tape:
                predictions = model(xb, training=True)
                loss = tf.nn.compute_average_loss(loss_fn(yb, predictions), global_batch_size=batch_size)
            gradients = tape.gradient(loss, model.trainable_variables)
            model.optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(predictions, -1), tf.cast(yb, tf.int64)), tf.float32))
            return loss, correct

        loss, correct = strategy.run(replica, args=(xb, yb))
        return strategy.reduce("SUM", loss, axis=None), strategy.reduce("SUM", correct, axis=None)

    def epoch_data(epoch):
        order = np.random.default_rng([seed, epoch]).permutation(len(x))[: n_batches * batch_size]
        batches = order.reshape(n_batches, workers, per_replica)

        def dataset(context):  # this worker's share of every global batch, in order
            mine = batches[:, context.input_pipeline_id].reshape(-1)
            return tf.data.Dataset.from_tensor_slices((x[mine], y[mine])).batch(per_replica)

        return strategy.distribute_datasets_from_function(dataset)

    callback_list = keras.callbacks.CallbackList(list(callbacks), model=model)
    history: dict[str, list[float]] = {}
    chief = getattr(strategy.cluster_resolver, "task_id", None) in (0, None)
    callback_list.on_train_begin()
    for epoch in range(epochs):
        callback_list.on_epoch_begin(epoch)
        total_loss, total_correct = 0.0, 0.0
        for xb, yb in epoch_data(epoch):
            loss, correct = step(xb, yb)
            total_loss, total_correct = total_loss + float(loss), total_correct + float(correct)
        logs = {"loss": total_loss / n_batches, "accuracy": total_correct / (n_batches * batch_size)}
        if validation_data is not None:
            x_val, y_val = (np.asarray(v) for v in validation_data)
            p_val = model.predict(x_val, batch_size=max(batch_size, 256), verbose=0)
            logs["val_loss"] = float(np.mean(keras.ops.convert_to_numpy(loss_fn(y_val, p_val))))
            logs["val_accuracy"] = float(np.mean(p_val.argmax(-1) == y_val))
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        callback_list.on_epoch_end(epoch, logs)
        if verbose and chief:
            print(f"Epoch {epoch + 1}/{epochs} - " + " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()), flush=True)
        if model.stop_training:
            break
    callback_list.on_train_end()
    return history
