"""Paper 2's experiments as library calls (Mayer, Bayar, Stamm 2018, Sec. 5).

    settings = UnifiedSettings(patch_size=64, epochs=30)
    a_train = patches_from_dataset(manipulation_splits["train"], patch_size=64)     # task A, one patch per block
    b_train = patches_from_dataset(camera_splits["train"], patch_size=64, patches_per_image=16, random_state=0)
    camera = train_single_task(b_train, b_test, settings)                            # Sec. 5.1
    camera.accuracy, camera.evaluation.confusion()
    run_transfer(camera, a_train, a_test, settings)              # Sec. 5.2: {share depth: accuracy}
    run_multitask({"manipulation": a_train, "camera": b_train}, test_sets, settings)  # Sec. 5.3: {depth: {task: acc}}
    hybrid = train_multitask({"manipulation": a_train, "camera": b_train}, "fc2", settings)  # cached by the above
    deep_feature_trees(hybrid, c_train, c_test).accuracy                             # Sec. 5.3.1, 5.4

Patches (`PatchSet`) hold raw green values 0..255 as the network takes them. Every
trained network and every evaluation is cached under `<cache>/unified/<key>/`, the key
hashing the bytes of the training patches and labels, the settings that matter to that
step and `UNIFIED_VERSION`: a network as `model.keras` plus `trained.npz` (its history),
its test predictions as `test-<test digest>.npz` next to it. A later notebook asking for
the same step loads instead of training; a folder whose model file is missing is a miss.

Transfer (Sec. 4.1) trains only the layers above the share depth; the frozen part's
output never changes, so by default (`precompute_features=None`) the frozen features of
the training and test patches are computed once with `predict()` (batch normalisation in
inference mode, as in the frozen layers of `transfer_model`) and only the upper blocks are
trained, as a small model on those features (`train_transfer_head`). That is done where
the features of a patch are no larger than the patch (share depth `conv2` and deeper);
at `constr` and `conv1` the features are larger than the patches and the frozen part is a
small share of the work, so the full `transfer_model` is trained there. Both paths compute
the same function with the same trainable weights, and with the same seed they draw the
same initial weights (`mislnet_blocks` creates every block in the same order) and the same
batches, so they train to the same weights up to float rounding (tested); each path still
has its own cache entry. A sweep computes the features of all its depths in one forward
pass (a network with an output per depth, `feature_extractor(model, [...])`), which gives
the same values bit for bit as a pass per depth (tested).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import keras
import numpy as np

from . import cache, training
from .datasets import ImageDataset
from .errors import ImageReadError
from .models import (
    SHARE_DEPTHS,
    apply_layers,
    block_layer_names,
    block_layers,
    compile_mislnet,
    mislnet,
    mislnet_blocks,
)
from .multitask import multitask_model, paired_dataset
from .patchfile import ArrayFile, write_row_sets, write_rows
from .transfer import deep_features, feature_extractor, transfer_model

__all__ = [
    "UNIFIED_VERSION",
    "PatchSet",
    "patches_from_dataset",
    "UnifiedSettings",
    "Evaluation",
    "SingleTaskResult",
    "train_single_task",
    "train_transfer_head",
    "assemble_transfer_model",
    "run_transfer",
    "MultitaskNetwork",
    "train_multitask",
    "evaluate_multitask",
    "run_multitask",
    "deep_feature_trees",
    "PAPER2_TASKS",
    "paper2_patches",
]

#: Bump when what this module trains or stores changes, so cached results are recomputed.
UNIFIED_VERSION = 2
_PREDICT_BATCH = 256


# --- patches -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PatchSet:
    """Green-channel patches of a dataset's images, with their labels.

    Attributes:
        x: `(n, patch_size, patch_size, 1)` float32 raw green values 0..255 (MISLnet's input), in memory, or an
            `ArrayFile` that reads them from disk a batch at a time (`patches_from_dataset(on_disk=...)`); every
            experiment here takes either.
        y: `(n,)` int64 class of each patch's image.
        image: `(n,)` int64 index of each patch's image in the dataset's `files`.
        classes: class names; `y` indexes into them.
        devices: `(n,)` int64 device id of each patch's image for camera sets, else None.
    """

    x: np.ndarray
    y: np.ndarray
    image: np.ndarray
    classes: tuple[str, ...]
    devices: np.ndarray | None = None

    def __post_init__(self):
        if self.x.ndim != 4 or self.x.shape[1] != self.x.shape[2] or self.x.shape[3] != 1:
            raise ValueError(f"Expected x of shape (n, size, size, 1). Received: {self.x.shape}")
        n = len(self.x)
        for name in ("y", "image") + (("devices",) if self.devices is not None else ()):
            if np.shape(getattr(self, name)) != (n,):
                shape = np.shape(getattr(self, name))
                raise ValueError(f"Expected {name} of shape ({n},), one per patch. Received: {shape}")
        if n and (self.y.min() < 0 or self.y.max() >= len(self.classes)):
            raise ValueError(f"Expected labels in 0..{len(self.classes) - 1}. Received: {self.y.min()}..{self.y.max()}")

    def __len__(self) -> int:
        return len(self.x)

    @property
    def patch_size(self) -> int:
        """Side of the square patches."""
        return int(self.x.shape[1])

    def digest(self) -> str:
        """SHA-256 of the patches' and labels' bytes, shapes and class names (the cache key of a data set)."""
        digest = hashlib.sha256(json.dumps([list(self.x.shape), list(self.classes)]).encode())
        if isinstance(self.x, ArrayFile):  # the same digest as the patches in memory, read a chunk at a time
            for chunk in self.x.chunks(1024):
                digest.update(np.ascontiguousarray(chunk, dtype=np.float32).data)
        else:
            digest.update(np.ascontiguousarray(self.x, dtype=np.float32).data)
        digest.update(np.ascontiguousarray(self.y, dtype=np.int64).data)
        return digest.hexdigest()


def _green_channel(path: Path) -> np.ndarray:
    """A file's green channel (or its only channel) as `(height, width)` uint8, decoded by Pillow."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if len(image.getbands()) == 1:
                return np.asarray(image.convert("L"))
            return np.asarray(image.convert("RGB"))[:, :, 1]
    except (UnidentifiedImageError, OSError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ImageReadError(path, f"expected an image Pillow can decode ({error})") from None


def _patch_grid(channel: np.ndarray, patch_size: int, path: Path) -> np.ndarray:
    """The non-overlapping patches of a centred grid: `(rows * cols, patch_size, patch_size)`."""
    height, width = channel.shape
    rows, cols = height // patch_size, width // patch_size
    if rows == 0 or cols == 0:
        size = f"{patch_size}x{patch_size}"
        raise ImageReadError(path, f"image of {width}x{height} pixels is smaller than one {size} patch")
    # The grid is centred, its corner moved up/left onto the 8x8 grid of the JPEG blocks.
    top = (height - rows * patch_size) // 2 // 8 * 8
    left = (width - cols * patch_size) // 2 // 8 * 8
    grid = channel[top : top + rows * patch_size, left : left + cols * patch_size]
    return grid.reshape(rows, patch_size, cols, patch_size).swapaxes(1, 2).reshape(-1, patch_size, patch_size)


def _check_positive(name: str, value) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"Expected {name} a positive integer. Received: {value!r}")


def _grid_size(path: Path, patch_size: int) -> int:
    """Patches in an image's grid, from its header alone (nothing decoded)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ImageReadError(path, f"expected an image Pillow can decode ({error})") from None
    return (height // patch_size) * (width // patch_size)


def patches_from_dataset(
    dataset: ImageDataset,
    *,
    patch_size: int = 64,
    patches_per_image: int | None = None,
    random_state: int | None = None,
    on_disk: str | Path | None = None,
) -> PatchSet:
    """Green-channel patches of every image of a dataset (paper 2, Sec. 5: only the green channel is used).

    Each image is decoded with Pillow; a colour image gives its green channel, a
    grayscale one (the manipulation set's PNG blocks) itself. The image is cut into
    non-overlapping `patch_size` patches on a grid centred in the image (its corner
    moved up and left onto the 8x8 JPEG block grid); partial patches at the borders are
    dropped. A manipulation block of `patch_size` gives exactly one patch. With
    `patches_per_image`, that many of an image's patches are chosen at random (all if it
    has fewer), as the paper chose camera patches at random.

    Args:
        dataset: e.g. a split of `build_manipulations(...)` or `build_cameras(...)`.
        patch_size: side of the square patches (paper: 256), at least 16.
        patches_per_image: patches kept per image, or None for all.
        random_state: seeds the choice of patches.
        on_disk: a `.npy` path: the patches are written there as uint8, one image at a time, and the
            returned set's `x` is an `ArrayFile` reading them back (the paper's 400,000 patches of 256x256 are
            26 GB as bytes, 105 GB as float32 in memory). The same patches as in memory, the same `digest()`.

    Returns:
        A `PatchSet`; `devices` is filled when the dataset has device ids.

    Raises:
        ImageReadError: a file Pillow cannot decode, or an image smaller than one patch.

    Example:
        >>> train = patches_from_dataset(split_by_device(cameras)["train"], patches_per_image=16)  # doctest: +SKIP
        >>> train.x.shape  # doctest: +SKIP
        (640, 64, 64, 1)
    """
    rng = np.random.default_rng(random_state)
    if not isinstance(dataset, ImageDataset):
        raise ValueError(f"Expected an ImageDataset. Received: {type(dataset).__name__}")
    if not isinstance(patch_size, (int, np.integer)) or isinstance(patch_size, bool) or patch_size < 16:
        raise ValueError(f"Expected patch_size an integer of at least 16. Received: {patch_size!r}")
    if patches_per_image is not None:
        _check_positive("patches_per_image", patches_per_image)
    patch_size, images = int(patch_size), []

    def grids():
        for index, path in enumerate(dataset.files):
            grid = _patch_grid(_green_channel(Path(path)), patch_size, Path(path))
            if patches_per_image is not None and len(grid) > patches_per_image:
                grid = grid[np.sort(rng.choice(len(grid), patches_per_image, replace=False))]
            images.append(np.full(len(grid), index, dtype=np.int64))
            yield grid[..., None]

    if on_disk is not None:
        counts = [_grid_size(Path(path), patch_size) for path in dataset.files]
        n = sum(c if patches_per_image is None else min(c, patches_per_image) for c in counts)
        x = write_rows(on_disk, grids(), n_rows=n, row_shape=(patch_size, patch_size, 1), dtype=np.uint8)
    else:
        x = np.concatenate(list(grids())) if len(dataset.files) else np.zeros((0, patch_size, patch_size, 1), np.uint8)
        x = x.astype(np.float32)
    image = np.concatenate(images) if images else np.zeros(0, np.int64)
    return PatchSet(
        x=x,
        y=dataset.labels[image].astype(np.int64),
        image=image,
        classes=tuple(dataset.classes),
        devices=None if dataset.devices is None else dataset.devices[image].astype(np.int64),
    )


# --- settings and results ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class UnifiedSettings:
    """Training settings of paper 2's experiments (Sec. 5.1-5.4); the defaults are the paper's except `patch_size`.

    Attributes:
        patch_size: side of the patches the networks take (paper: 256; 64 suits a CPU).
        epochs: training epochs, no early stopping (paper: 30).
        batch_size: patches per step for single-task training, and per task per step for
            multitask training (paper: 40).
        learning_rate: SGD base rate for single-task and multitask training (paper: 0.001).
        transfer_batch_size: patches per step when training the layers above a share depth (paper: 100).
        transfer_learning_rate: SGD base rate of transfer training (paper: 0.005).
        halving_every: the rate is halved every this many epochs (paper: 3).
        seed: seeds weight initialisation, batch order and the trees.
    """

    patch_size: int = 64
    epochs: int = 30
    batch_size: int = 40
    learning_rate: float = 1e-3
    transfer_batch_size: int = 100
    transfer_learning_rate: float = 0.005
    halving_every: int = 3
    seed: int = 0

    def __post_init__(self):
        for name in ("epochs", "batch_size", "transfer_batch_size", "halving_every"):
            _check_positive(name, getattr(self, name))
        if not isinstance(self.patch_size, int) or isinstance(self.patch_size, bool) or self.patch_size < 16:
            raise ValueError(f"Expected patch_size an integer of at least 16. Received: {self.patch_size!r}")
        for name in ("learning_rate", "transfer_learning_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"Expected {name} a positive number. Received: {value!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"Expected seed a non-negative integer. Received: {self.seed!r}")

    def _training(self, *, transfer: bool = False) -> dict:
        """The values one training run depends on (the part of the settings in its cache key)."""
        return {
            "epochs": self.epochs,
            "batch_size": self.transfer_batch_size if transfer else self.batch_size,
            "learning_rate": float(self.transfer_learning_rate if transfer else self.learning_rate),
            "halving_every": self.halving_every,
            "seed": self.seed,
        }


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """A classifier's output on a test set.

    Attributes:
        classes: class names.
        labels: `(n,)` int64 true classes.
        probabilities: `(n, K)` float32 class scores (softmax, or the trees' vote fractions).
    """

    classes: tuple[str, ...]
    labels: np.ndarray
    probabilities: np.ndarray

    @property
    def predictions(self) -> np.ndarray:
        """`(n,)` int64 predicted classes."""
        return self.probabilities.argmax(axis=1).astype(np.int64)

    @property
    def accuracy(self) -> float:
        """Fraction of test patches classified correctly (Fig. 3, Tables 2-3)."""
        from .evaluate import accuracy

        return accuracy(self.labels, self.predictions)

    def confusion(self) -> np.ndarray:
        """`(K, K)` confusion matrix, rows (true classes) in percent."""
        from .evaluate import confusion_matrix_percent

        return confusion_matrix_percent(self.labels, self.predictions, len(self.classes))


@dataclasses.dataclass
class SingleTaskResult:
    """A single-task MISLnet (Sec. 5.1) and its test evaluation.

    Attributes:
        classes: the task's classes.
        model: the trained network (loaded from `model_path` when it came from the cache).
        model_path: its `.keras` file.
        history: per-epoch `loss` and `accuracy`.
        evaluation: on the test patches.
        from_cache: True when nothing was trained.
    """

    classes: tuple[str, ...]
    model: keras.Model
    model_path: Path
    history: dict[str, list[float]]
    evaluation: Evaluation
    from_cache: bool

    @property
    def accuracy(self) -> float:
        """Test accuracy."""
        return self.evaluation.accuracy


@dataclasses.dataclass
class MultitaskNetwork:
    """A hybrid network (Sec. 4.2): legs tied up to `share_depth`, one per task.

    Attributes:
        tasks: task name -> its classes, in the order of the network's inputs.
        share_depth: the deepest shared block.
        model: the trained network (inputs `patch_<task>`, outputs `output_<task>`).
        model_path: its `.keras` file.
        history: per-epoch losses and accuracies of every leg.
        from_cache: True when nothing was trained.
    """

    tasks: dict[str, tuple[str, ...]]
    share_depth: str
    model: keras.Model
    model_path: Path
    history: dict[str, list[float]]
    from_cache: bool


# --- cache helpers -----------------------------------------------------------------------------


def _folder(cache_dir, kind: str, *parts) -> Path:
    from .paths import cache_dir as default_cache_dir

    key = cache.cache_key("unified", kind, UNIFIED_VERSION, *parts)
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir() / "unified"
    return root / key[:24]


def _weights_digest(model: keras.Model) -> str:
    """SHA-256 of every weight of a model (trainable or not), in order: the identity of a trained network."""
    digest = hashlib.sha256()
    for weight in model.weights:
        value = np.ascontiguousarray(keras.ops.convert_to_numpy(weight))
        digest.update(f"{value.dtype}{value.shape}".encode())
        digest.update(value.data)
    return digest.hexdigest()


def _load_trained(folder: Path) -> tuple[keras.Model, dict] | None:
    """A cached network and its metadata, or None (missing model file, damaged entry)."""
    arrays = cache.load_arrays(folder / "trained.npz")
    if arrays is None or not (folder / "model.keras").is_file():
        return None
    try:
        model = keras.models.load_model(folder / "model.keras")
    except Exception:  # a damaged file is a miss, trained again
        return None
    return model, json.loads(str(arrays["meta"]))


def _store_trained(folder: Path, model: keras.Model, meta: dict) -> None:
    cache.save_model(model, folder / "model.keras")
    cache.save_arrays(folder / "trained.npz", meta=np.array(json.dumps(meta)))


def _cached_arrays(path: Path) -> dict | None:
    """The labels and probabilities of an evaluation stored at `path`, or None."""
    arrays = cache.load_arrays(path)
    return arrays if arrays is not None and "labels" in arrays and "probabilities" in arrays else None


def _cached_evaluation(path: Path, classes: tuple[str, ...], compute) -> Evaluation:
    """Load the evaluation stored at `path`, or get `(labels, (n, K) probabilities)` from `compute()` and store it."""
    arrays = _cached_arrays(path)
    if arrays is not None:
        return Evaluation(classes, arrays["labels"], arrays["probabilities"])
    labels, probabilities = compute()
    evaluation = Evaluation(classes, np.asarray(labels, np.int64), np.asarray(probabilities, np.float32))
    cache.save_arrays(path, labels=evaluation.labels, probabilities=evaluation.probabilities)
    return evaluation


def _predict(model: keras.Model, x) -> np.ndarray:
    return training.predict(model, x, batch_size=_PREDICT_BATCH)


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


# --- argument checks ---------------------------------------------------------------------------


def _check_patches(name: str, patches, patch_size: int, source: str = "settings.patch_size") -> None:
    if not isinstance(patches, PatchSet):
        raise ValueError(f"Expected {name} a PatchSet (see patches_from_dataset). Received: {type(patches).__name__}")
    if patches.patch_size != patch_size:
        raise ValueError(
            f"Expected {name} of {patch_size}x{patch_size} patches ({source}). "
            f"Received: {patches.patch_size}x{patches.patch_size}"
        )
    if len(patches) == 0:
        raise ValueError(f"Expected {name} with at least one patch. Received: 0 patches")


def _check_pair(
    train_set: PatchSet, test_set: PatchSet, patch_size: int, task: str = "", source: str = "settings.patch_size"
) -> None:
    _check_patches(f"train_set{task}", train_set, patch_size, source)
    _check_patches(f"test_set{task}", test_set, patch_size, source)
    if train_set.classes != test_set.classes:
        raise ValueError(
            f"Expected the same classes in training and test patches{task}. "
            f"Received: {list(train_set.classes)} and {list(test_set.classes)}"
        )


def _check_settings(settings) -> None:
    if not isinstance(settings, UnifiedSettings):
        raise ValueError(f"Expected settings a UnifiedSettings. Received: {type(settings).__name__}")


def _check_depths(share_depths: Sequence[str]) -> tuple[str, ...]:
    depths = tuple(share_depths) if not isinstance(share_depths, str) else (share_depths,)
    unknown = [d for d in depths if d not in SHARE_DEPTHS]
    if not depths or unknown or len(set(depths)) != len(depths):
        raise ValueError(f"Expected distinct share depths among {list(SHARE_DEPTHS)}. Received: {list(depths)}")
    return depths


def _as_model(network) -> keras.Model:
    if isinstance(network, keras.Model):
        return network
    if isinstance(network, (SingleTaskResult, MultitaskNetwork)):
        return network.model
    kind = type(network).__name__
    raise ValueError(f"Expected a keras.Model, SingleTaskResult or MultitaskNetwork. Received: {kind}")


def _schedule(settings: UnifiedSettings, *, transfer: bool = False):
    rate = settings.transfer_learning_rate if transfer else settings.learning_rate
    return training.halving_schedule(rate, every_epochs=settings.halving_every)


# --- single task (Sec. 5.1) --------------------------------------------------------------------


def train_single_task(
    train_set: PatchSet,
    test_set: PatchSet,
    settings: UnifiedSettings = UnifiedSettings(),
    *,
    cache_dir: str | Path | None = None,
    verbose: int | str = 2,
) -> SingleTaskResult:
    """Train MISLnet on one task and evaluate it on test patches (paper 2, Sec. 5.1); cached.

    SGD with momentum 0.9 at `settings.learning_rate`, halved every `settings.halving_every`
    epochs, `settings.batch_size` patches per step, `settings.epochs` epochs, no early
    stopping. The network is cached under `<cache>/unified/<key>/model.keras`, the key hashing
    the training patches and labels, the training settings and `UNIFIED_VERSION`; the test
    predictions are cached next to it, per test set.

    Args:
        train_set: training patches (`patches_from_dataset`).
        test_set: test patches of the same classes.
        settings: see `UnifiedSettings`.
        cache_dir: folder for the results (default `<cache>/unified/`).
        verbose: Keras training verbosity.

    Returns:
        A `SingleTaskResult` (network, history, test evaluation).

    Example:
        >>> camera = train_single_task(b_train, b_test, UnifiedSettings(epochs=30))  # doctest: +SKIP
        >>> camera.accuracy, camera.evaluation.confusion()  # doctest: +SKIP
    """
    _check_settings(settings)
    _check_pair(train_set, test_set, settings.patch_size)
    folder = _folder(cache_dir, "single", train_set.digest(), settings._training())
    loaded = _load_trained(folder)
    if loaded is not None:
        model, meta = loaded
        history, from_cache = meta["history"], True
    else:
        n_classes, size = len(train_set.classes), settings.patch_size
        result = training.train(
            lambda: compile_mislnet(mislnet(n_classes, input_size=size), learning_rate=settings.learning_rate),
            train_set.x, train_set.y, epochs=settings.epochs, batch_size=settings.batch_size,
            callbacks=[_schedule(settings)], seed=settings.seed, verbose=verbose, backup_dir=training.checkpoint_dir(folder),
        )  # fmt: skip
        model, history, from_cache = result.model, result.history, False
        _store_trained(folder, model, {"history": history, "classes": list(train_set.classes)})
    evaluation = _cached_evaluation(
        folder / f"test-{test_set.digest()[:24]}.npz", train_set.classes,
        lambda: (test_set.y, _predict(model, test_set.x)),
    )  # fmt: skip
    return SingleTaskResult(train_set.classes, model, folder / "model.keras", history, evaluation, from_cache)


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
    verbose: int | str = 2,
) -> training.TrainResult:
    """Transfer training on precomputed frozen features: train only the blocks above the share depth (Sec. 4.1).

    The source network up to and including `share_depth` (the deep feature extractor
    f_A) is run once over the training patches with `predict()`, so its batch
    normalisation is in inference mode, as in the frozen layers of `transfer_model`; the
    new blocks above it (`mislnet_blocks`, same names as in `transfer_model`) are trained
    as a small model on those features with SGD at `settings.transfer_learning_rate`,
    halved every `settings.halving_every` epochs, `settings.transfer_batch_size` per step.
    `assemble_transfer_model` puts the trained head on top of the source's frozen blocks.

    Args:
        source: the trained source network (a `keras.Model` or `SingleTaskResult`).
        share_depth: one of `SHARE_DEPTHS`.
        train_set: the target task's training patches.
        settings: see `UnifiedSettings`.
        features: the frozen features of `train_set` (an array or an `ArrayFile`), if already computed.
        verbose: Keras training verbosity.

    Returns:
        The trained head (input: the features at `share_depth`) and its history.
    """
    _check_settings(settings)
    _check_depths((share_depth,))
    _check_patches("train_set", train_set, settings.patch_size)
    model = _as_model(source)
    if features is None:
        features = _predict(feature_extractor(model, share_depth), train_set.x)
    n_classes = len(train_set.classes)
    return training.train(
        lambda: compile_mislnet(_head(model, share_depth, n_classes), learning_rate=settings.transfer_learning_rate),
        features, train_set.y, epochs=settings.epochs, batch_size=settings.transfer_batch_size,
        callbacks=[_schedule(settings, transfer=True)], seed=settings.seed, verbose=verbose,
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


def run_transfer(
    source,
    train_set: PatchSet,
    test_set: PatchSet,
    settings: UnifiedSettings = UnifiedSettings(),
    *,
    share_depths: Sequence[str] = SHARE_DEPTHS,
    precompute_features: bool | None = None,
    cache_dir: str | Path | None = None,
    verbose: int | str = 2,
) -> dict[str, float]:
    """Transfer a trained network to another task at every share depth; test accuracy per depth (Sec. 5.2, Fig. 3).

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
        verbose: Keras training verbosity.

    Returns:
        `{share depth: test accuracy}` in the order of `share_depths`.

    Example:
        >>> run_transfer(camera, a_train, a_test, settings)  # doctest: +SKIP
        {'constr': 0.99, 'conv1': 0.98, ..., 'fc2': 0.93}
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
        folder = _folder(cache_dir, "transfer", source_key, train_key, test_key, depth, use_features,
                         settings._training(transfer=True))  # fmt: skip
        plans[depth] = (use_features, folder)
    # one forward pass gives the frozen features of every depth still to train, over the training and the test set
    pending = [d for d, (use, folder) in plans.items() if use and _cached_arrays(folder / "evaluation.npz") is None]
    feature_files = [plans[d][1] / f"features-{split}.npy" for split in ("train", "test") for d in pending]
    try:
        if pending:
            train_files, test_files = feature_files[: len(pending)], feature_files[len(pending) :]
            train_features = dict(zip(pending, _frozen_features(model, pending, train_set.x, train_files)))
            test_features = dict(zip(pending, _frozen_features(model, pending, test_set.x, test_files)))
        accuracies = {}
        for depth, (use_features, folder) in plans.items():

            def compute(depth=depth, use_features=use_features, folder=folder):
                if use_features:
                    features = train_features.pop(depth)
                    head = train_transfer_head(model, depth, train_set, settings, verbose=verbose, features=features)
                    probabilities = _predict(head.model, test_features.pop(depth))
                    for name in ("features-train.npy", "features-test.npy"):  # only for this depth's training
                        (folder / name).unlink(missing_ok=True)
                    return test_set.y, probabilities
                result = training.train(
                    lambda: compile_mislnet(transfer_model(model, depth, n_classes),
                                            learning_rate=settings.transfer_learning_rate),
                    train_set.x, train_set.y, epochs=settings.epochs, batch_size=settings.transfer_batch_size,
                    callbacks=[_schedule(settings, transfer=True)], seed=settings.seed, verbose=verbose,
                    backup_dir=training.checkpoint_dir(folder),
                )  # fmt: skip
                return test_set.y, _predict(result.model, test_set.x)

            accuracies[depth] = _cached_evaluation(folder / "evaluation.npz", train_set.classes, compute).accuracy
    finally:  # a streamed set's feature files live only for the sweep
        for path in feature_files:
            path.unlink(missing_ok=True)
    return accuracies


# --- multitask (Sec. 4.2, 5.3) -----------------------------------------------------------------


def _check_tasks(name: str, sets) -> None:
    if not isinstance(sets, Mapping) or len(sets) < 2:
        raise ValueError(f"Expected {name} a mapping of at least two task names to PatchSets. Received: {sets!r:.200}")
    bad = [t for t in sets if not (isinstance(t, str) and t.isidentifier())]
    if bad:
        raise ValueError(f"Expected task names that are identifiers (they name layers). Received: {bad}")


def train_multitask(
    train_sets: Mapping[str, PatchSet],
    share_depth: str,
    settings: UnifiedSettings = UnifiedSettings(),
    *,
    cache_dir: str | Path | None = None,
    verbose: int | str = 2,
) -> MultitaskNetwork:
    """Train a hybrid network whose task legs are tied up to `share_depth` (paper 2, Sec. 4.2 and 5.3); cached.

    One step takes `settings.batch_size` patches of every task (`paired_dataset`) and
    applies one SGD update of the summed task losses; an epoch is
    `ceil(largest task's patches / batch_size)` steps; rate and halving as in Sec. 5.1.
    The network is cached under `<cache>/unified/<key>/model.keras`, the key hashing every
    task's name, patches and labels, the depth, the settings and `UNIFIED_VERSION`.

    Args:
        train_sets: task name (an identifier, e.g. `"manipulation"`) -> its training patches,
            in the order the legs are built.
        share_depth: one of `SHARE_DEPTHS`; `"fc2"` gives the paper's hybrid feature extractor.
        settings: see `UnifiedSettings`.
        cache_dir: folder for the results (default `<cache>/unified/`).
        verbose: Keras training verbosity.

    Returns:
        A `MultitaskNetwork`.

    Example:
        >>> hybrid = train_multitask({"manipulation": a_train, "camera": b_train}, "fc2")  # doctest: +SKIP
    """
    _check_settings(settings)
    _check_depths((share_depth,))
    _check_tasks("train_sets", train_sets)
    for task, patches in train_sets.items():
        _check_patches(f"train_sets[{task!r}]", patches, settings.patch_size)
    tasks = {task: patches.classes for task, patches in train_sets.items()}
    digests = [[task, patches.digest()] for task, patches in train_sets.items()]
    folder = _folder(cache_dir, "multitask", digests, share_depth, settings._training())
    loaded = _load_trained(folder)
    if loaded is not None:
        model, meta = loaded
        return MultitaskNetwork(tasks, share_depth, model, folder / "model.keras", meta["history"], True)
    sizes = {task: len(classes) for task, classes in tasks.items()}
    dataset, steps = paired_dataset(
        {task: p.x for task, p in train_sets.items()}, {task: p.y for task, p in train_sets.items()},
        batch_size=settings.batch_size, random_state=settings.seed,
    )  # fmt: skip
    result = training.train(
        lambda: compile_mislnet(multitask_model(sizes, share_depth, input_size=settings.patch_size),
                                learning_rate=settings.learning_rate),
        dataset, epochs=settings.epochs, steps_per_epoch=steps, callbacks=[_schedule(settings)],
        seed=settings.seed, verbose=verbose, backup_dir=training.checkpoint_dir(folder),
    )  # fmt: skip
    _store_trained(folder, result.model, {"history": result.history, "tasks": {t: list(c) for t, c in tasks.items()}})
    return MultitaskNetwork(tasks, share_depth, result.model, folder / "model.keras", result.history, False)


def evaluate_multitask(network: MultitaskNetwork, test_sets: Mapping[str, PatchSet]) -> dict[str, Evaluation]:
    """Each task's leg on its test patches (`feature_extractor(model, "output", task=...)`); cached with the network.

    Args:
        network: from `train_multitask`.
        test_sets: task name -> test patches, for some or all of the network's tasks.

    Returns:
        `{task: Evaluation}` in the order of `test_sets`.
    """
    if not isinstance(network, MultitaskNetwork):
        raise ValueError(f"Expected a MultitaskNetwork (see train_multitask). Received: {type(network).__name__}")
    unknown = [task for task in test_sets if task not in network.tasks]
    if unknown:
        raise ValueError(f"Expected test sets of the network's tasks {list(network.tasks)}. Received: {unknown}")
    evaluations = {}
    for task, patches in test_sets.items():
        if patches.classes != network.tasks[task]:
            raise ValueError(
                f"Expected test_sets[{task!r}] of classes {list(network.tasks[task])}. "
                f"Received: {list(patches.classes)}"
            )
        path = network.model_path.parent / f"test-{task}-{patches.digest()[:24]}.npz"

        def compute(task=task, patches=patches):
            return patches.y, _predict(feature_extractor(network.model, "output", task=task), patches.x)

        evaluations[task] = _cached_evaluation(path, patches.classes, compute)
    return evaluations


def run_multitask(
    train_sets: Mapping[str, PatchSet],
    test_sets: Mapping[str, PatchSet],
    settings: UnifiedSettings = UnifiedSettings(),
    *,
    share_depths: Sequence[str] = SHARE_DEPTHS,
    cache_dir: str | Path | None = None,
    verbose: int | str = 2,
) -> dict[str, dict[str, float]]:
    """Multitask learning at every share depth: each task's test accuracy (paper 2, Sec. 5.3, Fig. 3 dashed).

    Args:
        train_sets, test_sets: task name -> patches; the same task names in both.
        settings: see `UnifiedSettings`.
        share_depths: the depths to try.
        cache_dir: folder for the results (default `<cache>/unified/`); each depth's network
            is cached, so `train_multitask(train_sets, "fc2", settings)` afterwards loads it.
        verbose: Keras training verbosity.

    Returns:
        `{share depth: {task: test accuracy}}`.
    """
    _check_settings(settings)
    depths = _check_depths(share_depths)
    _check_tasks("train_sets", train_sets)
    if list(test_sets) != list(train_sets):
        raise ValueError(f"Expected test_sets for the tasks {list(train_sets)}, in order. Received: {list(test_sets)}")
    for task in train_sets:
        _check_pair(train_sets[task], test_sets[task], settings.patch_size, f" of task {task!r}")
    accuracies = {}
    for depth in depths:
        network = train_multitask(train_sets, depth, settings, cache_dir=cache_dir, verbose=verbose)
        accuracies[depth] = {task: e.accuracy for task, e in evaluate_multitask(network, test_sets).items()}
    return accuracies


# --- extremely randomized trees on deep features (Sec. 5.3.1, 5.4) -----------------------------


def deep_feature_trees(
    network,
    train_set: PatchSet,
    test_set: PatchSet,
    *,
    task: str | None = None,
    depth: str = "fc2",
    n_estimators: int = 800,
    min_samples_split: int = 3,
    random_state: int = 0,
    n_jobs: int | None = -1,
    cache_dir: str | Path | None = None,
) -> Evaluation:
    """Extremely randomized trees on a network's deep features (paper 2, Sec. 5.3.1, Tables 2-3); cached.

    The `depth` responses (paper: `fc2`, 200 values) of the training and test patches
    (`deep_features`) train and test an `extra_trees` classifier (paper: 800 trees, at
    least 3 samples to split a node). The network may come from another task than the
    patches (Sec. 5.4: camera set C on features of networks A, B, A+B, A+B+C).

    Args:
        network: a `keras.Model`, `SingleTaskResult` or `MultitaskNetwork`.
        train_set, test_set: patches of the task the trees learn (same classes).
        task: for a multitask network, which leg gives the features (needed only where
            `depth` is above the share depth; at or below it every leg gives the same).
        depth: the block whose output is the feature.
        n_estimators: trees (fewer for small profiles).
        min_samples_split: as in scikit-learn.
        random_state: seeds the trees.
        n_jobs: processes for the trees (-1: all cores); results do not depend on it.
        cache_dir: folder for the results (default `<cache>/unified/`).

    Returns:
        An `Evaluation` (probabilities are the trees' vote fractions); `.accuracy`.

    Example:
        >>> deep_feature_trees(hybrid, c_train, c_test, task="camera").accuracy  # doctest: +SKIP
    """
    from .evaluate import extra_trees

    model = _as_model(network)
    if depth not in (*SHARE_DEPTHS, "output"):
        raise ValueError(f"Expected depth among {list(SHARE_DEPTHS)} or 'output'. Received: {depth!r}")
    legs = [i.name.removeprefix("patch_") for i in model.inputs if i.name.startswith("patch_")]
    if len(model.inputs) > 1 and task is None:
        if depth == "output" or block_layer_names(depth)[-1] not in {layer.name for layer in model.layers}:
            raise ValueError(f"Expected task among {legs}: {depth!r} is not shared. Received: None")
        task = legs[0]  # a shared block: every leg gives the same features
    _check_positive("n_estimators", n_estimators)
    if not isinstance(min_samples_split, int) or isinstance(min_samples_split, bool) or min_samples_split < 2:
        raise ValueError(f"Expected min_samples_split an integer of at least 2. Received: {min_samples_split!r}")
    if not isinstance(random_state, int) or isinstance(random_state, bool) or random_state < 0:
        raise ValueError(f"Expected random_state a non-negative integer. Received: {random_state!r}")
    _check_pair(train_set, test_set, int(model.inputs[0].shape[1]), source="the network's input")
    folder = _folder(cache_dir, "trees", _weights_digest(model), task, depth, train_set.digest(), test_set.digest(),
                     n_estimators, min_samples_split, random_state)  # fmt: skip

    def compute():
        x_train = deep_features(model, train_set.x, depth=depth, task=task)
        x_test = deep_features(model, test_set.x, depth=depth, task=task)
        trees = extra_trees(n_estimators, min_samples_split=min_samples_split, random_state=random_state,
                            n_jobs=n_jobs).fit(x_train, train_set.y)  # fmt: skip
        probabilities = np.zeros((len(test_set), len(train_set.classes)), np.float32)
        probabilities[:, trees.classes_] = trees.predict_proba(x_test)
        return test_set.y, probabilities

    return _cached_evaluation(folder / "evaluation.npz", train_set.classes, compute)


#: Paper 2's tasks: manipulation detection (A), 20 camera models (B), 5 other camera models with less data (C).
PAPER2_TASKS = ("manipulation", "camera", "camera_limited")


def paper2_patches(
    task: str,
    *,
    size: int,
    patch_size: int = 64,
    blocks_per_image: int = 4,
    image_side: int = 256,
    patches_per_image: int | None = None,
    data_dir: str | Path | None = None,
    random_state: int = 0,
    n_jobs: int = 1,
    progress: bool = True,
    on_disk: bool | str | Path = False,
) -> tuple[PatchSet, PatchSet]:
    """Training and test patches of one of paper 2's tasks (Sec. 5), simulated unless `data_dir` is given.

    - `"manipulation"`: `size` camera images, `blocks_per_image` central green blocks of `patch_size` each, in
      the six versions; 80% of the images train, 20% test (blocks of one image never in both).
    - `"camera"` (task B, 20 models) and `"camera_limited"` (task C, 5 other models): `size` images per device,
      two devices per model (or the real Dresden folder `data_dir`); one device per model is held out for testing.

    `on_disk` (True: `<cache>/patches/`, or a folder) writes the patches there as `.npy` files and returns sets
    that stream them (`patches_from_dataset(on_disk=...)`), as the paper profile does; the files are named by
    everything they depend on (task, split, sizes, seed, and every image's path, size and modification time) and
    reused when present.

    Returns:
        `(train, test)` PatchSets.
    """
    from .builders import build_cameras, build_manipulations
    from .datasets import split_by_device, split_by_group

    if task not in PAPER2_TASKS:
        raise ValueError(f"Expected a task among {list(PAPER2_TASKS)}. Received: {task!r}")
    if task == "manipulation":
        dataset = build_manipulations(size, block_size=patch_size, blocks_per_image=blocks_per_image,
                                      random_state=random_state, n_jobs=n_jobs, progress=progress)  # fmt: skip
        parts = split_by_group(dataset, (0.8, 0.0, 0.2), random_state=random_state)
        parts = {"train": parts["train"], "test": parts["test"]}
    else:
        if data_dir:
            from .loaders import load_dresden

            dataset = load_dresden(data_dir)
        else:
            dataset = build_cameras("B" if task == "camera" else "C", size, size=(image_side, image_side),
                                    random_state=random_state, n_jobs=n_jobs, progress=progress)  # fmt: skip
        parts = split_by_device(dataset, random_state=random_state)
    folder = None
    if on_disk is not None and on_disk is not False:
        from .paths import cache_dir

        folder = cache_dir() / "patches" if on_disk is True else Path(on_disk)
    return tuple(
        _task_patches(parts[name], folder, f"{task}-{name}", patch_size=patch_size,
                      patches_per_image=patches_per_image, random_state=random_state + offset)  # fmt: skip
        for offset, name in enumerate(("train", "test"))
    )


def _task_patches(split: ImageDataset, folder: Path | None, name: str, **options) -> PatchSet:
    """`patches_from_dataset(split, **options)`, in memory, or on disk in `folder` (reused when already there)."""
    if folder is None:
        return patches_from_dataset(split, **options)
    files = [[str(f), stat.st_size, stat.st_mtime_ns] for f in split.files for stat in [Path(f).stat()]]
    key = cache.cache_key("patches", UNIFIED_VERSION, name, options, files, split.labels.tolist(), list(split.classes))
    path = folder / f"{name}-{key[:16]}.npy"
    arrays = cache.load_arrays(path.with_suffix(".npz"))
    if arrays is None or not path.is_file():
        patches = patches_from_dataset(split, on_disk=path, **options)
        devices = {} if patches.devices is None else {"devices": patches.devices}
        cache.save_arrays(path.with_suffix(".npz"), y=patches.y, image=patches.image, **devices)
        return patches
    return PatchSet(x=ArrayFile(path), y=arrays["y"], image=arrays["image"], classes=tuple(split.classes),
                    devices=arrays.get("devices"))  # fmt: skip
