"""Paper 2's patches: the green channel of a dataset's images cut into a patch grid (Mayer et al. 2018, Sec. 5).

`PatchSet` holds raw green values 0..255 as MISLnet takes them, with each patch's class, image and
device; `patches_from_dataset` cuts them (aligned on the 8x8 JPEG grid), `paper2_patches` the three
tasks' train and test sets. Patches live in memory, or in a `.npy` file read a batch at a time
(`on_disk=`, `ArrayFile`), and every experiment takes either.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np

from .. import cache
from ..data.datasets import ImageDataset
from ..data.patchfile import ArrayFile, write_rows
from ..errors import ImageReadError

__all__ = ["UNIFIED_VERSION", "PatchSet", "patches_from_dataset", "validation_split", "PAPER2_TASKS", "paper2_patches"]

#: Bump when what paper 2's experiments train or store changes, so cached results are recomputed.
UNIFIED_VERSION = 4


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
        groups: `(n,)` int64 source group of each patch's image (the dataset's `groups`: the manipulation set's
            six versions of a block share their camera image's group), or None (then each image is its own).
    """

    x: np.ndarray
    y: np.ndarray
    image: np.ndarray
    classes: tuple[str, ...]
    devices: np.ndarray | None = None
    groups: np.ndarray | None = None

    def __post_init__(self):
        if self.x.ndim != 4 or self.x.shape[1] != self.x.shape[2] or self.x.shape[3] != 1:
            raise ValueError(f"Expected x of shape (n, size, size, 1). Received: {self.x.shape}")
        n = len(self.x)
        optional = tuple(name for name in ("devices", "groups") if getattr(self, name) is not None)
        for name in ("y", "image", *optional):
            if np.shape(getattr(self, name)) != (n,):
                shape = np.shape(getattr(self, name))
                raise ValueError(f"Expected {name} of shape ({n},), one per patch. Received: {shape}")
        if n and (self.y.min() < 0 or self.y.max() >= len(self.classes)):
            raise ValueError(f"Expected labels in 0..{len(self.classes) - 1}. Received: {self.y.min()}..{self.y.max()}")

    def __len__(self) -> int:
        return len(self.x)

    @property
    def units(self) -> np.ndarray:
        """`(n,)` the independent unit of each patch: its source group, else its image. Validation splits hold out
        whole units and bootstrap intervals resample whole units (patches of one image are not independent)."""
        return self.image if self.groups is None else self.groups

    @property
    def patch_size(self) -> int:
        """Side of the square patches."""
        return int(self.x.shape[1])

    def subset(self, rows) -> PatchSet:
        """The patches at `rows` (positions), labels, images and devices with them (an `ArrayFile` gives a view)."""
        rows = np.asarray(rows, dtype=np.int64)
        x = self.x.take(rows) if isinstance(self.x, ArrayFile) else self.x[rows]
        devices = None if self.devices is None else self.devices[rows]
        groups = None if self.groups is None else self.groups[rows]
        return PatchSet(x=x, y=self.y[rows], image=self.image[rows], classes=self.classes, devices=devices,
                        groups=groups)

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
        groups=dataset.groups[image].astype(np.int64),
    )



def validation_split(patches: PatchSet, fraction: float, *, random_state: int = 0) -> tuple[PatchSet, PatchSet]:
    """Hold out a share of the training *images* (all their patches) for early stopping, class by class.

    Patches of one image (of one source group, `PatchSet.units`) are never split between the two parts, so the validation loss is measured on images the
    network did not fit. In each class `round(fraction * images)` images are held out, at least one when the class
    has two or more (a class with a single image stays in training). For a camera set these are images of the
    training devices: the test device stays unseen.

    Args:
        patches: the training patches.
        fraction: share of each class's images held out, in (0, 1).
        random_state: seeds the choice.

    Returns:
        `(fit, validation)` PatchSets.

    Example:
        >>> fit, validation = validation_split(b_train, 0.2, random_state=0)  # doctest: +SKIP
    """
    fit_rows, validation_rows = _validation_rows(patches, fraction, random_state)
    return patches.subset(fit_rows), patches.subset(validation_rows)


def _validation_rows(patches: PatchSet, fraction: float, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows of `validation_split`'s two parts."""
    rng = np.random.default_rng(random_state)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
        raise ValueError(f"Expected fraction a number between 0 and 1 (exclusive). Received: {fraction!r}")
    units, first = np.unique(patches.units, return_index=True)
    held = []
    for label in np.unique(patches.y[first]):  # a unit's stratum: the class of its first patch
        members = units[patches.y[first] == label]
        n = min(max(int(round(fraction * len(members))), 1), len(members) - 1) if len(members) > 1 else 0
        held.extend(rng.choice(members, n, replace=False).tolist() if n else [])
    in_validation = np.isin(patches.units, held)
    if not in_validation.any():
        raise ValueError(f"Expected at least two images in some class to hold one out for validation. "
                         f"Received: {len(units)} images over {len(patches.classes)} classes")
    return np.flatnonzero(~in_validation), np.flatnonzero(in_validation)


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
    test_patches_per_class: int | None = None,
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

    `test_patches_per_class` keeps at most that many test patches per class, drawn at random (seeded): the paper
    tested each camera model on 1,500 patches of its held-out device.

    Returns:
        `(train, test)` PatchSets.
    """
    from ..data.builders import build_cameras, build_manipulations
    from ..data.datasets import split_by_device, split_by_group

    if task not in PAPER2_TASKS:
        raise ValueError(f"Expected a task among {list(PAPER2_TASKS)}. Received: {task!r}")
    if task == "manipulation":
        dataset = build_manipulations(size, block_size=patch_size, blocks_per_image=blocks_per_image,
                                      random_state=random_state, n_jobs=n_jobs, progress=progress)  # fmt: skip
        parts = split_by_group(dataset, (0.8, 0.0, 0.2), random_state=random_state)
        parts = {"train": parts["train"], "test": parts["test"]}
    else:
        if data_dir:
            from ..data.loaders import load_dresden

            dataset = load_dresden(data_dir)
        else:
            dataset = build_cameras("B" if task == "camera" else "C", size, size=(image_side, image_side),
                                    random_state=random_state, n_jobs=n_jobs, progress=progress)  # fmt: skip
        parts = split_by_device(dataset, random_state=random_state)
    folder = None
    if on_disk is not None and on_disk is not False:
        from ..paths import cache_dir

        folder = cache_dir() / "patches" if on_disk is True else Path(on_disk)
    train, test = (
        _task_patches(parts[name], folder, f"{task}-{name}", patch_size=patch_size,
                      patches_per_image=patches_per_image, random_state=random_state + offset)  # fmt: skip
        for offset, name in enumerate(("train", "test"))
    )
    if test_patches_per_class is not None:
        _check_positive("test_patches_per_class", test_patches_per_class)
        rng = np.random.default_rng([random_state, 2])
        rows = [np.sort(rng.choice(members, min(len(members), test_patches_per_class), replace=False))
                for label in range(len(test.classes)) for members in [np.flatnonzero(test.y == label)] if len(members)]
        test = test.subset(np.sort(np.concatenate(rows)))
    return train, test


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
        cache.save_arrays(path.with_suffix(".npz"), y=patches.y, image=patches.image, groups=patches.groups, **devices)
        return patches
    return PatchSet(x=ArrayFile(path), y=arrays["y"], image=arrays["image"], classes=tuple(split.classes),
                    devices=arrays.get("devices"), groups=arrays.get("groups"))  # fmt: skip
