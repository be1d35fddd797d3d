"""Camera simulator: the catalogue, devices and PRNU, the CFA seen in the raw mosaic, the pipeline, bad input."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import warnings

import jpeglib
import numpy as np
import pytest

import forensiclib as fl
from forensiclib.data.synth.camera_tables import CAMERA_TABLES
from forensiclib.data.synth.cameras import (
    CAMERA_TASKS,
    CFA_PATTERNS,
    DEMOSAICING_METHODS,
    CameraDevice,
    CameraModel,
    camera_devices,
    camera_models,
    camera_tables_for,
    capture,
    capture_jpeg,
    write_camera_jpeg,
)
from forensiclib.data.synth.scenes import make_scenes

ALL_MODELS = camera_models("B") + camera_models("C")


@pytest.fixture(scope="module")
def photo_scene():
    return make_scenes(1, size=(96, 128), kind="photo", photos=["coffee"], random_state=0)[0]


def _flat(colour, size=32):
    return np.broadcast_to(np.array(colour, dtype=np.uint8), (size, size, 3)).copy()


def _correlation(a, b):
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def _identity_camera(demosaicing, pattern="GRBG"):
    """A camera that only samples the CFA and demosaics: no blur, noise, PRNU, colour or tone processing."""
    model = CameraModel(
        name="identity",
        cfa_pattern=pattern,
        demosaicing=demosaicing,
        blur_sigma=0.0,
        shot_noise=0.0,
        read_noise=0.0,
        white_balance=[1.0, 1.0, 1.0],
        colour_matrix=np.eye(3).tolist(),
        gamma=1.0,
        contrast=0.0,
        sharpening=0.0,
        jpeg_quality=90,
        jpeg_subsampling="4:4:4",
    )
    return CameraDevice(model=model, index=0, serial="identity-d0", seed=1, gain=1.0, blur_scale=1.0, prnu_strength=0.0)


# --- catalogue --------------------------------------------------------------------------------------


def test_catalogue_sizes_names_and_disjointness():
    task_b, task_c = camera_models("B"), camera_models("C")
    assert CAMERA_TASKS == ("B", "C")
    assert len(task_b) == 20 and len(task_c) == 5
    names = [model.name for model in task_b + task_c]
    assert all(re.fullmatch(r"sim-camera-\d\d", name) for name in names)
    assert len(set(names)) == 25
    assert not {model.name for model in task_b} & {model.name for model in task_c}
    assert not set(task_b) & set(task_c)
    settings = {dataclasses.astuple(dataclasses.replace(model, name="x")) for model in task_b + task_c}
    assert len(settings) == 25  # no two models share every setting


def test_catalogue_is_identical_on_every_machine():
    # Pinned: a change here changes every simulated camera data set; update only on purpose.
    fingerprint = hashlib.sha256(repr(ALL_MODELS).encode()).hexdigest()
    assert fingerprint == "f27bd2609992345ce7f2f0bd24cccd3b24018064357efa1c78584d8cfc84bfc7"
    devices = [device for model in ALL_MODELS for device in camera_devices(model, 2)]
    fingerprint = hashlib.sha256(repr(devices).encode()).hexdigest()
    assert fingerprint == "e86fb935dd5edb759b0cf0658d72465be66bc32984154e6893fab30ed977e8b2"
    first = camera_models("B")[0]
    assert (first.cfa_pattern, first.demosaicing, first.jpeg_quality, first.jpeg_subsampling) == (
        "RGGB",
        "bilinear",
        87,
        "4:2:0",
    )


def test_catalogue_covers_every_pattern_and_algorithm_with_plausible_settings():
    task_b = camera_models("B")
    assert {(model.cfa_pattern, model.demosaicing) for model in task_b} == {
        (pattern, method) for pattern in CFA_PATTERNS for method in DEMOSAICING_METHODS
    }
    for model in ALL_MODELS:
        matrix = np.array(model.colour_matrix)
        np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-9)  # white stays white
        assert (np.linalg.inv(matrix) >= 0).all()  # a physical sensor response
        assert model.white_balance[1] == 1.0 and min(model.white_balance) >= 1.0
        assert 85 <= model.jpeg_quality <= 97
        assert 1.8 < model.gamma < 2.7 and 0 < model.blur_sigma < 1
    assert len({model.jpeg_subsampling for model in ALL_MODELS}) == 3


# --- devices and PRNU -------------------------------------------------------------------------------


def test_devices_share_the_model_and_differ_in_their_sensor():
    model = camera_models("B")[5]
    devices = camera_devices(model, 3)
    assert len(devices) == 3
    assert all(device.model == model for device in devices)
    assert [device.index for device in devices] == [0, 1, 2]
    assert len({device.serial for device in devices}) == 3 and len({device.seed for device in devices}) == 3
    assert camera_devices(model, 2) == devices[:2]  # device i is always the same device
    for device in devices:
        assert 0.97 <= device.gain <= 1.03 and 0.95 <= device.blur_scale <= 1.05
        pattern = device.prnu((128, 128))
        assert pattern.dtype == np.float32 and pattern.shape == (128, 128)
        assert pattern.std() == pytest.approx(device.prnu_strength, rel=0.05)
        assert 0.005 <= device.prnu_strength <= 0.01
        assert abs(pattern.mean()) < 0.1 * device.prnu_strength
    assert abs(_correlation(devices[0].prnu((128, 128)), devices[1].prnu((128, 128)))) < 0.05
    other_model_device = camera_devices(camera_models("B")[6], 1)[0]
    assert abs(_correlation(devices[0].prnu((128, 128)), other_model_device.prnu((128, 128)))) < 0.05


def test_prnu_of_a_smaller_image_is_the_corner_of_a_larger_one():
    device = camera_devices(camera_models("C")[2], 1)[0]
    large = device.prnu((150, 200))
    np.testing.assert_array_equal(device.prnu((70, 90)), large[:70, :90])
    assert not large.flags.writeable


def test_prnu_can_be_estimated_from_captures_of_its_own_device():
    model = camera_models("B")[1]
    own, other = camera_devices(model, 2)
    scene = _flat((180, 180, 180), size=64)
    raws = np.stack([capture(scene, own, random_state=seed, return_raw=True)[1] for seed in range(8)])
    # Each 2x2 position of a flat scene has its own level; K ~ raw / level - 1.
    levels = np.zeros((64, 64))
    for row in range(2):
        for col in range(2):
            levels[row::2, col::2] = raws[:, row::2, col::2].mean()
    estimate = (raws / levels - 1.0).mean(axis=0)
    assert _correlation(estimate, own.prnu((64, 64))) > 0.3
    assert abs(_correlation(estimate, other.prnu((64, 64)))) < 0.1


# --- the pipeline -----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.name)
def test_cfa_pattern_is_recoverable_from_the_raw_mosaic(model):
    device = camera_devices(model, 1)[0]
    means = {}
    for colour, scene in (("R", (200, 0, 0)), ("G", (0, 200, 0)), ("B", (0, 0, 200))):
        _, raw = capture(_flat(scene), device, random_state=0, return_raw=True)
        means[colour] = np.array([raw[row::2, col::2].mean() for row in range(2) for col in range(2)])
    # The red (blue) filter site is where a red (blue) scene gives the most signal; the other two are green.
    pattern = ["G"] * 4
    pattern[int(np.argmax(means["R"]))] = "R"
    pattern[int(np.argmax(means["B"]))] = "B"
    assert "".join(pattern) == model.cfa_pattern
    greens = [index for index, colour in enumerate(model.cfa_pattern) if colour == "G"]
    for colour in "RGB":
        assert means[colour][greens[0]] == pytest.approx(means[colour][greens[1]], rel=0.05)
    assert set(np.argsort(means["G"])[-2:]) == set(greens)


@pytest.mark.parametrize("method", DEMOSAICING_METHODS)
def test_identity_camera_is_cfa_sampling_then_the_named_demosaicing(method):
    with warnings.catch_warnings():  # colour-demosaicing 0.2.7 imports a deprecated scipy namespace
        warnings.simplefilter("ignore", DeprecationWarning)
        import colour_demosaicing

    functions = {
        "bilinear": colour_demosaicing.demosaicing_CFA_Bayer_bilinear,
        "malvar2004": colour_demosaicing.demosaicing_CFA_Bayer_Malvar2004,
        "menon2007": colour_demosaicing.demosaicing_CFA_Bayer_Menon2007,
    }
    scene = make_scenes(1, size=(48, 64), kind="dead_leaves", random_state=9)[0]
    image, raw = capture(scene, _identity_camera(method), random_state=0, return_raw=True)
    values = scene / 255.0
    linear = np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)
    mosaic = colour_demosaicing.mosaicing_CFA_Bayer(linear, "GRBG")
    np.testing.assert_allclose(raw, mosaic, atol=0.5 / 4095 + 1e-6)  # 12-bit quantization only
    expected = np.clip(np.rint(functions[method](mosaic, "GRBG") * 255), 0, 255)
    assert np.abs(image.astype(int) - expected).max() <= 1
    others = [other for other in DEMOSAICING_METHODS if other != method]
    for other in others:
        assert np.abs(capture(scene, _identity_camera(other), random_state=0).astype(int) - expected).max() > 2


def test_same_seed_same_bytes(photo_scene):
    device = camera_devices(camera_models("B")[2], 2)[1]
    first = capture(photo_scene, device, random_state=3)
    assert first.tobytes() == capture(photo_scene, device, random_state=3).tobytes()
    assert first.tobytes() != capture(photo_scene, device, random_state=4).tobytes()
    image, raw = capture(photo_scene, device, random_state=3, return_raw=True)
    assert image.tobytes() == first.tobytes()
    assert raw.dtype == np.float32 and raw.shape == photo_scene.shape[:2]
    assert 0.0 <= raw.min() and raw.max() <= 1.0


@pytest.mark.parametrize("model", ALL_MODELS[::4], ids=lambda model: model.name)
def test_captures_look_like_the_scene(photo_scene, model):
    image = capture(photo_scene, camera_devices(model, 1)[0], random_state=1)
    assert image.dtype == np.uint8 and image.shape == photo_scene.shape
    assert image.std() > 10 and image.max() > 100
    weights = np.array([0.299, 0.587, 0.114])
    captured, original = image @ weights, photo_scene @ weights
    assert _correlation(captured, original) > 0.9
    assert abs(captured.mean() - original.mean()) < 50
    # Colours survive: the reddest channel of a flat red scene stays red.
    red = capture(_flat((200, 40, 40)), camera_devices(model, 1)[0], random_state=1).reshape(-1, 3).mean(axis=0)
    assert red[0] > 1.5 * red[1] and red[0] > 1.5 * red[2]


def test_models_leave_different_traces(photo_scene):
    first, second = camera_models("B")[:2]
    one = capture(photo_scene, camera_devices(first, 1)[0], random_state=0).astype(int)
    two = capture(photo_scene, camera_devices(second, 1)[0], random_state=0).astype(int)
    assert np.abs(one - two).mean() > 2


@pytest.mark.parametrize("subsampling", ["4:2:0", "4:2:2", "4:4:4"])
def test_camera_jpeg_uses_a_real_cameras_tables_and_the_model_subsampling(tmp_path, photo_scene, subsampling):
    model = next(model for model in ALL_MODELS if model.jpeg_subsampling == subsampling)
    device = camera_devices(model, 2)[1]
    path = capture_jpeg(photo_scene, device, tmp_path / "capture.jpg", random_state=2)
    jpeg = jpeglib.read_dct(str(path))
    chosen = camera_tables_for(capture(photo_scene, device, random_state=2), model)
    assert chosen in model.jpeg_tables
    np.testing.assert_array_equal(jpeg.qt[jpeg.quant_tbl_no[0]].ravel(), CAMERA_TABLES[chosen][0])
    np.testing.assert_array_equal(jpeg.qt[jpeg.quant_tbl_no[1]].ravel(), CAMERA_TABLES[chosen][1])
    image = fl.read_dct(path)
    assert image.subsampling == subsampling
    assert (image.height, image.width) == photo_scene.shape[:2]
    again = capture_jpeg(photo_scene, device, tmp_path / "again.jpg", random_state=2)
    assert path.read_bytes() == again.read_bytes()
    written = write_camera_jpeg(capture(photo_scene, device, random_state=2), tmp_path / "written.jpg", model)
    assert written.read_bytes() == path.read_bytes()


# --- bad input --------------------------------------------------------------------------------------


def test_bad_task():
    with pytest.raises(ValueError, match=r"Expected task one of \['B', 'C'\]\. Received: 'A'"):
        camera_models("A")


def test_bad_device_requests():
    model = camera_models("B")[0]
    with pytest.raises(ValueError, match=r"Expected n_devices a positive integer\. Received: 0"):
        camera_devices(model, 0)
    with pytest.raises(ValueError, match=r"Expected model a CameraModel\. Received: str"):
        camera_devices("sim-camera-01", 2)
    with pytest.raises(ValueError, match=r"Expected shape a pair of positive integers \(height, width\)\. Received"):
        camera_devices(model, 1)[0].prnu((0, 5))


@pytest.mark.parametrize(
    ("scene", "message"),
    [
        (
            np.zeros((32, 32, 3), np.float32),
            r"Expected scene a \(height, width, 3\) uint8 array with sides >= 8\. Received: float32 \(32, 32, 3\)",
        ),
        (np.zeros((32, 32), np.uint8), r"Received: uint8 \(32, 32\)"),
        (np.zeros((4, 32, 3), np.uint8), r"Received: uint8 \(4, 32, 3\)"),
    ],
)
def test_bad_scene(scene, message):
    with pytest.raises(ValueError, match=message):
        capture(scene, camera_devices(camera_models("B")[0], 1)[0])


def test_capture_needs_a_device_not_a_model():
    with pytest.raises(ValueError, match=r"Expected device a CameraDevice\. Received: CameraModel"):
        capture(_flat((1, 2, 3)), camera_models("B")[0])
    with pytest.raises(ValueError, match=r"Expected camera a CameraModel or CameraDevice\. Received: str"):
        write_camera_jpeg(_flat((1, 2, 3)), "never.jpg", "sim-camera-01")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cfa_pattern": "RGBG"}, r"Expected cfa_pattern one of \['RGGB', 'BGGR', 'GRBG', 'GBRG'\]\. Received: 'RGBG'"),
        ({"demosaicing": "ahd"}, r"Expected demosaicing one of \['bilinear', 'malvar2004', 'menon2007'\]\. Received"),
        ({"blur_sigma": -0.1}, r"Expected blur_sigma a finite number >= 0\.0\. Received: -0\.1"),
        ({"gamma": 0}, r"Expected gamma a finite number > 0\.0\. Received: 0"),
        ({"contrast": 1.5}, r"Expected contrast a finite number >= 0\.0 and <= 1\.0\. Received: 1\.5"),
        ({"white_balance": (2.0, 1.0)}, r"Expected white_balance three positive gains\. Received: \(2\.0, 1\.0\)"),
        ({"colour_matrix": np.ones((3, 3))}, r"Expected colour_matrix an invertible 3x3 matrix"),
        ({"jpeg_quality": 101}, r"Expected jpeg_quality an integer in 1\.\.100\. Received: 101"),
        ({"jpeg_subsampling": "4:1:1"}, r"Expected jpeg_subsampling one of \['4:4:4', '4:2:2', '4:2:0'\]\. Received"),
    ],
)
def test_bad_model_settings(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(camera_models("B")[0], **change)


def test_bad_device_settings():
    device = camera_devices(camera_models("B")[0], 1)[0]
    with pytest.raises(ValueError, match=r"Expected prnu_strength a finite number >= 0\.0\. Received: -0\.01"):
        dataclasses.replace(device, prnu_strength=-0.01)
    with pytest.raises(ValueError, match=r"Expected seed a non-negative integer\. Received: -1"):
        dataclasses.replace(device, seed=-1)


def test_models_are_hashable_with_lists_stored_as_tuples():
    model = _identity_camera("bilinear").model
    assert isinstance(model.colour_matrix, tuple) and isinstance(model.colour_matrix[0], tuple)
    assert {model: 1}[dataclasses.replace(model)] == 1


def test_a_model_without_tables_writes_its_ijg_quality(tmp_path, photo_scene):
    model = dataclasses.replace(ALL_MODELS[0], jpeg_tables=())
    image = fl.read_dct(write_camera_jpeg(photo_scene, tmp_path / "ijg.jpg", model))
    assert image.quality.quality == model.jpeg_quality and image.quality.exact


def test_simulated_originals_carry_real_camera_tables_like_real_originals(tmp_path):
    """At the coefficient level an original is its camera's quantization: every model writes real cameras' tables
    (most of them not IJG tables, as in real originals), the catalogue's first six models (the IPLab-like set's
    phones) cover most of the real cameras, and a model picks a coarser table for a busier image."""
    assert all(len(model.jpeg_tables) == 4 and set(model.jpeg_tables) <= set(CAMERA_TABLES) for model in ALL_MODELS)
    covered = {name for model in ALL_MODELS[:6] for name in model.jpeg_tables}
    assert len(covered) >= len(CAMERA_TABLES) // 2
    n_ijg = sum(fl.estimate_quality(np.reshape(luminance, (8, 8))).exact for luminance, _, _ in CAMERA_TABLES.values())
    assert n_ijg < len(CAMERA_TABLES) / 2
    model = ALL_MODELS[0]
    rng = np.random.default_rng(0)
    smooth = np.tile(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None], (48, 1, 3))
    busy = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    fine, coarse = camera_tables_for(smooth, model), camera_tables_for(busy, model)
    assert sum(CAMERA_TABLES[fine][0]) < sum(CAMERA_TABLES[coarse][0])
    for name, image in (("smooth", smooth), ("busy", busy)):
        written = fl.read_dct(write_camera_jpeg(image, tmp_path / f"{name}.jpg", model))
        expected = CAMERA_TABLES[camera_tables_for(image, model)][0]
        np.testing.assert_array_equal(written.quantization_table.ravel(), expected)


def test_unknown_camera_tables_are_refused():
    with pytest.raises(ValueError, match=r"Expected jpeg_tables a tuple of camera names in CAMERA_TABLES.*'Leica'"):
        dataclasses.replace(ALL_MODELS[0], jpeg_tables=("Leica",))
