import hashlib

import numpy as np
import pytest

from forensiclib.data import builders
from forensiclib.data.datasets import split_by_device, split_by_group


def digests(dataset):
    return [(f.relative_to(f.parents[1]).as_posix(), hashlib.sha256(f.read_bytes()).hexdigest()) for f in dataset.files]


@pytest.fixture(scope="module")
def controlled(tmp_path_factory):
    return builders.build_controlled_social(3, qualities=(50, 90), cache_dir=tmp_path_factory.mktemp("c"), progress=False)


def test_controlled_social_layout(controlled):
    assert controlled.classes == ("facebook", "flickr", "twitter") and controlled.simulated
    assert len(controlled) == 3 * 2 * 3
    for path, label in zip(controlled.files, controlled.labels):
        assert path.parent.name == controlled.classes[label] and path.is_file()
    assert sorted(np.unique(controlled.groups)) == [0, 1, 2]
    assert "simulated, like UCID social" in controlled.description


def test_controlled_social_with_some_qualities_per_source(tmp_path):
    """More independent sources for the same number of images: each source at one random quality of three, that
    quality on every platform (the set stays controlled)."""
    data = builders.build_controlled_social(6, qualities=(50, 70, 90), qualities_per_source=1, cache_dir=tmp_path,
                                            progress=False)  # fmt: skip
    assert len(data) == 6 * 1 * 3 and sorted(np.unique(data.groups)) == list(range(6))
    per_source = {g: {f.stem for f, gg in zip(data.files, data.groups) if gg == g} for g in range(6)}
    assert all(len(names) == 1 for names in per_source.values())  # one quality, the same file name on every platform
    assert len({names.pop().split("_q")[1] for names in per_source.values()}) > 1  # drawn per source, not fixed
    assert "1 of QF 50..90 per source" in data.description
    for bad in (0, 4, 1.5):
        with pytest.raises(ValueError, match=r"Expected qualities_per_source None or an integer in 1..3"):
            builders.build_controlled_social(2, qualities=(50, 70, 90), qualities_per_source=bad, cache_dir=tmp_path)


@pytest.mark.slow
def test_same_seed_same_bytes_with_one_or_two_processes(tmp_path, controlled):
    again = builders.build_controlled_social(3, qualities=(50, 90), cache_dir=tmp_path, progress=False, n_jobs=2)
    assert again.files[0].parent.parent != controlled.files[0].parent.parent  # really built again
    assert digests(again) == digests(controlled)
    other = builders.build_controlled_social(3, qualities=(50, 90), cache_dir=tmp_path, progress=False, random_state=1)
    assert digests(other) != digests(controlled)


def test_cached_dataset_is_reused(tmp_path, monkeypatch):
    first = builders.build_cameras("C", 1, cache_dir=tmp_path, progress=False)

    def fail(job):
        raise AssertionError("rebuilt despite a cached dataset")

    monkeypatch.setattr(builders, "_camera_item", fail)
    second = builders.build_cameras("C", 1, cache_dir=tmp_path, progress=False)
    assert second.files == first.files



def test_a_dataset_built_by_other_simulators_is_not_reused(tmp_path, monkeypatch):
    first = builders.build_cameras("C", 1, cache_dir=tmp_path, progress=False)
    assert builders._simulator_digest() == builders._simulator_digest()  # read once per process, stable
    monkeypatch.setattr(builders, "_simulator_digest", lambda: "another simulator")
    second = builders.build_cameras("C", 1, cache_dir=tmp_path, progress=False)
    assert second.files[0].parent != first.files[0].parent and len(list(tmp_path.iterdir())) == 2

def test_interrupted_build_leaves_nothing_to_trust(tmp_path, monkeypatch):
    calls = []

    def dies_on_second(job):
        calls.append(job)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(job)

    original = builders._camera_item
    monkeypatch.setattr(builders, "_camera_item", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        builders.build_cameras("C", 1, cache_dir=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_splits_share_no_source_or_device(tmp_path, controlled):
    parts = split_by_group(controlled, (0.34, 0.33, 0.33), random_state=0)
    seen = [set(part.groups.tolist()) for part in parts.values()]
    assert sum(len(s) for s in seen) == 3 and not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    cameras = builders.build_cameras("C", 2, n_devices=3, cache_dir=tmp_path, progress=False)
    assert cameras.devices is not None and len(np.unique(cameras.devices)) == 15
    split = split_by_device(cameras, random_state=0)
    assert not set(split["train"].devices.tolist()) & set(split["test"].devices.tolist())
    assert sorted(np.unique(split["test"].labels).tolist()) == list(range(5))  # every model tested on a new device
    assert len(split["test"]) == 5 * 2


def test_iplab_like_and_manipulations(tmp_path):
    iplab = builders.build_iplab_like(2, high_size=(128, 192), low_size=(96, 128), cache_dir=tmp_path, progress=False)
    assert iplab.classes == builders.IPLAB_CLASSES and len(iplab) == 16
    assert all(np.sum(iplab.groups == g) == 8 for g in (0, 1))
    original = iplab.files[list(iplab.labels).index(builders.IPLAB_CLASSES.index("original"))]
    assert original.read_bytes()[:3] == b"\xff\xd8\xff"
    manipulations = builders.build_manipulations(2, block_size=32, blocks_per_image=4, cache_dir=tmp_path, progress=False)
    assert len(manipulations) == 2 * 4 * 6 and np.bincount(manipulations.labels).tolist() == [8] * 6
    assert all(g in (0, 1) for g in manipulations.groups)


def test_uncontrolled_sizes_vary(tmp_path):
    from PIL import Image

    data = builders.build_uncontrolled_social(3, long_side=(200, 600), cache_dir=tmp_path, progress=False)
    sizes = {Image.open(f).size for f in data.files}
    assert len(data) == 9 and len(sizes) > 3 and len(np.unique(data.groups)) == 9


def test_builder_arguments_are_validated(tmp_path):
    with pytest.raises(ValueError, match="Expected n_sources a positive integer. Received: 0"):
        builders.build_controlled_social(0, cache_dir=tmp_path)
    with pytest.raises(ValueError, match=r"Expected size a \(height, width\) pair of integers >= 64. Received: \(10, 10\)"):
        builders.build_cameras("B", 1, size=(10, 10), cache_dir=tmp_path)
    with pytest.raises(ValueError, match=r"Expected n_devices an integer of at least 2 \(one is held out\). Received: 1"):
        builders.build_cameras("B", 1, n_devices=1, cache_dir=tmp_path)
    with pytest.raises(ValueError, match=r"Expected blocks_per_image a perfect square \(1, 4, 9, ...\). Received: 2"):
        builders.build_manipulations(1, blocks_per_image=2, cache_dir=tmp_path)
    with pytest.raises(ValueError, match=r"Expected a dataset among \[.*\]. Received: 'ucid'"):
        builders.build_dataset("ucid")


def test_sharing_chains_and_relabelling(tmp_path):
    chains = builders.build_sharing_chains(2, platforms=("facebook", "twitter", "whatsapp"), size=(128, 160),
                                           cache_dir=tmp_path, progress=False)  # fmt: skip
    assert len(chains) == 2 * 6 and "facebook_then_whatsapp" in chains.classes
    by_last = chains.relabel({c: c.split("_then_")[1] for c in chains.classes})
    assert by_last.classes == ("facebook", "twitter", "whatsapp")
    for path, label in zip(by_last.files, by_last.labels):
        assert path.parent.name.endswith("_then_" + by_last.classes[label])
    from forensiclib import read_dct

    whatsapp_last = by_last.files[list(by_last.labels).index(2)]
    assert read_dct(whatsapp_last).width <= 1600  # the last platform's processing shows
    with pytest.raises(ValueError, match=r"Expected a new class for every class. Received none for"):
        chains.relabel({"facebook_then_twitter": "x"})
