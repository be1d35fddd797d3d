"""The steps of the simulated sensor pipeline (`cameras.capture`): sRGB to linear light, the colour filter
array, demosaicing (colour-demosaicing), the per-device PRNU pattern."""

from __future__ import annotations

import functools
import warnings

import numpy as np

_PRNU_TILE = 64  # the PRNU pattern is drawn in tiles, so a pixel's value does not depend on the image size


def _srgb_to_linear(values: np.ndarray) -> np.ndarray:
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)


def _mosaic(sensor: np.ndarray, pattern: str) -> np.ndarray:
    """`(height, width)` raw mosaic: each pixel keeps the channel its filter passes."""
    raw = np.empty(sensor.shape[:2], dtype=np.float64)
    for position, colour in enumerate(pattern):
        row, col = divmod(position, 2)
        raw[row::2, col::2] = sensor[row::2, col::2, "RGB".index(colour)]
    return raw


def _demosaic(raw: np.ndarray, pattern: str, method: str) -> np.ndarray:
    with warnings.catch_warnings():  # colour-demosaicing 0.2.7 imports scipy.ndimage.filters (deprecated)
        warnings.simplefilter("ignore", DeprecationWarning)
        import colour_demosaicing

    function = {
        "bilinear": colour_demosaicing.demosaicing_CFA_Bayer_bilinear,
        "malvar2004": colour_demosaicing.demosaicing_CFA_Bayer_Malvar2004,
        "menon2007": colour_demosaicing.demosaicing_CFA_Bayer_Menon2007,
    }[method]
    return np.asarray(function(raw, pattern), dtype=np.float64)


@functools.lru_cache(maxsize=64)
def _prnu_pattern(seed: int, strength: float, height: int, width: int) -> np.ndarray:
    rows, cols = -(-height // _PRNU_TILE), -(-width // _PRNU_TILE)
    pattern = np.empty((rows * _PRNU_TILE, cols * _PRNU_TILE), dtype=np.float32)
    for row in range(rows):
        for col in range(cols):
            tile = np.random.default_rng([seed, row, col]).standard_normal((_PRNU_TILE, _PRNU_TILE), dtype=np.float32)
            pattern[row * _PRNU_TILE : (row + 1) * _PRNU_TILE, col * _PRNU_TILE : (col + 1) * _PRNU_TILE] = tile
    pattern = pattern[:height, :width] * np.float32(strength)
    pattern.setflags(write=False)
    return pattern
