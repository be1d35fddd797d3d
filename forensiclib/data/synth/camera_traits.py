"""Statistics that tell camera models (and devices) apart from their files alone: a check on the simulator.

Paper 2 identifies camera models from image content (Sec. 5, task B); a simulated model is only worth training on if
it carries traces a real model leaves. Each statistic below reads one trace from a decoded image, so that a linear
classifier on it can be trained on some files and tested on others (`probe`), e.g. on another device of each model,
as the paper tests.

- `demosaicing_statistics`: the colour filter array and its interpolation. Interpolated pixels are smoother than
  measured ones, so the energy of a Laplacian residual differs between the four positions of the 2x2 Bayer cell,
  and its correlation with the diagonal neighbour reveals the interpolation kernel (Popescu and Farid 2005; Kirchner
  2010 read the same periodic correlations).
- `colour_statistics`: colour processing (white balance, colour matrix, tone curve): log ratios of the channel means
  and the spread of the chroma; weak on varied scenes, since the scene's own colours dominate them.
- `quantization_statistics`: the JPEG tables a model writes (its firmware), read from the file's header.
- `noise_correlation`: a device's sensor pattern (PRNU): the correlation of an image's noise residual with a
  reference pattern, the mean residual of flat-field shots of the device (Lukas, Fridrich and Goljan 2006); it tells
  devices, not models, apart.

`benchmarks/camera_traits.py` measures each on the 20 simulated models with a held-out device;
`tests/test_camera_traits.py` tests each trait on a pair of models that differ in it, and that a model-level
statistic does not tell two devices of one model apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["demosaicing_statistics", "colour_statistics", "quantization_statistics", "noise_residual",
           "noise_correlation", "probe"]

_LAPLACIAN = np.array([[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]]) / 4.0


def _image(image) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3) or min(array.shape[:2]) < 8:
        raise ValueError(f"Expected an image (height, width) or (height, width, 3), both sides >= 8. "
                         f"Received: shape {array.shape}")  # fmt: skip
    return array.astype(np.float64)


def _laplacian(channel: np.ndarray) -> np.ndarray:
    from scipy.ndimage import convolve

    return convolve(channel, _LAPLACIAN, mode="reflect")


def demosaicing_statistics(image, *, channels: tuple[int, ...] = (1,)) -> np.ndarray:
    """Per channel, the Laplacian residual's mean magnitude at each of the 2x2 positions (normalised by their mean)
    and its correlation with the diagonal neighbour at each position: 8 values per channel.

    Args:
        image: `(height, width, 3)` RGB (or `(height, width)` one channel), aligned on the 2x2 grid of the sensor.
        channels: the channels to read (default: green, what paper 2's network sees).

    Returns:
        `(8 * len(channels),)` float64.
    """
    array = _image(image)
    planes = [array] if array.ndim == 2 else [array[..., c] for c in channels]
    values = []
    for plane in planes:
        residual = _laplacian(plane)
        energy = np.array([np.abs(residual[i::2, j::2]).mean() for i in (0, 1) for j in (0, 1)])
        values += list(energy / max(energy.mean(), 1e-12))
        for i in (0, 1):
            for j in (0, 1):
                a, b = residual[i:-2:2, j:-2:2].ravel(), residual[i + 1:-1:2, j + 1:-1:2].ravel()
                values.append(float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else 0.0)
    return np.array(values)


def colour_statistics(image) -> np.ndarray:
    """Log ratios of the red and blue means to the green mean, and the standard deviations of the two chroma
    differences (red - green, blue - green): 4 values.

    Args:
        image: `(height, width, 3)` RGB.
    """
    array = _image(image)
    if array.ndim != 3:
        raise ValueError(f"Expected an RGB image (height, width, 3). Received: shape {array.shape}")
    means = array.reshape(-1, 3).mean(axis=0) + 1.0
    return np.array([np.log(means[0] / means[1]), np.log(means[2] / means[1]),
                     (array[..., 0] - array[..., 1]).std() / 255.0, (array[..., 2] - array[..., 1]).std() / 255.0])


def quantization_statistics(path: str | Path) -> np.ndarray:
    """The luminance quantization table of a JPEG file, read from its header: 64 values (zeros for no JPEG table)."""
    from ...provenance.table_evidence import luminance_table

    table = luminance_table(path)
    return np.zeros(64) if table is None else np.asarray(table, dtype=np.float64).ravel()


def noise_residual(image, *, sigma: float = 1.0) -> np.ndarray:
    """The green channel's noise residual: the image less a Gaussian-smoothed (`sigma` pixels) version, zero-mean."""
    from scipy.ndimage import gaussian_filter

    array = _image(image)
    green = array if array.ndim == 2 else array[..., 1]
    residual = green - gaussian_filter(green, sigma)
    return residual - residual.mean()


def noise_correlation(image, reference: np.ndarray) -> float:
    """The normalised correlation of an image's noise residual with a device's reference pattern (e.g. the mean of
    the residuals of other images of the device, same size)."""
    residual = noise_residual(image)
    reference = np.asarray(reference, dtype=np.float64)
    if reference.shape != residual.shape:
        raise ValueError(f"Expected a reference of the image's shape {residual.shape}. Received: {reference.shape}")
    a, b = residual.ravel(), reference.ravel() - reference.mean()
    denominator = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / denominator) if denominator else 0.0


def probe(train_x, train_y, test_x, test_y) -> float:
    """Accuracy of a linear classifier (standardised features, multinomial logistic regression) trained on one set
    of files and tested on another: how well a statistic tells the classes apart."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train_x, test_x = np.asarray(train_x, dtype=np.float64), np.asarray(test_x, dtype=np.float64)
    if train_x.ndim != 2 or test_x.ndim != 2 or train_x.shape[1] != test_x.shape[1]:
        raise ValueError(f"Expected two feature matrices with the same columns. Received: {train_x.shape} and "
                         f"{test_x.shape}")  # fmt: skip
    if len(np.unique(train_y)) < 2:
        raise ValueError(f"Expected at least 2 classes to train on. Received: {np.unique(train_y).tolist()}")
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    classifier.fit(train_x, np.asarray(train_y))
    return float((classifier.predict(test_x) == np.asarray(test_y)).mean())
