"""The paper profile of paper 2 (notebooks 07-11) on this CPU, one GPU and several: expected time per notebook.

Counts the work from the paper profile's parameters (`params/paper.yaml`, read through the notebooks' parameter
cells) and from what each notebook trains (notebook 07: both single-task networks; 08: both transfer sweeps over
every share depth; 09: the multitask sweep; 10: deep features of three networks for the trees; 11: task C alone
and the three-task hybrid), each network's FLOPs per patch counted from its layers at 256x256 (forward
multiply-adds x 2; training x 3; frozen layers forward only; from conv2 up the frozen features once, as
`run_transfer` does). A notebook's work is in the first notebook that needs it (later ones load it from the cache).

Throughput: this CPU's is measured in this run (MISLnet 256x256 training, `forensiclib.train`'s input path);
a GPU's is an ASSUMPTION passed as `--gpu-tflops` (effective, sustained), not a measurement: no GPU was at hand.
Several GPUs run independent jobs side by side (one network per GPU, the default strategy each: the transfer and
multitask sweeps are 21 independent trainings); the makespan comes from placing the longest jobs first.
Writes the table to `benchmarks/GPU_PLAN.md` and prints it.
Run: `.venv/bin/python benchmarks/plan_gpu.py [--gpu-tflops 40] [--gpus 1 4 8]`.
"""

from __future__ import annotations

import argparse
import heapq
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from bench_training import forward_flops  # noqa: E402

import forensiclib as fl  # noqa: E402
from forensiclib import training  # noqa: E402
from forensiclib.runner.reproduce import parameter_values  # noqa: E402
from forensiclib.unified.mislnet import SHARE_DEPTHS, block_layers  # noqa: E402

NOTEBOOKS = ("07_single_task", "08_transfer", "09_multitask", "10_deep_feature_trees", "11_limited_data")


def block_flops(size: int) -> dict[str, float]:
    """Forward FLOPs of one patch in each MISLnet block (and `output`)."""
    model = fl.mislnet(6, input_size=size)
    flops = {}
    for depth in (*SHARE_DEPTHS, "output"):
        sub = type("Sub", (), {"layers": block_layers(model, depth)})
        flops[depth] = forward_flops(sub)
    return flops


def task_sizes(p: dict) -> dict[str, tuple[int, int]]:
    """(training, test) patches of tasks A, B, C under the paper profile, as `paper2_patches` cuts them."""
    grid = (p["image_side"] // p["patch_size"]) ** 2
    per_image = min(grid, p["patches_per_image"])
    a = p["manipulation_images"] * p["blocks_per_image"] * 6
    b = p["camera_images_per_device"] * 2 * 20 * per_image
    c = p["limited_images_per_device"] * 2 * 5 * per_image
    return {"A": (round(0.8 * a), a - round(0.8 * a)), "B": (b // 2, b - b // 2), "C": (c // 2, c - c // 2)}


def jobs(p: dict, flops: dict[str, float]) -> dict[str, list[tuple[str, float]]]:
    """Per notebook: its independent jobs as (name, FLOPs)."""
    sizes, epochs = task_sizes(p), p["epochs"]
    full = sum(flops.values())
    below = lambda d: sum(flops[k] for k in SHARE_DEPTHS[: SHARE_DEPTHS.index(d) + 1])  # noqa: E731
    single = lambda t: 3 * full * epochs * sizes[t][0] + full * sizes[t][1]  # noqa: E731

    def transfer(t, depth):
        train, test = sizes[t]
        above = full - below(depth)
        if SHARE_DEPTHS.index(depth) < 2:  # the whole frozen network runs every step
            return (below(depth) + 3 * above) * epochs * train + full * test
        return below(depth) * (train + test) + 3 * above * epochs * train + above * test

    def multitask(tasks):
        steps = math.ceil(max(sizes[t][0] for t in tasks) / p["batch_size"])
        return 3 * full * epochs * steps * p["batch_size"] * len(tasks) + full * sum(sizes[t][1] for t in tasks)

    return {
        "07_single_task": [("single A", single("A")), ("single B", single("B"))],
        "08_transfer": [(f"transfer {src}->{t} at {d}", transfer(t, d))
                        for src, t in (("B", "A"), ("A", "B")) for d in SHARE_DEPTHS],
        "09_multitask": [(f"multitask at {d}", multitask("AB")) for d in p["multitask_depths"]],
        "10_deep_feature_trees": [(f"fc2 features, network {i}", below("fc2") * sum(map(sum, (sizes["A"], sizes["B"]))))
                                  for i in range(3)],
        "11_limited_data": [("single C", single("C")), ("multitask ABC at fc2", multitask("ABC"))],
    }  # fmt: skip


def cpu_rate(steps: int = 6) -> tuple[float, float]:
    """(patches/s, effective FLOP/s) of MISLnet 256x256 training on this machine, median of 3 epochs."""
    model = fl.compile_mislnet(fl.mislnet(6))
    x = np.random.default_rng(0).uniform(0, 255, (40 * steps, 256, 256, 1)).astype("float32")
    y = np.random.default_rng(1).integers(0, 6, len(x))
    data = training.fit_dataset(x, y, batch_size=40)
    model.fit(data.take(2), epochs=1, verbose=0)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        model.fit(data, epochs=1, verbose=0)
        times.append(time.perf_counter() - start)
    rate = len(x) / statistics.median(times)
    return rate, rate * 3 * forward_flops(model)


def makespan(durations: list[float], gpus: int) -> float:
    """Longest-first placement of independent jobs on `gpus` devices; the time the last one ends."""
    ends = [0.0] * gpus
    for d in sorted(durations, reverse=True):
        heapq.heapreplace(ends, ends[0] + d)  # the device free first takes the next job
    return max(ends)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu-tflops", type=float, default=40.0,
                        help="ASSUMED sustained training throughput of one GPU in TFLOP/s (replace with a measurement)")
    parser.add_argument("--gpus", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    args.gpus = sorted({1, *args.gpus})
    p = parameter_values("07_single_task", "paper")
    for notebook in NOTEBOOKS[1:]:  # the notebooks share their parameters (one YAML anchor), so their caches
        if parameter_values(notebook, "paper") != p:
            raise SystemExit(f"{notebook}'s paper parameters differ from 07's; this plan assumes they are shared")
    flops = block_flops(p["patch_size"])
    rate, cpu_flops = cpu_rate()
    gpu_flops = args.gpu_tflops * 1e12
    sizes = task_sizes(p)
    lines = [
        "# Paper 2 under the paper profile: expected time per notebook",
        "",
        f"From `benchmarks/plan_gpu.py` (a plan, not a run). Patches of {p['patch_size']}x{p['patch_size']}, "
        f"{p['epochs']} epochs, batch {p['batch_size']}; training / test patches: "
        + ", ".join(f"task {t} {tr:,} / {te:,}" for t, (tr, te) in sizes.items()) + ".",
        f"MISLnet: {sum(flops.values()) / 1e9:.2f} GFLOP per patch forward, {3 * sum(flops.values()) / 1e9:.2f} "
        "training.",
        f"This CPU (measured in the same run, {os.cpu_count()} cores, {platform.machine()}): {rate:.1f} patches/s, "
        f"{cpu_flops / 1e9:.0f} GFLOP/s effective.",
        f"One GPU: **{args.gpu_tflops:g} TFLOP/s effective, an assumption** (no GPU measured here; pass a measured "
        "value with `--gpu-tflops`).",
        "",
        "| notebook | jobs | PFLOP | this CPU (days) | 1 GPU (h) | " + " | ".join(f"{g} GPUs (h)" for g in args.gpus if g > 1)
        + " |",
        "|---|---|---|---|---|" + "---|" * sum(g > 1 for g in args.gpus),
    ]
    totals = np.zeros(2 + len(args.gpus))
    all_jobs = []
    for notebook, work in jobs(p, flops).items():
        total = sum(f for _, f in work)
        all_jobs += [f for _, f in work]
        per_gpu = [makespan([f / gpu_flops for _, f in work], g) / 3600 for g in args.gpus]
        row = [total / cpu_flops / 86400, *per_gpu]
        totals[: len(row)] += row
        cells = " | ".join(f"{v:.1f}" for v, g in zip(per_gpu, args.gpus) if g > 1)
        lines.append(f"| {notebook} | {len(work)} | {total / 1e15:.1f} | {row[0]:.1f} | {per_gpu[0]:.1f} | {cells} |")
    whole = [makespan([f / gpu_flops for f in all_jobs], g) / 3600 for g in args.gpus]
    lines.append(f"| **all, notebooks one after another** | {len(all_jobs)} | {sum(all_jobs) / 1e15:.1f} | {totals[0]:.1f} | "
                 + " | ".join(f"{v:.1f}" for v in totals[1 : 1 + len(args.gpus)]) + " |")
    lines.append("| **all, jobs of every notebook side by side** | | | | "
                 + " | ".join(f"{v:.1f}" for v in whole) + " |")
    lines += [
        "",
        "How to run it:",
        "- One GPU: `make reproduce PROFILE=paper DATA=<folder>`; the default strategy puts everything on the GPU, the "
        "patches stream from `.cache/patches/` (`patches_on_disk: true`), checkpoints every epoch.",
        "- Several GPUs (the plan; `make reproduce` runs one notebook, one training at a time today): the sweeps are "
        "independent trainings, so run them side by side, one per GPU (`CUDA_VISIBLE_DEVICES=k`, one process each, "
        "sharing the cache folder); the notebooks then load them from the cache. `FORENSICLIB_STRATEGY=mirrored` (tf.distribute.MirroredStrategy) splits each batch instead, but "
        "the paper's batch of 40 gives each of 8 GPUs 5 patches a step, too few to keep them busy, so it is not "
        "the plan here.",
        "- Reading: a GPU at the assumed rate trains about "
        f"{gpu_flops / (3 * sum(flops.values())):.0f} patches/s, "
        f"{gpu_flops / (3 * sum(flops.values())) * p['patch_size'] ** 2 / 2**20:.0f} MB/s of uint8 patches from disk "
        "per GPU; a local NVMe SSD reads several GB/s.",
        "- Paper 1's notebooks (03-06) are not in the table: their cost is feature extraction on CPU worker "
        "processes, which a GPU does not speed up; the 1-D CNN is small.",
    ]
    text = "\n".join(lines) + "\n"
    Path(__file__).with_name("GPU_PLAN.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
