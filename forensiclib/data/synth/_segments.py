"""Metadata segments the simulators write into a JPEG's header, as real cameras and platforms do.

A JPEG written by Pillow or jpeglib carries a JFIF header (APP0) and nothing else. Real files carry more, and which
segments a file carries is what `forensiclib.provenance.header` reads: a camera's EXIF block (APP1), an ICC colour
profile (APP2), an XMP packet (APP1), an IPTC block in a Photoshop resource (APP13, as Facebook's "FBMD" one). The
payloads here are small, fixed and well formed (the same bytes every time, so a dataset is the same bytes for the same
seed); readers see the segment and its identifier, not real content.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["segment_bytes", "rewrite_segments"]

_SOI = b"\xff\xd8"


def _icc_profile() -> bytes:
    """A minimal ICC v2 display profile header (128 bytes) with an empty tag table: "acsp", RGB, XYZ."""
    header = bytearray(132)
    header[0:4] = (132).to_bytes(4, "big")
    header[8:12] = bytes([2, 0x10, 0, 0])  # version 2.1
    header[12:16], header[16:20], header[20:24] = b"mntr", b"RGB ", b"XYZ "
    header[36:40] = b"acsp"
    header[68:80] = bytes.fromhex("0000f6d6000100000000d32d")  # D50 illuminant
    return bytes(header)


def _iptc_block(reference: bytes = b"FBMD0100000000000000000000000000000000000000") -> bytes:
    """A Photoshop image resource block holding IPTC record 2 dataset 103 (original transmission reference)."""
    dataset = b"\x1c\x02\x67" + len(reference).to_bytes(2, "big") + reference
    if len(dataset) % 2:
        dataset += b"\x00"
    return b"8BIM" + b"\x04\x04" + b"\x00\x00" + len(dataset).to_bytes(4, "big") + dataset


def _exif_block(make: str, model: str) -> bytes:
    """A little-endian TIFF block with the two IFD0 entries Make and Model (ASCII)."""
    entries, strings = [], b""
    offset = 8 + 2 + 2 * 12 + 4  # header, entry count, two entries, next-IFD offset
    for tag, text in ((0x010F, make), (0x0110, model)):
        value = text.encode("ascii") + b"\x00"
        entries.append(tag.to_bytes(2, "little") + (2).to_bytes(2, "little") + len(value).to_bytes(4, "little")
                       + (offset + len(strings)).to_bytes(4, "little"))  # fmt: skip
        strings += value
    return b"II*\x00" + (8).to_bytes(4, "little") + (2).to_bytes(2, "little") + b"".join(entries) + bytes(4) + strings


def segment_bytes(name: str, *, make: str = "forensiclib", model: str = "simulated") -> bytes:
    """One whole marker segment (marker, length, payload) for a segment name of `header.SEGMENT_TRAITS`.

    Raises:
        ValueError: an unknown name.
    """
    payloads = {
        "jfif": (0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        "exif": (0xE1, b"Exif\x00\x00" + _exif_block(make, model)),
        "xmp": (0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta xmlns:x='adobe:ns:meta/'/>"),
        "icc": (0xE2, b"ICC_PROFILE\x00\x01\x01" + _icc_profile()),
        "iptc": (0xED, b"Photoshop 3.0\x00" + _iptc_block()),
        "adobe": (0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x01"),
    }
    if name not in payloads:
        raise ValueError(f"Expected a segment among {sorted(payloads)}. Received: {name!r}")
    marker, payload = payloads[name]
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def rewrite_segments(data: bytes, segments: Sequence[str], **names) -> bytes:
    """A JPEG's bytes with its leading APPn/COM segments replaced by `segments` (in that order).

    The encoder's own JFIF header is kept as it is when "jfif" is listed, dropped when not; every other segment
    before the first table or frame header is replaced. `names` go to `segment_bytes` (the EXIF block's make and
    model).

    Raises:
        ValueError: `data` is not a JPEG.
    """
    if not data.startswith(_SOI):
        raise ValueError(f"Expected the bytes of a JPEG. Received: bytes starting with {data[:4]!r}")
    position, jfif = 2, None
    while data[position] == 0xFF and (0xE0 <= data[position + 1] <= 0xEF or data[position + 1] == 0xFE):
        end = position + 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if data[position + 1] == 0xE0 and data[position + 4 : position + 9] == b"JFIF\x00":
            jfif = data[position:end]
        position = end
    written = b"".join((jfif or segment_bytes("jfif")) if name == "jfif" else segment_bytes(name, **names)
                       for name in segments)  # fmt: skip
    return _SOI + written + data[position:]
