"""Where the time of a paper-1 experiment goes: data, features, training, trees and evaluation of one dataset.

One of notebook 03's datasets (`--dataset`, default Public social) at the sizes the profile runs it (the notebook's
`parameters` cell, then the profile's values), from an empty temporary cache, in the order `provenance_setup` and the
notebook run them:

1. data: the simulated dataset built (`paper1_dataset`, every class its builder makes; IPLab's builds eight) and
   restricted to the notebook's three classes;
2. features: the DCT-histogram features of every image of the three classes (`extract_features`, the call
   `run_provenance` makes through `patch_data`; its worker pool's start-up included), into the empty cache;
3. training: `run_provenance` per seed (`--seeds`, default 1) minus its baseline: the 1-D CNN trained as it trains
   it (early stopping, at most `max_epochs`), the test patches predicted and voted, the features read back from the
   cache, the model saved;
4. trees: the bagged-decision-tree baseline inside the same `run_provenance` (timed by wrapping the library's
   functions, so the code timed is the notebook's): every patch of the training images read back from the cache,
   the per-image mean histograms, the trees' fit and prediction;
5. evaluation: `evaluate_provenance` (2000 bootstrap resamples) on each seed's result, as the notebook calls it.

Each stage includes the imports it is the first to need, as in a notebook's kernel: TensorFlow's lands in the
first seed's training. The table gives each stage's wall seconds and share of their sum (training, trees and
evaluation summed over the seeds run); below it, what `train()` itself took, the machine and its load average (a
busy machine reads slower), and the sizes. Last, an EXTRAPOLATION (not a measurement) of notebook 03 from an empty
cache: each stage's time per image of the measured dataset times the images of each of the three datasets at the
profile's sizes, training, trees and evaluation once per profile seed (`--seeds` N averages them over N seeds).
Image sizes differ between the datasets (IPLab's originals are the largest) and training stops at a different epoch
on each, so run each `--dataset` for a figure of each. `--size` and `--epochs` change what is measured but not the
extrapolation's target (the profile's sizes): an extrapolation from a quick check with them is not the profile's
time (one-time costs, TensorFlow's import among them, are spread over a few images).

Run: `.venv/bin/python benchmarks/bench_stages.py [--dataset public_social] [--profile default] [--size N]
[--seeds 1] [--epochs N] [--n-jobs N] [--no-progress]` (`--size` at least 5 for Public social, 15 for the
others: the test split needs 2 source photos). params/default.yaml puts a paper-1 network at 2-4 min on a 2-core
CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

NOTEBOOK = "notebooks/03_patch_level_3_classes.ipynb"
#: Each paper-1 dataset: its size parameter in notebook 03 and the classes its simulator builds.
DATASETS = {"ucid_social": "ucid_social_sources", "public_social": "public_social_per_class", "iplab": "iplab_sources"}
STAGES = ("data", "features", "training", "trees", "evaluation")


def image_counts(name: str, values: dict, size: int | None = None) -> tuple[int, int]:
    """(images built, images of the notebook's three classes) of a paper-1 simulated dataset at `values`' sizes."""
    size = values[DATASETS[name]] if size is None else size
    if name == "ucid_social":  # every source at `qualities` qualities, shared on the three platforms
        return (n := size * values["ucid_social_qualities"] * 3), n
    if name == "public_social":  # different images on each of the three platforms
        return size * 3, size * 3
    return size * 8, size * 3  # IPLab: each original, and its copy on each of 7 platforms; 3 of the 8 used


def smallest_size(name: str) -> int:
    """The smallest size whose test split holds the 2 source photos `evaluate_provenance` resamples at the least
    (10% of the sources, rounded; Public social's images are each their own source, three per size unit)."""
    return 5 if name == "public_social" else 15


def machine() -> str:
    """`CPU model, N cores (M usable), load average a / b / c`."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return f"{model}, {os.cpu_count()} cores ({usable} usable), load average {load} (1 / 5 / 15 min)"


class _Clock:
    """Seconds spent inside the wrapped library functions, per part."""

    def __init__(self):
        self.parts = {"fit": 0.0, "predict": 0.0, "baseline": 0.0}
        self.trained = False  # run_provenance reads the baseline's patches after training the network

    @contextlib.contextmanager
    def part(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.parts[name] += time.perf_counter() - start


@contextlib.contextmanager
def _timed_library(clock: _Clock):
    """Wrap what `run_provenance` calls (it imports them at call time) so that `clock` splits its time: the
    network's fit and test prediction, and the baseline (its patch reads after training, its mean histograms, the
    trees' fit and prediction)."""
    from forensiclib import evaluate, training
    from forensiclib.provenance import experiment

    originals = (training.train, training.predict, evaluate.bagged_trees, experiment.patch_data,
                 experiment._image_histograms)  # fmt: skip

    def train(*args, **kwargs):
        with clock.part("fit"):
            result = originals[0](*args, **kwargs)
        clock.trained = True
        return result

    def predict(*args, **kwargs):
        with clock.part("predict"):
            return originals[1](*args, **kwargs)

    class _TimedTrees:
        def __init__(self, trees):
            self.trees = trees

        def fit(self, *args, **kwargs):
            with clock.part("baseline"):
                self.trees.fit(*args, **kwargs)
            return self

        def predict(self, *args, **kwargs):
            with clock.part("baseline"):
                return self.trees.predict(*args, **kwargs)

    def bagged_trees(*args, **kwargs):
        with clock.part("baseline"):
            return _TimedTrees(originals[2](*args, **kwargs))

    def patch_data(*args, **kwargs):
        if not clock.trained:
            return originals[3](*args, **kwargs)
        with clock.part("baseline"):
            return originals[3](*args, **kwargs)

    def image_histograms(*args, **kwargs):
        with clock.part("baseline"):
            return originals[4](*args, **kwargs)

    training.train, training.predict, evaluate.bagged_trees = train, predict, bagged_trees
    experiment.patch_data, experiment._image_histograms = patch_data, image_histograms
    try:
        yield
    finally:
        training.train, training.predict, evaluate.bagged_trees = originals[:3]
        experiment.patch_data, experiment._image_histograms = originals[3:]


def measure(name: str, values: dict, *, size: int, seeds: int, n_jobs: int, progress: bool) -> dict:
    """Time the five stages of one dataset into the cache `FORENSICLIB_CACHE` names (empty, for a fair run)."""
    import forensiclib as fl
    from forensiclib.paper import PAPER1_CLASSES_3
    from forensiclib.provenance.experiment import paper1_dataset, run_provenance

    fl.seed_everything(values["seed"])
    settings = fl.ProvenanceSettings(patch_size=values["patch_size"], epochs=values["max_epochs"],
                                     max_patches_per_image=values["max_patches_per_image"],
                                     batch_size=values["batch_size"], patience=values["patience"],
                                     baseline_trees=values["baseline_trees"])  # fmt: skip
    options = {"qualities_per_source": values["ucid_social_qualities"]} if name == "ucid_social" else {}
    times = dict.fromkeys(STAGES, 0.0)
    fit = predict = 0.0
    runs = []

    print(f"[1/5] data: building {name} (size {size}) ...", flush=True)
    start = time.perf_counter()
    built = paper1_dataset(name, size=size, random_state=values["seed"], n_jobs=n_jobs, progress=progress, **options)
    dataset = built.select_classes(PAPER1_CLASSES_3)
    times["data"] = time.perf_counter() - start

    print(f"[2/5] features: {len(dataset.files)} images ...", flush=True)
    start = time.perf_counter()
    fl.extract_features(list(dataset.files), patch_size=settings.patch_size, n_jobs=n_jobs, progress=progress)
    times["features"] = time.perf_counter() - start

    for seed in range(seeds):
        clock = _Clock()
        print(f"[3-4/5] seed {seed}: run_provenance (1-D CNN, at most {settings.epochs} epochs; bagged trees) ...",
              flush=True)  # fmt: skip
        start = time.perf_counter()
        with _timed_library(clock):
            result = run_provenance(dataset, dataclasses.replace(settings, seed=seed), n_jobs=n_jobs,
                                    progress=progress)  # fmt: skip
        whole = time.perf_counter() - start
        if clock.parts["fit"] == 0.0:
            raise RuntimeError("run_provenance did not train (a cached result?): the cache was expected empty")
        times["training"] += whole - clock.parts["baseline"]
        times["trees"] += clock.parts["baseline"]
        fit, predict = fit + clock.parts["fit"], predict + clock.parts["predict"]

        print(f"[5/5] seed {seed}: evaluate_provenance ...", flush=True)
        start = time.perf_counter()
        fl.evaluate_provenance(result)
        times["evaluation"] += time.perf_counter() - start
        runs.append(result)
    return dict(times=times, fit=fit, predict=predict, runs=runs, built=len(built.files), used=len(dataset.files),
                settings=settings)  # fmt: skip


def render(name: str, measured: dict, values: dict, *, size: int, seeds: int, n_jobs: int, profile: str,
           overridden: bool) -> tuple[str, float]:
    """The report (markdown) and the extrapolated seconds of notebook 03."""
    times, settings = measured["times"], measured["settings"]
    total = sum(times.values())
    label = {"data": "data (build the simulated set)", "features": "features (DCT histograms, every image)",
             "training": f"training (1-D CNN, {seeds} seed{'s' * (seeds > 1)})",
             "trees": f"trees (bagged-tree baseline, {seeds} seed{'s' * (seeds > 1)})",
             "evaluation": f"evaluation (evaluate_provenance, {seeds} seed{'s' * (seeds > 1)})"}  # fmt: skip
    lines = [f"## Stages of one paper-1 experiment: {name}, profile {profile}", "",
             "| stage | wall s | share |", "|---|---:|---:|"]  # fmt: skip
    lines += [f"| {label[s]} | {times[s]:.2f} | {100 * times[s] / total:.1f}% |" for s in STAGES]
    lines += [f"| total | {total:.2f} | 100.0% |", ""]
    rest = times["training"] - measured["fit"] - measured["predict"]
    epochs = ", ".join(str(len(r.history.get("loss", []))) for r in measured["runs"])
    fit, predict = measured["fit"], measured["predict"]
    lines += [f"Training: `train()` (the fit) {fit:.2f} s, test prediction {predict:.2f} s, the rest (TensorFlow's "
              f"import in the first seed, splits, features read back from the cache, vote, model saved) {rest:.2f} s; "
              f"epochs run per seed: {epochs} (cap {settings.epochs}, patience {settings.patience}).", "",
              f"Machine: {machine()}; Python {platform.python_version()}.", "",
              f"Sizes: {name} size {size} ({DATASETS[name]}; {measured['built']} images built, {measured['used']} of "
              f"the three classes used), max_patches_per_image {settings.max_patches_per_image}, patch_size "
              f"{settings.patch_size}, max_epochs {settings.epochs}, batch_size {settings.batch_size}, patience "
              f"{settings.patience}, baseline_trees {settings.baseline_trees}, seeds run {seeds}, n_jobs {n_jobs}; "
              f"training patches per seed: {', '.join(str(r.n_train_patches) for r in measured['runs'])}.",
              ""]  # fmt: skip

    # extrapolation: per image of the measured set, to the images of all three datasets at the profile's sizes
    counts = {n: image_counts(n, values) for n in DATASETS}
    per_seed = (times["training"] + times["trees"] + times["evaluation"]) / seeds / measured["used"]
    n_seeds = len(values["seeds"])
    parts = {n: (times["data"] / measured["built"] * built + times["features"] / measured["used"] * used,
                 per_seed * used * n_seeds) for n, (built, used) in counts.items()}  # fmt: skip
    estimate = sum(a + b for a, b in parts.values())
    lines += [f"**EXTRAPOLATION, not a measurement**: notebook 03 of profile {profile} from an empty cache, from "
              f"this one dataset{' (measured at a size the profile does not run)' if overridden else ''}: "
              f"about {estimate:.0f} s ({estimate / 60:.1f} min) = data + features of all three datasets + "
              f"(training + trees + evaluation) x 3 datasets x {n_seeds} seeds ({values['seeds']}), each stage's "
              f"time per image of {name} times each dataset's images:", ""]  # fmt: skip
    lines += [f"- {n}: {counts[n][0]} images built, {counts[n][1]} used: data + features {a:.0f} s, training + "
              f"trees + evaluation {b:.0f} s ({n_seeds} seeds)" for n, (a, b) in parts.items()]  # fmt: skip
    lines += ["", "Image sizes and stopping epochs differ between the datasets: measure each `--dataset` for "
              "figures of each."]  # fmt: skip
    return "\n".join(lines), estimate


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and print its report. Returns `{"times", "total", "estimate", "report"}`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=list(DATASETS), default="public_social")
    parser.add_argument("--profile", default="default", help="profile whose sizes are used (default: default)")
    parser.add_argument("--size", type=int, help="override the dataset's size parameter (a quick check)")
    parser.add_argument("--seeds", type=int, default=1, help="seeds to train, 0..N-1 (default 1)")
    parser.add_argument("--epochs", type=int, help="override max_epochs")
    parser.add_argument("--n-jobs", type=int, help="override the profile's n_jobs")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.seeds < 1 or (args.size is not None and args.size < 1) or (args.epochs is not None and args.epochs < 1):
        parser.error("--seeds, --size and --epochs must be positive")
    if args.size is not None and args.size < smallest_size(args.dataset):
        parser.error(f"--size of {args.dataset} must be at least {smallest_size(args.dataset)}: its test split needs "
                     "2 source photos for the bootstrap")  # fmt: skip

    previous = os.environ.get("FORENSICLIB_CACHE")
    with tempfile.TemporaryDirectory(prefix="bench-stages-") as cache:
        os.environ["FORENSICLIB_CACHE"] = cache  # before anything reads it: every stage starts from nothing
        try:
            from forensiclib.runner.profiles import load_profile, parameter_values

            profile = load_profile(args.profile)
            values = parameter_values(Path(__file__).resolve().parents[1] / NOTEBOOK, profile)
            size = args.size or values[DATASETS[args.dataset]]
            measured_values = {**values, **({"max_epochs": args.epochs} if args.epochs else {})}
            n_jobs = args.n_jobs if args.n_jobs is not None else values["n_jobs"]
            measured = measure(args.dataset, measured_values, size=size, seeds=args.seeds, n_jobs=n_jobs,
                               progress=not args.no_progress)  # fmt: skip
        finally:
            if previous is None:
                os.environ.pop("FORENSICLIB_CACHE", None)
            else:
                os.environ["FORENSICLIB_CACHE"] = previous
    overridden = args.size is not None or args.epochs is not None
    report, estimate = render(args.dataset, measured, values, size=size, seeds=args.seeds, n_jobs=n_jobs,
                              profile=profile.name, overridden=overridden)  # fmt: skip
    print(report)
    return {"times": measured["times"], "total": sum(measured["times"].values()), "estimate": estimate,
            "report": report}  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's forensiclib
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up log off (forensiclib._tf_log)
    main()
