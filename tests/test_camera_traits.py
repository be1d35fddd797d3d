"""Each trait of a simulated camera model is in its files: a linear probe on a simple statistic, trained on one
device's JPEGs and tested on another device's, tells two models that differ in the trait apart (paper 2, Sec. 5)."""

import numpy as np
import pytest
from PIL import Image

from forensiclib.data.synth import camera_traits as traits
from forensiclib.data.synth.cameras import camera_devices, camera_models, capture, write_camera_jpeg
from forensiclib.data.synth.scenes import make_scenes

MODELS = camera_models("B")


def _shots(model, device_index, seed, folder, n=8, size=64):
    """`n` JPEGs of other scenes by one device: `[(decoded RGB, path)]`."""
    device = camera_devices(model, 2)[device_index]
    out = []
    for i, scene in enumerate(make_scenes(n, size=(size, size), random_state=seed)):
        path = folder / f"{model.name}-{device_index}-{seed}-{i}.jpg"
        write_camera_jpeg(capture(scene, device, random_state=seed * 100 + i), path, device)
        with Image.open(path) as image:
            out.append((np.asarray(image.convert("RGB")), path))
    return out


def _held_out_device_accuracy(a, b, statistic, folder):
    """Train on device 0 of models a and b, test on device 1 of each (other scenes)."""
    train = [(statistic(*s), 0) for s in _shots(a, 0, 1, folder)] + [(statistic(*s), 1) for s in _shots(b, 0, 2, folder)]
    test = [(statistic(*s), 0) for s in _shots(a, 1, 3, folder)] + [(statistic(*s), 1) for s in _shots(b, 1, 4, folder)]
    (x, y), (xt, yt) = zip(*train), zip(*test)
    return traits.probe(x, y, xt, yt)


def _pair(differ, same=()):
    for a in MODELS:
        for b in MODELS:
            if a.name < b.name and differ(a, b) and all(getattr(a, f) == getattr(b, f) for f in same):
                return a, b
    raise AssertionError("no such pair in the catalogue")


def _demosaicing(image, path):
    return traits.demosaicing_statistics(image, channels=(0, 1, 2))


@pytest.mark.parametrize("trait, differ, same", [
    ("colour filter array", lambda a, b: a.cfa_pattern != b.cfa_pattern, ("demosaicing",)),
    ("demosaicing", lambda a, b: a.demosaicing != b.demosaicing, ("cfa_pattern",)),
])  # fmt: skip
def test_the_filter_array_and_the_demosaicing_are_in_the_files(tmp_path, trait, differ, same):
    a, b = _pair(differ, same)
    assert _held_out_device_accuracy(a, b, _demosaicing, tmp_path) >= 0.9, (trait, a.name, b.name)


def test_the_jpeg_tables_are_in_the_files(tmp_path):
    a, b = _pair(lambda a, b: not set(a.jpeg_tables) & set(b.jpeg_tables))
    assert _held_out_device_accuracy(a, b, lambda image, path: traits.quantization_statistics(path), tmp_path) == 1.0


def test_colour_processing_is_in_the_files_of_the_two_most_different_models(tmp_path):
    gains = np.log([m.white_balance for m in MODELS])
    i, j = np.unravel_index(np.argmax(((gains[:, None] - gains[None]) ** 2).sum(-1)), (len(MODELS),) * 2)
    accuracy = _held_out_device_accuracy(MODELS[i], MODELS[j], lambda image, path: traits.colour_statistics(image),
                                         tmp_path)  # fmt: skip
    assert accuracy >= 0.7  # weak: the scenes' own colours dominate (benchmarks/camera_traits.py)


@pytest.mark.slow
def test_a_device_is_told_by_its_sensor_pattern_and_a_model_statistic_cannot_tell_two_devices_apart(tmp_path):
    model = MODELS[0]
    devices = camera_devices(model, 2)
    flat = np.full((256, 256, 3), 170, np.uint8)  # the pattern is 0.5-1 %: 256x256 shots, flat-field references
    references = [np.mean([traits.noise_residual(capture(flat, d, random_state=100 * k + i)) for i in range(8)], axis=0)
                  for k, d in enumerate(devices)]  # fmt: skip
    right = 0
    for k, device in enumerate(devices):
        for i, scene in enumerate(make_scenes(6, size=(256, 256), random_state=7 + k)):
            image = capture(scene, device, random_state=1000 + 10 * k + i)
            scores = [traits.noise_correlation(image, reference) for reference in references]
            right += int(np.argmax(scores) == k)
    assert right == 12
    # the demosaicing statistic is the model's: it cannot tell the model's two devices apart (the probe can fail)
    train = [(_demosaicing(*s), d) for d in (0, 1) for s in _shots(model, d, 10 + d, tmp_path)]
    test = [(_demosaicing(*s), d) for d in (0, 1) for s in _shots(model, d, 20 + d, tmp_path)]
    (x, y), (xt, yt) = zip(*train), zip(*test)
    assert traits.probe(x, y, xt, yt) <= 0.75


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"Expected an image \(height, width\) or \(height, width, 3\), both sides >= 8"):
        traits.demosaicing_statistics(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match=r"Expected a reference of the image's shape \(16, 16\)"):
        traits.noise_correlation(np.zeros((16, 16, 3)), np.zeros((8, 8)))
    with pytest.raises(ValueError, match="Expected at least 2 classes to train on"):
        traits.probe([[0.0], [1.0]], [0, 0], [[0.0]], [0])
