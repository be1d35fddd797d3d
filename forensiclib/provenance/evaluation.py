"""Paper 1's numbers with their uncertainty, and the one call that sets a notebook up.

    setup = provenance_setup(session, sizes={"ucid_social": 20}, settings=settings, seeds=(0, 1, 2))
    result = setup.results["ucid_social"][0]          # a ProvenanceResult (trained or from the cache)
    numbers = evaluate_provenance(result)             # every number of Tables I-VII with its 95% interval
    numbers.patch_mean, numbers.image_mean, numbers.gain, numbers.cnn_vs_baseline

Patch-level numbers resample whole test images (a cluster bootstrap: the patches of one image are not independent);
image-level numbers resample the test images; the image level's gain over the patch level and the CNN's difference
from the bagged trees are paired (both numbers come from the same test images, resampled together). The papers
report row-normalised confusion matrices, so the headline metric is the mean of the diagonal (the mean per-class
rate); plain accuracy is given beside it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..data.datasets import ImageDataset
from ..seeding import check_seeds
from .experiment import ProvenanceResult, ProvenanceSettings, paper1_dataset, provenance_splits, run_provenance

__all__ = ["ProvenanceEstimates", "ProvenanceSetup", "evaluate_provenance", "provenance_setup", "verdict_over_seeds",
           "confusion_lead", "TableVote", "table_vote"]


@dataclasses.dataclass(frozen=True)
class ProvenanceEstimates:
    """Every number of one provenance run on its test split, as `stats.Estimate`s (percent, or points).

    Attributes:
        classes: class names.
        patch_accuracy, patch_mean, patch_rates: patch level (Tables I-III, VII): accuracy, mean of the
            diagonal, each class's rate (TPR); whole test images resampled.
        image_accuracy, image_mean, image_rates: image level, the CNN's majority vote (Tables IV-VI "Prop.").
        baseline_accuracy, baseline_mean, baseline_rates: image level, the bagged trees (Tables IV-VI "[11]").
        gain: image level minus patch level, mean of the diagonal, in points (paired over the test images).
        cnn_vs_baseline: the CNN's vote minus the bagged trees, mean of the diagonal, in points (paired).
        chance: the mean of the diagonal of a classifier that ignores its input (100/K), in percent.
        status: how the network's training ended (`training.TrainingStatus`: plateau or cap).
    """

    classes: tuple[str, ...]
    patch_accuracy: object
    patch_mean: object
    patch_rates: list
    image_accuracy: object
    image_mean: object
    image_rates: list
    baseline_accuracy: object
    baseline_mean: object
    baseline_rates: list
    gain: object
    cnn_vs_baseline: object
    chance: float
    status: object

    @property
    def capped(self) -> bool:
        """True when the network hit its epoch cap (its numbers are flagged)."""
        return not self.status.plateaued

    def training_note(self) -> str:
        """`"plateau (best epoch 7 of at most 30)"` or `"CAPPED at 30 epochs"`: for tables and claim details."""
        s = self.status
        return f"plateau (best epoch {s.best_epoch} of at most {s.max_epochs})" if s.plateaued else \
            f"CAPPED at {s.max_epochs} epochs"  # fmt: skip


def _test_sources(result: ProvenanceResult) -> np.ndarray | None:
    """Each test image's source group, or None when the result does not know them or every image is its own."""
    groups = getattr(result, "image_groups", None)
    if groups is None or len(np.unique(groups)) == len(groups) or len(np.unique(groups)) < 2:
        return None
    return np.asarray(groups)


def evaluate_provenance(result: ProvenanceResult, *, n_boot: int = 2000, random_state: int = 0) -> ProvenanceEstimates:
    """Every number of a provenance run with its 95% bootstrap interval and test size.

    The interval resamples the independent unit: the source photo from which a test image and its other versions
    (other platforms, other qualities) were made (`ProvenanceResult.image_groups`), so `n` counts sources; where
    every test image is its own source, or the sources are not known, whole images.

    Args:
        result: what `run_provenance` returned.
        n_boot: bootstrap resamples.
        random_state: seed of the resampling.

    Returns:
        A `ProvenanceEstimates`.
    """
    from .. import stats

    k = len(result.classes)
    common = dict(n_boot=n_boot, random_state=random_state)
    patch_pred = np.asarray(result.patch_probabilities).argmax(axis=1)
    sources = _test_sources(result)
    if sources is None:  # an older result: whole images resampled
        patch_groups = dict(groups=result.patch_image, item_name="patches", group_name="images")
        image_groups, patch_sources = dict(item_name="images"), None
    else:  # the source photos, with all their versions, resampled
        patch_sources = sources[np.searchsorted(result.image_ids, result.patch_image)]
        patch_groups = dict(groups=patch_sources, item_name="patches", group_name="sources")
        image_groups = dict(groups=sources, item_name="images", group_name="sources")
    patch_mean, patch_rates = stats.class_rate_estimates(result.patch_labels, patch_pred, n_classes=k,
                                                         **patch_groups, **common)  # fmt: skip
    image_mean, image_rates = stats.class_rate_estimates(result.image_labels, result.image_votes, n_classes=k,
                                                         **image_groups, **common)  # fmt: skip
    base_mean, base_rates = stats.class_rate_estimates(result.image_labels, result.baseline_predictions, n_classes=k,
                                                       **image_groups, **common)  # fmt: skip
    levels = stats.level_estimates(result.patch_labels, result.patch_probabilities, result.patch_image,
                                   groups=patch_sources, metric="balanced", **common)  # fmt: skip
    return ProvenanceEstimates(
        classes=tuple(result.classes),
        patch_accuracy=stats.accuracy_estimate(result.patch_labels, patch_pred, **patch_groups, **common),
        patch_mean=patch_mean, patch_rates=patch_rates,
        image_accuracy=stats.accuracy_estimate(result.image_labels, result.image_votes, **image_groups, **common),
        image_mean=image_mean, image_rates=image_rates,
        baseline_accuracy=stats.accuracy_estimate(result.image_labels, result.baseline_predictions,
                                                  **image_groups, **common),
        baseline_mean=base_mean, baseline_rates=base_rates,
        gain=levels.gain,
        cnn_vs_baseline=stats.paired_difference(result.image_labels, result.image_votes, result.baseline_predictions,
                                                metric="balanced", **image_groups, **common),
        chance=stats.chance_level(result.image_labels, metric="balanced", n_classes=k),
        status=result.status,
    )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class TableVote:
    """The identifier's vote among the classes that wrote an image's quantization table, on a run's test images.

    Not in the paper (its network never sees the table; `table_evidence`). Image level, mean of the diagonal.

    Attributes:
        evidence: the tables of the run's training files and the classes that wrote them (what `save_identifier`
            keeps).
        paper_vote: the paper's majority vote over all classes (`ProvenanceEstimates.image_mean`).
        table_vote: the vote among the writers of each test image's table (all classes for a table never seen).
        difference: table vote minus paper vote, in points, paired over the test images.
        n_seen, n_images: test images whose table some training file carried, and all test images.
    """

    evidence: object
    paper_vote: object
    table_vote: object
    difference: object
    n_seen: int
    n_images: int


def table_vote(result: ProvenanceResult, dataset: ImageDataset, *, seed: int, n_boot: int = 2000,
               random_state: int = 0) -> TableVote:
    """Count the training files' tables and score the vote among each test image's table writers.

    On simulated data, the files of a platform whose tables the simulator assumes (`PlatformProfile.tables_measured`
    False: Flickr, Google+) are not counted: their tables would narrow votes on real files for no measured reason.

    Args:
        result: a run of `run_provenance` on `dataset` (possibly restricted to `result.classes`).
        dataset: the dataset it ran on.
        seed: the run's seed (`ProvenanceSettings.seed`: it split the dataset).
        n_boot, random_state: the bootstrap's resamples and seed.
    """
    from .. import stats
    from ..data.synth.platforms import PLATFORMS
    from .table_evidence import TableEvidence, luminance_table, restricted_vote

    splits = provenance_splits(dataset, ProvenanceSettings(seed=seed), classes=result.classes)
    train, test = splits["train"], splits["test"]
    # a simulated platform whose tables are assumed says nothing about where a real file came from
    assumed = [c for c in result.classes if dataset.simulated and c in PLATFORMS and not PLATFORMS[c].tables_measured]
    evidence = TableEvidence.from_files(train.files, train.labels, result.classes, ignore=assumed)
    probabilities, patch_image = np.asarray(result.patch_probabilities), np.asarray(result.patch_image)
    votes, n_seen = [], 0
    for image in np.asarray(result.image_ids):
        table = luminance_table(test.files[int(image)])
        n_seen += bool(evidence.writers(table))
        votes.append(restricted_vote(probabilities[patch_image == image], evidence.candidates(table))[0])
    k, votes = len(result.classes), np.asarray(votes, dtype=np.int64)
    common = dict(n_boot=n_boot, random_state=random_state, item_name="images")
    paper_mean, _ = stats.class_rate_estimates(result.image_labels, result.image_votes, n_classes=k, **common)
    table_mean, _ = stats.class_rate_estimates(result.image_labels, votes, n_classes=k, **common)
    difference = stats.paired_difference(result.image_labels, votes, result.image_votes, metric="balanced", **common)
    return TableVote(evidence, paper_mean, table_mean, difference, n_seen, len(votes))


@dataclasses.dataclass
class ProvenanceSetup:
    """What `provenance_setup` returns: the datasets and, per dataset and seed, the trained experiment.

    Attributes:
        datasets: name -> `ImageDataset` (real or simulated).
        results: name -> seed -> `ProvenanceResult`.
        seeds: the seeds, in order (split, patch sampling, initialisation and trees of each run).
        simulated: whether any dataset is simulated.
    """

    datasets: dict[str, ImageDataset]
    results: dict[str, dict[int, ProvenanceResult]]
    seeds: tuple[int, ...]
    simulated: bool

    def estimates(self, name: str, seed: int | None = None) -> ProvenanceEstimates:
        """`evaluate_provenance` of one dataset at one seed (default: the first)."""
        return evaluate_provenance(self.results[name][self.seeds[0] if seed is None else seed])

    def data_label(self, name: str) -> str:
        """`"simulated"` or `"real"`, for tables."""
        return "simulated" if self.datasets[name].simulated else "real"


def provenance_setup(
    session,
    *,
    settings: ProvenanceSettings,
    sizes: Mapping[str, int] | None = None,
    data_dirs: Mapping[str, str | Path] | None = None,
    datasets: Mapping[str, ImageDataset] | None = None,
    seeds: Sequence[int] = (0,),
    classes: Sequence[str] | None = None,
    data_seed: int = 0,
    builder_options: Mapping[str, Mapping[str, object]] | None = None,
    n_jobs: int = 1,
    progress: bool = True,
    verbose: int = 0,
) -> ProvenanceSetup:
    """Data and trained networks of a paper-1 notebook in one call (cached: a second notebook asking for the same
    experiment loads it).

    Builds (or loads) each dataset, records in `session` what data the notebook ran on, then runs
    `run_provenance` once per dataset and seed, printing one line per run: what it trained on, how training
    ended (plateau or cap) and the test size.

    Args:
        session: the notebook's `Session` (`start_session`), or None.
        settings: the experiment's settings; its `seed` is replaced by each of `seeds`.
        sizes: paper 1 dataset name (`"ucid_social"`, `"public_social"`, `"iplab"`) -> simulated size.
        data_dirs: dataset name -> folder of the real dataset; empty or missing: simulate.
        datasets: datasets given directly (name -> `ImageDataset`), instead of `sizes`.
        seeds: one run per seed (split, patch sampling, initialisation, trees); the data stay those of `data_seed`.
        classes: restrict every dataset to these classes, in this order.
        data_seed: seed of the simulated data.
        builder_options: dataset name -> further arguments of its simulator (`paper1_dataset`'s `options`).
        n_jobs: worker processes for data building, features and trees.
        progress: progress bars.
        verbose: Keras training verbosity.
    """
    if (sizes is None) == (datasets is None):
        raise ValueError("Expected either sizes (paper 1's datasets, simulated or from data_dirs) or datasets. "
                         f"Received: sizes={sizes!r}, datasets={'given' if datasets is not None else None}")  # fmt: skip
    seeds = tuple(check_seeds(seeds))
    if datasets is None:
        data_dirs = dict(data_dirs or {})
        options = dict(builder_options or {})
        datasets = {name: paper1_dataset(name, size=size, data_dir=data_dirs.get(name) or None,
                                         random_state=data_seed, n_jobs=n_jobs, progress=progress,
                                         **options.get(name, {}))
                    for name, size in sizes.items()}  # fmt: skip
    datasets = dict(datasets)
    simulated = any(d.simulated for d in datasets.values())
    for name, dataset in datasets.items():
        print(dataset.summary(), "\n")
    if session is not None:
        session.record_data(simulated=simulated, description="; ".join(
            f"{name}: {d.description or d.name}" + ("" if d.simulated else " (real)") for name, d in datasets.items()))
    results: dict[str, dict[int, ProvenanceResult]] = {}
    for name, dataset in datasets.items():
        results[name] = {}
        for seed in seeds:
            result = run_provenance(dataset, dataclasses.replace(settings, seed=seed), classes=classes, n_jobs=n_jobs,
                                    progress=progress, verbose=verbose)  # fmt: skip
            results[name][seed] = result
            print(f"{name}, seed {seed}: trained on {result.n_train_patches} patches of {result.n_train_images} "
                  f"images; {result.status}; tested on {len(result.patch_labels)} patches of "
                  f"{len(result.image_labels)} images")  # fmt: skip
    return ProvenanceSetup(datasets, results, seeds, simulated)


def verdict_over_seeds(by_seed: Mapping[int, ProvenanceEstimates], decide: Callable[[ProvenanceEstimates], object]):
    """Decide a claim on the evidence of every seed pooled: the mean over seeds of the number the claim is about,
    with an interval that holds the seeds' spread and each seed's test sampling (`stats.pool_estimates`; each seed
    draws its own split).

    `decide` gives one seed's `stats.Verdict` with the estimate it rests on; the pooled estimate is then decided
    the same way (same relation and boundary). A claim is not meaningful at this size when it was so at some seed
    (a compared number reaching chance) or when a seed's network did not learn; with one seed it is inconclusive
    (one training run cannot decide).

    Args:
        by_seed: seed -> the run's `ProvenanceEstimates`.
        decide: turns one run's estimates into a `stats.Verdict`.

    Returns:
        `(verdict, detail)`: the pooled `stats.Verdict`; `detail` gives each seed's own verdict and evidence, and
        flags the seeds whose network hit its epoch cap.
    """
    from .. import stats

    if not by_seed:
        raise ValueError("Expected the estimates of at least one seed. Received: none")
    failed = [f"the network of seed {seed} {estimates.status}" for seed, estimates in by_seed.items()
              if getattr(estimates.status, "learned", None) is False]  # fmt: skip
    verdict, detail = stats.over_seeds({seed: decide(estimates) for seed, estimates in by_seed.items()}, failed=failed)
    capped = [str(seed) for seed, estimates in by_seed.items() if estimates.capped]
    if capped:
        detail += f"; FLAGGED: the network hit its epoch cap at seed {', '.join(capped)}"
    return verdict, detail


def confusion_lead(result: ProvenanceResult, true_class: str, predicted_class: str, *, n_boot: int = 2000,
                   random_state: int = 0):
    """How much more often the patches of `true_class` are taken for `predicted_class` than for the next most
    frequent wrong class, in points, with a paired bootstrap over whole test images (Sec. IV-C: Google+ patches
    taken for Original).

    Returns:
        `(estimate, runner_up)`: a `stats.Estimate` in points (> 0: `predicted_class` is the most frequent mistake)
        and the name of the wrong class it is compared with (the most frequent one besides `predicted_class`).
    """
    from .. import stats

    classes = list(result.classes)
    for name in (true_class, predicted_class):
        if name not in classes:
            raise ValueError(f"Expected a class among {classes}. Received: {name!r}")
    if true_class == predicted_class:
        raise ValueError(f"Expected two different classes. Received: {true_class!r} twice")
    t, p = classes.index(true_class), classes.index(predicted_class)
    rows = np.asarray(result.patch_labels) == t
    pred = np.asarray(result.patch_probabilities)[rows].argmax(axis=1)
    others = [c for c in range(len(classes)) if c not in (t, p)]
    if not others:
        raise ValueError("Expected at least three classes (a runner-up wrong class). Received: two")
    runner_up = max(others, key=lambda c: (int((pred == c).sum()), -c))
    zeros = np.zeros(len(pred), np.int64)  # "right" below means "predicted as the class of interest"
    estimate = stats.paired_difference(zeros, (pred != p).astype(np.int64), (pred != runner_up).astype(np.int64),
                                       groups=np.asarray(result.patch_image)[rows], item_name="patches",
                                       n_boot=n_boot, random_state=random_state)  # fmt: skip
    return estimate, classes[runner_up]
