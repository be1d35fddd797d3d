"""Learning curves of paper 2's single-task networks: the training subsets, the CPU budget, the committed data file
and its figure (`forensiclib.unified.learning_curves`, `benchmarks/learning_curves.py`)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from forensiclib import paths, plots
from forensiclib.unified.learning_curves import (
    LEARNING_CURVES_VERSION,
    cpu_budget,
    learning_curve_rows,
    load_learning_curves,
    train_within_budget,
    training_subset,
)
from forensiclib.unified.patches import PatchSet

COMMITTED = paths.project_root() / "docs" / "learning_curves.json"


def manipulation_like(n_sources=10, blocks=4, size=16, seed=0):
    """Every source in six classes, `blocks` patches per source and class, each a file of its own (as paper2_patches)."""
    rng = np.random.default_rng(seed)
    y, image, groups = [], [], []
    for source in range(n_sources):
        for label in range(6):
            y += [label] * blocks
            image += [(source * 6 + label) * blocks + block for block in range(blocks)]  # a file per block
            groups += [source] * blocks
    x = rng.integers(0, 256, (len(y), size, size, 1)).astype(np.float32)
    return PatchSet(x=x, y=np.array(y), image=np.array(image), classes=tuple("abcdef"), groups=np.array(groups))


def test_a_subset_keeps_the_same_sources_in_every_class_and_the_asked_patches():
    train = manipulation_like()
    part = training_subset(train, images_per_class=3, patches_per_image=2, seed=5)
    assert len(part) == 3 * 6 * 2
    sources = {label: set(part.units[part.y == label].tolist()) for label in range(6)}
    assert all(s == sources[0] for s in sources.values()) and len(sources[0]) == 3
    images = part.units * 6 + part.y  # a source image in one class (its blocks are files of their own)
    assert all(np.sum(images == i) == 2 for i in np.unique(images))


def test_subsets_are_nested_at_one_seed_and_differ_between_seeds():
    train = manipulation_like(n_sources=20)
    digest = lambda p: {(int(i), bytes(x)) for i, x in zip(p.image, p.x)}  # noqa: E731
    small = training_subset(train, images_per_class=4, patches_per_image=1, seed=0)
    large = training_subset(train, images_per_class=12, patches_per_image=3, seed=0)
    assert digest(small) <= digest(large)
    other = training_subset(train, images_per_class=4, patches_per_image=1, seed=1)
    assert digest(other) != digest(small)
    again = training_subset(train, images_per_class=4, patches_per_image=1, seed=0)
    assert digest(again) == digest(small)


def test_a_subset_larger_than_the_data_keeps_all_of_it():
    train = manipulation_like(n_sources=3, blocks=2)
    assert len(training_subset(train, images_per_class=50, patches_per_image=None, seed=0)) == len(train)


@pytest.mark.parametrize("arguments, message", [
    (dict(images_per_class=0, patches_per_image=1), "images_per_class a positive integer"),
    (dict(images_per_class=2, patches_per_image=0), "patches_per_image a positive integer"),
])
def test_a_subset_refuses_bad_sizes(arguments, message):
    with pytest.raises(ValueError, match=message):
        training_subset(manipulation_like(), seed=0, **arguments)
    with pytest.raises(ValueError, match="Expected train a PatchSet"):
        training_subset(np.zeros(3), images_per_class=1, patches_per_image=1, seed=0)


@pytest.mark.parametrize("seconds", [0, -1, True, "10", float("nan")])
def test_the_budget_must_be_a_positive_number(seconds):
    with pytest.raises(ValueError, match="cpu_seconds a positive number"):
        cpu_budget(seconds)


def test_training_stops_when_the_cpu_budget_is_used_and_keeps_the_best_round():
    train, test = manipulation_like(n_sources=10, blocks=2), manipulation_like(n_sources=3, blocks=1, seed=1)
    run = train_within_budget(train, test, patch_size=16, cpu_seconds=1.0, seed=0, steps_per_check=2,
                              patience=1000, max_rounds=1000)  # fmt: skip
    assert run.stopped == "budget" and 1.0 <= run.cpu_seconds < 60
    assert len(run.history["cpu_seconds"]) == len(run.history["val_loss"]) >= 1
    assert run.steps <= 2 * len(run.history["val_loss"])
    assert run.best_round == int(np.argmin(run.history["val_loss"])) + 1
    assert run.evaluation.labels.shape == (len(test),) and run.evaluation.probabilities.shape == (len(test), 6)
    capped = train_within_budget(train, test, patch_size=16, cpu_seconds=1e6, seed=0, steps_per_check=2,
                                 patience=1000, max_rounds=2)  # fmt: skip
    assert capped.stopped == "cap" and capped.steps == 4  # an endless stream: 2 full rounds of 2 steps


def test_a_falling_rate_halves_every_so_many_rounds():
    train, test = manipulation_like(n_sources=6, blocks=2), manipulation_like(n_sources=2, blocks=1, seed=1)
    run = train_within_budget(train, test, patch_size=16, cpu_seconds=1e6, seed=0, steps_per_check=2,
                              patience=1000, max_rounds=5, learning_rate=0.01, halving_every=2)  # fmt: skip
    assert np.allclose(run.history["learning_rate"], [0.01, 0.01, 0.005, 0.005, 0.0025])
    steady = train_within_budget(train, test, patch_size=16, cpu_seconds=1e6, seed=0, steps_per_check=2,
                                 patience=1000, max_rounds=3, learning_rate=0.01)  # fmt: skip
    assert np.allclose(steady.history.get("learning_rate", [0.01] * 3), 0.01)
    with pytest.raises(ValueError, match="halving_every a positive integer"):
        train_within_budget(train, test, patch_size=16, cpu_seconds=1, halving_every=0)


def test_a_budget_run_refuses_patches_of_another_size():
    with pytest.raises(ValueError, match="16x16 patches"):
        train_within_budget(manipulation_like(size=16), manipulation_like(size=24), patch_size=16, cpu_seconds=1)


def test_the_committed_learning_curves_load_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    record = load_learning_curves(COMMITTED)
    assert record["simulated"] is True and record["timing"]["wall_seconds"] > 0
    tasks = {(p["task"], p["patch_size"]) for p in record["points"]}
    assert {("manipulation", 64), ("camera", 64)} <= tasks and any(size > 64 for _, size in tasks)
    for point in record["points"]:
        assert point["low"] <= point["accuracy"] <= point["high"]
        assert len(point["runs"]) == len(record["settings"]["seeds"])
    headers, rows = learning_curve_rows(record)
    assert len(rows) == len(record["points"]) and all(len(row) == len(headers) for row in rows)
    fig = plots.plot_learning_curves(record, figsize=(5, 3))
    assert len(fig.axes) == 1 and len(fig.axes[0].get_lines()) >= len(tasks)


def test_a_learning_curve_file_that_is_not_one_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_learning_curves(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="Expected a JSON learning-curve file"):
        load_learning_curves(bad)
    bad.write_text(json.dumps({"version": LEARNING_CURVES_VERSION + 1, "points": []}))
    with pytest.raises(ValueError, match="version"):
        load_learning_curves(bad)
    bad.write_text(json.dumps({"version": LEARNING_CURVES_VERSION, "points": [{"task": "camera"}]}))
    with pytest.raises(ValueError, match="lacks"):
        load_learning_curves(bad)
    with pytest.raises(ValueError, match="with points"):
        plots.plot_learning_curves({"points": []})


def _benchmark():
    import importlib.util

    path = paths.project_root() / "benchmarks" / "learning_curves.py"
    spec = importlib.util.spec_from_file_location("learning_curves_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_reads_its_grid_points_and_refuses_bad_ones():
    import argparse

    bench = _benchmark()
    assert bench.parse_point("camera:128:24x4") == {"task": "camera", "patch_size": 128, "images_per_class": 24,
                                                     "patches_per_image": 4}  # fmt: skip
    assert bench.parse_point("manipulation:64:96xall")["patches_per_image"] is None
    for bad in ("camera:64:6", "faces:64:6x8", "camera:8:6x8", "camera:64:1x8", "camera:64:6x0"):
        with pytest.raises(argparse.ArgumentTypeError, match="Expected"):
            bench.parse_point(bad)
