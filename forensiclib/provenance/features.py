"""DCT-histogram features of paper 1 (Amerini et al. 2017, Sec. III-A).

An image is cut into non-overlapping `patch_size` x `patch_size` patches on its
8x8 block grid, starting at the top-left corner; a partial patch at the right or
bottom edge is dropped (so an image whose sides are not multiples of 8 or of the
patch size is handled: only whole patches count). In each 8x8 block of a patch
we take the first `n_modes` AC coefficients in zig-zag order, DC excluded:
(0,1) (1,0) (2,0) (1,1) (0,2) (0,3) (1,2) (2,1) (3,0) as (row, col) for the
paper's nine. For each mode, a histogram counts the quantized values
m = -`max_value` .. +`max_value` over the patch's blocks: 101 bins for the
paper's 50, so 9 x 101 = 909 features per patch, mode-major
(`features[:, k * 101 + (m + 50)]` counts value m of mode k).

Two choices the paper leaves open, made explicit here:
- values outside -max_value..max_value: the paper's h(m) counts occurrences of
  m in -50..50 only, so by default they are not counted (`out_of_range="drop"`);
  `"clip"` adds them to the two end bins instead;
- normalisation: by default each count is divided by the number of blocks in a
  patch, so each mode's histogram is a distribution (it sums to 1 minus the
  dropped fraction) and patch sizes compare; `normalize=False` keeps raw counts.

The coefficients are the quantized ones stored in the JPEG (see `forensiclib.provenance.jpeg`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import typing
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .. import cache
from ..errors import ImageReadError
from .._heap import tune_heap
from .._progress import progress_bar
from ._workers import _discard_pool, _sigint_blocked, _worker_pool
from .jpeg import DCTImage, read_dct

__all__ = [
    "ZIGZAG",
    "FeatureParams",
    "PatchFeatures",
    "FeatureSet",
    "SkippedFile",
    "WarnedFile",
    "zigzag_modes",
    "dct_histograms",
    "image_features",
    "extract_features",
]

#: Bump when the feature computation changes, so cached features are recomputed.
FEATURES_VERSION = 1

#: The 64 (row, col) positions of an 8x8 block in JPEG zig-zag order; ZIGZAG[0] is DC.
ZIGZAG: tuple[tuple[int, int], ...] = tuple(
    sorted(
        ((u, v) for u in range(8) for v in range(8)),
        key=lambda uv: (uv[0] + uv[1], uv[0] if (uv[0] + uv[1]) % 2 else -uv[0]),
    )
)


def zigzag_modes(n_modes: int = 9) -> tuple[tuple[int, int], ...]:
    """The first `n_modes` AC modes in zig-zag order, DC excluded.

    Example:
        >>> zigzag_modes(3)
        ((0, 1), (1, 0), (2, 0))
    """
    if not isinstance(n_modes, (int, np.integer)) or not 1 <= n_modes <= 63:
        raise ValueError(f"Expected n_modes in 1..63 (AC modes of an 8x8 block). Received: {n_modes!r}")
    return ZIGZAG[1 : 1 + n_modes]


@dataclasses.dataclass(frozen=True)
class FeatureParams:
    """Settings of the DCT-histogram features; validated on construction.

    Attributes:
        patch_size: side N of the square patches, in pixels; a multiple of 8 (paper: 64).
        n_modes: how many AC modes in zig-zag order (paper: 9).
        max_value: histograms cover -max_value..max_value (paper: 50, so 101 bins).
        out_of_range: `"drop"` (not counted, the paper's definition) or `"clip"`
            (counted in the end bins).
        normalize: divide counts by the number of blocks per patch.
    """

    patch_size: int = 64
    n_modes: int = 9
    max_value: int = 50
    out_of_range: str = "drop"
    normalize: bool = True

    def __post_init__(self):
        if (
            not isinstance(self.patch_size, (int, np.integer))
            or isinstance(self.patch_size, bool)
            or self.patch_size < 8
            or self.patch_size % 8
        ):
            raise ValueError(f"Expected patch_size a positive multiple of 8. Received: {self.patch_size!r}")
        zigzag_modes(self.n_modes)
        if not isinstance(self.max_value, (int, np.integer)) or not 1 <= self.max_value <= 2047:
            raise ValueError(f"Expected max_value an integer in 1..2047. Received: {self.max_value!r}")
        if self.out_of_range not in ("drop", "clip"):
            raise ValueError(f'Expected out_of_range "drop" or "clip". Received: {self.out_of_range!r}')
        if not isinstance(self.normalize, (bool, np.bool_)):
            raise ValueError(f"Expected normalize True or False. Received: {self.normalize!r}")

    @property
    def n_bins(self) -> int:
        """Histogram bins per mode (101 for the paper)."""
        return 2 * self.max_value + 1

    @property
    def n_blocks(self) -> int:
        """8x8 blocks per patch (64 for the paper): no count is larger, and `normalize` divides by it."""
        return (self.patch_size // 8) ** 2

    @property
    def n_features(self) -> int:
        """Length of one feature vector (909 for the paper)."""
        return self.n_modes * self.n_bins


@dataclasses.dataclass(frozen=True)
class PatchFeatures:
    """The features of one image.

    Attributes:
        features: `(n_patches, n_features)` float32.
        positions: `(n_patches, 2)` int32, (row, col) of each patch's top-left pixel.
        warnings: libjpeg's warnings on the file that leave its coefficients intact (`DCTImage.warnings`).
    """

    features: np.ndarray
    positions: np.ndarray
    warnings: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class SkippedFile:
    """A file batch extraction could not use, and why."""

    path: Path
    reason: str


@dataclasses.dataclass(frozen=True)
class WarnedFile:
    """A file batch extraction used although libjpeg warned about it (the warning leaves its coefficients intact)."""

    path: Path
    warning: str


@dataclasses.dataclass
class FeatureSet:
    """The features of many images, concatenated.

    Attributes:
        features: `(n_patches, n_features)` float32.
        positions: `(n_patches, 2)` int32 patch top-left (row, col) in pixels.
        image_index: `(n_patches,)` int32, index into `paths` of each patch's image.
        paths: the images that gave features, in input order.
        skipped: the files that gave none, each with its reason.
        params: the feature settings.
        warned: the files used despite a benign libjpeg warning, one entry per file with its warnings joined.
    """

    features: np.ndarray
    positions: np.ndarray
    image_index: np.ndarray
    paths: list[Path]
    skipped: list[SkippedFile]
    params: FeatureParams
    warned: list[WarnedFile] = dataclasses.field(default_factory=list)

    def __len__(self) -> int:
        return len(self.features)

    def report(self) -> str:
        """A short text report: images used, patches, and each skipped file with its reason."""
        lines = [f"{len(self.paths)} images -> {len(self.features)} patches; {len(self.skipped)} skipped"]
        if self.warned:
            lines[0] += f"; {len(self.warned)} used with a warning"
        lines += [f"  skipped {item.path}: {item.reason}" for item in self.skipped]
        lines += [f"  used with a warning {item.path}: {item.warning}" for item in self.warned]
        return "\n".join(lines)


def dct_histograms(
    coefficients: np.ndarray,
    height: int,
    width: int,
    params: FeatureParams = FeatureParams(),
) -> PatchFeatures:
    """DCT-histogram features of every whole patch of a block-coefficient array.

    Args:
        coefficients: `(n_block_rows, n_block_cols, 8, 8)` integer coefficients
            (as in `DCTImage.coefficients`).
        height: image height in pixels (patches must lie inside it).
        width: image width in pixels.
        params: feature settings.

    Returns:
        `PatchFeatures` with patches in row-major order; zero patches when the
        image is smaller than one patch.
    """
    patch, blocks = params.patch_size, params.patch_size // 8
    n_rows, n_cols = height // patch, width // patch
    n_patches = n_rows * n_cols
    if coefficients.shape[0] < n_rows * blocks or coefficients.shape[1] < n_cols * blocks:
        raise ValueError(
            f"Expected at least {n_rows * blocks}x{n_cols * blocks} blocks for a {height}x{width} "
            f"image. Received coefficients of shape {coefficients.shape}"
        )
    modes = np.array(zigzag_modes(params.n_modes))
    values = coefficients[: n_rows * blocks, : n_cols * blocks, modes[:, 0], modes[:, 1]]
    values = (
        values.reshape(n_rows, blocks, n_cols, blocks, params.n_modes)
        .transpose(0, 2, 1, 3, 4)
        .reshape(n_patches, params.n_blocks, params.n_modes)
    )
    bins = values.astype(np.int32) + params.max_value
    if params.out_of_range == "clip":
        np.clip(bins, 0, params.n_bins - 1, out=bins)
    slots = bins + (
        np.arange(n_patches, dtype=np.int32)[:, None, None] * params.n_modes
        + np.arange(params.n_modes, dtype=np.int32)[None, None, :]
    ) * params.n_bins
    if params.out_of_range == "drop":
        slots = slots[(bins >= 0) & (bins < params.n_bins)]
    counts = np.bincount(slots.ravel(), minlength=n_patches * params.n_features)
    features = counts.reshape(n_patches, params.n_features).astype(np.float32)
    if params.normalize:
        features /= params.n_blocks
    grid_rows, grid_cols = np.meshgrid(np.arange(n_rows), np.arange(n_cols), indexing="ij")
    positions = (np.stack([grid_rows.ravel(), grid_cols.ravel()], axis=1) * patch).astype(np.int32)
    return PatchFeatures(features=features, positions=positions)


def image_features(
    image: str | Path | DCTImage,
    *,
    patch_size: int = 64,
    n_modes: int = 9,
    max_value: int = 50,
    out_of_range: str = "drop",
    normalize: bool = True,
) -> PatchFeatures:
    """DCT-histogram features of one image file (or an already read `DCTImage`).

    Args:
        image: a path (JPEG, PNG, TIFF, ...) or a `DCTImage`.
        patch_size, n_modes, max_value, out_of_range, normalize: see `FeatureParams`.

    Returns:
        `PatchFeatures`: `(n_patches, 909)` float32 features and patch positions
        for the paper's settings.

    Raises:
        FileNotFoundError: no such file.
        ImageReadError: unreadable image (see `read_dct`), or one smaller than a patch.

    Example:
        >>> patches = image_features("photo.jpg")  # doctest: +SKIP
        >>> patches.features.shape  # doctest: +SKIP
        (48, 909)
    """
    params = FeatureParams(patch_size, n_modes, max_value, out_of_range, normalize)
    return _image_features(image, params)


def _image_features(image: str | Path | DCTImage, params: FeatureParams) -> PatchFeatures:
    dct = image if isinstance(image, DCTImage) else read_dct(image)
    if dct.height < params.patch_size or dct.width < params.patch_size:
        raise ImageReadError(
            dct.path,
            f"image is {dct.width}x{dct.height} pixels, smaller than one "
            f"{params.patch_size}x{params.patch_size} patch",
        )
    result = dct_histograms(dct.coefficients, dct.height, dct.width, params)
    return dataclasses.replace(result, warnings=dct.warnings) if dct.warnings else result


def extract_features(
    paths: str | Path | Iterable[str | Path],
    *,
    patch_size: int = 64,
    n_modes: int = 9,
    max_value: int = 50,
    out_of_range: str = "drop",
    normalize: bool = True,
    n_jobs: int = 1,
    cache_dir: str | Path | None | bool = None,
    progress: bool = True,
) -> FeatureSet:
    """Features of many images, in parallel, cached on disk, skipping bad files.

    Every file is tried; a file that cannot be used (not an image, corrupt,
    smaller than a patch, ...) is listed in `FeatureSet.skipped` with its reason
    and a warning sums them up, and the results of the good files are kept. A JPEG
    libjpeg warns about without damage to its coefficients (bytes between segments)
    is used and listed in `FeatureSet.warned`.

    Args:
        paths: a folder (searched recursively, hidden files ignored, symlinked
            folders not followed) or an iterable of file paths.
        patch_size, n_modes, max_value, out_of_range, normalize: see `FeatureParams`.
        n_jobs: worker processes; 1 runs in this process, -1 uses every core. The workers are started
            (spawn) on the first call and kept for the next ones of the same size, so their start-up
            (about a second) is paid once per process. Workers send integer counts back, a quarter of
            the bytes. With glibc, this process and the workers tune the heap (`forensiclib._heap`),
            which spares about 800 page faults per image.
        cache_dir: where per-image features are cached, keyed by the file's bytes
            and the settings; None uses `forensiclib.paths.cache_dir()`, False
            disables caching.
        progress: show a progress bar.

    Returns:
        A `FeatureSet`.

    Example:
        >>> feature_set = extract_features("data/facebook", n_jobs=-1)  # doctest: +SKIP
        >>> print(feature_set.report())  # doctest: +SKIP
    """
    params = FeatureParams(patch_size, n_modes, max_value, out_of_range, normalize)
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"Expected n_jobs a positive integer or -1 (all cores). Received: {n_jobs!r}")
    files = _list_files(paths)
    n_workers = min((os.cpu_count() or 1) if n_jobs == -1 else n_jobs, max(len(files), 1))
    if cache_dir is None:
        from ..paths import cache_dir as default_cache_dir

        cache_dir = default_cache_dir()
    folder = None if cache_dir is False else Path(cache_dir) / "features"
    jobs = [(path, params, folder) for path in files]

    bar = progress_bar(len(files), desc="DCT features", unit="img", disable=not progress)
    tune_heap()
    if n_workers == 1:
        outcomes = map(_features_or_reason, jobs)
    else:
        # 4 chunks per worker (each chunk costs a round trip; fewer would leave a worker idle at the end), at most
        # 64 files each so that the progress bar moves on large batches
        chunksize = max(1, min(math.ceil(len(jobs) / (4 * n_workers)), 64))
        with _sigint_blocked():  # the workers it starts are born with SIGINT blocked (see `_start_worker`)
            outcomes = _worker_pool(n_workers).map(_counts_or_reason, jobs, chunksize=chunksize)
    results: list[tuple[Path, PatchFeatures | str]] = []
    try:
        for path, outcome in zip(files, outcomes):
            results.append((path, outcome))
            bar.update()
    except BaseException:
        if n_workers > 1:
            _discard_pool()  # interrupted or a worker died: no half-finished work is left running
        raise
    finally:
        bar.close()
    return _assemble(results, params)


def _joined_features(outcomes: list[PatchFeatures | _Counts], params: FeatureParams) -> np.ndarray:
    """The images' features, one after the other; workers' counts are joined first and turned into features in
    one step, by the same float32 operations as `dct_histograms` (so the same values bit for bit)."""
    if outcomes and all(isinstance(out, _Counts) for out in outcomes):
        features = np.concatenate([out.counts for out in outcomes]).astype(np.float32)
        if params.normalize:
            features /= params.n_blocks
        return features
    return np.concatenate([out.features for out in outcomes] or [np.zeros((0, params.n_features), np.float32)])


def _assemble(results: Sequence[tuple[Path, PatchFeatures | _Counts | str]], params: FeatureParams) -> FeatureSet:
    good = [(path, out) for path, out in results if not isinstance(out, str)]
    skipped = [SkippedFile(path, out) for path, out in results if isinstance(out, str)]
    warned = [WarnedFile(path, "; ".join(out.warnings)) for path, out in good if out.warnings]
    if skipped:
        shown = "; ".join(f"{item.path.name}: {item.reason}" for item in skipped[:3])
        more = f" (and {len(skipped) - 3} more)" if len(skipped) > 3 else ""
        warnings.warn(f"{len(skipped)} of {len(results)} files skipped: {shown}{more}", stacklevel=3)
    return FeatureSet(
        features=_joined_features([out for _, out in good], params),
        positions=np.concatenate([out.positions for _, out in good] or [np.zeros((0, 2), np.int32)]),
        image_index=np.concatenate(
            [np.full(len(out.positions), i, np.int32) for i, (_, out) in enumerate(good)]
            or [np.zeros(0, np.int32)]
        ),
        paths=[path for path, _ in good],
        skipped=skipped,
        params=params,
        warned=warned,
    )


def _features_or_reason(job: tuple[Path, FeatureParams, Path | None]) -> PatchFeatures | str:
    """Worker: features of one file (from the cache when present), or why not."""
    path, params, folder = job
    try:
        entry = None
        if folder is not None:
            key = cache.cache_key("dct-features", FEATURES_VERSION, dataclasses.asdict(params), cache.file_digest(path))
            entry = folder / key[:2] / f"{key}.npz"
            cached = cache.load_arrays(entry)
            if cached is not None:
                warned = tuple(str(text) for text in cached.get("warnings", ()))
                return PatchFeatures(features=cached["features"], positions=cached["positions"], warnings=warned)
        result = _image_features(path, params)
        if entry is not None:
            extra = {"warnings": np.array(result.warnings, dtype=str)} if result.warnings else {}
            cache.save_arrays(entry, features=result.features, positions=result.positions, **extra)
        return result
    except ImageReadError as error:
        return error.reason
    except FileNotFoundError:
        return "no such file"
    except Exception as error:  # a batch never crashes on one file
        return f"unexpected {type(error).__name__}: {error}"


class _Counts(typing.NamedTuple):
    """A worker's result: one image's histograms as integer counts (see `_counts_or_reason`)."""

    counts: np.ndarray
    positions: np.ndarray
    warnings: tuple[str, ...] = ()


def _counts_or_reason(job: tuple[Path, FeatureParams, Path | None]) -> _Counts | str:
    """Worker of a pool: `_features_or_reason`, the histograms sent back as their integer counts (uint8 for 64x64
    patches, a quarter of float32's bytes): moving the results to the parent was 2 workers' largest cost. The
    parent turns them into features once, after joining them (`_assemble`)."""
    outcome = _features_or_reason(job)
    if isinstance(outcome, str):
        return outcome
    params = job[1]
    counts = np.rint(outcome.features * params.n_blocks) if params.normalize else outcome.features
    return _Counts(counts.astype(np.min_scalar_type(params.n_blocks)), outcome.positions, outcome.warnings)


def _list_files(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    if isinstance(paths, (str, Path)):
        root = Path(paths)
        if root.is_dir():
            found = []
            for folder, subfolders, names in os.walk(root, followlinks=False):
                subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
                found += [Path(folder) / name for name in sorted(names) if not name.startswith(".")]
            return found
        if not root.exists():
            raise FileNotFoundError(f"Expected a folder or a list of image files. Received: {root} (no such path)")
        return [root]
    return [Path(p) for p in paths]
