"""The six manipulation classes of paper 2 (task A), applied to green-channel blocks.

Mayer, Bayar, Stamm (2018), Table 1: unaltered, median filter 5x5, Gaussian blur
sigma 1.1, AWGN sigma 2, bilinear interpolation x1.5, JPEG Q70. As in the authors' code:

- `"unaltered"`: the block itself;
- `"median"`: a 5x5 median filter;
- `"gaussian_blur"`: correlation with a 5x5 Gaussian kernel of sigma 1.1 normalised
  to sum 1 (`GAUSSIAN_KERNEL`), rounded to integers;
- `"awgn"`: `2 * N(0, 1)` noise added to each pixel, rounded, clipped to 0..255;
- `"resampling"`: bilinear upscaling by 1.5 (pixel centres aligned as in OpenCV's
  `INTER_LINEAR`, MATLAB's `imresize` and scikit-image's `rescale`), then the central
  crop of the block's size, rounded;
- `"jpeg"`: the block encoded as a grayscale JPEG at quality 70 (IJG tables, Pillow's
  libjpeg-turbo) and decoded back.

The filters see the block alone; past its edges they mirror it (`"reflect"` padding:
the edge pixel repeated, `d c b a | a b c d | d c b a`), a choice of ours: the border rule
of the authors' code is not published. Rounding is to the nearest integer, halves to
even (`numpy.rint`).

Blocks come from the central part of each image's green channel (`green_blocks`): the
authors' code cuts 25 non-overlapping 256x256 blocks from the central 1280x1280 pixels
(the paper's text says the nine central blocks); block size and count are parameters so
that small CPU profiles can use e.g. 64x64 blocks.

Example:
    >>> image = np.zeros((300, 400, 3), dtype=np.uint8)
    >>> blocks = green_blocks(image, block_size=64, n_blocks=9)
    >>> manipulate(blocks[0], "median").shape
    (64, 64)
"""

from __future__ import annotations

import io
import math
from fractions import Fraction

import numpy as np

__all__ = ["MANIPULATIONS", "GAUSSIAN_KERNEL", "manipulate", "manipulate_blocks", "green_blocks"]

#: The class names of the manipulation-detection task, in the order of paper 2's Table 1.
MANIPULATIONS = ("unaltered", "median", "gaussian_blur", "awgn", "resampling", "jpeg")

_MEDIAN_SIZE = 5
_GAUSSIAN_SIZE = 5
_GAUSSIAN_SIGMA = 1.1
_NOISE_STD = 2.0
_RESAMPLING_FACTOR = 1.5
_JPEG_QUALITY = 70


def _gaussian_kernel(size: int, sigma: float) -> np.ndarray:
    offsets = np.arange(size) - (size - 1) / 2.0
    profile = np.exp(-(offsets**2) / (2.0 * sigma**2))
    kernel = np.outer(profile, profile)
    kernel /= kernel.sum()
    kernel.setflags(write=False)
    return kernel


#: `(5, 5)` float64 Gaussian kernel, sigma 1.1, summing to 1 (read-only): the `"gaussian_blur"` filter.
GAUSSIAN_KERNEL = _gaussian_kernel(_GAUSSIAN_SIZE, _GAUSSIAN_SIGMA)


def manipulate(block: np.ndarray, name: str, *, random_state: int | np.random.Generator | None = None) -> np.ndarray:
    """Apply one of the six manipulations of paper 2 to a block.

    Args:
        block: `(height, width)` uint8 block (a green channel), both sides >= 1.
        name: one of `MANIPULATIONS`.
        random_state: seed of the `"awgn"` noise (the other manipulations draw nothing);
            the same seed gives identical bytes.

    Returns:
        `(height, width)` uint8, a new array (also for `"unaltered"`).

    Raises:
        ValueError: `name` is not a manipulation, or `block` is not a 2-D uint8 array.

    Example:
        >>> block = np.full((8, 8), 100, dtype=np.uint8)
        >>> int(manipulate(block, "gaussian_blur")[4, 4])
        100
    """
    rng = np.random.default_rng(random_state)
    from scipy import ndimage

    if name not in MANIPULATIONS:
        raise ValueError(f"Expected a manipulation name among {list(MANIPULATIONS)}. Received: {name!r}")
    block = np.asarray(block)
    if block.dtype != np.uint8 or block.ndim != 2 or block.size == 0:
        raise ValueError(
            f"Expected block a non-empty (height, width) uint8 array. Received: {block.dtype} {block.shape}"
        )
    if name == "unaltered":
        return block.copy()
    if name == "median":
        return ndimage.median_filter(block, size=_MEDIAN_SIZE, mode="reflect")
    if name == "gaussian_blur":
        blurred = ndimage.correlate(block.astype(np.float64), GAUSSIAN_KERNEL, mode="reflect")
        return _to_uint8(blurred)
    if name == "awgn":
        return _to_uint8(block + _NOISE_STD * rng.standard_normal(block.shape))
    if name == "resampling":
        return _upscale_central_crop(block, _RESAMPLING_FACTOR)
    return _jpeg_round_trip(block, _JPEG_QUALITY)


def manipulate_blocks(
    blocks: np.ndarray, *, random_state: int | np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Every block in every class: the manipulation-detection data of a set of blocks.

    Args:
        blocks: `(n_blocks, height, width)` uint8 blocks (e.g. from `green_blocks`).
        random_state: seed of the `"awgn"` noise.

    Returns:
        `(n_blocks * 6, height, width)` uint8 images, block by block and, for each
        block, the classes in the order of `MANIPULATIONS`; and `(n_blocks * 6,)` int64
        labels, indices into `MANIPULATIONS`.

    Example:
        >>> images, labels = manipulate_blocks(np.zeros((2, 16, 16), np.uint8), random_state=0)
        >>> images.shape, labels.tolist()
        ((12, 16, 16), [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5])
    """
    rng = np.random.default_rng(random_state)
    blocks = np.asarray(blocks)
    if blocks.dtype != np.uint8 or blocks.ndim != 3 or 0 in blocks.shape[1:]:
        raise ValueError(
            f"Expected blocks an (n_blocks, height, width) uint8 array. Received: {blocks.dtype} {blocks.shape}"
        )
    images = np.empty((len(blocks) * len(MANIPULATIONS), *blocks.shape[1:]), dtype=np.uint8)
    for index, block in enumerate(blocks):
        for label, name in enumerate(MANIPULATIONS):
            images[index * len(MANIPULATIONS) + label] = manipulate(block, name, random_state=rng)
    labels = np.tile(np.arange(len(MANIPULATIONS), dtype=np.int64), len(blocks))
    return images, labels


def green_blocks(image: np.ndarray, *, block_size: int = 256, n_blocks: int = 25) -> np.ndarray:
    """Non-overlapping blocks from the central part of an image's green channel.

    The `n_blocks` blocks form a `k x k` grid (`k = sqrt(n_blocks)`) centred in the image
    (offsets rounded down); the authors' setting, the default, is 25 blocks of 256x256
    from the central 1280x1280 pixels.

    Args:
        image: `(height, width, 3)` uint8 RGB (its green channel is used) or
            `(height, width)` uint8 (used as is).
        block_size: side of the square blocks, >= 1.
        n_blocks: number of blocks, a perfect square >= 1.

    Returns:
        `(n_blocks, block_size, block_size)` uint8, row by row through the grid.

    Raises:
        ValueError: bad arguments, or an image smaller than the central grid.

    Example:
        >>> green_blocks(np.zeros((1500, 2000, 3), np.uint8)).shape
        (25, 256, 256)
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(
            "Expected image an (height, width, 3) or (height, width) uint8 array. "
            f"Received: {image.dtype} {image.shape}"
        )
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ValueError(f"Expected block_size a positive integer. Received: {block_size!r}")
    side = math.isqrt(n_blocks) if isinstance(n_blocks, (int, np.integer)) and n_blocks >= 1 else 0
    if isinstance(n_blocks, bool) or side == 0 or side * side != n_blocks:
        raise ValueError(f"Expected n_blocks a perfect square (1, 4, 9, 16, 25, ...). Received: {n_blocks!r}")
    green = image[..., 1] if image.ndim == 3 else image
    height, width = green.shape
    extent = side * int(block_size)
    if height < extent or width < extent:
        raise ValueError(
            f"Expected an image of at least {extent}x{extent} pixels for {n_blocks} blocks of "
            f"{block_size}x{block_size}. "
            f"Received: {height}x{width}"
        )
    top, left = (height - extent) // 2, (width - extent) // 2
    grid = green[top : top + extent, left : left + extent]
    blocks = grid.reshape(side, block_size, side, block_size).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(blocks.reshape(n_blocks, block_size, block_size))


def _to_uint8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _linear_taps(size: int, start: int, count: int, factor: Fraction) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Bilinear taps of upscaled samples `start .. start + count - 1`, in exact integer arithmetic.

    Upscaled sample `u` sits at source position `(u + 1/2) / factor - 1/2`, clamped to the
    block. Returns the two source indices, the weight of the second as a numerator, and
    the common denominator of the weights.
    """
    denominator = 2 * factor.numerator
    numerator = (2 * np.arange(start, start + count, dtype=np.int64) + 1) * factor.denominator - factor.numerator
    numerator = np.clip(numerator, 0, (size - 1) * denominator)
    low = numerator // denominator
    high = np.minimum(low + 1, size - 1)
    return low, high, numerator - low * denominator, denominator


def _upscale_central_crop(block: np.ndarray, factor: float) -> np.ndarray:
    """Bilinear upscaling by `factor` (half-pixel centres, edges clamped), central crop of the block's size.

    Computed exactly (integer weights over a common denominator), so that rounding halves
    to even is exact: the result does not depend on floating-point error.
    """
    height, width = block.shape
    ratio = Fraction(factor).limit_denominator(1000)
    up_height, up_width = math.floor(height * ratio + Fraction(1, 2)), math.floor(width * ratio + Fraction(1, 2))
    row_low, row_high, row_weight, denominator = _linear_taps(height, (up_height - height) // 2, height, ratio)
    col_low, col_high, col_weight, _ = _linear_taps(width, (up_width - width) // 2, width, ratio)
    values = block.astype(np.int64)
    rows = values[row_low] * (denominator - row_weight[:, None]) + values[row_high] * row_weight[:, None]
    scaled = rows[:, col_low] * (denominator - col_weight[None, :]) + rows[:, col_high] * col_weight[None, :]
    return _to_uint8(scaled / denominator**2)  # exact where it matters: k + 1/2 is a float


def _jpeg_round_trip(block: np.ndarray, quality: int) -> np.ndarray:
    """Encode as a grayscale baseline JPEG with Pillow (IJG tables at `quality`) and decode."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(block).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.array(decoded.convert("L"), dtype=np.uint8)
