"""The private Keras API the training path uses (forensiclib._keras_compat) still works as it did.

These tests fail on a Keras upgrade that moves or changes those internals; fix `_keras_compat`
(and its CHECKED_KERAS_VERSION) then, not the callers.
"""

import keras
import numpy as np
import pytest

from forensiclib import _keras_compat


def test_the_installed_keras_is_the_one_the_internals_were_checked_against():
    assert keras.__version__ == _keras_compat.CHECKED_KERAS_VERSION, (
        f"Keras {keras.__version__} is installed; forensiclib._keras_compat was checked against "
        f"{_keras_compat.CHECKED_KERAS_VERSION}. Check its two internals against the new release, then update it."
    )


def test_array_dataset_gives_the_batches_fit_would_draw():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    dataset, n_batches = _keras_compat.array_dataset(x, y, batch_size=4, shuffle=False)
    batches = [(bx.numpy(), by.numpy()) for bx, by in dataset]
    assert n_batches == 3 and [len(by) for _, by in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([bx for bx, _ in batches]), x)
    shuffled, _ = _keras_compat.array_dataset(x, y, batch_size=4, shuffle=True)
    rows = np.concatenate([by.numpy() for _, by in shuffled])
    assert sorted(rows.tolist()) == list(range(10))


def test_build_train_state_creates_the_optimizer_slots_before_fit():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(momentum=0.9), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    dataset, _ = _keras_compat.array_dataset(np.zeros((4, 2), np.float32), np.zeros(4), batch_size=2, shuffle=False)
    assert not model.optimizer.built
    _keras_compat.build_train_state(model, dataset.element_spec)
    assert model.optimizer.built and len(model.optimizer.variables) > 2


@pytest.mark.parametrize("name", ["build_train_state", "array_dataset"])
def test_the_training_path_reaches_keras_internals_only_through_the_compat_module(name):
    import inspect

    from forensiclib import training

    assert name in inspect.getsource(training)
    assert "keras.src" not in inspect.getsource(training) and "_symbolic_build" not in inspect.getsource(training)
