"""No two classes of paper 1 give the same file: every platform's download differs from every other's (Sec. IV).

Each source is shared through every class several times (the behaviours and qualities a platform draws), and the
luminance coefficients of the downloads are compared across classes. The one exception is a platform shown to keep
some files untouched: Twitter keeps a JPEG within its limits (measured on real downloads, see its profile's
`keep_jpeg` note), so such a download has the original's coefficients.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image

import forensiclib as fl
from forensiclib.data.synth.cameras import camera_models, write_camera_jpeg
from forensiclib.data.synth.platforms import PLATFORMS, share

SIZES = ((320, 240), (704, 528))  # (width, height)
N_DRAWS = 6  # seeds per source and class: enough to draw every behaviour of each platform
#: (class, class) pairs allowed to give identical coefficients, and why.
ALLOWED = {frozenset(("twitter", "original")): "Twitter keeps a JPEG within its limits (measured)"}


def _sources(folder):
    rng = np.random.default_rng(0)
    smooth = np.tile(np.linspace(0, 255, 704, dtype=np.uint8)[None, :, None], (528, 1, 3))
    busy = rng.integers(0, 256, size=(528, 704, 3), dtype=np.uint8)
    images = {name: fl.load_photo(name) for name in ("astronaut", "coffee", "chelsea")}
    images.update(smooth=smooth, busy=busy)
    models = camera_models("B")
    sources = []
    for index, (name, rgb) in enumerate(images.items()):
        for width, height in SIZES:
            resized = np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.LANCZOS))
            path = folder / f"{name}_{width}.jpg"
            sources.append(write_camera_jpeg(resized, path, models[index % len(models)]))
    return sources


def _luminance_digest(path) -> str:
    image = fl.read_dct(path)
    return hashlib.sha256(image.coefficients.tobytes() + bytes(str(image.coefficients.shape), "ascii")).hexdigest()


@pytest.fixture(scope="module")
def digests(tmp_path_factory):
    """{source name: {class: {digest, ...}}} over N_DRAWS seeds."""
    folder = tmp_path_factory.mktemp("collisions")
    result = {}
    for source in _sources(folder):
        by_class = result[source.name] = {}
        for name in PLATFORMS:
            by_class[name] = {
                _luminance_digest(share(source, name, folder / f"{source.stem}_{name}_{seed}.jpg", random_state=seed))
                for seed in range(N_DRAWS)
            }
    return result


def test_no_two_classes_give_identical_luminance_coefficients(digests):
    collisions = []
    for source, by_class in digests.items():
        names = sorted(by_class)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                if by_class[first] & by_class[second] and frozenset((first, second)) not in ALLOWED:
                    collisions.append(f"{source}: {first} and {second}")
    assert not collisions, "identical downloads in different classes: " + "; ".join(collisions)


def test_the_allowed_exception_does_happen_and_is_documented(digests):
    """Twitter's kept downloads equal the original (else the exception would not be needed)."""
    kept = [source for source, by_class in digests.items() if by_class["twitter"] & by_class["original"]]
    assert kept, "no Twitter download kept its source: the exception in ALLOWED is stale"
    assert any(b.keep_jpeg and "measured on" in b.notes["keep_jpeg"] for _, b in PLATFORMS["twitter"].behaviours)


def test_draws_reach_several_versions_per_varying_platform(digests):
    """The seeds reach more than one behaviour or quality for the platforms that vary (else the test would miss
    collisions of the versions never drawn)."""
    for name in ("facebook", "twitter", "instagram", "whatsapp"):
        assert max(len(by_class[name]) for by_class in digests.values()) > 1, name
