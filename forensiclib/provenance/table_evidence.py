"""Which classes wrote a JPEG's luminance quantization table in the training data: the identifier's candidates.

Paper 1's network (Sec. III) sees histograms of *quantized* coefficients. On uncontrolled content their width
mixes two things, the quantization step and how busy the image is, so images written at neighbouring IJG qualities
(Instagram 80-92, Twitter 85, Telegram 87 in the measured profiles) look alike to it when the content differs. The
table itself is written in the file's header and is the first thing a forensic examiner reads. An identifier keeps,
for every table its training files carry, how many files of each class wrote it (`TableEvidence`); `identify` then
lets the paper's patch vote choose among the classes that wrote the file's table, and among all classes when the
table was never seen in training (so the answer is the paper's own whenever the table says nothing).

The tables come from the training files only; they are never read from real downloads (which is where the
simulated platform profiles took theirs from, see `forensiclib.data.synth.platform_catalogue`).

Example:
    >>> evidence = TableEvidence.from_files(["a.jpg", "b.jpg"], [0, 1], ("facebook", "twitter"))  # doctest: +SKIP
    >>> evidence.writers(luminance_table("c.jpg"))  # doctest: +SKIP
    {'twitter': 1}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["TableEvidence", "luminance_table", "restricted_vote"]


def luminance_table(path: str | Path) -> np.ndarray | None:
    """The `(8, 8)` luminance quantization table of a JPEG in natural (row-major) order; None for other images.

    Read from the header alone (Pillow), so it costs a fraction of a millisecond; the table is the one the first
    component (luminance) selects, the same as `read_dct(path).quantization_table`.

    Raises:
        FileNotFoundError: no such file.
        OSError: the file is not an image Pillow can open.
    """
    from PIL import Image

    with Image.open(path) as image:
        tables = getattr(image, "quantization", None)
        if image.format != "JPEG" or not tables:
            return None
        selector = image.layer[0][3] if getattr(image, "layer", None) else min(tables)
        return np.asarray(tables[selector], dtype=np.uint16).reshape(8, 8)


def _key(table: np.ndarray | Sequence[int]) -> tuple[int, ...]:
    values = np.asarray(table).ravel()
    if values.size != 64:
        raise ValueError(f"Expected a quantization table of 64 values. Received {values.size} values")
    return tuple(int(v) for v in values)


@dataclasses.dataclass(frozen=True)
class TableEvidence:
    """For each luminance table seen in training, how many training files of each class carried it.

    Attributes:
        classes: class names, in the network's output order.
        counts: `{table (64 values, row-major): files per class (one count per class)}`.
        ignored: classes whose files were not counted (their tables are no evidence, e.g. a simulated platform
            whose tables are assumed rather than measured on real downloads); they never narrow a vote.
    """

    classes: tuple[str, ...]
    counts: Mapping[tuple[int, ...], tuple[int, ...]]
    ignored: tuple[str, ...] = ()

    @classmethod
    def from_files(cls, paths: Iterable[str | Path], labels: Iterable[int], classes: Sequence[str], *,
                   ignore: Sequence[str] = ()) -> TableEvidence:  # fmt: skip
        """Count the tables of training files (`labels` index `classes`); files without a table are left out.

        Args:
            paths, labels: the training files and their classes.
            classes: class names.
            ignore: classes whose files are not counted (see `ignored`).

        Raises:
            ValueError: `paths` and `labels` differ in length, a label is not an index of `classes`, or `ignore`
                names a class not in `classes`.
        """
        paths, labels, classes = list(paths), [int(label) for label in labels], tuple(classes)
        ignored = tuple(c for c in classes if c in set(ignore))
        unknown = sorted(set(ignore) - set(classes))
        if unknown:
            raise ValueError(f"Expected classes to ignore among {classes}. Received {unknown}")
        if len(paths) != len(labels):
            raise ValueError(f"Expected one label per file. Received {len(paths)} files and {len(labels)} labels")
        bad = sorted({label for label in labels if not 0 <= label < len(classes)})
        if bad:
            raise ValueError(f"Expected labels in 0..{len(classes) - 1} (one per class of {classes}). Received {bad}")
        counts: dict[tuple[int, ...], np.ndarray] = {}
        for path, label in zip(paths, labels):
            if classes[label] in ignored:
                continue
            table = luminance_table(path)
            if table is not None:
                counts.setdefault(_key(table), np.zeros(len(classes), dtype=np.int64))[label] += 1
        return cls(classes, {table: tuple(int(n) for n in row) for table, row in sorted(counts.items())}, ignored)

    def writers(self, table: np.ndarray | Sequence[int] | None) -> dict[str, int]:
        """`{class: training files}` for the classes that wrote `table`; empty for a table never seen (or None)."""
        row = None if table is None else self.counts.get(_key(table))
        return {} if row is None else {c: n for c, n in zip(self.classes, row) if n}

    def candidates(self, table: np.ndarray | Sequence[int] | None) -> np.ndarray:
        """A boolean mask over `classes`: the classes that wrote `table`, or every class for a table never seen."""
        writers = self.writers(table)
        if not writers:
            return np.ones(len(self.classes), dtype=bool)
        return np.array([c in writers for c in self.classes])

    def to_record(self) -> list[dict]:
        """JSON-ready: one `{"table": [64 values], "files": {class: n}}` per table."""
        return [{"table": list(table), "files": {c: n for c, n in zip(self.classes, row) if n}}
                for table, row in self.counts.items()]  # fmt: skip

    @classmethod
    def from_record(cls, classes: Sequence[str], record: Iterable[Mapping], ignored: Sequence[str] = ()) -> TableEvidence:
        """The inverse of `to_record` (with `ignored` kept beside it).

        Raises:
            ValueError: a table is not 64 values, or names a class not in `classes`.
        """
        classes, counts = tuple(classes), {}
        for entry in record:
            unknown = sorted(set(entry["files"]) - set(classes))
            if unknown:
                raise ValueError(f"Expected table writers among {classes}. Received {unknown}")
            counts[_key(entry["table"])] = tuple(int(entry["files"].get(c, 0)) for c in classes)
        return cls(classes, counts, tuple(ignored))


def restricted_vote(probabilities: np.ndarray, candidates: np.ndarray | None = None) -> tuple[int, np.ndarray]:
    """Paper 1's majority vote of patches (Sec. III-B), each patch voting for its likeliest class among `candidates`.

    Args:
        probabilities: `(n_patches, K)` network outputs of one image.
        candidates: boolean mask over the K classes (None: all, which is the paper's vote).

    Returns:
        `(class index, vote counts per class)`; a tie goes as in `evaluate.majority_vote` (the larger summed
        probability).
    """
    from ..evaluate import majority_vote

    probabilities = np.asarray(probabilities, dtype=np.float64)
    if candidates is not None:
        probabilities = np.where(np.asarray(candidates, dtype=bool), probabilities, -1.0)
    _, (label,) = majority_vote(probabilities, np.zeros(len(probabilities), dtype=np.int64))
    return int(label), np.bincount(probabilities.argmax(axis=1), minlength=probabilities.shape[1])
