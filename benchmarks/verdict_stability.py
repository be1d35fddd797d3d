"""Do the verdicts reproduce? The same profile's claims decided with two disjoint seed sets, side by side.

Each seed set runs the selected notebooks (same data, same settings; only the training seeds differ: the `seeds`
parameter, which sets the split, the patch sampling, the initialisation and the trees) into its own results folder,
`results/<profile>-seeds-<a>-<b>-<c>/`, and the claims of the two reports are compared one by one. By default the
notebooks are those of the profile's full run that declare `seeds`: a notebook with one `seed` runs the same in both
sets (its `seed` is also its data's), so comparing it would only inflate the agreement. A reproducible suite shows no
decided verdict reversed (held in one run, not held in the other) and at least 90% identical verdicts; a claim that
comes out inconclusive in both agrees honestly.

Run: `.venv/bin/python benchmarks/verdict_stability.py [--profile default] [--seeds 0 1 2] [--other-seeds 3 4 5]
[--notebooks 03_patch_level_3_classes 04_image_level_3_classes ...] [--compare A/report.json B/report.json]`.
`--compare` only compares two existing reports (e.g. `results/default/report.json`, the committed run with seeds 0-2,
and `results/default-seeds-3-4-5/report.json`). The default profile from an empty cache takes about as long as two
runs of its notebooks 03 and 04.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

#: The share of identical verdicts the suite aims at (issue "Verdicts that reproduce").
TARGET_IDENTICAL = 0.90
_DECIDED = ("held", "not held")


def seeded_profile(profile, seeds: list[int]):
    """`profile` with every `seeds` parameter (shared and per notebook) set to `seeds` and its own name, so that its
    results go to their own folder. Its `seed` (the data's) stays."""
    from forensiclib.seeding import check_seeds

    seeds = check_seeds(seeds)
    shared = {**profile.shared, **({"seeds": list(seeds)} if "seeds" in profile.shared else {})}
    notebooks = {name: {**values, **({"seeds": list(seeds)} if "seeds" in values else {})}
                 for name, values in profile.notebooks.items()}  # fmt: skip
    name = f"{profile.name}-seeds-{'-'.join(map(str, seeds))}"
    return dataclasses.replace(profile, name=name, shared=shared, notebooks=notebooks)


def claims_of(report: dict) -> dict[tuple[str, str], dict]:
    """`{(notebook, claim): {"verdict", "evidence", "n_seeds"}}` of a `report.json`."""
    out = {}
    for book in report.get("notebooks", []):
        for claim in book.get("claims", []):
            estimate = claim.get("estimate") or {}
            out[(book["notebook"], claim["claim"])] = {"verdict": claim["verdict"], "evidence": claim.get("evidence"),
                                                       "n_seeds": estimate.get("n_seeds")}  # fmt: skip
    return out


def compare(report_a: dict, report_b: dict) -> dict:
    """The claims of two runs side by side.

    Returns:
        `{"rows": [(notebook, claim, verdict_a, verdict_b)], "identical": int, "compared": int, "reversed": [...],
        "only_in_one": [...], "target_met": bool}`: a claim reversed is held in one run and not held in the other.
    """
    a, b = claims_of(report_a), claims_of(report_b)
    common = [key for key in a if key in b]
    rows = [(*key, a[key]["verdict"], b[key]["verdict"]) for key in common]
    identical = sum(va == vb for *_, va, vb in rows)
    reversed_ = [row for row in rows if {row[2], row[3]} == set(_DECIDED)]
    only = sorted(set(a) ^ set(b))
    share = identical / len(rows) if rows else 0.0
    return {"rows": rows, "identical": identical, "compared": len(rows), "reversed": reversed_, "only_in_one": only,
            "target_met": bool(rows) and not reversed_ and share >= TARGET_IDENTICAL}  # fmt: skip


def render(comparison: dict, name_a: str, name_b: str) -> str:
    """A markdown table of both runs' verdicts and the agreement line."""
    lines = [f"| notebook | claim | {name_a} | {name_b} | same |", "|---|---|---|---|---|"]
    for notebook, claim, va, vb in comparison["rows"]:
        mark = "yes" if va == vb else "**REVERSED**" if {va, vb} == set(_DECIDED) else "no"
        lines.append(f"| {notebook} | {claim} | {va} | {vb} | {mark} |")
    n, same = comparison["compared"], comparison["identical"]
    share = f"{100 * same / n:.0f}%" if n else "n/a"
    lines += ["", f"{same} of {n} verdicts identical ({share}; target {TARGET_IDENTICAL:.0%}), "
                  f"{len(comparison['reversed'])} decided verdicts reversed (target 0): "
                  + ("target met" if comparison["target_met"] else "target NOT met")]  # fmt: skip
    if comparison["only_in_one"]:
        lines.append(f"{len(comparison['only_in_one'])} claims appear in one run only: "
                     + "; ".join(f"{nb}: {claim}" for nb, claim in comparison["only_in_one"]))  # fmt: skip
    return "\n".join(lines)


def seeded_notebooks(profile) -> list[str]:
    """The notebooks of `profile`'s full run that declare `seeds` (those a seed set changes)."""
    from forensiclib.runner.profiles import list_notebooks, notebook_parameters

    return [p.stem for p in list_notebooks() if p.stem not in profile.not_run and "seeds" in notebook_parameters(p)]


def run_seed_set(profile, seeds: list[int], notebooks: list[str] | None) -> Path:
    """Run the notebooks with one seed set; the path of its `report.json`."""
    from forensiclib.paths import results_dir
    from forensiclib.runner.reproduce import reproduce

    seeded = seeded_profile(profile, seeds)
    print(f"== seeds {seeds}: profile {seeded.name}", flush=True)
    reproduce(seeded, notebooks)
    return results_dir(seeded.name) / "report.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="default", help="profile name or YAML path (default: default)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="the first seed set")
    parser.add_argument("--other-seeds", type=int, nargs="+", default=[3, 4, 5], help="the second, disjoint set")
    parser.add_argument("--notebooks", nargs="+", default=None,
                        help="notebooks to run (default: those of the profile's full run that declare seeds)")
    parser.add_argument("--compare", nargs=2, type=Path, metavar="REPORT", help="only compare two report.json files")
    args = parser.parse_args(argv)
    if args.compare:
        missing = [str(p) for p in args.compare if not p.is_file()]
        if missing:
            parser.error(f"expected two report.json files; not found: {', '.join(missing)}")
        paths = list(args.compare)
        names = [p.parent.name for p in paths]
    else:
        if set(args.seeds) & set(args.other_seeds):
            parser.error(f"expected disjoint seed sets; both hold {sorted(set(args.seeds) & set(args.other_seeds))}")
        from forensiclib.runner.profiles import load_profile

        profile = load_profile(args.profile)
        args.notebooks = args.notebooks or seeded_notebooks(profile)
        print(f"notebooks: {', '.join(args.notebooks)}", flush=True)
        paths = [run_seed_set(profile, seeds, args.notebooks) for seeds in (args.seeds, args.other_seeds)]
        names = [f"seeds {' '.join(map(str, s))}" for s in (args.seeds, args.other_seeds)]
    reports = [json.loads(p.read_text()) for p in paths]
    comparison = compare(*reports)
    print(render(comparison, *names))
    return 0 if comparison["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
