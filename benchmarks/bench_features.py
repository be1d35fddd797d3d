"""Feature-extraction speed: the DCT-histogram extractor against jpeglib's coefficient read alone.

Both run side by side on the same files, alternating within each round; the
figures are medians over rounds. Also: batch extraction with 1 and 2 worker
processes (no cache), once the workers have started, and the first call with
its start-up; and, in the same rounds, the machine's own limit for two
processes: two independent processes each extracting half the files in one
call with 1 worker (no pool, nothing sent back), whose speed-up over one is what 2 workers could reach at
best right now (a shared machine gives less when its neighbours are busy). Last, fresh processes extracting image by
image as a worker does, with glibc's default heap and with the heap `extract_features` sets in its workers and its
own process (`forensiclib._heap.tune_heap`; `benchmarks/bench_heap.py` measures it on training and data builds).
Run: `.venv/bin/python benchmarks/bench_features.py [--files 60] [--rounds 7]`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jpeglib
import numpy as np

import forensiclib as fl

PHOTOS = ("astronaut", "coffee", "china", "chelsea", "rocket")


def make_files(folder: Path, n_files: int) -> list[Path]:
    """Real photographs at several qualities and subsamplings, 0.13-0.27 MP each."""
    files = []
    for i in range(n_files):
        rgb = fl.load_photo(PHOTOS[i % len(PHOTOS)])
        quality, subsampling = 50 + 5 * (i % 10), ("4:2:0", "4:4:4")[i % 2]
        files.append(fl.encode_jpeg(rgb, folder / f"{i:03d}.jpg", quality=quality, subsampling=subsampling))
    return files


def read_only(files):
    for path in files:
        jpeglib.read_dct(str(path)).Y


def extractor(files):
    for path in files:
        fl.image_features(path)


_HALF = """
import sys, time
from pathlib import Path
import forensiclib as fl
files = [Path(p) for p in sys.argv[1:]]
fl.extract_features(files, cache_dir=False, progress=False)  # warm-up
print("ready", flush=True)
while sys.stdin.readline().strip() == "go":
    start = time.perf_counter()
    fl.extract_features(files, cache_dir=False, progress=False)
    print(time.perf_counter() - start, flush=True)
"""


_FRESH = """
import resource, statistics, sys, time
from pathlib import Path
from forensiclib.provenance import features
if sys.argv[1] == "padded":
    from forensiclib._heap import tune_heap
    tune_heap()  # what a worker of extract_features does first
files = [Path(p) for p in sys.argv[2:]]
for path in files:  # warm-up
    features.image_features(path)
faults, times = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, []
for _ in range(5):
    start = time.perf_counter()
    for path in files:  # one image after the other, as a worker
        features.image_features(path)
    times.append(time.perf_counter() - start)
print(statistics.median(times), (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / 5 / len(files))
"""


def fresh_process(files, heap: str) -> tuple[float, float]:
    """A fresh process extracting the files one by one as a worker does, with glibc's default heap or the
    heap `extract_features` sets: (median seconds per pass, page faults per image)."""
    out = subprocess.run([sys.executable, "-c", _FRESH, heap, *map(str, files)], capture_output=True, text=True,
                         check=True)  # fmt: skip
    seconds, faults = map(float, out.stdout.split())
    return seconds, faults


class Halves:
    """Two processes, each extracting its half of the files in a loop on its own: `timed()` starts both and
    returns the wall time until both are done."""

    def __init__(self, files):
        halves = [files[: len(files) // 2], files[len(files) // 2 :]]
        self.processes = [subprocess.Popen([sys.executable, "-c", _HALF, *map(str, half)], stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, text=True) for half in halves]  # fmt: skip
        for process in self.processes:
            assert process.stdout.readline().strip() == "ready"

    def timed(self) -> float:
        start = time.perf_counter()
        for process in self.processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        for process in self.processes:
            float(process.stdout.readline())
        return time.perf_counter() - start

    def close(self):
        for process in self.processes:
            process.stdin.close()
            process.wait()


def timed(function, *args, **kwargs) -> float:
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=60, help="number of JPEG files (default 60)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds; medians are reported (default 7)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(Path(tmp), args.files)
        megapixels = sum(fl.read_dct(p).height * fl.read_dct(p).width for p in files) / 1e6
        extractor(files[:3]), read_only(files[:3])  # warm-up
        times = {"jpeglib read_dct (coefficients only)": [], "forensiclib image_features": []}
        for round_ in range(args.rounds):
            order = list(times) if round_ % 2 == 0 else list(reversed(times))
            for name in order:
                times[name].append(timed(read_only if name.startswith("jpeglib") else extractor, files))
        from forensiclib.provenance.features import _discard_pool

        # the first call with 2 workers starts them (spawn); later calls reuse them, as in a notebook
        cold = timed(fl.extract_features, files, n_jobs=2, cache_dir=False, progress=False)
        halves = Halves(files)
        batch, independent = {1: [], 2: []}, []
        for _ in range(args.rounds):
            for jobs in (1, 2):
                batch[jobs].append(timed(fl.extract_features, files, n_jobs=jobs, cache_dir=False, progress=False))
            independent.append(halves.timed())
        halves.close()
        _discard_pool()
        heap = {"default": [], "padded": []}
        for _ in range(3):
            for kind in heap:
                heap[kind].append(fresh_process(files, kind))

    print(f"{len(files)} JPEG files, {megapixels:.1f} MP in all, {args.rounds} rounds, medians\n")
    print(f"{'':40s} {'images/s':>10s} {'MP/s':>8s}")
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, seconds in medians.items():
        print(f"{name:40s} {len(files) / seconds:10.1f} {megapixels / seconds:8.1f}")
    ratio = medians["forensiclib image_features"] / medians["jpeglib read_dct (coefficients only)"]
    print(f"\nextractor / coefficient read time ratio: {ratio:.2f}x (target: at most 1.3x)")
    one, two = statistics.median(batch[1]), statistics.median(batch[2])
    print(f"\nextract_features, no cache: 1 worker {len(files) / one:.1f} images/s, "
          f"2 workers {len(files) / two:.1f} images/s, speed-up {one / two:.2f}x (target: at least 1.7x; "
          f"workers already started; 2-worker runs {np.round(batch[2], 2).tolist()} s)")  # fmt: skip
    print(f"the machine's limit in the same rounds: two independent processes on half the files each "
          f"{statistics.median(independent):.3f} s, {one / statistics.median(independent):.2f}x the speed of 1 worker")
    print(f"first call with 2 workers, start-up included: {cold:.2f} s, {one / cold:.2f}x the speed of 1 worker")
    (default, default_faults), (padded, padded_faults) = (
        (statistics.median(t for t, _ in runs), statistics.median(f for _, f in runs)) for runs in heap.values())
    print(f"a fresh process extracting image by image like a worker (3 processes each way): glibc's default heap {default:.3f} s "
          f"({default_faults:.0f} page faults per image), the tuned heap {padded:.3f} s ({padded_faults:.0f}), "
          f"{default / padded:.2f}x")


if __name__ == "__main__":
    main()
