import keras
import numpy as np


def snapshot(variable) -> np.ndarray:
    """A copy of a variable's value (np.array(variable) may alias its buffer and change with it)."""
    return np.array(keras.ops.convert_to_numpy(variable), copy=True)
