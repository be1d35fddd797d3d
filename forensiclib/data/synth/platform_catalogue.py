"""The built-in platform profiles: paper 1's seven platforms and the camera original, measured where downloads exist.

Each value of a profile carries its evidence in `notes` ("measured on N downloads: <command>: ...", "commonly
reported, not verified here: ..." or "assumed: ..."); the measured tables are embedded as data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from .platform_profile import MEASURE_COMMAND, PlatformProfile

__all__ = ["PLATFORMS", "FACEBOOK_TABLES", "SOURCES", "fact_sources"]

#: The public repositories whose downloads were measured (`realdata/MANIFEST.tsv`, column `repo`), one account each:
#: what a profile's `sources` name. A held-out evaluation leaves out, one at a time, what each was the only source of.
SOURCES = {
    "facebook": ("mateusallanmonteiro0-a11y/Ecobikecaragua", "maritzaida-music/maritzaida-website"),
    "instagram": ("krvmb/Stego_Grad_Project",),
    "twitter": ("krvmb/Stego_Grad_Project",),
    "whatsapp": ("RAONE-02/auberge-essagya-website-v2", "Godwinsamuel4/snsptravels"),
    "telegram": ("Suhailpekd/flutter",),
}
_ECOBIKE, _MARITZAIDA = SOURCES["facebook"]
_RAONE, _SNSP = SOURCES["whatsapp"]


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
                        subsampling="4:2:0", progressive=True, segments=("iptc",))  # fmt: skip
_FACEBOOK_NOTES = {
    "max_long_side": _measured("facebook", 6, "long sides 1079..1440 (sizes the app serves); 2048 px, the commonly "
                               "reported limit of high-quality uploads, kept as the limit"),
    "max_width": "commonly reported, not verified here: " + _NO_WIDTH_RULE,
    "min_width": "assumed: small images are not enlarged",
    "resample": "assumed: Lanczos (often said of Facebook's resizer; not verified here)",
    "dct_method": "assumed: libjpeg's integer DCT",
    "subsampling": _measured("facebook", 6, "4:2:0 in 6 of 6"),
    "progressive": _measured("facebook", 6, "progressive in 6 of 6"),
    "optimize_coding": "unused: progressive (its Huffman tables are always optimised)",
    "segments": _measured("facebook", 6, "JFIF and Facebook's own IPTC block (APP13, FBMD) in 6 of 6, written as "
                          "such an IPTC block"),
    "keep_exif": _measured("facebook", 6, "no EXIF in 6 of 6"),
    "keep_jpeg": _measured("facebook", 6, "every download re-encoded (none kept a source table)"),
}
_FACEBOOK_OWN = PlatformProfile(
    **_FACEBOOK_COMMON, quantization_tables=FACEBOOK_TABLES, quality=81,
    notes={**_FACEBOOK_NOTES,
           "encoder": "assumed: libjpeg-turbo writing Facebook's tables",
           "quantization_tables": _measured("facebook", 6, "this pair of tables in 5 of 6 (2 accounts, 2025), "
                                            "embedded as FACEBOOK_TABLES"),
           "quality": "unused: the platform's own tables"},
    sources=(_ECOBIKE, _MARITZAIDA),
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
    sources=(_MARITZAIDA,),
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
    "keep_exif": _measured("twitter", 6, "no EXIF in 6 of 6"),
    "optimize_coding": "unused: progressive (its Huffman tables are always optimised)",
}
_TWITTER_KEEPING = PlatformProfile(
    **_TWITTER_COMMON, keep_jpeg=True, sources=SOURCES["twitter"],
    notes={**_TWITTER_NOTES,
           "segments": _measured("twitter", 6, "JFIF alone in the 2 kept posts (their re-encoded files are written "
                                 "with an ICC profile)"),
           "keep_jpeg": _measured("twitter", 6, "2 posts of 1920x1080 kept their source's tables and coefficients "
                                  "(only rewritten as progressive); posts beyond 4096 px, avatars and banners were "
                                  "re-encoded")},
)  # fmt: skip
_TWITTER_ENCODING = PlatformProfile(
    **_TWITTER_COMMON, segments=("icc",), sources=SOURCES["twitter"],
    notes={**_TWITTER_NOTES,
           "segments": _measured("twitter", 6, "JFIF and an ICC profile in the 4 re-encoded downloads"),
           "keep_jpeg": "assumed: uploads the app has already re-encoded, and images that are not JPEGs, are "
                        "re-encoded"},
)  # fmt: skip

_WHATSAPP_NOTES = {
    "max_width": "commonly reported, not verified here: " + _NO_WIDTH_RULE,
    "min_width": "assumed: small images are not enlarged",
    "resample": "assumed: bilinear, as a phone app would",
    "subsampling": _measured("whatsapp", 18, "4:2:0 in 18 of 18"),
    "keep_exif": _measured("whatsapp", 18, "no EXIF in 18 of 18"),
    "keep_jpeg": _measured("whatsapp", 18, "every download re-encoded"),
}
_WHATSAPP_MOZJPEG = PlatformProfile(
    name="whatsapp", max_long_side=1280, resample="bilinear", encoder="mozjpeg403", quality=(70, 80),
    quality_rule="choice", subsampling="4:2:0", progressive=True, sources=(_RAONE,),
    notes={**_WHATSAPP_NOTES,
           "optimize_coding": "unused: progressive (its Huffman tables are always optimised)",
           "segments": _measured("whatsapp", 18, "JFIF alone in the 14 with mozjpeg tables"),
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
    progressive=False, dct_method="ifast", optimize_coding=True, segments=("icc",), sources=(_SNSP,),
    notes={**_WHATSAPP_NOTES,
           "optimize_coding": _measured("whatsapp", 18, "optimised Huffman tables in the 4 baseline ones"),
           "segments": _measured("whatsapp", 18, "JFIF and an ICC profile in the 4 with IJG tables"),
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
    quality_rule="choice", subsampling="4:2:0", progressive=True, segments=("iptc",), sources=SOURCES["instagram"],
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
        "optimize_coding": "unused: progressive (its Huffman tables are always optimised)",
        "segments": _measured("instagram", 7, "JFIF and Facebook's IPTC block (APP13, FBMD) in 7 of 7"),
        "keep_exif": _measured("instagram", 7, "no EXIF in 7 of 7"),
        "keep_jpeg": _measured("instagram", 7, "every download re-encoded"),
    },
)  # fmt: skip

_TELEGRAM = PlatformProfile(
    name="telegram", max_long_side=1280, resample="bilinear", encoder="turbo210", quality=87, subsampling="4:2:0",
    progressive=True, segments=("icc",), sources=SOURCES["telegram"],
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
        "optimize_coding": "unused: progressive (its Huffman tables are always optimised)",
        "segments": _measured("telegram", 6, "JFIF and an ICC profile in 6 of 6"),
        "keep_exif": _measured("telegram", 6, "no EXIF in 6 of 6; files sent as documents, not simulated, keep "
                               "everything"),
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
    "optimize_coding": "assumed: the standard Huffman tables",
    "segments": "assumed: JFIF alone",
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


def fact_sources(name: str, table) -> tuple[str, ...]:
    """The real sources whose measurements made the simulated class `name` write a file with luminance `table`.

    For a platform, the `sources` of the behaviours that encode with this table (of the one that keeps its sources'
    tables when none does); for "original", the camera models of `camera_tables.CAMERA_TABLES` that write it. A
    held-out evaluation drops a simulated file when all its sources are the held-out one. Empty: no measured source
    (an assumed profile, or a table no measured behaviour explains).

    Raises:
        ValueError: `name` is not a class of `PLATFORMS`, or `table` is not 64 values.

    Example:
        >>> from forensiclib.provenance.jpeg import ijg_quantization_table
        >>> fact_sources("telegram", ijg_quantization_table(87))
        ('Suhailpekd/flutter',)
    """
    import numpy as np

    from .camera_tables import CAMERA_TABLES

    if name not in PLATFORMS:
        raise ValueError(f"Expected a class among {list(PLATFORMS)}. Received: {name!r}")
    table = np.asarray(table, dtype=np.int64).reshape(-1)
    if table.size != 64:
        raise ValueError(f"Expected a quantization table of 64 values. Received {table.size} values")
    profile = PLATFORMS[name]
    if profile.passthrough:
        return tuple(model for model, (luminance, _, _) in CAMERA_TABLES.items() if np.array_equal(luminance, table))
    behaviours = [behaviour for _, behaviour in profile.behaviours] or [profile]
    writers = [b for b in behaviours if any(np.array_equal(t.ravel(), table) for t in b.encoded_tables())]
    writers = writers or [b for b in behaviours if b.keep_jpeg]
    return tuple(dict.fromkeys(source for behaviour in writers for source in behaviour.sources))
