"""Transfer by share depth, two ways: the frozen part run on every step, or its output computed once.

A frozen extractor's output does not change during training, so from `conv2` up `run_transfer` computes it once and
trains the new layers on it (paper 2, Sec. 5.2; `precompute_features=None` decides by size). This benchmark runs the
camera -> manipulation sweep both ways, side by side in one run, on the default profile's data and settings (read from
notebook 08's parameters), each depth timed on its own with fresh caches, and prints the time per depth, the speed-up
and both test accuracies.
`--patch-size 256` runs the same sweep (same patch counts, epochs and settings) on the paper's patch size; the
simulated camera images are then made 4 patches wide so that each still gives `patches_per_image` patches.
`--epochs 30` trains the transfer sweep for the paper's 30 epochs (the source network keeps the profile's).
Run: `.venv/bin/python benchmarks/bench_transfer.py [--profile default] [--depths conv2 conv3 conv4 fc1 fc2]
[--patch-size 256] [--epochs 30]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import forensiclib as fl  # noqa: E402
from forensiclib.reproduce import parameter_values  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--depths", nargs="+", default=["conv2", "conv3", "conv4", "fc1", "fc2"])
    parser.add_argument("--patch-size", type=int, default=None, help="patch side (default: the profile's)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs of the sweep (default: the profile's)")
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
    print(f"camera -> manipulation, {len(manipulation[0])} training / {len(manipulation[1])} test patches of "
          f"{p['patch_size']}x{p['patch_size']}, {settings.epochs} epochs ({args.profile} profile)")
    print(f"{'depth':<7} {'frozen net each step':>22} {'features once':>14} {'speed-up':>9} "
          f"{'accuracy (each step)':>21} {'accuracy (once)':>16}")
    speedups = []
    for depth in args.depths:
        row = {}
        for precompute in (False, True):
            with tempfile.TemporaryDirectory() as cache:
                start = time.perf_counter()
                accuracy = fl.run_transfer(source, *manipulation, settings, share_depths=[depth],
                                           precompute_features=precompute, cache_dir=cache, verbose=0)[depth]
                row[precompute] = (time.perf_counter() - start, accuracy)
        (slow, a_slow), (fast, a_fast) = row[False], row[True]
        speedups.append(slow / fast)
        print(f"{depth:<7} {slow:>20.1f} s {fast:>12.1f} s {slow / fast:>8.1f}x {100 * a_slow:>20.1f}% "
              f"{100 * a_fast:>15.1f}%")
    print(f"speed-up at the deepest depth ({args.depths[-1]}): {speedups[-1]:.1f}x (target: at least 5x)")


if __name__ == "__main__":
    main()
