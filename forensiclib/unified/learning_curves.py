"""Learning curves of paper 2's single-task networks: test accuracy against the training data, each network trained
to a fixed budget of process CPU time or to its plateau, whichever comes first (Mayer et al. 2018, Sec. 5.1).

    train, test = paper2_patches("camera", size=24, patches_per_image=None, random_state=0)
    part = training_subset(train, images_per_class=6, patches_per_image=8, seed=0)
    run = train_within_budget(part, test, patch_size=64, cpu_seconds=90, seed=0)
    run.evaluation.estimate(), run.stopped, run.cpu_seconds

`benchmarks/learning_curves.py` runs a grid of such points and writes `docs/learning_curves.json`;
`load_learning_curves` reads that file back and `forensiclib.plots.plot_learning_curves` draws it.

Why CPU time: the process's CPU time (`time.process_time()`, all its threads) counts the work done, so other load on a
shared machine changes how long a run takes on the wall clock but not where it stops. Why rounds of a fixed number of
steps instead of passes over the data: with a few hundred patches a pass is a dozen steps and with tens of thousands
it is hundreds, so the validation loss (the plateau test) is measured every `steps_per_check` steps whatever the data's
size, on at most `max_validation_patches` patches of held-out training images.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from .patches import PatchSet, _check_positive

__all__ = ["cpu_budget", "BudgetRun", "training_subset", "train_within_budget", "load_learning_curves",
           "learning_curve_rows", "learning_curve_summary", "LEARNING_CURVES_VERSION"]

#: Version of the data file `benchmarks/learning_curves.py` writes (`load_learning_curves` checks it).
LEARNING_CURVES_VERSION = 1


def cpu_budget(cpu_seconds: float):
    """A Keras callback that stops training once the process has used `cpu_seconds` of CPU time since training began.

    It checks after every step; Keras then runs the epoch's validation and ends `fit`. After training, `used` is the
    CPU time used, `exhausted` whether the budget ended training, `steps` the steps run, `per_epoch` the CPU time at
    the end of each epoch.
    """
    if isinstance(cpu_seconds, bool) or not isinstance(cpu_seconds, (int, float)) or not cpu_seconds > 0:
        raise ValueError(f"Expected cpu_seconds a positive number. Received: {cpu_seconds!r}")
    return _budget_class()(float(cpu_seconds))


def _budget_class():
    import keras

    class CpuBudget(keras.callbacks.Callback):
        def __init__(self, cpu_seconds: float):
            super().__init__()
            self.cpu_seconds = cpu_seconds
            self.start, self.used, self.exhausted, self.steps, self.per_epoch = None, 0.0, False, 0, []

        def on_train_begin(self, logs=None):
            self.start, self.used, self.exhausted, self.steps, self.per_epoch = time.process_time(), 0.0, False, 0, []

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            if time.process_time() - self.start >= self.cpu_seconds:
                self.exhausted = True
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            self.per_epoch.append(time.process_time() - self.start)

        def on_train_end(self, logs=None):
            self.used = time.process_time() - self.start

    return CpuBudget


@dataclasses.dataclass
class BudgetRun:
    """One network trained within a CPU budget, and its test output.

    Attributes:
        evaluation: on the test patches (`Evaluation`; `estimate()` gives the interval over test images).
        history: per round (`steps_per_check` steps): `loss`, `accuracy`, `val_loss`, `val_accuracy`, and
            `cpu_seconds` (the CPU time used at the round's end).
        stopped: `"plateau"` (validation loss not lower for `patience` rounds), `"budget"` (CPU budget used up) or
            `"cap"` (`max_rounds` reached).
        best_round: the round (1-based) whose weights were kept (lowest validation loss).
        cpu_seconds: process CPU time of the training (steps and validation, not the data or the test).
        wall_seconds: its wall time.
        steps: training steps run; `steps * batch_size` patches went through the network.
        fit_patches, validation_patches: the patches trained on and the held-out ones the plateau was measured on.
    """

    evaluation: object
    history: dict[str, list[float]]
    stopped: str
    best_round: int
    cpu_seconds: float
    wall_seconds: float
    steps: int
    fit_patches: int
    validation_patches: int


def training_subset(train: PatchSet, *, images_per_class: int, patches_per_image: int | None, seed: int) -> PatchSet:
    """A smaller training set: `images_per_class` source images per class, `patches_per_image` patches of each image.

    Source images (`PatchSet.units`) are taken in the order of one seeded permutation, the first ones that have a
    patch of the class, so a manipulation set keeps the same source images in all six classes (as the notebooks'
    splits do) and a camera set takes images of each model's training device. Each image's patches are taken in
    the order of a permutation seeded by `seed` and the image. Sizes are nested: at one seed, a smaller subset is
    part of every larger one. A class with fewer images keeps all of them.

    Args:
        train: training patches (`paper2_patches`).
        images_per_class: source images kept per class (positive).
        patches_per_image: patches kept per image (positive), or None for all; an image is a source image in one
            class: a camera file, or the blocks of a manipulation source in one version (one file per block).
        seed: seeds both choices.

    Returns:
        A `PatchSet` (`train.subset` of the rows kept).
    """
    if not isinstance(train, PatchSet):
        raise ValueError(f"Expected train a PatchSet (see paper2_patches). Received: {type(train).__name__}")
    _check_positive("images_per_class", images_per_class)
    if patches_per_image is not None:
        _check_positive("patches_per_image", patches_per_image)
    order = np.random.default_rng([seed, 1]).permutation(np.unique(train.units))
    rank = np.empty(int(order.max()) + 1, np.int64)
    rank[order] = np.arange(len(order))
    keep = np.zeros(len(train), bool)
    for label in range(len(train.classes)):
        rows = np.flatnonzero(train.y == label)
        units = np.unique(train.units[rows])
        chosen = units[np.argsort(rank[units], kind="stable")][:images_per_class]
        keep[rows[np.isin(train.units[rows], chosen)]] = True
    if patches_per_image is not None:
        # An image is a source image in one class: a camera file, or a manipulation source's blocks in one version
        # (each block is its own file there).
        images = train.units.astype(np.int64) * len(train.classes) + train.y
        for image in np.unique(images[keep]):
            rows = np.flatnonzero(keep & (images == image))
            if len(rows) > patches_per_image:
                drop = np.random.default_rng([seed, 2, int(image)]).permutation(len(rows))[patches_per_image:]
                keep[rows[drop]] = False
    return train.subset(np.flatnonzero(keep))


def train_within_budget(
    train: PatchSet,
    test: PatchSet,
    *,
    patch_size: int,
    cpu_seconds: float,
    seed: int = 0,
    steps_per_check: int = 50,
    patience: int = 3,
    max_rounds: int = 1000,
    max_validation_patches: int = 600,
    validation_fraction: float = 0.2,
    batch_size: int = 40,
    learning_rate: float = 1e-3,
    halving_every: int | None = None,
    verbose: int | str = 0,
) -> BudgetRun:
    """Train a single-task MISLnet (Sec. 5.1) until `cpu_seconds` of process CPU time are used or the validation loss
    stops improving, whichever comes first; keep the best round's weights and evaluate on `test`.

    As `train_single_task` does (not cached here): whole training images held out for validation
    (`validation_split`, `validation_fraction`, seeded), SGD with momentum 0.9 at `learning_rate`, constant (as the
    default profile keeps it) or, with `halving_every`, halved every that many rounds (paper 2, Sec. 5.1 halves it
    every 3 epochs; a round here is `steps_per_check` steps, not a pass over the data), `batch_size` patches a step,
    best weights restored. Unlike it, the
    patches are drawn as an endless stream of seeded permutations (`training.file_dataset`) and the validation loss
    is measured every `steps_per_check` steps on at most `max_validation_patches` held-out patches (a seeded sample).

    Returns:
        A `BudgetRun`.
    """
    import keras

    from .. import training
    from .common import Evaluation, _check_pair, _predict
    from .mislnet import compile_mislnet, mislnet
    from .patches import validation_split

    _check_pair(train, test, patch_size, source="patch_size")
    for name, value in (("steps_per_check", steps_per_check), ("patience", patience), ("max_rounds", max_rounds),
                        ("max_validation_patches", max_validation_patches), ("batch_size", batch_size)):
        _check_positive(name, value)
    if halving_every is not None:
        _check_positive("halving_every", halving_every)
    budget = cpu_budget(cpu_seconds)
    fit, validation = validation_split(train, validation_fraction, random_state=seed)
    if len(validation) > max_validation_patches:
        rows = np.sort(np.random.default_rng([seed, 3]).choice(len(validation), max_validation_patches, replace=False))
        validation = validation.subset(rows)
    stream = training.file_dataset(np.asarray(fit.x, np.float32), fit.y, batch_size=batch_size, shuffle=True,
                                   seed=seed, endless=True)  # fmt: skip
    wall = time.perf_counter()
    result = training.train(
        lambda: compile_mislnet(mislnet(len(train.classes), input_size=patch_size), learning_rate=learning_rate),
        stream, validation_data=(validation.x, validation.y), epochs=max_rounds, batch_size=batch_size,
        steps_per_epoch=steps_per_check, seed=seed, verbose=verbose, batch_norm_data=np.asarray(fit.x, np.float32),
        callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True),
                   budget, *([training.halving_schedule(learning_rate, every_epochs=halving_every)]
                             if halving_every is not None else [])],
    )  # fmt: skip
    wall = time.perf_counter() - wall
    history = dict(result.history, cpu_seconds=[float(s) for s in budget.per_epoch])
    rounds = len(history["val_loss"])
    best = int(np.argmin(history["val_loss"])) + 1
    stopped = "budget" if budget.exhausted else "cap" if rounds >= max_rounds else "plateau"
    evaluation = Evaluation(train.classes, test.y, _predict(result.model, test.x), units=test.units)
    return BudgetRun(evaluation, history, stopped, best, budget.used, wall, budget.steps, len(fit), len(validation))


# --- the data file -------------------------------------------------------------------------------


def load_learning_curves(path: str | Path) -> dict:
    """Read the data file `benchmarks/learning_curves.py` writes (`docs/learning_curves.json`).

    Returns:
        The record: `points` (one per task, input size and training size, with the accuracy over seeds, its
        interval, chance, per-seed runs), `settings`, `command`, `timing`, `simulated`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a learning-curve file of this version, or a point without its fields.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Expected the learning-curve data file written by benchmarks/learning_curves.py. "
                                f"Received: {path} (no such file)")  # fmt: skip
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"Expected a JSON learning-curve file. Received: {path} ({error})") from None
    if not isinstance(record, dict) or record.get("version") != LEARNING_CURVES_VERSION:
        found = record.get("version") if isinstance(record, dict) else type(record).__name__
        raise ValueError(f"Expected a learning-curve file of version {LEARNING_CURVES_VERSION}. Received: {path} "
                         f"(version {found!r})")  # fmt: skip
    needed = {"task", "patch_size", "images_per_class", "patches_per_image", "training_patches", "accuracy", "low",
              "high", "chance", "runs"}
    for index, point in enumerate(record.get("points") or []):
        missing = needed - set(point)
        if missing:
            raise ValueError(f"Expected every point with {sorted(needed)}. Received: {path}, point {index} "
                             f"lacks {sorted(missing)}")  # fmt: skip
    if not record.get("points"):
        raise ValueError(f"Expected a learning-curve file with points. Received: {path} (none)")
    return record


def learning_curve_rows(record: dict) -> tuple[list[str], list[list]]:
    """The table of a learning-curve record: `(headers, rows)` for `forensiclib.markdown_table`, one row per point."""
    headers = ["task", "input", "images per class", "patches per image", "training patches", "accuracy % [95%]",
               "chance %", "per seed %", "stopped", "CPU s (mean)", "patches seen (mean)"]
    rows = []
    for p in record["points"]:
        runs = p["runs"]
        interval = f"{p['accuracy']:.1f} [{p['low']:.1f}, {p['high']:.1f}]"
        rows.append([p["task"], f"{p['patch_size']}x{p['patch_size']}", p["images_per_class"],
                     "all" if p["patches_per_image"] is None else p["patches_per_image"], p["training_patches"],
                     interval, round(p["chance"], 1), ", ".join(f"{r['accuracy']:.1f}" for r in runs),
                     ", ".join(r["stopped"] for r in runs), round(float(np.mean([r["cpu_seconds"] for r in runs]))),
                     int(np.mean([r["steps"] for r in runs]) * record["settings"]["batch_size"])])  # fmt: skip
    return headers, rows


def learning_curve_summary(record: dict) -> list[str]:
    """One sentence per task from a learning-curve record: its accuracy at the smallest and the largest training set
    of each input size, with intervals, chance and the budget (what notebook 07 says about how much data a task needs).
    """
    budget = record["settings"]["cpu_seconds"]
    sentences = []
    for task in dict.fromkeys(p["task"] for p in record["points"]):
        points = [p for p in record["points"] if p["task"] == task]
        parts = []
        for size in sorted({p["patch_size"] for p in points}):
            line = sorted((p for p in points if p["patch_size"] == size), key=lambda p: p["training_patches"])

            def said(p):
                seeds = ", ".join(f"{r['accuracy']:.1f}" for r in p["runs"])
                return (f"{p['accuracy']:.1f}% [{p['low']:.1f}, {p['high']:.1f}] (seeds: {seeds}) with "
                        f"{p['training_patches']:,} training patches ({p['images_per_class']} images per class)")

            if len(line) == 1:
                parts.append(f"at {size}x{size}, {said(line[0])}")
            else:
                parts.append(f"at {size}x{size}, from {said(line[0])} to {said(line[-1])}")
        chance = max(p["chance"] for p in points)
        runs = [r for p in points for r in p["runs"]]
        spent = sum(r["stopped"] == "budget" for r in runs)
        sentences.append(f"**{task}** (chance {chance:.1f}%): " + "; ".join(parts)
                         + f"; {spent} of its {len(runs)} networks used the whole budget of {budget:g} CPU-seconds "
                           "before their validation loss stopped improving.")
    return sentences
