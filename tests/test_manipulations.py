"""The six manipulations of paper 2, each checked against its definition computed independently."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

import forensiclib as fl
from forensiclib.data.synth.manipulations import (
    GAUSSIAN_KERNEL,
    MANIPULATIONS,
    green_blocks,
    manipulate,
    manipulate_blocks,
)


@pytest.fixture(scope="module")
def block():
    """A 64x64 green-channel block of a real photograph (textured, not a synthetic pattern)."""
    return np.ascontiguousarray(fl.load_photo("chelsea")[100:164, 200:264, 1])


def test_class_names_and_order():
    assert MANIPULATIONS == ("unaltered", "median", "gaussian_blur", "awgn", "resampling", "jpeg")


@pytest.mark.parametrize("name", MANIPULATIONS)
def test_output_dtype_and_shape(block, name):
    rectangular = block[:47, :]  # odd and not square
    result = manipulate(rectangular, name, random_state=0)
    assert result.dtype == np.uint8
    assert result.shape == rectangular.shape
    assert result is not rectangular


@pytest.mark.parametrize("name", MANIPULATIONS[1:])
def test_every_manipulation_changes_the_block(block, name):
    assert (manipulate(block, name, random_state=0) != block).mean() > 0.2


def test_unaltered_is_the_identity_and_a_copy(block):
    result = manipulate(block, "unaltered")
    np.testing.assert_array_equal(result, block)
    assert not np.shares_memory(result, block)


def test_median_is_a_5x5_median_filter(block):
    expected = ndimage.median_filter(block, size=(5, 5), mode="reflect")
    np.testing.assert_array_equal(manipulate(block, "median"), expected)
    # Away from the borders, the median of each 5x5 neighbourhood, computed directly.
    windows = np.lib.stride_tricks.sliding_window_view(block, (5, 5))
    direct = np.median(windows.reshape(*windows.shape[:2], 25), axis=-1).astype(np.uint8)
    np.testing.assert_array_equal(manipulate(block, "median")[2:-2, 2:-2], direct)


def test_gaussian_kernel_is_5x5_sums_to_one_with_sigma_1_1():
    assert GAUSSIAN_KERNEL.shape == (5, 5)
    assert GAUSSIAN_KERNEL.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(GAUSSIAN_KERNEL, GAUSSIAN_KERNEL.T)
    # Neighbouring taps of a Gaussian differ by exp(-(x1^2 - x0^2) / (2 sigma^2)): solve for sigma.
    centre, next_tap = GAUSSIAN_KERNEL[2, 2], GAUSSIAN_KERNEL[2, 3]
    assert np.sqrt(-1.0 / (2.0 * np.log(next_tap / centre))) == pytest.approx(1.1, rel=1e-9)
    assert not GAUSSIAN_KERNEL.flags.writeable


def test_gaussian_blur_is_the_normalised_kernel_applied(block):
    x = np.arange(-2, 3)
    profile = np.exp(-(x**2) / (2 * 1.1**2))
    kernel = np.outer(profile, profile) / np.outer(profile, profile).sum()
    expected = np.clip(np.rint(ndimage.convolve(block.astype(float), kernel, mode="reflect")), 0, 255)
    np.testing.assert_array_equal(manipulate(block, "gaussian_blur"), expected.astype(np.uint8))


def test_awgn_has_standard_deviation_2():
    flat = np.full((256, 256), 128, dtype=np.uint8)
    noise = manipulate(flat, "awgn", random_state=3).astype(float) - 128
    assert noise.std() == pytest.approx(2.0, rel=0.03)
    assert abs(noise.mean()) < 0.05
    np.testing.assert_array_equal(noise, np.rint(noise))  # integers


def test_awgn_is_clipped_to_0_255():
    dark = np.zeros((128, 128), dtype=np.uint8)
    bright = np.full((128, 128), 255, dtype=np.uint8)
    dark_out = manipulate(dark, "awgn", random_state=0)
    bright_out = manipulate(bright, "awgn", random_state=0)
    assert 0.4 < (dark_out == 0).mean() < 0.7  # about half the draws are negative, clipped to 0
    assert 0.4 < (bright_out == 255).mean() < 0.7  # no wrap-around of uint8
    assert dark_out.max() < 20 and bright_out.min() > 235


def test_awgn_is_seeded(block):
    first = manipulate(block, "awgn", random_state=11)
    np.testing.assert_array_equal(first, manipulate(block, "awgn", random_state=11))
    assert (first != manipulate(block, "awgn", random_state=12)).any()


def test_resampling_is_the_central_crop_of_a_bilinear_1_5x_upscale(block):
    # The definition in exact rational arithmetic: upscaled pixel u of a 96-pixel axis sits at
    # source position (u + 1/2) / 1.5 - 1/2; the central 64x64 of the 96x96 starts at u = 16.
    from fractions import Fraction

    def taps(u):
        position = min(max(Fraction(2 * u + 1, 3) - Fraction(1, 2), Fraction(0)), Fraction(63))
        low = int(position)
        return low, min(low + 1, 63), position - low

    values = block.astype(int)
    expected = np.empty((64, 64), dtype=int)
    for i in range(64):
        top, bottom, wy = taps(16 + i)
        for j in range(64):
            left, right, wx = taps(16 + j)
            value = (1 - wy) * ((1 - wx) * values[top, left] + wx * values[top, right]) + wy * (
                (1 - wx) * values[bottom, left] + wx * values[bottom, right]
            )
            expected[i, j] = round(value)  # Python rounds a Fraction's halves to even
    np.testing.assert_array_equal(manipulate(block, "resampling"), expected)


def test_resampling_agrees_with_scikit_image_rescale(block):
    from skimage.transform import rescale

    upscaled = rescale(block.astype(float), 1.5, order=1, mode="edge", anti_aliasing=False, preserve_range=True)
    assert upscaled.shape == (96, 96)
    expected = np.clip(np.rint(upscaled[16:80, 16:80]), 0, 255)
    difference = np.abs(manipulate(block, "resampling").astype(int) - expected)
    assert difference.max() <= 1  # scikit-image's floating-point weights round some exact halves the other way
    assert (difference == 0).mean() > 0.97


def test_resampling_matches_pillow_bilinear_on_a_smooth_block():
    # Pillow's bilinear resize (fixed-point) as a second, independent upscaler.
    rows, cols = np.mgrid[0:64, 0:64]
    smooth = (100 + 60 * np.sin(rows / 7.0) * np.cos(cols / 5.0)).astype(np.uint8)
    upscaled = np.asarray(Image.fromarray(smooth).resize((96, 96), Image.Resampling.BILINEAR), dtype=int)
    assert np.abs(manipulate(smooth, "resampling").astype(int) - upscaled[16:80, 16:80]).max() <= 1


def test_jpeg_is_a_quality_70_grayscale_round_trip(block, tmp_path):
    path = fl.encode_jpeg(block, tmp_path / "block.jpg", quality=70)
    image = fl.read_dct(path)
    np.testing.assert_array_equal(image.quantization_table, fl.ijg_quantization_table(70))
    assert image.quality.quality == 70 and image.quality.exact
    assert image.subsampling == "gray"
    with Image.open(path) as decoded:
        np.testing.assert_array_equal(manipulate(block, "jpeg"), np.asarray(decoded))


def test_jpeg_output_lies_on_the_q70_quantization_lattice(block):
    # Independent of the encoder: the block DCT of the decoded block is close to multiples of
    # the Q70 table (rounding to pixels moves it a little), and not of the Q50 table.
    coefficients = fl.block_dct(manipulate(block, "jpeg")).astype(float)

    def lattice_fit(quality):
        ratio = coefficients / fl.ijg_quantization_table(quality)
        return (np.abs(ratio - np.rint(ratio)) < 0.2)[..., (0, 1, 1, 2), (1, 0, 1, 0)].mean()

    assert lattice_fit(70) > 0.95
    assert lattice_fit(50) < 0.85


def test_manipulate_blocks_lists_every_class_per_block(block):
    blocks = np.stack([block, block[::-1]])
    images, labels = manipulate_blocks(blocks, random_state=5)
    assert images.shape == (12, 64, 64) and images.dtype == np.uint8
    assert labels.tolist() == list(range(6)) * 2
    np.testing.assert_array_equal(images[7], manipulate(block[::-1], "median"))
    np.testing.assert_array_equal(images[11], manipulate(block[::-1], "jpeg"))
    again, _ = manipulate_blocks(blocks, random_state=5)
    np.testing.assert_array_equal(images, again)


def test_green_blocks_cut_the_central_grid_of_the_green_channel():
    rows, cols = np.mgrid[0:300, 0:400]
    image = np.zeros((300, 400, 3), dtype=np.uint8)
    image[..., 0] = 7
    image[..., 1] = (rows * 400 + cols) % 251  # every pixel identifiable
    blocks = green_blocks(image, block_size=64, n_blocks=9)
    assert blocks.shape == (9, 64, 64) and blocks.dtype == np.uint8
    top, left = (300 - 192) // 2, (400 - 192) // 2
    for index in range(9):
        row, col = divmod(index, 3)
        y, x = top + 64 * row, left + 64 * col
        np.testing.assert_array_equal(blocks[index], image[y : y + 64, x : x + 64, 1])


def test_green_blocks_default_is_25_blocks_of_256_from_the_central_1280():
    image = np.zeros((1400, 1500, 3), dtype=np.uint8)
    image[60 : 60 + 1280, 110 : 110 + 1280, 1] = 200  # the central 1280x1280, nothing else
    blocks = green_blocks(image)
    assert blocks.shape == (25, 256, 256)
    assert (blocks == 200).all()


def test_green_blocks_accepts_a_single_channel():
    gray = np.arange(32 * 32, dtype=np.uint8).reshape(32, 32)
    np.testing.assert_array_equal(green_blocks(gray, block_size=16, n_blocks=4)[3], gray[16:, 16:])


def test_bad_name_lists_the_valid_ones(block):
    valid = r"\['unaltered', 'median', 'gaussian_blur', 'awgn', 'resampling', 'jpeg'\]"
    with pytest.raises(ValueError, match=rf"Expected a manipulation name among {valid}\. Received: 'blur'"):
        manipulate(block, "blur")


@pytest.mark.parametrize(
    "bad", [np.zeros((8, 8), np.float32), np.zeros((8, 8, 3), np.uint8), np.zeros((0, 8), np.uint8)]
)
def test_bad_block_raises(bad):
    with pytest.raises(ValueError, match=r"Expected block a non-empty \(height, width\) uint8 array\. Received"):
        manipulate(bad, "median")


def test_bad_blocks_for_manipulate_blocks_raise():
    with pytest.raises(ValueError, match=r"Expected blocks an \(n_blocks, height, width\) uint8 array"):
        manipulate_blocks(np.zeros((16, 16), np.uint8))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n_blocks": 8}, r"Expected n_blocks a perfect square .*Received: 8"),
        ({"n_blocks": 0}, r"Expected n_blocks a perfect square .*Received: 0"),
        ({"block_size": 0}, r"Expected block_size a positive integer\. Received: 0"),
        ({"block_size": 128, "n_blocks": 9}, r"at least 384x384 pixels .*Received: 300x400"),
    ],
)
def test_green_blocks_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        green_blocks(np.zeros((300, 400, 3), np.uint8), **arguments)


def test_green_blocks_bad_image():
    with pytest.raises(ValueError, match=r"Expected image an \(height, width, 3\) or \(height, width\) uint8 array"):
        green_blocks(np.zeros((300, 400, 4), np.uint8))
