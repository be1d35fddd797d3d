"""What a JPEG's header says about the software that wrote it: the traits a forensic examiner reads first.

Paper 1's network sees only the quantized coefficients. The file's header carries more, and real tools and papers
read it (Kee, Johnson and Farid 2011, "Digital image authentication from JPEG headers"; Verde et al. 2021): the
quantization tables, standard or optimised Huffman tables, baseline or progressive coding, chroma subsampling, the
APPn segments present (JFIF, EXIF, ICC profile, IPTC, XMP, Adobe), restart markers, and the image size. A camera
writes its maker's tables, baseline with the standard Huffman tables and an EXIF block; a platform strips the EXIF
block and re-encodes, often progressive with optimised tables, and shrinks large images to its size limit.

`read_header` parses the markers before the first scan (nothing is decoded); `JPEGHeader.traits` gives the
discrete traits `table_evidence.HeaderEvidence` counts per class.

Example:
    >>> header = read_header("photo.jpg")  # doctest: +SKIP
    >>> header.traits()  # doctest: +SKIP
    {'table': '2,1,1,...', 'coding': 'baseline, standard Huffman', 'subsampling': '4:2:0', 'exif': 'yes', ...}
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

__all__ = ["JPEGHeader", "read_header", "TRAITS", "SEGMENT_TRAITS", "table_key"]

#: The traits `JPEGHeader.traits` returns, in order: the luminance table, how the scans are coded, chroma
#: subsampling, and one yes/no trait per kind of metadata segment (`SEGMENT_TRAITS`) and for restart markers.
SEGMENT_TRAITS = ("jfif", "exif", "icc", "iptc", "xmp", "adobe")
TRAITS = ("table", "coding", "subsampling", *SEGMENT_TRAITS, "restart")

# APPn identifiers: (marker, payload prefix) -> trait.
_APP_TRAITS = (
    (0xE0, b"JFIF\x00", "jfif"),
    (0xE1, b"Exif\x00", "exif"),
    (0xE1, b"http://ns.adobe.com/xap/1.0/", "xmp"),
    (0xE2, b"ICC_PROFILE\x00", "icc"),
    (0xED, b"Photoshop 3.0\x00", "iptc"),
    (0xEE, b"Adobe", "adobe"),
)
# The four Huffman tables of ITU-T T.81 Annex K (K.3) that encoders write unless told to optimise: code lengths
# (16 counts) and symbols, for DC and AC, luminance and chrominance.
_STANDARD_HUFFMAN = {
    (bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]), bytes(range(12))),
    (bytes([0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]), bytes(range(12))),
    (bytes([0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D]), None),
    (bytes([0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77]), None),
}
_STANDARD_AC_COUNTS = {counts for counts, symbols in _STANDARD_HUFFMAN if symbols is None}
_STANDARD_DC = {(counts, symbols) for counts, symbols in _STANDARD_HUFFMAN if symbols is not None}
# zig-zag position -> natural (row-major) index, ITU-T T.81 Figure A.6
_ZIGZAG = np.array([0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
                    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52,
                    45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63])  # fmt: skip
_SOF_MARKERS = {0xC0: "baseline", 0xC1: "baseline", 0xC2: "progressive", 0xC9: "arithmetic", 0xCA: "arithmetic"}
_HEADER_BYTES = 1 << 20  # markers before the first scan; larger APPn blocks are skipped by seeking


def table_key(table) -> str:
    """A luminance table as the text key the identifier counts: its 64 values in natural order, comma-separated.

    Raises:
        ValueError: not 64 values.
    """
    values = np.asarray(table).ravel()
    if values.size != 64:
        raise ValueError(f"Expected a quantization table of 64 values. Received {values.size} values")
    return ",".join(str(int(value)) for value in values)


@dataclasses.dataclass(frozen=True)
class JPEGHeader:
    """The markers of a JPEG before its first scan.

    Attributes:
        path: the file.
        width, height: image size in pixels.
        luminance_table: the first component's quantization table, `(8, 8)` natural order, or None.
        chroma_table: the second component's table, or None (grayscale).
        process: "baseline" (sequential Huffman), "progressive" or "arithmetic".
        huffman: "standard" (only the Annex K tables), "optimised" (others), or "none" (arithmetic coding, or no
            table before the first scan).
        subsampling: "4:2:0", "4:2:2", "4:4:4", "4:4:0", "4:1:1", "gray" or the factors.
        segments: the kinds of metadata segment present (`SEGMENT_TRAITS`, plus "com" for a comment), in file order,
            each once.
        restart_interval: MCUs between restart markers (0: none).
    """

    path: Path
    width: int
    height: int
    luminance_table: np.ndarray | None
    chroma_table: np.ndarray | None
    process: str
    huffman: str
    subsampling: str
    segments: tuple[str, ...]
    restart_interval: int = 0

    @property
    def long_side(self) -> int:
        return max(self.width, self.height)

    @property
    def coding(self) -> str:
        """How the scans are coded: "progressive", "arithmetic", "baseline, standard Huffman" or "baseline, optimised
        Huffman" (libjpeg always optimises a progressive file's tables, so the Huffman trait is read for baseline
        files only)."""
        if self.process != "baseline":
            return self.process
        return f"baseline, {self.huffman} Huffman" if self.huffman != "none" else "baseline"

    def traits(self) -> dict[str, str]:
        """`{trait: value}` for every trait of `TRAITS` (values are text; "yes"/"no" for segments and restarts)."""
        traits = {"table": "none" if self.luminance_table is None else table_key(self.luminance_table),
                  "coding": self.coding, "subsampling": self.subsampling}  # fmt: skip
        for name in SEGMENT_TRAITS:
            traits[name] = "yes" if name in self.segments else "no"
        traits["restart"] = "yes" if self.restart_interval else "no"
        return traits


def read_header(path: str | Path) -> JPEGHeader:
    """Parse a JPEG's markers up to its first scan.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a JPEG (by its bytes), or no frame header before the first scan.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Expected a JPEG file. Received: {path} (no such file)")
    with open(path, "rb") as file:
        data = file.read(_HEADER_BYTES)
        if not data.startswith(b"\xff\xd8"):
            raise ValueError(f"Expected a JPEG file. Received: {path} (starts with {data[:8]!r})")
        return _parse(path, file, data)


def _parse(path: Path, file, data: bytes) -> JPEGHeader:
    tables: dict[int, np.ndarray] = {}
    huffman: list[tuple[int, bytes, bytes]] = []
    segments: list[str] = []
    frame = None
    restart = 0
    position = 2
    while True:
        if position + 4 > len(data):  # a segment reaches past what was read: read on from the file
            data = data[position:] + file.read(_HEADER_BYTES)
            position = 0
            if len(data) < 4:
                break
        if data[position] != 0xFF:
            position += 1  # bytes between segments (libjpeg skips them too)
            continue
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1
            continue
        if marker in (0x00, 0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            position += 2
            continue
        if marker in (0xD9, 0xDA):
            break
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        end = position + 2 + length
        if end > len(data):
            data = data[position:] + file.read(max(_HEADER_BYTES, end - len(data)))
            end -= position
            position = 0
        payload = data[position + 4 : end]
        if marker == 0xDB:
            _read_tables(payload, tables)
        elif marker == 0xC4:
            _read_huffman(payload, huffman)
        elif marker in _SOF_MARKERS or 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            frame = (marker, payload)
        elif marker == 0xDD and len(payload) >= 2:
            restart = int.from_bytes(payload[:2], "big")
        elif 0xE0 <= marker <= 0xEF:
            name = next((trait for code, prefix, trait in _APP_TRAITS if code == marker and payload.startswith(prefix)),
                        None)  # fmt: skip
            if name and name not in segments:
                segments.append(name)
        elif marker == 0xFE and "com" not in segments:
            segments.append("com")
        position = end
    if frame is None or len(frame[1]) < 6:
        raise ValueError(f"Expected a JPEG with a frame header before its first scan. Received: {path}")
    marker, payload = frame
    height, width = int.from_bytes(payload[1:3], "big"), int.from_bytes(payload[3:5], "big")
    components = [(payload[6 + 3 * k + 1], payload[6 + 3 * k + 2]) for k in range(payload[5])
                  if 6 + 3 * k + 2 < len(payload)]  # fmt: skip
    luminance = tables.get(components[0][1]) if components else None
    chroma = tables.get(components[1][1]) if len(components) > 1 else None
    process = _SOF_MARKERS.get(marker, "other")
    if process == "arithmetic" or not huffman:
        coding = "none"
    else:
        coding = "standard" if all(_is_standard(*table) for table in huffman) else "optimised"
    return JPEGHeader(path=path, width=width, height=height, luminance_table=luminance, chroma_table=chroma,
                      process=process, huffman=coding, subsampling=_subsampling(components),
                      segments=tuple(segments), restart_interval=restart)  # fmt: skip


def _read_tables(payload: bytes, tables: dict[int, np.ndarray]) -> None:
    position = 0
    while position < len(payload):
        precision, index = payload[position] >> 4, payload[position] & 15
        size = 128 if precision else 64
        raw = payload[position + 1 : position + 1 + size]
        if len(raw) < size:
            return
        values = np.frombuffer(raw, dtype=">u2" if precision else "u1").astype(np.uint16)
        table = np.zeros(64, dtype=np.uint16)
        table[_ZIGZAG] = values
        tables[index] = table.reshape(8, 8)
        position += 1 + size


def _read_huffman(payload: bytes, huffman: list) -> None:
    position = 0
    while position + 17 <= len(payload):
        kind, counts = payload[position] >> 4, payload[position + 1 : position + 17]
        n_symbols = sum(counts)
        huffman.append((kind, bytes(counts), bytes(payload[position + 17 : position + 17 + n_symbols])))
        position += 17 + n_symbols


def _is_standard(kind: int, counts: bytes, symbols: bytes) -> bool:
    if kind == 0:
        return (counts, symbols) in _STANDARD_DC
    return counts in _STANDARD_AC_COUNTS


def _subsampling(components) -> str:
    if len(components) == 1:
        return "gray"
    if len(components) < 2:
        return "unknown"
    (luma, _), (chroma, _) = components[0], components[1]
    luma_h, luma_v, chroma_h, chroma_v = luma >> 4, luma & 15, max(chroma >> 4, 1), max(chroma & 15, 1)
    names = {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (1, 2): "4:4:0", (4, 1): "4:1:1"}
    return names.get((luma_h // chroma_h, luma_v // chroma_v), f"{luma_h}x{luma_v},{chroma_h}x{chroma_v}")
