import numpy as np
import pytest

from forensiclib.data.datasets import (
    ImageDataset,
    load_manifest,
    split_by_device,
    split_by_group,
    write_manifest,
)


def make(tmp_path, n=12):
    files = []
    for i in range(n):
        path = tmp_path / f"c{i % 3}" / f"{i}.jpg"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"\xff\xd8\xff")
        files.append(path)
    return ImageDataset("toy", ("a", "b", "c"), tuple(files), np.arange(n) % 3, np.arange(n) // 3,
                        devices=np.arange(n) % 6, simulated=True)  # fmt: skip


def test_subset_select_and_counts(tmp_path):
    data = make(tmp_path)
    assert data.class_counts() == {"a": 4, "b": 4, "c": 4}
    picked = data.select_classes(["c", "a"])
    assert picked.classes == ("c", "a") and len(picked) == 8
    assert all(picked.classes[label] == path.parent.name.replace("c0", "a").replace("c2", "c")
               for label, path in zip(picked.labels, picked.files))  # fmt: skip
    with pytest.raises(ValueError, match=r"Expected classes among \['a', 'b', 'c'\]. Received unknown \['z'\]"):
        data.select_classes(["z"])


def test_structure_is_validated(tmp_path):
    with pytest.raises(ValueError, match=r"Expected labels of shape \(2,\), one per file"):
        ImageDataset("x", ("a",), (tmp_path / "1", tmp_path / "2"), np.zeros(3, int), np.zeros(2, int))
    with pytest.raises(ValueError, match=r"Expected labels in 0..0. Received 0..1"):
        ImageDataset("x", ("a",), (tmp_path / "1", tmp_path / "2"), np.array([0, 1]), np.zeros(2, int))


def test_group_split_fractions_and_errors(tmp_path):
    data = make(tmp_path, 30)  # 10 groups of 3 files
    parts = split_by_group(data, random_state=3)
    assert [len(np.unique(p.groups)) for p in parts.values()] == [8, 1, 1]
    small = split_by_group(make(tmp_path, 9), random_state=0)  # 3 groups: one in each split
    assert [len(np.unique(p.groups)) for p in small.values()] == [1, 1, 1]
    with pytest.raises(ValueError, match=r"Expected at least 3 source groups in 'toy' to split by \[0.8, 0.1, 0.1\]. Received 2"):
        split_by_group(make(tmp_path, 6))
    with pytest.raises(ValueError, match=r"Expected three non-negative fractions summing to 1. Received: \[0.5, 0.5, 0.5\]"):
        split_by_group(data, (0.5, 0.5, 0.5))


def test_device_split_errors(tmp_path):
    data = make(tmp_path)
    with pytest.raises(ValueError, match="Expected a camera dataset with device ids"):
        split_by_device(ImageDataset("x", data.classes, data.files, data.labels, data.groups))
    single = ImageDataset("x", data.classes, data.files, data.labels, data.groups, devices=data.labels.copy())
    with pytest.raises(ValueError, match="Expected at least two devices of class 'a' to hold one out. Received 1"):
        split_by_device(single)


def test_manifest_round_trip_and_missing_files(tmp_path):
    data = make(tmp_path)
    write_manifest(data, tmp_path, parameters={"n": 12})
    loaded = load_manifest(tmp_path)
    assert loaded.files == data.files and np.array_equal(loaded.devices, data.devices) and loaded.simulated
    data.files[0].unlink()
    with pytest.raises(FileNotFoundError, match="1 listed files are missing"):
        load_manifest(tmp_path)
    with pytest.raises(FileNotFoundError, match="Expected a dataset folder with manifest.json"):
        load_manifest(tmp_path / "c0")
