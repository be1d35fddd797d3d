import numpy as np
import pytest

import forensiclib as fl
from forensiclib.data import builders
from forensiclib.provenance import experiment as provenance


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prov")
    dataset = builders.build_controlled_social(4, qualities=(50, 90), cache_dir=folder, progress=False)
    settings = fl.ProvenanceSettings(epochs=1, max_patches_per_image=4, baseline_trees=5)
    result = fl.run_provenance(dataset, settings, cache_dir=folder, progress=False, verbose=0)
    return dataset, settings, folder, result


@pytest.mark.slow
def test_result_shapes_and_no_source_in_two_splits(experiment):
    dataset, settings, folder, result = experiment
    k = 3
    assert result.classes == ("facebook", "flickr", "twitter")
    assert result.patch_probabilities.shape == (len(result.patch_labels), k)
    assert len(result.image_ids) == len(result.image_labels) == len(result.image_votes) == len(result.baseline_predictions)
    assert result.n_train_patches <= 4 * result.n_train_images
    test = provenance.provenance_splits(dataset, settings)["test"]
    np.testing.assert_array_equal(result.image_groups, test.groups[result.image_ids])
    assert len(set(result.image_groups.tolist())) == 1  # 4 sources: 2 train, 1 validation, 1 test
    for matrix in (result.patch_confusion(), result.image_confusion(), result.baseline_confusion()):
        assert matrix.shape == (k, k)
    np.testing.assert_array_equal(result.image_labels, dataset.labels[result.image_ids])
    assert result.model_path.is_file()


@pytest.mark.slow
def test_second_run_comes_from_the_cache(experiment, monkeypatch):
    dataset, settings, folder, result = experiment

    def fail(*args, **kwargs):
        raise AssertionError("trained again despite a cached result")

    monkeypatch.setattr("forensiclib.training.train", fail)
    again = fl.run_provenance(dataset, settings, cache_dir=folder, progress=False)
    np.testing.assert_array_equal(again.patch_probabilities, result.patch_probabilities)
    assert again.history == result.history and again.accuracies() == result.accuracies()


@pytest.mark.slow
def test_patch_cap_and_labels(experiment):
    dataset = experiment[0]
    data = provenance.patch_data(dataset, max_patches_per_image=3, random_state=0, progress=False)
    assert np.bincount(data.image).max() == 3 and len(np.unique(data.image)) == len(dataset)
    np.testing.assert_array_equal(data.labels, dataset.labels[data.image])


def test_settings_and_dataset_names_are_validated():
    with pytest.raises(ValueError, match="Expected epochs a positive integer. Received: 0"):
        fl.ProvenanceSettings(epochs=0)
    with pytest.raises(ValueError, match="Expected max_patches_per_image a positive integer or None. Received: 0"):
        fl.ProvenanceSettings(max_patches_per_image=0)
    with pytest.raises(ValueError, match=r"Expected a paper 1 dataset among \['ucid_social', 'public_social', 'iplab'\]"):
        fl.paper1_dataset("ucid", size=1)


def _result(*, image_right, patches_per_image=8, k=3, epochs_run=5, max_epochs=30, seed=0, baseline_right=None,
            confuse=None):
    """A `ProvenanceResult` built by hand: `image_right[i]` is the share of image i's patches the CNN gets right."""
    rng = np.random.default_rng(seed)
    n = len(image_right)
    labels = np.arange(n) % k
    patch_image = np.repeat(np.arange(n), patches_per_image)
    patch_labels = labels[patch_image]
    probabilities = np.full((len(patch_image), k), 0.1, np.float32)
    for j, (i, y) in enumerate(zip(patch_image, patch_labels)):
        wrong = confuse.get(int(y), (y + 1) % k) if confuse else (y + 1) % k
        probabilities[j, y if rng.random() < image_right[i] else wrong] = 0.8
    votes = np.array([np.bincount(probabilities[patch_image == i].argmax(1), minlength=k).argmax() for i in range(n)])
    baseline = labels if baseline_right is None else np.where(np.asarray(baseline_right), labels, (labels + 1) % k)
    history = {"loss": [1.0] * epochs_run, "val_loss": list(np.linspace(1, 0.5, epochs_run))}
    return provenance.ProvenanceResult(
        classes=tuple(f"c{c}" for c in range(k)), patch_labels=patch_labels, patch_probabilities=probabilities,
        patch_image=patch_image, image_ids=np.arange(n), image_labels=labels, image_votes=votes,
        baseline_predictions=baseline, history=history, n_train_patches=10, n_train_images=5,
        model_path=None, max_epochs=max_epochs)


def test_intervals_resample_the_source_photos_with_all_their_versions():
    """Images made from one photo (its versions on each platform) share its difficulty: resampled together."""
    import dataclasses

    right = np.repeat([1.0, 0.0, 1.0, 1.0, 0.0, 1.0], 10)  # 6 photos x 10 versions, each photo all right or wrong
    result = dataclasses.replace(_result(image_right=right), image_groups=np.repeat(np.arange(6), 10))
    numbers = fl.evaluate_provenance(result)
    by_image = fl.evaluate_provenance(_result(image_right=right))
    for name in ("patch_accuracy", "image_mean", "baseline_mean", "gain", "cnn_vs_baseline"):
        assert getattr(numbers, name).n_label == "sources" and getattr(numbers, name).n == 6, name
    assert (numbers.image_mean.n_units, numbers.patch_accuracy.n_units) == (60, 480)
    assert numbers.image_accuracy.value == by_image.image_accuracy.value
    width = numbers.image_accuracy.high - numbers.image_accuracy.low
    assert width > 1.5 * (by_image.image_accuracy.high - by_image.image_accuracy.low)
    assert fl.evaluate_provenance(dataclasses.replace(result, image_groups=np.arange(60))).image_mean.n_label == "images"


def test_patch_level_intervals_resample_whole_images():
    """Patches of one image are all right or all wrong: the cluster interval must be wider than one over patches."""
    result = _result(image_right=np.tile([1.0, 0.0, 1.0, 1.0], 15), patches_per_image=16)
    numbers = fl.evaluate_provenance(result)
    naive = fl.accuracy_estimate(result.patch_labels, result.patch_probabilities)
    assert numbers.patch_accuracy.n == 60 and numbers.patch_accuracy.n_units == 960
    assert (numbers.patch_accuracy.high - numbers.patch_accuracy.low) > 2 * (naive.high - naive.low)
    assert numbers.image_mean.n == 60 and numbers.image_mean.n_units is None
    assert numbers.gain.unit == "points" and numbers.cnn_vs_baseline.unit == "points"
    assert numbers.chance == pytest.approx(100 / 3)


def test_training_status_flags_a_capped_network():
    assert fl.evaluate_provenance(_result(image_right=[1.0] * 6, epochs_run=7)).training_note().startswith("plateau")
    capped = fl.evaluate_provenance(_result(image_right=[1.0] * 6, epochs_run=30))
    assert capped.capped and capped.training_note() == "CAPPED at 30 epochs"


def test_verdict_over_seeds_pools_the_seeds_evidence_and_flags_caps():
    good = fl.evaluate_provenance(_result(image_right=[0.9] * 60, baseline_right=[False, True] * 30))
    tie = fl.evaluate_provenance(_result(image_right=[0.9] * 60, epochs_run=30))

    def decide(e):
        return fl.verdict(e.cnn_vs_baseline, ">", compared={"CNN": e.image_mean, "trees": e.baseline_mean},
                          chance=e.chance)

    held, _ = fl.verdict_over_seeds({0: good, 1: good}, decide)
    assert held.verdict == "held" and held.estimate.n_seeds == 2 and "mean over 2 seeds" in held.estimate.method
    mixed, detail = fl.verdict_over_seeds({0: good, 1: tie}, decide)
    assert mixed.verdict == "inconclusive" and "FLAGGED" in detail and "seed 1" in detail
    one, _ = fl.verdict_over_seeds({0: good}, decide)
    assert decide(good).verdict == "held"  # alone, one run's test sampling would call it held
    assert one.verdict == "inconclusive" and "one training run" in one.reason and one.estimate.n_seeds == 1


def test_confusion_lead_names_the_most_frequent_mistake():
    result = _result(image_right=[0.5] * 40, k=4, confuse={1: 3})
    lead, runner_up = fl.confusion_lead(result, "c1", "c3")
    assert lead.value > 30 and lead.low > 0 and runner_up in ("c0", "c2")
    with pytest.raises(ValueError, match=r"Expected a class among \['c0', 'c1', 'c2', 'c3'\]. Received: 'x'"):
        fl.confusion_lead(result, "x", "c3")


def test_provenance_setup_wants_sizes_or_datasets_and_distinct_seeds():
    settings = fl.ProvenanceSettings()
    with pytest.raises(ValueError, match="Expected either sizes"):
        fl.provenance_setup(None, settings=settings)
    with pytest.raises(ValueError, match=r"Expected one or more distinct non-negative integer seeds. Received: \[1, 1\]"):
        fl.provenance_setup(None, settings=settings, sizes={"ucid_social": 2}, seeds=[1, 1])


@pytest.mark.parametrize("name", ["01_dct_features", "02_simulated_data", "03_patch_level_3_classes",
                                  "04_image_level_3_classes", "05_eight_classes", "06_sharing_chains"])
def test_paper1_notebooks_use_every_parameter_they_declare_and_end_with_exercises(name):
    import re

    import nbformat

    from forensiclib.runner import reproduce as runner

    path = next(p for p in runner.list_notebooks() if p.stem == name)
    notebook = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", []))
    for parameter, declared in runner.notebook_parameters(path).items():
        assert declared.help, f"{name}: {parameter} has no comment"
        assert parameter in ("profile", "seed") or re.search(rf"\b{parameter}\b", code), f"{name} never uses {parameter}"
    assert notebook.cells[-1].cell_type == "markdown" and "## Exercises" in notebook.cells[-1].source
    assert "Markdown(\"\\n\".join" not in code and '"|---' not in code, f"{name} assembles a markdown table from strings"
