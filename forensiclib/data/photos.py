"""Real photographs that ship inside scikit-image and scikit-learn (no download).

They are the natural-image material of the embedded data: real scenes, each
already processed once by its own camera and encoder (several were JPEGs), so
callers that need clean sources downscale them first.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PHOTOS", "load_photo"]

#: Names accepted by `load_photo`: (package, loader) for each.
PHOTOS: dict[str, str] = {
    "astronaut": "skimage",
    "chelsea": "skimage",
    "coffee": "skimage",
    "rocket": "skimage",
    "immunohistochemistry": "skimage",
    "hubble_deep_field": "skimage",
    "retina": "skimage",
    "china": "sklearn",
    "flower": "sklearn",
}


def load_photo(name: str) -> np.ndarray:
    """One of the shipped photographs as an `(height, width, 3)` uint8 RGB array.

    Args:
        name: a key of `PHOTOS`.

    Example:
        >>> load_photo("chelsea").shape
        (300, 451, 3)
    """
    if name not in PHOTOS:
        raise ValueError(f"Expected a photo name among {sorted(PHOTOS)}. Received: {name!r}")
    if PHOTOS[name] == "sklearn":
        from sklearn.datasets import load_sample_image

        return np.asarray(load_sample_image(f"{name}.jpg"), dtype=np.uint8)
    import skimage.data

    return np.asarray(getattr(skimage.data, name)()[..., :3], dtype=np.uint8)
