"""The notebook runner, on a throw-away project of tiny notebooks."""

import json
import time

import nbformat
import pytest
import yaml

from forensiclib import ParameterError
from forensiclib import reproduce as runner

PARAMETERS = """\
profile = "default"  # run profile
seed = 0  # seed
epochs = 3  # training epochs, 1..100
rate = 0.5  # a rate in 0..1
name = "x"  # a name
"""


def make_notebook(path, body, parameters=PARAMETERS):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ]
    nbformat.write(nb, path)


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "params").mkdir()
    record = (
        "import json, os\n"
        "keys = ['PYTHONHASHSEED', 'FORENSICLIB_SEED', 'TF_DETERMINISTIC_OPS', 'FORENSICLIB_PROFILE']\n"
        "out = {k: os.environ.get(k) for k in keys}\n"
        "out.update(cwd=os.getcwd(), epochs=epochs, rate=rate, seed=seed, profile=profile)\n"
        "open(os.path.join(os.environ['FORENSICLIB_RESULTS'], profile, 'record.json'), 'w').write(json.dumps(out))"
    )
    make_notebook(tmp_path / "notebooks" / "01_record.ipynb", record)
    make_notebook(tmp_path / "notebooks" / "02_fail.ipynb", "raise RuntimeError('boom')")
    make_notebook(tmp_path / "notebooks" / "03_sleep.ipynb", "import time\ntime.sleep(120)")
    profile = {"time_limit_s": 120, "seed": 7, "notebooks": {"01_record": {"epochs": 5}}}
    (tmp_path / "params" / "smoke.yaml").write_text(yaml.safe_dump(profile))
    monkeypatch.setenv("FORENSICLIB_ROOT", str(tmp_path))
    return tmp_path


def test_parameters_are_read_with_defaults_and_help(project):
    parameters = runner.notebook_parameters(project / "notebooks" / "01_record.ipynb")
    assert list(parameters) == ["profile", "seed", "epochs", "rate", "name"]
    assert parameters["epochs"].default == 3 and parameters["epochs"].help == "training epochs, 1..100"


def test_unknown_parameter_is_rejected_with_a_suggestion_and_the_valid_list(project):
    with pytest.raises(ParameterError, match=r"'epoch' is not a parameter of notebook 01_record. Did you mean 'epochs'\? "
                       r"Valid parameters: profile, seed, epochs, rate, name"):  # fmt: skip
        runner.check_parameters(project / "notebooks" / "01_record.ipynb", {"epoch": 4})


@pytest.mark.parametrize("values", [{"epochs": "5"}, {"epochs": 2.5}, {"epochs": True}, {"rate": "high"}, {"name": 3}])
def test_mistyped_parameter_is_rejected(project, values):
    with pytest.raises(ParameterError, match=r"expects a (int|float|str) like its default .* Received: "):
        runner.check_parameters(project / "notebooks" / "01_record.ipynb", values)


def test_int_is_accepted_for_a_float(project):
    assert runner.check_parameters(project / "notebooks" / "01_record.ipynb", {"rate": 1}) == {"rate": 1}


def test_notebook_must_declare_profile_and_seed(project):
    make_notebook(project / "notebooks" / "09_bad.ipynb", "pass", parameters="x = 1  # x")
    with pytest.raises(ParameterError, match="its parameters cell must declare profile, seed"):
        runner.notebook_parameters(project / "notebooks" / "09_bad.ipynb")


def test_profile_errors(project):
    with pytest.raises(ParameterError, match=r"Unknown profile 'smok': no file .*smok.yaml. Known profiles: smoke"):
        runner.load_profile("smok")
    (project / "params" / "typo.yaml").write_text("time_limit: 3\n")
    with pytest.raises(ParameterError, match=r"unknown keys \['time_limit'\]; valid keys"):
        runner.load_profile("typo")
    (project / "params" / "nb.yaml").write_text("notebooks:\n  01_recrod: {}\n")
    with pytest.raises(ParameterError, match=r"Unknown notebook '01_recrod'. Did you mean '01_record'\?"):
        runner.load_profile("nb")
    (project / "params" / "neg.yaml").write_text("time_limit_s: -1\n")
    with pytest.raises(ParameterError, match="time_limit_s must be a positive number of seconds, found -1"):
        runner.load_profile("neg")


def test_run_sets_seed_environment_working_directory_and_writes_results(project):
    results = runner.reproduce("smoke", ["01_record"], overrides={"rate": 0.25})
    assert results[0].output == project / "results" / "smoke" / "01_record.ipynb"
    assert results[0].output.is_file()
    record = json.loads((project / "results" / "smoke" / "record.json").read_text())
    assert record == {
        "PYTHONHASHSEED": "7", "FORENSICLIB_SEED": "7", "TF_DETERMINISTIC_OPS": "1", "FORENSICLIB_PROFILE": "smoke",
        "cwd": str(project / "notebooks"), "epochs": 5, "rate": 0.25, "seed": 7, "profile": "smoke",
    }  # fmt: skip


def test_every_parameter_is_checked_before_anything_runs(project):
    with pytest.raises(ParameterError, match="'epochz' is not a parameter of notebook 01_record"):
        runner.reproduce("smoke", ["01_record", "02_fail"], overrides={"epochz": 1})
    assert not (project / "results").exists()


def test_failing_notebook_is_reported(project):
    with pytest.raises(runner.NotebookFailed, match=r"02_fail failed under profile smoke \(exit 1\); see .*02_fail.ipynb"):
        runner.reproduce("smoke", ["02_fail"])


def test_notebook_past_its_time_limit_is_stopped(project):
    start = time.perf_counter()
    with pytest.raises(runner.NotebookTimeout, match=r"03_sleep ran past the smoke profile's time limit of 8 s and was stopped"):
        runner.reproduce("smoke", ["03_sleep"], time_limit_s=8)
    assert time.perf_counter() - start < 40
