"""Peak memory of paper 2's training with the patches streamed from disk, at a dataset size and at 4x that size.

Each run is a fresh process that writes random 256x256 patches to a `.npy` file a chunk at a time, then, as the
paper profile does (`patches_from_dataset(on_disk=...)`): takes the set's digest (its cache key), trains MISLnet
for a fixed number of steps of 40 patches (`forensiclib.train`, batches read from disk through tf.data) and
predicts every patch. The same runs with the patches loaded into memory (as the default profile holds them) are
the comparison. Prints each run's peak resident memory (`ru_maxrss`) and the ratio between the two sizes.
Run: `.venv/bin/python benchmarks/bench_streaming.py [--patches 1000 --patch-size 256 --steps 10]`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def child(args) -> None:
    import numpy as np

    import forensiclib as fl
    from forensiclib import training
    from forensiclib.data.patchfile import ArrayFile, write_rows
    from forensiclib.unified.patches import PatchSet

    n, size = args.patches, args.patch_size
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        chunks = (rng.integers(0, 256, (min(256, n - i), size, size, 1), dtype=np.uint8) for i in range(0, n, 256))
        x = write_rows(Path(folder) / "patches.npy", chunks, n_rows=n, row_shape=(size, size, 1), dtype=np.uint8)
        if args.way == "memory":
            x = np.load(x.path).astype(np.float32)
        labels = rng.integers(0, 6, n)
        patches = PatchSet(x=x, y=labels, image=np.arange(n), classes=tuple("abcdef"))
        start = time.perf_counter()
        patches.digest()
        result = fl.train(lambda: fl.compile_mislnet(fl.mislnet(6, input_size=size)), patches.x, patches.y, epochs=1,
                          batch_size=40, steps_per_epoch=args.steps, verbose=0)  # fmt: skip
        probabilities = training.predict(result.model, patches.x, batch_size=64)
        assert probabilities.shape == (n, 6) and isinstance(patches.x, ArrayFile) == (args.way == "disk")
        elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_mb": peak_mb, "seconds": elapsed}))


def run(way: str, patches: int, args) -> dict:
    command = [sys.executable, __file__, "--child", "--way", way, "--patches", str(patches),
               "--patch-size", str(args.patch_size), "--steps", str(args.steps)]  # fmt: skip
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=1000, help="patches of the smaller dataset (the larger: 4x)")
    parser.add_argument("--patch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10, help="training steps of 40 patches per run")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--way", choices=("disk", "memory"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    size, sizes = args.patch_size, (args.patches, 4 * args.patches)
    print(f"{size}x{size} patches, {args.steps} training steps of 40, then a prediction for every patch; "
          f"peak resident memory of a fresh process per run")
    print(f"{'patches':>8} {'float32 in memory':>18} {'streamed: peak MB':>18} {'in memory: peak MB':>19} "
          f"{'streamed: s':>12} {'in memory: s':>13}")
    peaks = {}
    for n in sizes:
        disk, memory = run("disk", n, args), run("memory", n, args)
        peaks[n] = (disk["peak_mb"], memory["peak_mb"])
        print(f"{n:>8} {n * size * size * 4 / 2**20:>15.0f} MB {disk['peak_mb']:>18.0f} {memory['peak_mb']:>19.0f} "
              f"{disk['seconds']:>12.1f} {memory['seconds']:>13.1f}")
    (d1, m1), (d4, m4) = peaks[sizes[0]], peaks[sizes[1]]
    print(f"peak at 4x the data / peak at 1x: streamed {d4 / d1:.2f}x, in memory {m4 / m1:.2f}x")


if __name__ == "__main__":
    main()
