"""The identifier's header evidence on a run's test images: counted on its training files, calibrated on its test files.

Not in the paper (its network never sees the file's header). Notebook 05 calls `header_vote` once: it counts the
header traits of the run's training files per class with the real sources behind them (`simulator_evidence`),
chooses the weights that combine them with the patch vote on simulated held-out images (`combination.calibrate`):
the run's test images and, when given, a second simulated set the network never saw in any form (`calibration`:
other scenes, other camera models, sources larger than the platforms' size limits, so that platforms resize them as
they do most real uploads, which the training set never asks them to), and scores on the test images the paper's
vote, the vote restricted to the table's writers (identifier version 2) and the soft answer, the latter also with
each image's own source left out (the simulated counterpart of `benchmarks/real_downloads.py --held-out`).

Example:
    >>> votes = header_vote(result, dataset, seed=0)  # doctest: +SKIP
    >>> save_identifier(result, folder, header_evidence=votes.evidence,  # doctest: +SKIP
    ...                 combination=votes.combination, patch_size=64, trained_on="...", simulated=True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .combination import CalibrationItem, Combination, calibrate, combine
from .experiment import ProvenanceResult, ProvenanceSettings, provenance_splits
from .table_evidence import HeaderEvidence

__all__ = ["HeaderVote", "header_vote", "simulator_evidence", "held_out_items", "shifted_calibration_set"]


def simulator_evidence(paths: Iterable[str | Path], labels: Iterable[int], classes: Sequence[str], *,
                       simulated: bool = True) -> HeaderEvidence:  # fmt: skip
    """`HeaderEvidence` of training files, with what the simulator's catalogue says about each class.

    On simulated data each file is tagged with the real sources of the behaviour that wrote it
    (`platform_catalogue.fact_sources`), a platform's files that kept their source's table are marked so, the
    classes whose profile is assumed (`PlatformProfile.tables_measured` False: Flickr, Google+) are flagged, the
    originals get the real cameras' tables (`camera_tables.CAMERA_TABLES`, each tagged with its camera model), and
    every platform its size limits. On real data (`simulated=False`) the files speak for themselves: no sources,
    nothing assumed.
    """
    from ..data.synth.camera_tables import CAMERA_TABLES
    from ..data.synth.platform_catalogue import PLATFORMS, fact_sources
    from .header import table_key

    classes = tuple(classes)
    cameras: dict[str, list[str]] = {}
    for model, (luminance, _, _) in CAMERA_TABLES.items():
        cameras.setdefault(table_key(luminance), []).append(model)
    original = "original" if "original" in classes else None
    if not simulated:
        return HeaderEvidence.from_files(paths, labels, classes, original=original, camera_tables=cameras)

    def behaviours(name):
        profile = PLATFORMS[name]
        return [b for _, b in profile.behaviours] or [profile]

    def kept(name, table):
        if name not in PLATFORMS or not any(b.keep_jpeg for b in behaviours(name)):
            return False
        return not any(np.array_equal(t, table) for b in behaviours(name) for t in b.encoded_tables())

    def sources(name, table):
        return fact_sources(name, table) if name in PLATFORMS else ()

    limits = {}
    for name in classes:
        if name in PLATFORMS and not PLATFORMS[name].passthrough:
            longest = [b.max_long_side for b in behaviours(name)]
            widest = [b.max_width for b in behaviours(name)]
            limits[name] = (None if None in longest else max(longest), None if None in widest else max(widest))
    assumed = [c for c in classes if c in PLATFORMS and not PLATFORMS[c].tables_measured]
    return HeaderEvidence.from_files(paths, labels, classes, sources=sources, kept=kept, assumed=assumed,
                                     original=original, camera_tables=cameras, size_limits=limits)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class HeaderVote:
    """The header evidence of a run and how each way of answering does on its simulated test images.

    Image level, mean of the diagonal, each an `Estimate` over the test images.

    Attributes:
        evidence: the training files' `HeaderEvidence` (what `save_identifier` keeps).
        combination: the weights calibrated on the test images (`combination.calibrate`).
        paper_vote: the paper's majority vote.
        table_vote: the vote among the writers of the image's table (identifier version 2).
        soft: the soft answer (patch vote and header).
        soft_held_out: the soft answer, each image without the facts of its own source (when one source alone
            made the simulator write it).
        n_images: test images.
    """

    evidence: HeaderEvidence
    combination: Combination
    paper_vote: object
    table_vote: object
    soft: object
    soft_held_out: object
    n_images: int


def header_vote(result: ProvenanceResult, dataset, *, seed: int, calibration=None, patch_size: int = 64,
                min_confidence: float = 0.5, n_boot: int = 2000, random_state: int = 0) -> HeaderVote:  # fmt: skip
    """Count the training files' headers, calibrate the soft answer on held-out images and score the votes.

    Args:
        result: a run of `run_provenance` on `dataset` (possibly restricted to `result.classes`).
        dataset: the dataset it ran on.
        seed: the run's seed (`ProvenanceSettings.seed`: it split the dataset).
        calibration: another simulated `ImageDataset` with the same classes to calibrate on besides the test
            images (every file of it), or None.
        patch_size: the network's patch side (for `calibration`'s features).
        min_confidence: the confidence below which the identifier will flag an answer uncertain.
        n_boot, random_state: the bootstrap's resamples and seed.
    """
    from .. import stats
    from .table_evidence import restricted_vote

    splits = provenance_splits(dataset, ProvenanceSettings(seed=seed), classes=result.classes)
    classes = tuple(result.classes)
    evidence = simulator_evidence(splits["train"].files, splits["train"].labels, classes, simulated=dataset.simulated)
    items, description = held_out_items(result, dataset, seed=seed, calibration=calibration, patch_size=patch_size)
    combination = calibrate(items, evidence, min_confidence=min_confidence, description=description)
    items = items[:len(result.image_ids)]  # the test images (the calibration set's follow them)
    tables = evidence.table_evidence()
    restricted, soft, held_out = [], [], []
    for item in items:
        table = np.array(item.traits["table"].split(","), dtype=np.int64) if item.traits["table"] != "none" else None
        restricted.append(restricted_vote(item.probabilities, tables.candidates(table))[0])
        for view, answers in ((evidence, soft), (_without_own(evidence, item), held_out)):
            header = view.log_likelihood(item.traits, width=item.width, height=item.height,
                                         smoothing=combination.smoothing, use=combination.traits)  # fmt: skip
            answers.append(int(np.argmax(combine(item.probabilities, header, combination))))
    k, labels = len(classes), np.array([item.label for item in items])
    common = dict(n_boot=n_boot, random_state=random_state, item_name="images")
    def estimate(predicted):
        return stats.class_rate_estimates(labels, np.asarray(predicted), n_classes=k, **common)[0]

    return HeaderVote(evidence, combination, estimate(result.image_votes), estimate(restricted), estimate(soft),
                      estimate(held_out), len(items))  # fmt: skip


def shifted_calibration_set(n_sources: int, classes: Sequence[str], *, seed: int):
    """The simulated set notebook 05 also calibrates on: `n_sources` IPLab-like sources the network never saw (seed
    `seed + 1`: other scenes), from 20 camera models (14 of them never in training), at 1600x1200 and 1200x900 (larger
    than Telegram's, WhatsApp's and Instagram's limits, so those platforms resize them), restricted to `classes`."""
    from ..data.builders import build_dataset

    dataset = build_dataset("iplab_like", n_sources=n_sources, high_size=(1200, 1600), low_size=(900, 1200),
                            n_phones=20, random_state=seed + 1, n_jobs=1)  # fmt: skip
    return dataset.select_classes(tuple(classes))


def held_out_items(result: ProvenanceResult, dataset, *, seed: int, calibration=None,
                   patch_size: int = 64) -> tuple[list[CalibrationItem], str]:  # fmt: skip
    """The simulated held-out images the soft answer is calibrated on, and what they are in words: the run's test
    images (in the order of `result.image_ids`), then every image of `calibration` (see `header_vote`)."""
    from ..data.synth.platform_catalogue import PLATFORMS, fact_sources
    from .header import read_header

    test = provenance_splits(dataset, ProvenanceSettings(seed=seed), classes=result.classes)["test"]
    classes = tuple(result.classes)
    probabilities, patch_image = np.asarray(result.patch_probabilities), np.asarray(result.patch_image)
    items = []
    for image, label in zip(np.asarray(result.image_ids), np.asarray(result.image_labels)):
        header = read_header(test.files[int(image)])
        name = classes[int(label)]
        origin = fact_sources(name, header.luminance_table) if dataset.simulated and name in PLATFORMS else ()
        items.append(CalibrationItem(probabilities[patch_image == image], header.traits(), header.width,
                                     header.height, int(label), tuple(origin)))  # fmt: skip
    description = (f"the {len(items)} test images of notebook 05's run ({'simulated' if dataset.simulated else 'real'} "
                   f"data, seed {seed})")  # fmt: skip
    extra = [] if calibration is None else _calibration_items(calibration, result, patch_size)
    if extra:
        description += f" and {len(extra)} images of {calibration.description or calibration.name}"
    return items + extra, description


def _calibration_items(dataset, result: ProvenanceResult, patch_size: int) -> list[CalibrationItem]:
    """Every image of a simulated dataset as a `CalibrationItem`: the run's network on all its patches."""
    import keras

    from ..data.synth.platform_catalogue import PLATFORMS, fact_sources
    from ..training import predict
    from .features import image_features
    from .header import read_header
    from .jpeg import read_dct

    classes = tuple(result.classes)
    unknown = sorted(set(dataset.classes) - set(classes))
    if unknown:
        raise ValueError(f"Expected a calibration set over the run's classes {classes}. Received {unknown} too")
    model = keras.models.load_model(result.model_path, compile=False)
    items = []
    for path, label in zip(dataset.files, dataset.labels):
        name = dataset.classes[int(label)]
        image, header = read_dct(path), read_header(path)
        probabilities = predict(model, image_features(image, patch_size=patch_size).features, batch_size=256)
        origin = fact_sources(name, header.luminance_table) if name in PLATFORMS else ()
        items.append(CalibrationItem(np.asarray(probabilities, dtype=np.float64), header.traits(), header.width,
                                     header.height, classes.index(name), tuple(origin)))  # fmt: skip
    return items


def _without_own(evidence: HeaderEvidence, item: CalibrationItem) -> HeaderEvidence:
    if len(item.sources) != 1:
        return evidence
    return evidence.without(evidence.classes[item.label], item.sources[0])
