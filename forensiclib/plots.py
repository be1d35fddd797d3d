"""Figures: the DCT-histogram features (paper 1, Sec. III-A), confusion matrices, the share-depth plot (paper 2, Fig. 3).

Every function draws into a new matplotlib figure and returns it, so a notebook
cell is one call, and `Session.save_figure` writes it to `results/`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .provenance.features import FeatureParams, zigzag_modes

__all__ = [
    "plot_quantization_table",
    "plot_patch_grid",
    "plot_zigzag_modes",
    "plot_mode_histograms",
    "plot_confusion_matrix",
    "plot_share_depth",
    "plot_image_grid",
    "plot_quantization_tables",
    "plot_training_history",
    "plot_tpr_comparison",
    "plot_learning_curves",
]


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def plot_quantization_table(table: np.ndarray, *, title: str = "Luminance quantization table"):
    """An 8x8 quantization table as an annotated heat map."""
    plt = _pyplot()
    table = np.asarray(table)
    fig, ax = plt.subplots(figsize=(4.2, 3.8))
    im = ax.imshow(table, cmap="viridis")
    for (row, col), value in np.ndenumerate(table):
        ax.text(col, row, str(value), ha="center", va="center", fontsize=8,
                color="white" if value < table.max() / 2 else "black")  # fmt: skip
    ax.set(title=title, xlabel="horizontal frequency v", ylabel="vertical frequency u",
           xticks=range(8), yticks=range(8))  # fmt: skip
    fig.colorbar(im, ax=ax, shrink=0.8, label="step size")
    return fig


def plot_patch_grid(image: np.ndarray, *, patch_size: int = 64, zoom_patch: tuple[int, int] = (0, 0)):
    """The image with its patch grid, and one patch enlarged with its 8x8 block grid.

    Args:
        image: `(height, width[, 3])` uint8 image.
        patch_size: patch side in pixels.
        zoom_patch: (row, col) index of the patch to enlarge.
    """
    plt = _pyplot()
    image = np.asarray(image)
    height, width = image.shape[:2]
    n_rows, n_cols = height // patch_size, width // patch_size
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.6), gridspec_kw={"width_ratios": [1.6, 1]})
    left.imshow(image, cmap="gray" if image.ndim == 2 else None)
    for k in range(n_rows + 1):
        left.axhline(k * patch_size - 0.5, color="yellow", lw=0.8)
    for k in range(n_cols + 1):
        left.axvline(k * patch_size - 0.5, color="yellow", lw=0.8)
    r, c = zoom_patch
    left.add_patch(plt.Rectangle((c * patch_size - 0.5, r * patch_size - 0.5), patch_size, patch_size,
                                 fill=False, color="red", lw=2))  # fmt: skip
    left.set_title(f"{n_rows} x {n_cols} = {n_rows * n_cols} whole {patch_size}x{patch_size} patches")
    left.axis("off")
    crop = image[r * patch_size : (r + 1) * patch_size, c * patch_size : (c + 1) * patch_size]
    right.imshow(crop, cmap="gray" if image.ndim == 2 else None, interpolation="nearest")
    for k in range(0, patch_size + 1, 8):
        right.axhline(k - 0.5, color="white", lw=0.6)
        right.axvline(k - 0.5, color="white", lw=0.6)
    right.set_title(f"patch ({r}, {c}): {(patch_size // 8) ** 2} blocks of 8x8")
    right.axis("off")
    fig.tight_layout()
    return fig


def plot_zigzag_modes(n_modes: int = 9):
    """The zig-zag order on an 8x8 block, the selected AC modes highlighted, and their DCT basis images."""
    from scipy.fft import idctn

    plt = _pyplot()
    from .provenance.features import ZIGZAG

    modes = zigzag_modes(n_modes)
    fig = plt.figure(figsize=(11, 3.8))
    grid = fig.add_gridspec(2, 1 + (n_modes + 1) // 2, width_ratios=[2.2] + [1] * ((n_modes + 1) // 2))
    ax = fig.add_subplot(grid[:, 0])
    order = np.zeros((8, 8), int)
    for index, (u, v) in enumerate(ZIGZAG):
        order[u, v] = index
    selected = np.zeros((8, 8))
    for u, v in modes:
        selected[u, v] = 1
    selected[0, 0] = 0.4
    ax.imshow(selected, cmap="Oranges", vmin=0, vmax=1.3)
    for (u, v), index in np.ndenumerate(order):
        ax.text(v, u, str(index), ha="center", va="center", fontsize=8)
    path = np.array(ZIGZAG[: n_modes + 1])
    ax.plot(path[:, 1], path[:, 0], color="tab:blue", lw=1)
    ax.set_title(f"zig-zag order: DC (0), {n_modes} AC modes used", fontsize=10)
    ax.set(
           xlabel="v (horizontal)", ylabel="u (vertical)", xticks=range(8), yticks=range(8))  # fmt: skip
    for k, (u, v) in enumerate(modes):
        basis = np.zeros((8, 8))
        basis[u, v] = 1
        per_row = (n_modes + 1) // 2
        sub = fig.add_subplot(grid[k // per_row, 1 + k % per_row])
        sub.imshow(idctn(basis, norm="ortho"), cmap="gray", interpolation="nearest")
        sub.set_title(f"({u},{v})", fontsize=9)
        sub.axis("off")
    fig.tight_layout()
    return fig


def plot_mode_histograms(
    vectors: np.ndarray | Sequence[np.ndarray],
    *,
    labels: Sequence[str] | None = None,
    params: FeatureParams = FeatureParams(),
    value_range: int | None = None,
):
    """Feature vectors drawn as one histogram per mode (9 panels for the paper's 909 values).

    Args:
        vectors: one `(n_features,)` vector or several to overlay.
        labels: legend labels, one per vector.
        params: the settings that produced the vectors.
        value_range: show only -value_range..value_range (default: all bins).
    """
    plt = _pyplot()
    vectors = [np.asarray(vectors)] if np.ndim(vectors) == 1 else [np.asarray(v) for v in vectors]
    for vector in vectors:
        if vector.shape != (params.n_features,):
            raise ValueError(f"Expected vectors of length {params.n_features}. Received shape {vector.shape}")
    labels = list(labels) if labels is not None else [None] * len(vectors)
    values = np.arange(-params.max_value, params.max_value + 1)
    shown = np.abs(values) <= (value_range or params.max_value)
    n_cols = 3
    n_rows = -(-params.n_modes // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(11, 2.4 * n_rows), sharex=True, squeeze=False)
    for k, (u, v) in enumerate(zigzag_modes(params.n_modes)):
        ax = axes.flat[k]
        for vector, label in zip(vectors, labels):
            histogram = vector.reshape(params.n_modes, params.n_bins)[k]
            ax.step(values[shown], histogram[shown], where="mid", label=label, lw=1)
        ax.set_title(f"mode ({u},{v})", fontsize=9)
        ax.set_yscale("symlog", linthresh=1e-2)
    for ax in axes.flat[params.n_modes :]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("quantized coefficient value m")
    ylabel = "fraction of blocks" if params.normalize else "count"
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    fig.tight_layout()
    if any(labels):
        handles, names = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="lower center", ncol=min(len(names), 8), fontsize=8, frameon=False)
        fig.subplots_adjust(bottom=0.1 + 0.02 * (3 - n_rows))
    return fig


def plot_confusion_matrix(matrix: np.ndarray, class_names: Sequence[str], *, title: str = "", published=None):
    """A row-normalised confusion matrix (percent) as an annotated heat map, rows = true class.

    With `published` (same shape), each cell also shows the paper's number in parentheses.
    """
    plt = _pyplot()
    matrix = np.asarray(matrix, dtype=float)
    k = len(class_names)
    if matrix.shape != (k, k):
        raise ValueError(f"Expected a {k}x{k} matrix for {list(class_names)}. Received shape {matrix.shape}")
    size = 1.2 + 0.75 * k
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    im = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=100)
    for (i, j), value in np.ndenumerate(matrix):
        text = "" if np.isnan(value) else f"{value:.1f}"
        if published is not None:
            text += f"\n({np.asarray(published, dtype=float)[i, j]:.1f})"
        ax.text(j, i, text, ha="center", va="center", fontsize=8 if k < 7 else 6.5,
                color="white" if value > 60 else "black")  # fmt: skip
    ax.set_xticks(range(k), class_names, rotation=45, ha="right")
    ax.set_yticks(range(k), class_names)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.colorbar(im, ax=ax, shrink=0.8, label="% of the true class")
    fig.tight_layout()
    return fig


def plot_share_depth(
    transfer: dict[str, Sequence[float]],
    multitask: dict[str, Sequence[float]] | None = None,
    single_task: dict[str, float] | None = None,
    *,
    depths: Sequence[str] = ("constr", "conv1", "conv2", "conv3", "conv4", "fc1", "fc2"),
    published: dict[str, dict[str, float]] | None = None,
    intervals: dict[str, Sequence[tuple[float, float]]] | None = None,
    title: str = "Accuracy by share depth",
):
    """Paper 2's Fig. 3: accuracy of each target task by share depth.

    Args:
        transfer: target task -> accuracy (0..1) at each depth, features transferred from the other task (solid).
        multitask: target task -> accuracy of its leg of the multitask network at each depth (dashed); NaN
            where a depth was not run.
        single_task: target task -> single-task accuracy (dotted horizontal line).
        depths: the x axis.
        published: series -> {depth: accuracy}, the points the paper's text reports; a series is a target task
            (`"camera"`, crosses) or a task and method (`"camera (multitask)"`, filled plus signs).
        intervals: series (`"camera"` for transfer, `"camera (multitask)"`) -> `(low, high)` per depth (0..1, NaN
            where none), drawn as error bars (e.g. 95% intervals).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9.5, 4.5))
    colours = {}
    x = np.arange(len(depths))
    def finite(values):  # depths that were not run are NaN: draw the points that exist, joined
        values = np.asarray(values, dtype=float)
        return x[np.isfinite(values)], values[np.isfinite(values)] * 100

    def error_bars(series, values, colour, offset):
        bounds = np.asarray((intervals or {}).get(series, []), dtype=float).reshape(-1, 2)
        if len(bounds) != len(depths):
            return
        values = np.asarray(values, dtype=float)
        keep = np.isfinite(values) & np.isfinite(bounds).all(axis=1)
        below, above = (values - bounds[:, 0]) * 100, (bounds[:, 1] - values) * 100
        ax.errorbar(x[keep] + offset, values[keep] * 100, yerr=[np.maximum(below[keep], 0), np.maximum(above[keep], 0)],
                    fmt="none", ecolor=colour, capsize=3, lw=1)  # fmt: skip

    for task, values in transfer.items():
        (line,) = ax.plot(*finite(values), "-o", label=f"{task}: transfer")
        colours[task] = line.get_color()
        error_bars(task, values, colours[task], -0.05)
    for task, values in (multitask or {}).items():
        ax.plot(*finite(values), "--s", color=colours.get(task), label=f"{task}: multitask")
        error_bars(f"{task} (multitask)", values, colours.get(task), 0.05)
    for task, value in (single_task or {}).items():
        ax.axhline(value * 100, ls=":", color=colours.get(task, "gray"), label=f"{task}: single task")
    for series, points in (published or {}).items():
        task, _, method = series.partition(" (")  # "camera" or "camera (multitask)"
        shown = {d: v for d, v in points.items() if d in depths}  # points at depths on the axis
        if shown:
            ax.plot([list(depths).index(d) for d in shown], np.asarray(list(shown.values())) * 100,
                    "P" if method.startswith("multitask") else "x", ms=9, mew=2, color=colours.get(task, "black"),
                    label=f"{series}: paper")  # fmt: skip
    ax.set_xticks(x, depths)
    ax.set(xlabel="share depth", ylabel="accuracy (%)", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def plot_image_grid(images: Sequence[np.ndarray], titles: Sequence[str] | None = None, *, n_cols: int = 4,
                    size: float = 2.6):  # fmt: skip
    """Images (uint8 RGB or gray arrays) in a grid with optional titles."""
    plt = _pyplot()
    n = len(images)
    if n == 0:
        raise ValueError("Expected at least one image. Received none")
    n_cols = min(n_cols, n)
    n_rows = -(-n // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size * n_cols, size * n_rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for k, image in enumerate(images):
        ax = axes.flat[k]
        ax.imshow(image, cmap="gray" if np.ndim(image) == 2 else None, vmin=0, vmax=255, interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[k], fontsize=9)
    fig.tight_layout()
    return fig


def plot_quantization_tables(tables: dict[str, np.ndarray], *, n_cols: int = 4):
    """Several 8x8 luminance tables side by side on one colour scale, titled with their estimated IJG quality."""
    from .provenance.jpeg import estimate_quality

    plt = _pyplot()
    names = list(tables)
    n_cols = min(n_cols, len(names))
    n_rows = -(-len(names) // n_cols)
    vmax = max(float(np.max(t)) for t in tables.values())
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(2.7 * n_cols, 3.3 * n_rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, name in zip(axes.flat, names):
        table = np.asarray(tables[name])
        ax.imshow(table, cmap="viridis", vmin=0, vmax=vmax)
        for (row, col), value in np.ndenumerate(table):
            ax.text(col, row, str(value), ha="center", va="center", fontsize=5.5,
                    color="white" if value < vmax / 2 else "black")  # fmt: skip
        estimate = estimate_quality(table)
        ax.set_title(f"{name}\nQ~{estimate.quality}{'' if estimate.exact else ' (not IJG)'}", fontsize=9)
    fig.tight_layout()
    return fig


def plot_training_history(history: dict[str, Sequence[float]], *, title: str = "Training"):
    """Loss and accuracy per epoch, training (solid) and validation (dashed): the curve early stopping watches.

    A multitask network's history has one loss and one accuracy per output (`output_<task>_loss`,
    `output_<task>_accuracy`, and their `val_` twins) besides the summed `loss`: each gets its own line.

    Raises:
        ValueError: a history with no loss or accuracy in it (what was received is listed).
    """
    plt = _pyplot()

    def series(kind: str) -> list[str]:  # the history's names of one kind, without `val_`, in the history's order
        names = [k.removeprefix("val_") for k in history]
        return list(dict.fromkeys(n for n in names if n == kind or n.endswith(f"_{kind}")))

    if not series("loss") and not series("accuracy"):
        raise ValueError(f"Expected a Keras history with a loss or an accuracy per epoch. Received keys: {list(history)}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    for kind, ax in (("loss", left), ("accuracy", right)):
        for i, name in enumerate(series(kind)):
            for prefix, style in (("", "-o"), ("val_", "--s")):
                values = history.get(prefix + name)
                if values:
                    ax.plot(np.arange(1, len(values) + 1), values, style, ms=3, color=f"C{i}",
                            label=(prefix or "train_") + name)  # fmt: skip
        ax.set(xlabel="epoch", ylabel=kind)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7 if len(ax.lines) > 4 else 8)
        else:
            ax.text(0.5, 0.5, f"no {kind} recorded", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_tpr_comparison(tprs: dict[str, dict[str, Sequence[float]]], class_names: Sequence[str], *,
                        title: str = "True positive rate by class", ylabel: str = "TPR (%)",
                        intervals: dict[str, dict[str, Sequence[tuple[float, float]]]] | None = None):  # fmt: skip
    """Grouped bars, one panel per group: paper 1's Fig. 3 (TPR per class and method, per dataset), or any rates.

    Args:
        tprs: panel (e.g. dataset) -> method -> per class a value (0..1) or a `stats.Estimate` (percent, drawn
            with its interval as an error bar); NaN draws no bar.
        class_names: the bars' categories, in order.
        ylabel: the y axis label (values are drawn in percent).
        intervals: panel -> method -> `(low, high)` per class (0..1, NaN for none), drawn as error bars.
    """
    from .stats import Estimate

    plt = _pyplot()
    fig, axes = plt.subplots(1, len(tprs), figsize=(4 * len(tprs), 3.4), squeeze=False, sharey=True)
    for ax, (dataset, methods) in zip(axes[0], tprs.items()):
        width = 0.8 / len(methods)
        x = np.arange(len(class_names))
        for k, (method, values) in enumerate(methods.items()):
            position = x + (k - (len(methods) - 1) / 2) * width
            heights = np.array([v.value if isinstance(v, Estimate) else float(v) * 100 for v in values])
            low, high = np.full(len(values), np.nan), np.full(len(values), np.nan)
            for i, v in enumerate(values):
                if isinstance(v, Estimate) and v.has_interval:
                    low[i], high[i] = v.low, v.high
            bounds = np.asarray((intervals or {}).get(dataset, {}).get(method, []), dtype=float).reshape(-1, 2)
            if len(bounds) == len(values):
                low = np.where(np.isnan(low), bounds[:, 0] * 100, low)
                high = np.where(np.isnan(high), bounds[:, 1] * 100, high)
            drawn = np.isfinite(heights) & np.isfinite(low) & np.isfinite(high)
            errors = None
            if drawn.any():
                errors = np.vstack([np.where(drawn, np.maximum(heights - low, 0), 0),
                                    np.where(drawn, np.maximum(high - heights, 0), 0)])  # fmt: skip
            ax.bar(position, heights, width, label=method, yerr=errors, capsize=2 if errors is not None else 0,
                   error_kw={"elinewidth": 0.8})  # fmt: skip
        ax.set_xticks(x, class_names, rotation=30, ha="right")
        ax.set_title(dataset, fontsize=10)
        ax.set_ylim(0, 105)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].set_ylabel(ylabel)
    axes[0, 0].legend(fontsize=8, loc="lower left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_learning_curves(record: dict, *, figsize: tuple[float, float] = (7.5, 4.2), title: str | None = None):
    """Test accuracy against training patches, one line per task and input size (paper 2, Sec. 5.1's networks).

    `record` is what `forensiclib.unified.learning_curves.load_learning_curves` reads (`benchmarks/learning_curves.py`
    writes it): each point's accuracy over seeds with its 95% interval as an error bar, each seed's accuracy as a small
    dot, and each task's chance level as a dotted line in the task's colour. The x axis is logarithmic.
    """
    plt = _pyplot()
    points = record.get("points") if isinstance(record, dict) else None
    if not points:
        shown = repr(record)[:80]
        raise ValueError(f"Expected a learning-curve record with points (load_learning_curves). Received: {shown}")
    fig, ax = plt.subplots(figsize=figsize)
    colours = {task: f"C{i}" for i, task in enumerate(dict.fromkeys(p["task"] for p in points))}
    lines = {}
    for p in points:
        lines.setdefault((p["task"], p["patch_size"]), []).append(p)
    for (task, size), group in lines.items():
        group = sorted(group, key=lambda p: p["training_patches"])
        x = np.array([p["training_patches"] for p in group], float)
        y = np.array([p["accuracy"] for p in group], float)
        errors = np.array([[p["accuracy"] - p["low"] for p in group], [p["high"] - p["accuracy"] for p in group]])
        style = "-o" if size == min(s for t, s in lines if t == task) else "--s"
        ax.errorbar(x, y, yerr=errors, fmt=style, color=colours[task], capsize=3, ms=5,
                    label=f"{task}, {size}x{size}")  # fmt: skip
        for p in group:
            seeds = [r["accuracy"] for r in p["runs"]]
            ax.plot([p["training_patches"]] * len(seeds), seeds, ".", color=colours[task], alpha=0.4, ms=4)
    for task, colour in colours.items():
        chance = max(p["chance"] for p in points if p["task"] == task)
        ax.axhline(chance, color=colour, ls=":", lw=1)
        ax.annotate(f"chance ({task})", (1.0, chance), xycoords=("axes fraction", "data"), ha="right", va="bottom",
                    fontsize=7, color=colour)  # fmt: skip
    ax.set_xscale("log")
    ax.set(xlabel="training patches", ylabel="test accuracy (%)", ylim=(0, 100))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left")
    budget = record.get("settings", {}).get("cpu_seconds")
    default = "Learning curves (simulated data)" + (f", {budget:g} CPU-s per network or its plateau" if budget else "")
    ax.set_title(title if title is not None else default, fontsize=10)
    fig.tight_layout()
    return fig
