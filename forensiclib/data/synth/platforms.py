"""Social networks and messaging apps as image-processing pipelines.

Paper 1 (Amerini et al. 2017, Sec. IV) tells apart images downloaded from Facebook, Flickr,
Twitter, Google+, Instagram, WhatsApp and Telegram, and camera originals. Each platform
resizes, re-encodes and strips an uploaded photo in its own way, and those traces are what
the classifier learns. Here each platform is a `PlatformProfile` (resize rule, JPEG encoder,
quality rule, chroma subsampling, progressive or baseline, metadata kept or not), and
`share` applies one to an image the way an upload followed by a download would.

The profiles in `PLATFORMS` are approximations of the platforms circa 2016-2018, not their
actual code: each profile's `notes` says, value by value, whether it is a commonly reported value
(from general knowledge of the platforms, not verified against a source here) or an
assumption. Calibrate a profile against real
downloads with `forensiclib.data.synth.measure.measure_platform(folder).to_profile(name)`.
"""

from __future__ import annotations

import dataclasses
import difflib
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

import numpy as np

from ...cache import write_atomic
from ...errors import ImageReadError
from ...provenance.jpeg import is_jpeg, open_image

__all__ = ["PlatformProfile", "PLATFORMS", "get_platform", "share", "share_chain"]

#: Resampling filters accepted by `PlatformProfile.resample` (Pillow's names, lower case).
RESAMPLE_FILTERS = ("nearest", "box", "bilinear", "hamming", "bicubic", "lanczos")
#: Quality rules accepted by `PlatformProfile.quality_rule`.
QUALITY_RULES = ("fixed", "content", "size", "random")
#: Chroma subsamplings a profile may ask for.
SUBSAMPLINGS = ("4:4:4", "4:2:2", "4:2:0")
#: The settings a built-in profile documents in its `notes`.
SETTINGS = (
    "max_long_side", "max_width", "resample", "encoder", "quality", "subsampling", "progressive", "keep_exif"
)

# The "content" and "size" rules map a measure linearly onto the quality range (assumed constants):
# mean absolute luminance gradient 2 -> highest quality, 20 -> lowest; 0.25 MP -> highest, 2.5 MP -> lowest.
_CONTENT_RANGE = (2.0, 20.0)
_SIZE_RANGE = (0.25e6, 2.5e6)
_PILLOW_SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}
_jpeglib_lock = threading.Lock()


@dataclasses.dataclass(frozen=True)
class PlatformProfile:
    """What a platform does to an uploaded photo before it can be downloaded again.

    Attributes:
        name: the platform's name, used in file names and reports.
        max_long_side: the longest side, in pixels, after upload; larger images are shrunk
            (aspect ratio kept), smaller ones never enlarged. None: no limit.
        max_width: the width, in pixels, wider images are shrunk to (Instagram-style); never
            enlarges. None: no limit. With `max_long_side` too, the stronger shrink wins.
        resample: resampling filter for shrinking, one of `RESAMPLE_FILTERS`.
        encoder: `"pillow"` (Pillow's libjpeg-turbo) or a libjpeg version that jpeglib carries
            (`"6b"`, `"9e"`, `"turbo210"`, `"mozjpeg403"`, ...). All but mozjpeg write the IJG
            tables scaled by quality; mozjpeg writes its own tables and always progressive.
        quality: the IJG quality factor 1..100 (`quality_rule="fixed"`), or an inclusive range
            `(lowest, highest)` for the other rules.
        quality_rule: `"fixed"`; `"content"` (busier images get lower quality, as a file-size
            budget would give; deterministic); `"size"` (larger images get lower quality;
            deterministic); `"random"` (uniform in the range, drawn from `random_state`).
        subsampling: chroma subsampling, one of `SUBSAMPLINGS`.
        progressive: write a progressive JPEG (else baseline).
        keep_exif: carry the source's EXIF block into the download (orientation removed, as
            the pixels are already turned upright); otherwise no EXIF/APP segment is written
            besides the encoder's own JFIF header.
        passthrough: hand the source JPEG back byte for byte (camera originals); every other
            setting is then unused.
        notes: per setting name, where its value comes from: "commonly reported, not verified
            here: ..." or "assumed: ...".
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
    quality: int | tuple[int, int] = 75
    quality_rule: str = "fixed"
    subsampling: str = "4:2:0"
    progressive: bool = False
    keep_exif: bool = False
    passthrough: bool = False
    notes: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Expected `name` a non-empty string. Received: {self.name!r}")
        for field in ("max_long_side", "max_width"):
            value = getattr(self, field)
            if value is not None and (not _is_int(value) or value < 1):
                raise ValueError(f"Expected `{field}` a positive integer or None. Received: {value!r}")
        _check_choice("resample", self.resample, RESAMPLE_FILTERS)
        _check_choice("encoder", self.encoder, ("pillow", *_jpeglib_versions()))
        _check_choice("quality_rule", self.quality_rule, QUALITY_RULES)
        _check_choice("subsampling", self.subsampling, SUBSAMPLINGS)
        if isinstance(self.quality, list):
            object.__setattr__(self, "quality", tuple(self.quality))
        if self.quality_rule == "fixed" and not (_is_int(self.quality) and 1 <= self.quality <= 100):
            raise ValueError(
                f"Expected `quality` an integer in 1..100 for the fixed rule. Received: {self.quality!r}"
            )
        if self.quality_rule != "fixed" and not (
            isinstance(self.quality, tuple)
            and len(self.quality) == 2
            and all(_is_int(value) for value in self.quality)
            and 1 <= self.quality[0] <= self.quality[1] <= 100
        ):
            raise ValueError(
                f"Expected `quality` a range (lowest, highest) within 1..100 for the {self.quality_rule!r} "
                f"rule. Received: {self.quality!r}"
            )
        for field in ("progressive", "keep_exif", "passthrough"):
            if not isinstance(getattr(self, field), bool):
                raise ValueError(f"Expected `{field}` True or False. Received: {getattr(self, field)!r}")
        if self.encoder.startswith("mozjpeg") and not self.progressive:
            raise ValueError(
                f"Expected `progressive=True` with encoder {self.encoder!r}: jpeglib's mozjpeg always writes "
                "progressive JPEGs. Received: progressive=False"
            )
        if not isinstance(self.notes, Mapping):
            raise ValueError(f"Expected `notes` a mapping of setting to text. Received: {type(self.notes)}")

    def describe(self) -> str:
        """The profile as text, one setting per line with its note.

        Example:
            >>> print(PLATFORMS["telegram"].describe())  # doctest: +SKIP
            telegram
              max_long_side: 1280  (commonly reported, not verified here: ...)
        """
        if self.passthrough:
            return f"{self.name}\n  passthrough: True  ({self.notes.get('passthrough', 'no note')})"
        lines = [self.name]
        for field in SETTINGS:
            value = getattr(self, field)
            if field == "quality" and self.quality_rule != "fixed":
                value = f"{value[0]}..{value[1]} ({self.quality_rule})"
            lines.append(f"  {field}: {value}  ({self.notes.get(field, 'no note')})")
        return "\n".join(lines)


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

    The source is turned upright by its EXIF orientation, shrunk by the profile's resize rule,
    encoded as a JPEG with the profile's encoder, quality, subsampling and scan mode, and
    written without metadata (unless `keep_exif`). A passthrough profile ("original") copies a
    source JPEG byte for byte. The file is written atomically (temporary name, then rename).

    Args:
        source: a JPEG, PNG or TIFF file, or an `(height, width, 3)` RGB or `(height, width)`
            gray uint8 array.
        platform: a name in `PLATFORMS` or a `PlatformProfile`.
        destination: the JPEG file to write; missing parent folders are created.
        random_state: seed or generator; only the `"random"` quality rule draws from it.

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
    destination = _destination(destination)
    if profile.passthrough:
        _write_atomically(destination, _source_jpeg_bytes(source, profile))
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


def _resize(image, profile: PlatformProfile):
    from PIL import Image

    width, height = image.size
    scale = 1.0
    if profile.max_long_side is not None:
        scale = min(scale, profile.max_long_side / max(width, height))
    if profile.max_width is not None:
        scale = min(scale, profile.max_width / width)
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resample = getattr(Image.Resampling, profile.resample.upper())
    return image.resize(size, resample=resample)


def _choose_quality(profile: PlatformProfile, image, rng: np.random.Generator) -> int:
    if profile.quality_rule == "fixed":
        return int(profile.quality)
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
    if profile.encoder == "pillow":
        from PIL import Image

        Image.fromarray(rgb).save(
            path,
            format="JPEG",
            quality=quality,
            subsampling=_PILLOW_SUBSAMPLING[profile.subsampling],
            progressive=profile.progressive,
        )
        return
    import jpeglib

    with _jpeglib_lock:  # the libjpeg version is process-wide state in jpeglib
        previous = jpeglib.version.get() or "6b"
        jpeglib.version.set(profile.encoder)
        try:
            jpeg = jpeglib.from_spatial(np.ascontiguousarray(rgb))
            jpeg.samp_factor = profile.subsampling
            jpeg.progressive_mode = profile.progressive
            jpeg.write_spatial(str(path), qt=quality)
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


PLATFORMS: Mapping[str, PlatformProfile] = MappingProxyType({
    "facebook": PlatformProfile(
        name="facebook", max_long_side=2048, resample="lanczos", encoder="pillow",
        quality=(71, 85), quality_rule="content", subsampling="4:2:0", progressive=True,
        notes={
            "max_long_side": "commonly reported, not verified here: high-quality uploads are kept at most 2048 px on the long side "
                             "(standard uploads: 960 px, not simulated)",
            "max_width": "commonly reported, not verified here: no separate width rule",
            "resample": "assumed: Lanczos (often said of Facebook's resizer; not verified here)",
            "encoder": "assumed: libjpeg-turbo writing IJG-scaled tables",
            "quality": "commonly reported, not verified here: estimated qualities of downloads vary between images, roughly 71-85; the "
                       "dependence on content (busier image, lower quality) is assumed",
            "subsampling": "assumed: 4:2:0",
            "progressive": "commonly reported, not verified here: downloads are progressive JPEGs",
            "keep_exif": "commonly reported, not verified here: EXIF is stripped (Facebook's own IPTC block is not simulated)",
        },
    ),
    "flickr": PlatformProfile(
        name="flickr", max_long_side=2048, resample="lanczos", encoder="6b",
        quality=94, subsampling="4:2:0", progressive=False, keep_exif=True,
        notes={
            "max_long_side": "assumed: the 'Large 2048' download size; the untouched original that owners "
                             "can download is not simulated",
            "max_width": "assumed: no separate width rule",
            "resample": "assumed",
            "encoder": "assumed: IJG libjpeg 6b",
            "quality": "assumed: high, fixed",
            "subsampling": "assumed: 4:2:0",
            "progressive": "assumed: baseline",
            "keep_exif": "assumed: kept (Flickr shows the camera's EXIF on photo pages)",
        },
    ),
    "twitter": PlatformProfile(
        name="twitter", max_long_side=2048, resample="bicubic", encoder="pillow",
        quality=85, subsampling="4:2:0", progressive=False,
        notes={
            "max_long_side": "assumed: 2048 px ('large' size; earlier years served 1024 px)",
            "max_width": "assumed: no separate width rule",
            "resample": "assumed",
            "encoder": "assumed: libjpeg-turbo writing IJG-scaled tables",
            "quality": "commonly reported, not verified here: a fixed quality, commonly estimated as 85",
            "subsampling": "assumed: 4:2:0",
            "progressive": "assumed: baseline (a move to progressive JPEGs was reported only around 2019)",
            "keep_exif": "commonly reported, not verified here: EXIF is stripped",
        },
    ),
    "instagram": PlatformProfile(
        name="instagram", max_width=1080, resample="bicubic", encoder="turbo210",
        quality=78, subsampling="4:2:0", progressive=False,
        notes={
            "max_long_side": "commonly reported, not verified here: no long-side rule, the width rule applies",
            "max_width": "commonly reported, not verified here: feed photos are 1080 px wide, wider ones shrunk (the crop to aspect "
                         "ratios 1.91:1..4:5 and the enlargement of very narrow photos are not simulated)",
            "resample": "assumed",
            "encoder": "assumed: libjpeg-turbo 2.1",
            "quality": "assumed: fixed, around the high 70s",
            "subsampling": "assumed: 4:2:0",
            "progressive": "assumed: baseline",
            "keep_exif": "commonly reported, not verified here: EXIF is stripped",
        },
    ),
    "google_plus": PlatformProfile(
        name="google_plus", max_long_side=2048, resample="lanczos", encoder="9e",
        quality=90, subsampling="4:2:0", progressive=False,
        notes={
            "max_long_side": "assumed: 2048 px",
            "max_width": "assumed: no separate width rule",
            "resample": "assumed",
            "encoder": "assumed: IJG libjpeg 9e",
            "quality": "assumed: high (paper 1, Sec. IV, finds Google+ patches mistaken for camera originals, "
                       "a sign of mild processing)",
            "subsampling": "assumed: 4:2:0",
            "progressive": "assumed: baseline",
            "keep_exif": "assumed: stripped",
        },
    ),
    "whatsapp": PlatformProfile(
        name="whatsapp", max_long_side=1600, resample="bilinear", encoder="turbo210",
        quality=(60, 80), quality_rule="size", subsampling="4:2:0", progressive=False,
        notes={
            "max_long_side": "commonly reported, not verified here: about 1600 px on the long side",
            "max_width": "commonly reported, not verified here: no separate width rule",
            "resample": "assumed: bilinear, as a phone app would",
            "encoder": "assumed: libjpeg-turbo (the sending phone encodes)",
            "quality": "commonly reported, not verified here: estimates vary, roughly 60-80; the dependence on size is assumed",
            "subsampling": "assumed: 4:2:0",
            "progressive": "assumed: baseline",
            "keep_exif": "commonly reported, not verified here: EXIF is stripped",
        },
    ),
    "telegram": PlatformProfile(
        name="telegram", max_long_side=1280, resample="bilinear", encoder="turbo210",
        quality=87, subsampling="4:2:0", progressive=False,
        notes={
            "max_long_side": "commonly reported, not verified here: about 1280 px on the long side",
            "max_width": "commonly reported, not verified here: no separate width rule",
            "resample": "assumed: bilinear, as a phone app would",
            "encoder": "assumed: libjpeg-turbo (the sending phone encodes)",
            "quality": "assumed: fixed, high 80s",
            "subsampling": "assumed: 4:2:0",
            "progressive": "assumed: baseline",
            "keep_exif": "commonly reported, not verified here: EXIF is stripped from photos (not from files sent as documents)",
        },
    ),
    "original": PlatformProfile(
        name="original", passthrough=True,
        notes={"passthrough": "the camera's own JPEG, byte for byte (paper 1's 'Original' class)"},
    ),
})
"""The built-in profiles, by name: seven platforms of paper 1 (Sec. IV) and camera originals."""
