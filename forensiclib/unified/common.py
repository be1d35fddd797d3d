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
        from ..evaluate import accuracy

        return accuracy(self.labels, self.predictions)

    def confusion(self) -> np.ndarray:
        """`(K, K)` confusion matrix, rows (true classes) in percent."""
        from ..evaluate import confusion_matrix_percent

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
