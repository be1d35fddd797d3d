"""Command line: `python -m forensiclib <command>`; `--help` on any command explains it.

    reproduce        run the notebooks under a profile (incremental), then rebuild the report
    report           rebuild results/<profile>/REPORT.md from the last run
    exercise         run a teacher's exercise (exercises/<name>.yaml); without a name, list them
    identify         which platform did these images come from (the network notebook 05 trained)
    measure-platform measure a folder of images downloaded from one platform
    build-data       build (or find in the cache) one of the simulated datasets
    features         paper 1's DCT-histogram features of images or folders
    kernel           register this environment as the Jupyter kernel 'forensiclib'
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import textwrap
from pathlib import Path

__all__ = ["main"]


def _reproduce(args: argparse.Namespace) -> int:
    import yaml

    from ..errors import ParameterError
    from .reproduce import (
        NotebookFailed,
        NotebookTimeout,
        list_notebooks,
        load_profile,
        notebook_parameters,
        reproduce,
    )

    try:
        if args.list:
            profile = load_profile(args.profile)
            for path in list_notebooks():
                print(path.stem)
                for p in notebook_parameters(path).values():
                    value = profile.values_for(path).get(p.name, p.default)
                    print(f"    {p.name} = {value!r}    # {p.help}")
            return 0
        overrides = {}
        if args.params:
            overrides = yaml.safe_load(Path(args.params).read_text()) or {}
            if not isinstance(overrides, dict):
                raise ParameterError(f"{args.params}: expected a mapping of parameter names to values")
        results = reproduce(args.profile, args.notebooks or None, overrides=overrides, time_limit_s=args.time_limit,
                            force=args.force, data=args.data or None)  # fmt: skip
    except (ParameterError, NotebookFailed, NotebookTimeout, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2 if isinstance(error, ParameterError) else 1
    _print_times(results)
    return 0


def _print_times(results) -> None:
    print("\nnotebook                      wall time")
    for result in results:
        note = "  (up to date: last run's time)" if result.skipped else ""
        print(f"{result.notebook:<29} {result.wall_time_s:8.1f} s{note}")
    ran = [r.wall_time_s for r in results if not r.skipped]
    print(f"{len(ran)} of {len(results)} notebooks ran, {sum(ran):.1f} s")


def _report(args: argparse.Namespace) -> int:
    from .report import build_report

    for path in build_report(args.profile):
        print(f"wrote {path}")
    return 0


def _exercise(args: argparse.Namespace) -> int:
    from ..errors import ParameterError
    from .exercises import list_exercises, load_exercise, run_exercise
    from .reproduce import NotebookFailed, NotebookTimeout

    try:
        if not args.name:
            for name in list_exercises():
                exercise = load_exercise(name)
                brief = textwrap.indent(textwrap.fill(" ".join(exercise.brief.split()), 100), "    ")
                print(f"{name}  ({exercise.notebook}: {exercise.parameters})\n{brief}\n")
            return 0
        result = run_exercise(args.name, force=args.force)
    except (ParameterError, NotebookFailed, NotebookTimeout) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2 if isinstance(error, ParameterError) else 1
    _print_times([result])
    print(f"results: {result.output.parent}")
    return 0


def _identify(args: argparse.Namespace) -> int:
    from ..provenance.identifier import find_identifier, identify, load_identifier

    folder = args.model or find_identifier()
    if folder is None:
        print("error: no trained identifier found. Run notebook 05 first (`make run NB=05_eight_classes`, or "
              "`make reproduce`), or pass --model FOLDER.", file=sys.stderr)  # fmt: skip
        return 2
    try:
        identifier = load_identifier(folder)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.min_confidence is not None:
        if not 0 <= args.min_confidence <= 1:
            print(f"error: --min-confidence: expected a number in 0..1. Received: {args.min_confidence}",
                  file=sys.stderr)  # fmt: skip
            return 2
        if identifier.combination is not None:
            identifier.combination = dataclasses.replace(identifier.combination, min_confidence=args.min_confidence)
    method = "histograms" if args.histograms_only else (args.method or identifier.method)
    if method == "soft" and identifier.method != "soft" or method == "restricted" and identifier.table_evidence is None:
        print(f"error: --method {method}: {folder} is an identifier of version {identifier.metadata.get('version')}, "
              f"which answers by {identifier.method!r} at most (run notebook 05 again for a newer one)",
              file=sys.stderr)  # fmt: skip
        return 2
    if not args.json:
        print(identifier.describe())
        if identifier.simulated:
            print("note: this network was trained on SIMULATED platform data; on real downloads its answers reflect "
                  "how close the simulated profiles are to the real platforms.")  # fmt: skip
    from ..provenance.features import _list_files

    files = []
    for item in map(Path, args.images):  # folders: recursively, links to folders not followed, hidden files left out
        files += _list_files(item) if item.is_dir() else [item]
    answers = identify(files, identifier, method=method)
    failed = sum(a.error is not None for a in answers)
    if args.json:
        threshold = identifier.combination.min_confidence if identifier.combination is not None else 0.5
        record = {"identifier": {"folder": str(identifier.folder), "version": identifier.metadata.get("version"),
                                 "classes": list(identifier.classes), "trained_on": identifier.trained_on,
                                 "simulated": identifier.simulated, "method": method,
                                 "min_confidence": threshold},
                  "answers": [answer.to_record() for answer in answers], "skipped": failed}  # fmt: skip
        print(json.dumps(record, indent=1))
        return 1 if failed else 0
    for answer in answers:
        print(answer.describe(), file=sys.stderr if answer.error else sys.stdout)
    if failed:
        print(f"{failed} of {len(answers)} files skipped", file=sys.stderr)
    return 1 if failed else 0


def _measure_platform(args: argparse.Namespace) -> int:
    from ..data.synth.measure import measure_platform

    try:
        measurement = measure_platform(args.folder)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(measurement.report())
    if args.suggest:
        print("\nSuggested profile (calibrate the simulator with it):")
        print(measurement.to_profile(args.suggest).describe())
    return 0


#: build-data: each simulated dataset, the builder argument its size sets, the notebook parameter whose default
#: profile value is its default size, and what it is.
_DATASETS = {
    "controlled_social": ("n_sources", "03_patch_level_3_classes", "ucid_social_sources",
                          "like UCID social: sources x 10 qualities x 3 platforms"),
    "uncontrolled_social": ("n_per_class", "03_patch_level_3_classes", "public_social_per_class",
                            "like Public social: different images per platform"),
    "iplab_like": ("n_sources", "05_eight_classes", "iplab_sources", "like IPLab: camera originals shared on 7 platforms"),
    "sharing_chains": ("n_sources", "06_sharing_chains", "chain_sources",
                       "every source shared on one platform, then another"),
    "manipulations": ("n_images", "07_single_task", "manipulation_images",
                      "paper 2's six manipulation classes on green blocks"),
    "cameras": ("n_images_per_device", "07_single_task", "camera_images_per_device",
                "invented camera models, 2 devices each (task B: 20 models, C: 5)"),
}  # fmt: skip


def _build_data(args: argparse.Namespace) -> int:
    from ..data.builders import build_dataset

    if args.name not in _DATASETS:
        print(f"error: unknown dataset {args.name!r}; expected one of: {', '.join(_DATASETS)}", file=sys.stderr)
        return 2
    from .reproduce import parameter_values

    size_name, notebook, parameter, _ = _DATASETS[args.name]
    size = args.size if args.size is not None else parameter_values(notebook)[parameter]
    if size < 1:
        print(f"error: --size must be a positive integer. Received: {size}", file=sys.stderr)
        return 2
    extra = {"task": args.task} if args.name == "cameras" else {}
    dataset = build_dataset(args.name, **extra, **{size_name: size}, random_state=args.seed, n_jobs=args.jobs)
    print(dataset.summary())
    folders = {str(Path(f).parent.parent) for f in dataset.files[:50]}
    print(f"files under: {', '.join(sorted(folders))}")
    return 0


def _features(args: argparse.Namespace) -> int:
    import numpy as np

    from ..provenance.features import extract_features

    feature_set = extract_features(
        args.paths if len(args.paths) > 1 else args.paths[0],
        patch_size=args.patch_size,
        n_jobs=args.jobs,
        cache_dir=False if args.no_cache else None,
    )
    print(feature_set.report())
    if args.output:
        np.savez(
            args.output,
            features=feature_set.features,
            positions=feature_set.positions,
            image_index=feature_set.image_index,
            paths=np.array([str(p) for p in feature_set.paths]),
        )
        print(f"wrote {args.output}")
    return 0


def _kernel(args: argparse.Namespace) -> int:
    from .reproduce import install_kernel

    print(f"Jupyter kernel: {install_kernel()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    # TensorFlow's C++ start-up log off on the console unless the caller asks for it (`forensiclib._tf_log` drops the
    # lines below this level and absl's notice); the runner's kernels get the same through `QUIET_ENV`
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = argparse.ArgumentParser(prog="forensiclib", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "reproduce",
        help="run the notebooks under a profile",
        description="Run notebooks through papermill under a profile (params/<profile>.yaml); "
        "executed copies go to results/<profile>/.",
    )
    run.add_argument("notebooks", nargs="*", help="notebook names (default: all), e.g. 01_dct_features")
    run.add_argument("--profile", default="default", help="smoke, default, paper, or a YAML file (default: default)")
    run.add_argument("--params", help="YAML file of parameter values applied on top of the profile")
    run.add_argument("--time-limit", type=float, help="per-notebook time limit in seconds (overrides the profile)")
    run.add_argument("--list", action="store_true", help="list notebooks and their parameters, run nothing")
    run.add_argument("--force", action="store_true", help="run the notebooks even if they are up to date")
    run.add_argument("--data", help="folder of real datasets in subfolders ucid_social/, public_social/, iplab/, "
                     "dresden/; those present replace the simulated ones")
    run.set_defaults(handler=_reproduce)

    report = commands.add_parser("report", help="rebuild the report of a profile's last run",
                                 description="Rebuild results/<profile>/REPORT.md, REPORT.html and report.json (and "
                                 "results/REPORT.md for the default profile) from the manifest and the notebooks' records.")
    report.add_argument("--profile", default="default", help="profile name (default: default)")
    report.set_defaults(handler=_report)

    exercise = commands.add_parser("exercise", help="run a teacher's exercise; without a name, list them",
                                   description="Run exercises/<NAME>.yaml: its notebook with the default profile's "
                                   "values plus the exercise's parameters, into results/exercises/<NAME>/.")
    exercise.add_argument("name", nargs="?", help="exercise name (file name without .yaml) or a YAML path")
    exercise.add_argument("--force", action="store_true", help="run even if the last run is up to date")
    exercise.set_defaults(handler=_exercise)

    ident = commands.add_parser("identify", help="which platform did these images come from",
                                description="Predict the platform of each image with the 1-D CNN notebook 05 trained "
                                "(paper 1): the vote of its 64x64 patches combined with what the file's header says "
                                "(quantization table, coding, subsampling, metadata segments, size), each trait a "
                                "likelihood of each class counted on the training files; the answer's probability is "
                                "its confidence, and below the identifier's threshold it says 'uncertain'. Also the "
                                "mean patch probabilities and the vote counts. Files that cannot be read are listed "
                                "with the reason (exit status 1).")
    ident.add_argument("images", nargs="+", help="image files or folders")
    ident.add_argument("--model", help="identifier folder (default: results/<default|paper|smoke>/05_eight_classes/identifier)")
    ident.add_argument("--histograms-only", action="store_true",
                       help="ignore the file's header: the paper's vote among all classes")
    ident.add_argument("--method", choices=("soft", "restricted", "histograms"),
                       help="soft: patch vote and header (identifier version 3); restricted: the vote among the "
                       "classes that wrote the image's table in training (version 2); histograms: the paper's vote "
                       "(default: the identifier's own)")
    ident.add_argument("--min-confidence", type=float,
                       help="flag answers below this probability as uncertain (0..1; default: the identifier's)")
    ident.add_argument("--json", action="store_true",
                       help="print one JSON object (the identifier and one record per file, unreadable ones with "
                       "their error) instead of text")
    ident.set_defaults(handler=_identify)

    measure = commands.add_parser("measure-platform", help="measure a folder of downloads from one platform",
                                  description="Sizes, quantization tables and IJG quality, subsampling, progressive "
                                  "and metadata of the JPEGs in a folder downloaded from one platform.")
    measure.add_argument("folder", help="folder of images downloaded from one platform")
    measure.add_argument("--suggest", metavar="NAME", help="also print a simulator profile named NAME fitted to them")
    measure.set_defaults(handler=_measure_platform)

    build = commands.add_parser("build-data", help="build one of the simulated datasets",
                                description="Build (or find in .cache/datasets/) a simulated dataset:\n" + "\n".join(
                                    f"  {n:<20} {d} (--size: {a}; default: {p} of notebook {nb} under the default "
                                    "profile)" for n, (a, nb, p, d) in _DATASETS.items()),
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    build.add_argument("name", help=", ".join(_DATASETS))
    build.add_argument("--size", type=int, help="the dataset's size argument (default: the default profile's)")
    build.add_argument("--task", default="B", choices=["B", "C"], help="cameras only: B (20 models) or C (5 models)")
    build.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    build.add_argument("--jobs", type=int, default=1, help="worker processes, -1 for all cores (default 1)")
    build.set_defaults(handler=_build_data)

    features = commands.add_parser(
        "features",
        help="DCT-histogram features of images or folders",
        description="Extract paper 1's DCT-histogram features (Sec. III-A) from image files or folders; "
        "bad files are skipped and listed.",
    )
    features.add_argument("paths", nargs="+", help="image files or one folder")
    features.add_argument("--patch-size", type=int, default=64, help="patch side in pixels (default 64)")
    features.add_argument("--jobs", type=int, default=1, help="worker processes, -1 for all cores (default 1)")
    features.add_argument("--no-cache", action="store_true", help="do not read or write the feature cache")
    features.add_argument("-o", "--output", help="write features, positions, image_index and paths to this .npz")
    features.set_defaults(handler=_features)

    kernel = commands.add_parser("kernel", help="register this environment as the Jupyter kernel 'forensiclib'",
                                 description="Register this environment's Python as the Jupyter kernel 'forensiclib' "
                                 "(under the environment's own prefix), the kernel the notebooks name; `make lab` runs "
                                 "this before it opens JupyterLab.")
    kernel.set_defaults(handler=_kernel)

    args = parser.parse_args(argv)
    return args.handler(args)
