"""The patch vote and the header's evidence combined into one answer with a confidence, calibrated on simulated data.

The paper's network (Sec. III) votes with its patches; the file's header (`header`, `table_evidence.HeaderEvidence`)
says how likely each class is to have written the file's tables, coding, subsampling, metadata segments and size.
The identifier adds them as log-likelihoods,

    score(class) = network_weight * log((votes(class) / patches + vote_floor) / (1 + K * vote_floor))
                   + header_weight * log P(header | class),

and turns the scores into probabilities (softmax). The vote enters as a share of the image's patches, floored: the
patches of one image share its content and its processing, so they are not independent witnesses, and a large
image (a real download has hundreds of patches, a simulated test image 70 to 192) must not count as more evidence
than a small one. The answer is the likeliest class; its probability is the
answer's confidence, and below `min_confidence` the identifier says it is unsure. No trait vetoes a class: a table
seen in training only with other classes lowers a class by the smoothing, it does not remove it.

The two weights and the smoothing are chosen on simulated held-out data (`calibrate`): the test split of the
network's own run, scored twice, with the header evidence as trained and with the facts of each image's own source
left out (as `benchmarks/real_downloads.py --held-out` leaves out a real source). The choice minimises the mean
negative log-probability of the true class, averaged over classes. Real files never enter it.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from .table_evidence import HeaderEvidence, Smoothing

__all__ = ["Combination", "combine", "calibrate", "CalibrationItem", "TRAITS_USED"]

#: The header traits an identifier uses by default: the table, the metadata segments, restart markers and the size.
#: Two traits `header.read_header` reads are left out because the simulators cannot write them as the real files
#: show them, so their counts on simulated training files misstate a class: the coding (Twitter's kept uploads are
#: progressive, the simulator can only write them baseline) and the chroma subsampling (the simulated camera models
#: draw their own, not the real cameras'). docs/STATUS.md gives the held-out balanced accuracy with and without them.
TRAITS_USED = ("table", "jfif", "exif", "icc", "iptc", "xmp", "adobe", "restart", "size")

_GRID = {
    "network_weight": (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0),
    "vote_floor": (0.01, 0.03, 0.1, 0.3),
    "header_weight": (0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0),
    "smoothing": (0.01, 0.03, 0.1, 0.2, 0.3, 0.5),
}


@dataclasses.dataclass(frozen=True)
class Combination:
    """How an identifier weighs the patch vote against the header.

    Attributes:
        network_weight: the weight of the floored patch vote's log-share.
        vote_floor: the share added to every class's vote share (0..1): how little a class may get from the patches.
        header_weight: the weight of the header traits' summed log-likelihoods (0: the patch vote alone).
        smoothing: `table_evidence.Smoothing` (the chance that a platform writes what its training files never do).
        min_confidence: answers whose probability is below this are flagged "uncertain" (0..1).
        traits: the header traits used (`header.TRAITS` and "size").
        calibrated_on: how the values were chosen, in words.
    """

    network_weight: float = 0.5
    header_weight: float = 0.5
    smoothing: Smoothing = Smoothing()
    min_confidence: float = 0.5
    traits: tuple[str, ...] = ()
    calibrated_on: str = "not calibrated (defaults)"
    vote_floor: float = 0.05

    def __post_init__(self):
        for name in ("network_weight", "header_weight"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Expected `{name}` a non-negative number. Received: {value!r}")
        if not isinstance(self.vote_floor, (int, float)) or not 0 < self.vote_floor <= 1:
            raise ValueError(f"Expected `vote_floor` in (0, 1]. Received: {self.vote_floor!r}")
        if not isinstance(self.min_confidence, (int, float)) or not 0 <= self.min_confidence <= 1:
            raise ValueError(f"Expected `min_confidence` in 0..1. Received: {self.min_confidence!r}")
        object.__setattr__(self, "traits", tuple(self.traits))

    def to_record(self) -> dict:
        """JSON-ready."""
        return {"network_weight": self.network_weight, "header_weight": self.header_weight,
                "smoothing": {"measured": self.smoothing.measured, "assumed": self.smoothing.assumed},
                "vote_floor": self.vote_floor, "min_confidence": self.min_confidence, "traits": list(self.traits),
                "calibrated_on": self.calibrated_on}  # fmt: skip

    @classmethod
    def from_record(cls, record: Mapping) -> Combination:
        """The inverse of `to_record`."""
        smoothing = Smoothing(**record.get("smoothing", {}))
        return cls(float(record["network_weight"]), float(record["header_weight"]), smoothing,
                   float(record.get("min_confidence", 0.5)), tuple(record.get("traits", ())),
                   str(record.get("calibrated_on", "")), float(record.get("vote_floor", 0.05)))  # fmt: skip


def vote_log_share(probabilities: np.ndarray, floor: float = 0.05) -> np.ndarray:
    """`log((votes / patches + floor) / (1 + K * floor))` per class: the paper's patch vote (Sec. III-B) as a floored
    share, the same evidence whatever the number of patches."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    n, k = probabilities.shape
    votes = np.bincount(probabilities.argmax(axis=1), minlength=k) if n else np.zeros(k)
    return np.log((votes / max(n, 1) + floor) / (1 + k * floor))


def combine(probabilities: np.ndarray, header: np.ndarray | None, combination: Combination) -> np.ndarray:
    """The probability of each class: the softmax of the weighted patch vote and header log-likelihood.

    Args:
        probabilities: `(n_patches, K)` network outputs of one image.
        header: `(K,)` log-likelihood of the file's header under each class (`HeaderEvidence.log_likelihood`), or
            None (the patch vote alone).
        combination: the weights.

    Returns:
        `(K,)` float64 summing to 1.
    """
    score = combination.network_weight * vote_log_share(probabilities, combination.vote_floor)
    if header is not None:
        score = score + combination.header_weight * np.asarray(header, dtype=np.float64)
    score = score - score.max()
    weights = np.exp(score)
    return weights / weights.sum()


@dataclasses.dataclass(frozen=True)
class CalibrationItem:
    """One simulated held-out image: its patches' network outputs, header, size, true class and sources."""

    probabilities: np.ndarray
    traits: Mapping[str, str]
    width: int
    height: int
    label: int
    sources: tuple[str, ...] = ()


def calibrate(items: Sequence[CalibrationItem], evidence: HeaderEvidence, *, traits: Sequence[str] | None = None,
              min_confidence: float = 0.5, description: str = "",
              grid: Mapping | None = None) -> Combination:  # fmt: skip
    """Choose the weights and the smoothing on simulated held-out images (see the module docstring).

    Each image is scored with the evidence as it is and, when all its facts come from one source, with that source's
    facts left out (`HeaderEvidence.without`); the grid point with the lowest class-averaged negative
    log-probability of the true class over both wins.

    Args:
        items: the images (`CalibrationItem`), e.g. the test split of notebook 05's run.
        evidence: the training files' header evidence.
        traits: the traits to use (default: `TRAITS_USED`).
        min_confidence: kept in the result.
        description: what the items are, in words (kept in `Combination.calibrated_on`).
        grid: `{"network_weight": (...), "header_weight": (...), "smoothing": (...), "vote_floor": (...)}` (default:
            `_GRID`).

    Raises:
        ValueError: no items.
    """
    if not items:
        raise ValueError("Expected simulated held-out images to calibrate on. Received none")
    grid = {**_GRID, **(grid or {})}
    traits = tuple(traits) if traits is not None else TRAITS_USED
    labels = np.array([item.label for item in items])
    views = []  # (evidence of each item's view, item index)
    for index, item in enumerate(items):
        views.append((evidence, index))
        if len(item.sources) == 1:
            views.append((evidence.without(evidence.classes[item.label], item.sources[0]), index))
    view_labels = labels[[index for _, index in views]]
    view_votes = {floor: np.array([vote_log_share(items[i].probabilities, floor) for _, i in views])
                  for floor in grid["vote_floor"]}  # fmt: skip
    best = None
    for smoothing in grid["smoothing"]:
        setting = Smoothing(measured=smoothing)
        header = np.array([view.log_likelihood(items[i].traits, width=items[i].width, height=items[i].height,
                                               smoothing=setting, use=traits) for view, i in views])  # fmt: skip
        for a, b, floor in itertools.product(grid["network_weight"], grid["header_weight"], grid["vote_floor"]):
            score = a * view_votes[floor] + b * header
            score -= score.max(axis=1, keepdims=True)
            log_p = score - np.log(np.exp(score).sum(axis=1, keepdims=True))
            loss = -log_p[np.arange(len(view_labels)), view_labels]
            per_class = [loss[view_labels == k].mean() for k in np.unique(view_labels)]
            value = float(np.mean(per_class))
            if best is None or value < best[0] - 1e-12:
                best = (value, a, b, smoothing, floor)
    value, a, b, smoothing, floor = best
    text = (f"{description or f'{len(items)} simulated held-out images'}: weights and smoothing minimising the mean "
            f"class-averaged negative log-probability of the true class ({value:.3f} nats), each image scored with "
            "the evidence as trained and without its own source's facts")  # fmt: skip
    return Combination(float(a), float(b), Smoothing(measured=float(smoothing), assumed=float(smoothing)),
                       min_confidence, traits, text, float(floor))  # fmt: skip
