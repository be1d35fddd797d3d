"""Social networks and messaging apps as image-processing pipelines.

Paper 1 (Amerini et al. 2017, Sec. IV) tells apart images downloaded from Facebook, Flickr,
Twitter, Google+, Instagram, WhatsApp and Telegram, and camera originals. Each platform
resizes, re-encodes and strips an uploaded photo in its own way, and those traces are what
the classifier learns. Here each platform is a `PlatformProfile` (resize rule, JPEG encoder,
quantization tables or quality rule, chroma subsampling, progressive or baseline, metadata kept
or not, coefficients kept for files within limits), possibly a mixture of several behaviours
(e.g. two clients that encode differently), and `share` applies one to an image the way an
upload followed by a download would.

The profiles in `PLATFORMS` are approximations, not the platforms' code. Five are calibrated
on real downloads (Facebook, Instagram, Twitter, WhatsApp, Telegram: 43 files from public
repositories, measured with `python -m forensiclib measure-platform DIR/social/<platform>`;
the measured tables are embedded below as data, the files are not needed); Flickr and
Google+ had no downloads. Each profile's `notes` says, value by value, "measured on N
downloads: <command>: ...", "commonly reported, not verified here: ..." or "assumed: ...".
Calibrate a profile against other downloads with
`forensiclib.data.synth.measure.measure_platform(folder).to_profile(name)`.
"""

from __future__ import annotations

import contextlib
import difflib
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ...cache import write_atomic
from ...errors import ImageReadError
from ...provenance._libjpeg import _captured_c_stderr
from ...provenance.jpeg import JPEGLIB_LOCK, is_jpeg, open_image, read_dct
from ._segments import rewrite_segments
from .platform_catalogue import FACEBOOK_TABLES, PLATFORMS
from .platform_profile import SETTINGS, PlatformProfile

__all__ = ["PlatformProfile", "PLATFORMS", "FACEBOOK_TABLES", "SETTINGS", "get_platform", "pick_behaviour", "share", "share_chain"]

#: libjpeg's notice (a trace message, not a warning) when it writes a quantization table with entries above 255 as
#: 16 bits, so that the file is extended sequential rather than baseline. Facebook's measured chrominance table
#: (`FACEBOOK_TABLES`) has such entries, and a platform that keeps a Facebook download's coefficients rewrites it.
LIBJPEG_16BIT_TABLES = "Caution: quantization tables are too coarse for baseline JPEG"


@contextlib.contextmanager
def _libjpeg_writing():
    """libjpeg's messages while writing a simulated download: its 16-bit table notice dropped (the file says so
    itself, in its frame header), any other message turned into a Python warning instead of a line on stderr."""
    with _captured_c_stderr() as lines:
        yield
    other = [line.strip() for line in lines if line.strip() and line.strip() != LIBJPEG_16BIT_TABLES]
    if other:
        warnings.warn(f"libjpeg, writing a simulated download: {'; '.join(other)}", stacklevel=3)


# The "content" and "size" rules map a measure linearly onto the quality range (assumed constants):
# mean absolute luminance gradient 2 -> highest quality, 20 -> lowest; 0.25 MP -> highest, 2.5 MP -> lowest.
_CONTENT_RANGE = (2.0, 20.0)
_SIZE_RANGE = (0.25e6, 2.5e6)
_PILLOW_SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


def pick_behaviour(
    platform: str | PlatformProfile, *, random_state: int | np.random.Generator | None = None
) -> PlatformProfile:
    """The behaviour a platform shows for one upload: one of its `behaviours` drawn by weight, or itself.

    Example:
        >>> pick_behaviour("telegram") is PLATFORMS["telegram"]
        True
    """
    rng = np.random.default_rng(random_state)
    profile = get_platform(platform)
    if not profile.behaviours:
        return profile
    weights = np.array([weight for weight, _ in profile.behaviours])
    return profile.behaviours[int(rng.choice(len(weights), p=weights / weights.sum()))][1]


def get_platform(platform: str | PlatformProfile) -> PlatformProfile:
    """A profile from its name in `PLATFORMS`, or the profile itself.

    Raises:
        ValueError: an unknown name (the message lists the valid ones) or another type.

    Example:
        >>> get_platform("telegram").max_long_side
        1280
    """
    if isinstance(platform, PlatformProfile):
        return platform
    if isinstance(platform, str) and platform in PLATFORMS:
        return PLATFORMS[platform]
    close = difflib.get_close_matches(str(platform), list(PLATFORMS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(
        f"Expected a platform among {list(PLATFORMS)} or a PlatformProfile. Received: {platform!r}{hint}"
    )


def share(
    source: str | Path | np.ndarray,
    platform: str | PlatformProfile,
    destination: str | Path,
    *,
    random_state: int | np.random.Generator | None = None,
) -> Path:
    """Upload an image to a simulated platform and write what a download would give.

    A platform with several behaviours first draws one (`pick_behaviour`). The source is turned
    upright by its EXIF orientation, resized by the profile's rules, encoded as a JPEG with the
    profile's encoder, tables or quality, subsampling, scan mode and Huffman tables, and written with
    the profile's metadata `segments` and no other (the source's EXIF block too with `keep_exif`). A passthrough profile ("original") copies a source JPEG byte
    for byte; a `keep_jpeg` profile keeps a JPEG source's coefficients when it needs no resize.
    The file is written atomically (temporary name, then rename).

    Args:
        source: a JPEG, PNG or TIFF file, or an `(height, width, 3)` RGB or `(height, width)`
            gray uint8 array.
        platform: a name in `PLATFORMS` or a `PlatformProfile`.
        destination: the JPEG file to write; missing parent folders are created.
        random_state: seed or generator; the behaviour and the `"random"` and `"choice"` quality
            rules draw from it.

    Returns:
        The path written.

    Raises:
        FileNotFoundError: the source file does not exist.
        ImageReadError: the source is not an image, or is corrupt.
        ValueError: an unknown platform, a bad array, or a non-JPEG source for a passthrough profile.

    Example:
        >>> share("photo.jpg", "facebook", "out/photo_facebook.jpg", random_state=0)  # doctest: +SKIP
        PosixPath('out/photo_facebook.jpg')
    """
    rng = np.random.default_rng(random_state)
    profile = get_platform(platform)
    if profile.behaviours:
        profile = pick_behaviour(profile, random_state=rng)
    destination = _destination(destination)
    if profile.passthrough:
        _write_atomically(destination, _source_jpeg_bytes(source, profile))
        return destination
    if profile.keep_jpeg:
        kept = _kept_coefficients(source, profile)
        if kept is not None:
            _write_atomically(destination, kept)
            return destination
    image, exif = _load_source(source)
    image = _resize(image, profile)
    quality = _choose_quality(profile, image, rng)
    with tempfile.TemporaryDirectory(prefix="forensiclib-share-") as folder:
        encoded = Path(folder) / "encoded.jpg"
        _encode(np.asarray(image), profile, quality, encoded)
        data = encoded.read_bytes()
    if profile.segments:
        data = rewrite_segments(data, ("jfif", *profile.segments))
    if profile.keep_exif and exif:
        data = _insert_exif(data, exif)
    _write_atomically(destination, data)
    return destination


def share_chain(
    source: str | Path | np.ndarray,
    platforms: Sequence[str | PlatformProfile],
    destination: str | Path,
    *,
    random_state: int | np.random.Generator | None = None,
) -> Path:
    """Share an image on several platforms in turn: each download is the next upload.

    Args:
        source: as for `share`.
        platforms: names or profiles, in sharing order, e.g. `["facebook", "whatsapp"]`.
        destination: the final JPEG file; intermediate downloads are temporary.
        random_state: seed or generator; each step gets its own seed drawn from it.

    Returns:
        The path written.

    Example:
        >>> share_chain("photo.jpg", ["facebook", "whatsapp"], "fb_wa.jpg", random_state=0)  # doctest: +SKIP
        PosixPath('fb_wa.jpg')
    """
    rng = np.random.default_rng(random_state)
    if isinstance(platforms, (str, PlatformProfile)) or not isinstance(platforms, Sequence) or not platforms:
        raise ValueError(f"Expected `platforms` a non-empty list of platforms. Received: {platforms!r}")
    profiles = [get_platform(platform) for platform in platforms]
    seeds = rng.integers(0, 2**63, size=len(profiles))
    destination = _destination(destination)
    with tempfile.TemporaryDirectory(prefix="forensiclib-chain-") as folder:
        current = source
        for step, (profile, seed) in enumerate(zip(profiles, seeds)):
            last = step == len(profiles) - 1
            target = destination if last else Path(folder) / f"step{step}_{profile.name}.jpg"
            current = share(current, profile, target, random_state=int(seed))
    return destination


def _destination(destination: str | Path) -> Path:
    destination = Path(destination)
    if destination.is_dir():
        raise ValueError(f"Expected `destination` a file path. Received: {destination} (a folder)")
    destination.parent.mkdir(parents=True, exist_ok=True)
    return destination


def _write_atomically(path: Path, data: bytes) -> None:
    write_atomic(path, lambda temporary: Path(temporary).write_bytes(data))


def _source_path(source: str | Path) -> Path:
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"Expected an image file as `source`. Received: {path} (no such file)")
    if not path.is_file():
        raise ImageReadError(path, "expected an image file, found a folder or special file")
    return path


def _source_jpeg_bytes(source: str | Path | np.ndarray, profile: PlatformProfile) -> bytes:
    if isinstance(source, np.ndarray):
        raise ValueError(
            f"Expected a JPEG file as `source` for the passthrough profile {profile.name!r}, which hands the "
            f"camera's own file back untouched. Received: an array of shape {source.shape}"
        )
    path = _source_path(source)
    if not is_jpeg(path):
        raise ValueError(
            f"Expected a JPEG file as `source` for the passthrough profile {profile.name!r}. "
            f"Received: {path} (not a JPEG)"
        )
    return path.read_bytes()


def _load_source(source: str | Path | np.ndarray):
    """The source as an upright RGB Pillow image, and its EXIF block (bytes) or None."""
    from PIL import Image, ImageOps

    if isinstance(source, np.ndarray):
        shape_ok = source.ndim == 2 or (source.ndim == 3 and source.shape[2] == 3)
        if source.dtype != np.uint8 or not shape_ok:
            raise ValueError(
                f"Expected `source` an (H, W, 3) or (H, W) uint8 array. "
                f"Received: {source.dtype} {source.shape}"
            )
        return Image.fromarray(np.ascontiguousarray(source)).convert("RGB"), None
    with open_image(_source_path(source)) as opened:
        upright = ImageOps.exif_transpose(opened)
    exif = upright.info.get("exif")
    if upright.mode.startswith("I"):  # 16-bit or 32-bit integer gray: scale 16-bit data to 0..255
        values = np.asarray(upright, dtype=np.float64)
        values = values / 257.0 if values.max(initial=0) > 255 else values
        upright = Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8))
    return upright.convert("RGB"), exif if isinstance(exif, bytes) else None


def _scale(profile: PlatformProfile, width: int, height: int) -> float:
    """The factor a profile resizes a `width` x `height` image by (1.0: kept as it is)."""
    scale = 1.0
    if profile.max_long_side is not None:
        scale = min(scale, profile.max_long_side / max(width, height))
    if profile.max_width is not None:
        scale = min(scale, profile.max_width / width)
    if profile.min_width is not None and width < profile.min_width:
        scale = profile.min_width / width
    return scale


def _kept_coefficients(source, profile: PlatformProfile) -> bytes | None:
    """A JPEG source's coefficients and tables rewritten losslessly without metadata, or None when the source is not
    a JPEG file, needs turning by its EXIF orientation or resizing by the profile (it is then re-encoded)."""
    import jpeglib
    from PIL import Image

    if isinstance(source, np.ndarray):
        return None
    path = _source_path(source)
    if not is_jpeg(path):
        return None
    read_dct(path)  # a truncated or corrupt JPEG raises ImageReadError here, as it would when re-encoded
    with Image.open(path) as opened:
        if opened.getexif().get(0x0112, 1) not in (0, 1) or _scale(profile, *opened.size) != 1.0:
            return None
    with JPEGLIB_LOCK, tempfile.TemporaryDirectory(prefix="forensiclib-keep-") as folder:
        jpeg = jpeglib.read_dct(str(path))
        jpeg.load()
        jpeg.markers = []  # metadata stripped: only the encoder's JFIF header is written
        target = Path(folder) / "kept.jpg"
        with _libjpeg_writing():
            jpeg.write_dct(str(target))  # baseline: jpeglib cannot write the coefficients progressive
        return target.read_bytes()


def _resize(image, profile: PlatformProfile):
    from PIL import Image

    width, height = image.size
    scale = _scale(profile, width, height)
    if scale == 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resample = getattr(Image.Resampling, profile.resample.upper())
    return image.resize(size, resample=resample)


def _choose_quality(profile: PlatformProfile, image, rng: np.random.Generator) -> int:
    if profile.quality_rule == "fixed":
        return int(profile.quality)
    if profile.quality_rule == "choice":
        return int(profile.quality[int(rng.integers(len(profile.quality)))])
    lowest, highest = profile.quality
    if profile.quality_rule == "random":
        return int(rng.integers(lowest, highest + 1))
    if profile.quality_rule == "size":
        low, high = np.log(_SIZE_RANGE)
        fraction = (np.log(image.width * image.height) - low) / (high - low)
    else:
        luminance = np.asarray(image.convert("L"), dtype=np.float32)
        gradient = np.abs(np.diff(luminance, axis=0)).mean() if luminance.shape[0] > 1 else 0.0
        gradient += np.abs(np.diff(luminance, axis=1)).mean() if luminance.shape[1] > 1 else 0.0
        fraction = (gradient - _CONTENT_RANGE[0]) / (_CONTENT_RANGE[1] - _CONTENT_RANGE[0])
    return int(round(highest - float(np.clip(fraction, 0.0, 1.0)) * (highest - lowest)))


def _encode(rgb: np.ndarray, profile: PlatformProfile, quality: int, path: Path) -> None:
    tables = None if profile.quantization_tables is None else np.array(profile.quantization_tables)
    if profile.encoder == "pillow":
        from PIL import Image

        settings = {"quality": quality} if tables is None else {"qtables": [t.ravel().tolist() for t in tables]}
        Image.fromarray(rgb).save(
            path,
            format="JPEG",
            subsampling=_PILLOW_SUBSAMPLING[profile.subsampling],
            progressive=profile.progressive,
            optimize=profile.optimize_coding,
            **settings,
        )
        return
    import jpeglib

    with JPEGLIB_LOCK:  # the libjpeg version is process-wide state in jpeglib
        previous = jpeglib.version.get() or "6b"
        jpeglib.version.set(profile.encoder)
        try:
            jpeg = jpeglib.from_spatial(np.ascontiguousarray(rgb))
            jpeg.samp_factor = profile.subsampling
            jpeg.progressive_mode = profile.progressive
            method = getattr(jpeglib.DCTMethod, f"JDCT_{profile.dct_method.upper()}")
            with _libjpeg_writing():
                jpeg.write_spatial(str(path), qt=quality if tables is None else tables.astype(np.uint16),
                                   dct_method=method, flags=["+OPTIMIZE_CODING"] if profile.optimize_coding else [])  # fmt: skip
        finally:
            jpeglib.version.set(previous)


def _insert_exif(data: bytes, exif: bytes) -> bytes:
    """Put an APP1 EXIF segment after the SOI marker and any JFIF APP0 segment."""
    if not exif.startswith(b"Exif\x00\x00"):  # PNG eXIf chunks hold the TIFF block alone
        exif = b"Exif\x00\x00" + exif
    if len(exif) > 65533:  # does not fit one segment; a platform would drop it too
        return data
    position = 2
    if data[2:4] == b"\xff\xe0":
        position += 2 + int.from_bytes(data[4:6], "big")
    segment = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    return data[:position] + segment + data[position:]
