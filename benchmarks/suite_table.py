"""Wall time and peak memory of every notebook of a run, from its manifest, as `benchmarks/RESULTS.md`.

Reads `results/<profile>/manifest.json` (written by `make reproduce`; wall time and the peak resident memory of the
largest process of each notebook's run) and writes one markdown table with the totals, the commit and the machine.
Run: `.venv/bin/python benchmarks/suite_table.py [--profile default]` (after `make reproduce`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    args = parser.parse_args()
    manifest = json.loads((ROOT / "results" / args.profile / "manifest.json").read_text())
    entries = manifest["notebooks"]
    env = next(iter(entries.values()))["environment"]
    commits = sorted({(e["code"] or {}).get("commit") or "not a git checkout" for e in entries.values()})
    lines = [
        f"# The suite under the `{args.profile}` profile: wall time and peak memory per notebook",
        "",
        f"From `results/{args.profile}/manifest.json` by `benchmarks/suite_table.py`. Machine: {env['platform']}, "
        f"{env['cpu_count']} CPUs, Python {env['python']}. Code: {', '.join(commits)}. Each notebook's time is its "
        "last run's: a notebook that found its networks in the cache ran shorter than it does from an empty cache.",
        "",
        "| notebook | wall time (s) | peak memory (MB) | finished |",
        "|---|---|---|---|",
    ]
    for name, entry in entries.items():
        lines.append(f"| {name} | {entry['wall_time_s']:.1f} | {entry['peak_rss_mb']:.0f} | {entry['finished']} |")
    lines += [f"| **total** | **{manifest['total_wall_time_s']:.1f}** ({manifest['total_wall_time_s'] / 60:.1f} min) | "
              f"**{manifest['max_peak_rss_mb']:.0f}** (largest) | |", ""]
    Path(args.output).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
