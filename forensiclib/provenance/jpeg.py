"""Access to the quantized DCT coefficients of an image's luminance.

Paper 1 (Amerini et al. 2017, Sec. III-A) builds its features from "the quantized
DCT coefficients" of each 8x8 block. For a JPEG file those are the integers stored
in the bitstream: we read them with jpeglib (libjpeg) without decoding to pixels,
so nothing is recomputed and nothing is rounded twice.

For an image that is not a JPEG (PNG, TIFF, BMP, ...) there are no stored
coefficients. We then compute the orthonormal 8x8 block DCT-II of its luminance
(ITU-R BT.601, as a JPEG encoder does), after the JPEG level shift of -128, and
round to integers: the coefficients a JPEG encoder would store with a
quantization table of all ones. `DCTImage.source` says which of the two you got.

Layout: `coefficients[i, j, u, v]` is block row `i`, block column `j`, vertical
frequency `u`, horizontal frequency `v` (so `(0, 1)` is the first horizontal AC mode).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ..errors import ImageReadError
from ._libjpeg import (
    BENIGN_WARNINGS,
    JPEGLIB_LOCK,
    _ARITHMETIC_READER,
    _captured_c_stderr,
    _is_benign,
    _jpeglib_version,
    _unsupported,
    _utf8_path,
)

__all__ = [
    "DCTImage",
    "QualityEstimate",
    "read_dct",
    "block_dct",
    "estimate_quality",
    "ijg_quantization_table",
    "is_jpeg",
    "encode_jpeg",
    "open_image",
    "BENIGN_WARNINGS",
    "JPEGLIB_LOCK",
]

#: The largest image read, in pixels; larger ones are refused as likely decompression bombs.
MAX_PIXELS = 2**28

# Annex K of ITU-T T.81: the luminance table that IJG libjpeg scales by quality.
_IJG_LUMINANCE = np.array(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    dtype=np.int64,
)

_JPEG_MAGIC = b"\xff\xd8\xff"
@dataclasses.dataclass(frozen=True)
class QualityEstimate:
    """The IJG quality whose luminance table is closest to a given table.

    Attributes:
        quality: the best-fitting IJG quality factor, 1..100.
        mean_abs_error: mean absolute difference between the table and the IJG
            table at that quality; 0 means the table *is* the IJG table.
    """

    quality: int
    mean_abs_error: float

    @property
    def exact(self) -> bool:
        """True when the table is exactly libjpeg's table at `quality`."""
        return self.mean_abs_error == 0.0


@dataclasses.dataclass(frozen=True)
class DCTImage:
    """The luminance DCT coefficients of one image.

    Attributes:
        path: the file read.
        coefficients: `(n_block_rows, n_block_cols, 8, 8)` int16, one 8x8 block of
            quantized coefficients per block of the image; the grid covers the image
            (`ceil(height / 8)` x `ceil(width / 8)`), the last row/column of blocks
            being partly padding when a side is not a multiple of 8.
        height: image height in pixels.
        width: image width in pixels.
        source: `"jpeg"` (coefficients read from the bitstream) or `"pixels"`
            (rounded block DCT of a non-JPEG image's luminance).
        quantization_table: `(8, 8)` uint16 luminance table for a JPEG, else None.
        progressive: whether the JPEG is progressive (False for non-JPEG input).
        subsampling: chroma subsampling of a JPEG as `"4:4:4"`, `"4:2:2"`,
            `"4:2:0"`, ... ; `"gray"` for a one-component JPEG; None for non-JPEG.
        warnings: libjpeg's warnings on a JPEG whose coefficients they leave intact
            (see `BENIGN_WARNINGS`), e.g. `("Corrupt JPEG data: 3 extraneous bytes before marker 0xdb",)`;
            empty for a clean file.
        arithmetic: whether the JPEG is arithmetic-coded (read with libjpeg-turbo).
        chroma_quantization_table: `(8, 8)` uint16 table of the first chroma component of a
            colour JPEG, else None.
    """

    path: Path
    coefficients: np.ndarray
    height: int
    width: int
    source: str
    quantization_table: np.ndarray | None = None
    progressive: bool = False
    subsampling: str | None = None
    warnings: tuple[str, ...] = ()
    arithmetic: bool = False
    chroma_quantization_table: np.ndarray | None = None

    @property
    def quality(self) -> QualityEstimate | None:
        """Estimated JPEG quality from the luminance table (None for non-JPEG input)."""
        if self.quantization_table is None:
            return None
        return estimate_quality(self.quantization_table)


_PILLOW_SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


def encode_jpeg(
    image: np.ndarray,
    path: str | Path,
    *,
    quality: int,
    subsampling: str = "4:2:0",
    progressive: bool = False,
    quantization_tables: np.ndarray | None = None,
    restart_interval: int = 0,
) -> Path:
    """Write an image as a JPEG with Pillow's libjpeg-turbo (IJG quality tables, or given ones).

    Args:
        image: `(height, width, 3)` RGB or `(height, width)` gray uint8 array.
        path: destination file.
        quality: IJG quality factor, 1..100 (unused with `quantization_tables`).
        subsampling: `"4:4:4"`, `"4:2:2"` or `"4:2:0"` (ignored for gray images).
        progressive: write a progressive JPEG.
        quantization_tables: `(2, 8, 8)` integer (luminance, chrominance) tables in natural order, entries
            1..32767 (a camera's own tables), written instead of the IJG tables; None: IJG tables at `quality`.
        restart_interval: MCUs between restart markers, 0..65535 (0: none, libjpeg's default).

    Returns:
        The path written.
    """
    from PIL import Image

    ijg_quantization_table(quality)  # validates quality
    if subsampling not in _PILLOW_SUBSAMPLING:
        raise ValueError(f"Expected subsampling one of {list(_PILLOW_SUBSAMPLING)}. Received: {subsampling!r}")
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"Expected an (H, W) or (H, W, 3) uint8 array. Received {image.dtype} {image.shape}")
    if quantization_tables is None:
        tables = {"quality": int(quality)}
    else:
        array = np.asarray(quantization_tables)
        if array.shape != (2, 8, 8) or array.dtype.kind not in "iu" or not ((array >= 1) & (array <= 32767)).all():
            raise ValueError(
                "Expected quantization_tables a (2, 8, 8) integer array with entries 1..32767. "
                f"Received: {array.dtype} {array.shape}"
            )
        tables = {"qtables": [table.ravel().tolist() for table in array]}
    if isinstance(restart_interval, bool) or not isinstance(restart_interval, (int, np.integer)) or \
            not 0 <= restart_interval <= 65535:  # fmt: skip
        raise ValueError(f"Expected restart_interval an integer in 0..65535. Received: {restart_interval!r}")
    if restart_interval:
        tables["restart_marker_blocks"] = int(restart_interval)
    path = Path(path)
    Image.fromarray(image).save(
        path,
        format="JPEG",
        subsampling=_PILLOW_SUBSAMPLING[subsampling],
        progressive=progressive,
        **tables,
    )
    return path


def is_jpeg(path: str | Path) -> bool:
    """Whether a file starts with the JPEG start-of-image marker (by bytes, not name)."""
    with open(path, "rb") as f:
        return f.read(3) == _JPEG_MAGIC


def ijg_quantization_table(quality: int) -> np.ndarray:
    """The luminance quantization table libjpeg writes at a quality factor.

    Args:
        quality: IJG quality factor, 1..100.

    Returns:
        `(8, 8)` int64 table (baseline: entries clipped to 1..255).

    Example:
        >>> int(ijg_quantization_table(50)[0, 0])
        16
    """
    if not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 100:
        raise ValueError(f"Expected an integer quality in 1..100. Received: {quality!r}")
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return np.clip((_IJG_LUMINANCE * scale + 50) // 100, 1, 255)


_ALL_IJG_TABLES = np.stack([ijg_quantization_table(q) for q in range(1, 101)])


def estimate_quality(table: np.ndarray) -> QualityEstimate:
    """Estimate the JPEG quality factor from a luminance quantization table.

    The estimate is the IJG (libjpeg) quality whose scaled Annex-K table is
    closest in mean absolute difference; ties go to the higher quality. Tables
    of other encoders (cameras, Photoshop, some platforms) get the nearest IJG
    quality and a non-zero `mean_abs_error`.

    Args:
        table: `(8, 8)` luminance quantization table, natural (row-major) order.

    Example:
        >>> estimate_quality(ijg_quantization_table(75))
        QualityEstimate(quality=75, mean_abs_error=0.0)
    """
    table = np.asarray(table)
    if table.shape != (8, 8):
        raise ValueError(f"Expected an (8, 8) quantization table. Received shape {table.shape}")
    errors = np.abs(_ALL_IJG_TABLES - table.astype(np.int64)).mean(axis=(1, 2))
    best = int(np.flatnonzero(errors == errors.min())[-1])
    return QualityEstimate(quality=best + 1, mean_abs_error=float(errors[best]))


def block_dct(luminance: np.ndarray) -> np.ndarray:
    """Rounded orthonormal 8x8 block DCT-II of a luminance image, JPEG-style.

    The image is level-shifted by -128, padded to a multiple of 8 by repeating
    its last row/column (as libjpeg does), cut into 8x8 blocks and transformed.
    JPEG's forward DCT is exactly this orthonormal transform, so the result is
    what a JPEG encoder would store with a quantization table of all ones.

    Args:
        luminance: `(height, width)` array of values in 0..255.

    Returns:
        `(ceil(height / 8), ceil(width / 8), 8, 8)` int16 coefficients.
    """
    from scipy.fft import dctn

    luminance = np.asarray(luminance, dtype=np.float64)
    if luminance.ndim != 2:
        raise ValueError(f"Expected a 2-D luminance image. Received shape {luminance.shape}")
    height, width = luminance.shape
    pad = ((0, -height % 8), (0, -width % 8))
    padded = np.pad(luminance - 128.0, pad, mode="edge")
    rows, cols = padded.shape[0] // 8, padded.shape[1] // 8
    blocks = padded.reshape(rows, 8, cols, 8).transpose(0, 2, 1, 3)
    return np.rint(dctn(blocks, type=2, axes=(2, 3), norm="ortho")).astype(np.int16)


def read_dct(path: str | Path) -> DCTImage:
    """Read the luminance DCT coefficients of an image file.

    A JPEG (recognised by its first bytes, whatever its name) gives the quantized
    coefficients stored in its bitstream, baseline or progressive, Huffman or
    arithmetic coded, any chroma subsampling; a grayscale JPEG's single component
    is its luminance. libjpeg warnings that leave the coefficients intact (bytes
    between segments, see `BENIGN_WARNINGS`) are kept in `DCTImage.warnings`. Any other
    image Pillow can open gives the rounded block DCT of its luminance (see
    `block_dct`); 16-bit images are scaled to 0..255 first, alpha is ignored.

    Args:
        path: the image file.

    Returns:
        A `DCTImage`.

    Raises:
        FileNotFoundError: the file does not exist.
        ImageReadError: the file is not an image; is truncated or its coefficients are
            damaged (any libjpeg warning not in `BENIGN_WARNINGS`); is an unsupported JPEG
            (12-bit samples, lossless or hierarchical coding); is a CMYK/YCCK JPEG (no
            luminance component); or declares more than `MAX_PIXELS` pixels.

    Example:
        >>> image = read_dct("photo.jpg")  # doctest: +SKIP
        >>> image.coefficients.shape, image.quality.quality  # doctest: +SKIP
        ((48, 64, 8, 8), 75)
    """
    path = Path(path)
    if not path.exists():
        if path.is_symlink():
            raise ImageReadError(path, "broken or looping symbolic link")
        raise FileNotFoundError(f"Expected an image file. Received: {path} (no such file)")
    if not path.is_file():
        raise ImageReadError(path, "expected an image file, found a directory or special file")
    if is_jpeg(path):
        return _read_jpeg(path)
    return _read_pixels(path)


def _read_jpeg(path: Path) -> DCTImage:
    import jpeglib

    reason, arithmetic = _unsupported(path)
    if reason is not None:
        raise ImageReadError(path, reason)
    with _jpeglib_version(_ARITHMETIC_READER if arithmetic else None), _captured_c_stderr() as warnings, \
            _utf8_path(path) as name:  # fmt: skip
        try:
            jpeg = jpeglib.read_dct(name)
            if jpeg.height * jpeg.width > MAX_PIXELS:
                raise ImageReadError(
                    path,
                    f"declares {jpeg.width}x{jpeg.height} pixels, more than the "
                    f"{MAX_PIXELS} this library reads (possible decompression bomb)",
                )
            jpeg.load()
        except OSError:
            jpeg = None
    warnings = list(dict.fromkeys(line.strip() for line in warnings if line.strip()))
    damaging = [warning for warning in warnings if not _is_benign(warning)]
    if jpeg is None or damaging:
        detail = "; ".join(damaging or warnings) or "libjpeg could not parse it"
        raise ImageReadError(path, f"truncated or corrupt JPEG ({detail})")
    n_components = jpeg.num_components
    if n_components not in (1, 3):
        raise ImageReadError(
            path,
            f"expected a grayscale or YCbCr JPEG; received a {n_components}-component "
            f"{jpeg.jpeg_color_space.name} JPEG, which has no luminance component",
        )
    rows, cols = -(-jpeg.height // 8), -(-jpeg.width // 8)
    coefficients = np.ascontiguousarray(jpeg.Y[:rows, :cols])
    table = np.asarray(jpeg.qt[jpeg.quant_tbl_no[0]], dtype=np.uint16)
    chroma = np.asarray(jpeg.qt[jpeg.quant_tbl_no[1]], dtype=np.uint16) if n_components == 3 else None
    return DCTImage(
        path=path,
        coefficients=coefficients,
        height=int(jpeg.height),
        width=int(jpeg.width),
        source="jpeg",
        quantization_table=table,
        progressive=bool(jpeg.progressive_mode),
        subsampling=_subsampling(np.asarray(jpeg.samp_factor)),
        warnings=tuple(warnings),
        arithmetic=arithmetic,
        chroma_quantization_table=chroma,
    )


def _subsampling(samp_factor: np.ndarray) -> str:
    """J:a:b notation from libjpeg sampling factors `[[v, h] per component]`."""
    if samp_factor.shape[0] == 1:
        return "gray"
    (luma_v, luma_h), (chroma_v, chroma_h) = samp_factor[0], samp_factor[1]
    horizontal, vertical = luma_h // chroma_h, luma_v // chroma_v
    names = {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (1, 2): "4:4:0", (4, 1): "4:1:1"}
    return names.get((horizontal, vertical), f"{luma_h}x{luma_v},{chroma_h}x{chroma_v}")


def open_image(path: str | Path):
    """Open and decode an image file with Pillow; every failure becomes an `ImageReadError` naming the file.

    An image that declares more than `MAX_PIXELS` pixels is refused before it is decoded (a possible
    decompression bomb). The caller owns the returned, loaded `PIL.Image.Image` (use it in a `with`).
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        image = Image.open(path)
        if image.width * image.height > MAX_PIXELS:
            image.close()
            raise ImageReadError(
                path,
                f"declares {image.width}x{image.height} pixels, more than the {MAX_PIXELS} this library "
                "reads (possible decompression bomb)",
            )
        image.load()
        return image
    except UnidentifiedImageError:
        with open(path, "rb") as f:
            head = f.read(8)
        raise ImageReadError(
            path, f"expected a JPEG, PNG or TIFF image; received a file starting with {head!r}"
        ) from None
    except Image.DecompressionBombError as error:
        raise ImageReadError(path, f"possible decompression bomb ({error})") from None
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, ImageReadError):
            raise
        raise ImageReadError(path, f"truncated or corrupt image ({error})") from None


def _read_pixels(path: Path) -> DCTImage:
    with open_image(path) as image:
        luminance = _luminance(image)
    return DCTImage(
        path=path,
        coefficients=block_dct(luminance),
        height=luminance.shape[0],
        width=luminance.shape[1],
        source="pixels",
    )


def _luminance(image) -> np.ndarray:
    """BT.601 luminance in 0..255 (float64) of a Pillow image of any mode."""
    if image.mode.startswith("I;16"):
        return np.asarray(image, dtype=np.float64) / 257.0
    if image.mode == "I":  # 32-bit integers: 16-bit data when any value exceeds 255
        values = np.asarray(image, dtype=np.float64)
        return values / 257.0 if values.max(initial=0) > 255 else values
    if image.mode in ("L", "1"):
        return np.asarray(image.convert("L"), dtype=np.float64)
    if image.mode == "F":
        return np.asarray(image, dtype=np.float64)
    rgb = np.asarray(image.convert("RGB"), dtype=np.float64)
    return rgb @ np.array([0.299, 0.587, 0.114])
