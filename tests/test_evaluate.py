import numpy as np
import pytest

import forensiclib as fl


def test_confusion_matrix_by_hand():
    y_true = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2]
    y_pred = [0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 1]
    expected = [[75, 25, 0], [0, 100, 0], [20, 20, 60]]
    np.testing.assert_allclose(fl.confusion_matrix_percent(y_true, y_pred), expected)
    np.testing.assert_allclose(fl.true_positive_rates(y_true, y_pred), [0.75, 1.0, 0.6])
    assert fl.accuracy(y_true, y_pred) == pytest.approx(8 / 11)


def test_confusion_matrix_with_scores_and_an_empty_class():
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0]])
    matrix = fl.confusion_matrix_percent([0, 0], scores, n_classes=3)
    np.testing.assert_allclose(matrix[0], [50, 50, 0])
    assert np.isnan(matrix[1]).all() and np.isnan(matrix[2]).all()


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match="Expected as many predictions as labels. Received 1 and 2"):
        fl.confusion_matrix_percent([0, 1], [0])
    with pytest.raises(ValueError, match=r"Expected y_true as non-negative integer labels \(n,\) or scores \(n, K\)"):
        fl.confusion_matrix_percent([0.5, 1.0], [0, 1])


def test_majority_vote_by_hand():
    images, labels = fl.majority_vote([2, 2, 1, 0, 0, 0, 1, 1], [5, 5, 5, 3, 3, 9, 9, 9])
    assert images.tolist() == [3, 5, 9] and labels.tolist() == [0, 2, 1]


def test_majority_vote_tie_breaks():
    # one image, two patches, one vote each: labels alone -> smaller class; probabilities -> larger summed score
    assert fl.majority_vote([1, 0], [0, 0])[1].tolist() == [0]
    scores = np.array([[0.55, 0.45], [0.10, 0.90]])
    assert fl.majority_vote(scores, [0, 0])[1].tolist() == [1]
    # a strict majority is never overturned by probabilities
    scores = np.array([[0.51, 0.49], [0.51, 0.49], [0.0, 1.0]])
    assert fl.majority_vote(scores, [0, 0, 0])[1].tolist() == [0]


def test_majority_vote_errors():
    with pytest.raises(ValueError, match=r"Expected one image id per patch. Received \(2,\) for \(3,\) patches"):
        fl.majority_vote([0, 1, 1], [0, 0])


def test_tree_classifiers_have_the_papers_settings_and_learn():
    ert = fl.extra_trees(random_state=0)
    assert (ert.n_estimators, ert.min_samples_split) == (800, 3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5))
    y = (x[:, 0] > 0).astype(int)
    for model in (fl.extra_trees(50, random_state=0), fl.bagged_trees(20, random_state=0)):
        model.fit(x[:150], y[:150])
        assert fl.accuracy(y[150:], model.predict(x[150:])) > 0.85


def test_confusion_table_markdown():
    table = fl.confusion_table(np.array([[90.0, 10.0], [5.0, 95.0]]), ["a", "b"], published=[[96.15, 3.85], [1, 99]])
    assert table.splitlines()[2] == "| a | 90.00 (96.15) | 10.00 (3.85) |"
    with pytest.raises(ValueError, match="Expected a 3x3 matrix"):
        fl.confusion_table(np.zeros((2, 2)), ["a", "b", "c"])
