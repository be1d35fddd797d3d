import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import forensiclib as fl  # noqa: E402
from forensiclib import plots  # noqa: E402


def test_feature_figures(photo_jpegs):
    image = fl.read_dct(photo_jpegs["chelsea", 75, "4:2:0"])
    vector = fl.image_features(image).features[0]
    assert len(plots.plot_quantization_table(image.quantization_table).axes) == 2  # heat map + colour bar
    assert len(plots.plot_mode_histograms([vector, vector], labels=["a", "b"]).axes) == 9
    assert len(plots.plot_zigzag_modes(9).axes) == 10
    assert len(plots.plot_patch_grid(fl.load_photo("chelsea")).axes) == 2
    with pytest.raises(ValueError, match=r"Expected vectors of length 909. Received shape \(10,\)"):
        plots.plot_mode_histograms(np.zeros(10))


def test_confusion_matrix_figure_shows_every_cell():
    matrix = np.array([[90.0, 10.0], [5.0, 95.0]])
    fig = plots.plot_confusion_matrix(matrix, ["facebook", "flickr"], published=[[96.15, 3.85], [0.03, 99.79]])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["90.0\n(96.2)", "10.0\n(3.9)", "5.0\n(0.0)", "95.0\n(99.8)"]
    with pytest.raises(ValueError, match=r"Expected a 3x3 matrix"):
        plots.plot_confusion_matrix(matrix, ["a", "b", "c"])


def test_share_depth_figure_has_one_line_per_series():
    depths = 7
    fig = plots.plot_share_depth(
        transfer={"camera": np.linspace(0.9, 0.6, depths), "manipulation": np.linspace(0.99, 0.97, depths)},
        multitask={"camera": [0.95, np.nan, 0.9, np.nan, np.nan, np.nan, 0.8]},
        single_task={"camera": 0.975, "manipulation": 0.996},
        published={"camera": {"constr": 0.975, "fc2": 0.578}, "camera (multitask)": {"fc2": 0.968}},
    )
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == ["camera: transfer", "manipulation: transfer", "camera: multitask", "camera: single task",
                      "manipulation: single task", "camera: paper", "camera (multitask): paper"]  # fmt: skip
    np.testing.assert_allclose(fig.axes[0].lines[-2].get_ydata(), [97.5, 57.8])
    np.testing.assert_allclose(fig.axes[0].lines[-1].get_ydata(), [96.8])
    np.testing.assert_allclose(fig.axes[0].lines[2].get_xdata(), [0, 2, 6])  # multitask: only the depths run


def test_image_grid_and_quantization_tables():
    images = [np.zeros((8, 8), np.uint8), np.full((8, 8, 3), 200, np.uint8), np.zeros((8, 8), np.uint8)]
    fig = plots.plot_image_grid(images, ["a", "b", "c"], n_cols=2)
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c", ""]
    with pytest.raises(ValueError, match="Expected at least one image"):
        plots.plot_image_grid([])
    tables = {"q50": fl.ijg_quantization_table(50), "q90": fl.ijg_quantization_table(90)}
    fig = plots.plot_quantization_tables(tables)
    assert [ax.get_title() for ax in fig.axes] == ["q50\nQ~50", "q90\nQ~90"]


def test_tpr_bars_draw_the_intervals_of_estimates():
    ours = [fl.Estimate(90.0, 80.0, 95.0, n=20), fl.Estimate(70.0, 60.0, 85.0, n=20)]
    fig = plots.plot_tpr_comparison({"set": {"ours": ours, "paper": [0.95, 0.9]}}, ["a", "b"])
    ax = fig.axes[0]
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    assert heights == [70.0, 90.0, 90.0, 95.0]
    (bars,) = [c for c in ax.containers if getattr(c, "errorbar", None) is not None and c.errorbar is not None]
    segments = bars.errorbar.lines[2][0].get_segments()
    assert [(s[0][1], s[1][1]) for s in segments] == [(80.0, 95.0), (60.0, 85.0)]


def test_training_curves_draw_every_output_of_a_multitask_history_and_warn_of_nothing(recwarn):
    single = {"loss": [1.0, 0.8], "val_loss": [1.1, 0.9], "accuracy": [0.4, 0.6], "val_accuracy": [0.3, 0.5]}
    fig = plots.plot_training_history(single)
    assert [len(ax.lines) for ax in fig.axes] == [2, 2]
    tasks = ("camera", "camera_limited", "manipulation")
    multitask = {"loss": [6.0, 5.0], "val_loss": [6.4, 6.5], "learning_rate": [0.001, 0.001]}
    for task in tasks:
        for kind in ("accuracy", "loss"):
            multitask[f"output_{task}_{kind}"] = multitask[f"val_output_{task}_{kind}"] = [0.1, 0.2]
    fig = plots.plot_training_history(multitask)
    loss, accuracy = fig.axes
    assert len(loss.lines) == 2 * 4 and len(accuracy.lines) == 2 * 3
    assert {line.get_label() for line in accuracy.lines} == {f"{p}output_{t}_accuracy" for p in ("train_", "val_")
                                                             for t in tasks}  # fmt: skip
    fig = plots.plot_training_history({"loss": [1.0], "val_loss": [1.2]})  # no accuracy recorded: said, no warning
    assert [t.get_text() for t in fig.axes[1].texts] == ["no accuracy recorded"]
    assert not [w for w in recwarn if "legend" in str(w.message)]
    with pytest.raises(ValueError, match=r"Expected a Keras history with a loss or an accuracy per epoch. "
                                         r"Received keys: \['learning_rate'\]"):
        plots.plot_training_history({"learning_rate": [0.1]})
