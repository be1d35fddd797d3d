"""Natural scene material for the camera simulator: real photographs and dead-leaves scenes.

A scene is what reaches the lens: an sRGB-like `(height, width, 3)` uint8 image that the
camera simulator (`forensiclib.data.synth.cameras.capture`) treats as radiance after undoing
the sRGB gamma. Two sources, both seeded and endless:

- **photo**: the real photographs shipped with scikit-image and scikit-learn
  (`forensiclib.data.photos.PHOTOS`), downscaled by area averaging (default factor 2, so
  that their own demosaicing and JPEG traces are averaged away), then cut at a random
  position, turned by a random multiple of 90 degrees and flipped with probability 1/2.
  Crops that are nearly flat (luminance standard deviation below 4 grey levels, e.g. the
  black corners of `retina`) are drawn again, up to 10 times.
- **dead_leaves**: occluding disks, the classic model of natural-image statistics
  (scale invariance, a power spectrum close to `1 / f^2`): radii drawn with density
  proportional to `r^-3` between `max(2, shorter side / 64)` pixels and half the longer
  side, centres uniform
  (each disk's centre over the image grown by its radius, so that coverage is the same
  everywhere), the first disk drawn being the front one. Colours come from a random
  model of natural surfaces (hue uniform, mostly low saturation, mid-tone values); each
  disk gets a mild shading gradient and texture, and the scene a slight blur (sigma 0.6
  pixel) so that its edges are not aliased.

When the requested size is larger than a photo can give at the requested downscale
factor, that photo is downscaled less, by the largest factor that still fits but never
below `MIN_DOWNSCALE` (1.5); photos that cannot give the size even then are not used.
When no photo can, photo scenes fall back to dead-leaves scenes, with a `UserWarning`.

Example:
    >>> scenes = make_scenes(4, size=(64, 96), kind="mixed", random_state=0)
    >>> scenes.shape, scenes.dtype
    ((4, 64, 96, 3), dtype('uint8'))
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Iterator, Sequence

import numpy as np

from ..photos import PHOTOS, load_photo

__all__ = ["SCENE_KINDS", "MIN_DOWNSCALE", "make_scenes", "iter_scenes"]

#: Values accepted by the `kind` argument: a 50/50 mixture, photographs only, dead leaves only.
SCENE_KINDS = ("mixed", "photo", "dead_leaves")

#: The smallest area-averaging factor a photo is ever downscaled by.
MIN_DOWNSCALE = 1.5

_MIN_CROP_STD = 4.0  # grey levels; flatter photo crops are drawn again
_MAX_CROP_TRIES = 10
_LEAF_MIN_RADIUS = 2.0  # pixels; the smallest radius is max(this, shorter side / 64)
_LEAF_UNCOVERED = 3e-3  # expected fraction of pixels no disk covers (filled from the nearest disk)
_LEAF_BLUR_SIGMA = 0.6
_LEAF_TEXTURE_SIGMA = 1.0
_LEAF_CHUNK = 1 << 20  # (disk, pixel) pairs handled at once


def make_scenes(
    n_samples: int,
    *,
    size: tuple[int, int] = (256, 256),
    kind: str = "mixed",
    downscale: float = 2.0,
    photos: Sequence[str] | None = None,
    random_state: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Make `n_samples` natural scenes.

    Args:
        n_samples: number of scenes, >= 0.
        size: `(height, width)` of each scene in pixels, both positive.
        kind: `"mixed"` (each scene a photo or dead leaves with probability 1/2),
            `"photo"` or `"dead_leaves"`.
        downscale: area-averaging factor applied to the photos before cropping, >= 1.5
            (reduced per photo when the size asks for it; see the module docstring).
        photos: names from `forensiclib.data.photos.PHOTOS` to crop from (e.g. to keep the
            photos of a test split apart); None uses all of them.
        random_state: seed; the same seed gives identical bytes.

    Returns:
        `(n_samples, height, width, 3)` uint8 sRGB scenes; the first `n` scenes of
        `iter_scenes` with the same arguments.

    Raises:
        ValueError: a bad `n_samples`, `size`, `kind`, `downscale` or photo name.

    Example:
        >>> make_scenes(2, size=(32, 32), kind="dead_leaves", random_state=1).shape
        (2, 32, 32, 3)
    """
    rng = np.random.default_rng(random_state)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 0:
        raise ValueError(f"Expected n_samples a non-negative integer. Received: {n_samples!r}")
    height, width = _check_size(size)
    scenes = np.empty((int(n_samples), height, width, 3), dtype=np.uint8)
    generator = iter_scenes(size=size, kind=kind, downscale=downscale, photos=photos, random_state=rng)
    for index, scene in zip(range(int(n_samples)), generator):
        scenes[index] = scene
    return scenes


def iter_scenes(
    *,
    size: tuple[int, int] = (256, 256),
    kind: str = "mixed",
    downscale: float = 2.0,
    photos: Sequence[str] | None = None,
    random_state: int | np.random.Generator | None = None,
) -> Iterator[np.ndarray]:
    """Endless generator of natural scenes (see `make_scenes` for the arguments).

    Arguments are checked when the generator is created, not at the first `next`.

    Yields:
        `(height, width, 3)` uint8 sRGB scenes.

    Example:
        >>> scenes = iter_scenes(size=(64, 64), kind="photo", random_state=0)
        >>> next(scenes).shape
        (64, 64, 3)
    """
    rng = np.random.default_rng(random_state)
    height, width = _check_size(size)
    if kind not in SCENE_KINDS:
        raise ValueError(f"Expected kind one of {list(SCENE_KINDS)}. Received: {kind!r}")
    if isinstance(downscale, bool) or not isinstance(downscale, (int, float, np.number)) or not (
        math.isfinite(downscale) and downscale >= MIN_DOWNSCALE
    ):
        raise ValueError(f"Expected downscale a number >= {MIN_DOWNSCALE}. Received: {downscale!r}")
    names = _check_photos(photos)
    choices: list[tuple[str, int, float]] = []
    if kind != "dead_leaves":
        choices = _photo_choices(names, height, width, float(downscale))
        if not choices:
            warnings.warn(
                f"No photo among {list(names)} can give a {height}x{width} crop at a downscale factor of at "
                f"least {MIN_DOWNSCALE}; making dead-leaves scenes instead of photo scenes.",
                UserWarning,
                stacklevel=2,
            )
    return _scene_stream(rng, height, width, kind, choices)


def _scene_stream(
    rng: np.random.Generator, height: int, width: int, kind: str, choices: list[tuple[str, int, float]]
) -> Iterator[np.ndarray]:
    while True:
        use_photo = kind == "photo" or (kind == "mixed" and rng.random() < 0.5)
        if use_photo and choices:
            yield _photo_scene(rng, height, width, choices)
        else:
            yield _dead_leaves(rng, height, width)


def _check_size(size) -> tuple[int, int]:
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(side, (int, np.integer)) and not isinstance(side, bool) and side > 0 for side in size)
    ):
        raise ValueError(f"Expected size a pair of positive integers (height, width). Received: {size!r}")
    return int(size[0]), int(size[1])


def _check_photos(photos: Sequence[str] | None) -> tuple[str, ...]:
    if photos is None:
        return tuple(PHOTOS)
    if isinstance(photos, str) or not photos:
        raise ValueError(f"Expected photos a non-empty sequence of names among {sorted(PHOTOS)}. Received: {photos!r}")
    unknown = [name for name in photos if name not in PHOTOS]
    if unknown:
        raise ValueError(f"Expected photo names among {sorted(PHOTOS)}. Received unknown names: {unknown}")
    return tuple(dict.fromkeys(photos))


# --- photographs -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _photo(name: str) -> np.ndarray:
    photo = load_photo(name)
    photo.setflags(write=False)
    return photo


def _downscaled_shape(height: int, width: int, factor: float) -> tuple[int, int]:
    return int(math.floor(height / factor + 1e-9)), int(math.floor(width / factor + 1e-9))


@functools.lru_cache(maxsize=32)
def _downscaled_photo(name: str, factor: float) -> np.ndarray:
    """A photo shrunk by `factor` with area averaging (Pillow's box filter)."""
    from PIL import Image

    photo = _photo(name)
    new_height, new_width = _downscaled_shape(photo.shape[0], photo.shape[1], factor)
    small = np.asarray(Image.fromarray(photo).resize((new_width, new_height), Image.Resampling.BOX))
    small.setflags(write=False)
    return small


def _photo_choices(names: tuple[str, ...], height: int, width: int, downscale: float) -> list[tuple[str, int, float]]:
    """(photo, orientation, factor) triples that can give the size; orientation 1 crops (width, height)."""
    choices = []
    for name in names:
        photo_height, photo_width = _photo(name).shape[:2]
        for orientation, (crop_height, crop_width) in enumerate(((height, width), (width, height))):
            if orientation == 1 and height == width:
                break
            fit = min(photo_height / crop_height, photo_width / crop_width)
            factor = min(downscale, fit)
            if factor < MIN_DOWNSCALE:
                continue
            small_height, small_width = _downscaled_shape(photo_height, photo_width, factor)
            if small_height >= crop_height and small_width >= crop_width:
                choices.append((name, orientation, factor))
    return choices


def _photo_scene(
    rng: np.random.Generator, height: int, width: int, choices: list[tuple[str, int, float]]
) -> np.ndarray:
    names = sorted({name for name, _, _ in choices})
    for _ in range(_MAX_CROP_TRIES):
        name = names[rng.integers(len(names))]
        options = [choice for choice in choices if choice[0] == name]
        _, orientation, factor = options[rng.integers(len(options))]
        turns = orientation + 2 * int(rng.integers(2))
        flip = bool(rng.random() < 0.5)
        crop_height, crop_width = (height, width) if orientation == 0 else (width, height)
        small = _downscaled_photo(name, factor)
        top = int(rng.integers(small.shape[0] - crop_height + 1))
        left = int(rng.integers(small.shape[1] - crop_width + 1))
        scene = np.rot90(small[top : top + crop_height, left : left + crop_width], turns)
        if flip:
            scene = scene[:, ::-1]
        if (scene.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).std() >= _MIN_CROP_STD:
            break
    return np.ascontiguousarray(scene)


# --- dead leaves -------------------------------------------------------------------------------


def _leaf_count(height: int, width: int, min_radius: float, max_radius: float) -> int:
    """Disks needed so that the expected uncovered fraction is `_LEAF_UNCOVERED`."""
    radii = np.geomspace(min_radius, max_radius, 512)
    density = 2.0 * radii**-3 / (min_radius**-2 - max_radius**-2)
    cover = np.pi * radii**2 / ((height + 2 * radii) * (width + 2 * radii))
    mean_cover = float(np.trapezoid(cover * density, radii))
    return int(math.ceil(math.log(1.0 / _LEAF_UNCOVERED) / mean_cover))


def _dead_leaves(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    from scipy import ndimage
    from skimage.color import hsv2rgb

    min_radius = max(_LEAF_MIN_RADIUS, min(height, width) / 64.0)
    max_radius = max(max(height, width) / 2.0, 2.0 * min_radius)
    count = _leaf_count(height, width, min_radius, max_radius)
    # Inverse CDF of the density r^-3 on [min_radius, max_radius].
    low, high = min_radius**-2, max_radius**-2
    radii = (low - rng.random(count) * (low - high)) ** -0.5
    centre_y = -radii + rng.random(count) * (height + 2 * radii)
    centre_x = -radii + rng.random(count) * (width + 2 * radii)
    hsv = np.stack([rng.random(count), rng.beta(1.0, 3.5, count), rng.beta(2.0, 2.0, count) * 0.9 + 0.05], axis=1)
    colours = hsv2rgb(hsv[:, None, :])[:, 0, :] * 255.0
    shading = rng.normal(0.0, 0.12, (count, 2))
    texture_amplitude = rng.uniform(0.0, 0.08, count)
    texture = ndimage.gaussian_filter(rng.standard_normal((height, width)), _LEAF_TEXTURE_SIGMA)
    texture /= max(float(texture.std()), 1e-12)

    labels = _paint_leaves(radii, centre_y, centre_x, height, width)
    uncovered = labels == count
    if uncovered.any():  # the few pixels no disk reached take the nearest disk
        _, (near_y, near_x) = ndimage.distance_transform_edt(uncovered, return_indices=True)
        labels = labels[near_y, near_x]

    grid_y, grid_x = np.mgrid[0:height, 0:width]
    radius = radii[labels]
    gain = 1.0 + shading[labels, 0] * (grid_y - centre_y[labels]) / radius
    gain += shading[labels, 1] * (grid_x - centre_x[labels]) / radius
    gain += texture_amplitude[labels] * texture
    image = colours[labels] * gain[..., None]
    image = ndimage.gaussian_filter(image, sigma=(_LEAF_BLUR_SIGMA, _LEAF_BLUR_SIGMA, 0))
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _paint_leaves(
    radii: np.ndarray, centre_y: np.ndarray, centre_x: np.ndarray, height: int, width: int
) -> np.ndarray:
    """`(height, width)` int32 index of the first disk covering each pixel (`len(radii)` where none does).

    Vectorised over disks: every (disk, pixel of its bounding box) pair is listed, in chunks
    of about `_LEAF_CHUNK` pairs (per-disk values spread with `np.repeat`), and each pixel
    keeps the smallest index of the disks that cover it.
    """
    count = len(radii)
    top = np.clip(np.ceil(centre_y - radii), 0, height).astype(np.int32)
    bottom = np.clip(np.floor(centre_y + radii) + 1, 0, height).astype(np.int32)
    left = np.clip(np.ceil(centre_x - radii), 0, width).astype(np.int32)
    right = np.clip(np.floor(centre_x + radii) + 1, 0, width).astype(np.int32)
    box_width = np.maximum(right - left, 1)
    pairs = np.where(right > left, np.maximum(bottom - top, 0) * box_width, 0).astype(np.int64)
    first_pair = np.cumsum(pairs) - pairs
    centre_y32, centre_x32 = centre_y.astype(np.float32), centre_x.astype(np.float32)
    squared_radii = (radii**2).astype(np.float32)
    labels = np.full(height * width, count, dtype=np.int32)
    start = 0
    while start < count:
        stop = max(int(np.searchsorted(first_pair, first_pair[start] + _LEAF_CHUNK, side="right")), start + 1)
        chunk = slice(start, stop)
        repeats = pairs[chunk]
        disk = np.repeat(np.arange(start, stop, dtype=np.int32), repeats)
        chunk_first = (first_pair[chunk] - first_pair[start]).astype(np.int32)
        offset = np.arange(disk.size, dtype=np.int32) - np.repeat(chunk_first, repeats)
        row, col = np.divmod(offset, np.repeat(box_width[chunk], repeats))
        row += np.repeat(top[chunk], repeats)
        col += np.repeat(left[chunk], repeats)
        dy = row.astype(np.float32) - np.repeat(centre_y32[chunk], repeats)
        dx = col.astype(np.float32) - np.repeat(centre_x32[chunk], repeats)
        inside = dy * dy + dx * dx <= np.repeat(squared_radii[chunk], repeats)
        np.minimum.at(labels, (row * width + col)[inside], disk[inside])
        start = stop
        if labels.max() < count:  # every pixel covered: the disks further back are hidden
            break
    return labels.reshape(height, width)
