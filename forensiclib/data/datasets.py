"""The one structure every dataset takes, simulated or real, and leakage-free splits.

An `ImageDataset` is a list of image files with a class label each, plus the ids
that splits must respect: `groups` (files made from the same source image, e.g.
one photo shared on three platforms, or the six manipulated versions of one
block) and, for camera sets, `devices` (camera models are tested on a device
never seen in training, paper 2 Sec. 5). Builders (`forensiclib.data.builders`) write
files plus a `manifest.json` read back by `load_manifest`; loaders of the real
datasets (`forensiclib.data.loaders`) return the same structure, so a notebook
switches data with one parameter.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..cache import write_text_atomic

__all__ = ["ImageDataset", "split_by_group", "split_by_device", "load_manifest", "write_manifest"]

MANIFEST = "manifest.json"


@dataclasses.dataclass(frozen=True)
class ImageDataset:
    """Labelled image files.

    Attributes:
        name: e.g. `"ucid_social"` or `"sim_ucid_like"`.
        classes: class names; `labels` index into them.
        files: `(n,)` absolute paths.
        labels: `(n,)` int64 class index of each file.
        groups: `(n,)` int64 source id; files of one group never straddle splits.
        devices: `(n,)` int64 device id (unique across the dataset) for camera sets, else None.
        description: where the data come from, in words; says "simulated" for built data.
        simulated: True for data made by the suite's simulators.
        skipped: files passed over while loading, as `(path, reason)` (non-images, unreadable files, broken or
            looping links); loading never stops on one file.
    """

    name: str
    classes: tuple[str, ...]
    files: tuple[Path, ...]
    labels: np.ndarray
    groups: np.ndarray
    devices: np.ndarray | None = None
    description: str = ""
    simulated: bool = False
    skipped: tuple[tuple[str, str], ...] = ()

    def __post_init__(self):
        n = len(self.files)
        for field in ("labels", "groups") + (("devices",) if self.devices is not None else ()):
            value = getattr(self, field)
            if np.shape(value) != (n,):
                raise ValueError(f"Expected {field} of shape ({n},), one per file. Received shape {np.shape(value)}")
        if n and (self.labels.min() < 0 or self.labels.max() >= len(self.classes)):
            raise ValueError(f"Expected labels in 0..{len(self.classes) - 1}. Received {self.labels.min()}..{self.labels.max()}")

    def __len__(self) -> int:
        return len(self.files)

    def subset(self, indices) -> ImageDataset:
        """The files at `indices` (an index array or boolean mask), same classes."""
        indices = np.flatnonzero(indices) if np.asarray(indices).dtype == bool else np.asarray(indices, dtype=int)
        return dataclasses.replace(
            self,
            files=tuple(self.files[i] for i in indices),
            labels=self.labels[indices],
            groups=self.groups[indices],
            devices=None if self.devices is None else self.devices[indices],
        )

    def select_classes(self, names: Sequence[str]) -> ImageDataset:
        """Only the files of the named classes, relabelled 0..len(names)-1 in the given order."""
        missing = [name for name in names if name not in self.classes]
        if missing:
            raise ValueError(f"Expected classes among {list(self.classes)}. Received unknown {missing}")
        old = np.array([self.classes.index(name) for name in names])
        keep = np.isin(self.labels, old)
        subset = self.subset(keep)
        relabel = np.full(len(self.classes), -1)
        relabel[old] = np.arange(len(names))
        return dataclasses.replace(subset, classes=tuple(names), labels=relabel[subset.labels])

    def relabel(self, mapping: dict[str, str], *, name: str | None = None) -> ImageDataset:
        """Merge or rename classes: `mapping` sends every current class to a new one (new classes sorted).

        Example:
            >>> by_last = chains.relabel({c: c.split("_then_")[-1] for c in chains.classes})  # doctest: +SKIP
        """
        missing = [c for c in self.classes if c not in mapping]
        if missing:
            raise ValueError(f"Expected a new class for every class. Received none for {missing}")
        classes = tuple(sorted(set(mapping[c] for c in self.classes)))
        lookup = np.array([classes.index(mapping[c]) for c in self.classes])
        return dataclasses.replace(self, name=name or self.name, classes=classes, labels=lookup[self.labels])

    def class_counts(self) -> dict[str, int]:
        """Files per class."""
        counts = np.bincount(self.labels, minlength=len(self.classes))
        return dict(zip(self.classes, counts.tolist()))

    def summary(self) -> str:
        """A short text: name, origin, files and groups per class."""
        lines = [f"{self.name}: {len(self)} files, {len(np.unique(self.groups))} source groups, "
                 f"{len(self.classes)} classes ({'simulated' if self.simulated else 'real'} data)"]  # fmt: skip
        if self.description:
            lines.append(f"  {self.description}")
        if self.skipped:
            lines.append(f"  {len(self.skipped)} files skipped while loading, e.g. "
                         + "; ".join(f"{path}: {reason}" for path, reason in self.skipped[:3]))
        lines += [f"  {name:<14s} {count:6d}" for name, count in self.class_counts().items()]
        return "\n".join(lines)


def split_by_group(
    dataset: ImageDataset,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    *,
    random_state: int | None = None,
) -> dict[str, ImageDataset]:
    """Train / validation / test by source group (paper 1: 80/10/10 by image).

    Groups are shuffled and cut by the fractions, so all files of a source
    (every platform's copy, every manipulated version) land in the same split.
    Validation and test get at least one group each when their fraction is not 0.

    Returns:
        `{"train": ..., "validation": ..., "test": ...}`.
    """
    rng = np.random.default_rng(random_state)
    fractions = np.asarray(fractions, dtype=float)
    if fractions.shape != (3,) or np.any(fractions < 0) or not np.isclose(fractions.sum(), 1):
        raise ValueError(f"Expected three non-negative fractions summing to 1. Received: {fractions.tolist()}")
    groups = np.unique(dataset.groups)
    rng.shuffle(groups)
    sizes = [max(1, int(np.rint(f * len(groups)))) if f > 0 else 0 for f in fractions[1:]]
    if len(groups) - sum(sizes) < 1:
        raise ValueError(
            f"Expected at least {sum(sizes) + 1} source groups in {dataset.name!r} to split by "
            f"{fractions.tolist()}. Received {len(groups)}"
        )
    cuts = [len(groups) - sum(sizes), len(groups) - sizes[1]]
    parts = np.split(groups, cuts)
    return {name: dataset.subset(np.isin(dataset.groups, part)) for name, part in zip(("train", "validation", "test"), parts)}


def split_by_device(dataset: ImageDataset, *, random_state: int | None = None) -> dict[str, ImageDataset]:
    """For each class (camera model), one device held out for testing (paper 2, Sec. 5).

    Returns:
        `{"train": ..., "test": ...}`; every class needs at least two devices.
    """
    if dataset.devices is None:
        raise ValueError(f"Expected a camera dataset with device ids. Received {dataset.name!r} without devices")
    rng = np.random.default_rng(random_state)
    test = np.zeros(len(dataset), dtype=bool)
    for label, name in enumerate(dataset.classes):
        devices = np.unique(dataset.devices[dataset.labels == label])
        if len(devices) < 2:
            raise ValueError(f"Expected at least two devices of class {name!r} to hold one out. Received {len(devices)}")
        test |= (dataset.labels == label) & (dataset.devices == rng.choice(devices))
    return {"train": dataset.subset(~test), "test": dataset.subset(test)}


def write_manifest(dataset: ImageDataset, root: Path, *, parameters: dict | None = None) -> Path:
    """Write `root/manifest.json` (paths relative to `root`) atomically."""
    root = Path(root)
    record = {
        "name": dataset.name,
        "classes": list(dataset.classes),
        "files": [str(Path(f).relative_to(root)) for f in dataset.files],
        "labels": dataset.labels.tolist(),
        "groups": dataset.groups.tolist(),
        "devices": None if dataset.devices is None else dataset.devices.tolist(),
        "description": dataset.description,
        "simulated": dataset.simulated,
        "parameters": parameters or {},
    }
    return write_text_atomic(root / MANIFEST, json.dumps(record))


def load_manifest(root: str | Path) -> ImageDataset:
    """Read a dataset written with `write_manifest`; every listed file must exist."""
    root = Path(root)
    path = root / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"Expected a dataset folder with {MANIFEST}. Received: {root} (no manifest)")
    record = json.loads(path.read_text())
    files = tuple(root / f for f in record["files"])
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"{path}: {len(missing)} listed files are missing, e.g. {missing[:3]}")
    return ImageDataset(
        name=record["name"],
        classes=tuple(record["classes"]),
        files=files,
        labels=np.asarray(record["labels"], dtype=np.int64),
        groups=np.asarray(record["groups"], dtype=np.int64),
        devices=None if record["devices"] is None else np.asarray(record["devices"], dtype=np.int64),
        description=record["description"],
        simulated=record["simulated"],
    )
