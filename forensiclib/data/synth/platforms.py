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

import dataclasses
import difflib
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

import numpy as np

from ...cache import write_atomic
from ...errors import ImageReadError
from ...provenance.jpeg import JPEGLIB_LOCK, is_jpeg, open_image, read_dct

__all__ = ["PlatformProfile", "PLATFORMS", "get_platform", "pick_behaviour", "share", "share_chain"]

#: Resampling filters accepted by `PlatformProfile.resample` (Pillow's names, lower case).
RESAMPLE_FILTERS = ("nearest", "box", "bilinear", "hamming", "bicubic", "lanczos")
#: Quality rules accepted by `PlatformProfile.quality_rule`.
QUALITY_RULES = ("fixed", "content", "size", "random", "choice")
#: Chroma subsamplings a profile may ask for.
SUBSAMPLINGS = ("4:4:4", "4:2:2", "4:2:0")
#: Forward DCTs of libjpeg a jpeglib encoder may use (`PlatformProfile.dct_method`).
DCT_METHODS = ("islow", "ifast", "float")
#: The settings a built-in profile documents in its `notes`.
SETTINGS = (
    "max_long_side", "max_width", "min_width", "resample", "encoder", "quantization_tables", "quality",
    "dct_method", "subsampling", "progressive", "keep_exif", "keep_jpeg",
)
#: The command that measured the built-in profiles (DIR: a folder of downloads laid out as social/<platform>/).
MEASURE_COMMAND = "python -m forensiclib measure-platform DIR/social/{name}"

# The "content" and "size" rules map a measure linearly onto the quality range (assumed constants):
# mean absolute luminance gradient 2 -> highest quality, 20 -> lowest; 0.25 MP -> highest, 2.5 MP -> lowest.
_CONTENT_RANGE = (2.0, 20.0)
_SIZE_RANGE = (0.25e6, 2.5e6)
_PILLOW_SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


@dataclasses.dataclass(frozen=True)
class PlatformProfile:
    """What a platform does to an uploaded photo before it can be downloaded again.

    Attributes:
        name: the platform's name, used in file names and reports.
        max_long_side: the longest side, in pixels, after upload; larger images are shrunk
            (aspect ratio kept), smaller ones never enlarged. None: no limit.
        max_width: the width, in pixels, wider images are shrunk to (Instagram-style); never
            enlarges. None: no limit. With `max_long_side` too, the stronger shrink wins.
        min_width: the width narrower images are enlarged to (Instagram's 320 px); None: never
            enlarged.
        resample: resampling filter for shrinking, one of `RESAMPLE_FILTERS`.
        encoder: `"pillow"` (Pillow's libjpeg-turbo) or a libjpeg version that jpeglib carries
            (`"6b"`, `"9e"`, `"turbo210"`, `"mozjpeg403"`, ...). All but mozjpeg write the IJG
            tables scaled by quality; mozjpeg 3+ scales its own default (Robidoux) tables, the
            same for luminance and chrominance, and always writes progressive.
        quantization_tables: the platform's own `(luminance, chrominance)` tables, two 8x8
            tables in natural order with entries 1..32767 (above 255: a 16-bit table), written
            instead of quality-scaled ones; `quality_rule` must then be `"fixed"` (its quality
            is unused). None: quality-scaled tables.
        quality: the quality factor 1..100 (`quality_rule="fixed"`), an inclusive range
            `(lowest, highest)` for `"content"`, `"size"` and `"random"`, or the values to draw
            from for `"choice"`.
        quality_rule: `"fixed"`; `"content"` (busier images get lower quality, as a file-size
            budget would give; deterministic); `"size"` (larger images get lower quality;
            deterministic); `"random"` (uniform in the range, drawn from `random_state`);
            `"choice"` (one of the listed values, drawn from `random_state`).
        dct_method: libjpeg's forward DCT, one of `DCT_METHODS`; other than `"islow"` needs a
            jpeglib encoder (it stands for an encoder whose DCT rounds differently).
        subsampling: chroma subsampling, one of `SUBSAMPLINGS`.
        progressive: write a progressive JPEG (else baseline).
        keep_exif: carry the source's EXIF block into the download (orientation removed, as
            the pixels are already turned upright); otherwise no EXIF/APP segment is written
            besides the encoder's own JFIF header.
        keep_jpeg: a JPEG source that needs no resize and no turning keeps its quantized
            coefficients and tables (rewritten losslessly, metadata stripped); others are
            re-encoded. The download is then the source's coefficients, like an original's.
        passthrough: hand the source JPEG back byte for byte (camera originals); every other
            setting is then unused.
        behaviours: `((weight, profile), ...)`: the platform behaves as one of these profiles,
            drawn by weight for each upload (e.g. two apps that encode differently); the
            profile's own settings are then unused. Empty: one behaviour, this profile.
        notes: per setting name, where its value comes from: "measured on N downloads: ...",
            "commonly reported, not verified here: ..." or "assumed: ...".
            Not compared between profiles.

    Example:
        >>> mine = PlatformProfile(name="mine", max_long_side=1200, quality=80, progressive=True)
        >>> share("photo.jpg", mine, "photo_mine.jpg")  # doctest: +SKIP
    """

    name: str
    max_long_side: int | None = None
    max_width: int | None = None
    resample: str = "lanczos"
    encoder: str = "pillow"
    quality: int | tuple[int, ...] = 75
    quality_rule: str = "fixed"
    subsampling: str = "4:2:0"
    progressive: bool = False
    keep_exif: bool = False
    passthrough: bool = False
    min_width: int | None = None
    quantization_tables: tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]] | None = None
    dct_method: str = "islow"
    keep_jpeg: bool = False
    behaviours: tuple[tuple[float, PlatformProfile], ...] = ()
    notes: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Expected `name` a non-empty string. Received: {self.name!r}")
        for field in ("max_long_side", "max_width", "min_width"):
            value = getattr(self, field)
            if value is not None and (not _is_int(value) or value < 1):
                raise ValueError(f"Expected `{field}` a positive integer or None. Received: {value!r}")
        _check_choice("resample", self.resample, RESAMPLE_FILTERS)
        _check_choice("encoder", self.encoder, ("pillow", *_jpeglib_versions()))
        _check_choice("quality_rule", self.quality_rule, QUALITY_RULES)
        _check_choice("subsampling", self.subsampling, SUBSAMPLINGS)
        _check_choice("dct_method", self.dct_method, DCT_METHODS)
        if isinstance(self.quality, list):
            object.__setattr__(self, "quality", tuple(self.quality))
        if self.quality_rule == "fixed" and not (_is_int(self.quality) and 1 <= self.quality <= 100):
            raise ValueError(
                f"Expected `quality` an integer in 1..100 for the fixed rule. Received: {self.quality!r}"
            )
        if self.quality_rule == "choice":
            if not (
                isinstance(self.quality, tuple)
                and self.quality
                and all(_is_int(value) and 1 <= value <= 100 for value in self.quality)
            ):
                raise ValueError(
                    f"Expected `quality` a non-empty tuple of integers in 1..100 for the 'choice' rule. "
                    f"Received: {self.quality!r}"
                )
        elif self.quality_rule != "fixed" and not (
            isinstance(self.quality, tuple)
            and len(self.quality) == 2
            and all(_is_int(value) for value in self.quality)
            and 1 <= self.quality[0] <= self.quality[1] <= 100
        ):
            raise ValueError(
                f"Expected `quality` a range (lowest, highest) within 1..100 for the {self.quality_rule!r} "
                f"rule. Received: {self.quality!r}"
            )
        for field in ("progressive", "keep_exif", "passthrough", "keep_jpeg"):
            if not isinstance(getattr(self, field), bool):
                raise ValueError(f"Expected `{field}` True or False. Received: {getattr(self, field)!r}")
        if self.quantization_tables is not None:
            object.__setattr__(self, "quantization_tables", _check_tables(self.quantization_tables))
            if self.quality_rule != "fixed" or self.encoder.startswith("mozjpeg"):
                raise ValueError(
                    "Expected `quality_rule='fixed'` and an encoder other than mozjpeg with `quantization_tables` "
                    f"(the tables replace the quality scaling). Received: quality_rule={self.quality_rule!r}, "
                    f"encoder={self.encoder!r}"
                )
        if self.dct_method != "islow" and self.encoder == "pillow":
            raise ValueError(
                f"Expected a jpeglib encoder (e.g. 'turbo210') with dct_method={self.dct_method!r}: Pillow always "
                "uses the integer DCT. Received: encoder='pillow'"
            )
        object.__setattr__(self, "behaviours", _check_behaviours(self.behaviours))
        if self.encoder.startswith("mozjpeg") and not self.progressive:
            raise ValueError(
                f"Expected `progressive=True` with encoder {self.encoder!r}: jpeglib's mozjpeg always writes "
                "progressive JPEGs. Received: progressive=False"
            )
        if not isinstance(self.notes, Mapping):
            raise ValueError(f"Expected `notes` a mapping of setting to text. Received: {type(self.notes)}")

    def describe(self) -> str:
        """The profile as text, one setting per line with its note (each behaviour in turn).

        Example:
            >>> print(PLATFORMS["telegram"].describe())  # doctest: +SKIP
            telegram
              max_long_side: 1280  (measured on 6 downloads: ...)
        """
        if self.passthrough:
            return f"{self.name}\n  passthrough: True  ({self.notes.get('passthrough', 'no note')})"
        if self.behaviours:
            total = sum(weight for weight, _ in self.behaviours)
            lines = [f"{self.name}: {len(self.behaviours)} behaviours ({self.notes.get('behaviours', 'no note')})"]
            for weight, behaviour in self.behaviours:
                text = behaviour.describe().replace("\n", "\n  ")
                lines.append(f"  [{100 * weight / total:.0f}% of uploads] {text}")
            return "\n".join(lines)
        lines = [self.name]
        for field in SETTINGS:
            value = getattr(self, field)
            if field == "quality" and self.quantization_tables is not None:
                value = "unused (the platform's own tables)"
            elif field == "quality" and self.quality_rule == "choice":
                value = f"one of {', '.join(map(str, value))} (choice)"
            elif field == "quality" and self.quality_rule != "fixed":
                value = f"{value[0]}..{value[1]} ({self.quality_rule})"
            elif field == "quantization_tables" and value is not None:
                value = f"luminance {_first_row(value[0])}, chrominance {_first_row(value[1])}"
            lines.append(f"  {field}: {value}  ({self.notes.get(field, 'no note')})")
        return "\n".join(lines)


def _first_row(table) -> str:
    return "[" + " ".join(map(str, table[0])) + " ...]"


def _check_tables(tables) -> tuple:
    """`(luminance, chrominance)` 8x8 integer tables as nested tuples, entries 1..32767 (JPEG's 16-bit limit)."""
    try:
        array = np.asarray(tables)
    except ValueError:
        array = None
    if array is None or array.shape != (2, 8, 8) or array.dtype.kind not in "iu" or not (
        (array >= 1) & (array <= 32767)
    ).all():
        shape = None if array is None else array.shape
        raise ValueError(
            "Expected `quantization_tables` two 8x8 integer tables (luminance, chrominance) with entries 1..32767. "
            f"Received: an array of shape {shape}"
        )
    return tuple(tuple(tuple(int(value) for value in row) for row in table) for table in array)


def _check_behaviours(behaviours) -> tuple:
    if not isinstance(behaviours, (tuple, list)):
        raise ValueError(f"Expected `behaviours` a tuple of (weight, PlatformProfile). Received: {behaviours!r}")
    checked = []
    for item in behaviours:
        valid = isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[1], PlatformProfile)
        weight = item[0] if valid else None
        if not valid or isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            raise ValueError(
                f"Expected each behaviour a (positive weight, PlatformProfile) pair. Received: {item!r}"
            )
        if item[1].behaviours or item[1].passthrough:
            raise ValueError(
                f"Expected a behaviour to be a plain profile (no behaviours of its own, not a passthrough). "
                f"Received: {item[1].name!r}"
            )
        checked.append((float(weight), item[1]))
    return tuple(checked)


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


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_choice(field: str, value, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"Expected `{field}` one of {list(choices)}. Received: {value!r}")


def _jpeglib_versions() -> list[str]:
    import jpeglib

    return sorted(jpeglib.version.versions())


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
    profile's encoder, tables or quality, subsampling and scan mode, and written without
    metadata (unless `keep_exif`). A passthrough profile ("original") copies a source JPEG byte
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
            jpeg.write_spatial(str(path), qt=quality if tables is None else tables.astype(np.uint16),
                               dct_method=method)  # fmt: skip
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


def _table(values: Sequence[int]) -> tuple[tuple[int, ...], ...]:
    """Eight rows of eight from 64 values in natural (row-major) order."""
    return tuple(tuple(values[row * 8 : row * 8 + 8]) for row in range(8))


def _measured(name: str, n: int, finding: str) -> str:
    """The note of a value measured on `n` real downloads from platform `name`."""
    return f"measured on {n} downloads: {MEASURE_COMMAND.format(name=name)}: {finding}"


#: Facebook's own tables (luminance, chrominance), in 5 of 6 downloads saved from the Android app by two accounts in
#: 2025 (FB_IMG_<timestamp>.jpg with Facebook's FBMD IPTC block). Not IJG tables (nearest IJG quality 81, mean
#: absolute error 7.1); the last chrominance entry, 267, needs a 16-bit table.
FACEBOOK_TABLES = (
    _table([9, 8, 16, 16, 23, 24, 26, 27, 8, 11, 15, 17, 24, 22, 28, 28, 16, 15, 18, 20, 24, 27, 26, 29,
            16, 17, 20, 23, 29, 31, 31, 32, 23, 24, 24, 29, 32, 34, 38, 38, 24, 22, 27, 31, 34, 38, 35, 42,
            26, 28, 26, 31, 38, 35, 38, 37, 27, 28, 29, 32, 38, 42, 37, 30]),
    _table([8, 7, 14, 12, 19, 17, 20, 22, 7, 10, 13, 13, 17, 15, 19, 20, 14, 13, 15, 14, 16, 18, 18, 21,
            12, 13, 14, 15, 19, 17, 19, 22, 19, 17, 16, 19, 15, 22, 17, 21, 17, 15, 18, 17, 22, 19, 22, 32,
            20, 19, 18, 19, 17, 22, 35, 32, 22, 20, 21, 22, 21, 32, 32, 267]),
)  # fmt: skip

_STRIPPED = "EXIF stripped"
_NO_WIDTH_RULE = "no separate width rule"

_FACEBOOK_COMMON = dict(name="facebook", max_long_side=2048, resample="lanczos", encoder="pillow",
                        subsampling="4:2:0", progressive=True)  # fmt: skip
_FACEBOOK_NOTES = {
    "max_long_side": _measured("facebook", 6, "long sides 1079..1440 (sizes the app serves); 2048 px, the commonly "
                               "reported limit of high-quality uploads, kept as the limit"),
    "max_width": "commonly reported, not verified here: " + _NO_WIDTH_RULE,
    "min_width": "assumed: small images are not enlarged",
    "resample": "assumed: Lanczos (often said of Facebook's resizer; not verified here)",
    "dct_method": "assumed: libjpeg's integer DCT",
    "subsampling": _measured("facebook", 6, "4:2:0 in 6 of 6"),
    "progressive": _measured("facebook", 6, "progressive in 6 of 6"),
    "keep_exif": _measured("facebook", 6, "no EXIF in 6 of 6; Facebook's own IPTC block (APP13, FBMD) in 6 of 6, not "
                           "simulated (the features do not see it)"),
    "keep_jpeg": _measured("facebook", 6, "every download re-encoded (none kept a source table)"),
}
_FACEBOOK_OWN = PlatformProfile(
    **_FACEBOOK_COMMON, quantization_tables=FACEBOOK_TABLES, quality=81,
    notes={**_FACEBOOK_NOTES,
           "encoder": "assumed: libjpeg-turbo writing Facebook's tables",
           "quantization_tables": _measured("facebook", 6, "this pair of tables in 5 of 6 (2 accounts, 2025), "
                                            "embedded as FACEBOOK_TABLES"),
           "quality": "unused: the platform's own tables"},
)  # fmt: skip
_FACEBOOK_IJG = PlatformProfile(
    **_FACEBOOK_COMMON, quality=(65, 79), quality_rule="content",
    notes={**_FACEBOOK_NOTES,
           "encoder": "assumed: libjpeg-turbo writing IJG tables",
           "quantization_tables": _measured("facebook", 6, "an exact IJG table in 1 of 6 (2023)"),
           "quality": _measured("facebook", 6, "IJG quality 65 in the 1 download with an IJG table; qualities around "
                                "71-85 are commonly reported for 2016-2018. The content rule (busier image, lower "
                                "quality) is assumed, and the range stops at 79 so that it never writes Instagram's "
                                "measured quality 80 or Twitter's 85 (identical files in different classes)")},
)  # fmt: skip

_TWITTER_COMMON = dict(name="twitter", max_long_side=4096, resample="bicubic", encoder="pillow", quality=85,
                       subsampling="4:2:0", progressive=True)  # fmt: skip
_TWITTER_NOTES = {
    "max_long_side": _measured("twitter", 6, "a 16k-wide post came back 4096x2304; 4096 px is also the commonly "
                               "reported limit"),
    "max_width": "commonly reported, not verified here: " + _NO_WIDTH_RULE,
    "min_width": "assumed: small images are not enlarged",
    "resample": "assumed",
    "encoder": "assumed: libjpeg-turbo writing IJG tables",
    "quantization_tables": _measured("twitter", 6, "exact IJG tables in every re-encoded download (4 of 6)"),
    "quality": _measured("twitter", 6, "IJG quality 85 in the 4 re-encoded downloads (posts, avatars, banner)"),
    "dct_method": "assumed: libjpeg's integer DCT",
    "subsampling": _measured("twitter", 6, "4:2:0 in the 4 re-encoded downloads; the 2 kept ones 4:4:4 as their "
                             "source"),
    "progressive": _measured("twitter", 6, "progressive in 6 of 6 (the kept ones are written baseline here: "
                             "jpeglib cannot rewrite coefficients progressive; the coefficients are the same)"),
    "keep_exif": _measured("twitter", 6, "no EXIF in 6 of 6 (an ICC profile in 4, not simulated)"),
}
_TWITTER_KEEPING = PlatformProfile(
    **_TWITTER_COMMON, keep_jpeg=True,
    notes={**_TWITTER_NOTES,
           "keep_jpeg": _measured("twitter", 6, "2 posts of 1920x1080 kept their source's tables and coefficients "
                                  "(only rewritten as progressive); posts beyond 4096 px, avatars and banners were "
                                  "re-encoded")},
)  # fmt: skip
_TWITTER_ENCODING = PlatformProfile(
    **_TWITTER_COMMON,
    notes={**_TWITTER_NOTES,
           "keep_jpeg": "assumed: uploads the app has already re-encoded, and images that are not JPEGs, are "
                        "re-encoded"},
)  # fmt: skip

_WHATSAPP_NOTES = {
    "max_width": "commonly reported, not verified here: " + _NO_WIDTH_RULE,
    "min_width": "assumed: small images are not enlarged",
    "resample": "assumed: bilinear, as a phone app would",
    "subsampling": _measured("whatsapp", 18, "4:2:0 in 18 of 18"),
    "keep_exif": _measured("whatsapp", 18, "no EXIF in 18 of 18 (an ICC profile in the 4 baseline ones, not "
                           "simulated)"),
    "keep_jpeg": _measured("whatsapp", 18, "every download re-encoded"),
}
_WHATSAPP_MOZJPEG = PlatformProfile(
    name="whatsapp", max_long_side=1280, resample="bilinear", encoder="mozjpeg403", quality=(70, 80),
    quality_rule="choice", subsampling="4:2:0", progressive=True,
    notes={**_WHATSAPP_NOTES,
           "max_long_side": _measured("whatsapp", 18, "8 downloads of 1280x853 (3:2 photos shrunk to a 1280 px long "
                                      "side), 6 at 1080 px wide; 1600 px is also commonly reported"),
           "encoder": _measured("whatsapp", 18, "14 of 18 carry mozjpeg's default (Robidoux) tables, the same for "
                                "luminance and chrominance, exactly as jpeglib's mozjpeg 4.0.3 writes them at "
                                "qualities 70 and 80"),
           "quantization_tables": "mozjpeg's own, scaled by quality",
           "quality": _measured("whatsapp", 18, "mozjpeg quality 70 in 6 downloads (one account, 2025-07), 80 in 8 "
                                "(the same account, 2025-08); which one a photo gets is not known, drawn at random"),
           "dct_method": "assumed: libjpeg's integer DCT",
           "progressive": _measured("whatsapp", 18, "progressive in 14 of 14 with mozjpeg tables")},
)  # fmt: skip
_WHATSAPP_IJG = PlatformProfile(
    name="whatsapp", max_long_side=1600, resample="bilinear", encoder="turbo210", quality=92, subsampling="4:2:0",
    progressive=False, dct_method="ifast",
    notes={**_WHATSAPP_NOTES,
           "max_long_side": "commonly reported, not verified here: 1600 px (the 4 downloads are 1080x1080)",
           "encoder": _measured("whatsapp", 18, "4 of 18 (another account, with an ICC profile: another client) "
                                "carry exact IJG tables"),
           "quantization_tables": "IJG tables scaled by quality",
           "quality": _measured("whatsapp", 18, "IJG quality 92 in 4 of 4 with IJG tables"),
           "dct_method": "assumed: libjpeg's fast integer DCT, standing for the other client's encoder; it also keeps "
                         "these files from being identical to Instagram's at quality 92 (the floating-point DCT "
                         "gives Instagram's coefficients on smooth images)",
           "progressive": _measured("whatsapp", 18, "baseline in 4 of 4 with IJG tables")},
)  # fmt: skip

_INSTAGRAM = PlatformProfile(
    name="instagram", max_width=1080, min_width=320, resample="bicubic", encoder="turbo210", quality=(80, 90, 92),
    quality_rule="choice", subsampling="4:2:0", progressive=True,
    notes={
        "max_long_side": "commonly reported, not verified here: no long-side rule, the width rule applies",
        "max_width": _measured("instagram", 7, "largest width 1080 in 2 of 7; 1080 px is also the commonly reported "
                               "feed width (the crop to aspect ratios 1.91:1..4:5 is not simulated)"),
        "min_width": _measured("instagram", 7, "sources of 150 and 250 px wide came back 320 px wide (320 px is the "
                               "commonly reported smallest width)"),
        "resample": "assumed",
        "encoder": "assumed: libjpeg-turbo 2.1 writing IJG tables",
        "quantization_tables": _measured("instagram", 7, "exact IJG tables in 7 of 7"),
        "quality": _measured("instagram", 7, "IJG qualities 80 (3 downloads), 90 (2), 92 (2); what picks one is not "
                             "known, drawn at random"),
        "dct_method": "assumed: libjpeg's integer DCT",
        "subsampling": _measured("instagram", 7, "4:2:0 in 7 of 7"),
        "progressive": _measured("instagram", 7, "progressive in 7 of 7"),
        "keep_exif": _measured("instagram", 7, "no EXIF in 7 of 7 (Facebook's IPTC block FBMD in 7, not simulated)"),
        "keep_jpeg": _measured("instagram", 7, "every download re-encoded"),
    },
)  # fmt: skip

_TELEGRAM = PlatformProfile(
    name="telegram", max_long_side=1280, resample="bilinear", encoder="turbo210", quality=87, subsampling="4:2:0",
    progressive=True,
    notes={
        "max_long_side": _measured("telegram", 6, "largest long side 1280 (1042x1280); 1280 px is also the commonly "
                                   "reported limit"),
        "max_width": "commonly reported, not verified here: " + _NO_WIDTH_RULE,
        "min_width": "assumed: small images are not enlarged",
        "resample": "assumed: bilinear, as a phone app would",
        "encoder": "assumed: libjpeg-turbo (the sending app encodes)",
        "quantization_tables": _measured("telegram", 6, "exact IJG tables in 6 of 6"),
        "quality": _measured("telegram", 6, "IJG quality 87 in 6 of 6"),
        "dct_method": "assumed: libjpeg's integer DCT",
        "subsampling": _measured("telegram", 6, "4:2:0 in 6 of 6"),
        "progressive": _measured("telegram", 6, "progressive in 6 of 6"),
        "keep_exif": _measured("telegram", 6, "no EXIF in 6 of 6 (an ICC profile in 6, not simulated); files sent as "
                               "documents, not simulated, keep everything"),
        "keep_jpeg": _measured("telegram", 6, "every download re-encoded"),
    },
)  # fmt: skip

_ASSUMED_COMMON = {
    "max_width": "assumed: " + _NO_WIDTH_RULE,
    "min_width": "assumed: small images are not enlarged",
    "resample": "assumed",
    "quantization_tables": "assumed: IJG tables scaled by quality",
    "dct_method": "assumed: libjpeg's integer DCT",
    "subsampling": "assumed: 4:2:0",
    "progressive": "assumed: baseline",
    "keep_jpeg": "assumed: every upload re-encoded",
}

PLATFORMS: Mapping[str, PlatformProfile] = MappingProxyType({
    "facebook": PlatformProfile(
        name="facebook", behaviours=((5, _FACEBOOK_OWN), (1, _FACEBOOK_IJG)),
        notes={"behaviours": _measured("facebook", 6, "Facebook's own tables in 5, an IJG table in 1; weighted so")},
    ),
    "flickr": PlatformProfile(
        name="flickr", max_long_side=2048, resample="lanczos", encoder="6b",
        quality=94, subsampling="4:2:0", progressive=False, keep_exif=True,
        notes={
            **_ASSUMED_COMMON,
            "max_long_side": "assumed: the 'Large 2048' download size; the untouched original that owners "
                             "can download is not simulated (no Flickr downloads were available to measure)",
            "encoder": "assumed: IJG libjpeg 6b",
            "quality": "assumed: high, fixed",
            "keep_exif": "assumed: kept (Flickr shows the camera's EXIF on photo pages)",
        },
    ),
    "twitter": PlatformProfile(
        name="twitter", behaviours=((1, _TWITTER_KEEPING), (4, _TWITTER_ENCODING)),
        notes={"behaviours": "assumed: a fifth of uploads come from the web client, which keeps a JPEG within the "
                             "limits (measured: 2 posts kept, see keep_jpeg); the rest from the mobile apps (commonly "
                             "reported to carry about four fifths of the use), which re-encode them"},
    ),
    "instagram": _INSTAGRAM,
    "google_plus": PlatformProfile(
        name="google_plus", max_long_side=2048, resample="lanczos", encoder="9e",
        quality=93, subsampling="4:2:0", progressive=False,
        notes={
            **_ASSUMED_COMMON,
            "max_long_side": "assumed: 2048 px (the service closed in 2019; no downloads were available to measure)",
            "encoder": "assumed: IJG libjpeg 9e",
            "quality": "assumed: high (paper 1, Sec. IV, finds Google+ patches mistaken for camera originals, "
                       "a sign of mild processing); 93 rather than 90 so that it never writes Instagram's measured "
                       "quality 90 (identical files in different classes)",
            "keep_exif": "assumed: stripped",
        },
    ),
    "whatsapp": PlatformProfile(
        name="whatsapp", behaviours=((14, _WHATSAPP_MOZJPEG), (4, _WHATSAPP_IJG)),
        notes={"behaviours": _measured("whatsapp", 18, "mozjpeg tables in 14, IJG tables in 4 (two clients); "
                                       "weighted so")},
    ),
    "telegram": _TELEGRAM,
    "original": PlatformProfile(
        name="original", passthrough=True,
        notes={"passthrough": "the camera's own JPEG, byte for byte (paper 1's 'Original' class)"},
    ),
})  # fmt: skip
"""The built-in profiles, by name: seven platforms of paper 1 (Sec. IV) and camera originals."""
