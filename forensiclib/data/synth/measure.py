"""Measure a platform from a folder of real downloads, to check or calibrate a `PlatformProfile`.

The profiles in `forensiclib.data.synth.platforms` are approximations. Someone who has downloads
from a platform (a folder of a real dataset, or a few photos uploaded and downloaded by hand)
can read here what the platform did: image sizes (and so its resize rule), quantization tables
and the IJG quality they correspond to, chroma subsampling, progressive or baseline, and which
metadata segments survived; `PlatformMeasurement.to_profile` turns that into a profile.

Only the file headers and the luminance table are used (read with `forensiclib.provenance.jpeg.read_dct`,
which also rejects truncated or corrupt files); nothing is decoded to pixels.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import numpy as np

from ...errors import ImageReadError
from ...provenance.features import SkippedFile
from ...provenance.jpeg import QualityEstimate, estimate_quality, is_jpeg, read_dct
from .platform_profile import SUBSAMPLINGS, PlatformProfile

__all__ = ["MeasuredImage", "PlatformMeasurement", "measure_platform"]

# Identifier at the start of an APPn payload -> its name in reports.
_APP_IDENTIFIERS = (
    (b"JFIF\x00", "JFIF"),
    (b"JFXX\x00", "JFXX"),
    (b"Exif\x00", "Exif"),
    (b"http://ns.adobe.com/xap/1.0/", "XMP"),
    (b"ICC_PROFILE\x00", "ICC"),
    (b"Photoshop 3.0\x00", "IPTC"),
    (b"MPF\x00", "MPF"),
    (b"Adobe", "Adobe"),
    (b"Ducky", "Ducky"),
)


@dataclasses.dataclass(frozen=True, eq=False)
class MeasuredImage:
    """What one downloaded JPEG says about the platform.

    Attributes:
        path: the file.
        width: width in pixels.
        height: height in pixels.
        quantization_table: `(8, 8)` uint16 luminance table.
        quality: the nearest IJG quality to that table (`quality.exact`: it *is* an IJG table).
        subsampling: chroma subsampling, `"4:2:0"`, `"4:4:4"`, ... or `"gray"`.
        progressive: whether the file is progressive.
        segments: the metadata segments before the first scan, in file order, e.g.
            `("APP0:JFIF", "APP1:Exif", "COM")`.
        chroma_table: `(8, 8)` uint16 chrominance table, None for a grayscale JPEG.
    """

    path: Path
    width: int
    height: int
    quantization_table: np.ndarray
    quality: QualityEstimate
    subsampling: str
    progressive: bool
    segments: tuple[str, ...]
    chroma_table: np.ndarray | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class PlatformMeasurement:
    """A summary of a folder of downloads from one platform.

    Attributes:
        folder: the folder measured.
        images: one `MeasuredImage` per readable JPEG, in path order.
        skipped: the other files, each with its reason.

    Example:
        >>> measurement = measure_platform("downloads/facebook")  # doctest: +SKIP
        >>> print(measurement.report())  # doctest: +SKIP
        >>> profile = measurement.to_profile("facebook_measured")  # doctest: +SKIP
    """

    folder: Path
    images: tuple[MeasuredImage, ...]
    skipped: tuple[SkippedFile, ...]

    @property
    def n_images(self) -> int:
        """The number of JPEGs measured."""
        return len(self.images)

    def sizes(self) -> dict[str, tuple[int, float, int]]:
        """`{"width" | "height" | "long_side": (minimum, median, maximum)}` in pixels."""
        widths = np.array([image.width for image in self.images])
        heights = np.array([image.height for image in self.images])
        values = {"width": widths, "height": heights, "long_side": np.maximum(widths, heights)}
        return {key: (int(v.min()), float(np.median(v)), int(v.max())) for key, v in values.items()}

    def quality_counts(self) -> dict[int, int]:
        """Estimated IJG quality -> number of images, by quality."""
        return dict(sorted(Counter(image.quality.quality for image in self.images).items()))

    @property
    def n_exact_ijg(self) -> int:
        """How many images carry exactly an IJG (libjpeg) luminance table."""
        return sum(image.quality.exact for image in self.images)

    def most_common_table(self) -> tuple[np.ndarray, int]:
        """The most frequent luminance table, `(8, 8)` uint16, and how many images carry it."""
        counts = Counter(image.quantization_table.tobytes() for image in self.images)
        key, count = counts.most_common(1)[0]
        return np.frombuffer(key, dtype=np.uint16).reshape(8, 8).copy(), count

    def subsampling_counts(self) -> dict[str, int]:
        """Chroma subsampling -> number of images, most frequent first."""
        return dict(Counter(image.subsampling for image in self.images).most_common())

    @property
    def progressive_fraction(self) -> float:
        """The fraction of images that are progressive, 0..1."""
        return sum(image.progressive for image in self.images) / self.n_images

    def segment_counts(self) -> dict[str, int]:
        """Metadata segment (e.g. `"APP1:Exif"`) -> number of images holding it."""
        return dict(Counter(name for image in self.images for name in set(image.segments)).most_common())

    def _largest_sizes(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """((largest long side, images with it), (largest width, images with it))."""
        widths = np.array([image.width for image in self.images])
        longs = np.maximum(widths, [image.height for image in self.images])
        longest, widest = int(longs.max()), int(widths.max())
        return (longest, int((longs == longest).sum())), (widest, int((widths == widest).sum()))

    def _size_caps(self) -> tuple[int | None, int | None]:
        """(max_long_side, max_width) suggested by a maximum several images share, or None each."""
        (long_side, n_long), (width, n_width) = self._largest_sizes()
        if max(n_long, n_width) < 2:
            return None, None
        return (None, width) if n_width > n_long else (long_side, None)

    def _count_pairs(self) -> tuple[bytes, int]:
        """The most common (luminance, chrominance) pair as bytes, and how many images carry it."""
        pairs = Counter(
            image.quantization_table.tobytes() + (b"" if image.chroma_table is None else image.chroma_table.tobytes())
            for image in self.images
        )
        return pairs.most_common(1)[0]

    def _own_tables(self) -> np.ndarray | None:
        """The platform's own `(2, 8, 8)` tables: a non-IJG pair most images carry; None otherwise."""
        key, count = self._count_pairs()
        if count * 2 <= self.n_images or len(key) != 2 * 64 * 2:
            return None
        tables = np.frombuffer(key, dtype=np.uint16).reshape(2, 8, 8).astype(np.int64)
        return None if estimate_quality(tables[0]).exact else tables

    def report(self) -> str:
        """The measurement as readable text."""
        sizes = self.sizes()
        lines = [
            f"Measured {self.n_images} JPEGs in {self.folder} ({len(self.skipped)} other files skipped)",
            "  size (px)   minimum   median   maximum",
        ]
        for key, (low, median, high) in sizes.items():
            lines.append(f"  {key:<10}{low:>9}{median:>9g}{high:>10}")
        (long_side, n_long), (width, n_width) = self._largest_sizes()
        lines.append(
            f"  largest long side {long_side} px in {n_long} images; largest width {width} px in {n_width} "
            "images (a value many images share is likely the platform's limit, or the sources' own size)"
        )
        qualities = ", ".join(f"{quality} x{count}" for quality, count in self.quality_counts().items())
        lines.append(f"  estimated IJG quality: {qualities}")
        lines.append(f"  exact IJG tables: {self.n_exact_ijg} of {self.n_images}")
        table, count = self.most_common_table()
        estimate = estimate_quality(table)
        exact = "exact IJG table" if estimate.exact else f"not IJG: mean abs error {estimate.mean_abs_error:.2f}"
        lines.append(
            f"  most common table: in {count} of {self.n_images} images, quality {estimate.quality} ({exact})"
        )
        lines.append("    " + "\n    ".join(" ".join(f"{value:3d}" for value in row) for row in table))
        subsampling = ", ".join(f"{name} x{count}" for name, count in self.subsampling_counts().items())
        lines.append(f"  chroma subsampling: {subsampling}")
        n_progressive = sum(image.progressive for image in self.images)
        lines.append(f"  progressive: {n_progressive} of {self.n_images} ({100 * self.progressive_fraction:.0f}%)")
        segments = ", ".join(f"{name} x{count}" for name, count in self.segment_counts().items()) or "none"
        lines.append(f"  metadata segments: {segments}")
        for item in self.skipped:
            lines.append(f"  skipped {item.path}: {item.reason}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()

    def to_profile(self, name: str, *, encoder: str = "pillow", resample: str = "lanczos") -> PlatformProfile:
        """A `PlatformProfile` that would produce downloads like these, with a note per value.

        Size limits come from maxima that several images share (see `report`); the platform's own
        tables when most images carry one same pair that is not an IJG table (as Facebook's
        downloads do); else one quality if all images agree, else their range drawn at random (the
        platform's rule is unknown); the most common subsampling; progressive if most images are;
        EXIF kept if most images have it.

        Args:
            name: the new profile's name.
            encoder: the encoder to simulate with (not measurable from the files).
            resample: the resampling filter (not measurable from the files).

        Example:
            >>> measure_platform("downloads/telegram").to_profile("telegram_measured")  # doctest: +SKIP
        """
        source = f"measured from {self.n_images} downloads in {self.folder}"
        max_long_side, max_width = self._size_caps()
        qualities = [image.quality.quality for image in self.images]
        low, high = min(qualities), max(qualities)
        quality_note = f"{source}: estimated IJG qualities {low}..{high}"
        if self.n_exact_ijg < self.n_images:
            quality_note += f"; {self.n_images - self.n_exact_ijg} tables are not IJG tables, nearest quality used"
        own_tables = None if encoder.startswith("mozjpeg") else self._own_tables()
        if own_tables is not None:
            quality_note = (f"{source}: unused, the platform's own tables (not IJG tables) in "
                            f"{self._count_pairs()[1]} of {self.n_images}")  # fmt: skip
            low = high = estimate_quality(own_tables[0]).quality
        subsampling = next((key for key in self.subsampling_counts() if key in SUBSAMPLINGS), "4:2:0")
        progressive = self.progressive_fraction >= 0.5
        if encoder.startswith("mozjpeg"):
            progressive = True
        n_exif = self.segment_counts().get("APP1:Exif", 0)
        return PlatformProfile(
            name=name,
            max_long_side=max_long_side,
            max_width=max_width,
            resample=resample,
            encoder=encoder,
            quality=low if low == high else (low, high),
            quality_rule="fixed" if low == high else "random",
            quantization_tables=own_tables,
            subsampling=subsampling,
            progressive=progressive,
            keep_exif=n_exif * 2 >= self.n_images,
            notes={
                "max_long_side": f"{source}: a long side several images share is taken as the limit"
                if max_long_side
                else f"{source}: no limit seen",
                "max_width": f"{source}: a width several images share is taken as the limit"
                if max_width
                else f"{source}: no width limit seen",
                "resample": "assumed: not measurable from the files",
                "encoder": "assumed: not measurable from the files",
                "quality": quality_note,
                "quantization_tables": f"{source}: the most common pair, in {self._count_pairs()[1]} of "
                f"{self.n_images}" if own_tables is not None else f"{source}: quality-scaled tables",
                "subsampling": f"{source}: {self.subsampling_counts()}",
                "progressive": f"{source}: {100 * self.progressive_fraction:.0f}% progressive",
                "keep_exif": f"{source}: EXIF in {n_exif} of {self.n_images}",
            },
        )


def measure_platform(folder: str | Path) -> PlatformMeasurement:
    """Measure the JPEGs in a folder (recursively) downloaded from one platform.

    Files that are not JPEGs (by their bytes), and JPEGs that are truncated, corrupt or
    without a luminance component, are skipped and listed with their reason.

    Args:
        folder: the folder of downloads.

    Returns:
        A `PlatformMeasurement`; `print` it for a report.

    Raises:
        FileNotFoundError: the folder does not exist.
        ValueError: it is not a folder, holds no files, or no readable JPEG.

    Example:
        >>> print(measure_platform("downloads/facebook"))  # doctest: +SKIP
        Measured 120 JPEGs in downloads/facebook (2 files skipped)
        ...
    """
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(
            f"Expected a folder of downloaded images. Received: {folder} (no such folder)"
        )
    if not folder.is_dir():
        raise ValueError(f"Expected a folder of downloaded images. Received: {folder} (a file, not a folder)")
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    if not files:
        raise ValueError(f"Expected a folder of downloaded images. Received: {folder} (it holds no files)")
    images, skipped = [], []
    for path in files:
        result = _measure_file(path)
        (skipped if isinstance(result, SkippedFile) else images).append(result)
    if not images:
        reasons = "; ".join(f"{item.path.name}: {item.reason}" for item in skipped[:3])
        more = f" (and {len(skipped) - 3} more)" if len(skipped) > 3 else ""
        raise ValueError(
            f"Expected a folder holding readable JPEGs. Received: {folder}, where none of the {len(files)} "
            f"files is one ({reasons}{more})"
        )
    return PlatformMeasurement(folder=folder, images=tuple(images), skipped=tuple(skipped))


def _measure_file(path: Path) -> MeasuredImage | SkippedFile:
    try:
        if not is_jpeg(path):
            with open(path, "rb") as file:
                head = file.read(8)
            reason = f"not a JPEG (starts with {head!r})" if head else "not a JPEG (empty file)"
            return SkippedFile(path, reason)
        image = read_dct(path)
        segments = _segments(path)
    except ImageReadError as error:
        return SkippedFile(path, error.reason)
    except OSError as error:
        return SkippedFile(path, f"cannot be read ({error})")
    return MeasuredImage(
        path=path,
        width=image.width,
        height=image.height,
        quantization_table=image.quantization_table,
        quality=image.quality,
        subsampling=image.subsampling,
        progressive=image.progressive,
        segments=segments,
        chroma_table=image.chroma_quantization_table,
    )


def _segments(path: Path) -> tuple[str, ...]:
    """The APPn and COM segments before the first scan, named by their identifiers."""
    names = []
    with open(path, "rb") as file:
        file.read(2)  # start of image
        while True:
            byte = file.read(1)
            if byte != b"\xff":  # not at a marker: damaged header, stop here
                break
            while byte == b"\xff":  # fill bytes before a marker code
                byte = file.read(1)
            if not byte or byte in (b"\xda", b"\xd9"):  # end of file, start of scan, end of image
                break
            marker = byte[0]
            if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
                continue
            length_bytes = file.read(2)
            if len(length_bytes) < 2:
                break
            length = int.from_bytes(length_bytes, "big") - 2
            payload = file.read(min(length, 32))
            file.seek(length - len(payload), 1)
            if 0xE0 <= marker <= 0xEF:
                name = next((label for prefix, label in _APP_IDENTIFIERS if payload.startswith(prefix)), "")
                names.append(f"APP{marker - 0xE0}:{name}" if name else f"APP{marker - 0xE0}")
            elif marker == 0xFE:
                names.append("COM")
    return tuple(names)
