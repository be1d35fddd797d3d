"""The platform simulator: each profile's promised output, metadata, determinism, chains, errors."""

from __future__ import annotations

import jpeglib
import numpy as np
import pytest
from PIL import Image

import forensiclib as fl
from forensiclib.provenance.header import read_header
from forensiclib.data.synth.platforms import (
    FACEBOOK_TABLES,
    PLATFORMS,
    SETTINGS,
    PlatformProfile,
    get_platform,
    pick_behaviour,
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


# mozjpeg's default table (N. Robidoux's, for luminance and chrominance alike), written out here: the one WhatsApp's
# downloads carry, scaled by quality as libjpeg scales its tables.
ROBIDOUX = np.array(
    [[16, 16, 16, 18, 25, 37, 56, 85], [16, 17, 20, 27, 34, 40, 53, 75], [16, 20, 24, 31, 43, 62, 91, 135],
     [18, 27, 31, 40, 53, 74, 106, 156], [25, 34, 43, 53, 69, 94, 131, 189], [37, 40, 62, 74, 94, 124, 169, 238],
     [56, 53, 91, 106, 131, 169, 226, 311], [85, 75, 135, 156, 189, 238, 311, 418]]
)  # fmt: skip

#: Every behaviour of every platform that re-encodes, by "platform/index".
BEHAVIOURS = {
    f"{name}/{index}": behaviour
    for name, profile in PLATFORMS.items()
    if not profile.passthrough
    for index, (_, behaviour) in enumerate(profile.behaviours or ((1.0, profile),))
}


def scaled_table(base: np.ndarray, quality: int) -> np.ndarray:
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return np.clip((base * scale + 50) // 100, 1, 255)


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
def shared_behaviours(large_source, tmp_path_factory):
    """{"platform/index": downloaded file} for every behaviour of every platform, from the large source."""
    folder = tmp_path_factory.mktemp("behaviours")
    return {key: share(large_source, profile, folder / f"{key.replace('/', '_')}.jpg", random_state=0)
            for key, profile in BEHAVIOURS.items()}  # fmt: skip


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


@pytest.mark.parametrize("key", list(BEHAVIOURS))
def test_output_has_the_platforms_size(shared_behaviours, key):
    image = fl.read_dct(shared_behaviours[key])
    profile = BEHAVIOURS[key]
    width, height = expected_size(profile, *SOURCE_SIZE)
    assert (image.width, image.height) == (width, height)
    if profile.max_long_side and profile.max_long_side < max(SOURCE_SIZE):
        assert max(image.width, image.height) == profile.max_long_side
    if profile.max_width:
        assert image.width == profile.max_width


def test_sizes_measured_or_stated_in_the_literature(shared_behaviours, shared):
    sizes = {key: fl.read_dct(path) for key, path in shared_behaviours.items()}
    assert max(sizes["facebook/0"].width, sizes["facebook/0"].height) == 2048
    assert max(sizes["facebook/1"].width, sizes["facebook/1"].height) == 2048
    assert sizes["instagram/0"].width == 1080
    assert max(sizes["whatsapp/0"].width, sizes["whatsapp/0"].height) == 1280
    assert max(sizes["whatsapp/1"].width, sizes["whatsapp/1"].height) == 1600
    assert max(sizes["telegram/0"].width, sizes["telegram/0"].height) == 1280
    assert (sizes["twitter/1"].width, sizes["twitter/1"].height) == SOURCE_SIZE  # within Twitter's 4096 px
    original = fl.read_dct(shared["original"])
    assert (original.width, original.height) == SOURCE_SIZE


def test_twitter_shrinks_to_4096_and_instagram_enlarges_to_320(tmp_path):
    wide = np.asarray(Image.fromarray(fl.load_photo("coffee")).resize((5000, 1000)))
    for index in (0, 1):  # a PNG-like array is re-encoded by both behaviours
        image = fl.read_dct(share(wide, PLATFORMS["twitter"].behaviours[index][1], tmp_path / "wide.jpg"))
        assert (image.width, image.height) == (4096, 819)
    narrow = np.asarray(Image.fromarray(fl.load_photo("coffee")).resize((150, 100)))
    image = fl.read_dct(share(narrow, "instagram", tmp_path / "narrow.jpg", random_state=0))
    assert (image.width, image.height) == (320, 213)


def test_width_rule_applies_to_portrait_photos(tmp_path):
    portrait = np.asarray(Image.fromarray(fl.load_photo("rocket")).resize((1200, 1800)))
    image = fl.read_dct(share(portrait, "instagram", tmp_path / "portrait.jpg"))
    assert (image.width, image.height) == (1080, 1620)


def test_small_images_are_never_shrunk(small_source, tmp_path):
    for name in PLATFORMS:
        image = fl.read_dct(share(small_source, name, tmp_path / f"{name}.jpg"))
        assert (image.width, image.height) == (451, 300), name


@pytest.mark.parametrize("key", list(BEHAVIOURS))
def test_encoding_settings_read_back_with_jpeglib(shared_behaviours, large_source, key):
    """Each behaviour's download, read with jpeglib: its tables, subsampling and scan mode are the profile's."""
    profile = BEHAVIOURS[key]
    jpeg = jpeglib.read_dct(str(shared_behaviours[key]))
    luminance, chrominance = jpeg.qt[jpeg.quant_tbl_no[0]], jpeg.qt[jpeg.quant_tbl_no[1]]
    sampling = {(2, 2): "4:2:0", (1, 2): "4:2:2", (1, 1): "4:4:4"}[tuple(np.asarray(jpeg.samp_factor)[0])]
    if profile.keep_jpeg:  # a JPEG source within the limits keeps its coefficients and tables
        source = jpeglib.read_dct(str(large_source))
        np.testing.assert_array_equal(jpeg.Y, source.Y)
        np.testing.assert_array_equal(jpeg.qt, source.qt)
        return
    assert sampling == profile.subsampling
    assert bool(jpeg.progressive_mode) == profile.progressive
    if profile.quantization_tables is not None:
        np.testing.assert_array_equal(luminance, np.array(profile.quantization_tables[0]))
        np.testing.assert_array_equal(chrominance, np.array(profile.quantization_tables[1]))
        return
    if profile.encoder.startswith("mozjpeg"):
        qualities = [q for q in range(1, 101) if np.array_equal(luminance, scaled_table(ROBIDOUX, q))]
        np.testing.assert_array_equal(chrominance, luminance)
    else:
        qualities = [q for q in range(1, 101) if np.array_equal(luminance, fl.ijg_quantization_table(q))]
        np.testing.assert_array_equal(chrominance, ijg_chrominance_table(qualities[0]))
    assert len(qualities) == 1
    if profile.quality_rule == "fixed":
        assert qualities == [profile.quality]
    elif profile.quality_rule == "choice":
        assert qualities[0] in profile.quality
    else:
        assert profile.quality[0] <= qualities[0] <= profile.quality[1]


def test_measured_tables_are_written_as_measured(shared_behaviours, tmp_path):
    facebook = jpeglib.read_dct(str(shared_behaviours["facebook/0"]))
    assert facebook.qt[1][7, 7] == 267  # a 16-bit entry, as in Facebook's downloads
    np.testing.assert_array_equal(facebook.qt[0], np.array(FACEBOOK_TABLES[0]))
    mozjpeg = PLATFORMS["whatsapp"].behaviours[0][1]
    for quality, first_row in ((70, [10, 10, 10, 11, 15, 22, 34, 51]), (80, [6, 6, 6, 7, 10, 15, 22, 34])):
        profile = PlatformProfile(name="wa", encoder=mozjpeg.encoder, quality=quality, progressive=True)
        image = fl.read_dct(share(fl.load_photo("chelsea"), profile, tmp_path / f"wa{quality}.jpg"))
        assert image.quantization_table[0].tolist() == first_row  # the rows WhatsApp's downloads carry


def test_every_behaviour_is_drawn_by_weight():
    for name, profile in PLATFORMS.items():
        drawn = [pick_behaviour(name, random_state=seed) for seed in range(200)]
        behaviours = [behaviour for _, behaviour in profile.behaviours] or [profile]
        counts = [sum(d is behaviour for d in drawn) for behaviour in behaviours]
        weights = np.array([weight for weight, _ in profile.behaviours] or [1.0])
        assert sum(counts) == 200
        np.testing.assert_allclose(np.array(counts) / 200, weights / weights.sum(), atol=0.1)


STRIPPING = [name for name, profile in PLATFORMS.items() if not (profile.keep_exif or profile.passthrough)]


@pytest.mark.parametrize("name", STRIPPING)
def test_metadata_is_stripped(shared, name):
    data = shared[name].read_bytes()
    assert b"Exif\x00\x00" not in data and CAMERA_MAKE.encode() not in data
    with Image.open(shared[name]) as image:
        assert len(image.getexif()) == 0
    # SOI, one JFIF APP0, then the segments of one of the platform's behaviours (an ICC profile, an IPTC block)
    # and nothing else: no EXIF, XMP or comment
    assert data[:4] == b"\xff\xd8\xff\xe0" and data[6:11] == b"JFIF\x00"
    behaviours = [b for _, b in PLATFORMS[name].behaviours] or [PLATFORMS[name]]
    allowed = {("jfif", *b.segments) for b in behaviours} | {("jfif",) for b in behaviours if b.keep_jpeg}
    assert read_header(shared[name]).segments in allowed


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
    facebook_ijg = PLATFORMS["facebook"].behaviours[1][1]
    quality = {name: fl.read_dct(share(image, facebook_ijg, tmp_path / f"{name}.jpg")).quality.quality
               for name, image in (("smooth", smooth), ("busy", busy))}
    assert quality == {"smooth": 79, "busy": 65}


def test_size_rule_gives_larger_images_lower_quality(tmp_path):
    small = np.asarray(Image.fromarray(fl.load_photo("coffee")).resize((400, 300)))
    large = np.asarray(Image.fromarray(fl.load_photo("coffee")).resize((1600, 1200)))
    profile = PlatformProfile(name="sized", quality=(60, 80), quality_rule="size")
    quality_small = fl.read_dct(share(small, profile, tmp_path / "small.jpg")).quality.quality
    quality_large = fl.read_dct(share(large, profile, tmp_path / "large.jpg")).quality.quality
    assert quality_small == 80 and 60 <= quality_large < quality_small


def test_choice_rule_draws_only_the_listed_qualities(tmp_path):
    rgb = fl.load_photo("chelsea")[:96, :128]
    qualities = {fl.read_dct(share(rgb, "instagram", tmp_path / f"{seed}.jpg", random_state=seed)).quality.quality
                 for seed in range(12)}  # fmt: skip
    assert qualities == {80, 90, 92}


def test_chain_shows_the_last_platforms_settings(large_source, tmp_path):
    chained = share_chain(large_source, ["flickr", "telegram"], tmp_path / "chain.jpg", random_state=3)
    image = fl.read_dct(chained)
    assert max(image.width, image.height) == 1280
    assert image.progressive  # flickr writes baseline, telegram progressive
    np.testing.assert_array_equal(image.quantization_table, fl.ijg_quantization_table(87))
    by_hand = share(share(large_source, "flickr", tmp_path / "fl.jpg"), "telegram", tmp_path / "fl_tg.jpg")
    assert by_hand.read_bytes() == chained.read_bytes()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["chain.jpg", "fl.jpg", "fl_tg.jpg"]


def test_chain_starting_with_the_original(small_source, tmp_path):
    chained = share_chain(small_source, ["original", "telegram"], tmp_path / "chain.jpg", random_state=0)
    alone = share(small_source, "telegram", tmp_path / "alone.jpg")
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
        if profile.behaviours:
            assert profile.notes["behaviours"].startswith(("measured on", "assumed")), name
        for _, behaviour in profile.behaviours or ((1.0, profile),):
            for setting in SETTINGS:
                note = behaviour.notes.get(setting, "")
                assert note.startswith(("measured on", "commonly reported, not verified here:", "assumed",
                                        "unused", "IJG tables", "mozjpeg's own")), (name, setting, note)  # fmt: skip
                assert f"{setting}: " in profile.describe() and note in profile.describe()
        if name in ("facebook", "instagram", "twitter", "whatsapp", "telegram"):
            notes = " ".join(n for _, b in (profile.behaviours or ((1.0, profile),)) for n in b.notes.values())
            assert f"measure-platform DIR/social/{name}" in notes


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
        ({"min_width": -1}, "`min_width` a positive integer"),
        ({"quality": (), "quality_rule": "choice"}, "non-empty tuple of integers in 1..100 for the 'choice' rule"),
        ({"quantization_tables": np.ones((8, 8), int)}, r"two 8x8 integer tables .* shape \(8, 8\)"),
        ({"quantization_tables": np.ones((2, 8, 8), int), "quality": (1, 2), "quality_rule": "random"},
         "quality_rule='fixed'"),
        ({"dct_method": "float"}, "a jpeglib encoder"),
        ({"dct_method": "exact"}, "`dct_method` one of"),
        ({"keep_jpeg": 1}, "`keep_jpeg` True or False"),
        ({"behaviours": ((0, PlatformProfile(name="a")),)}, r"\(positive weight, PlatformProfile\)"),
        ({"behaviours": ((1, PlatformProfile(name="a", passthrough=True)),)}, "plain profile"),
    ],
)
def test_profile_validation(settings, match):
    with pytest.raises(ValueError, match=match):
        PlatformProfile(**{"name": "bad", **settings})


def test_rewriting_a_16_bit_table_prints_nothing_and_keeps_the_table(tmp_path, capfd):
    """libjpeg's notice that a table above 255 makes the file extended sequential stays off stderr (notebook 06)."""
    from forensiclib.data.synth.platforms import _kept_coefficients

    source = tmp_path / "facebook.jpg"
    rgb = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(source, format="JPEG", qtables=[t.ravel().tolist() for t in np.array(FACEBOOK_TABLES)])
    assert np.array(FACEBOOK_TABLES).max() > 255
    capfd.readouterr()
    kept = _kept_coefficients(source, fl.get_platform("twitter"))
    assert capfd.readouterr().err == ""
    (tmp_path / "kept.jpg").write_bytes(kept)
    assert jpeglib.read_dct(str(tmp_path / "kept.jpg")).qt.max() == np.array(FACEBOOK_TABLES).max()
