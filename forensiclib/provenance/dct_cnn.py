"""Paper 1's network: the 1-D CNN on 909-value DCT histograms (Amerini et al. 2017, Sec. III-B, Fig. 2)."""

from __future__ import annotations

import keras

__all__ = ["dct_cnn"]


def _check_classes(n_classes) -> None:
    if not isinstance(n_classes, int) or isinstance(n_classes, bool) or n_classes < 2:
        raise ValueError(f"Expected n_classes an integer of at least 2. Received: {n_classes!r}")


def dct_cnn(
    n_classes: int,
    *,
    n_features: int = 909,
    filters: int = 100,
    kernel_size: int = 3,
    pool_size: int = 2,
    dense_units: int = 256,
    dropout: float = 0.5,
    learning_rate: float = 1.0,
    name: str = "dct_cnn",
) -> keras.Model:
    """Paper 1's 1-D CNN, compiled with AdaDelta (Sec. III-B, Fig. 2).

    Two blocks of Conv1D(`filters`) + ReLU + max-pooling, then Dense(256) + ReLU,
    Dense(256) + ReLU with dropout, and a softmax over the K classes. The paper
    gives the 100 filters and the 256 units but not the kernel and pooling sizes
    nor the dropout rate: 3, 2 and 0.5 are assumptions. AdaDelta uses Zeiler's
    formulation (learning rate 1.0; Keras' default of 0.001 barely moves).

    Args:
        n_classes: K, the number of platforms.
        n_features: length of the input vector (909 for the paper's features).

    Returns:
        A compiled `keras.Model` from `(batch, n_features)` float32 to `(batch, K)` probabilities.

    Example:
        >>> model = dct_cnn(3)  # doctest: +SKIP
        >>> model.fit(features, labels, validation_split=0.1)  # doctest: +SKIP
    """
    _check_classes(n_classes)
    inputs = keras.Input((n_features,), name="histograms")
    x = keras.layers.Reshape((n_features, 1))(inputs)
    for block in (1, 2):
        x = keras.layers.Conv1D(filters, kernel_size, activation="relu", name=f"conv{block}")(x)
        x = keras.layers.MaxPooling1D(pool_size, name=f"pool{block}")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(dense_units, activation="relu", name="fc1")(x)
    x = keras.layers.Dense(dense_units, activation="relu", name="fc2")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="output")(x)
    model = keras.Model(inputs, outputs, name=name)
    model.compile(
        optimizer=keras.optimizers.Adadelta(learning_rate=learning_rate, rho=0.95, epsilon=1e-6),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model
