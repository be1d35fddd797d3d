import os
import signal
import subprocess
import sys
import time
import warnings

import jpeglib
import numpy as np
import pytest
from PIL import Image

import forensiclib as fl
from forensiclib import FeatureParams, ImageReadError

from .conftest import TEST_PHOTOS

# Sec. III-A: the first nine AC modes in zig-zag order, DC excluded, as (row, col).
PAPER_MODES = [(0, 1), (1, 0), (2, 0), (1, 1), (0, 2), (0, 3), (1, 2), (2, 1), (3, 0)]


def independent_features(path, patch_size=64, modes=PAPER_MODES, max_value=50):
    """Histograms computed the slow, obvious way from the coefficients jpeglib reads."""
    jpeg = jpeglib.read_dct(str(path))
    blocks = patch_size // 8
    rows, cols = jpeg.height // patch_size, jpeg.width // patch_size
    edges = np.arange(-max_value - 0.5, max_value + 1.5)
    vectors = []
    for r in range(rows):
        for c in range(cols):
            patch = jpeg.Y[r * blocks : (r + 1) * blocks, c * blocks : (c + 1) * blocks]
            vector = [np.histogram(patch[:, :, u, v], bins=edges)[0] for u, v in modes]
            vectors.append(np.concatenate(vector) / blocks**2)
    return np.array(vectors, dtype=np.float32)


def test_zigzag_starts_with_the_papers_nine_modes():
    assert list(fl.zigzag_modes(9)) == PAPER_MODES
    assert fl.ZIGZAG[0] == (0, 0) and len(set(fl.ZIGZAG)) == 64


@pytest.mark.parametrize("photo", TEST_PHOTOS)
@pytest.mark.parametrize("quality", [50, 75, 95])
@pytest.mark.parametrize("subsampling", ["4:4:4", "4:2:0"])
def test_features_equal_an_independent_computation(photo_jpegs, photo, quality, subsampling):
    path = photo_jpegs[photo, quality, subsampling]
    result = fl.image_features(path)
    expected = independent_features(path)
    assert result.features.shape == expected.shape == (len(expected), 909)
    np.testing.assert_array_equal(result.features, expected)


def test_positions_and_patch_count_for_a_size_not_a_multiple_of_8(tmp_path, chelsea_rgb):
    path = fl.encode_jpeg(chelsea_rgb[:139, :203], tmp_path / "odd.jpg", quality=80)  # 203x139
    result = fl.image_features(path)
    assert result.positions.tolist() == [[0, 0], [0, 64], [0, 128], [64, 0], [64, 64], [64, 128]]
    np.testing.assert_array_equal(result.features, independent_features(path))


def test_other_patch_sizes_and_mode_counts(photo_jpegs):
    path = photo_jpegs["coffee", 75, "4:2:0"]
    result = fl.image_features(path, patch_size=32, n_modes=5, max_value=20)
    expected = independent_features(path, patch_size=32, modes=PAPER_MODES[:5], max_value=20)
    np.testing.assert_array_equal(result.features, expected)


def test_raw_counts_and_clipping(photo_jpegs):
    path = photo_jpegs["coffee", 95, "4:4:4"]
    dropped = fl.image_features(path, normalize=False)
    clipped = fl.image_features(path, normalize=False, out_of_range="clip")
    per_mode_dropped = dropped.features.reshape(-1, 9, 101).sum(axis=2)
    per_mode_clipped = clipped.features.reshape(-1, 9, 101).sum(axis=2)
    assert np.all(per_mode_clipped == 64)  # every block counted once per mode
    assert np.all(per_mode_dropped <= 64) and per_mode_dropped.min() < 64  # at Q95 some values exceed 50
    inner = np.s_[:, :, 1:100]
    np.testing.assert_array_equal(
        dropped.features.reshape(-1, 9, 101)[inner], clipped.features.reshape(-1, 9, 101)[inner]
    )


def test_png_and_grayscale_and_progressive_inputs(tmp_path, chelsea_rgb):
    Image.fromarray(chelsea_rgb).save(tmp_path / "x.png")
    assert fl.image_features(tmp_path / "x.png").features.shape == (28, 909)
    gray = fl.encode_jpeg(chelsea_rgb[..., 1], tmp_path / "g.jpg", quality=60)
    np.testing.assert_array_equal(fl.image_features(gray).features, independent_features(gray))
    base = fl.encode_jpeg(chelsea_rgb, tmp_path / "b.jpg", quality=60)
    prog = fl.encode_jpeg(chelsea_rgb, tmp_path / "p.jpg", quality=60, progressive=True)
    np.testing.assert_array_equal(fl.image_features(base).features, fl.image_features(prog).features)


def test_image_smaller_than_one_patch(tmp_path, chelsea_rgb):
    path = fl.encode_jpeg(chelsea_rgb[:40, :100], tmp_path / "small.jpg", quality=80)
    with pytest.raises(ImageReadError, match=r"small.jpg: image is 100x40 pixels, smaller than one 64x64 patch"):
        fl.image_features(path)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"patch_size": 60}, "Expected patch_size a positive multiple of 8. Received: 60"),
        ({"patch_size": 0}, "Expected patch_size a positive multiple of 8. Received: 0"),
        ({"n_modes": 64}, r"Expected n_modes in 1..63 \(AC modes of an 8x8 block\). Received: 64"),
        ({"max_value": 0}, "Expected max_value an integer in 1..2047. Received: 0"),
        ({"out_of_range": "wrap"}, "Expected out_of_range \"drop\" or \"clip\". Received: 'wrap'"),
        ({"normalize": "yes"}, "Expected normalize True or False. Received: 'yes'"),
    ],
)
def test_feature_params_are_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FeatureParams(**kwargs)


def test_feature_params_sizes():
    assert (FeatureParams().n_bins, FeatureParams().n_features) == (101, 909)


# --- batch extraction ------------------------------------------------------------------------


@pytest.fixture
def mixed_folder(tmp_path, photo_jpegs, chelsea_rgb):
    folder = tmp_path / "mixed"
    (folder / "sub").mkdir(parents=True)
    good = [photo_jpegs["chelsea", 50, "4:2:0"], photo_jpegs["coffee", 75, "4:4:4"], photo_jpegs["china", 95, "4:2:0"]]
    for i, path in enumerate(good):
        (folder / ("sub" if i == 1 else "") / f"{i}_{path.name}").write_bytes(path.read_bytes())
    (folder / "notes.txt").write_text("hello")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "cut.jpg").write_bytes(good[0].read_bytes()[:3000])
    fl.encode_jpeg(chelsea_rgb[:32, :32], folder / "tiny.jpg", quality=80)
    (folder / ".hidden.jpg").write_bytes(b"ignored")
    return folder


def test_batch_keeps_good_results_and_reports_each_skipped_file(mixed_folder):
    with pytest.warns(UserWarning, match="4 of 7 files skipped"):
        result = fl.extract_features(mixed_folder, cache_dir=False, progress=False)
    assert [p.name for p in result.paths] == ["0_chelsea_50_420.jpg", "2_china_95_420.jpg", "1_coffee_75_444.jpg"]
    reasons = {item.path.name: item.reason for item in result.skipped}
    assert set(reasons) == {"notes.txt", "empty.jpg", "cut.jpg", "tiny.jpg"}
    assert "expected a JPEG, PNG or TIFF" in reasons["notes.txt"]
    assert "truncated or corrupt JPEG" in reasons["cut.jpg"]
    assert "smaller than one 64x64 patch" in reasons["tiny.jpg"]
    expected = [fl.image_features(p).features for p in result.paths]
    np.testing.assert_array_equal(result.features, np.concatenate(expected))
    np.testing.assert_array_equal(result.image_index, np.repeat([0, 1, 2], [len(e) for e in expected]))
    assert "cut.jpg: truncated or corrupt JPEG" in result.report()


@pytest.mark.parametrize("patch_size, normalize", [(64, True), (24, True), (64, False)])
def test_batch_in_two_processes_equals_one(mixed_folder, patch_size, normalize):
    """Workers send integer counts back; the parent's features are the same bit for bit (24: 9 blocks, not 2^k)."""
    options = dict(patch_size=patch_size, normalize=normalize, cache_dir=False, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = fl.extract_features(mixed_folder, **options)
        two = fl.extract_features(mixed_folder, n_jobs=2, **options)
    assert len(one.features) > 0
    np.testing.assert_array_equal(one.features, two.features)
    np.testing.assert_array_equal(one.image_index, two.image_index)
    assert one.paths == two.paths and one.skipped == two.skipped



_INTERRUPT = """
import os, signal, sys, time
import forensiclib as fl
paths = sys.argv[1:]
first = fl.extract_features(paths, n_jobs=2, cache_dir=False, progress=False)
signal.signal(signal.SIGINT, signal.SIG_IGN)  # this process stands for the kernel, interrupted and carrying on
os.killpg(os.getpgrp(), signal.SIGINT)  # as Jupyter interrupts a kernel (and does before shutting it down)
time.sleep(1)
again = fl.extract_features(paths, n_jobs=2, cache_dir=False, progress=False)
assert (first.features == again.features).all()
print("ok")
"""


def test_pool_workers_outlive_an_interrupt_of_their_process_group_and_exit_quietly(photo_jpegs):
    """The kept pool's workers ignore SIGINT: a kernel's manager interrupts the kernel's whole process group before
    it shuts the kernel down, and each idle worker used to die in KeyboardInterrupt and print its traceback."""
    paths = [str(photo_jpegs[name, 75, "4:2:0"]) for name in ("chelsea", "coffee")]
    out = subprocess.run([sys.executable, "-c", _INTERRUPT, *paths], capture_output=True, text=True, timeout=120,
                         start_new_session=True)  # fmt: skip
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
    assert "Traceback" not in out.stderr and "KeyboardInterrupt" not in out.stderr, out.stderr



_KEEP_A_POOL = """
import sys, time
import forensiclib as fl
from forensiclib.provenance import _workers
fl.extract_features(sys.argv[1:], n_jobs=2, cache_dir=False, progress=False)
print(*_workers._pool[1]._processes, flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads processes' states from /proc")
def test_pool_workers_exit_when_their_parent_is_killed(photo_jpegs):
    """A kernel stopped with its papermill leaves by `os._exit`, past the pool's shutdown at exit; its idle workers
    used to wait for work for ever."""
    paths = [str(photo_jpegs[name, 75, "4:2:0"]) for name in ("chelsea", "coffee")]
    parent = subprocess.Popen([sys.executable, "-c", _KEEP_A_POOL, *paths], stdout=subprocess.PIPE, text=True)
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    parent.kill()
    parent.wait()
    assert len(workers) == 2
    deadline = time.monotonic() + 30
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in workers if _running(pid)]
    for pid in alive:  # not to leave them behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not alive


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_cache_is_used_keyed_by_content_and_settings(tmp_path, photo_jpegs, monkeypatch):
    paths = [photo_jpegs["chelsea", 75, "4:2:0"], photo_jpegs["coffee", 50, "4:4:4"]]
    cache = tmp_path / "cache"
    first = fl.extract_features(paths, cache_dir=cache, progress=False)
    entries = sorted(cache.rglob("*.npz"))
    assert len(entries) == 2

    def fail(*args):
        raise AssertionError("recomputed despite a cache entry")

    monkeypatch.setattr("forensiclib.provenance.features._image_features", fail)
    second = fl.extract_features(paths, cache_dir=cache, progress=False)
    np.testing.assert_array_equal(first.features, second.features)
    monkeypatch.undo()

    entries[0].write_bytes(b"damaged")  # a damaged entry is a miss, recomputed and rewritten
    third = fl.extract_features(paths, cache_dir=cache, progress=False)
    np.testing.assert_array_equal(first.features, third.features)
    fl.extract_features(paths, cache_dir=cache, progress=False, patch_size=32)
    assert len(list(cache.rglob("*.npz"))) == 4
    assert not list(cache.rglob(".tmp-*"))


def test_batch_argument_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Expected a folder or a list of image files. Received: .*nowhere"):
        fl.extract_features(tmp_path / "nowhere", progress=False)
    with pytest.raises(ValueError, match=r"Expected n_jobs a positive integer or -1 \(all cores\). Received: 0"):
        fl.extract_features([], n_jobs=0, progress=False)


def test_empty_batch_gives_empty_arrays():
    result = fl.extract_features([], progress=False, cache_dir=False)
    assert result.features.shape == (0, 909) and result.positions.shape == (0, 2) and len(result) == 0
