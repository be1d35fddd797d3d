"""glibc's heap settings (`forensiclib._heap.tune_heap`): training and data building in fresh processes, side by side.

Three heaps, each in its own fresh process, alternating within every round:
- `default`: glibc left alone;
- `pad only`: the 16 MB top pad alone (`mallopt(M_TOP_PAD)`), which is what feature extraction used to set in the
  notebooks' processes before training; any `mallopt` turns glibc's own mmap-threshold adjustment off;
- `tuned`: `tune_heap` (mmap threshold, trim threshold and top pad together), what the suite sets now.

Work: paper 1's 1-D CNN trained for a few epochs on 1,920 synthetic histogram vectors (909 values, 82% zeros like
real ones; 240 for validation), and a Public-social-like data build (simulated cameras and platforms). Figures are
medians over rounds (epoch time: the median epoch after the first, per process), with page faults per epoch or per
image.
Run: `.venv/bin/python benchmarks/bench_heap.py [--rounds 3] [--epochs 4] [--per-class 6]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

HEAPS = ("default", "pad only", "tuned")

_PRELUDE = """
import ctypes, json, resource, sys, time
import forensiclib._heap as heap
mode = sys.argv[1]
if mode == "tuned":
    heap.tune_heap()
else:
    heap._tuned = True  # the suite's own calls of tune_heap now do nothing
    if mode == "pad only":
        ctypes.CDLL(None).mallopt(-2, 16 << 20)
faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt
"""

_TRAIN = _PRELUDE + """
import numpy as np, keras, statistics
from forensiclib.training import train
from forensiclib.provenance.dct_cnn import dct_cnn
rng = np.random.default_rng(0)
def histograms(n):
    x = rng.random((n, 909), dtype=np.float32) * (rng.random((n, 909)) > 0.82) / 10
    return x.astype(np.float32), rng.integers(0, 3, n)
x, y = histograms(1920)
xv, yv = histograms(240)
times, counts = [], []
class Clock(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start, self.faults = time.perf_counter(), faults()
    def on_epoch_end(self, epoch, logs=None):
        times.append(time.perf_counter() - self.start)
        counts.append(faults() - self.faults)
train(lambda: dct_cnn(3), x, y, validation_data=(xv, yv), epochs=int(sys.argv[2]), batch_size=64,
      callbacks=[Clock()], seed=0, verbose=0)
print(json.dumps({"seconds": statistics.median(times[1:]), "faults": statistics.median(counts[1:])}))
"""

_BUILD = _PRELUDE + """
import tempfile
from forensiclib.data.builders import build_uncontrolled_social
with tempfile.TemporaryDirectory() as folder:
    start, before = time.perf_counter(), faults()
    dataset = build_uncontrolled_social(int(sys.argv[2]), cache_dir=folder, n_jobs=1, progress=False)
    n = len(dataset.files)
    print(json.dumps({"seconds": time.perf_counter() - start, "faults": (faults() - before) / n, "images": n}))
"""


def fresh(script: str, heap: str, argument: int) -> dict:
    out = subprocess.run([sys.executable, "-c", script, heap, str(argument)], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"the {heap!r} process failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each runs every heap once (default 3)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per training process (default 4)")
    parser.add_argument("--per-class", type=int, default=6, help="images per platform in the data build (default 6)")
    args = parser.parse_args(argv)
    for name, value in (("--rounds", args.rounds), ("--epochs", args.epochs), ("--per-class", args.per_class)):
        if value < (2 if name == "--epochs" else 1):
            parser.error(f"{name} must be at least {2 if name == '--epochs' else 1}; received {value}")
    from tqdm import tqdm

    training = {heap: [] for heap in HEAPS}
    building = {heap: [] for heap in ("default", "tuned")}
    with tqdm(total=args.rounds * (len(training) + len(building)), desc="fresh processes", unit="run") as bar:
        for _ in range(args.rounds):
            for heap in HEAPS:
                training[heap].append(fresh(_TRAIN, heap, args.epochs))
                bar.update()
            for heap in building:
                building[heap].append(fresh(_BUILD, heap, args.per_class))
                bar.update()

    print(f"\n1-D CNN, 1,920 training vectors, median epoch after the first ({args.rounds} rounds x {args.epochs} epochs)")
    _print_medians(training, seconds_unit="s/epoch", faults_unit="page faults/epoch")
    print(f"\nPublic-social-like build, {building['default'][0]['images']} images, one process ({args.rounds} rounds)")
    _print_medians(building, seconds_unit="s", faults_unit="page faults/image")


def _print_medians(runs_by_heap: dict, *, seconds_unit: str, faults_unit: str) -> None:
    """One line per heap: median seconds and page faults over the rounds, and the time as a ratio of the default."""
    medians = {heap: {key: statistics.median(run[key] for run in runs) for key in ("seconds", "faults")}
               for heap, runs in runs_by_heap.items()}  # fmt: skip
    for heap, m in medians.items():
        print(f"  {heap:9s} {m['seconds']:6.2f} {seconds_unit}  {m['faults']:10,.0f} {faults_unit}  "
              f"x{m['seconds'] / medians['default']['seconds']:.2f} of default")

if __name__ == "__main__":
    main()
