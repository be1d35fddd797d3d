"""Which header traits generalise to real files from sources never seen: the identifier recalibrated with each set.

The identifier of notebook 05 answers with the patch vote and some traits of the file's header
(`forensiclib.provenance.combination.TRAITS_USED`). This benchmark recalibrates its weights on the same simulated
held-out images notebook 05 calibrates on (`header_vote.held_out_items`: the run's test images and the shifted
simulated set), once per set of traits, and answers the real files held out by source as
`benchmarks/real_downloads.py --held-out` does. Nothing is fitted to the real files: they only score each set.

Needs notebook 05's run and its calibration set in the cache (`make run NB=05_eight_classes`; otherwise they are
built and trained again, about 20 minutes on 2 cores).

Run: `.venv/bin/python benchmarks/header_traits.py --data DIR [--profile default] [--model FOLDER]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

SEGMENTS = ("jfif", "exif", "icc", "iptc", "xmp", "adobe")
#: The sets compared, by name; "table, segments, restarts, size" is `TRAITS_USED`.
TRAIT_SETS = {
    "table": ("table",),
    "table, size": ("table", "size"),
    "table, coding, subsampling": ("table", "coding", "subsampling"),
    "table, segments": ("table", *SEGMENTS),
    "table, segments, restarts, size": ("table", *SEGMENTS, "restart", "size"),
    "... and coding": ("table", *SEGMENTS, "restart", "size", "coding"),
    "... and subsampling": ("table", *SEGMENTS, "restart", "size", "subsampling"),
    "every trait": ("table", "coding", "subsampling", *SEGMENTS, "restart", "size"),
}


def _real_downloads():
    spec = importlib.util.spec_from_file_location("real_downloads", Path(__file__).with_name("real_downloads.py"))
    module = sys.modules["real_downloads"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True,
                        help="folder with social/<platform>/, cameras/<model>/ and MANIFEST.tsv")
    parser.add_argument("--profile", default="default", help="the profile notebook 05 ran under (default: default)")
    parser.add_argument("--model", help="identifier folder (default: the one notebook 05 kept under results/)")
    args = parser.parse_args(argv)

    import forensiclib as fl
    from forensiclib.paths import project_root
    from forensiclib.provenance.combination import TRAITS_USED, calibrate
    from forensiclib.provenance.header_vote import held_out_items, shifted_calibration_set
    from forensiclib.provenance.identifier import find_identifier, load_identifier, observe
    from forensiclib.runner.profiles import parameter_values

    real = _real_downloads()
    try:
        files = real.list_real_files(args.data)
        sources = real.read_sources(args.data, files)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    folder = args.model or find_identifier(profiles=(args.profile,))
    if folder is None:
        parser.error(f"Expected a trained identifier. Received: none under results/{args.profile}/05_eight_classes/")
    identifier = load_identifier(folder)
    if identifier.header_evidence is None:
        parser.error(f"Expected a version-3 identifier. Received: {folder}")

    values = parameter_values(project_root() / "notebooks" / "05_eight_classes.ipynb", args.profile)
    settings = fl.ProvenanceSettings(patch_size=values["patch_size"], epochs=values["max_epochs"],
                                     max_patches_per_image=values["max_patches_per_image"],
                                     batch_size=values["batch_size"], patience=values["patience"],
                                     baseline_trees=values["baseline_trees"])  # fmt: skip
    classes = identifier.classes
    seed = values["seed"]
    setup = fl.provenance_setup(None, settings=settings, seeds=[seed], classes=classes, data_seed=seed,
                                sizes={"iplab": values["iplab_sources"]}, n_jobs=values["n_jobs"],
                                progress=False)  # fmt: skip
    result, dataset = setup.results["iplab"][seed], setup.datasets["iplab"]
    shifted = None
    if values["calibration_sources"] and dataset.simulated:
        shifted = shifted_calibration_set(values["calibration_sources"], classes, seed=seed)
    items, description = held_out_items(result, dataset, seed=seed, calibration=shifted,
                                        patch_size=values["patch_size"])  # fmt: skip
    paths = [path for group in files.values() for path in group]
    observations = dict(zip(paths, observe(paths, identifier)))

    print(f"calibrated on {description}; real files held out by source ({real.HELD_OUT_NOTE})")
    print("| traits | weights (vote, header, smoothing, vote floor) | balanced accuracy [95%, sources resampled] | "
          "per class |")  # fmt: skip
    print("|---|---|---|---|")
    for name, traits in TRAIT_SETS.items():
        combination = calibrate(items, identifier.header_evidence, traits=traits)
        results, answers = real.evaluate(files, identifier, method="soft", sources=sources,
                                         observations=observations, combination=combination)  # fmt: skip
        estimate, _ = real.class_estimates(answers, [c for c in classes if c in results], sources)
        per_class = ", ".join(f"{r.name} {r.n_correct}/{r.n_files}" for r in results.values())
        marker = " (used)" if tuple(traits) == tuple(TRAITS_USED) else ""
        print(f"| {name}{marker} | {combination.network_weight:g}, {combination.header_weight:g}, "
              f"{combination.smoothing.measured:g}, {combination.vote_floor:g} | {estimate.value:.1f} "
              f"[{estimate.low:.1f}, {estimate.high:.1f}] | {per_class} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
