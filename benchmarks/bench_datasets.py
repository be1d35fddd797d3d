"""Build time and size on disk of the simulated datasets at the sizes the notebooks use by default.

The sizes are read from the notebooks' own `parameters` cells (overridden by a profile if given), so this measures
what `make reproduce` builds. Each dataset is built from scratch into a temporary cache.
Run: `.venv/bin/python benchmarks/bench_datasets.py [--profile default] [--jobs 2]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from forensiclib.data import builders
from forensiclib.runner.reproduce import load_profile, parameter_values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args()
    profile = load_profile(args.profile)
    p3 = parameter_values("03_patch_level_3_classes", profile)
    p6 = parameter_values("06_sharing_chains", profile)
    p7 = parameter_values("07_single_task", profile)
    cameras = {"size": (p7["image_side"], p7["image_side"])}
    cases = [
        ("UCID-social-like", builders.build_controlled_social, (p3["ucid_social_sources"],), {}),
        ("Public-social-like", builders.build_uncontrolled_social, (p3["public_social_per_class"],), {}),
        ("IPLab-like", builders.build_iplab_like, (p3["iplab_sources"],), {}),
        ("sharing chains", builders.build_sharing_chains, (p6["chain_sources"],), {"platforms": p6["platforms"]}),
        ("manipulations", builders.build_manipulations, (p7["manipulation_images"],),
         {"block_size": p7["patch_size"], "blocks_per_image": p7["blocks_per_image"]}),
        ("cameras B (20)", builders.build_cameras, ("B", p7["camera_images_per_device"]), cameras),
        ("cameras C (5)", builders.build_cameras, ("C", p7["limited_images_per_device"]), cameras),
    ]
    print(f"profile {profile.name}, {args.jobs} worker processes\n")
    print(f"{'dataset':20s} {'files':>6s} {'MB':>7s} {'build s':>8s}")
    for name, build, positional, keywords in cases:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            dataset = build(*positional, cache_dir=tmp, n_jobs=args.jobs, progress=False, **keywords)
            seconds = time.perf_counter() - start
            size = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file()) / 1e6
        print(f"{name:20s} {len(dataset):6d} {size:7.1f} {seconds:8.1f}")


if __name__ == "__main__":
    main()
