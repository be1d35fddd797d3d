"""Paper 2's experiments as library calls: their settings, results and cache (Mayer, Bayar, Stamm 2018, Sec. 5).

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
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from .. import cache, training
from .mislnet import SHARE_DEPTHS
from .patches import UNIFIED_VERSION, PatchSet, _check_positive

__all__ = ["UNIFIED_VERSION", "UnifiedSettings", "Evaluation", "SingleTaskResult", "MultitaskNetwork"]

_PREDICT_BATCH = 256


# --- settings and results ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class UnifiedSettings:
    """Training settings of paper 2's experiments (Sec. 5.1-5.4); the defaults are the paper's except `patch_size`.

    Attributes:
        patch_size: side of the patches the networks take (paper: 256; 64 suits a CPU).
        epochs: the cap on training epochs (paper: 30, without early stopping); training stops earlier when the
            validation loss has not improved for `patience` epochs, and keeps the weights of its best epoch.
        patience: epochs without a lower validation loss before training stops; 0: no early stopping, every
            network trains exactly `epochs` epochs and keeps its last weights (the paper's schedule, Sec. 5.1).
        validation_fraction: share of the training images (whole images, class by class; for cameras, images
            of the training devices) held out to measure the validation loss (`validation_split`).
        batch_size: patches per step for single-task training, and per task per step for
            multitask training (paper: 40).
        learning_rate: SGD base rate for single-task and multitask training (paper: 0.001).
        transfer_batch_size: patches per step when training the layers above a share depth (paper: 100).
        transfer_learning_rate: SGD base rate of transfer training (paper: 0.005).
        halving_every: the rate is halved every this many epochs (paper: 3).
        seed: seeds weight initialisation, batch order and the trees.
        head_epochs: the epoch cap of a transfer head trained on frozen features computed once (share depths
            from conv2 up, `train_transfer_head`); None: `epochs`. Such a head's epoch costs a fraction of a
            second at 64x64, and at the paper's rate it needs many more steps than its few patches give per epoch.
        head_batch_size: patches per step of such a head; None: `transfer_batch_size`.
    """

    patch_size: int = 64
    epochs: int = 30
    patience: int = 3
    validation_fraction: float = 0.2
    batch_size: int = 40
    learning_rate: float = 1e-3
    transfer_batch_size: int = 100
    transfer_learning_rate: float = 0.005
    halving_every: int = 3
    seed: int = 0
    head_epochs: int | None = None
    head_batch_size: int | None = None

    def __post_init__(self):
        for name in ("epochs", "batch_size", "transfer_batch_size", "halving_every"):
            _check_positive(name, getattr(self, name))
        if not isinstance(self.patience, int) or isinstance(self.patience, bool) or self.patience < 0:
            raise ValueError(f"Expected patience a non-negative integer (0: no early stopping). Received: {self.patience!r}")
        for name in ("head_epochs", "head_batch_size"):
            if getattr(self, name) is not None:
                _check_positive(name, getattr(self, name))
        if not isinstance(self.patch_size, int) or isinstance(self.patch_size, bool) or self.patch_size < 16:
            raise ValueError(f"Expected patch_size an integer of at least 16. Received: {self.patch_size!r}")
        for name in ("learning_rate", "transfer_learning_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"Expected {name} a positive number. Received: {value!r}")
        fraction = self.validation_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
            raise ValueError(f"Expected validation_fraction a number between 0 and 1 (exclusive). Received: {fraction!r}")
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
            "patience": self.patience,
            "validation_fraction": float(self.validation_fraction),
        }

    def for_heads(self) -> UnifiedSettings:
        """The settings a transfer head on frozen features trains with: `head_epochs` and `head_batch_size` in place
        of `epochs` and `transfer_batch_size` where they are set (the same settings when neither is)."""
        return dataclasses.replace(self, epochs=self.head_epochs or self.epochs,
                                   transfer_batch_size=self.head_batch_size or self.transfer_batch_size,
                                   head_epochs=None, head_batch_size=None)  # fmt: skip

    def status(self, history: dict, *, n_classes: int | None = None, n_validation: int | None = None) -> training.TrainingStatus:
        """Whether a run with these settings stopped on a plateau of its validation loss or hit the epoch cap, and,
        given the classes and the held-out images, whether it learned at all (`training.training_status`).

        Knowing the patience, a run that used every epoch still plateaued when its best epoch came `patience` or
        more epochs before the end (early stopping fired at the last epoch)."""
        return training.training_status(history, self.epochs, patience=self.patience, n_classes=n_classes,
                                        n_validation=n_validation)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """A classifier's output on a test set.

    Attributes:
        classes: class names.
        labels: `(n,)` int64 true classes.
        probabilities: `(n, K)` float32 class scores (softmax, or the trees' vote fractions).
        units: `(n,)` the test patches' images (source groups, `PatchSet.units`): what intervals resample.
        status: how the network that produced it stopped training (plateau or cap); None for trees.
    """

    classes: tuple[str, ...]
    labels: np.ndarray
    probabilities: np.ndarray
    units: np.ndarray | None = None
    status: training.TrainingStatus | None = None

    @property
    def predictions(self) -> np.ndarray:
        """`(n,)` int64 predicted classes."""
        return self.probabilities.argmax(axis=1).astype(np.int64)

    @property
    def accuracy(self) -> float:
        """Fraction of test patches classified correctly (Fig. 3, Tables 2-3)."""
        from ..evaluate import accuracy

        return accuracy(self.labels, self.predictions)

    def confusion(self) -> np.ndarray:
        """`(K, K)` confusion matrix, rows (true classes) in percent."""
        from ..evaluate import confusion_matrix_percent

        return confusion_matrix_percent(self.labels, self.predictions, len(self.classes))

    def estimate(self, *, n_boot: int = 2000, random_state: int = 0):
        """The accuracy in percent as a `stats.Estimate`: n test images (and patches), a 95% interval from a
        bootstrap over whole images (`units`), since patches of one image are not independent."""
        from .. import stats

        return stats.accuracy_estimate(self.labels, self.predictions, groups=self.units, n_boot=n_boot,
                                       random_state=random_state)  # fmt: skip

    def difference(self, other: Evaluation, *, n_boot: int = 2000, random_state: int = 0):
        """This accuracy minus `other`'s on the same test patches, in points, by a paired bootstrap over images."""
        from .. import stats

        if not isinstance(other, Evaluation) or not np.array_equal(self.labels, other.labels):
            raise ValueError("Expected an Evaluation on the same test patches (same labels, same order). "
                             f"Received: {type(other).__name__}")  # fmt: skip
        return stats.paired_difference(self.labels, self.predictions, other.predictions, groups=self.units,
                                       n_boot=n_boot, random_state=random_state)  # fmt: skip

    @property
    def chance(self) -> float:
        """Chance level in percent (the share of the largest test class)."""
        from .. import stats

        return stats.chance_level(self.labels)


@dataclasses.dataclass
class SingleTaskResult:
    """A single-task MISLnet (Sec. 5.1) and its test evaluation.

    Attributes:
        classes: the task's classes.
        model: the trained network (loaded from `model_path` when it came from the cache).
        model_path: its `.keras` file.
        history: per-epoch `loss`, `accuracy`, `val_loss` and `val_accuracy`.
        evaluation: on the test patches.
        from_cache: True when nothing was trained.
        status: plateau or cap (`training.TrainingStatus`).
    """

    classes: tuple[str, ...]
    model: keras.Model
    model_path: Path
    history: dict[str, list[float]]
    evaluation: Evaluation
    from_cache: bool
    status: training.TrainingStatus | None = None

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
        history: per-epoch losses and accuracies of every leg, and the summed validation loss (`val_loss`).
        from_cache: True when nothing was trained.
        status: plateau or cap of the summed validation loss (`training.TrainingStatus`).
    """

    tasks: dict[str, tuple[str, ...]]
    share_depth: str
    model: keras.Model
    model_path: Path
    history: dict[str, list[float]]
    from_cache: bool
    status: training.TrainingStatus | None = None


# --- cache helpers -----------------------------------------------------------------------------


def _folder(cache_dir, kind: str, *parts) -> Path:
    from ..paths import cache_dir as default_cache_dir

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


def _cached_evaluation(path: Path, classes: tuple[str, ...], compute, *, units=None, settings=None,
                       status=None) -> Evaluation:  # fmt: skip
    """Load the evaluation stored at `path`, or get `(labels, (n, K) probabilities)` (or with a third item, the
    history of the network trained for it) from `compute()` and store it. `units` are the test patches' images;
    a stored history gives the status under `settings`; else `status` is that of the network evaluated."""
    arrays = _cached_arrays(path)
    if arrays is None:
        labels, probabilities, *history = compute()
        arrays = {"labels": np.asarray(labels, np.int64), "probabilities": np.asarray(probabilities, np.float32)}
        if history:
            arrays["history"] = np.array(json.dumps(history[0]))
        cache.save_arrays(path, **arrays)
    if "history" in arrays and settings is not None:
        status = settings.status(json.loads(str(arrays["history"])))
    return Evaluation(classes, arrays["labels"], arrays["probabilities"], units=units, status=status)


def _predict(model: keras.Model, x) -> np.ndarray:
    return training.predict(model, x, batch_size=_PREDICT_BATCH)



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


def _callbacks(settings: UnifiedSettings, *, transfer: bool = False) -> list:
    """The rate schedule and early stopping on the validation loss (best weights restored); the schedule alone with
    `patience=0` (a fixed number of epochs, as the paper trains)."""
    stopping = [training.early_stopping(settings.patience)] if settings.patience else []
    return [_schedule(settings, transfer=transfer), *stopping]


def _validation_split(settings: UnifiedSettings, train_set: PatchSet) -> tuple[PatchSet, PatchSet]:
    """The training patches less a held-out share of their images, and those images' patches (for early stopping)."""
    fit_rows, validation_rows = _validation_rows(settings, train_set)
    return train_set.subset(fit_rows), train_set.subset(validation_rows)


def _validation_rows(settings: UnifiedSettings, train_set: PatchSet) -> tuple[np.ndarray, np.ndarray]:
    from .patches import _validation_rows as rows

    return rows(train_set, settings.validation_fraction, settings.seed)


def _n_validation_units(settings: UnifiedSettings, train_set: PatchSet) -> int:
    """How many independent units (source images) the early-stopping validation holds out of `train_set`."""
    return len(np.unique(np.asarray(train_set.units)[_validation_rows(settings, train_set)[1]]))


def _rows(x, rows: np.ndarray):
    """Rows of an array, or a view of an `ArrayFile`'s."""
    from ..data.patchfile import ArrayFile

    return x.take(rows) if isinstance(x, ArrayFile) else x[rows]
