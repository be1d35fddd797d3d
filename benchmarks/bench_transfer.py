"""Transfer by share depth, two ways: the frozen part run on every step, or its output computed once.

A frozen extractor's output does not change during training, so from `conv2` up `run_transfer` computes it once,
for all depths of a sweep in one forward pass, and trains the new layers on it (paper 2, Sec. 5.2;
`precompute_features=None` decides by size). This benchmark runs the camera -> manipulation sweep both ways,
alternating, each run with a fresh cache, on the default profile's data and settings (read from notebook 08's
parameters). It prints, per depth, the time of the frozen-net path and of the features path (the head's training
and its test prediction), the time of the features path's one shared forward pass, the whole sweep both ways
(medians over `--repeats` runs), the speed-ups and both test accuracies.
`--patch-size 256` runs the same sweep (same patch counts, epochs and settings) on the paper's patch size; the
simulated camera images are then made 4 patches wide so that each still gives `patches_per_image` patches.
`--epochs 30` trains the transfer sweep for the paper's 30 epochs (the source network keeps the profile's).
Run: `.venv/bin/python benchmarks/bench_transfer.py [--profile default] [--depths conv2 conv3 conv4 fc1 fc2]
[--patch-size 256] [--epochs 30] [--repeats 3]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from collections import defaultdict

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import forensiclib as fl  # noqa: E402
from forensiclib.runner.reproduce import parameter_values  # noqa: E402
from forensiclib.unified import transfer as unified  # noqa: E402 (the module run_transfer looks its helpers up in)


def timed_sweep(source, manipulation, settings, depths, precompute):
    """One `run_transfer` sweep with a fresh cache: (total seconds, {depth: seconds}, shared-pass seconds,
    {depth: accuracy}). Per-depth times are those of each depth's cached step; the shared pass is timed apart."""
    per_depth, passes = {}, []
    evaluation, features = unified._cached_evaluation, unified._frozen_features

    def timed_evaluation(path, *args):
        start = time.perf_counter()
        result = evaluation(path, *args)
        per_depth[len(per_depth)] = time.perf_counter() - start
        return result

    def timed_features(*args):
        start = time.perf_counter()
        result = features(*args)
        passes.append(time.perf_counter() - start)
        return result

    unified._cached_evaluation, unified._frozen_features = timed_evaluation, timed_features
    try:
        with tempfile.TemporaryDirectory() as cache:
            start = time.perf_counter()
            accuracies = fl.run_transfer(source, *manipulation, settings, share_depths=depths,
                                         precompute_features=precompute, cache_dir=cache, verbose=0)  # fmt: skip
            total = time.perf_counter() - start
    finally:
        unified._cached_evaluation, unified._frozen_features = evaluation, features
    return total, dict(zip(depths, per_depth.values())), sum(passes), accuracies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--depths", nargs="+", default=["conv2", "conv3", "conv4", "fc1", "fc2"])
    parser.add_argument("--patch-size", type=int, default=None, help="patch side (default: the profile's)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs of the sweep (default: the profile's)")
    parser.add_argument("--repeats", type=int, default=3, help="sweeps each way; medians are reported (default 3)")
    args = parser.parse_args()
    p = parameter_values("08_transfer", args.profile)
    if args.patch_size:
        p["patch_size"], p["image_side"] = args.patch_size, max(p["image_side"], 4 * args.patch_size)
    settings = fl.UnifiedSettings(patch_size=p["patch_size"], epochs=p["epochs"], batch_size=p["batch_size"],
                                  learning_rate=p["learning_rate"], halving_every=p["halving_every"], seed=p["seed"])
    common = dict(patch_size=p["patch_size"], random_state=p["seed"], n_jobs=p["n_jobs"], progress=False)
    manipulation = fl.paper2_patches("manipulation", size=p["manipulation_images"],
                                     blocks_per_image=p["blocks_per_image"], **common)
    camera = fl.paper2_patches("camera", size=p["camera_images_per_device"], image_side=p["image_side"],
                               patches_per_image=p["patches_per_image"], **common)  # fmt: skip
    source = fl.train_single_task(*camera, settings, verbose=0)
    if args.epochs:
        settings = dataclasses.replace(settings, epochs=args.epochs)
    runs = defaultdict(list)
    for _ in range(args.repeats):
        for precompute in (False, True):
            runs[precompute].append(timed_sweep(source, manipulation, settings, args.depths, precompute))

    def median(precompute, field, depth=None):
        values = [run[field] if depth is None else run[field][depth] for run in runs[precompute]]
        return statistics.median(values)

    accuracies = {precompute: runs[precompute][0][3] for precompute in runs}
    same = all(run[3] == accuracies[precompute] for precompute in runs for run in runs[precompute])
    print(f"camera -> manipulation, {len(manipulation[0])} training / {len(manipulation[1])} test patches of "
          f"{p['patch_size']}x{p['patch_size']}, {settings.epochs} epochs ({args.profile} profile), "
          f"medians of {args.repeats} sweeps each way")
    print(f"{'depth':<7} {'frozen net each step':>22} {'features once':>14} {'speed-up':>9} "
          f"{'accuracy (each step)':>21} {'accuracy (once)':>16}")
    for depth in args.depths:
        slow, fast = median(False, 1, depth), median(True, 1, depth)
        print(f"{depth:<7} {slow:>20.2f} s {fast:>12.2f} s {slow / fast:>8.1f}x {100 * accuracies[False][depth]:>20.1f}% "
              f"{100 * accuracies[True][depth]:>15.1f}%")
    shared = median(True, 2)
    print(f"one forward pass for every depth (features path, training and test patches): {shared:.2f} s")
    slow, fast = median(False, 0), median(True, 0)
    print(f"whole sweep: {slow:.1f} s frozen net each step, {fast:.1f} s features once: {slow / fast:.1f}x")
    deep = args.depths[-2:]
    slow_deep = sum(median(False, 1, d) for d in deep)
    fast_deep = sum(median(True, 1, d) for d in deep) + shared
    print(f"deepest two depths ({', '.join(deep)}), the whole shared pass counted: {slow_deep:.1f} s vs "
          f"{fast_deep:.1f} s, {slow_deep / fast_deep:.1f}x (target: at least 5x)")
    print(f"accuracies the same in every repeat of each path: {same}")


if __name__ == "__main__":
    main()
