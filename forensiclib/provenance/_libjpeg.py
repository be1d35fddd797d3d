"""Talking to libjpeg through jpeglib: its warnings (captured from file descriptor 2, sorted into benign and
damaging), file names that are not UTF-8, the coding process a frame header declares, the libjpeg build that
reads arithmetic coding. What `jpeg.read_dct` needs below its public surface.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
from pathlib import Path

_stderr_lock = threading.Lock()
#: Held while jpeglib's libjpeg version (process-wide state) is switched, by readers and encoders alike.
JPEGLIB_LOCK = threading.RLock()

#: libjpeg warnings (JWRN_* of jerror.h) that leave the stored coefficients as they are: bytes between segments
#: that libjpeg skips, header fields it ignores. Any other warning (premature end of the file or of a data
#: segment, bad Huffman code, lost restart sync, ...) means the coefficients may be damaged.
BENIGN_WARNINGS = (
    re.compile(r"Corrupt JPEG data: \d+ extraneous bytes before marker 0x[0-9a-f]{2}"),
    re.compile(r"Warning: unknown JFIF revision number \d+\.\d+"),
    re.compile(r"Warning: thumbnail image size does not match data length \d+"),
    re.compile(r"Unknown Adobe color transform code \d+"),
    re.compile(r"Invalid SOS parameters for sequential JPEG"),
)
#: The libjpeg build that reads arithmetic-coded JPEGs (IJG 6b, jpeglib's default, refuses them).
_ARITHMETIC_READER = "turbo210"
# Start-of-frame markers: the coding process each one declares (ITU-T T.81, Table B.1).
_SOF_PROCESSES = {
    0xC0: "baseline", 0xC1: "extended sequential", 0xC2: "progressive", 0xC3: "lossless",
    0xC5: "differential sequential", 0xC6: "differential progressive", 0xC7: "differential lossless",
    0xC9: "arithmetic extended sequential", 0xCA: "arithmetic progressive", 0xCB: "arithmetic lossless",
    0xCD: "arithmetic differential sequential", 0xCE: "arithmetic differential progressive",
    0xCF: "arithmetic differential lossless",
}


@contextlib.contextmanager
def _captured_c_stderr():
    """Collect what C code writes to file descriptor 2 (libjpeg's warnings)."""
    captured: list[str] = []
    with _stderr_lock, tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured.extend(sink.read().decode("utf-8", "replace").splitlines())


@contextlib.contextmanager
def _utf8_path(path: Path):
    """A name for `path` that jpeglib can pass to C: itself, or a link to it when its name is not valid UTF-8."""
    try:
        str(path).encode("utf-8")
        yield str(path)
        return
    except UnicodeEncodeError:
        pass
    with tempfile.TemporaryDirectory() as folder:
        link = os.path.join(folder, "image.jpg")
        os.symlink(os.fsencode(path.resolve()), link)
        yield link


def _frame_header(path: Path) -> tuple[int, int] | None:
    """The first start-of-frame marker of a JPEG and its sample precision in bits, or None if none is found."""
    with open(path, "rb") as file:
        data = file.read(1 << 20)  # the frame header comes before the first scan, near the start
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            position += 1  # bytes between segments (libjpeg skips them too, with a warning)
            continue
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1
            continue
        if marker in (0x01, 0x00) or 0xD0 <= marker <= 0xD7:
            position += 2
            continue
        if marker in (0xD9, 0xDA):
            return None
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if marker in _SOF_PROCESSES:
            return marker, data[position + 4] if position + 4 < len(data) else 8
        position += 2 + length
    return None


def _unsupported(path: Path) -> tuple[str | None, bool]:
    """(Why libjpeg cannot read this JPEG, or None; whether it is arithmetic-coded)."""
    header = _frame_header(path)
    if header is None:
        return None, False
    marker, precision = header
    process = _SOF_PROCESSES[marker]
    if "lossless" in process or "differential" in process:
        return f"unsupported JPEG: {process} coding (SOF marker 0x{marker:02x}); libjpeg reads DCT-based, " \
               "non-hierarchical JPEGs only", False
    if precision != 8:
        return f"unsupported JPEG: {precision}-bit samples; the libjpeg builds this library reads with take " \
               "8-bit JPEGs only", False
    return None, process.startswith("arithmetic")


@contextlib.contextmanager
def _jpeglib_version(version: str | None):
    """jpeglib switched to a libjpeg version for the block (None: leave it as it is)."""
    import jpeglib

    if version is None:
        yield
        return
    with JPEGLIB_LOCK:
        previous = jpeglib.version.get() or "6b"
        jpeglib.version.set(version)
        try:
            yield
        finally:
            jpeglib.version.set(previous)


def _is_benign(warning: str) -> bool:
    return any(pattern.fullmatch(warning.strip()) for pattern in BENIGN_WARNINGS)
