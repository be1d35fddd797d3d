"""What re-estimating batch normalisation's statistics does to notebook 07's networks (simulated data).

Trains the single-task MISLnets of notebook 07's default parameters (the same data, split, validation split, schedule
and seeds) with Keras's moving averages kept as they are (`batch_norm_batches=0`), then tests each network as trained
and again after `training.recalibrate_batch_norm` on 10, 25 (what `train` uses), 50 and all of its training batches.
Training is not changed by the re-estimation (`tests/test_training.py`), so the "25" column is the accuracy notebook 07
reports for the same seed. Patch accuracy on the test patches, in percent; the seconds each re-estimation took.
Run: `.venv/bin/python benchmarks/bench_batch_norm.py [--seeds 0 1 2] [--tasks manipulation camera]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import forensiclib as fl  # noqa: E402  (first: it holds TensorFlow's start-up log lines to the level above)

import numpy as np  # noqa: E402

from forensiclib import training  # noqa: E402
from forensiclib.unified.common import _callbacks, _validation_split  # noqa: E402
from forensiclib.unified.mislnet import compile_mislnet, mislnet  # noqa: E402
from forensiclib.unified.patches import paper2_patches  # noqa: E402

# notebook 07's default parameters (params/default.yaml)
SETTINGS = fl.UnifiedSettings(patch_size=64, epochs=4, patience=0, halving_every=1, learning_rate=0.01,
                              validation_fraction=0.2, seed=0)  # fmt: skip
BATCHES = (10, 25, 50, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tasks", nargs="+", default=["manipulation", "camera"], choices=["manipulation", "camera"])
    args = parser.parse_args()
    options = dict(patch_size=64, random_state=0, n_jobs=2, on_disk=False)
    data = {"manipulation": lambda: paper2_patches("manipulation", size=480, blocks_per_image=4, **options),
            "camera": lambda: paper2_patches("camera", size=24, image_side=256, patches_per_image=16, **options)}
    print(f"{'task':12s} {'seed':>4s} | {'moving averages':>15s} | "
          + " | ".join(f"{'all' if b is None else b:>3} batches (s)" for b in BATCHES), flush=True)
    gains = {}
    for task in args.tasks:
        train_set, test_set = data[task]()
        for seed in args.seeds:
            settings = dataclasses.replace(SETTINGS, seed=seed)
            fit, validation = _validation_split(settings, train_set)
            result = training.train(  # as unified.train_single_task trains, less the re-estimation
                lambda: compile_mislnet(mislnet(len(train_set.classes), input_size=64),
                                        learning_rate=settings.learning_rate),
                fit.x, fit.y, validation_data=(validation.x, validation.y), epochs=settings.epochs,
                batch_size=settings.batch_size, callbacks=_callbacks(settings), seed=seed, verbose=0,
                batch_norm_batches=0,
            )  # fmt: skip
            model, trained = result.model, result.model.get_weights()

            def accuracy():
                return 100 * float(np.mean(training.predict(model, test_set.x).argmax(-1) == test_set.y))

            cells, before = [], accuracy()
            for batches in BATCHES:
                model.set_weights(trained)
                start = time.perf_counter()
                training.recalibrate_batch_norm(model, fit.x, batch_size=settings.batch_size,
                                                batches=batches or len(fit.x), seed=seed)  # fmt: skip
                seconds = time.perf_counter() - start
                cells.append((accuracy(), seconds))
            gains.setdefault(task, []).append(cells[1][0] - before)
            print(f"{task:12s} {seed:4d} | {before:15.1f} | "
                  + " | ".join(f"{a:9.1f} ({s:4.1f})" for a, s in cells), flush=True)
    for task, values in gains.items():
        print(f"{task}: 25 batches minus moving averages, median {statistics.median(values):+.1f} points "
              f"(range {min(values):+.1f} to {max(values):+.1f}) over {len(values)} seeds")


if __name__ == "__main__":
    main()
