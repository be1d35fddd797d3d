"""Time of a `reproduce` with nothing changed, against the 10-second target and the full run's wall time.

The command measured is the one `make reproduce` runs, `python -m forensiclib reproduce --profile P`, as a fresh
process each time (interpreter start, profile and parameter checks, fingerprints of every notebook, output hashes,
the report rebuilt). If the profile has never been run completely, one full run comes first (for `default` that is
the whole suite: about half an hour on a 2-core CPU; `--profile smoke` takes a few minutes).
Run: `.venv/bin/python benchmarks/bench_incremental.py [--profile default] [--repeats 5]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from forensiclib.paths import project_root
from forensiclib.runner.reproduce import list_notebooks


def reproduce(profile: str) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "forensiclib", "reproduce", "--profile", profile],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return time.perf_counter() - start, out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    elapsed, stdout = reproduce(args.profile)  # brings the profile up to date (a full run if needed)
    ran = stdout.strip().splitlines()[-1]
    print(f"first call: {elapsed:.1f} s ({ran})")
    times = []
    for _ in range(args.repeats):
        elapsed, stdout = reproduce(args.profile)
        if "0 of" not in stdout.strip().splitlines()[-1]:
            raise SystemExit(f"a notebook ran again although nothing changed:\n{stdout}")
        times.append(elapsed)
    manifest = json.loads((project_root() / "results" / args.profile / "manifest.json").read_text())
    full = manifest["total_wall_time_s"]
    median = statistics.median(times)
    print(f"profile {args.profile}, {len(list_notebooks())} notebooks, nothing changed, {args.repeats} runs")
    print(f"  no-op reproduce: median {median:.2f} s (min {min(times):.2f}, max {max(times):.2f})")
    print(f"  target 10 s: {median / 10:.2f} of the target")
    print(f"  full run (manifest): {full:.0f} s; the no-op run takes {median / full:.4f} of it ({full / median:.0f}x faster)")


if __name__ == "__main__":
    main()
