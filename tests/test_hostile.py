"""Hostile input end to end: a folder of what goes wrong in seized image collections.

Feature extraction, dataset loading and `identify` each process every good file, skip each bad one with a reason,
never hang and never stop the batch. A fuzz run (random and mutated JPEG bytes, bounded in count) shows the extractor
either returns exactly the independent computation or raises `ImageReadError`.
"""

import os
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import forensiclib as fl
from forensiclib.data.loaders import load_public_social
from forensiclib.data.synth.platforms import share

from .test_features import independent_features

ODD_NAME = b"\xff\xfe-latin1-\xe9.jpg"  # not UTF-8


def _png_declaring(width, height):
    """A PNG whose header declares `width` x `height` pixels (and holds almost no data)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def _jpeg_declaring(data: bytes, width, height) -> bytes:
    """A JPEG's bytes with the size in its frame header replaced."""
    i = min(data.find(m) for m in (b"\xff\xc0", b"\xff\xc1", b"\xff\xc2") if m in data)  # baseline or progressive
    return data[: i + 5] + struct.pack(">HH", height, width) + data[i + 9 :]


#: file name -> None (a correct result expected) or a piece of the reason it is skipped.
EXPECTED = {
    "good_facebook.jpg": None,
    "truncated.jpg": "truncated or corrupt JPEG",
    "random.jpg": "expected a JPEG, PNG or TIFF",
    "zero.jpg": "",
    "bomb.png": "decompression bomb",
    "bomb.jpg": "decompression bomb",
    "cmyk.jpg": "no luminance component",
    "gray16.png": None,
    "animated.gif": None,
    "exif_rotated.jpg": None,
    "tiny.jpg": "smaller than one 64x64 patch",
    "notes.txt": "expected a JPEG, PNG or TIFF",
    "self_link.jpg": "broken or looping symbolic link",
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    rgb = fl.load_photo("chelsea")
    good = share(rgb, "facebook", folder / "good_facebook.jpg")
    data = good.read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) * 6 // 10])
    (folder / "random.jpg").write_bytes(np.random.default_rng(0).bytes(5000))
    (folder / "zero.jpg").write_bytes(b"")
    (folder / "bomb.png").write_bytes(_png_declaring(100_000, 100_000))
    (folder / "bomb.jpg").write_bytes(_jpeg_declaring(data, 60_000, 60_000))
    Image.new("CMYK", (128, 128), (10, 20, 30, 40)).save(folder / "cmyk.jpg")
    Image.fromarray((np.arange(128 * 160, dtype=np.uint16).reshape(128, 160) * 3)).save(folder / "gray16.png")
    frames = [Image.fromarray(np.roll(rgb[:128, :128], 10 * k, axis=1)) for k in range(3)]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees to display
    Image.fromarray(rgb[:200, :300]).save(folder / "exif_rotated.jpg", quality=85, exif=exif.tobytes())
    fl.encode_jpeg(rgb[:32, :32], folder / "tiny.jpg", quality=80)
    (folder / "notes.txt").write_text("not an image")
    with open(os.path.join(os.fsencode(folder), ODD_NAME), "wb") as f:
        f.write(data)
    os.symlink("self_link.jpg", folder / "self_link.jpg")
    os.symlink(folder, folder / "loop")  # a folder that contains itself
    return folder


@pytest.mark.slow
def test_feature_extraction_keeps_every_good_file_and_names_every_bad_one(hostile):
    start = time.perf_counter()
    with pytest.warns(UserWarning, match="files skipped"):
        result = fl.extract_features(hostile, cache_dir=False, progress=False, n_jobs=2)
    assert time.perf_counter() - start < 120
    odd = os.fsdecode(ODD_NAME)
    assert sorted(p.name for p in result.paths) == sorted([odd] + [n for n, why in EXPECTED.items() if why is None])
    reasons = {item.path.name: item.reason for item in result.skipped}
    assert set(reasons) == {n for n, why in EXPECTED.items() if why is not None}
    for name, why in EXPECTED.items():
        if why:
            assert why in reasons[name], (name, reasons[name])
    by_name = {p.name: i for i, p in enumerate(result.paths)}
    # the stored coefficients, whatever the orientation; the oddly named file holds good_facebook.jpg's bytes
    for name, same_as in (("good_facebook.jpg", None), ("exif_rotated.jpg", None), (odd, "good_facebook.jpg")):
        np.testing.assert_array_equal(result.features[result.image_index == by_name[name]],
                                      independent_features(hostile / (same_as or name)))
    assert result.report().count("\n") >= len(reasons)


@pytest.mark.slow
def test_identify_answers_every_file(hostile, tmp_path):
    from .test_identifier import FakeResult

    model = fl.dct_cnn(3)
    model.save(tmp_path / "m.keras")
    identifier = fl.save_identifier(FakeResult(tmp_path / "m.keras"), tmp_path / "identifier", patch_size=64,
                                    trained_on="nothing", simulated=True)
    from forensiclib.provenance.features import _list_files

    files = _list_files(hostile)
    answers = {a.path.name: a for a in fl.identify(files, identifier)}
    assert len(answers) == len(EXPECTED) + 1
    for name, why in EXPECTED.items():
        if why is None:
            assert answers[name].prediction is not None, name
        else:
            assert answers[name].error is not None and why in answers[name].error, (name, answers[name].error)


def test_dataset_loading_skips_bad_files_with_reasons(hostile, tmp_path):
    root = tmp_path / "public"
    root.mkdir()
    os.symlink(hostile, root / "facebook", target_is_directory=True)
    for platform in ("flickr", "twitter"):
        (root / platform).mkdir()
        (root / platform / "a.jpg").write_bytes((hostile / "good_facebook.jpg").read_bytes())
    start = time.perf_counter()
    data = load_public_social(root)
    assert time.perf_counter() - start < 30  # the folder loop ends
    names = {Path(f).name for f in data.files}
    # loading reads first bytes only: every file that starts like an image is kept for the extractor to judge
    assert {"good_facebook.jpg", "exif_rotated.jpg", "truncated.jpg", "bomb.jpg", "gray16.png", "a.jpg"} <= names
    reasons = {Path(p).name: why for p, why in data.skipped}
    assert set(reasons) == {"random.jpg", "zero.jpg", "notes.txt", "animated.gif", "self_link.jpg"}
    assert reasons["zero.jpg"] == "empty file" and reasons["self_link.jpg"].startswith("broken or looping link")


@pytest.mark.slow
def test_fuzzed_jpegs_give_the_right_features_or_the_librarys_error(tmp_path):
    count = 2000
    out = subprocess.run([sys.executable, "-m", "tests.fuzz_jpeg", "0", str(count), str(tmp_path)],
                         capture_output=True, text=True, timeout=300, cwd=Path(__file__).parent.parent)
    assert out.returncode == 0, f"{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    import json

    report = json.loads(out.stdout.strip().splitlines()[-1])
    outcomes = report["outcomes"]
    assert outcomes["ok"] + outcomes["refused"] == count
    assert outcomes["ok"] > 10 and outcomes["refused"] > 10  # both branches were exercised
