"""Scenes: shapes, seeding, photo crops checked against the photographs, dead-leaves statistics, bad input."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from PIL import Image

import forensiclib as fl
from forensiclib.data.synth.scenes import SCENE_KINDS, iter_scenes, make_scenes


def _transforms(scene):
    """The 8 turns and flips of a scene."""
    for turns in range(4):
        turned = np.rot90(scene, turns)
        yield turned
        yield turned[:, ::-1]


def _match(scene, reference, tolerance=1):
    """Index of the turn/flip of `scene` that is a window of `reference` (up to `tolerance`), or None."""
    reference = reference.astype(np.int16)
    for index, candidate in enumerate(_transforms(scene.astype(np.int16))):
        height, width = candidate.shape[:2]
        if height > reference.shape[0] or width > reference.shape[1]:
            continue
        # Candidate positions from the first 8 pixels of the first row, then a full comparison.
        starts = np.lib.stride_tricks.sliding_window_view(reference[: reference.shape[0] - height + 1], 8, axis=1)
        starts = starts[:, : reference.shape[1] - width + 1]  # (rows, cols, 3, 8)
        close = np.abs(starts - candidate[0, :8].T[None, None]).max(axis=(2, 3)) <= tolerance
        for top, left in zip(*np.nonzero(close)):
            window = reference[top : top + height, left : left + width]
            if np.abs(window - candidate).max() <= tolerance:
                return index
    return None


def _is_crop(scene, reference, tolerance=1):
    return _match(scene, reference, tolerance) is not None


def _halved(photo):
    """Area-average downscaling by exactly 2 (mean of each 2x2 block), computed with numpy."""
    height, width = photo.shape[0] // 2 * 2, photo.shape[1] // 2 * 2
    blocks = photo[:height, :width].astype(float).reshape(height // 2, 2, width // 2, 2, 3)
    return np.rint(blocks.mean(axis=(1, 3)))


def _spectral_slope(scenes):
    """Slope of the radially averaged power spectrum of the luminance, log-log, 4/n .. 1/4 cycle/pixel."""
    size = scenes.shape[1]
    luminance = scenes.astype(float) @ np.array([0.299, 0.587, 0.114])
    luminance -= luminance.mean(axis=(1, 2), keepdims=True)
    window = np.outer(np.hanning(size), np.hanning(size))
    power = (np.abs(np.fft.fft2(luminance * window)) ** 2).mean(axis=0).ravel()
    frequency = np.fft.fftfreq(size)
    radius = np.hypot(*np.meshgrid(frequency, frequency, indexing="ij")).ravel()
    edges = np.geomspace(4 / size, 0.25, 12)
    ring = np.digitize(radius, edges)
    x = [np.log(radius[ring == k].mean()) for k in range(1, len(edges))]
    y = [np.log(power[ring == k].mean()) for k in range(1, len(edges))]
    return np.polyfit(x, y, 1)[0]


@pytest.mark.parametrize("kind", SCENE_KINDS)
def test_shape_and_dtype(kind):
    scenes = make_scenes(3, size=(48, 80), kind=kind, random_state=0)
    assert scenes.shape == (3, 48, 80, 3)
    assert scenes.dtype == np.uint8
    for scene in scenes:
        assert scene.std() > 4  # not flat
    assert make_scenes(0, size=(16, 16), kind=kind).shape == (0, 16, 16, 3)


@pytest.mark.parametrize("kind", SCENE_KINDS)
def test_same_seed_same_bytes(kind):
    first = make_scenes(3, size=(64, 64), kind=kind, random_state=42)
    assert first.tobytes() == make_scenes(3, size=(64, 64), kind=kind, random_state=42).tobytes()
    assert first.tobytes() != make_scenes(3, size=(64, 64), kind=kind, random_state=43).tobytes()


def test_make_scenes_is_the_start_of_iter_scenes():
    made = make_scenes(5, size=(32, 40), kind="mixed", random_state=7)
    streamed = np.stack(list(itertools.islice(iter_scenes(size=(32, 40), kind="mixed", random_state=7), 5)))
    np.testing.assert_array_equal(made, streamed)


def test_iter_scenes_is_endless_and_varied():
    scenes = list(itertools.islice(iter_scenes(size=(16, 16), kind="dead_leaves", random_state=0), 60))
    assert len(scenes) == 60
    assert len({scene.tobytes() for scene in scenes}) == 60


def test_photo_scenes_are_turned_crops_of_the_halved_photo():
    reference = _halved(fl.load_photo("astronaut"))  # 512x512 -> 256x256: factor 2 fits 40x56 crops
    scenes = make_scenes(6, size=(40, 56), kind="photo", photos=["astronaut"], random_state=1)
    for scene in scenes:
        assert _is_crop(scene, reference)
    # A dead-leaves scene is not a crop of the photo (the check can fail).
    assert not _is_crop(make_scenes(1, size=(40, 56), kind="dead_leaves", random_state=1)[0], reference)


def test_photo_scenes_use_several_turns_and_flips():
    reference = _halved(fl.load_photo("astronaut"))
    scenes = make_scenes(12, size=(48, 48), kind="photo", photos=["astronaut"], random_state=2)
    transforms = {_match(scene, reference) for scene in scenes}
    assert None not in transforms
    assert len(transforms) >= 3


def test_a_large_size_lowers_the_downscale_factor_but_not_below_1_5():
    # coffee is 400x600: a 256x256 crop needs the factor 400/256 = 1.5625 instead of 2.
    coffee = fl.load_photo("coffee")
    reduced = np.asarray(Image.fromarray(coffee).resize((384, 256), Image.Resampling.BOX))
    scene = make_scenes(1, size=(256, 256), kind="photo", photos=["coffee"], random_state=0)[0]
    assert _is_crop(scene, reduced, tolerance=0)


def test_too_large_for_every_photo_falls_back_to_dead_leaves():
    # chelsea is 300x451: at the smallest factor 1.5 it gives 200x300, less than 256x256.
    with pytest.warns(UserWarning, match=r"No photo among \['chelsea'\] can give a 256x256 crop"):
        scenes = make_scenes(2, size=(256, 256), kind="photo", photos=["chelsea"], random_state=4)
    np.testing.assert_array_equal(scenes, make_scenes(2, size=(256, 256), kind="dead_leaves", random_state=4))


def test_nearly_flat_photo_crops_are_drawn_again():
    # retina has large black corners; every crop kept still has texture.
    scenes = make_scenes(30, size=(48, 48), kind="photo", photos=["retina"], random_state=0)
    luminance = scenes.astype(float) @ np.array([0.299, 0.587, 0.114])
    assert luminance.std(axis=(1, 2)).min() >= 4.0


def test_mixed_scenes_contain_both_kinds():
    reference = _halved(fl.load_photo("astronaut"))
    scenes = make_scenes(16, size=(32, 32), kind="mixed", photos=["astronaut"], random_state=3)
    photos = sum(_is_crop(scene, reference) for scene in scenes)
    assert 3 <= photos <= 13


def test_dead_leaves_have_a_natural_power_spectrum():
    scenes = make_scenes(6, size=(128, 128), kind="dead_leaves", random_state=0)
    assert -3.2 < _spectral_slope(scenes) < -1.6  # natural images: about -2
    noise = np.random.default_rng(0).integers(0, 256, (6, 128, 128, 3), dtype=np.uint8)
    assert _spectral_slope(noise) > -0.5  # the measure separates white noise


def test_dead_leaves_have_edges_at_every_scale():
    # Fraction of pixels on an occlusion edge (luminance step > 20). Measured for this renderer:
    # radii with density r^-3 give about 0.27; uniform radii (a few big disks) give about 0.05,
    # radii all equal to twice the smallest (confetti) about 0.36.
    scenes = make_scenes(12, size=(128, 128), kind="dead_leaves", random_state=0)
    luminance = scenes.astype(float) @ np.array([0.299, 0.587, 0.114])
    steps = np.hypot(np.diff(luminance, axis=2)[:, :-1, :], np.diff(luminance, axis=1)[:, :, :-1])
    assert 0.2 < (steps > 20).mean() < 0.33


def test_dead_leaves_are_textured_and_colourful():
    scene = make_scenes(1, size=(128, 128), kind="dead_leaves", random_state=5)[0].astype(int)
    flat_steps = (np.diff(scene, axis=1) == 0).all(axis=2).mean()
    assert flat_steps < 0.3  # not piecewise constant: shading, texture, soft edges
    colours = np.unique(scene.reshape(-1, 3) // 32, axis=0)
    assert len(colours) > 20


def test_dead_leaves_512_is_fast():
    timings = []
    for seed in range(2):
        start = time.perf_counter()
        make_scenes(1, size=(512, 512), kind="dead_leaves", random_state=seed)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 1.0  # about 0.2 s on a laptop core; a loose guard against a slow rewrite


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n_samples": -1}, r"Expected n_samples a non-negative integer\. Received: -1"),
        ({"n_samples": 2.5}, r"Expected n_samples a non-negative integer\. Received: 2\.5"),
        ({"size": (0, 10)}, r"Expected size a pair of positive integers \(height, width\)\. Received: \(0, 10\)"),
        ({"size": (10,)}, r"Expected size a pair of positive integers .*Received: \(10,\)"),
        ({"size": (10.0, 10)}, r"Expected size a pair of positive integers .*Received: \(10\.0, 10\)"),
        ({"kind": "photos"}, r"Expected kind one of \['mixed', 'photo', 'dead_leaves'\]\. Received: 'photos'"),
        ({"downscale": 1.2}, r"Expected downscale a number >= 1\.5\. Received: 1\.2"),
        ({"photos": ["lena"]}, r"Expected photo names among \[.*'astronaut'.*\]\. Received unknown names: \['lena'\]"),
        ({"photos": "astronaut"}, r"Expected photos a non-empty sequence of names"),
    ],
)
def test_bad_arguments(arguments, message):
    values = {"n_samples": 1, **arguments}
    n_samples = values.pop("n_samples")
    with pytest.raises(ValueError, match=message):
        make_scenes(n_samples, **values)


def test_iter_scenes_checks_arguments_when_created():
    with pytest.raises(ValueError, match=r"Expected kind one of"):
        iter_scenes(kind="noise")
