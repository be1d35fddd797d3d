"""Teachers' exercises: every shipped one is valid; mistakes stop at once with the valid names; runs land apart."""

import pytest
import yaml

from forensiclib import ParameterError
from forensiclib.runner.exercises import list_exercises, load_exercise, run_exercise

from .test_reproduce import make_notebook, project  # noqa: F401  (fixture)

SHIPPED = list_exercises()


def test_there_are_exercises():
    assert len(SHIPPED) >= 5 and "small_patches" in SHIPPED and "drop_google_plus" in SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_exercise_is_valid_for_its_notebook(name):
    exercise = load_exercise(name)
    assert exercise.parameters and len(exercise.brief) > 40


def test_misspelled_parameter_fails_with_the_valid_list(tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump({"notebook": "03_patch_level_3_classes", "brief": "b", "parameters": {"patch_sise": 32}}))
    with pytest.raises(ParameterError, match=r"Exercise typo: 'patch_sise' is not a parameter of notebook "
                                             r"03_patch_level_3_classes. Did you mean 'patch_size'\? Valid parameters: profile, seed"):
        load_exercise(str(path))


def test_wrong_type_and_unknown_keys_are_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"notebook": "03_patch_level_3_classes", "brief": "b", "parameters": {"patch_size": "32"}}))
    with pytest.raises(ParameterError, match="expects a int like its default 64"):
        load_exercise(str(path))
    path.write_text(yaml.safe_dump({"notebook": "03_patch_level_3_classes", "text": "b"}))
    with pytest.raises(ParameterError, match="expected the keys notebook, brief and parameters"):
        load_exercise(str(path))


def test_unknown_exercise_lists_the_others():
    with pytest.raises(ParameterError, match=r"Unknown exercise 'small_patch'. Did you mean 'small_patches'\? Exercises: "):
        load_exercise("small_patch")


@pytest.mark.slow
def test_exercise_runs_into_its_own_folder(project):  # noqa: F811
    (project / "exercises").mkdir()
    (project / "params" / "default.yaml").write_text(yaml.safe_dump({"time_limit_s": 120, "seed": 3}))
    (project / "exercises" / "faster.yaml").write_text(
        yaml.safe_dump({"notebook": "01_record", "brief": "What if the rate is higher?", "parameters": {"rate": 0.9}}))
    result = run_exercise("faster")
    out = project / "results" / "exercises" / "faster"
    assert result.output == out / "01_record.ipynb" and result.output.is_file()
    import json

    record = json.loads((out / "record.json").read_text())
    assert record["rate"] == 0.9 and record["seed"] == 3 and record["profile"] == "faster"
    assert "What if the rate is higher?" in (out / "BRIEF.md").read_text()
    assert (out / "REPORT.md").is_file() and (out / "manifest.json").is_file()
    assert not (project / "results" / "default").exists()


@pytest.mark.slow
def test_drop_google_plus_runs_at_smoke_sizes(tmp_path, monkeypatch):
    """The shipped exercise that changes notebook 05's classes runs end to end (smoke sizes) and trains 7 classes."""
    import json

    monkeypatch.setenv("FORENSICLIB_CACHE", str(tmp_path / "cache"))
    result = run_exercise("drop_google_plus", base_profile="smoke", results_root=tmp_path / "exercises")
    out = tmp_path / "exercises" / "drop_google_plus"
    record = json.loads((out / "05_eight_classes" / "identifier" / "identifier.json").read_text())
    assert "google_plus" not in record["classes"] and len(record["classes"]) == 7
    report = json.loads((out / "report.json").read_text())
    claims = [c["claim"] for c in report["notebooks"][0]["claims"]]
    assert not [c for c in claims if "Google+" in c] and len(claims) == 3  # Sec. IV-C's three without Google+'s
    assert result.output.is_file()
