"""Arrays on disk (forensiclib.patchfile) and the experiments streaming them (paper 2 at the paper's sizes)."""

import numpy as np
import pytest

import forensiclib as fl
from forensiclib import training
from forensiclib.data import builders
from forensiclib.data.patchfile import ArrayFile, write_row_sets, write_rows
from forensiclib.unified import patches, transfer

SIZE = 32
SETTINGS = fl.UnifiedSettings(patch_size=SIZE, epochs=2, batch_size=8, transfer_batch_size=8, learning_rate=0.01)


def small_file(tmp_path, n=50, dtype=np.uint8):
    rows = np.random.default_rng(0).integers(0, 256, (n, 4, 4, 1)).astype(dtype)
    chunks = (rows[i : i + 7] for i in range(0, n, 7))
    return rows, write_rows(tmp_path / "x.npy", chunks, n_rows=n, row_shape=(4, 4, 1), dtype=dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_an_array_file_reads_like_the_array_as_float32(tmp_path, dtype):
    rows, x = small_file(tmp_path, dtype=dtype)
    expected = rows.astype(np.float32)
    np.testing.assert_array_equal(np.load(x.path), rows)  # an ordinary .npy file
    assert x.shape == (50, 4, 4, 1) and len(x) == 50 and x.ndim == 4 and x.dtype == np.float32
    for key in (3, -1, slice(10, 20), slice(None, None, 7), [49, 0, 3, 3], np.arange(50) % 3 == 0):
        np.testing.assert_array_equal(x[key], expected[key])
    view = x.take([5, 6, 7, 1])
    np.testing.assert_array_equal(view[1:3], expected[[6, 7]])
    np.testing.assert_array_equal(np.asarray(view), expected[[5, 6, 7, 1]])
    np.testing.assert_array_equal(np.concatenate(list(x.chunks(16))), expected)
    with pytest.raises(IndexError, match="Expected row numbers in 0..49"):
        x[[50]]


def test_bad_files_and_short_writes_are_refused(tmp_path):
    rows, x = small_file(tmp_path)
    (tmp_path / "text.npy").write_text("not numpy")
    with pytest.raises(ValueError, match="Expected a .npy file"):
        ArrayFile(tmp_path / "text.npy")
    np.save(tmp_path / "int.npy", np.zeros((3, 2), np.int64))
    with pytest.raises(ValueError, match="Expected a C-order .npy array of uint8 or float32.*int64"):
        ArrayFile(tmp_path / "int.npy")
    (tmp_path / "short.npy").write_bytes(x.path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="Expected 50 rows"):
        ArrayFile(tmp_path / "short.npy")
    with pytest.raises(ValueError, match="Expected 60 rows .* Received: 50"):
        write_rows(tmp_path / "y.npy", [rows], n_rows=60, row_shape=(4, 4, 1), dtype=np.uint8)
    assert not (tmp_path / "y.npy").exists() and not list(tmp_path.glob(".tmp-*"))


def test_row_sets_are_written_in_one_pass_and_all_or_nothing(tmp_path):
    rng = np.random.default_rng(1)
    a, b = rng.random((20, 3)).astype(np.float32), rng.random((20, 2, 2)).astype(np.float32)
    chunks = ((a[i : i + 6], b[i : i + 6]) for i in range(0, 20, 6))
    x, z = write_row_sets([tmp_path / "a.npy", tmp_path / "b.npy"], chunks, n_rows=20, row_shapes=[(3,), (2, 2)],
                          dtype=np.float32)  # fmt: skip
    np.testing.assert_array_equal(x[:], a)
    np.testing.assert_array_equal(np.load(z.path), b)
    for bad, message in [([(a, b[:5])], "Expected chunks of 2 arrays of as many rows"),
                         ([(a, b[:, 0])], r"Expected chunks of rows shaped \(2, 2\)"),
                         ([(a, b), (a, b)], "Expected 20 rows")]:  # fmt: skip
        with pytest.raises(ValueError, match=message):
            write_row_sets([tmp_path / "c.npy", tmp_path / "d.npy"], iter(bad), n_rows=20,
                           row_shapes=[(3,), (2, 2)], dtype=np.float32)  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "b.npy"]  # no file, no temporary left
    with pytest.raises(ValueError, match="Expected one row shape per path"):
        write_row_sets([tmp_path / "c.npy"], [], n_rows=0, row_shapes=[], dtype=np.float32)


def test_file_dataset_gives_every_row_once_per_epoch_from_the_seed(tmp_path):
    rows, x = small_file(tmp_path)
    y = np.arange(50)
    dataset = training.fit_dataset(x, y, batch_size=8, shuffle=True, seed=3)
    assert int(dataset.cardinality()) == 7 and dataset.options().autotune.enabled is False
    epochs = [[(xb.numpy(), yb.numpy()) for xb, yb in dataset] for _ in range(2)]
    for epoch in epochs:
        labels = np.concatenate([yb for _, yb in epoch])
        assert sorted(labels) == list(range(50)) and [len(yb) for _, yb in epoch] == [8] * 6 + [2]
        np.testing.assert_array_equal(np.concatenate([xb for xb, _ in epoch]), rows[labels].astype(np.float32))
    assert not np.array_equal(np.concatenate([yb for _, yb in epochs[0]]), np.concatenate([yb for _, yb in epochs[1]]))
    again = training.fit_dataset(x, y, batch_size=8, shuffle=True, seed=3)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in again]), np.concatenate([yb for _, yb in epochs[0]]))
    endless = training.file_dataset(x, y, batch_size=8, shuffle=True, seed=3, endless=True)
    labels = np.concatenate([yb.numpy() for _, yb in endless.take(13)])  # 104 rows: two passes and a bit
    assert len(labels) == 104 and sorted(labels[:50]) == sorted(labels[50:100]) == list(range(50))


def test_an_endless_stream_goes_on_when_a_pass_ends_on_a_batch_border():
    """48 rows in batches of 8: a pass ends exactly after 6 batches, and the stream must refill, not stop there."""
    x, y = np.arange(48, dtype=np.float32).reshape(48, 1), np.arange(48)
    endless = training.file_dataset(x, y, batch_size=8, shuffle=True, seed=0, endless=True)
    labels = np.concatenate([yb.numpy() for _, yb in endless.take(15)])
    assert len(labels) == 120 and sorted(labels[:48]) == sorted(labels[48:96]) == list(range(48))


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """Camera patches of task C, in memory and on disk."""
    folder = tmp_path_factory.mktemp("patchfile")
    cameras = builders.build_cameras("C", 2, size=(64, 64), cache_dir=folder, progress=False)
    split = fl.split_by_device(cameras, random_state=0)
    options = dict(patch_size=SIZE, patches_per_image=3, random_state=0)
    memory = {name: fl.patches_from_dataset(split[name], **options) for name in ("train", "test")}
    disk = {name: fl.patches_from_dataset(split[name], on_disk=folder / f"{name}.npy", **options)
            for name in ("train", "test")}  # fmt: skip
    return dict(folder=folder, cameras=cameras, memory=memory, disk=disk)


def test_patches_on_disk_are_the_patches_in_memory(sets):
    for name in ("train", "test"):
        memory, disk = sets["memory"][name], sets["disk"][name]
        assert isinstance(disk.x, ArrayFile) and disk.x.stored_dtype == np.uint8
        np.testing.assert_array_equal(np.asarray(disk.x), memory.x)
        for field in ("y", "image", "devices"):
            np.testing.assert_array_equal(getattr(disk, field), getattr(memory, field))
        assert disk.digest() == memory.digest()


@pytest.mark.slow
def test_experiments_stream_patches_from_disk(sets, monkeypatch):
    train, test = sets["disk"]["train"], sets["disk"]["test"]
    folder = sets["folder"] / "results"
    reads = []
    original = ArrayFile.read
    monkeypatch.setattr(ArrayFile, "read", lambda self, rows: reads.append(len(rows)) or original(self, rows))
    single = fl.train_single_task(train, test, SETTINGS, cache_dir=folder, verbose=0)
    assert max(reads) <= 256 and sum(reads) >= 2 * len(train) + len(test)  # batches, two epochs, then the test set
    again = fl.train_single_task(train, test, SETTINGS, cache_dir=sets["folder"] / "again", verbose=0)
    np.testing.assert_array_equal(again.evaluation.probabilities, single.evaluation.probabilities)  # seeded
    assert 0.0 <= single.accuracy <= 1.0
    written = []
    monkeypatch.setattr(transfer, "write_row_sets", lambda paths, *a, **k: written.append(len(paths)) or
                        write_row_sets(paths, *a, **k))  # fmt: skip
    swept = fl.run_transfer(single, train, test, SETTINGS, share_depths=["conv1", "conv3", "fc2"],
                                  cache_dir=folder, verbose=0)  # fmt: skip
    assert set(swept) == {"conv1", "conv3", "fc2"} and not list(folder.rglob("features-*.npy"))
    assert written == [2, 2]  # conv3 and fc2 in one pass over each set; conv1 trains the full network
    hybrid = fl.train_multitask({"one": train, "two": train}, "conv2", SETTINGS, cache_dir=folder, verbose=0)
    assert set(fl.evaluate_multitask(hybrid, {"one": test})) == {"one"}
    features = fl.deep_features(single.model, train.x)
    assert features.shape == (len(train), 200)


def test_paper2_patches_on_disk_are_named_by_their_inputs_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("FORENSICLIB_CACHE", str(tmp_path / "cache"))
    options = dict(size=2, image_side=64, patches_per_image=2, patch_size=SIZE, progress=False)
    train, test = fl.paper2_patches("camera_limited", on_disk=tmp_path / "patches", **options)
    assert isinstance(train.x, ArrayFile) and train.x.path.parent == tmp_path / "patches"
    files = sorted(p.name for p in (tmp_path / "patches").iterdir())
    assert len(files) == 4 and files[0].startswith("camera_limited-test-")
    monkeypatch.setattr(patches, "patches_from_dataset", lambda *a, **k: pytest.fail("patches cut again"))
    train2, test2 = fl.paper2_patches("camera_limited", on_disk=tmp_path / "patches", **options)
    assert train2.digest() == train.digest() and test2.digest() == test.digest()
    np.testing.assert_array_equal(train2.devices, train.devices)
