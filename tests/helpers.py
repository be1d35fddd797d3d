import keras
import numpy as np


def snapshot(variable) -> np.ndarray:
    """A copy of a variable's value (np.array(variable) may alias its buffer and change with it)."""
    value = variable.value if isinstance(variable, keras.Variable) else variable
    # the tensor's own numpy(): converting a variable through __array__ warns under numpy 2 (no copy keyword)
    return np.array(value.numpy() if hasattr(value, "numpy") else keras.ops.convert_to_numpy(value), copy=True)
