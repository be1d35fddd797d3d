"""Transfer learning by share depth and deep-feature extraction (paper 2, Sec. 2 and 4.1).

A network trained for task A is frozen up to and including a share depth; new
layers above it are trained for task B. The frozen layers act as the deep
feature extractor f_A; batch-normalisation layers in them run in inference mode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from .. import training
from ..data.patchfile import ArrayFile, write_row_sets
from ..training import predict
from .common import (
    _PREDICT_BATCH,
    UnifiedSettings,
    Evaluation,
    _as_model,
    _cached_arrays,
    _cached_evaluation,
    _callbacks,
    _check_depths,
    _check_pair,
    _check_patches,
    _check_settings,
    _folder,
    _predict,
    _rows,
    _validation_rows,
    _weights_digest,
)
from .mislnet import (
    SHARE_DEPTHS,
    apply_layers,
    block_layer_names,
    block_layers,
    compile_mislnet,
    mislnet,
    mislnet_blocks,
)
from .patches import PatchSet

__all__ = ["transfer_model", "feature_extractor", "deep_features", "train_transfer_head", "assemble_transfer_model",
           "transfer_sweep", "run_transfer"]


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


def _frozen_features(model: keras.Model, depths: Sequence[str], x, paths: Sequence[Path]) -> list:
    """The frozen features at each of `depths` for every row of `x`, from one forward pass (bit-identical to a
    pass per depth): in memory for an array; for an `ArrayFile`, written to the `.npy` files `paths` (float32,
    one per depth, a batch at a time)."""
    extractor = feature_extractor(model, list(depths))

    def listed(outputs):  # Keras gives a one-output model's output alone
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]

    if not isinstance(x, ArrayFile):
        return listed(_predict(extractor, x))
    shapes = [tuple(int(s) for s in output.shape[1:]) for output in extractor.outputs]
    chunks = ([keras.ops.convert_to_numpy(out) for out in listed(extractor.predict_on_batch(chunk))]
              for chunk in x.chunks(_PREDICT_BATCH))  # fmt: skip
    return write_row_sets(paths, chunks, n_rows=len(x), row_shapes=shapes, dtype=np.float32)




# --- transfer (Sec. 4.1, 5.2) ------------------------------------------------------------------


def _head(source: keras.Model, share_depth: str, n_classes: int) -> keras.Model:
    """Fresh MISLnet blocks above `share_depth`, taking the frozen part's output as input."""
    shape = tuple(feature_extractor(source, share_depth).output.shape[1:])
    blocks = mislnet_blocks(n_classes)
    inputs = keras.Input(shape, name=f"{share_depth}_features")
    x = inputs
    for depth in (*SHARE_DEPTHS[SHARE_DEPTHS.index(share_depth) + 1 :], "output"):
        x = apply_layers(x, blocks[depth])
    return keras.Model(inputs, x, name=f"head_above_{share_depth}")


def train_transfer_head(
    source,
    share_depth: str,
    train_set: PatchSet,
    settings: UnifiedSettings = UnifiedSettings(),
    *,
    features=None,
    verbose: int | str = 0,
) -> training.TrainResult:
    """Transfer training on precomputed frozen features: train only the blocks above the share depth (Sec. 4.1).

    The source network up to and including `share_depth` (the deep feature extractor
    f_A) is run once over the training patches with `predict()`, so its batch
    normalisation is in inference mode, as in the frozen layers of `transfer_model`; the
    new blocks above it (`mislnet_blocks`, same names as in `transfer_model`) are trained
    as a small model on those features with SGD at `settings.transfer_learning_rate`,
    halved every `settings.halving_every` epochs, `settings.head_batch_size` per step, for at most
    `settings.head_epochs` epochs (`UnifiedSettings.for_heads`: by default `transfer_batch_size` and `epochs`),
    with early stopping on the features of held-out training images (the same
    `validation_split` as single-task training). `assemble_transfer_model` puts the trained head on top of the
    source's frozen blocks.

    Args:
        source: the trained source network (a `keras.Model` or `SingleTaskResult`).
        share_depth: one of `SHARE_DEPTHS`.
        train_set: the target task's training patches.
        settings: see `UnifiedSettings`.
        features: the frozen features of `train_set` (an array or an `ArrayFile`), if already computed.
        verbose: Keras training verbosity (0, the default: no per-epoch log; the history is returned to plot).

    Returns:
        The trained head (input: the features at `share_depth`) and its history.
    """
    _check_settings(settings)
    _check_depths((share_depth,))
    _check_patches("train_set", train_set, settings.patch_size)
    settings = settings.for_heads()
    model = _as_model(source)
    if features is None:
        features = _predict(feature_extractor(model, share_depth), train_set.x)
    n_classes = len(train_set.classes)
    fit, validation = _validation_rows(settings, train_set)
    return training.train(
        lambda: compile_mislnet(_head(model, share_depth, n_classes), learning_rate=settings.transfer_learning_rate),
        _rows(features, fit), train_set.y[fit], validation_data=(_rows(features, validation), train_set.y[validation]),
        epochs=settings.epochs, batch_size=settings.transfer_batch_size,
        callbacks=_callbacks(settings, transfer=True), seed=settings.seed, verbose=verbose,
    )  # fmt: skip


def assemble_transfer_model(source, share_depth: str, head: keras.Model) -> keras.Model:
    """A `transfer_model` of `source` at `share_depth` whose new blocks carry a trained head's weights.

    Args:
        source: the source network (a `keras.Model` or `SingleTaskResult`).
        share_depth: the depth the head was trained above.
        head: from `train_transfer_head(...).model`.

    Returns:
        An uncompiled MISLnet from patches to class probabilities: frozen source blocks up to
        `share_depth`, the head's weights above.
    """
    _check_depths((share_depth,))
    model = _as_model(source)
    n_classes = int(head.output.shape[-1])
    target = transfer_model(model, share_depth, n_classes)
    for depth in (*SHARE_DEPTHS[SHARE_DEPTHS.index(share_depth) + 1 :], "output"):
        for mine, theirs in zip(block_layers(target, depth), block_layers(head, depth)):
            mine.set_weights(theirs.get_weights())
    return target


def _features_are_small(model: keras.Model, share_depth: str) -> bool:
    """True when a patch's frozen features hold no more values than the patch (conv2 and deeper)."""
    extractor = feature_extractor(model, share_depth)
    return math.prod(extractor.output.shape[1:]) <= math.prod(model.inputs[0].shape[1:])


def transfer_sweep(
    source,
    train_set: PatchSet,
    test_set: PatchSet,
    settings: UnifiedSettings = UnifiedSettings(),
    *,
    share_depths: Sequence[str] = SHARE_DEPTHS,
    precompute_features: bool | None = None,
    cache_dir: str | Path | None = None,
    verbose: int | str = 0,
) -> dict[str, Evaluation]:
    """Transfer a trained network to another task at every share depth; test evaluation per depth (Sec. 5.2, Fig. 3).

    For each depth, the source's blocks up to it are frozen and new blocks above it are
    trained on the target task (`transfer_model`), with the transfer settings
    (`settings.transfer_learning_rate`, `settings.transfer_batch_size`; paper: 0.005 and
    100, halved every 3 epochs, 30 epochs). Each depth's test predictions are cached,
    keyed by the source's weights, the training and test patches, the depth, the
    settings and the path taken. The frozen features of every depth not yet cached come
    from one forward pass over the training and one over the test patches, and are kept
    together until each depth's head is trained: in memory, or for streamed patches in
    `.npy` files in the depths' cache folders, deleted when the sweep ends.

    Args:
        source: the trained source network (a `keras.Model` or `SingleTaskResult`).
        train_set, test_set: the target task's patches.
        settings: see `UnifiedSettings`.
        share_depths: the depths to try, shallow to deep.
        precompute_features: True: always train a head on frozen features computed once
            (`train_transfer_head`); False: always train the full `transfer_model`; None
            (default): precompute where a patch's features are no larger than the patch.
        cache_dir: folder for the results (default `<cache>/unified/`).
        verbose: Keras training verbosity (0, the default: no per-epoch log; the history is returned to plot).

    Returns:
        `{share depth: Evaluation}` in the order of `share_depths`; each has its interval (`.estimate()`) and how
        its new layers stopped training (`.status`: plateau or cap; early stopping as in `train_single_task`).

    Example:
        >>> sweep = transfer_sweep(camera, a_train, a_test, settings)  # doctest: +SKIP
        >>> {depth: str(e.estimate()) for depth, e in sweep.items()}  # doctest: +SKIP
    """
    _check_settings(settings)
    _check_pair(train_set, test_set, settings.patch_size)
    depths = _check_depths(share_depths)
    if precompute_features not in (None, True, False):
        raise ValueError(f"Expected precompute_features True, False or None. Received: {precompute_features!r}")
    model = _as_model(source)
    if model.inputs[0].shape[1] != settings.patch_size:
        raise ValueError(
            f"Expected a source network taking {settings.patch_size}x{settings.patch_size} patches "
            f"(settings.patch_size). Received: {model.inputs[0].shape[1]}x{model.inputs[0].shape[2]}"
        )
    source_key, train_key, test_key = _weights_digest(model), train_set.digest(), test_set.digest()
    n_classes = len(train_set.classes)
    plans = {}
    for depth in depths:
        use_features = _features_are_small(model, depth) if precompute_features is None else precompute_features
        trained_with = settings.for_heads() if use_features else settings
        folder = _folder(cache_dir, "transfer", source_key, train_key, test_key, depth, use_features,
                         trained_with._training(transfer=True))  # fmt: skip
        plans[depth] = (use_features, folder, trained_with)
    # one forward pass gives the frozen features of every depth still to train, over the training and the test set
    pending = [d for d, (use, folder, _) in plans.items() if use and _cached_arrays(folder / "evaluation.npz") is None]
    feature_files = [plans[d][1] / f"features-{split}.npy" for split in ("train", "test") for d in pending]
    try:
        if pending:
            train_files, test_files = feature_files[: len(pending)], feature_files[len(pending) :]
            train_features = dict(zip(pending, _frozen_features(model, pending, train_set.x, train_files)))
            test_features = dict(zip(pending, _frozen_features(model, pending, test_set.x, test_files)))
        evaluations = {}
        fit, validation = _validation_rows(settings, train_set)
        for depth, (use_features, folder, trained_with) in plans.items():

            def compute(depth=depth, use_features=use_features, folder=folder):
                if use_features:
                    features = train_features.pop(depth)
                    head = train_transfer_head(model, depth, train_set, settings, verbose=verbose, features=features)
                    probabilities = _predict(head.model, test_features.pop(depth))
                    for name in ("features-train.npy", "features-test.npy"):  # only for this depth's training
                        (folder / name).unlink(missing_ok=True)
                    return test_set.y, probabilities, head.history
                result = training.train(
                    lambda: compile_mislnet(transfer_model(model, depth, n_classes),
                                            learning_rate=settings.transfer_learning_rate),
                    _rows(train_set.x, fit), train_set.y[fit],
                    validation_data=(_rows(train_set.x, validation), train_set.y[validation]),
                    epochs=settings.epochs, batch_size=settings.transfer_batch_size,
                    callbacks=_callbacks(settings, transfer=True), seed=settings.seed, verbose=verbose,
                    backup_dir=training.checkpoint_dir(folder),
                )  # fmt: skip
                return test_set.y, _predict(result.model, test_set.x), result.history

            evaluations[depth] = _cached_evaluation(folder / "evaluation.npz", train_set.classes, compute,
                                                    units=test_set.units, settings=trained_with)  # fmt: skip
    finally:  # a streamed set's feature files live only for the sweep
        for path in feature_files:
            path.unlink(missing_ok=True)
    return evaluations


def run_transfer(source, train_set: PatchSet, test_set: PatchSet, settings: UnifiedSettings = UnifiedSettings(),
                 **options) -> dict[str, float]:  # fmt: skip
    """`transfer_sweep`'s test accuracies only: `{share depth: accuracy}` (Sec. 5.2, Fig. 3); same arguments.

    Example:
        >>> run_transfer(camera, a_train, a_test, settings)  # doctest: +SKIP
        {'constr': 0.99, 'conv1': 0.98, ..., 'fc2': 0.93}
    """
    return {depth: e.accuracy for depth, e in transfer_sweep(source, train_set, test_set, settings, **options).items()}
