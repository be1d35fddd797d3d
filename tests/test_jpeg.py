import os

import jpeglib
import numpy as np
import pytest
from PIL import Image

import forensiclib as fl
from forensiclib import ImageReadError


def test_coefficients_are_jpeglibs_on_the_image_grid(photo_jpegs):
    for path in list(photo_jpegs.values())[:6]:
        image = fl.read_dct(path)
        reference = jpeglib.read_dct(str(path))
        rows, cols = -(-reference.height // 8), -(-reference.width // 8)
        assert image.source == "jpeg"
        assert image.coefficients.shape == (rows, cols, 8, 8)
        np.testing.assert_array_equal(image.coefficients, reference.Y[:rows, :cols])
        np.testing.assert_array_equal(image.quantization_table, reference.qt[reference.quant_tbl_no[0]])


@pytest.mark.parametrize("quality", [5, 10, 30, 50, 51, 75, 90, 95, 100])
def test_quality_estimate_is_exact_for_libjpeg_tables(tmp_path, chelsea_rgb, quality):
    path = fl.encode_jpeg(chelsea_rgb, tmp_path / "x.jpg", quality=quality)
    estimate = fl.read_dct(path).quality
    assert (estimate.quality, estimate.exact) == (quality, True)


def test_quality_estimate_of_a_foreign_table_is_approximate():
    table = fl.ijg_quantization_table(80).copy()
    table[4:, 4:] += 3
    estimate = fl.estimate_quality(table)
    assert not estimate.exact and 75 <= estimate.quality <= 85


def test_quality_table_arguments_are_validated():
    with pytest.raises(ValueError, match=r"Expected an \(8, 8\) quantization table. Received shape \(64,\)"):
        fl.estimate_quality(np.ones(64))
    with pytest.raises(ValueError, match="Expected an integer quality in 1..100. Received: 0"):
        fl.ijg_quantization_table(0)


def test_subsampling_and_progressive_are_reported(tmp_path, chelsea_rgb):
    for subsampling in ("4:4:4", "4:2:2", "4:2:0"):
        path = fl.encode_jpeg(chelsea_rgb, tmp_path / "s.jpg", quality=80, subsampling=subsampling)
        assert fl.read_dct(path).subsampling == subsampling
    path = fl.encode_jpeg(chelsea_rgb, tmp_path / "p.jpg", quality=80, progressive=True)
    assert fl.read_dct(path).progressive
    gray = fl.encode_jpeg(chelsea_rgb[..., 1], tmp_path / "g.jpg", quality=80)
    assert fl.read_dct(gray).subsampling == "gray"


def test_progressive_jpeg_gives_the_same_coefficients_as_baseline(tmp_path, chelsea_rgb):
    baseline = fl.encode_jpeg(chelsea_rgb, tmp_path / "b.jpg", quality=70)
    progressive = fl.encode_jpeg(chelsea_rgb, tmp_path / "p.jpg", quality=70, progressive=True)
    np.testing.assert_array_equal(fl.read_dct(baseline).coefficients, fl.read_dct(progressive).coefficients)


def test_grayscale_jpeg_reads_its_only_component_as_luminance(tmp_path, chelsea_rgb):
    path = fl.encode_jpeg(chelsea_rgb[..., 0], tmp_path / "g.jpg", quality=85)
    np.testing.assert_array_equal(fl.read_dct(path).coefficients, jpeglib.read_dct(str(path)).Y[:38, :57])


def test_jpeg_is_detected_by_bytes_not_name(tmp_path, chelsea_rgb):
    path = fl.encode_jpeg(chelsea_rgb, tmp_path / "photo.png", quality=80)
    assert fl.read_dct(path).source == "jpeg"


def test_block_dct_orientation_row_is_vertical_frequency():
    stripes = np.tile(128 + 100 * np.cos(np.pi * (2 * np.arange(64) + 1) / 16), (64, 1))  # varies along columns
    coefficients = fl.block_dct(stripes)
    assert np.abs(coefficients[..., 0, 1]).min() > 300
    assert np.abs(coefficients[..., 1, 0]).max() == 0


def test_block_dct_matches_libjpeg_at_quality_100(tmp_path, chelsea_rgb):
    """At quality 100 every step is 1: libjpeg's coefficients are the rounded DCT of its own luminance."""
    path = fl.encode_jpeg(chelsea_rgb, tmp_path / "q100.jpg", quality=100, subsampling="4:4:4")
    stored = fl.read_dct(path).coefficients.astype(int)
    luminance = np.asarray(Image.fromarray(chelsea_rgb).convert("L"), dtype=float)  # libjpeg-style integer Y
    computed = fl.block_dct(luminance).astype(int)
    assert computed.shape == stored.shape
    assert np.abs(computed - stored).max() <= 2
    assert np.mean(computed == stored) > 0.95


def test_png_gives_rounded_block_dct_of_luminance(tmp_path, chelsea_rgb):
    path = tmp_path / "x.png"
    Image.fromarray(chelsea_rgb).save(path)
    image = fl.read_dct(path)
    expected = fl.block_dct(chelsea_rgb.astype(float) @ [0.299, 0.587, 0.114])
    assert (image.source, image.quantization_table, image.quality) == ("pixels", None, None)
    np.testing.assert_array_equal(image.coefficients, expected)


def test_16_bit_png_is_scaled_to_8_bit_range(tmp_path, chelsea_rgb):
    gray = chelsea_rgb[..., 1]
    Image.fromarray(gray).save(tmp_path / "g8.png")
    Image.fromarray(gray.astype(np.uint16) * 257).save(tmp_path / "g16.png")
    np.testing.assert_array_equal(
        fl.read_dct(tmp_path / "g16.png").coefficients, fl.read_dct(tmp_path / "g8.png").coefficients
    )


def test_tiff_is_read(tmp_path, chelsea_rgb):
    Image.fromarray(chelsea_rgb).save(tmp_path / "x.tif")
    assert fl.read_dct(tmp_path / "x.tif").coefficients.shape == (38, 57, 8, 8)


# --- bad input: every case names the file and what was wrong -------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Expected an image file. Received: .*nope.jpg \(no such file\)"):
        fl.read_dct(tmp_path / "nope.jpg")


def test_directory(tmp_path):
    with pytest.raises(ImageReadError, match="expected an image file, found a directory"):
        fl.read_dct(tmp_path)


@pytest.mark.parametrize("content", [b"plain text, not an image", b"", os.urandom(3000)])
def test_not_an_image(tmp_path, content):
    path = tmp_path / "x.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match=r"x.jpg: expected a JPEG, PNG or TIFF image; received a file starting with"):
        fl.read_dct(path)


@pytest.mark.parametrize("keep", [0.98, 0.5, 0.05])
def test_truncated_jpeg(tmp_path, photo_jpegs, keep):
    data = photo_jpegs["chelsea", 75, "4:2:0"].read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ImageReadError, match=r"cut.jpg: truncated or corrupt JPEG \("):
        fl.read_dct(path)


def test_corrupt_jpeg(tmp_path, photo_jpegs):
    data = bytearray(photo_jpegs["chelsea", 75, "4:2:0"].read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\xff\x00" * 32
    data[300:340] = bytes(range(200, 240))
    path = tmp_path / "bad.jpg"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match=r"bad.jpg: truncated or corrupt JPEG"):
        fl.read_dct(path)


def test_truncated_png(tmp_path, chelsea_rgb):
    Image.fromarray(chelsea_rgb).save(tmp_path / "x.png")
    data = (tmp_path / "x.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match=r"cut.png: truncated or corrupt image"):
        fl.read_dct(tmp_path / "cut.png")


def test_cmyk_jpeg_is_refused(tmp_path, chelsea_rgb):
    path = tmp_path / "cmyk.jpg"
    Image.fromarray(chelsea_rgb).convert("CMYK").save(path, quality=80)
    with pytest.raises(ImageReadError, match=r"cmyk.jpg: expected a grayscale or YCbCr JPEG; received a 4-component"):
        fl.read_dct(path)


def test_decompression_bomb_is_refused(tmp_path, monkeypatch, chelsea_rgb):
    path = fl.encode_jpeg(chelsea_rgb, tmp_path / "big.jpg", quality=80)
    monkeypatch.setattr("forensiclib.provenance.jpeg.MAX_PIXELS", 1000)
    with pytest.raises(ImageReadError, match="declares 451x300 pixels, more than the 1000"):
        fl.read_dct(path)


def test_decompression_bomb_is_refused_for_other_formats_too(tmp_path, monkeypatch, chelsea_rgb):
    Image.fromarray(chelsea_rgb).save(tmp_path / "big.png")
    monkeypatch.setattr("forensiclib.provenance.jpeg.MAX_PIXELS", 1000)
    with pytest.raises(ImageReadError, match=r"big.png: declares 451x300 pixels, more than the 1000 this library reads"):
        fl.read_dct(tmp_path / "big.png")


def test_encode_jpeg_validates(tmp_path, chelsea_rgb):
    with pytest.raises(ValueError, match=r"Expected subsampling one of \['4:4:4', '4:2:2', '4:2:0'\]"):
        fl.encode_jpeg(chelsea_rgb, tmp_path / "x.jpg", quality=80, subsampling="420")
    with pytest.raises(ValueError, match=r"Expected an \(H, W\) or \(H, W, 3\) uint8 array. Received float64"):
        fl.encode_jpeg(chelsea_rgb.astype(float), tmp_path / "x.jpg", quality=80)


# --- libjpeg warnings: benign ones are reported, damaging ones skip the file -------------------------------------


def _with_bytes_before(data: bytes, marker: bytes, extra: bytes) -> bytes:
    position = data.index(marker)
    return data[:position] + extra + data[position:]


@pytest.mark.parametrize("marker", [b"\xff\xdb", b"\xff\xc4", b"\xff\xda"], ids=["DQT", "DHT", "SOS"])
@pytest.mark.parametrize("source", [("chelsea", 75, "4:2:0"), ("coffee", 95, "4:4:4")])
def test_extraneous_bytes_before_a_marker_are_a_warning_not_a_failure(tmp_path, photo_jpegs, marker, source):
    clean = photo_jpegs[source]
    path = tmp_path / "extra.jpg"
    path.write_bytes(_with_bytes_before(clean.read_bytes(), marker, b"\x00\x12\x34"))
    image, reference = fl.read_dct(path), fl.read_dct(clean)
    assert image.warnings == (f"Corrupt JPEG data: 3 extraneous bytes before marker 0x{marker[1]:02x}",)
    assert reference.warnings == ()
    np.testing.assert_array_equal(image.coefficients, reference.coefficients)
    np.testing.assert_array_equal(image.quantization_table, reference.quantization_table)
    features = fl.image_features(path)
    np.testing.assert_array_equal(features.features, fl.image_features(clean).features)
    assert features.warnings == image.warnings


def test_batch_uses_a_warned_file_and_skips_a_truncated_one(tmp_path, photo_jpegs):
    data = photo_jpegs["chelsea", 75, "4:2:0"].read_bytes()
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a_extra.jpg").write_bytes(_with_bytes_before(data, b"\xff\xda", b"\x55\x66"))
    (folder / "b_cut.jpg").write_bytes(data[: len(data) * 6 // 10])
    for cache_dir in (False, tmp_path / "cache", tmp_path / "cache"):  # no cache, then written, then read back
        with pytest.warns(UserWarning, match="1 of 2 files skipped"):
            result = fl.extract_features(folder, cache_dir=cache_dir, progress=False)
        assert [path.name for path in result.paths] == ["a_extra.jpg"]
        assert [(item.path.name, item.warning) for item in result.warned] == [
            ("a_extra.jpg", "Corrupt JPEG data: 2 extraneous bytes before marker 0xda")
        ]
        assert [item.path.name for item in result.skipped] == ["b_cut.jpg"]
        assert "truncated or corrupt JPEG (Premature end of JPEG file)" in result.skipped[0].reason
        assert "used with a warning" in result.report() and "b_cut.jpg: truncated" in result.report()
        np.testing.assert_array_equal(result.features, fl.image_features(photo_jpegs["chelsea", 75, "4:2:0"]).features)


def test_damaged_entropy_data_is_still_skipped_with_its_reason(tmp_path, photo_jpegs):
    data = bytearray(photo_jpegs["chelsea", 75, "4:2:0"].read_bytes())
    start = data.index(b"\xff\xda") + 200
    data[start : start + 40] = b"\xff\xd3" * 20  # restart markers in a file that has no restart interval
    path = tmp_path / "damaged.jpg"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match=r"damaged.jpg: truncated or corrupt JPEG \(.*Corrupt JPEG data"):
        fl.read_dct(path)


def test_arithmetic_coded_jpeg_is_read(tmp_path, chelsea_rgb):
    paths = {}
    jpeglib.version.set("turbo210")
    try:
        for name, flags in (("huffman", []), ("arithmetic", ["+ARITH_CODE"])):
            paths[name] = tmp_path / f"{name}.jpg"
            jpeglib.from_spatial(np.ascontiguousarray(chelsea_rgb)).write_spatial(str(paths[name]), qt=80, flags=flags)
    finally:
        jpeglib.version.set("6b")
    assert paths["huffman"].read_bytes() != paths["arithmetic"].read_bytes()
    image, reference = fl.read_dct(paths["arithmetic"]), fl.read_dct(paths["huffman"])
    assert image.arithmetic and not reference.arithmetic
    np.testing.assert_array_equal(image.coefficients, reference.coefficients)
    assert jpeglib.version.get() == "6b"  # the reader's switch of libjpeg build is undone


@pytest.mark.parametrize(
    "marker, precision, reason",
    [(0xC1, 12, "unsupported JPEG: 12-bit samples"), (0xC3, 8, "unsupported JPEG: lossless coding")],
)
def test_twelve_bit_and_lossless_jpegs_are_refused_plainly(tmp_path, photo_jpegs, marker, precision, reason):
    data = bytearray(photo_jpegs["chelsea", 75, "4:2:0"].read_bytes())
    frame = data.index(b"\xff\xc0")
    data[frame + 1], data[frame + 4] = marker, precision
    path = tmp_path / "odd.jpg"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match=f"odd.jpg: {reason}"):
        fl.read_dct(path)
