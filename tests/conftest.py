"""Shared fixtures: real photographs (shipped with scikit-image / scikit-learn) encoded as JPEGs."""

from __future__ import annotations

import numpy as np
import pytest

import forensiclib as fl

#: Photographs used by the equality tests: different sizes (none a multiple of 64 on both sides).
TEST_PHOTOS = ("chelsea", "coffee", "china", "astronaut")


@pytest.fixture(scope="session")
def photo_jpegs(tmp_path_factory):
    """{(photo, quality, subsampling): path} for every test photo, quality and subsampling."""
    folder = tmp_path_factory.mktemp("photos")
    paths = {}
    for name in TEST_PHOTOS:
        rgb = fl.load_photo(name)
        for quality in (50, 75, 95):
            for subsampling in ("4:4:4", "4:2:0"):
                path = folder / f"{name}_{quality}_{subsampling.replace(':', '')}.jpg"
                paths[name, quality, subsampling] = fl.encode_jpeg(rgb, path, quality=quality, subsampling=subsampling)
    return paths


@pytest.fixture(scope="session")
def chelsea_rgb():
    return fl.load_photo("chelsea")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
