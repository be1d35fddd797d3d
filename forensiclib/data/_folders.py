"""Reading a dataset folder: listing its images, sniffing file types, matching loose folder names, collecting
everything wrong with its layout into one error. What every loader in `loaders` shares (see its docstring).
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .datasets import ImageDataset

# Other accepted spellings of each class (normalised: lower case, letters and digits only).
_ALIASES = {
    "facebook": ("fb",),
    "google_plus": ("google", "gplus"),
    "instagram": ("ig", "insta"),
    "original": ("orig", "originals", "native"),
    "telegram": ("tg",),
    "twitter": ("tw",),
    "whatsapp": ("wa",),
}
# First bytes of JPEG (the test of forensiclib.provenance.jpeg.is_jpeg), PNG, TIFF and BigTIFF files.
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_SHOWN = 5  # names listed in a message before "and N more"
_DEVICE_FOLDER = re.compile(r"^(?P<device>D\d+)(?:[_\- ](?P<model>.+))?$", re.IGNORECASE)


@dataclasses.dataclass
class _Record:
    file: Path
    label: int
    group: str
    device: str | None = None


@dataclasses.dataclass
class _Scan:
    """What a loader found: records, skipped files with their reasons, problems with the layout."""

    layout: str
    root: Path
    records: list[_Record] = dataclasses.field(default_factory=list)
    skipped: list[tuple[Path, str]] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)
    missing: list[str] = dataclasses.field(default_factory=list)  # classes already reported missing
    found: dict[str, list[Path]] = dataclasses.field(default_factory=dict)  # class -> its folders

    def problem(self, what: str, names: Sequence, *, every: bool = False) -> None:
        """Note a problem with the names involved: a few of them, or `every` one."""
        if names:
            self.problems.append(f"{what}: {', '.join(map(str, names)) if every else _some(names)}")

    def missing_classes(self, what: str, names: Sequence[str]) -> None:
        self.missing += names
        self.problem(what, names, every=True)

    def images(self, folder: Path) -> list[Path]:
        """Image files under `folder`, recursively, sorted; other files go to `skipped`."""
        images, seen = [], set()
        for directory, subfolders, names in os.walk(folder, followlinks=True):
            real = os.path.realpath(directory)
            subfolders[:] = [] if real in seen else sorted(s for s in subfolders if not s.startswith("."))
            if real not in seen:
                seen.add(real)
                images += self._sort_files(Path(directory, name) for name in sorted(names))
        return images

    def loose_files(self, where: str) -> None:
        """Files directly in the root: non-images are skipped, images are a problem (no class)."""
        files = sorted(p for p in self.root.iterdir() if not p.is_dir())
        self.problem(f"images {where}", [p.name for p in self._sort_files(files)])

    def _sort_files(self, files: Iterable[Path]) -> list[Path]:
        images = []
        for path in files:
            kind = _sniff(path)
            if kind == "image":
                images.append(path)
            else:
                self.skipped.append((path, kind))
        return images

    def dataset(self, name: str, classes: Sequence[str], description: str, *, devices: bool = False) -> ImageDataset:
        """The records as an `ImageDataset`, or one ValueError listing every problem found."""
        labels = np.array([r.label for r in self.records], dtype=np.int64)
        counts = np.bincount(labels, minlength=len(classes))
        self.problem("classes without a readable image",
                     [c for c, n in zip(classes, counts) if n == 0 and c not in self.missing], every=True)
        if self.problems:
            raise ValueError(f"Expected {self.layout}. Received: {self.root}, with " + "; ".join(self.problems))
        records = sorted(self.records, key=lambda r: (r.label, str(r.file)))
        skipped = [(os.path.relpath(p, self.root), reason) for p, reason in self.skipped]
        description = f"{description} Read from {self.root}: {len(records)} images."
        if skipped:
            description += f" Skipped {len(skipped)} files: {_some([f'{p} ({r})' for p, r in skipped])}."
        return ImageDataset(
            name=name,
            classes=tuple(classes),
            files=tuple(r.file for r in records),
            labels=np.array([r.label for r in records], dtype=np.int64),
            groups=_ids([r.group for r in records]),
            devices=_ids([r.device for r in records]) if devices else None,
            description=description,
            simulated=False,
            skipped=tuple(skipped),
        )


def _class_folders(path: str | Path, layout: str, classes: Sequence[str], *, minimum: int | None = None) -> _Scan:
    """One folder per class directly in `path`; `minimum`: how many classes suffice (else all)."""
    scan = _start(path, layout)
    scan.loose_files("outside the class folders")
    lookup = _lookup(classes)
    unexpected = []
    for folder in _subfolders(scan.root):
        name = lookup.get(_normal(folder.name))
        if name is None:
            unexpected.append(f"{folder.name}/")
        else:
            scan.found.setdefault(name, []).append(folder)
    scan.problem("unexpected folders", unexpected)
    scan.problem("several folders for one class",
                 [", ".join(f.name for f in folders) for folders in scan.found.values() if len(folders) > 1])
    if minimum is None or len(scan.found) < minimum:
        needed = f" (at least {minimum} needed)" if minimum else ""
        scan.missing_classes(f"missing class folders{needed}", [c for c in classes if c not in scan.found])
    for name, folders in scan.found.items():
        for file in scan.images(folders[0]):
            scan.records.append(_Record(file, classes.index(name), file.stem.lower()))
    return scan


def _start(path: str | Path, layout: str) -> _Scan:
    root = Path(path).expanduser().absolute()
    if not root.exists():
        raise FileNotFoundError(f"Expected {layout}. Received: {root} (no such folder)")
    if not root.is_dir():
        raise ValueError(f"Expected {layout}. Received: {root} (a file, not a folder)")
    return _Scan(layout, root)


def _device_folders(scan: _Scan) -> list[tuple[Path, str]]:
    """(folder, model) of each `D<number>[_<model>]` folder in the root; others are unexpected."""
    folders = [(f, _DEVICE_FOLDER.match(f.name)) for f in _subfolders(scan.root)]
    scan.problem("unexpected folders", [f"{f.name}/" for f, match in folders if match is None])
    devices = [(f, match["model"] or f.name) for f, match in folders if match is not None]
    scan.problem("device folders", [] if devices else ["none found"])
    return devices


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _child(folder: Path, name: str) -> Path | None:
    return next((f for f in _subfolders(folder) if _normal(f.name) == _normal(name)), None)


def _normal(name: str) -> str:
    """Lower case, letters and digits only, `+` read as "plus": `Google+` -> `googleplus`."""
    return re.sub(r"[^0-9a-z]", "", name.lower().replace("+", "plus"))


def _lookup(classes: Sequence[str]) -> dict[str, str]:
    """Normalised spelling -> class name, for the classes and their aliases."""
    return {alias: c for c in classes for alias in (_normal(c), *_ALIASES.get(c, ()))}


def _sniff(path: Path) -> str:
    """`"image"`, or why the file is skipped."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return "not a regular file"
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as error:
        if os.path.islink(path):
            return f"broken or looping link ({error.strerror or type(error).__name__})"
        return f"cannot be opened ({error.strerror or type(error).__name__})"
    if not head:
        return "empty file"
    return "image" if head.startswith(_SIGNATURES) else f"not a JPEG, PNG or TIFF by its first bytes ({head!r})"


def _ids(keys: Sequence[str]) -> np.ndarray:
    """`(n,)` int64: one id per distinct key, numbered in sorted key order."""
    index = {key: i for i, key in enumerate(sorted(set(keys)))}
    return np.array([index[key] for key in keys], dtype=np.int64)


def _some(names: Sequence) -> str:
    """The first few names, then "and N more"."""
    names = [str(n) for n in names]
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return ", ".join(names[:_SHOWN]) + more
