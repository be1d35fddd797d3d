"""Paper 2's experiments as library calls (forensiclib.unified.*): patches, caching, transfer, multitask, trees."""

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

import forensiclib as fl
from forensiclib import training
from forensiclib.data import builders
from forensiclib.unified import transfer
from forensiclib.unified.common import Evaluation
from forensiclib.unified.experiment import Paper2Setup, single_task_seeds
from forensiclib.unified.mislnet import SHARE_DEPTHS, block_layers

from .helpers import snapshot

SIZE = 32
SETTINGS = fl.UnifiedSettings(patch_size=SIZE, epochs=1, batch_size=8, transfer_batch_size=8, learning_rate=0.01)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("unified")
    manipulations = builders.build_manipulations(4, block_size=32, blocks_per_image=4, cache_dir=folder, progress=False)
    cameras = builders.build_cameras("C", 2, size=(64, 64), cache_dir=folder, progress=False)
    a = fl.split_by_group(manipulations, (0.5, 0.0, 0.5), random_state=0)
    c = fl.split_by_device(cameras, random_state=0)
    patches = dict(patch_size=SIZE, patches_per_image=2, random_state=0)
    return dict(
        folder=folder, manipulations=manipulations, cameras=cameras,
        a_train=fl.patches_from_dataset(a["train"], patch_size=SIZE),
        a_test=fl.patches_from_dataset(a["test"], patch_size=SIZE),
        c_train=fl.patches_from_dataset(c["train"], **patches),
        c_test=fl.patches_from_dataset(c["test"], **patches),
    )  # fmt: skip


@pytest.fixture(scope="module")
def source(data):
    """A single-task camera network (task C), the source of the transfer tests."""
    folder = data["folder"] / "r"
    return fl.train_single_task(data["c_train"], data["c_test"], SETTINGS, cache_dir=folder, verbose=0)


def forbid_training(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("trained again despite a cached result")

    monkeypatch.setattr("forensiclib.training.train", fail)


# --- patches -----------------------------------------------------------------------------------


def test_manipulation_blocks_give_one_patch_each_or_a_grid(data):
    dataset = data["manipulations"]
    patches = fl.patches_from_dataset(dataset, patch_size=SIZE)
    assert patches.x.shape == (len(dataset), SIZE, SIZE, 1) and patches.x.dtype == np.float32
    assert patches.y.dtype == patches.image.dtype == np.int64 and patches.devices is None
    np.testing.assert_array_equal(patches.image, np.arange(len(dataset)))
    np.testing.assert_array_equal(patches.y, dataset.labels)
    assert patches.classes == dataset.classes
    for i in (0, 7, len(dataset) - 1):
        np.testing.assert_array_equal(patches.x[i, :, :, 0], np.asarray(Image.open(dataset.files[i])))
    quarters = fl.patches_from_dataset(dataset, patch_size=16)
    assert len(quarters) == 4 * len(dataset)
    block = np.asarray(Image.open(dataset.files[0]), dtype=np.float32)
    corners = [block[:16, :16], block[:16, 16:], block[16:, :16], block[16:, 16:]]
    np.testing.assert_array_equal(quarters.x[:4, :, :, 0], corners)


def test_camera_patches_are_the_green_channel_on_a_grid_chosen_at_random(data):
    dataset = data["cameras"]
    every = fl.patches_from_dataset(dataset, patch_size=SIZE)
    assert len(every) == 4 * len(dataset)
    np.testing.assert_array_equal(every.devices, dataset.devices[every.image])
    differs_from_luminance = False
    for i in (0, 5, len(dataset) - 1):
        rgb = np.asarray(Image.open(dataset.files[i]).convert("RGB"))
        green = rgb[:, :, 1].astype(np.float32)
        expected = [green[:32, :32], green[:32, 32:], green[32:, :32], green[32:, 32:]]
        np.testing.assert_array_equal(every.x[every.image == i, :, :, 0], expected)
        luminance = np.asarray(Image.open(dataset.files[i]).convert("L"), dtype=np.float32)
        differs_from_luminance |= not np.array_equal(green, luminance)
    assert differs_from_luminance
    chosen = fl.patches_from_dataset(dataset, patch_size=SIZE, patches_per_image=2, random_state=1)
    assert np.bincount(chosen.image).tolist() == [2] * len(dataset)
    for patch, i in zip(chosen.x, chosen.image):
        assert any(np.array_equal(patch, p) for p in every.x[every.image == i])
    again = fl.patches_from_dataset(dataset, patch_size=SIZE, patches_per_image=2, random_state=1)
    other = fl.patches_from_dataset(dataset, patch_size=SIZE, patches_per_image=2, random_state=2)
    np.testing.assert_array_equal(again.x, chosen.x)
    assert not np.array_equal(other.x, chosen.x)


def test_grid_is_centred_on_the_jpeg_block_grid_and_bad_files_are_refused(tmp_path):
    rgb = fl.load_photo("chelsea")[:100, :150]
    path = fl.encode_jpeg(rgb, tmp_path / "photo.jpg", quality=95)
    dataset = fl.ImageDataset("one", ("a",), (path,), np.zeros(1, np.int64), np.zeros(1, np.int64))
    patches = fl.patches_from_dataset(dataset, patch_size=32)
    green = np.asarray(Image.open(path).convert("RGB"))[:, :, 1]
    top, left = 0, 8  # centring offsets (2, 11) moved up/left onto the 8x8 grid
    assert len(patches) == 3 * 4
    np.testing.assert_array_equal(patches.x[5, :, :, 0], green[top + 32 : top + 64, left + 32 : left + 64])
    with pytest.raises(fl.ImageReadError, match=r"photo.jpg: image of 150x100 pixels is smaller than one 128x128 "):
        fl.patches_from_dataset(dataset, patch_size=128)
    (tmp_path / "notes.jpg").write_text("not an image")
    broken = dataclasses.replace(dataset, files=(tmp_path / "notes.jpg",))
    with pytest.raises(fl.ImageReadError, match=r"notes.jpg: expected an image Pillow can decode"):
        fl.patches_from_dataset(broken, patch_size=32)


# --- single task and its cache -----------------------------------------------------------------


@pytest.mark.slow
def test_single_task_result_and_cache_reuse(data, source, monkeypatch):
    k = len(data["c_train"].classes)
    assert not source.from_cache and source.model_path.is_file()
    assert source.evaluation.probabilities.shape == (len(data["c_test"]), k)
    assert source.evaluation.confusion().shape == (k, k) and 0 <= source.accuracy <= 1
    np.testing.assert_array_equal(source.evaluation.labels, data["c_test"].y)
    forbid_training(monkeypatch)
    again = fl.train_single_task(data["c_train"], data["c_test"], SETTINGS, cache_dir=data["folder"] / "r")
    assert again.from_cache and again.history == source.history
    np.testing.assert_array_equal(again.evaluation.probabilities, source.evaluation.probabilities)
    np.testing.assert_allclose(again.model.predict(data["c_test"].x, verbose=0), source.evaluation.probabilities,
                               atol=1e-5)  # fmt: skip
    changed = dataclasses.replace(SETTINGS, epochs=2)  # another key: would train
    with pytest.raises(AssertionError, match="trained again"):
        fl.train_single_task(data["c_train"], data["c_test"], changed, cache_dir=data["folder"] / "r")


@pytest.mark.slow
def test_a_result_without_its_model_file_is_a_miss(data, source, tmp_path, monkeypatch):
    import shutil

    entry = source.model_path.parent
    shutil.copytree(entry, tmp_path / entry.name)
    forbid_training(monkeypatch)
    assert fl.train_single_task(data["c_train"], data["c_test"], SETTINGS, cache_dir=tmp_path).from_cache
    (tmp_path / entry.name / "model.keras").unlink()
    with pytest.raises(AssertionError, match="trained again"):
        fl.train_single_task(data["c_train"], data["c_test"], SETTINGS, cache_dir=tmp_path)


# --- transfer ----------------------------------------------------------------------------------


def weights_of(model, depths):
    return [snapshot(w) for d in depths for layer in block_layers(model, d) for w in layer.weights]


@pytest.mark.slow
def test_frozen_features_plus_head_is_the_transfer_model(data, source):
    """The fast path's head on the frozen features computes, and learns, as the full transfer model."""
    share_depth = "conv2"  # frozen batch normalisation below, a conv block with its own above
    before = weights_of(source.model, SHARE_DEPTHS)
    head = transfer.train_transfer_head(source, share_depth, data["a_train"], SETTINGS, verbose=0).model
    assembled = transfer.assemble_transfer_model(source, share_depth, head)
    frozen = SHARE_DEPTHS[: SHARE_DEPTHS.index(share_depth) + 1]
    for a, b in zip(weights_of(assembled, frozen), weights_of(source.model, frozen)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(weights_of(source.model, SHARE_DEPTHS), before):
        np.testing.assert_array_equal(a, b)  # the source is untouched
    extractor = fl.feature_extractor(source.model, share_depth)
    x = data["a_test"].x
    fast = head.predict(extractor.predict(x, verbose=0), verbose=0)
    np.testing.assert_allclose(fast, assembled.predict(x, verbose=0), atol=1e-5)
    assert not np.allclose(fast, fast[:1])  # the predictions depend on the patch
    # Same weights, same batch, one SGD step on each: the same new weights (frozen BN in inference mode in both).
    above = [*SHARE_DEPTHS[len(frozen) :], "output"]
    x, y = data["a_train"].x[:8], data["a_train"].y[:8]
    start = weights_of(head, above)
    fl.compile_mislnet(head, learning_rate=0.05).train_on_batch(extractor.predict(x, verbose=0), y)
    fl.compile_mislnet(assembled, learning_rate=0.05).train_on_batch(x, y)
    moved = False
    for a, b, s in zip(weights_of(head, above), weights_of(assembled, above), start):
        np.testing.assert_allclose(a, b, atol=1e-5)
        moved |= not np.allclose(a, s)
    assert moved


@pytest.mark.slow
def test_the_head_trained_on_features_is_the_full_transfer_model_trained(data, source):
    """Both paths draw the same initial weights and batches, so training gives the same weights, not only accuracy."""
    depth, k = "conv4", len(data["a_train"].classes)
    head = transfer.train_transfer_head(source, depth, data["a_train"], SETTINGS, verbose=0).model
    rate = SETTINGS.transfer_learning_rate
    fit, validation = fl.validation_split(data["a_train"], SETTINGS.validation_fraction, random_state=SETTINGS.seed)
    full = fl.train(lambda: fl.compile_mislnet(fl.transfer_model(source.model, depth, k), learning_rate=rate),
                    fit.x, fit.y, validation_data=(validation.x, validation.y), epochs=SETTINGS.epochs,
                    batch_size=SETTINGS.transfer_batch_size,
                    callbacks=[fl.halving_schedule(rate), fl.early_stopping(SETTINGS.patience)],
                    seed=SETTINGS.seed, verbose=0).model  # fmt: skip
    above = ["fc1", "fc2", "output"]
    for a, b in zip(weights_of(head, above), weights_of(full, above)):
        np.testing.assert_allclose(a, b, atol=1e-5)
    x = data["a_test"].x
    features = fl.feature_extractor(source.model, depth).predict(x, verbose=0)
    np.testing.assert_allclose(head.predict(features, verbose=0), full.predict(x, verbose=0), atol=1e-5)


@pytest.mark.slow
def test_transfer_heads_are_seeded_and_learn_from_the_predicted_features(data, source):
    features = fl.feature_extractor(source.model, "fc2").predict(data["a_train"].x, verbose=0)
    first = transfer.train_transfer_head(source, "fc2", data["a_train"], SETTINGS, verbose=0)
    second = transfer.train_transfer_head(source, "fc2", data["a_train"], SETTINGS, features=features, verbose=0)
    assert first.history == second.history
    for a, b in zip(first.model.weights, second.model.weights):
        np.testing.assert_array_equal(snapshot(a), snapshot(b))


@pytest.mark.slow
def test_one_forward_pass_gives_the_features_of_every_depth_bit_for_bit(data, source):
    depths = ["fc2", "conv2", "conv4", "output"]
    x = data["a_test"].x
    together = fl.feature_extractor(source.model, depths).predict(x, verbose=0)
    assert len(together) == len(depths)
    for depth, features in zip(depths, together):
        np.testing.assert_array_equal(features, fl.feature_extractor(source.model, depth).predict(x, verbose=0))
    with pytest.raises(ValueError, match="Expected at least one depth"):
        fl.feature_extractor(source.model, [])


@pytest.mark.slow
def test_run_transfer_gives_one_accuracy_per_depth_and_is_cached(data, source, monkeypatch):
    folder = data["folder"] / "r"
    depths = ("constr", "conv2", "conv4", "fc2")
    on_features, passes = [], []
    original_head, original_features = transfer.train_transfer_head, transfer._frozen_features

    def recording(model, share_depth, *args, **kwargs):
        on_features.append(share_depth)
        return original_head(model, share_depth, *args, **kwargs)

    def counting(model, depths, *args):
        passes.append(list(depths))
        return original_features(model, depths, *args)

    monkeypatch.setattr("forensiclib.unified.transfer.train_transfer_head", recording)
    monkeypatch.setattr("forensiclib.unified.transfer._frozen_features", counting)
    accuracies = fl.run_transfer(source, data["a_train"], data["a_test"], SETTINGS, share_depths=depths,
                                      cache_dir=folder, verbose=0)  # fmt: skip
    assert list(accuracies) == list(depths) and all(0 <= a <= 1 for a in accuracies.values())
    assert on_features == ["conv2", "conv4", "fc2"]  # constr's features outgrow the patch: full transfer model
    assert passes == [["conv2", "conv4", "fc2"]] * 2  # one pass over the training set, one over the test set
    one_by_one = {d: fl.run_transfer(source, data["a_train"], data["a_test"], SETTINGS, share_depths=[d],
                                          cache_dir=data["folder"] / "one-by-one", verbose=0)[d]
                  for d in ("conv4", "fc2")}  # fmt: skip
    assert one_by_one == {d: accuracies[d] for d in one_by_one}
    passes.clear()
    fl.run_transfer(source, data["a_train"], data["a_test"], SETTINGS, share_depths=("conv4", "conv3", "fc2"),
                         cache_dir=data["folder"] / "one-by-one", verbose=0)  # fmt: skip
    assert passes == [["conv3"]] * 2  # only the depth not cached yet
    forbid_training(monkeypatch)
    again = fl.run_transfer(source.model, data["a_train"], data["a_test"], SETTINGS, share_depths=depths,
                                 cache_dir=folder)  # fmt: skip
    assert again == accuracies
    with pytest.raises(AssertionError, match="trained again"):  # the other path is another cache entry
        fl.run_transfer(source, data["a_train"], data["a_test"], SETTINGS, share_depths=["fc2"],
                             precompute_features=False, cache_dir=folder)  # fmt: skip


# --- multitask and trees -----------------------------------------------------------------------


@pytest.mark.slow
def test_multitask_accuracies_per_depth_and_task_and_the_cached_hybrid(data, monkeypatch):
    folder = data["folder"] / "r"
    train_sets = {"manipulation": data["a_train"], "camera": data["c_train"]}
    test_sets = {"manipulation": data["a_test"], "camera": data["c_test"]}
    accuracies = fl.run_multitask(train_sets, test_sets, SETTINGS, share_depths=("conv1", "fc2"),
                                       cache_dir=folder, verbose=0)  # fmt: skip
    assert list(accuracies) == ["conv1", "fc2"]
    for per_task in accuracies.values():
        assert list(per_task) == ["manipulation", "camera"] and all(0 <= v <= 1 for v in per_task.values())
    forbid_training(monkeypatch)
    hybrid = fl.train_multitask(train_sets, "fc2", SETTINGS, cache_dir=folder)
    assert hybrid.from_cache and hybrid.tasks == {t: p.classes for t, p in train_sets.items()}
    for task, patches in test_sets.items():  # the cached accuracy is the loaded leg's
        leg = fl.feature_extractor(hybrid.model, "output", task=task).predict(patches.x, verbose=0)
        assert fl.accuracy(patches.y, leg) == accuracies["fc2"][task]
    x = data["c_test"].x
    np.testing.assert_allclose(fl.deep_features(hybrid.model, x, task="manipulation"),
                               fl.deep_features(hybrid.model, x, task="camera"), atol=1e-6)  # fmt: skip


@pytest.mark.slow
def test_extra_trees_on_deep_features(data, source, monkeypatch):
    train, test = data["c_train"], data["c_test"]
    evaluation = fl.deep_feature_trees(source, train, test, n_estimators=10, n_jobs=1,
                                            cache_dir=data["folder"] / "r")  # fmt: skip
    assert 0 <= evaluation.accuracy <= 1 and evaluation.probabilities.shape == (len(test), len(train.classes))
    trees = fl.extra_trees(10, random_state=0, n_jobs=1).fit(fl.deep_features(source.model, train.x), train.y)
    np.testing.assert_array_equal(evaluation.predictions, trees.predict(fl.deep_features(source.model, test.x)))
    monkeypatch.setattr("forensiclib.evaluate.extra_trees", lambda *a, **k: 1 / 0)
    again = fl.deep_feature_trees(source.model, train, test, n_estimators=10, cache_dir=data["folder"] / "r")
    assert again.accuracy == evaluation.accuracy


# --- arguments ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_arguments_are_validated(data, source):
    with pytest.raises(ValueError, match="Expected epochs a positive integer. Received: 0"):
        fl.UnifiedSettings(epochs=0)
    with pytest.raises(ValueError, match="Expected transfer_learning_rate a positive number. Received: -1"):
        fl.UnifiedSettings(transfer_learning_rate=-1)
    with pytest.raises(ValueError, match="Expected patch_size an integer of at least 16. Received: 8"):
        fl.patches_from_dataset(data["cameras"], patch_size=8)
    with pytest.raises(ValueError, match="Expected patches_per_image a positive integer. Received: 0"):
        fl.patches_from_dataset(data["cameras"], patches_per_image=0)
    a_train, a_test, c_test = data["a_train"], data["a_test"], data["c_test"]
    with pytest.raises(ValueError, match=r"Expected train_set of 64x64 patches \(settings.patch_size\). Received: 32"):
        fl.train_single_task(a_train, a_test, dataclasses.replace(SETTINGS, patch_size=64))
    with pytest.raises(ValueError, match=r"Expected the same classes in training and test patches. Received: \['una"):
        fl.train_single_task(a_train, c_test, SETTINGS)
    with pytest.raises(ValueError, match=r"Expected distinct share depths among \['constr', .*\]. Received: \['conv5"):
        fl.run_transfer(source, a_train, a_test, SETTINGS, share_depths=["conv5"])
    with pytest.raises(ValueError, match="Expected precompute_features True, False or None. Received: 'yes'"):
        fl.run_transfer(source, a_train, a_test, SETTINGS, precompute_features="yes")
    with pytest.raises(ValueError, match="Expected a keras.Model, SingleTaskResult or MultitaskNetwork. Received: str"):
        fl.run_transfer("camera.keras", a_train, a_test, SETTINGS)
    with pytest.raises(ValueError, match="Expected train_sets a mapping of at least two task names"):
        fl.run_multitask({"a": a_train}, {"a": a_test}, SETTINGS)
    with pytest.raises(ValueError, match=r"Expected test_sets for the tasks \['a', 'c'\], in order. Received: \['a'\]"):
        fl.run_multitask({"a": a_train, "c": data["c_train"]}, {"a": a_test}, SETTINGS)
    with pytest.raises(ValueError, match="Expected n_estimators a positive integer. Received: 0"):
        fl.deep_feature_trees(source, data["c_train"], c_test, n_estimators=0)
    hybrid = fl.multitask_model({"a": 6, "c": 5}, "conv4", input_size=SIZE)  # fc2 is per task: say which leg
    with pytest.raises(ValueError, match=r"Expected task among \['a', 'c'\]: 'fc2' is not shared. Received: None"):
        fl.deep_feature_trees(hybrid, data["c_train"], c_test)


# --- validation split, intervals, verdicts (issue: train to a plateau, uncertainty on every number) ----------------


def test_validation_split_holds_out_whole_source_images_class_by_class(data):
    train = data["a_train"]  # six versions of each block share their camera image's group
    fit, validation = fl.validation_split(train, 0.5, random_state=0)
    assert len(fit) + len(validation) == len(train) and len(validation) > 0
    assert not set(fit.units.tolist()) & set(validation.units.tolist())
    cameras = data["c_train"]  # one image per unit, one class per model: each class keeps some and gives some
    fit, validation = fl.validation_split(cameras, 0.5, random_state=0)
    assert set(validation.y.tolist()) == set(fit.y.tolist()) == set(cameras.y.tolist())
    again = fl.validation_split(cameras, 0.5, random_state=0)[1]
    np.testing.assert_array_equal(again.image, validation.image)
    with pytest.raises(ValueError, match="between 0 and 1"):
        fl.validation_split(cameras, 1.0)
    with pytest.raises(ValueError, match="validation_fraction"):
        fl.UnifiedSettings(validation_fraction=0)


def test_training_records_plateau_or_cap_and_evaluations_carry_image_level_intervals(data, source):
    assert source.status is not None and source.status.max_epochs == SETTINGS.epochs
    assert "val_loss" in source.history
    estimate = source.evaluation.estimate()
    assert estimate.n == len(np.unique(data["c_test"].units)) and estimate.n_units == len(data["c_test"])
    assert estimate.low <= estimate.value <= estimate.high
    difference = source.evaluation.difference(source.evaluation)
    assert difference.value == 0 and difference.unit == "points"
    assert fl.capped_mark(source) == ("" if source.status.plateaued else " (capped)")


def test_seed_claim_is_inconclusive_when_seeds_disagree_and_every_claim_needs_all():
    from forensiclib import stats
    from forensiclib.unified.common import Evaluation

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(2), 100)
    units = np.arange(200)
    good = Evaluation(("a", "b"), labels, np.eye(2, dtype=np.float32)[labels], units=units)
    noisy = np.eye(2, dtype=np.float32)[np.where(rng.random(200) < 0.3, 1 - labels, labels)]
    worse = Evaluation(("a", "b"), labels, noisy, units=units)
    held, _ = fl.seed_claim({0: (good, worse), 1: (good, worse)}, ">")
    assert held.verdict == "held" and held.estimate.n_seeds == 2
    mixed, per_seed = fl.seed_claim({0: (good, worse), 1: (worse, good)}, ">")
    # two seeds that disagree this much leave even the compared accuracies' pooled intervals reaching chance
    assert per_seed[1].verdict == "not held" and mixed.verdict == "not meaningful at this size"
    assert "reaches chance" in mixed.reason
    one, alone = fl.seed_claim({0: (good, worse)}, ">")
    assert alone[0].verdict == "held" and one.verdict == "inconclusive" and "one training run" in one.reason
    from forensiclib.training import training_status

    guessing = training_status({"val_loss": [0.7] * 4, "val_accuracy": [0.5] * 4}, 15, patience=3, n_classes=2,
                               n_validation=20)  # fmt: skip
    failed = Evaluation(("a", "b"), labels, noisy, units=units, status=guessing)
    flagged, _ = fl.seed_claim({0: (good, failed), 1: (good, worse)}, ">", names=("transfer", "single task"))
    assert flagged.verdict == "not meaningful at this size"
    assert flagged.reason.startswith("single task at seed 0: the network did not learn")
    both = {"fc1": stats.Verdict("held", ""), "fc2": stats.Verdict("inconclusive", "")}
    assert fl.every_claim(both).verdict == "inconclusive"
    assert fl.every_claim({**both, "conv2": stats.Verdict("not held", "")}).verdict == "not held"


def test_paired_dataset_takes_a_batch_size_per_task():
    x = {"a": np.zeros((80, 8, 8, 1), np.float32), "c": np.zeros((10, 8, 8, 1), np.float32)}
    y = {"a": np.zeros(80, np.int64), "c": np.zeros(10, np.int64)}
    dataset, steps = fl.paired_dataset(x, y, batch_size={"a": 40, "c": 5}, random_state=0)
    assert steps == 2
    inputs, _ = next(iter(dataset))
    assert inputs["patch_a"].shape[0] == 40 and inputs["patch_c"].shape[0] == 5
    with pytest.raises(ValueError, match="batch size for each task"):
        fl.paired_dataset(x, y, batch_size={"a": 40})


def test_a_run_whose_best_epoch_is_patience_before_the_cap_plateaued():
    settings = fl.UnifiedSettings(epochs=6, patience=3)
    assert settings.status({"val_loss": [3.0, 2.0, 1.0, 1.5, 1.6, 1.7]}).plateaued
    assert not settings.status({"val_loss": [3.0, 2.0, 1.8, 1.5, 1.6, 1.4]}).plateaued
    assert settings.status({"val_loss": [3.0, 2.0, 2.5, 2.6, 2.7]}).plateaued  # stopped before the cap


def test_head_settings_apply_to_heads_on_frozen_features_only(data, source, monkeypatch):
    settings = dataclasses.replace(SETTINGS, epochs=1, head_epochs=3, head_batch_size=4, patience=5)
    heads = settings.for_heads()
    assert (heads.epochs, heads.transfer_batch_size, heads.head_epochs, heads.head_batch_size) == (3, 4, None, None)
    assert SETTINGS.for_heads() == SETTINGS  # nothing set: the transfer settings themselves
    trained = []
    original = fl.training.train

    def recording(build, x, y, **kwargs):
        trained.append((len(x), kwargs["epochs"], kwargs["batch_size"]))
        return original(build, x, y, **kwargs)

    monkeypatch.setattr("forensiclib.training.train", recording)
    sweep = transfer.transfer_sweep(source, data["a_train"], data["a_test"], settings, share_depths=["constr", "fc2"],
                                    cache_dir=data["folder"] / "heads", verbose=0)  # fmt: skip
    assert [(epochs, batch) for _, epochs, batch in trained] == [(1, 8), (3, 4)]  # constr: the whole network
    assert sweep["fc2"].status.max_epochs == 3 and sweep["fc2"].status.epochs_run <= 3
    assert sweep["constr"].status.max_epochs == 1
    with pytest.raises(ValueError, match="head_epochs"):
        fl.UnifiedSettings(head_epochs=0)


def test_single_task_seeds_trains_one_network_per_seed_on_the_same_test_patches(data, monkeypatch, tmp_path):
    monkeypatch.setenv("FORENSICLIB_CACHE", str(tmp_path))
    setup = Paper2Setup(SETTINGS, {"camera": (data["c_train"], data["c_test"])}, {}, "test data", {})
    runs = single_task_seeds(setup, [3, 4], tasks=("camera",))
    assert list(runs) == [3, 4] and all(list(r) == ["camera"] for r in runs.values())
    first, second = runs[3]["camera"].evaluation, runs[4]["camera"].evaluation
    np.testing.assert_array_equal(first.labels, second.labels)  # one test set: the seeds can be pooled
    assert not np.allclose(first.probabilities, second.probabilities)  # two networks, not one
    pooled = fl.stats.pooled_accuracy([first.labels, second.labels], [first.predictions, second.predictions],
                                      units=first.units, unit_name="images")  # fmt: skip
    assert pooled.n_seeds == 2
    forbid_training(monkeypatch)  # the same seeds again come from the cache
    again = single_task_seeds(setup, [4], tasks=("camera",))
    np.testing.assert_allclose(again[4]["camera"].evaluation.probabilities, second.probabilities)
    for seeds, message in (([], "one or more distinct"), ([1, 1], "distinct"), ([-1], "non-negative")):
        with pytest.raises(ValueError, match=message):
            single_task_seeds(setup, seeds, tasks=("camera",))
    with pytest.raises(ValueError, match=r"Expected tasks among the setup's \['camera'\]. Received: \['manipulation'\]"):
        single_task_seeds(setup, [0])


def _network(rng, accuracy: float, *, n_units: int = 40, per_unit: int = 4, classes: int = 5, learned: bool = True):
    """A stand-in single-task network: `accuracy` of its test patches right, whole units at a time."""
    labels = np.repeat(np.arange(n_units) % classes, per_unit)
    units = np.repeat(np.arange(n_units), per_unit)
    right = np.repeat(rng.permutation(n_units) < round(accuracy * n_units), per_unit)
    predictions = np.where(right, labels, (labels + 1) % classes)
    status = training.TrainingStatus(5, 15, 2, True, 60.0 if learned else 20.0, 30.0)
    evaluation = Evaluation(tuple("abcde"[:classes]), labels, np.eye(classes, dtype="float32")[predictions], units,
                            status)
    return SimpleNamespace(evaluation=evaluation, status=status)


def test_a_claim_rests_on_single_task_networks_only_when_their_interval_reaches_the_target():
    from forensiclib.stats import Verdict
    from forensiclib.unified.experiment import TARGETS, resting_on, short_of_target, single_task_accuracy

    rng = np.random.default_rng(0)
    strong = {s: {"manipulation": _network(rng, 0.975), "camera": _network(rng, 0.95)} for s in range(3)}
    assert single_task_accuracy(strong, "manipulation").n_seeds == 3
    assert short_of_target(strong) == {}
    # the same networks, one of them near its target: a mean above it does not show that it reaches it
    close = {s: {**n, "camera": _network(rng, [0.55, 0.45, 0.6][s])} for s, n in strong.items()}
    short = short_of_target(close)
    assert list(short) == ["camera"] and "not shown to reach the 50% target" in short["camera"]
    assert "over 3 seeds" in short["camera"]
    camera = single_task_accuracy(close, "camera")  # what the mean would need to be at the same width
    assert f"would need a mean of {50 + camera.value - camera.low:.1f}%" in short["camera"]
    far = {0: {**strong[0], "manipulation": _network(rng, 0.3)}}
    assert "below the 90% target" in short_of_target(far)["manipulation"]
    failed = {0: {**strong[0], "camera": _network(rng, 0.95, learned=False)}}
    assert "did not learn at seed 0" in short_of_target(failed)["camera"]
    assert short_of_target(close, {"manipulation": TARGETS["manipulation"]}) == {}  # only the targets given
    verdict = Verdict("held", "+5.0 [1.0, 9.0]")
    assert resting_on(verdict, {}) is verdict
    gated = resting_on(verdict, short)
    assert gated.verdict == "not meaningful at this size"
    assert short["camera"] in gated.reason and "its own evidence: held (+5.0 [1.0, 9.0])" in gated.reason
    with pytest.raises(ValueError, match=r"Expected targets in \(0, 100\] percent. Received: \{'camera': 150\}"):
        short_of_target(strong, {"camera": 150})
    with pytest.raises(ValueError, match="Expected a 'camera' network at every seed"):
        single_task_accuracy({0: {"manipulation": strong[0]["manipulation"]}}, "camera")
