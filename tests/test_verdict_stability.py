"""benchmarks/verdict_stability.py: two seed sets' verdicts compared claim by claim, and the profiles it runs."""

import importlib.util
import sys
from pathlib import Path

import pytest

from forensiclib.runner.profiles import load_profile

_SPEC = importlib.util.spec_from_file_location(
    "verdict_stability", Path(__file__).resolve().parents[1] / "benchmarks" / "verdict_stability.py"
)
stability = sys.modules["verdict_stability"] = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(stability)


def _report(verdicts: dict[str, str]) -> dict:
    return {"notebooks": [{"notebook": "08_transfer", "claims": [
        {"claim": claim, "verdict": verdict, "evidence": "x", "estimate": {"n_seeds": 3}}
        for claim, verdict in verdicts.items()]}]}  # fmt: skip


def test_identical_verdicts_meet_the_target_and_a_reversal_fails_it():
    same = stability.compare(_report({"a": "held", "b": "inconclusive"}), _report({"a": "held", "b": "inconclusive"}))
    assert same["identical"] == same["compared"] == 2 and same["target_met"]
    flipped = stability.compare(_report({"a": "held", "b": "inconclusive"}), _report({"a": "not held", "b": "inconclusive"}))
    assert flipped["reversed"] == [("08_transfer", "a", "held", "not held")] and not flipped["target_met"]
    text = stability.render(flipped, "seeds 0 1 2", "seeds 3 4 5")
    assert "| 08_transfer | a | held | not held | **REVERSED** |" in text
    assert "1 of 2 verdicts identical (50%; target 90%), 1 decided verdicts reversed (target 0): target NOT met" in text


def test_nine_of_ten_identical_without_a_reversal_meets_the_target_and_claims_in_one_run_are_listed():
    a = {f"c{i}": "inconclusive" for i in range(10)}
    b = {**a, "c0": "held", "extra": "held"}
    comparison = stability.compare(_report(a), _report(b))
    assert comparison["identical"] == 9 and comparison["compared"] == 10 and comparison["target_met"]
    assert comparison["only_in_one"] == [("08_transfer", "extra")]
    assert "1 claims appear in one run only: 08_transfer: extra" in stability.render(comparison, "A", "B")


def test_a_seed_set_replaces_every_seeds_parameter_and_names_its_own_results():
    profile = load_profile("default")
    seeded = stability.seeded_profile(profile, [3, 4, 5])
    assert seeded.name == "default-seeds-3-4-5" and seeded.seed == profile.seed  # the data's seed stays
    assert seeded.shared["seeds"] == [3, 4, 5]
    for name, values in seeded.notebooks.items():
        if "seeds" in profile.notebooks.get(name, {}):
            assert values["seeds"] == [3, 4, 5], name
    assert {k: v for k, v in seeded.shared.items() if k != "seeds"} == \
        {k: v for k, v in profile.shared.items() if k != "seeds"}  # fmt: skip
    assert seeded.not_run == profile.not_run
    assert stability.seeded_notebooks(profile) == ["03_patch_level_3_classes", "04_image_level_3_classes", "05_eight_classes",
                                                   "07_single_task"]
    with pytest.raises(ValueError, match=r"Expected one or more distinct non-negative integer seeds. Received: \[1, 1\]"):
        stability.seeded_profile(profile, [1, 1])


def test_compare_mode_reads_two_reports_and_exits_by_the_target(tmp_path, capsys):
    import json

    for name, verdicts in (("a", {"x": "held"}), ("b", {"x": "held"}), ("c", {"x": "not held"})):
        (tmp_path / name).mkdir()
        (tmp_path / name / "report.json").write_text(json.dumps(_report(verdicts)))
    assert stability.main(["--compare", str(tmp_path / "a" / "report.json"), str(tmp_path / "b" / "report.json")]) == 0
    assert "target met" in capsys.readouterr().out
    assert stability.main(["--compare", str(tmp_path / "a" / "report.json"), str(tmp_path / "c" / "report.json")]) == 1
    with pytest.raises(SystemExit):
        stability.main(["--seeds", "0", "1", "--other-seeds", "1", "2"])
    assert "expected disjoint seed sets; both hold [1]" in capsys.readouterr().err


def test_the_default_profile_trains_three_seeds_and_tests_twenty_sources_per_class():
    """The standard of the verdicts (issue "Verdicts that reproduce"): every notebook of the default run that takes
    `seeds` trains at least three, and paper 1's simulated sets hold at least 20 test sources per class (10% of the
    sources go to the test split; UCID social's sources are photos, Public social's images, IPLab's originals)."""
    from forensiclib.runner.profiles import list_notebooks, parameter_values

    profile = load_profile("default")
    ran = [p for p in list_notebooks() if p.stem not in profile.not_run]
    seeded = {p.stem: parameter_values(p, profile)["seeds"] for p in ran if "seeds" in parameter_values(p, profile)}
    assert seeded and all(len(seeds) >= 3 for seeds in seeded.values()), seeded
    for path in ran:
        values = parameter_values(path, profile)
        for key in ("ucid_social_sources", "public_social_per_class", "iplab_sources"):
            if key in values:
                assert values[key] // 10 >= 20, (path.stem, key, values[key])
