"""Command line: `python -m forensiclib <command>`; `--help` on any command explains it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _reproduce(args: argparse.Namespace) -> int:
    import yaml

    from .errors import ParameterError
    from .reproduce import NotebookFailed, NotebookTimeout, list_notebooks, load_profile, notebook_parameters
    from .reproduce import reproduce

    try:
        if args.list:
            profile = load_profile(args.profile)
            for path in list_notebooks():
                print(path.stem)
                for p in notebook_parameters(path).values():
                    value = profile.notebooks.get(path.stem, {}).get(p.name, p.default)
                    print(f"    {p.name} = {value!r}    # {p.help}")
            return 0
        overrides = {}
        if args.params:
            overrides = yaml.safe_load(Path(args.params).read_text()) or {}
            if not isinstance(overrides, dict):
                raise ParameterError(f"{args.params}: expected a mapping of parameter names to values")
        results = reproduce(args.profile, args.notebooks or None, overrides=overrides, time_limit_s=args.time_limit)
    except (ParameterError, NotebookFailed, NotebookTimeout, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2 if isinstance(error, ParameterError) else 1
    print("\nnotebook                      wall time")
    for result in results:
        print(f"{result.notebook:<29} {result.wall_time_s:8.1f} s")
    return 0


def _features(args: argparse.Namespace) -> int:
    import numpy as np

    from .features import extract_features

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
    parser = argparse.ArgumentParser(prog="forensiclib", description=__doc__)
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
    run.set_defaults(handler=_reproduce)

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

    kernel = commands.add_parser("kernel", help="register this environment as the Jupyter kernel 'forensiclib'")
    kernel.set_defaults(handler=_kernel)

    args = parser.parse_args(argv)
    return args.handler(args)
