"""Layers of the constrained CNN (Bayar and Stamm; paper 2, Sec. 3, Eq. 4), and Caffe-style pooling.

The constrained convolution's filters are projected so that the centre weight
is -1 and the other weights sum to 1: each filter predicts the centre pixel
from its neighbours and outputs the prediction error, which suppresses image
content and keeps the traces forensic tasks need. As in the authors' code, the
projection is: centre set to 0, the other weights divided by their sum, centre
set to -1. Keras applies a `kernel_constraint` only after each optimizer update,
so `ConstrainedConv2D` also projects its kernel when it is built: the
constraint holds from the first forward pass on.

`CeilPooling2D` pools as Caffe does (output size rounded up, windows that run
past the border clipped to the image), which gives the prototxt's sizes
252 -> 126 -> 63 -> 31 -> 15 -> 7 at 256x256 input; Keras' own pooling rounds down.
"""

from __future__ import annotations

import math

import keras
from keras import ops

__all__ = ["BayarConstraint", "ConstrainedConv2D", "CeilPooling2D"]


@keras.saving.register_keras_serializable(package="forensiclib")
class BayarConstraint(keras.constraints.Constraint):
    """Projects every 2-D kernel slice: centre -1, the other weights summing to 1.

    Each `(kernel_height, kernel_width)` slice of a `(kh, kw, in, out)` kernel is
    projected on its own (paper 2 uses one input channel, so a slice is a filter).
    Kernel sides must be odd so that there is a centre.

    Example:
        >>> import numpy as np
        >>> w = BayarConstraint()(np.random.rand(5, 5, 1, 3).astype("float32"))
        >>> float(w[2, 2, 0, 0]), round(float(np.sum(w[..., 0, 0])) + 1, 5)
        (-1.0, 1.0)
    """

    def __call__(self, w):
        kh, kw = w.shape[0], w.shape[1]
        if kh % 2 == 0 or kw % 2 == 0:
            raise ValueError(f"Expected a kernel with odd sides (it needs a centre). Received shape {tuple(w.shape)}")
        centre = [[1.0 if (i, j) == (kh // 2, kw // 2) else 0.0 for j in range(kw)] for i in range(kh)]
        centre = ops.reshape(ops.convert_to_tensor(centre, dtype=w.dtype), (kh, kw, 1, 1))
        off_centre = w * (1.0 - centre)
        total = ops.sum(off_centre, axis=(0, 1), keepdims=True)
        total = ops.where(ops.abs(total) < 1e-12, ops.ones_like(total) * 1e-12, total)
        return off_centre / total - centre

    def get_config(self):
        return {}


@keras.saving.register_keras_serializable(package="forensiclib")
class ConstrainedConv2D(keras.layers.Conv2D):
    """Convolution whose filters obey the Bayar constraint (no bias, no padding by default).

    Args:
        filters: number of constrained filters (paper 2: 3).
        kernel_size: odd filter side (paper 2: 5).
        strides, padding, kernel_initializer, name: as for `keras.layers.Conv2D`.
    """

    def __init__(
        self,
        filters: int = 3,
        kernel_size: int = 5,
        strides: int = 1,
        padding: str = "valid",
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            use_bias=False,
            kernel_initializer=kernel_initializer,
            kernel_constraint=BayarConstraint(),
            **kwargs,
        )

    def build(self, input_shape):
        super().build(input_shape)
        self.kernel.assign(self.kernel_constraint(self.kernel))

    def get_config(self):
        config = super().get_config()
        for key in ("use_bias", "kernel_constraint", "bias_initializer", "bias_regularizer", "bias_constraint"):
            config.pop(key, None)
        return config


@keras.saving.register_keras_serializable(package="forensiclib")
class CeilPooling2D(keras.layers.Layer):
    """Max or average pooling with Caffe's output size, ceil((n - pool) / stride) + 1.

    Windows that run past the bottom/right border cover only the pixels inside
    (max over them, or their mean), as in Caffe.

    Args:
        pool_size: window side.
        strides: step.
        mode: `"max"` or `"average"`.
    """

    def __init__(self, pool_size: int = 3, strides: int = 2, mode: str = "max", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("max", "average"):
            raise ValueError(f'Expected mode "max" or "average". Received: {mode!r}')
        self.pool_size, self.strides, self.mode = int(pool_size), int(strides), mode

    def _extra(self, size: int) -> int:
        out = math.ceil(max(size - self.pool_size, 0) / self.strides) + 1
        return max((out - 1) * self.strides + self.pool_size - size, 0)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        size = lambda n: None if n is None else math.ceil(max(n - self.pool_size, 0) / self.strides) + 1  # noqa: E731
        return (batch, size(height), size(width), channels)

    def call(self, x):
        pad_h, pad_w = self._extra(x.shape[1]), self._extra(x.shape[2])
        padding = [[0, 0], [0, pad_h], [0, pad_w], [0, 0]]
        window = dict(pool_size=self.pool_size, strides=self.strides, padding="valid")
        if self.mode == "max":  # padding with -inf never wins the max: every window holds a pixel of the image
            return ops.max_pool(ops.pad(x, padding, constant_values=float("-inf")) if pad_h or pad_w else x, **window)
        summed = ops.average_pool(ops.pad(x, padding), **window)
        ones = ops.pad(ops.ones_like(x[:1, :, :, :1]), padding)
        return summed / ops.average_pool(ones, **window)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides, "mode": self.mode}
