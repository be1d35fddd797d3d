"""Transfer learning by share depth and deep-feature extraction (paper 2, Sec. 2 and 4.1).

A network trained for task A is frozen up to and including a share depth; new
layers above it are trained for task B. The frozen layers act as the deep
feature extractor f_A; batch-normalisation layers in them run in inference mode.
"""

from __future__ import annotations

import keras
import numpy as np

from .models import SHARE_DEPTHS, apply_layers, block_layer_names, block_layers, mislnet
from .training import predict

__all__ = ["transfer_model", "feature_extractor", "deep_features"]


def _check_depth(depth: str) -> int:
    if depth not in SHARE_DEPTHS:
        raise ValueError(f"Expected a share depth among {list(SHARE_DEPTHS)}. Received: {depth!r}")
    return SHARE_DEPTHS.index(depth)


def transfer_model(source: keras.Model, share_depth: str, n_classes: int, *, name: str = "transfer") -> keras.Model:
    """A new MISLnet for another task whose blocks up to `share_depth` are frozen copies of `source`'s.

    The layers above the share depth, including the output, are new and randomly
    initialised. The source model is not modified.

    Args:
        source: a trained single-task MISLnet (`forensiclib.mislnet`).
        share_depth: one of `SHARE_DEPTHS`; that block and all below it are frozen.
        n_classes: classes of the target task.

    Returns:
        An uncompiled model (compile it with `compile_mislnet`, paper 2 used a base rate of 0.005).

    Example:
        >>> model = compile_mislnet(transfer_model(camera_net, "conv2", 6), learning_rate=0.005)  # doctest: +SKIP
    """
    last = _check_depth(share_depth)
    input_size = source.inputs[0].shape[1]
    target = mislnet(n_classes, input_size=input_size, name=name)
    for depth in SHARE_DEPTHS[: last + 1]:
        for mine, theirs in zip(block_layers(target, depth), block_layers(source, depth)):
            mine.set_weights(theirs.get_weights())
            mine.trainable = False
    return target


def _suffix_for(model: keras.Model, depth: str, task: str | None) -> str:
    if task is None:
        return ""
    shared = block_layer_names(depth)[-1] in {layer.name for layer in model.layers}
    return "" if shared else f"_{task}"


def feature_extractor(model: keras.Model, depth, *, task: str | None = None) -> keras.Model:
    """A model from a MISLnet-family network's input to the output of the block at `depth`.

    Works for single-task, transfer and multitask networks (for the last, name the
    `task` whose leg to follow). The returned model shares the network's layers.

    Args:
        model: the trained network.
        depth: a share depth, or `"output"` for the class probabilities; or a list of them,
            for a model with one output per depth, in the order given: one forward pass
            then gives the features at every depth.
        task: for a multitask network, which leg.

    Example:
        >>> conv4, fc2 = feature_extractor(camera_net, ["conv4", "fc2"]).predict(patches)  # doctest: +SKIP
    """
    depths = [depth] if isinstance(depth, str) else list(depth)
    if not depths:
        raise ValueError("Expected at least one depth. Received: an empty list")
    for d in depths:
        if d != "output":
            _check_depth(d)
    input_name = "patch" if task is None else f"patch_{task}"
    try:
        input_shape = model.get_layer(input_name).output.shape[1:]
    except ValueError:
        raise ValueError(
            f"Expected an input named {input_name!r}. Received a model with inputs {[i.name for i in model.inputs]}"
        ) from None
    inputs = keras.Input(input_shape, name=input_name)
    x, outputs = inputs, {}
    for block in (*SHARE_DEPTHS, "output"):
        x = apply_layers(x, block_layers(model, block, suffix=_suffix_for(model, block, task)))
        if block in depths:
            outputs[block] = x
        if len(outputs) == len(set(depths)):
            break
    if isinstance(depth, str):
        return keras.Model(inputs, outputs[depth], name=f"{model.name}_{depth}")
    return keras.Model(inputs, [outputs[d] for d in depths], name=f"{model.name}_{'_'.join(depths)}")


def deep_features(
    model: keras.Model,
    patches: np.ndarray,
    *,
    depth: str = "fc2",
    task: str | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """Deep features: the responses of the block at `depth` to `patches`, in batches (paper 2, Sec. 2).

    Args:
        model: a trained MISLnet-family network.
        patches: `(n, size, size, 1)` patches as the network was trained on (an array or an `ArrayFile`).
        depth: share depth whose output is the feature (paper 2's ERT uses `"fc2"`).
        task: for a multitask network, which leg.
        batch_size: patches per forward pass.

    Returns:
        `(n, n_features)` float32 (conv-block maps are flattened).
    """
    extractor = feature_extractor(model, depth, task=task)
    features = predict(extractor, patches, batch_size=batch_size)
    return features.reshape(len(features), -1).astype(np.float32)
