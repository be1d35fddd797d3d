"""Simulated camera models and devices: the traces camera-model identification learns.

Paper 2 (Mayer, Bayar, Stamm 2018, Sec. 5, Table 1) identifies 20 camera models (task B)
and, with little training data, 5 other models (task C), each model having at least two
devices so that testing uses a device never seen in training; paper 1's "Original" class
is camera JPEGs. The real models and their images are not redistributable, so this
module simulates them. Every parameter is invented: the models are named
`sim-camera-01` .. `sim-camera-25` and stand for no real camera.

`capture(scene, device)` runs one exposure through a model's pipeline, in this order:

1. the sRGB scene (uint8) is turned into linear light by undoing the sRGB gamma;
2. the sensor's colour response: linear RGB times the inverse of the model's colour
   matrix, divided by its white-balance gains (so the raw green channel is the
   strongest, as on real sensors), times the device's gain;
3. optics blur (Gaussian, the model's sigma times the device's blur scale);
4. colour filter array: one colour per pixel following the model's 2x2 Bayer pattern
   gives the raw mosaic;
5. PRNU: the mosaic times `1 + K`, K the device's fixed pattern (white Gaussian,
   standard deviation 0.5-1 %);
6. noise: shot noise (variance proportional to the signal) plus read noise, then
   clipping to 0..1 (saturation) and 12-bit quantization;
7. demosaicing (bilinear, Malvar 2004 or Menon 2007, from the colour-demosaicing package);
8. white balance, colour matrix, clipping to 0..1;
9. tone curve: a gamma `x ** (1 / gamma)` blended with a smoothstep S-curve;
10. sharpening: unsharp mask (Gaussian sigma 1 pixel) with the model's amount;
11. rounding to uint8 RGB.

`capture_jpeg` then writes the JPEG with the model's chroma subsampling and a quantization table
pair real cameras write (`forensiclib.data.synth.camera_tables`, measured on 23 camera originals): each
catalogue model holds four real cameras' pairs, the way a firmware holds several quality settings
or adapts its tables to the scene, and picks one by the image's busyness (busier: coarser table,
as a file-size budget would). A model without tables writes IJG tables at its `jpeg_quality`. The file's
header is laid out as that real camera's (`CAMERA_HEADERS`: EXIF, with or without JFIF, restart markers).

Example:
    >>> model = camera_models("B")[0]
    >>> device = camera_devices(model, n_devices=2)[1]
    >>> scene = np.full((64, 64, 3), 128, dtype=np.uint8)
    >>> capture(scene, device, random_state=0).shape
    (64, 64, 3)
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
from pathlib import Path

import numpy as np

from ...provenance.jpeg import encode_jpeg
from ._camera_pipeline import _demosaic, _mosaic, _prnu_pattern, _srgb_to_linear
from ._segments import rewrite_segments
from .camera_tables import CAMERA_HEADERS, CAMERA_TABLES

__all__ = [
    "CFA_PATTERNS",
    "DEMOSAICING_METHODS",
    "CAMERA_TASKS",
    "CameraModel",
    "CameraDevice",
    "camera_models",
    "camera_devices",
    "capture",
    "camera_tables_for",
    "write_camera_jpeg",
    "capture_jpeg",
]

#: Bayer patterns, the 2x2 filter colours read row by row.
CFA_PATTERNS = ("RGGB", "BGGR", "GRBG", "GBRG")
#: Demosaicing algorithms (colour-demosaicing's bilinear, Malvar et al. 2004, Menon et al. 2007).
DEMOSAICING_METHODS = ("bilinear", "malvar2004", "menon2007")
#: Catalogues of `camera_models`: "B" (20 models) and "C" (5 other models), as in paper 2's Table 1.
CAMERA_TASKS = ("B", "C")

_SUBSAMPLINGS = ("4:4:4", "4:2:2", "4:2:0")
_CATALOGUE_SEED = 20180620
_TASK_INDICES = {"B": range(1, 21), "C": range(21, 26)}
_RAW_LEVELS = 4095  # 12-bit analogue-to-digital converter
_SHARPEN_SIGMA = 1.0
_MIN_SIDE = 8
_TABLES_PER_MODEL = 4  # real cameras' table pairs each catalogue model holds
_BUSYNESS_RANGE = (2.0, 10.0)  # mean absolute luminance difference mapped onto a model's tables (assumed)


@dataclasses.dataclass(frozen=True)
class CameraModel:
    """The processing pipeline shared by every device of one camera model.

    Lists given for `white_balance` and `colour_matrix` are stored as tuples, so a model
    is hashable.

    Attributes:
        name: the model's name, e.g. `"sim-camera-01"`.
        cfa_pattern: the Bayer colour filter array read row by row, one of `CFA_PATTERNS`.
        demosaicing: the demosaicing algorithm, one of `DEMOSAICING_METHODS`.
        blur_sigma: standard deviation, in pixels, of the Gaussian optics blur (lens and
            anti-aliasing filter), >= 0.
        shot_noise: photon noise variance per unit of signal, raw values being 0..1
            (variance = `shot_noise * signal`), >= 0.
        read_noise: standard deviation of the signal-independent read noise, raw units, >= 0.
        white_balance: `(red, green, blue)` gains applied after demosaicing, all > 0; the
            sensor's raw response to a white scene is their inverse.
        colour_matrix: 3x3 matrix (rows of 3) from white-balanced camera RGB to linear
            sRGB, invertible; the sensor's colour response is its inverse.
        gamma: tone-curve exponent, > 0: the curve starts from `linear ** (1 / gamma)`.
        contrast: weight 0..1 of the S-curve (smoothstep) blended into the tone curve.
        sharpening: unsharp-mask amount, >= 0 (0: none).
        jpeg_quality: the model's JPEG quality factor (IJG scale), 1..100, used when it has no
            `jpeg_tables`.
        jpeg_subsampling: the model's chroma subsampling, `"4:4:4"`, `"4:2:2"` or `"4:2:0"`.
        jpeg_tables: names of real cameras in `CAMERA_TABLES` whose (luminance, chrominance)
            quantization tables the model writes, one per image chosen by its busyness
            (`camera_tables_for`); empty: IJG tables at `jpeg_quality`.
    """

    name: str
    cfa_pattern: str
    demosaicing: str
    blur_sigma: float
    shot_noise: float
    read_noise: float
    white_balance: tuple[float, float, float]
    colour_matrix: tuple[tuple[float, float, float], ...]
    gamma: float
    contrast: float
    sharpening: float
    jpeg_quality: int
    jpeg_subsampling: str
    jpeg_tables: tuple[str, ...] = ()

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Expected name a non-empty string. Received: {self.name!r}")
        if self.cfa_pattern not in CFA_PATTERNS:
            raise ValueError(f"Expected cfa_pattern one of {list(CFA_PATTERNS)}. Received: {self.cfa_pattern!r}")
        if self.demosaicing not in DEMOSAICING_METHODS:
            raise ValueError(
                f"Expected demosaicing one of {list(DEMOSAICING_METHODS)}. Received: {self.demosaicing!r}"
            )
        for field in ("blur_sigma", "shot_noise", "read_noise", "sharpening"):
            _check_number(field, getattr(self, field), low=0.0)
        _check_number("gamma", self.gamma, low=0.0, low_inclusive=False)
        _check_number("contrast", self.contrast, low=0.0, high=1.0)
        white_balance = np.asarray(self.white_balance, dtype=np.float64) if _is_numeric(self.white_balance) else None
        if white_balance is None or white_balance.shape != (3,) or not (white_balance > 0).all():
            raise ValueError(f"Expected white_balance three positive gains. Received: {self.white_balance!r}")
        matrix = np.asarray(self.colour_matrix, dtype=np.float64) if _is_numeric(self.colour_matrix) else None
        invertible = matrix is not None and matrix.shape == (3, 3) and np.isfinite(matrix).all()
        if not invertible or abs(np.linalg.det(matrix)) < 1e-6:
            raise ValueError(f"Expected colour_matrix an invertible 3x3 matrix. Received: {self.colour_matrix!r}")
        quality = self.jpeg_quality
        if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 100:
            raise ValueError(f"Expected jpeg_quality an integer in 1..100. Received: {quality!r}")
        if self.jpeg_subsampling not in _SUBSAMPLINGS:
            raise ValueError(
                f"Expected jpeg_subsampling one of {list(_SUBSAMPLINGS)}. Received: {self.jpeg_subsampling!r}"
            )
        if isinstance(self.jpeg_tables, str) or not all(name in CAMERA_TABLES for name in self.jpeg_tables):
            raise ValueError(
                f"Expected jpeg_tables a tuple of camera names in CAMERA_TABLES ({', '.join(sorted(CAMERA_TABLES))}). "
                f"Received: {self.jpeg_tables!r}"
            )
        object.__setattr__(self, "jpeg_tables", tuple(self.jpeg_tables))
        object.__setattr__(self, "white_balance", tuple(float(gain) for gain in white_balance))
        object.__setattr__(self, "colour_matrix", tuple(tuple(float(v) for v in row) for row in matrix))
        object.__setattr__(self, "jpeg_quality", int(quality))
        for field in ("blur_sigma", "shot_noise", "read_noise", "gamma", "contrast", "sharpening"):
            object.__setattr__(self, field, float(getattr(self, field)))


@dataclasses.dataclass(frozen=True)
class CameraDevice:
    """One physical camera of a model: the model's pipeline plus its own sensor.

    Attributes:
        model: the `CameraModel` whose settings the device shares.
        index: the device's number within its model, >= 0.
        serial: a readable identifier, e.g. `"sim-camera-01-d0"`.
        seed: non-negative integer from which the device's PRNU pattern is drawn.
        gain: the sensor's sensitivity relative to the model's, > 0 (about 1 +- 3 %).
        blur_scale: factor on the model's optics blur sigma, > 0 (about 1 +- 5 %).
        prnu_strength: standard deviation of the multiplicative PRNU pattern, >= 0.
    """

    model: CameraModel
    index: int
    serial: str
    seed: int
    gain: float
    blur_scale: float
    prnu_strength: float

    def __post_init__(self):
        if not isinstance(self.model, CameraModel):
            raise ValueError(f"Expected model a CameraModel. Received: {type(self.model).__name__}")
        for field in ("index", "seed"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"Expected {field} a non-negative integer. Received: {value!r}")
        _check_number("gain", self.gain, low=0.0, low_inclusive=False)
        _check_number("blur_scale", self.blur_scale, low=0.0, low_inclusive=False)
        _check_number("prnu_strength", self.prnu_strength, low=0.0)
        for field in ("index", "seed"):
            object.__setattr__(self, field, int(getattr(self, field)))
        for field in ("gain", "blur_scale", "prnu_strength"):
            object.__setattr__(self, field, float(getattr(self, field)))

    def prnu(self, shape: tuple[int, int]) -> np.ndarray:
        """The device's PRNU pattern K for an image of `shape` (the sensor gives `1 + K`).

        Drawn from `seed` in 64x64 tiles, so the pattern of a smaller image is the
        top-left corner of a larger one's; made on demand and cached, never stored.

        Args:
            shape: `(height, width)`, both positive.

        Returns:
            `(height, width)` float32, zero-mean, standard deviation `prnu_strength`
            (read-only).

        Example:
            >>> device = camera_devices(camera_models("C")[0])[0]
            >>> device.prnu((4, 6)).shape
            (4, 6)
        """
        if not isinstance(shape, (tuple, list)) or len(shape) != 2 or not all(_is_positive_int(side) for side in shape):
            raise ValueError(f"Expected shape a pair of positive integers (height, width). Received: {shape!r}")
        return _prnu_pattern(int(self.seed), float(self.prnu_strength), int(shape[0]), int(shape[1]))


def camera_models(task: str) -> tuple[CameraModel, ...]:
    """The simulated camera models of a task of paper 2: 20 for "B", 5 others for "C".

    The catalogue is fixed: each model's parameters are drawn from a constant seed, so it
    is identical on every machine and in every session; the two sets share no model.

    Args:
        task: `"B"` (20 models, `sim-camera-01` .. `sim-camera-20`) or `"C"` (5 models,
            `sim-camera-21` .. `sim-camera-25`).

    Returns:
        A tuple of `CameraModel`.

    Example:
        >>> [model.name for model in camera_models("C")][:2]
        ['sim-camera-21', 'sim-camera-22']
    """
    if task not in CAMERA_TASKS:
        raise ValueError(f"Expected task one of {list(CAMERA_TASKS)}. Received: {task!r}")
    return _catalogue(task)


def camera_devices(model: CameraModel, n_devices: int = 2) -> tuple[CameraDevice, ...]:
    """The devices of a camera model, numbered from 0.

    Device `i` of a model is always the same (its parameters and PRNU come from a hash of
    the model's name and `i`), so `camera_devices(model, 3)` extends `camera_devices(model, 2)`.

    Args:
        model: a `CameraModel`.
        n_devices: how many devices, >= 1 (paper 2 needs >= 2: one is kept for testing).

    Returns:
        A tuple of `n_devices` `CameraDevice`s sharing `model`.

    Example:
        >>> [device.serial for device in camera_devices(camera_models("B")[0], 2)]
        ['sim-camera-01-d0', 'sim-camera-01-d1']
    """
    if not isinstance(model, CameraModel):
        raise ValueError(f"Expected model a CameraModel. Received: {type(model).__name__}")
    if isinstance(n_devices, bool) or not isinstance(n_devices, (int, np.integer)) or n_devices < 1:
        raise ValueError(f"Expected n_devices a positive integer. Received: {n_devices!r}")
    return tuple(_device(model, index) for index in range(int(n_devices)))


def capture(
    scene: np.ndarray,
    device: CameraDevice,
    *,
    random_state: int | np.random.Generator | None = None,
    return_raw: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Take a picture of a scene with a device (pipeline in the module docstring).

    Args:
        scene: `(height, width, 3)` uint8 sRGB scene, both sides >= 8 (e.g. from
            `forensiclib.data.synth.scenes.make_scenes`).
        device: the `CameraDevice` taking the picture.
        random_state: seed of the sensor noise; the same seed gives identical bytes.
        return_raw: also return the raw mosaic.

    Returns:
        `(height, width, 3)` uint8 RGB image; with `return_raw`, also the
        `(height, width)` float32 raw mosaic in 0..1 (after PRNU, noise, clipping and
        12-bit quantization; the colour of pixel `(i, j)` is
        `cfa_pattern[2 * (i % 2) + j % 2]`).

    Example:
        >>> device = camera_devices(camera_models("B")[3])[0]
        >>> image, raw = capture(np.zeros((16, 16, 3), np.uint8), device, random_state=0, return_raw=True)
        >>> image.dtype, raw.shape
        (dtype('uint8'), (16, 16))
    """
    rng = np.random.default_rng(random_state)
    from scipy import ndimage

    if not isinstance(device, CameraDevice):
        raise ValueError(f"Expected device a CameraDevice. Received: {type(device).__name__}")
    scene = np.asarray(scene)
    if scene.dtype != np.uint8 or scene.ndim != 3 or scene.shape[2] != 3 or min(scene.shape[:2]) < _MIN_SIDE:
        raise ValueError(
            f"Expected scene a (height, width, 3) uint8 array with sides >= {_MIN_SIDE}. "
            f"Received: {scene.dtype} {scene.shape}"
        )
    model = device.model
    height, width = scene.shape[:2]
    matrix = np.array(model.colour_matrix)
    white_balance = np.array(model.white_balance)

    linear = _srgb_to_linear(scene / 255.0)
    response = np.linalg.inv(matrix) / white_balance[:, None] * device.gain
    sensor = np.clip(np.einsum("hwc,kc->hwk", linear, response), 0.0, None)
    sigma = model.blur_sigma * device.blur_scale
    if sigma > 0:
        sensor = ndimage.gaussian_filter(sensor, sigma=(sigma, sigma, 0), mode="reflect")
    raw = _mosaic(sensor, model.cfa_pattern)
    raw *= 1.0 + device.prnu((height, width))
    noise_std = np.sqrt(model.shot_noise * np.clip(raw, 0.0, None) + model.read_noise**2)
    raw += noise_std * rng.standard_normal(raw.shape)
    raw = np.rint(np.clip(raw, 0.0, 1.0) * _RAW_LEVELS) / _RAW_LEVELS

    rgb = _demosaic(raw, model.cfa_pattern, model.demosaicing) * white_balance
    rgb = np.clip(np.einsum("hwc,kc->hwk", rgb, matrix), 0.0, 1.0)
    rgb = rgb ** (1.0 / model.gamma)
    rgb = (1.0 - model.contrast) * rgb + model.contrast * rgb * rgb * (3.0 - 2.0 * rgb)
    if model.sharpening > 0:
        blurred = ndimage.gaussian_filter(rgb, sigma=(_SHARPEN_SIGMA, _SHARPEN_SIGMA, 0), mode="reflect")
        rgb = rgb + model.sharpening * (rgb - blurred)
    image = np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)
    if return_raw:
        return image, raw.astype(np.float32)
    return image


def camera_tables_for(image: np.ndarray, camera: CameraModel | CameraDevice) -> str | None:
    """Which real camera's tables a model writes for an image (None: the model writes IJG tables).

    The model's tables are ordered from finest to coarsest (sum of the luminance table); the image's busyness
    (mean absolute luminance difference between neighbours, 2 -> finest, 10 -> coarsest, linear in between) picks
    one, as a firmware keeping files within a size budget would.

    Example:
        >>> model = camera_models("B")[0]
        >>> camera_tables_for(np.zeros((16, 16, 3), np.uint8), model) in CAMERA_TABLES
        True
    """
    model = camera.model if isinstance(camera, CameraDevice) else camera
    if not isinstance(model, CameraModel):
        raise ValueError(f"Expected camera a CameraModel or CameraDevice. Received: {type(camera).__name__}")
    if not model.jpeg_tables:
        return None
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"Expected image a (height, width, 3) uint8 array. Received: {image.dtype} {image.shape}")
    luminance = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    busyness = 0.0
    for axis in (0, 1):
        if luminance.shape[axis] > 1:
            busyness += float(np.abs(np.diff(luminance, axis=axis)).mean())
    fraction = float(np.clip((busyness - _BUSYNESS_RANGE[0]) / (_BUSYNESS_RANGE[1] - _BUSYNESS_RANGE[0]), 0, 1))
    ordered = sorted(model.jpeg_tables, key=lambda name: (sum(CAMERA_TABLES[name][0]), name))
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def write_camera_jpeg(image: np.ndarray, path: str | Path, camera: CameraModel | CameraDevice) -> Path:
    """Write an image as the JPEG a camera model would: a real camera's tables (or its IJG quality) and its
    chroma subsampling, baseline with the standard Huffman tables, and the header layout of the real camera whose
    tables it writes (`camera_tables.CAMERA_HEADERS`: its metadata segments, with an EXIF block naming the simulated
    model, and its restart interval; EXIF alone for IJG tables).

    Args:
        image: `(height, width, 3)` uint8 RGB, typically from `capture`.
        path: destination file.
        camera: a `CameraModel`, or a `CameraDevice` (its model's settings are used).

    Returns:
        The path written.

    Example:
        >>> model = camera_models("B")[0]
        >>> write_camera_jpeg(np.zeros((16, 16, 3), np.uint8), "x.jpg", model)  # doctest: +SKIP
        PosixPath('x.jpg')
    """
    model = camera.model if isinstance(camera, CameraDevice) else camera
    if not isinstance(model, CameraModel):
        raise ValueError(f"Expected camera a CameraModel or CameraDevice. Received: {type(camera).__name__}")
    name = camera_tables_for(image, model) if model.jpeg_tables else None
    tables = None if name is None else np.array(CAMERA_TABLES[name][:2]).reshape(2, 8, 8)
    segments, restart_interval = CAMERA_HEADERS[name] if name is not None else (("exif",), 0)
    path = encode_jpeg(image, path, quality=model.jpeg_quality, subsampling=model.jpeg_subsampling,
                       quantization_tables=tables, restart_interval=restart_interval)  # fmt: skip
    path.write_bytes(rewrite_segments(path.read_bytes(), segments, make="forensiclib", model=model.name))
    return path


def capture_jpeg(
    scene: np.ndarray,
    device: CameraDevice,
    path: str | Path,
    *,
    random_state: int | np.random.Generator | None = None,
) -> Path:
    """`capture` a scene and write it with `write_camera_jpeg`: a camera original.

    Args:
        scene: `(height, width, 3)` uint8 sRGB scene.
        device: the `CameraDevice`.
        path: destination file.
        random_state: seed of the sensor noise.

    Returns:
        The path written.

    Example:
        >>> device = camera_devices(camera_models("B")[0])[0]
        >>> capture_jpeg(np.zeros((16, 16, 3), np.uint8), device, "x.jpg", random_state=0)  # doctest: +SKIP
        PosixPath('x.jpg')
    """
    rng = np.random.default_rng(random_state)
    return write_camera_jpeg(capture(scene, device, random_state=rng), path, device)


# --- helpers -------------------------------------------------------------------------------------


def _is_positive_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def _is_numeric(value) -> bool:
    try:
        return np.asarray(value).dtype.kind in "iuf"
    except (ValueError, TypeError):
        return False


def _check_number(
    field: str, value, *, low: float, high: float = math.inf, low_inclusive: bool = True
) -> None:
    valid = (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value >= low if low_inclusive else value > low)
        and value <= high
    )
    if not valid:
        bound = f"{'>=' if low_inclusive else '>'} {low}" + (f" and <= {high}" if high < math.inf else "")
        raise ValueError(f"Expected {field} a finite number {bound}. Received: {value!r}")


def _uniforms(*key: int | str, count: int) -> np.ndarray:
    """`count` uniforms in [0, 1) from a key (SHA-256 of it as the seed: the same everywhere)."""
    digest = hashlib.sha256("/".join(str(part) for part in key).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little")).random(count)


def _model(index: int) -> CameraModel:
    """Catalogue model number `index` (1..25): every parameter from a fixed seed."""
    u = _uniforms(_CATALOGUE_SEED, "model", index, count=16)
    off_diagonal = -(0.03 + 0.4 * u[6:12])
    matrix = np.zeros((3, 3))
    matrix[~np.eye(3, dtype=bool)] = np.round(off_diagonal, 4)
    matrix[np.diag_indices(3)] = np.round(1.0 - matrix.sum(axis=1), 4)  # rows sum to 1: white stays white
    subsampling = "4:2:0" if u[15] < 0.5 else "4:2:2" if u[15] < 0.85 else "4:4:4"
    cameras = sorted(CAMERA_TABLES)  # the real cameras whose tables the model writes: a seeded draw of four
    order = _uniforms(_CATALOGUE_SEED, "tables", index, count=len(cameras)).argsort()
    return CameraModel(
        name=f"sim-camera-{index:02d}",
        cfa_pattern=CFA_PATTERNS[(index - 1) % 4],
        demosaicing=DEMOSAICING_METHODS[((index - 1) + (index - 1) // 4) % 3],  # all 12 pairs in the first 12
        blur_sigma=round(0.4 + 0.5 * u[0], 4),
        shot_noise=round(10 ** (-4.0 + 0.8 * u[1]), 7),
        read_noise=round(10 ** (-3.0 + 0.6 * u[2]), 6),
        white_balance=(round(1.6 + 0.8 * u[3], 4), 1.0, round(1.3 + 0.7 * u[4], 4)),
        colour_matrix=matrix,
        gamma=round(1.9 + 0.7 * u[5], 4),
        contrast=round(0.35 * u[12], 4),
        sharpening=round(0.1 + 0.9 * u[13], 4),
        jpeg_quality=85 + int(13 * u[14]),
        jpeg_subsampling=subsampling,
        jpeg_tables=tuple(cameras[k] for k in order[:_TABLES_PER_MODEL]),
    )


@functools.lru_cache(maxsize=None)
def _catalogue(task: str) -> tuple[CameraModel, ...]:
    return tuple(_model(index) for index in _TASK_INDICES[task])


def _device(model: CameraModel, index: int) -> CameraDevice:
    u = _uniforms(model.name, "device", index, count=4)
    digest = hashlib.sha256(f"{model.name}/prnu/{index}".encode()).digest()
    return CameraDevice(
        model=model,
        index=index,
        serial=f"{model.name}-d{index}",
        seed=int.from_bytes(digest[:8], "little") >> 1,
        gain=round(1.0 + 0.06 * (u[0] - 0.5), 4),
        blur_scale=round(1.0 + 0.1 * (u[1] - 0.5), 4),
        prnu_strength=round(0.005 + 0.005 * u[2], 5),
    )
