"""The platform simulator: each profile's promised output, metadata, determinism, chains, errors."""

from __future__ import annotations

import jpeglib
import numpy as np
import pytest
from PIL import Image

import forensiclib as fl
from forensiclib.data.synth.platforms import (
    PLATFORMS,
    SETTINGS,
    PlatformProfile,
    get_platform,
    share,
    share_chain,
)

SOURCE_SIZE = (2400, 1600)  # (width, height): larger than every platform's limit
CAMERA_MAKE = "ForensiclibTestCamera"

# ITU-T T.81 Annex K chrominance table, written out here so the test does not reuse library code.
ANNEX_K_CHROMINANCE = np.array(
    [[17, 18, 24, 47, 99, 99, 99, 99], [18, 21, 26, 66, 99, 99, 99, 99], [24, 26, 56, 99, 99, 99, 99, 99]]
    + [[47, 66, 99, 99, 99, 99, 99, 99]]
    + [[99] * 8] * 4
)


def ijg_chrominance_table(quality: int) -> np.ndarray:
    """libjpeg's jpeg_quality_scaling applied to the Annex K chrominance table."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return np.clip((ANNEX_K_CHROMINANCE * scale + 50) // 100, 1, 255)


def camera_jpeg(path, rgb, *, orientation=1, quality=92):
    """A JPEG with an EXIF block (camera make and orientation), like a camera original."""
    exif = Image.Exif()
    exif[0x010F] = CAMERA_MAKE
    exif[0x0112] = orientation
    Image.fromarray(rgb).save(path, quality=quality, exif=exif.tobytes())
    return path


@pytest.fixture(scope="module")
def large_source(tmp_path_factory):
    rgb = np.asarray(Image.fromarray(fl.load_photo("coffee")).resize(SOURCE_SIZE, Image.Resampling.BILINEAR))
    return camera_jpeg(tmp_path_factory.mktemp("source") / "camera.jpg", rgb)


@pytest.fixture(scope="module")
def shared(large_source, tmp_path_factory):
    """{platform name: downloaded file} for every built-in platform, from the large source."""
    folder = tmp_path_factory.mktemp("shared")
    return {name: share(large_source, name, folder / f"{name}.jpg", random_state=0) for name in PLATFORMS}


@pytest.fixture(scope="module")
def small_source(tmp_path_factory):
    return camera_jpeg(tmp_path_factory.mktemp("small") / "chelsea.jpg", fl.load_photo("chelsea"))


def expected_size(profile: PlatformProfile, width: int, height: int) -> tuple[int, int]:
    scale = 1.0
    if profile.max_long_side:
        scale = min(scale, profile.max_long_side / max(width, height))
    if profile.max_width:
        scale = min(scale, profile.max_width / width)
    return round(width * scale), round(height * scale)


@pytest.mark.parametrize("name", list(PLATFORMS))
def test_output_has_the_platforms_size(shared, name):
    image = fl.read_dct(shared[name])
    width, height = expected_size(PLATFORMS[name], *SOURCE_SIZE)
    assert (image.width, image.height) == (width, height)
    profile = PLATFORMS[name]
    if profile.max_long_side:
        assert max(image.width, image.height) == profile.max_long_side
    if profile.max_width:
        assert image.width == profile.max_width


def test_sizes_stated_in_the_literature(shared):
    sizes = {name: fl.read_dct(path) for name, path in shared.items()}
    assert max(sizes["facebook"].width, sizes["facebook"].height) == 2048
    assert sizes["instagram"].width == 1080
    assert max(sizes["whatsapp"].width, sizes["whatsapp"].height) == 1600
    assert max(sizes["telegram"].width, sizes["telegram"].height) == 1280
    assert (sizes["original"].width, sizes["original"].height) == SOURCE_SIZE


def test_width_rule_applies_to_portrait_photos(tmp_path):
    portrait = np.asarray(Image.fromarray(fl.load_photo("rocket")).resize((1200, 1800)))
    image = fl.read_dct(share(portrait, "instagram", tmp_path / "portrait.jpg"))
    assert (image.width, image.height) == (1080, 1620)


def test_small_images_are_never_enlarged(small_source, tmp_path):
    for name in PLATFORMS:
        image = fl.read_dct(share(small_source, name, tmp_path / f"{name}.jpg"))
        assert (image.width, image.height) == (451, 300), name


@pytest.mark.parametrize("name", [name for name in PLATFORMS if not PLATFORMS[name].passthrough])
def test_encoding_settings(shared, name):
    profile = PLATFORMS[name]
    image = fl.read_dct(shared[name])
    assert image.subsampling == profile.subsampling
    assert image.progressive == profile.progressive
    assert image.quality.exact  # every built-in encoder writes IJG tables
    if profile.quality_rule == "fixed":
        quality = profile.quality
        np.testing.assert_array_equal(image.quantization_table, fl.ijg_quantization_table(quality))
    else:
        quality = image.quality.quality
        assert profile.quality[0] <= quality <= profile.quality[1]
    jpeg = jpeglib.read_dct(str(shared[name]))
    np.testing.assert_array_equal(jpeg.qt[jpeg.quant_tbl_no[1]], ijg_chrominance_table(quality))


STRIPPING = [name for name, profile in PLATFORMS.items() if not (profile.keep_exif or profile.passthrough)]


@pytest.mark.parametrize("name", STRIPPING)
def test_metadata_is_stripped(shared, name):
    data = shared[name].read_bytes()
    assert b"Exif\x00\x00" not in data and CAMERA_MAKE.encode() not in data
    with Image.open(shared[name]) as image:
        assert len(image.getexif()) == 0
    # only SOI, one JFIF APP0, then the encoder's tables: no other APPn or COM segment
    assert data[:4] == b"\xff\xd8\xff\xe0" and data[6:11] == b"JFIF\x00"
    after_app0 = 4 + int.from_bytes(data[4:6], "big")
    assert data[after_app0 : after_app0 + 2] in (b"\xff\xdb", b"\xff\xc4")


def test_exif_is_kept_where_the_profile_says(shared):
    keeping = [name for name, profile in PLATFORMS.items() if profile.keep_exif and not profile.passthrough]
    assert keeping, "no built-in profile keeps EXIF; this test would check nothing"
    for name in keeping:
        with Image.open(shared[name]) as image:
            assert image.getexif()[0x010F] == CAMERA_MAKE


def test_original_returns_identical_bytes(shared, large_source):
    assert shared["original"].read_bytes() == large_source.read_bytes()


def test_exif_orientation_is_applied_before_stripping(tmp_path):
    rgb = fl.load_photo("chelsea")  # 451 x 300
    source = camera_jpeg(tmp_path / "rotated.jpg", rgb, orientation=6)
    image = fl.read_dct(share(source, "telegram", tmp_path / "out.jpg"))
    assert (image.width, image.height) == (300, 451)


@pytest.mark.parametrize("name", list(PLATFORMS))
def test_same_seed_gives_identical_bytes(small_source, tmp_path, name):
    first = share(small_source, name, tmp_path / "first.jpg", random_state=7).read_bytes()
    second = share(small_source, name, tmp_path / "second.jpg", random_state=7).read_bytes()
    assert first == second


def test_random_quality_rule_follows_the_seed(tmp_path):
    profile = PlatformProfile(name="lottery", quality=(50, 95), quality_rule="random")
    rgb = fl.load_photo("chelsea")[:96, :128]
    qualities = [fl.read_dct(share(rgb, profile, tmp_path / f"{seed}.jpg", random_state=seed)).quality.quality
                 for seed in range(8)]
    assert all(50 <= quality <= 95 for quality in qualities)
    assert len(set(qualities)) > 1
    again = [fl.read_dct(share(rgb, profile, tmp_path / f"again{seed}.jpg", random_state=seed)).quality.quality
             for seed in range(8)]
    assert again == qualities


def test_content_rule_gives_busier_images_lower_quality(tmp_path):
    rng = np.random.default_rng(0)
    smooth = np.tile(np.linspace(0, 255, 256, dtype=np.uint8)[None, :, None], (192, 1, 3))
    busy = rng.integers(0, 256, size=(192, 256, 3), dtype=np.uint8)
    quality = {name: fl.read_dct(share(image, "facebook", tmp_path / f"{name}.jpg")).quality.quality
               for name, image in (("smooth", smooth), ("busy", busy))}
    assert quality == {"smooth": 85, "busy": 71}


def test_size_rule_gives_larger_images_lower_quality(tmp_path):
    small = np.asarray(Image.fromarray(fl.load_photo("coffee")).resize((400, 300)))
    large = np.asarray(Image.fromarray(fl.load_photo("coffee")).resize((1600, 1200)))
    low, high = PLATFORMS["whatsapp"].quality
    quality_small = fl.read_dct(share(small, "whatsapp", tmp_path / "small.jpg")).quality.quality
    quality_large = fl.read_dct(share(large, "whatsapp", tmp_path / "large.jpg")).quality.quality
    assert quality_small == high and low <= quality_large < quality_small


def test_chain_shows_the_last_platforms_settings(large_source, tmp_path):
    chained = share_chain(large_source, ["facebook", "telegram"], tmp_path / "chain.jpg", random_state=3)
    image = fl.read_dct(chained)
    assert max(image.width, image.height) == 1280
    assert not image.progressive  # facebook writes progressive, telegram baseline
    np.testing.assert_array_equal(image.quantization_table, fl.ijg_quantization_table(87))
    by_hand = share(share(large_source, "facebook", tmp_path / "fb.jpg"), "telegram", tmp_path / "fb_tg.jpg")
    assert by_hand.read_bytes() == chained.read_bytes()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["chain.jpg", "fb.jpg", "fb_tg.jpg"]


def test_chain_starting_with_the_original(small_source, tmp_path):
    chained = share_chain(small_source, ["original", "twitter"], tmp_path / "chain.jpg", random_state=0)
    alone = share(small_source, "twitter", tmp_path / "alone.jpg")
    assert chained.read_bytes() == alone.read_bytes()


@pytest.mark.parametrize(
    "encoder, subsampling, progressive", [("9e", "4:4:4", False), ("6b", "4:2:2", True), ("turbo210", "4:2:0", True)]
)
def test_custom_profile_with_a_jpeglib_encoder(tmp_path, encoder, subsampling, progressive):
    profile = PlatformProfile(
        name="mine", max_long_side=200, encoder=encoder, quality=63, subsampling=subsampling, progressive=progressive
    )
    image = fl.read_dct(share(fl.load_photo("chelsea"), profile, tmp_path / "mine.jpg"))
    assert max(image.width, image.height) == 200
    assert (image.subsampling, image.progressive) == (subsampling, progressive)
    np.testing.assert_array_equal(image.quantization_table, fl.ijg_quantization_table(63))
    assert jpeglib.version.get() == "6b"  # the encoder's libjpeg version does not leak out


def test_mozjpeg_encoder_writes_its_own_tables(tmp_path):
    profile = PlatformProfile(name="moz", encoder="mozjpeg403", quality=80, progressive=True)
    image = fl.read_dct(share(fl.load_photo("chelsea"), profile, tmp_path / "moz.jpg"))
    assert image.progressive and not image.quality.exact


def test_png_and_tiff_sources(tmp_path):
    rgb = fl.load_photo("chelsea")
    for suffix in ("png", "tif"):
        Image.fromarray(rgb).save(tmp_path / f"source.{suffix}")
        image = fl.read_dct(share(tmp_path / f"source.{suffix}", "twitter", tmp_path / f"{suffix}.jpg"))
        assert (image.width, image.height, image.quality.quality) == (451, 300, 85)


def test_gray_and_16_bit_sources(tmp_path):
    gray = fl.load_photo("chelsea")[..., 1]
    Image.fromarray(gray.astype(np.uint16) * 257).save(tmp_path / "deep.png")  # 16-bit gray PNG
    for source in (gray, tmp_path / "deep.png"):
        out = share(source, "twitter", tmp_path / "out.jpg")
        with Image.open(out) as image:
            assert image.mode == "RGB"
            decoded = np.asarray(image.convert("L"), dtype=float)
        assert abs(decoded.mean() - gray.mean()) < 2.0


def test_notes_give_a_source_or_say_assumed():
    for name, profile in PLATFORMS.items():
        if profile.passthrough:
            assert profile.notes["passthrough"] in profile.describe()
            continue
        for setting in SETTINGS:
            note = profile.notes.get(setting, "")
            assert note.startswith(("commonly reported, not verified here:", "assumed")), (name, setting, note)
            assert f"{setting}: " in profile.describe() and note in profile.describe()


def test_platforms_of_paper_1():
    assert set(PLATFORMS) == {
        "facebook", "flickr", "twitter", "instagram", "google_plus", "whatsapp", "telegram", "original"
    }
    assert get_platform("facebook") is PLATFORMS["facebook"]


def test_unknown_platform_lists_the_valid_ones(small_source, tmp_path):
    expected = r"Expected a platform among \['facebook', 'flickr'.*'facebok'.*'facebook'\?"
    with pytest.raises(ValueError, match=expected):
        share(small_source, "facebok", tmp_path / "out.jpg")
    with pytest.raises(ValueError, match="Received: 3"):
        get_platform(3)
    with pytest.raises(ValueError, match="'myspace'"):
        share_chain(small_source, ["facebook", "myspace"], tmp_path / "out.jpg")
    assert not (tmp_path / "out.jpg").exists()


def test_non_image_source_names_the_file(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    with pytest.raises(fl.ImageReadError, match=r"notes\.txt.*expected a JPEG, PNG or TIFF"):
        share(text, "facebook", tmp_path / "out.jpg")
    with pytest.raises(FileNotFoundError, match=r"missing\.jpg"):
        share(tmp_path / "missing.jpg", "facebook", tmp_path / "out.jpg")
    truncated = tmp_path / "truncated.jpg"
    whole = fl.encode_jpeg(fl.load_photo("chelsea"), tmp_path / "whole.jpg", quality=90)
    truncated.write_bytes(whole.read_bytes()[:3000])
    with pytest.raises(fl.ImageReadError, match=r"truncated\.jpg.*truncated or corrupt"):
        share(truncated, "twitter", tmp_path / "out.jpg")
    with pytest.raises(ValueError, match=r"passthrough.*notes\.txt"):
        share(text, "original", tmp_path / "out.jpg")


def test_bad_arguments(tmp_path):
    rgb = fl.load_photo("chelsea")
    with pytest.raises(ValueError, match=r"`source` an \(H, W, 3\).*float64"):
        share(rgb.astype(float), "twitter", tmp_path / "out.jpg")
    with pytest.raises(ValueError, match=r"JPEG file as `source`.*array"):
        share(rgb, "original", tmp_path / "out.jpg")
    with pytest.raises(ValueError, match="`destination` a file path"):
        share(rgb, "twitter", tmp_path)
    with pytest.raises(ValueError, match="non-empty list"):
        share_chain(rgb, "twitter", tmp_path / "out.jpg")
    with pytest.raises(ValueError, match="non-empty list"):
        share_chain(rgb, [], tmp_path / "out.jpg")


@pytest.mark.parametrize(
    "settings, match",
    [
        ({"max_long_side": 0}, "`max_long_side` a positive integer"),
        ({"max_width": 10.5}, "`max_width` a positive integer"),
        ({"resample": "cubic"}, r"`resample` one of \['nearest'"),
        ({"encoder": "libjpeg"}, r"`encoder` one of \['pillow', .*'6b'"),
        ({"quality": 101}, "`quality` an integer in 1..100"),
        ({"quality": (80, 70), "quality_rule": "random"}, r"range \(lowest, highest\)"),
        ({"quality": 80, "quality_rule": "content"}, r"range \(lowest, highest\)"),
        ({"quality_rule": "adaptive"}, "`quality_rule` one of"),
        ({"subsampling": "4:1:1"}, "`subsampling` one of"),
        ({"progressive": "yes"}, "`progressive` True or False"),
        ({"encoder": "mozjpeg403"}, "progressive=True"),
        ({"name": ""}, "`name` a non-empty string"),
    ],
)
def test_profile_validation(settings, match):
    with pytest.raises(ValueError, match=match):
        PlatformProfile(**{"name": "bad", **settings})
