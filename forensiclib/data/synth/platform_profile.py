"""A platform as a profile: resize rule, encoder, tables or quality rule, subsampling, progressive, metadata.

`PlatformProfile` and its checks; the measured profiles of paper 1's platforms are in `platform_catalogue`,
and `platforms.share` applies one to an image.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["PlatformProfile", "SETTINGS", "SEGMENTS", "MEASURE_COMMAND"]

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
    "dct_method", "subsampling", "progressive", "optimize_coding", "segments", "keep_exif", "keep_jpeg",
)
#: Metadata segments a profile may write besides the encoder's JFIF header (`PlatformProfile.segments`).
SEGMENTS = ("icc", "iptc")
#: The command that measured the built-in profiles (DIR: a folder of downloads laid out as social/<platform>/).
MEASURE_COMMAND = "python -m forensiclib measure-platform DIR/social/{name}"



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
        optimize_coding: a baseline file gets Huffman tables optimised for its content instead of the standard
            ones of Annex K (libjpeg always optimises a progressive file's tables).
        segments: metadata segments written besides the encoder's JFIF header, among `SEGMENTS`: `"icc"` (an
            ICC colour profile in APP2) and `"iptc"` (an IPTC block in APP13, as Facebook's "FBMD" one).
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
        sources: where the measured values came from: the public repositories of `realdata/MANIFEST.tsv` whose
            downloads were measured (one account each). A held-out evaluation leaves out a profile measured only
            on the source it holds out (`forensiclib.data.synth.platform_catalogue.fact_sources`). Empty: nothing
            measured. Not compared between profiles.

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
    optimize_coding: bool = False
    segments: tuple[str, ...] = ()
    notes: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)
    sources: tuple[str, ...] = dataclasses.field(default=(), compare=False)

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
        for field in ("segments", "sources"):
            value = getattr(self, field)
            if isinstance(value, list):
                object.__setattr__(self, field, value := tuple(value))
            if not isinstance(value, tuple) or not all(isinstance(item, str) and item for item in value):
                raise ValueError(f"Expected `{field}` a tuple of non-empty strings. Received: {value!r}")
        unknown = sorted(set(self.segments) - set(SEGMENTS))
        if unknown:
            raise ValueError(f"Expected `segments` among {list(SEGMENTS)}. Received: {unknown}")
        for field in ("progressive", "optimize_coding", "keep_exif", "passthrough", "keep_jpeg"):
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

    def qualities(self) -> tuple[int, ...]:
        """Every quality factor this profile may encode at (empty for its own tables or a passthrough)."""
        if self.passthrough or self.quantization_tables is not None or self.behaviours:
            return ()
        if self.quality_rule == "fixed":
            return (int(self.quality),)
        if self.quality_rule == "choice":
            return tuple(sorted(set(self.quality)))
        return tuple(range(self.quality[0], self.quality[1] + 1))

    def encoded_tables(self) -> tuple[np.ndarray, ...]:
        """The `(8, 8)` luminance tables this profile writes when it re-encodes (every behaviour's, in turn).

        Its own tables, or the IJG or mozjpeg tables at each of its `qualities`. A passthrough writes none of its own
        (the camera's), and a `keep_jpeg` profile also hands back its sources' tables, which are not listed.
        """
        if self.behaviours:
            return tuple(table for _, behaviour in self.behaviours for table in behaviour.encoded_tables())
        if self.passthrough:
            return ()
        if self.quantization_tables is not None:
            return (np.array(self.quantization_tables[0], dtype=np.int64),)
        return tuple(_encoder_table(self.encoder, quality) for quality in self.qualities())

    @property
    def tables_measured(self) -> bool:
        """Whether the quantization tables this profile writes were measured on real files.

        True when its `quantization_tables` or `quality` note says "measured", when any behaviour's does, or for a
        passthrough (camera originals: the simulated cameras write tables measured on real originals); False for a
        profile whose tables are assumed (e.g. Flickr and Google+, of which no downloads could be measured).
        """
        if self.passthrough:
            return True
        if self.behaviours:
            return any(behaviour.tables_measured for _, behaviour in self.behaviours)
        return any(self.notes.get(field, "").startswith("measured") for field in ("quantization_tables", "quality"))

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


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_choice(field: str, value, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"Expected `{field}` one of {list(choices)}. Received: {value!r}")


def _jpeglib_versions() -> list[str]:
    import jpeglib

    return sorted(jpeglib.version.versions())


@functools.lru_cache(maxsize=None)
def _encoder_table(encoder: str, quality: int) -> np.ndarray:
    """The luminance table an encoder writes at a quality: IJG's scaled Annex K table, or, for mozjpeg, read back
    from an 8x8 image it encoded (its own default tables, scaled)."""
    from ...provenance.jpeg import JPEGLIB_LOCK, ijg_quantization_table

    if not encoder.startswith("mozjpeg"):
        return ijg_quantization_table(quality)
    import tempfile
    from pathlib import Path

    import jpeglib

    with JPEGLIB_LOCK, tempfile.TemporaryDirectory(prefix="forensiclib-table-") as folder:
        previous = jpeglib.version.get() or "6b"
        jpeglib.version.set(encoder)
        try:
            path = str(Path(folder) / "table.jpg")
            jpeglib.from_spatial(np.zeros((8, 8, 3), dtype=np.uint8)).write_spatial(path, qt=quality)
            jpeg = jpeglib.read_dct(path)
            jpeg.load()
            table = np.asarray(jpeg.qt[jpeg.quant_tbl_no[0]], dtype=np.int64)
        finally:
            jpeglib.version.set(previous)
    table.flags.writeable = False
    return table
