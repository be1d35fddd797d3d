"""Paper 2's network: the Bayar-Stamm constrained CNN, "MISLnet" (Mayer et al. 2018, Sec. 3).

Layer for layer as in the authors' Caffe prototxt, built from named blocks so that transfer and
multitask models (`forensiclib.unified.transfer`, `forensiclib.unified.multitask`) can cut it at any
share depth.
"""

from __future__ import annotations

import keras

from .layers import CeilPooling2D, ConstrainedConv2D

__all__ = [
    "SHARE_DEPTHS",
    "mislnet",
    "mislnet_blocks",
    "block_layer_names",
    "block_layers",
    "compile_mislnet",
]

#: The depths at which paper 2 shares (transfers or ties) layers, shallow to deep.
SHARE_DEPTHS: tuple[str, ...] = ("constr", "conv1", "conv2", "conv3", "conv4", "fc1", "fc2")


def _check_classes(n_classes) -> None:
    if not isinstance(n_classes, int) or isinstance(n_classes, bool) or n_classes < 2:
        raise ValueError(f"Expected n_classes an integer of at least 2. Received: {n_classes!r}")


def block_layer_names(depth: str, *, suffix: str = "") -> list[str]:
    """Names of the layers of one MISLnet block (a share depth or `"output"`), in order."""
    if depth not in (*SHARE_DEPTHS, "output"):
        raise ValueError(f"Expected a share depth among {list(SHARE_DEPTHS)} or 'output'. Received: {depth!r}")
    base = f"{depth}{suffix}"
    if depth.startswith("conv"):
        return ([f"{base}_pad"] if depth == "conv1" else []) + [base, f"{base}_bn", f"{base}_tanh", f"{base}_pool"]
    if depth == "fc1":
        return [f"flatten{suffix}", base]
    return [base]


def _conv_block(depth: str, suffix: str, filters: int, kernel: int, stride: int, pad: int, pooling: str):
    names = iter(block_layer_names(depth, suffix=suffix))
    layers = [keras.layers.ZeroPadding2D(pad, name=next(names))] if stride > 1 else []
    layers += [
        keras.layers.Conv2D(filters, kernel, strides=stride, padding="valid" if stride > 1 else "same", name=next(names)),
        keras.layers.BatchNormalization(momentum=0.99, epsilon=1e-5, name=next(names)),
        keras.layers.Activation("tanh", name=next(names)),
        CeilPooling2D(3, 2, mode=pooling, name=next(names)),
    ]
    return layers


def mislnet_blocks(n_classes: int, *, suffix: str = "") -> dict[str, list[keras.layers.Layer]]:
    """Fresh layers of MISLnet, grouped by share depth, plus `"output"`.

    The groups, in order: `constr` (3 constrained 5x5 filters, stride 1, no
    padding, no bias), `conv1` (96 7x7 stride 2 pad 3, BN, tanh, max-pool 3/2),
    `conv2` (64 5x5 pad 2, BN, tanh, max-pool 3/2), `conv3` (64 5x5 pad 2, BN, tanh,
    max-pool 3/2), `conv4` (128 1x1, BN, tanh, average-pool 3/2), `fc1` (flatten,
    200 tanh), `fc2` (200 tanh), `output` (softmax). Pooling rounds up as Caffe does.
    Layer names follow `block_layer_names`. Batch normalisation keeps its moving statistics with momentum
    0.99 (the paper does not say; Caffe's usual 0.999 leaves the inference statistics near their initial
    values for the first few thousand steps, which a CPU-sized run never reaches). Even 0.99 lags weights that
    move fast: `training.train` re-estimates the statistics with the current weights before every validation and
    at the end (`batch_norm.PreciseBatchNorm`).

    Args:
        n_classes: size of the softmax.
        suffix: appended to every block name (e.g. `"_B"` for a second task's layers).
    """
    _check_classes(n_classes)
    s = suffix
    return {
        "constr": [ConstrainedConv2D(3, 5, name=f"constr{s}")],
        "conv1": _conv_block("conv1", s, 96, 7, 2, 3, "max"),
        "conv2": _conv_block("conv2", s, 64, 5, 1, 2, "max"),
        "conv3": _conv_block("conv3", s, 64, 5, 1, 2, "max"),
        "conv4": _conv_block("conv4", s, 128, 1, 1, 0, "average"),
        "fc1": [keras.layers.Flatten(name=f"flatten{s}"), keras.layers.Dense(200, activation="tanh", name=f"fc1{s}")],
        "fc2": [keras.layers.Dense(200, activation="tanh", name=f"fc2{s}")],
        "output": [keras.layers.Dense(n_classes, activation="softmax", name=f"output{s}")],
    }


def apply_layers(x, layers: list[keras.layers.Layer]):
    """Apply layers in order (a tiny sequential helper for functional models)."""
    for layer in layers:
        x = layer(x)
    return x


def block_layers(model: keras.Model, depth: str, *, suffix: str = "") -> list[keras.layers.Layer]:
    """The layer objects of one block of a MISLnet-family model, found by name."""
    try:
        return [model.get_layer(name) for name in block_layer_names(depth, suffix=suffix)]
    except ValueError:
        raise ValueError(
            f"Expected a MISLnet-family model with a {depth!r} block (suffix {suffix!r}). "
            f"Received model {model.name!r} with layers {[layer.name for layer in model.layers]}"
        ) from None


def mislnet(n_classes: int, *, input_size: int = 256, name: str = "mislnet") -> keras.Model:
    """The constrained CNN of paper 2 (Sec. 3), input a green-channel patch with raw values 0..255.

    At 256x256 the feature maps are 252, 126, 63, 31, 15 and 7 pixels wide as in the
    authors' Caffe prototxt, so `fc1` receives 7x7x128 = 6272 values. Smaller
    inputs (e.g. 64 for CPU profiles) build the same layers.

    Args:
        n_classes: 6 for manipulation detection, 20 (or 5) for camera models.
        input_size: patch side, at least 16.

    Returns:
        An uncompiled model; see `compile_mislnet`.
    """
    if not isinstance(input_size, int) or input_size < 16:
        raise ValueError(f"Expected input_size an integer of at least 16. Received: {input_size!r}")
    blocks = mislnet_blocks(n_classes)
    inputs = keras.Input((input_size, input_size, 1), name="patch")
    x = inputs
    for layers in blocks.values():
        x = apply_layers(x, layers)
    return keras.Model(inputs, x, name=name)


def compile_mislnet(model: keras.Model, *, learning_rate: float = 1e-3, momentum: float = 0.9) -> keras.Model:
    """Compile with SGD as in paper 2, Sec. 5.1 (halve the rate every 3 epochs with `training.halving_schedule`).

    Multi-output models (multitask legs) get one sparse cross-entropy per output, weight 1 each.
    """
    names = model.output_names
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum),
        loss={n: "sparse_categorical_crossentropy" for n in names} if len(names) > 1 else "sparse_categorical_crossentropy",
        metrics={n: ["accuracy"] for n in names} if len(names) > 1 else ["accuracy"],
    )
    return model

