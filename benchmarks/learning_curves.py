"""Learning curves of paper 2's single-task networks (Sec. 5.1) on the simulated data: test accuracy against the
training data (images per class, patches per image) and the input size, each network trained until a fixed budget of
process CPU time is used or its validation loss stops improving, whichever comes first.

What a point is: one task (manipulation: 6 classes; camera: 20 models, tested on each model's held-out device), one
input size, one training size. The data are built once per task and input size with the library's builders
(`paper2_patches`, data seed `--data-seed`); the test set (the notebooks' split: 20% of the source images for the
manipulation task, the held-out device of every model for the camera task; `--test-patches` patches per test image)
is the same for every training size, and the training sets are nested subsets of the largest one
(`training_subset`). Every seed draws its own training images, patches, validation images, initial weights and
batches (`train_within_budget`: the notebooks' MISLnet, SGD at a constant 1e-3 unless `--halving-every` halves it
every that many checks, batches of 40, best weights kept).
The accuracy of a point is over its seeds' test predictions pooled, with a 95% bootstrap interval that resamples whole
test images (each image with its patches in every seed's run); each seed's own accuracy is listed too.

CPU time is the process's (all its threads), so other load on the machine does not move where a run stops; the
budget covers training steps and validation, not the data or the test.

Writes `--json` (the points, read by notebook 07 through `load_learning_curves`), `--csv` (one row per run) and
`--figure` (both beside `--json` unless given), and prints the table. Run:
`.venv/bin/python benchmarks/learning_curves.py [--points manipulation:64:96x1 camera:64:6x8 ...] [--seeds 0 1]
[--cpu-seconds 90]`.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import forensiclib as fl  # noqa: E402
from forensiclib import cache, plots, stats  # noqa: E402
from forensiclib.unified.learning_curves import (  # noqa: E402
    LEARNING_CURVES_VERSION,
    learning_curve_rows,
    train_within_budget,
    training_subset,
)

ROOT = Path(__file__).resolve().parents[1]
#: task:input size:images per class x patches per image ("all": every patch). Manipulation: images are source
#: images (each in the six versions), patches are its central blocks; camera: images of each model's training device.
DEFAULT_POINTS = ("manipulation:64:96x1", "manipulation:64:384x4", "camera:64:6x8", "camera:64:24x16",
                  "manipulation:128:96x1")  # fmt: skip
_POINT = re.compile(r"^(manipulation|camera):(\d+):(\d+)x(\d+|all)$")


def parse_point(text: str) -> dict:
    match = _POINT.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"Expected task:size:IMAGESxPATCHES, e.g. camera:64:6x8 or "
                                         f"manipulation:128:384x1. Received: {text!r}")  # fmt: skip
    task, size, images, patches = match.groups()
    if int(size) < 16 or int(images) < 2 or patches == "0":
        raise argparse.ArgumentTypeError(f"Expected a size of at least 16, at least 2 images per class and at least "
                                         f"one patch per image. Received: {text!r}")  # fmt: skip
    return {"task": task, "patch_size": int(size), "images_per_class": int(images),
            "patches_per_image": None if patches == "all" else int(patches)}  # fmt: skip


def build_data(task: str, patch_size: int, points: list[dict], args) -> tuple:
    """The largest training set any point of this task and size asks for, and the fixed test set."""
    images = max(p["images_per_class"] for p in points)
    if patch_size == min(p["patch_size"] for p in args.points):  # the same test set whatever the grid
        images = max(images, args.build_images[task])
    if task == "manipulation":
        blocks = max(p["patches_per_image"] or 1 for p in points)
        blocks = int(math.ceil(math.sqrt(blocks))) ** 2  # a square grid of central blocks
        # 80% of the source images train: ask for a few more than images / 0.8 so that the split's rounding leaves
        # enough (training_subset keeps what there is; the point records what it got).
        train, test = fl.paper2_patches("manipulation", size=int(math.ceil(images / 0.8)) + 2, blocks_per_image=blocks,
                                        patch_size=patch_size, random_state=args.data_seed, n_jobs=args.n_jobs)
    else:
        side = max(args.image_side, patch_size)
        train, test = fl.paper2_patches("camera", size=images, image_side=side, patch_size=patch_size,
                                        random_state=args.data_seed, n_jobs=args.n_jobs)
    test = training_subset(test, images_per_class=10**9, patches_per_image=args.test_patches[task], seed=10**6)
    return train, test


def run_point(point: dict, train, test, args, progress) -> dict:
    runs, labels, predictions, units = [], [], [], []
    for seed in args.seeds:
        part = training_subset(train, images_per_class=point["images_per_class"],
                               patches_per_image=point["patches_per_image"], seed=seed)
        run = train_within_budget(part, test, patch_size=point["patch_size"], cpu_seconds=args.cpu_seconds,
                                  seed=seed, steps_per_check=args.steps_per_check, patience=args.patience,
                                  max_rounds=args.max_rounds, learning_rate=args.learning_rate,
                                  halving_every=args.halving_every,
                                  max_validation_patches=args.max_validation_patches)  # fmt: skip
        estimate = run.evaluation.estimate()
        runs.append({"seed": seed, "accuracy": estimate.value, "low": estimate.low, "high": estimate.high,
                     "training_patches": len(part), "training_images": int(len(np.unique(part.units))),
                     "fit_patches": run.fit_patches, "validation_patches": run.validation_patches,
                     "stopped": run.stopped, "rounds": len(run.history["val_loss"]), "best_round": run.best_round,
                     "steps": run.steps, "cpu_seconds": round(run.cpu_seconds, 1),
                     "wall_seconds": round(run.wall_seconds, 1),
                     "passes": round(run.steps * args.batch_size / run.fit_patches, 2),
                     "history": {k: [round(v, 4) for v in vs] for k, vs in run.history.items()}})  # fmt: skip
        labels.append(run.evaluation.labels)
        predictions.append(run.evaluation.predictions)
        units.append(run.evaluation.units)
        progress.update(1)
        progress.set_postfix_str(f"{point['task']} {point['patch_size']} {point['images_per_class']}x"
                                 f"{point['patches_per_image']} seed {seed}: {estimate.value:.1f}% ({run.stopped})")
    # Pooled over seeds: a resampled test image brings its patches of every seed's run (same test set for all).
    pooled = stats.accuracy_estimate(np.concatenate(labels), np.concatenate(predictions),
                                        groups=np.concatenate(units))  # fmt: skip
    per_class = {int(c): int(len(np.unique(test.units[test.y == c]))) for c in np.unique(test.y)}
    return dict(point, training_patches=int(round(np.mean([r["training_patches"] for r in runs]))),
                training_images=int(round(np.mean([r["training_images"] for r in runs]))),
                accuracy=pooled.value, low=pooled.low, high=pooled.high, chance=stats.chance_level(test.y),
                n_test_images=int(len(np.unique(test.units))), n_test_patches=int(len(test)),
                test_images_per_class=min(per_class.values()), runs=runs)  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--points", nargs="+", type=parse_point, default=[parse_point(p) for p in DEFAULT_POINTS],
                        help="task:size:IMAGESxPATCHES per point (default: %(default)s)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1], help="training seeds per point")
    parser.add_argument("--cpu-seconds", type=float, default=90.0, help="process CPU seconds per network")
    parser.add_argument("--steps-per-check", type=int, default=50, help="training steps between validation checks")
    parser.add_argument("--max-rounds", type=int, default=1000,
                        help="cap on checks per network: with a large --cpu-seconds, a budget in steps that gives the "
                             "same numbers on every run (a CPU-time budget stops at a step that varies with the load)")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="SGD's (initial) rate")
    parser.add_argument("--halving-every", type=int, default=None,
                        help="halve the rate every this many checks (default: constant, as the default profile)")
    parser.add_argument("--patience", type=int, default=3, help="checks without a lower validation loss: plateau")
    parser.add_argument("--max-validation-patches", type=int, default=600, help="held-out patches per check, at most")
    parser.add_argument("--test-patches", nargs=2, type=int, default=[1, 8], metavar=("MANIPULATION", "CAMERA"),
                        help="test patches per test image")
    parser.add_argument("--build-images", nargs=2, type=int, default=[960, 24], metavar=("MANIPULATION", "CAMERA"),
                        help="at the smallest input size, build each task's data for at least this many training "
                             "images per class (the test set is then the same whatever the grid)")
    parser.add_argument("--image-side", type=int, default=256, help="side of the simulated camera images")
    parser.add_argument("--data-seed", type=int, default=0, help="seed of the simulated data and the split")
    parser.add_argument("--n-jobs", type=int, default=2, help="processes building the simulated data")
    parser.add_argument("--history", action="store_true", help="also print each run's validation accuracy per check")
    parser.add_argument("--json", type=Path, default=ROOT / "docs" / "learning_curves.json")
    parser.add_argument("--csv", type=Path, help="default: the --json path with .csv")
    parser.add_argument("--figure", type=Path, help="default: the --json path with .png")
    args = parser.parse_args(argv)
    args.csv = args.csv or args.json.with_suffix(".csv")
    args.figure = args.figure or args.json.with_suffix(".png")
    if len(set(args.seeds)) != len(args.seeds) or min(args.seeds) < 0:
        parser.error(f"Expected distinct non-negative seeds. Received: {args.seeds}")
    if args.halving_every is not None and args.halving_every < 1 or not args.learning_rate > 0:
        parser.error(f"Expected a positive --learning-rate and --halving-every. Received: {args.learning_rate}, "
                     f"{args.halving_every}")
    if not args.cpu_seconds > 0 or min(args.test_patches) < 1:
        parser.error("Expected a positive --cpu-seconds and at least one test patch per image")
    args.test_patches = dict(zip(("manipulation", "camera"), args.test_patches))
    args.build_images = dict(zip(("manipulation", "camera"), args.build_images))
    args.batch_size = 40
    from tqdm.auto import tqdm

    wall, cpu = time.perf_counter(), os.times()
    groups = {}
    for point in args.points:
        groups.setdefault((point["task"], point["patch_size"]), []).append(point)
    results, data_seconds = [], {"wall": 0.0, "cpu": 0.0}
    with tqdm(total=len(args.points) * len(args.seeds), desc="learning curves", unit="network") as progress:
        for (task, size), points in groups.items():
            start, start_cpu = time.perf_counter(), os.times()
            train, test = build_data(task, size, points, args)
            end_cpu = os.times()
            data_seconds["wall"] += time.perf_counter() - start
            data_seconds["cpu"] += sum(end_cpu[:4]) - sum(start_cpu[:4])
            for point in sorted(points, key=lambda p: (p["images_per_class"], p["patches_per_image"] or 10**9)):
                results.append(run_point(point, train, test, args, progress))
                partial = json.dumps({"version": LEARNING_CURVES_VERSION, "complete": False, "points": results})
                cache.write_atomic(args.json.with_suffix(".partial.json"), lambda tmp: Path(tmp).write_text(partial))
    end = os.times()
    timing = {"wall_seconds": round(time.perf_counter() - wall, 1),
              "cpu_seconds": round(sum(end[:4]) - sum(cpu[:4]), 1),
              "data_wall_seconds": round(data_seconds["wall"], 1), "data_cpu_seconds": round(data_seconds["cpu"], 1),
              "training_cpu_seconds": round(sum(r["cpu_seconds"] for p in results for r in p["runs"]), 1),
              "cpus": os.cpu_count()}  # fmt: skip
    command = "benchmarks/learning_curves.py " + " ".join(sys.argv[1:] if argv is None else argv)
    settings = {k: v for k, v in vars(args).items() if k not in ("points", "json", "csv", "figure", "history")}
    record = {"version": LEARNING_CURVES_VERSION, "simulated": True, "command": command.strip(),
              "settings": settings, "timing": timing, "points": results}  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=1) + "\n"
    cache.write_atomic(args.json, lambda tmp: Path(tmp).write_text(text))
    args.json.with_suffix(".partial.json").unlink(missing_ok=True)
    write_csv(args.csv, results)
    headers, rows = learning_curve_rows(record)
    print(fl.markdown_table(headers, rows))
    if args.history:
        apart = args.steps_per_check * args.batch_size
        print(f"\nValidation accuracy (%) at each check ({apart} patches apart), per run:")
        for point in results:
            for run in point["runs"]:
                checks = " ".join(f"{100 * v:.0f}" for v in run["history"]["val_accuracy"])
                print(f"- {point['task']} {point['patch_size']}x{point['patch_size']} {point['images_per_class']}x"
                      f"{point['patches_per_image'] or 'all'}, seed {run['seed']}: {checks} ({run['steps']} steps, "
                      f"{run['cpu_seconds']:.0f} CPU-s, stopped: {run['stopped']}, best check {run['best_round']})")
    print(f"\n{len(results)} points x {len(args.seeds)} seeds, {args.cpu_seconds:g} CPU-s per network or its plateau; "
          f"wall {timing['wall_seconds'] / 60:.1f} min, CPU {timing['cpu_seconds'] / 60:.1f} min (training "
          f"{timing['training_cpu_seconds'] / 60:.1f}, data {timing['data_cpu_seconds'] / 60:.1f}); simulated data")
    import matplotlib

    matplotlib.use("Agg")
    fig = plots.plot_learning_curves(record)
    cache.write_atomic(args.figure, lambda tmp: fig.savefig(tmp, dpi=120))
    print(f"wrote {args.json}, {args.csv}, {args.figure}")
    return 0


def write_csv(path: Path, results: list[dict]) -> None:
    import io

    columns = ["task", "patch_size", "images_per_class", "patches_per_image", "seed", "training_patches",
               "training_images", "accuracy", "low", "high", "stopped", "rounds", "best_round", "steps", "passes",
               "cpu_seconds", "wall_seconds"]  # fmt: skip
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    for point in results:
        for run in point["runs"]:
            merged = {**point, **run}
            writer.writerow([round(v, 2) if isinstance(v, float) else "all" if v is None else v
                             for v in (merged[c] for c in columns)])  # fmt: skip
    cache.write_atomic(path, lambda tmp: Path(tmp).write_text(text.getvalue()))


if __name__ == "__main__":
    raise SystemExit(main())
