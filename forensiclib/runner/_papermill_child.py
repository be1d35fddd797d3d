"""Runs papermill as a child and records the run's peak memory: `python -m forensiclib.runner._papermill_child USAGE -- ARGS`.

The peak is the largest resident set of any process of the run (the kernel, usually), read from
`getrusage(RUSAGE_CHILDREN)` once papermill and its kernel have exited.
"""

import json
import resource
import subprocess
import sys

if __name__ == "__main__":
    usage_path, arguments = sys.argv[1], sys.argv[3:]
    code = subprocess.call([sys.executable, "-m", "papermill", *arguments])
    peak_kb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    with open(usage_path, "w") as f:
        json.dump({"peak_rss_mb": round(peak_kb / 1024, 1)}, f)
    sys.exit(code)
