"""The private Keras API the training path needs, in one place.

Keras offers no public way to do either of these, and both are internals that may move in a
release. `tests/test_keras_compat.py` checks them against the pinned Keras version, so an upgrade
that breaks one fails there, loudly, rather than deep inside a training run.

- `build_train_state(model, data_batch)`: creates the optimizer's slots and the metrics' variables
  from the batches' shapes before `fit`, so Keras' train step is traced once instead of twice (a
  tf.function whose first trace created variables is traced again). Without it training is the
  same, only slower to start (about 0.4 s of every MISLnet fit at 64x64).
- `array_dataset(x, y, batch_size, shuffle)`: the tf.data pipeline Keras' own array adapter builds
  for `fit(x, y)`, so training on it gives the same batches, in the same order, as `fit(x, y)`.
"""

from __future__ import annotations

#: The Keras release these internals were checked against (pyproject.toml pins it).
CHECKED_KERAS_VERSION = "3.15.1"


def build_train_state(model, data_batch) -> None:
    """Build `model`'s optimizer and metric variables for batches shaped like `data_batch` (a tf.data spec)."""
    model._symbolic_build(data_batch=data_batch)


def array_dataset(x, y, *, batch_size: int, shuffle: bool):
    """`(dataset, n_batches)`: the batches Keras' array adapter makes of `(x, y)`, as a tf.data dataset."""
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    adapter = ArrayDataAdapter(x, y, batch_size=batch_size, shuffle=shuffle)
    return adapter.get_tf_dataset(), adapter.num_batches
