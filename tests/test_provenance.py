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
    test_groups = set(dataset.groups[result.image_ids].tolist())
    assert len(test_groups) == 1  # 4 sources: 2 train, 1 validation, 1 test
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
