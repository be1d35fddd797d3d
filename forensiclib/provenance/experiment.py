"""Paper 1's experiment, end to end: which platform did an image come from (Amerini et al. 2017, Sec. IV).

    result = run_provenance(dataset, ProvenanceSettings(epochs=10), classes=("facebook", "flickr", "twitter"))
    result.patch_confusion()   # Tables I-III, VII
    result.image_confusion()   # Tables IV-VI ("Prop."), by majority vote over each test image's patches
    result.baseline_confusion()  # Tables IV-VI ("[11]"): bagged decision trees on image-level DCT histograms

Steps: split the dataset 80/10/10 by source (no source straddles splits); DCT-histogram features of every patch;
training and validation images contribute at most `max_patches_per_image` randomly chosen patches each (for CPU
budgets; None keeps all), test images all their patches; the 1-D CNN trains with AdaDelta and early stopping on
the validation loss. The baseline of Caldelli et al. 2017 is approximated by bagged decision trees on each image's
DCT histograms over all its patches (their exact feature set is not given in paper 1).

What each method sees (the same source split for both; neither sees a test image before testing):
- the 1-D CNN: up to `max_patches_per_image` random patches of each training image to learn from, and as many
  of each validation image for early stopping (the validation loss picks the epoch whose weights are kept);
- the bagged trees: each training image once, as the mean of the DCT histograms of all its patches; the
  validation images are not used (the trees have no early stopping);
- both are tested on every patch of each test image (the CNN, then a vote per image; the trees on the image's
  mean histogram).

Results and the trained model are cached, keyed by the dataset's files and the settings, so a second notebook asking for the same
experiment loads it instead of training again.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import cache
from ..data.datasets import ImageDataset, split_by_group

__all__ = [
    "ProvenanceSettings",
    "PatchData",
    "ProvenanceResult",
    "patch_data",
    "provenance_splits",
    "run_provenance",
    "PAPER1_DATASETS",
    "paper1_dataset",
]

PROVENANCE_VERSION = 1


@dataclasses.dataclass(frozen=True)
class ProvenanceSettings:
    """Settings of one provenance experiment.

    Attributes:
        patch_size: patch side in pixels (paper: 64).
        max_patches_per_image: cap on training/validation patches per image (None: all).
        epochs: maximum training epochs, a cap early stopping should rarely reach (the paper's training stopped
            after 10-20).
        batch_size: patches per training step.
        patience: epochs without a better validation loss before stopping.
        baseline_trees: trees of the bagged-decision-tree baseline.
        seed: seed of the split, the patch sampling, the network and the trees.
    """

    patch_size: int = 64
    max_patches_per_image: int | None = 16
    epochs: int = 20
    batch_size: int = 64
    patience: int = 3
    baseline_trees: int = 100
    seed: int = 0

    def __post_init__(self):
        for name in ("patch_size", "epochs", "batch_size", "patience", "baseline_trees"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Expected {name} a positive integer. Received: {value!r}")
        if self.max_patches_per_image is not None and (
            not isinstance(self.max_patches_per_image, int) or self.max_patches_per_image < 1
        ):
            raise ValueError(f"Expected max_patches_per_image a positive integer or None. Received: {self.max_patches_per_image!r}")


@dataclasses.dataclass
class PatchData:
    """Patch features of a set of images with their labels.

    Attributes:
        features: `(n_patches, 909)` float32.
        labels: `(n_patches,)` int64 class of each patch's image.
        image: `(n_patches,)` int64 index of each patch's image in the dataset's files.
    """

    features: np.ndarray
    labels: np.ndarray
    image: np.ndarray


def patch_data(
    dataset: ImageDataset,
    *,
    patch_size: int = 64,
    max_patches_per_image: int | None = None,
    random_state: int | None = None,
    n_jobs: int = 1,
    progress: bool = True,
) -> PatchData:
    """Features of the patches of every file of a dataset (bad files skipped with a warning)."""
    from .features import extract_features

    rng = np.random.default_rng(random_state)
    feature_set = extract_features(list(dataset.files), patch_size=patch_size, n_jobs=n_jobs, progress=progress)
    index_of = {path: i for i, path in enumerate(dataset.files)}
    image = np.array([index_of[p] for p in feature_set.paths], dtype=np.int64)[feature_set.image_index]
    keep = np.arange(len(image))
    if max_patches_per_image is not None:
        chosen = []
        for i in np.unique(image):
            members = np.flatnonzero(image == i)
            chosen.append(rng.choice(members, min(max_patches_per_image, len(members)), replace=False))
        keep = np.sort(np.concatenate(chosen)) if chosen else keep[:0]
    return PatchData(feature_set.features[keep], dataset.labels[image[keep]], image[keep])


def _image_histograms(data: PatchData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each image's mean patch histogram (its DCT histograms over all its patches), label and index."""
    images, inverse = np.unique(data.image, return_inverse=True)
    sums = np.zeros((len(images), data.features.shape[1]))
    np.add.at(sums, inverse, data.features)
    counts = np.bincount(inverse)
    labels = np.zeros(len(images), np.int64)
    labels[inverse] = data.labels
    return (sums / counts[:, None]).astype(np.float32), labels, images


@dataclasses.dataclass
class ProvenanceResult:
    """What a provenance experiment produced, all on the test split.

    Attributes:
        classes: class names.
        patch_labels, patch_probabilities, patch_image: per test patch: true label, `(n, K)` CNN output, image index.
        image_ids, image_labels: per test image: its index in the dataset and true label.
        image_votes: per test image, the CNN's majority vote over its patches.
        baseline_predictions: per test image, the bagged-trees baseline's prediction.
        history: per-epoch training history (`loss`, `val_loss`, `accuracy`, `val_accuracy`).
        n_train_patches, n_train_images: the CNN's training set size.
        model_path: the trained network (.keras).
        max_epochs: the training's epoch cap (for `status`).
        n_validation_images: images of the validation split (the CNN's early stopping); None if not recorded.
        n_baseline_images: training images the bagged trees learned from; None if not recorded.
        image_groups: per test image, its source group in the dataset (`ImageDataset.groups`: the photo all its
            versions were made from): the independent unit intervals resample; None if not known.
    """

    classes: tuple[str, ...]
    patch_labels: np.ndarray
    patch_probabilities: np.ndarray
    patch_image: np.ndarray
    image_ids: np.ndarray
    image_labels: np.ndarray
    image_votes: np.ndarray
    baseline_predictions: np.ndarray
    history: dict[str, list[float]]
    n_train_patches: int
    n_train_images: int
    model_path: Path
    max_epochs: int = 0
    n_validation_images: int | None = None
    n_baseline_images: int | None = None
    image_groups: np.ndarray | None = None

    @property
    def status(self):
        """How training ended: on a plateau of the validation loss or at the epoch cap, and whether the validation
        accuracy ever left its chance interval (`training.TrainingStatus`)."""
        from ..training import training_status

        return training_status(self.history, self.max_epochs or len(self.history.get("loss", [])) or 1,
                               n_classes=len(self.classes), n_validation=self.n_validation_images)  # fmt: skip

    def patch_confusion(self) -> np.ndarray:
        """Patch-level confusion matrix, rows in percent (Tables I-III, VII)."""
        from ..evaluate import confusion_matrix_percent

        return confusion_matrix_percent(self.patch_labels, self.patch_probabilities, len(self.classes))

    def image_confusion(self) -> np.ndarray:
        """Image-level confusion matrix of the CNN with majority vote (Tables IV-VI, "Prop.")."""
        from ..evaluate import confusion_matrix_percent

        return confusion_matrix_percent(self.image_labels, self.image_votes, len(self.classes))

    def baseline_confusion(self) -> np.ndarray:
        """Image-level confusion matrix of the bagged-trees baseline (Tables IV-VI, "[11]")."""
        from ..evaluate import confusion_matrix_percent

        return confusion_matrix_percent(self.image_labels, self.baseline_predictions, len(self.classes))

    def accuracies(self) -> dict[str, float]:
        """Patch, image (CNN vote) and baseline accuracies on the test split."""
        from ..evaluate import accuracy

        return {
            "patch": accuracy(self.patch_labels, self.patch_probabilities),
            "image": accuracy(self.image_labels, self.image_votes),
            "baseline": accuracy(self.image_labels, self.baseline_predictions),
        }


def _dataset_key(dataset: ImageDataset) -> str:
    """Identity of a dataset's content: its files (path, size, mtime), labels and groups."""
    stats = [(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in dataset.files]
    return cache.cache_key(stats, dataset.classes, dataset.labels.tolist(), dataset.groups.tolist())


def provenance_splits(dataset: ImageDataset, settings: ProvenanceSettings = ProvenanceSettings(), *,
                      classes: Sequence[str] | None = None) -> dict[str, ImageDataset]:
    """The train / validation / test splits `run_provenance` uses (80/10/10 by source, seeded by `settings.seed`).

    A `ProvenanceResult`'s `image_ids` index the files of the `"test"` split.
    """
    if classes is not None and tuple(classes) != tuple(dataset.classes):
        dataset = dataset.select_classes(classes)
    return split_by_group(dataset, random_state=settings.seed)


def run_provenance(
    dataset: ImageDataset,
    settings: ProvenanceSettings = ProvenanceSettings(),
    *,
    classes: Sequence[str] | None = None,
    n_jobs: int = 1,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    verbose: int = 0,
) -> ProvenanceResult:
    """Split, extract, train, evaluate at patch and image level, and run the baseline; cached.

    Args:
        dataset: any `ImageDataset` (simulated or real).
        settings: see `ProvenanceSettings`.
        classes: restrict to these classes, in this order (e.g. paper 1's three for IPLab).
        n_jobs: worker processes for feature extraction (and the trees).
        cache_dir: where results go (default `<cache>/provenance/`).
        progress: progress bars for feature extraction.
        verbose: Keras training verbosity (0, the default: no per-epoch log; the history is returned to plot).
    """
    from ..evaluate import bagged_trees, majority_vote
    from ..paths import cache_dir as default_cache_dir
    from ..training import checkpoint_dir, early_stopping, predict, train
    from .dct_cnn import dct_cnn

    if classes is not None:
        dataset = dataset.select_classes(classes)
    key = cache.cache_key("provenance", PROVENANCE_VERSION, _dataset_key(dataset), dataclasses.asdict(settings))
    folder = (Path(cache_dir) if cache_dir is not None else default_cache_dir() / "provenance") / key[:24]
    arrays = cache.load_arrays(folder / "result.npz")
    splits = provenance_splits(dataset, settings)
    if arrays is not None and (folder / "model.keras").is_file():
        meta = json.loads(str(arrays.pop("meta")))
        return ProvenanceResult(classes=tuple(meta["classes"]), history=meta["history"],
                                n_train_patches=meta["n_train_patches"], n_train_images=meta["n_train_images"],
                                model_path=folder / "model.keras", max_epochs=settings.epochs,
                                n_validation_images=meta.get("n_validation_images"),
                                n_baseline_images=meta.get("n_baseline_images"),
                                image_groups=splits["test"].groups[arrays["image_ids"]], **arrays)  # fmt: skip

    common = dict(patch_size=settings.patch_size, n_jobs=n_jobs, progress=progress)
    train_data = patch_data(splits["train"], max_patches_per_image=settings.max_patches_per_image,
                            random_state=settings.seed, **common)  # fmt: skip
    validation = patch_data(splits["validation"], max_patches_per_image=settings.max_patches_per_image,
                            random_state=settings.seed + 1, **common)  # fmt: skip
    test = patch_data(splits["test"], **common)
    k = len(dataset.classes)
    result = train(lambda: dct_cnn(k), train_data.features, train_data.labels,
                   validation_data=(validation.features, validation.labels), epochs=settings.epochs,
                   batch_size=settings.batch_size, callbacks=[early_stopping(settings.patience)],
                   seed=settings.seed, verbose=verbose,
                   backup_dir=checkpoint_dir(folder))  # fmt: skip
    probabilities = predict(result.model, test.features, batch_size=1024)
    image_ids, votes = majority_vote(probabilities, test.image)
    x_train, y_train, _ = _image_histograms(
        patch_data(splits["train"], **common))  # all patches of each training image, as the test images
    x_test, image_labels, test_images = _image_histograms(test)
    trees = bagged_trees(settings.baseline_trees, random_state=settings.seed, n_jobs=n_jobs).fit(x_train, y_train)
    baseline = trees.predict(x_test)
    if not np.array_equal(test_images, image_ids):  # both come from np.unique over the same image indices
        raise RuntimeError("internal: image order of the vote and the baseline differ")

    folder.mkdir(parents=True, exist_ok=True)
    cache.save_model(result.model, folder / "model.keras")  # before result.npz: the entry counts once both exist
    meta = {"classes": list(dataset.classes), "history": result.history,
            "n_train_patches": len(train_data.labels), "n_train_images": len(np.unique(train_data.image)),
            "n_validation_images": len(np.unique(validation.image)), "n_baseline_images": len(y_train)}  # fmt: skip
    arrays = dict(patch_labels=test.labels, patch_probabilities=probabilities.astype(np.float32),
                  patch_image=test.image, image_ids=image_ids, image_labels=image_labels, image_votes=votes,
                  baseline_predictions=baseline.astype(np.int64))  # fmt: skip
    cache.save_arrays(folder / "result.npz", meta=np.array(json.dumps(meta)), **arrays)
    return ProvenanceResult(classes=tuple(meta["classes"]), history=meta["history"],
                            n_train_patches=meta["n_train_patches"], n_train_images=meta["n_train_images"],
                            model_path=folder / "model.keras", max_epochs=settings.epochs,
                            n_validation_images=meta["n_validation_images"],
                            n_baseline_images=meta["n_baseline_images"],
                            image_groups=splits["test"].groups[image_ids], **arrays)  # fmt: skip


#: Paper 1's three datasets: the simulated builder that mirrors each, and the loader of the real one.
PAPER1_DATASETS = {
    "ucid_social": ("UCID social", "build_controlled_social", "load_ucid_social"),
    "public_social": ("Public social", "build_uncontrolled_social", "load_public_social"),
    "iplab": ("IPLab", "build_iplab_like", "load_iplab"),
}


def paper1_dataset(
    name: str,
    *,
    size: int,
    data_dir: str | Path | None = None,
    random_state: int = 0,
    n_jobs: int = 1,
    progress: bool = True,
    **options,
) -> ImageDataset:
    """One of paper 1's datasets: the real one from `data_dir` if given, else its simulated mirror.

    Args:
        name: `"ucid_social"`, `"public_social"` or `"iplab"`.
        size: for the simulation, source images (UCID social, IPLab) or images per class (Public social).
        data_dir: the real dataset's folder (see `forensiclib.data.loaders`); empty or None simulates.
        **options: further arguments of the simulated set's builder (e.g. `qualities_per_source` of
            `build_controlled_social`); ignored for a real dataset.
    """
    from ..data import builders

    if name not in PAPER1_DATASETS:
        raise ValueError(f"Expected a paper 1 dataset among {list(PAPER1_DATASETS)}. Received: {name!r}")
    _, builder, loader = PAPER1_DATASETS[name]
    if data_dir:
        from ..data import loaders

        return getattr(loaders, loader)(data_dir)
    return getattr(builders, builder)(size, random_state=random_state, n_jobs=n_jobs, progress=progress, **options)
