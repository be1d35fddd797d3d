"""Measuring a platform from downloads: recovers the settings `share` used, skips bad files, reports."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import forensiclib as fl
from forensiclib.data.synth.measure import measure_platform
from forensiclib.data.synth.platforms import PLATFORMS, PlatformProfile, share

#: A profile whose limit all test photos exceed, with settings unlike the defaults.
SMALL_PLATFORM = PlatformProfile(name="small", max_long_side=256, quality=83, subsampling="4:4:4", progressive=True)
PHOTOS = ("chelsea", "coffee", "astronaut", "rocket")  # 451x300, 600x400, 512x512, 427x640


@pytest.fixture(scope="module")
def small_downloads(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    for name in PHOTOS:
        share(fl.load_photo(name), SMALL_PLATFORM, folder / f"{name}.jpg")
    return folder


def upscaled(name: str, width: int, height: int) -> np.ndarray:
    return np.asarray(Image.fromarray(fl.load_photo(name)).resize((width, height), Image.Resampling.BILINEAR))


def test_recovers_the_settings_of_a_simulated_platform(small_downloads):
    measurement = measure_platform(small_downloads)
    assert measurement.n_images == len(PHOTOS) and measurement.skipped == ()
    assert measurement.quality_counts() == {83: 4} and measurement.n_exact_ijg == 4
    assert measurement.subsampling_counts() == {"4:4:4": 4}
    assert measurement.progressive_fraction == 1.0
    table, count = measurement.most_common_table()
    np.testing.assert_array_equal(table, fl.ijg_quantization_table(83))
    assert count == 4
    # long sides: chelsea 256, coffee 256, astronaut 256, rocket 256; short sides 170, 171, 256, 171
    assert measurement.sizes()["long_side"] == (256, 256.0, 256)
    widths = sorted(fl.read_dct(small_downloads / f"{name}.jpg").width for name in PHOTOS)
    assert measurement.sizes()["width"] == (widths[0], float(np.median(widths)), widths[-1])
    profile = measurement.to_profile("calibrated")
    assert (profile.max_long_side, profile.max_width) == (256, None)
    assert (profile.quality, profile.quality_rule) == (83, "fixed")
    assert (profile.subsampling, profile.progressive, profile.keep_exif) == ("4:4:4", True, False)
    assert profile.notes["quality"].startswith("measured from 4 downloads")


@pytest.mark.parametrize(
    "platform, sizes",
    [
        ("telegram", [(1500, 1000), (1000, 1500), (1400, 1400)]),
        ("instagram", [(1500, 1000), (1200, 1600), (1300, 1300)]),
    ],
)
def test_recovers_a_built_in_platform(tmp_path, platform, sizes):
    for index, (width, height) in enumerate(sizes):
        share(upscaled(PHOTOS[index], width, height), platform, tmp_path / f"{index}.jpg", random_state=index)
    profile = measure_platform(tmp_path).to_profile(f"{platform}_measured")
    expected = PLATFORMS[platform]
    assert (profile.max_long_side, profile.max_width) == (expected.max_long_side, expected.max_width)
    if expected.quality_rule == "fixed":
        assert (profile.quality, profile.quality_rule) == (expected.quality, "fixed")
    else:  # instagram draws among measured qualities: the measurement sees the ones drawn
        assert set(np.atleast_1d(profile.quality)) <= set(expected.quality)
    assert (profile.subsampling, profile.progressive, profile.keep_exif) == ("4:2:0", True, False)


def test_adaptive_quality_gives_a_range(tmp_path):
    rng = np.random.default_rng(0)
    smooth = np.tile(np.linspace(0, 255, 256, dtype=np.uint8)[None, :, None], (192, 1, 3))
    busy = rng.integers(0, 256, size=(192, 256, 3), dtype=np.uint8)
    for name, image in (("smooth", smooth), ("busy", busy), ("chelsea", fl.load_photo("chelsea"))):
        share(image, PLATFORMS["facebook"].behaviours[1][1], tmp_path / f"{name}.jpg")  # IJG tables by content
    profile = measure_platform(tmp_path).to_profile("facebook_measured")
    assert (profile.quality, profile.quality_rule) == ((65, 79), "random")
    assert profile.progressive


def test_counts_exif_and_other_segments(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "ForensiclibTestCamera"
    for name in ("chelsea", "coffee", "astronaut"):
        Image.fromarray(fl.load_photo(name)).save(tmp_path / f"{name}.jpg", quality=90, exif=exif.tobytes())
    share(tmp_path / "chelsea.jpg", "telegram", tmp_path / "telegram.jpg")  # writes an ICC profile, as measured
    measurement = measure_platform(tmp_path)
    assert measurement.segment_counts() == {"APP0:JFIF": 4, "APP1:Exif": 3, "APP2:ICC": 1}
    by_name = {image.path.name: image.segments for image in measurement.images}
    assert by_name["chelsea.jpg"] == ("APP0:JFIF", "APP1:Exif") and by_name["telegram.jpg"] == ("APP0:JFIF", "APP2:ICC")
    assert measurement.to_profile("camera").keep_exif  # 3 of 4 keep it
    assert "APP1:Exif x3" in measurement.report()


def test_skipped_files_are_counted_with_reasons(small_downloads, tmp_path):
    folder = tmp_path / "downloads"
    nested = folder / "album" / "more"
    nested.mkdir(parents=True)
    for name in PHOTOS:
        (nested / f"{name}.jpg").write_bytes((small_downloads / f"{name}.jpg").read_bytes())
    (folder / "readme.txt").write_text("downloaded by hand")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "cut.jpg").write_bytes((small_downloads / "coffee.jpg").read_bytes()[:1500])
    Image.fromarray(fl.load_photo("chelsea")).save(folder / "screenshot.png")
    measurement = measure_platform(folder)
    assert measurement.n_images == 4
    reasons = {item.path.name: item.reason for item in measurement.skipped}
    assert set(reasons) == {"readme.txt", "empty.jpg", "cut.jpg", "screenshot.png"}
    assert reasons["readme.txt"] == "not a JPEG (starts with b'download')"
    assert reasons["empty.jpg"] == "not a JPEG (empty file)"
    assert reasons["screenshot.png"].startswith("not a JPEG (starts with b'\\x89PNG")
    assert "truncated or corrupt JPEG" in reasons["cut.jpg"]
    report = measurement.report()
    assert "Measured 4 JPEGs" in report and "4 other files skipped" in report
    assert all(f"skipped {item.path}: {item.reason}" in report for item in measurement.skipped)


def test_report_is_readable_text(small_downloads):
    measurement = measure_platform(small_downloads)
    report = str(measurement)
    assert report == measurement.report()
    assert "long_side       256      256       256" in report
    assert "estimated IJG quality: 83 x4" in report and "exact IJG tables: 4 of 4" in report
    assert "chroma subsampling: 4:4:4 x4" in report and "progressive: 4 of 4 (100%)" in report
    first_row = " ".join(f"{value:3d}" for value in fl.ijg_quantization_table(83)[0])
    assert first_row in report


def test_no_size_limit_without_evidence(tmp_path):
    for index, name in enumerate(("chelsea", "coffee")):  # different sizes, none shared
        share(fl.load_photo(name), "twitter", tmp_path / f"{index}.jpg")
    profile = measure_platform(tmp_path).to_profile("twitter_measured")
    assert (profile.max_long_side, profile.max_width) == (None, None)


def test_missing_empty_or_useless_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"folder of downloaded images.*nowhere \(no such folder\)"):
        measure_platform(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"empty \(it holds no files\)"):
        measure_platform(tmp_path / "empty")
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "a.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"none of the 1 files is one \(a\.txt: not a JPEG"):
        measure_platform(tmp_path / "text")
    with pytest.raises(ValueError, match=r"a\.txt \(a file, not a folder\)"):
        measure_platform(tmp_path / "text" / "a.txt")


def test_a_platform_with_its_own_tables_gives_a_profile_with_them(tmp_path):
    """Facebook-like downloads (one non-IJG pair of tables) measure back to a profile writing that pair."""
    from forensiclib.data.synth.platforms import FACEBOOK_TABLES

    own = PLATFORMS["facebook"].behaviours[0][1]
    for index in range(3):
        share(upscaled(PHOTOS[index], 900 + 100 * index, 700), own, tmp_path / f"{index}.jpg")
    profile = measure_platform(tmp_path).to_profile("facebook_measured")
    np.testing.assert_array_equal(np.array(profile.quantization_tables), np.array(FACEBOOK_TABLES))
    assert "own tables" in profile.notes["quality"] and "3 of 3" in profile.notes["quantization_tables"]
    image = fl.read_dct(share(fl.load_photo(PHOTOS[0]), profile, tmp_path / "again.jpg"))
    np.testing.assert_array_equal(image.chroma_quantization_table, np.array(FACEBOOK_TABLES[1]))
