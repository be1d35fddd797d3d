"""benchmarks/bench_stages.py: the five stages of a paper-1 experiment timed at a tiny size, and its checks."""

import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "bench_stages", Path(__file__).resolve().parents[1] / "benchmarks" / "bench_stages.py"
)
bench = sys.modules["bench_stages"] = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)


def test_image_counts_follow_the_builders_and_a_size_too_small_to_evaluate_is_refused(capsys):
    values = {"ucid_social_sources": 200, "ucid_social_qualities": 2, "public_social_per_class": 240,
              "iplab_sources": 200}  # fmt: skip
    assert bench.image_counts("ucid_social", values) == (1200, 1200)
    assert bench.image_counts("public_social", values) == (720, 720)
    assert bench.image_counts("iplab", values, size=10) == (80, 30)
    with pytest.raises(SystemExit):
        bench.main(["--dataset", "iplab", "--size", "14"])
    assert "--size of iplab must be at least 15" in capsys.readouterr().err


@pytest.mark.slow
def test_a_tiny_run_times_the_five_stages_and_they_sum_to_the_total(capsys, monkeypatch):
    monkeypatch.setenv("FORENSICLIB_CACHE", "/nonexistent/kept")
    out = bench.main(["--size", "5", "--epochs", "1", "--n-jobs", "1", "--no-progress"])
    report = capsys.readouterr().out
    rows = dict(re.findall(r"^\| (\w+)[^|]* \| ([\d.]+) \| [\d.]+% \|$", report, flags=re.M))
    assert list(rows) == [*bench.STAGES, "total"]
    times = {stage: float(rows[stage]) for stage in bench.STAGES}
    assert all(t > 0 for t in times.values()), times
    assert sum(times.values()) == pytest.approx(float(rows["total"]), abs=0.03)  # each printed to 0.01 s
    assert all(out["times"][s] > 0 for s in bench.STAGES) and sum(out["times"].values()) == pytest.approx(out["total"])
    assert "EXTRAPOLATION, not a measurement" in report and "Machine: " in report
    assert out["estimate"] > 0
    assert os.environ["FORENSICLIB_CACHE"] == "/nonexistent/kept"  # the temporary cache is not left set
