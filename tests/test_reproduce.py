"""The notebook runner, on a throw-away project of tiny notebooks."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from forensiclib import ParameterError
from forensiclib.runner import reproduce as runner

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
        "keys = ['PYTHONHASHSEED', 'FORENSICLIB_SEED', 'TF_DETERMINISTIC_OPS', 'FORENSICLIB_PROFILE', 'FORENSICLIB_CHECKPOINT']\n"
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


def test_shared_values_reach_the_notebooks_that_declare_them_and_misspellings_fail(project):
    make_notebook(project / "notebooks" / "04_other.ipynb", "pass", parameters='profile = ""  # p\nseed = 0  # s\nrate = 0.1  # r\n')
    (project / "params" / "both.yaml").write_text(yaml.safe_dump(
        {"shared": {"epochs": 9, "rate": 0.75}, "notebooks": {"04_other": {"rate": 0.5}}}))  # fmt: skip
    profile = runner.load_profile("both")
    assert runner.parameter_values(project / "notebooks" / "01_record.ipynb", profile)["epochs"] == 9
    assert runner.parameter_values(project / "notebooks" / "01_record.ipynb", profile)["rate"] == 0.75
    other = runner.parameter_values(project / "notebooks" / "04_other.ipynb", profile)
    assert other["rate"] == 0.5 and "epochs" not in other  # its own value wins; undeclared keys stay out
    (project / "params" / "typo.yaml").write_text(yaml.safe_dump({"shared": {"epoch": 9}}))
    with pytest.raises(ParameterError, match=r"shared parameter 'epoch' is declared by no notebook. Did you mean 'epochs'\?"):
        runner.load_profile("typo")
    (project / "params" / "type.yaml").write_text(yaml.safe_dump({"shared": {"rate": "high"}}))
    with pytest.raises(ParameterError, match=r"Parameter 'rate' of notebook 0[14]_\w+ expects a float"):
        runner.load_profile("type")


@pytest.mark.slow
def test_run_sets_seed_environment_working_directory_and_writes_results(project):
    results = runner.reproduce("smoke", ["01_record"], overrides={"rate": 0.25})
    assert results[0].output == project / "results" / "smoke" / "01_record.ipynb"
    assert results[0].output.is_file()
    record = json.loads((project / "results" / "smoke" / "record.json").read_text())
    assert record == {
        "PYTHONHASHSEED": "7", "FORENSICLIB_SEED": "7", "TF_DETERMINISTIC_OPS": "1", "FORENSICLIB_PROFILE": "smoke",
        "FORENSICLIB_CHECKPOINT": "0",
        "cwd": str(project / "notebooks"), "epochs": 5, "rate": 0.25, "seed": 7, "profile": "smoke",
    }  # fmt: skip


@pytest.mark.slow
def test_checkpointing_profile_turns_on_per_epoch_checkpoints(project):
    profile = {"time_limit_s": 120, "seed": 7, "checkpoint_each_epoch": True}
    (project / "params" / "long.yaml").write_text(yaml.safe_dump(profile))
    runner.reproduce("long", ["01_record"])
    assert json.loads((project / "results" / "long" / "record.json").read_text())["FORENSICLIB_CHECKPOINT"] == "1"
    (project / "params" / "long.yaml").write_text(yaml.safe_dump({**profile, "checkpoint_each_epoch": "yes"}))
    with pytest.raises(ParameterError, match="checkpoint_each_epoch must be true or false"):
        runner.load_profile("long")
    assert runner.load_profile("paper", root=Path(runner.__file__).parents[2]).checkpoint_each_epoch


def test_every_parameter_is_checked_before_anything_runs(project):
    with pytest.raises(ParameterError, match="'epochz' is not a parameter of notebook 01_record"):
        runner.reproduce("smoke", ["01_record", "02_fail"], overrides={"epochz": 1})
    assert not (project / "results").exists()


@pytest.mark.slow
def test_failing_notebook_is_reported(project):
    with pytest.raises(runner.NotebookFailed, match=r"02_fail failed under profile smoke \(exit 1\); see .*02_fail.ipynb"):
        runner.reproduce("smoke", ["02_fail"])


@pytest.mark.slow
def test_notebook_past_its_time_limit_is_stopped(project):
    start = time.perf_counter()
    with pytest.raises(runner.NotebookTimeout, match=r"03_sleep ran past the smoke profile's time limit of 8 s and was stopped"):
        runner.reproduce("smoke", ["03_sleep"], time_limit_s=8)
    assert time.perf_counter() - start < 40


@pytest.mark.slow
def test_manifest_records_each_run_and_keeps_the_others(project):
    import hashlib

    import jsonschema

    from forensiclib.runner.manifest import MANIFEST_VERSION

    runner.reproduce("smoke", ["01_record"], overrides={"rate": 0.25})
    path = project / "results" / "smoke" / "manifest.json"
    manifest = json.loads(path.read_text())
    schema = json.loads((Path(runner.__file__).parent / "schemas" / "manifest.schema.json").read_text())
    jsonschema.validate(manifest, schema)
    assert manifest["version"] == MANIFEST_VERSION
    assert manifest["profile"] == {"name": "smoke", "description": "", "time_limit_s": 120.0, "seed": 7,
                                   "checkpoint_each_epoch": False}
    entry = manifest["notebooks"]["01_record"]
    assert entry["parameters"] == {"epochs": 5, "rate": 0.25, "profile": "smoke", "seed": 7}
    assert entry["determinism"]["PYTHONHASHSEED"] == "7" and entry["seed"] == 7
    # whether the run was exact at 128x128 and up: the caller's setting, else forensiclib's default (oneDNN on)
    assert entry["determinism"]["TF_ENABLE_ONEDNN_OPTS"] == os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1")
    assert entry["wall_time_s"] > 0 and entry["peak_rss_mb"] > 20  # the kernel alone takes more than 20 MB
    assert entry["code"] == {"commit": None, "dirty": None}  # the throw-away project is not a git repository
    assert {"numpy", "papermill", "keras"} <= set(entry["environment"]["packages"])
    notebook = project / "results" / "smoke" / "01_record.ipynb"
    assert entry["outputs"]["01_record.ipynb"] == hashlib.sha256(notebook.read_bytes()).hexdigest()
    (project / "params" / "smoke.yaml").write_text(yaml.safe_dump({"time_limit_s": 120, "seed": 7}))
    make_notebook(project / "notebooks" / "04_quick.ipynb", "x = 1")
    runner.reproduce("smoke", ["04_quick"])
    manifest = json.loads(path.read_text())
    assert set(manifest["notebooks"]) == {"01_record", "04_quick"}
    assert manifest["total_wall_time_s"] == pytest.approx(sum(e["wall_time_s"] for e in manifest["notebooks"].values()))
    with pytest.raises(jsonschema.ValidationError):  # the schema can fail
        jsonschema.validate({**manifest, "notebooks": {"x": {**entry, "outputs": {"a": "not a hash"}}}}, schema)


@pytest.mark.slow
def test_second_run_with_nothing_changed_runs_nothing(project):
    make_notebook(project / "notebooks" / "04_quick.ipynb", "x = 1")
    (first,) = runner.reproduce("smoke", ["04_quick"])
    assert not first.skipped
    start = time.perf_counter()
    (again,) = runner.reproduce("smoke", ["04_quick"])
    assert again.skipped and again.wall_time_s == pytest.approx(first.wall_time_s, abs=0.01)
    assert time.perf_counter() - start < 5  # no kernel was started
    (forced,) = runner.reproduce("smoke", ["04_quick"], force=True)
    assert not forced.skipped


@pytest.mark.slow
@pytest.mark.parametrize("change", ["parameter", "notebook", "output", "profile seed"])
def test_a_change_runs_the_notebook_again(project, change, capsys):
    make_notebook(project / "notebooks" / "04_quick.ipynb", "x = 1")
    runner.reproduce("smoke", ["04_quick"])
    overrides = {}
    if change == "parameter":
        overrides = {"epochs": 9}
    elif change == "notebook":
        make_notebook(project / "notebooks" / "04_quick.ipynb", "x = 2")
    elif change == "output":
        (project / "results" / "smoke" / "04_quick.ipynb").write_text("{}")
    else:
        (project / "params" / "smoke.yaml").write_text(yaml.safe_dump({"time_limit_s": 120, "seed": 8}))
    capsys.readouterr()
    (result,) = runner.reproduce("smoke", ["04_quick"], overrides=overrides)
    assert not result.skipped
    assert "up to date" not in capsys.readouterr().out


@pytest.mark.slow
def test_library_change_reruns_only_the_notebooks_that_loaded_it(project, monkeypatch):
    """A notebook depends on the forensiclib modules its kernel loaded (recorded by its session)."""
    from forensiclib.runner import manifest as manifest_module

    session = "import forensiclib as fl\nsession = fl.start_session('{}', profile=profile, seed=seed)\n"
    make_notebook(project / "notebooks" / "04_quick.ipynb", session.format("04_quick") + "x = 1")
    make_notebook(project / "notebooks" / "05_features.ipynb",
                  session.format("05_features") + "from forensiclib.provenance import features\nsession.save_text('a', 'a.txt')")
    runner.reproduce("smoke", ["04_quick", "05_features"])
    entries = json.loads((project / "results" / "smoke" / "manifest.json").read_text())["notebooks"]
    assert "forensiclib.provenance.features" in entries["05_features"]["modules"]
    assert "forensiclib.provenance.features" not in entries["04_quick"]["modules"]
    real = manifest_module.file_digest
    features = Path(runner.__file__).parents[1] / "provenance" / "features.py"
    monkeypatch.setattr(manifest_module, "file_digest", lambda p: "0" * 64 if Path(p) == features else real(p))
    quick, feats = runner.reproduce("smoke", ["04_quick", "05_features"])
    assert quick.skipped and not feats.skipped


@pytest.mark.slow
def test_report_is_built_from_the_records(project):
    from forensiclib.runner.report import collect_report, validate

    body = (
        "import forensiclib as fl\n"
        "session = fl.start_session('04_quick', profile=profile, seed=seed)\n"
        "session.record_data(simulated=True, description='tiny simulated set')\n"
        "session.compare('Table X', [('a', 0.5, 0.75), ('b', 0.9, None)])\n"
        "session.save_confusion([[100.0, 0.0], [25.0, 75.0]], ['p', 'q'], 'table_x', published=[[90, 10], [0, 100]])\n"
        "session.save_claims([('p is easy', True, '100%'), ('q is easy', False, '75%')])\n"
    )
    make_notebook(project / "notebooks" / "04_quick.ipynb", body)
    runner.reproduce("smoke", ["04_quick"])
    out = project / "results" / "smoke"
    report = json.loads((out / "report.json").read_text())
    validate(report)
    (book,) = report["notebooks"]
    assert book["simulated"] is True and book["data"] == ["tiny simulated set"]
    assert book["claims_held"] == 1 and len(book["claims"]) == 2
    numbers = [{k: c[k] for k in ("table", "item", "ours", "paper")} for c in book["comparisons"]]
    assert {"table": "Table X", "item": "a", "ours": 50.0, "paper": 75.0} in numbers
    assert {"table": "table x", "item": "mean of the diagonal", "ours": 87.5, "paper": 95.0} in numbers
    text = (out / "REPORT.md").read_text()
    assert "SIMULATED" in text and "| Table X | a | 75.00 | 50.00 (no interval) | not given | -25.00 | 04_quick |" in text
    assert "| p is easy | held (no evidence) |" in text and "| q is easy | **not held** (no evidence) |" in text
    assert "[04_quick.ipynb](04_quick.ipynb)" in text
    assert "<table>" in (out / "REPORT.html").read_text()
    assert not (project / "results" / "REPORT.md").exists()  # the top-level report is the default profile's
    assert collect_report("smoke")["notebooks"][0]["comparisons"] == book["comparisons"]


def test_dependencies_include_what_only_worker_processes_import():
    """A kernel that finds its dataset cached never imports the simulators; the dataset still depends on them."""
    from forensiclib.runner.manifest import dependencies

    found = dependencies(["forensiclib.data.builders"])
    assert {"forensiclib.data.synth", "forensiclib.data.synth.platforms", "forensiclib.data.synth.cameras",
            "forensiclib.provenance.jpeg"} <= set(found)
    assert not any(m.startswith("forensiclib.unified") for m in found) and "forensiclib.runner.report" not in found


@pytest.mark.slow
def test_data_folder_points_the_notebooks_that_take_it_at_real_datasets(project, tmp_path):
    parameters = PARAMETERS + 'iplab_dir = ""  # real IPLab folder\n'
    body = "import json, os\nopen(os.path.join(os.environ['FORENSICLIB_RESULTS'], profile, 'dir.json'), 'w').write(json.dumps(iplab_dir))"
    make_notebook(project / "notebooks" / "04_real.ipynb", body, parameters)
    make_notebook(project / "notebooks" / "05_other.ipynb", "x = 1")
    data = tmp_path / "data"
    (data / "iplab").mkdir(parents=True)
    runner.reproduce("smoke", ["04_real", "05_other"], data=data)
    assert json.loads((project / "results" / "smoke" / "dir.json").read_text()) == str(data.resolve() / "iplab")
    (data / "iplab").rmdir()
    (data / "photos").mkdir()
    with pytest.raises(ParameterError, match=r"holds none of the expected dataset folders ucid_social, public_social, "
                                             r"iplab, dresden \(found: photos\)"):
        runner.reproduce("smoke", ["04_real"], data=data)


_POOL_AND_TENSORFLOW = """\
import os, warnings
import keras
import numpy as np
import forensiclib as fl
from forensiclib import training
rng = np.random.default_rng(seed)
folder = os.path.join(os.environ["FORENSICLIB_RESULTS"], profile, "images")
os.makedirs(folder, exist_ok=True)
images = rng.integers(0, 256, (4, 96, 96, 3), dtype=np.uint8)
paths = [fl.encode_jpeg(image, os.path.join(folder, f"{i}.jpg"), quality=90) for i, image in enumerate(images)]
assert len(fl.extract_features(paths, n_jobs=2, cache_dir=False, progress=False).paths) == 4
def build():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model
training.train(build, rng.normal(size=(32, 4)).astype("float32"), rng.integers(0, 2, 32), epochs=1, batch_size=8,
               verbose=0)
warnings.warn("a warning of the notebook's own")
os.write(2, b"a line of the notebook's own on stderr\\n")
"""
#: A line of TensorFlow's C++ log (`E0000 00:00:1795981841.229814    6882 node_def_util.cc:682] ...`).
TF_LOG_LINE = re.compile(r"^[IWEF]\d{4} \d+:\d+:\d+(\.\d+)? +\d+ [\w./-]+:\d+\]", re.MULTILINE)


@pytest.mark.slow
@pytest.mark.parametrize("onednn", ["1", None], ids=["onednn-on", "onednn-default"])
def test_console_has_no_tracebacks_or_library_noise_and_keeps_the_notebooks_own_output(project, capfd, monkeypatch,
                                                                                        onednn):  # fmt: skip
    """A notebook that extracts features with the worker pool and trains with TensorFlow, under the runner: the
    console shows progress and the result, not the workers' tracebacks at the kernel's shutdown, TensorFlow's C++
    log or the kernel's transport warning; what the notebook itself writes to stderr still shows. With oneDNN's
    custom operations on (`TF_ENABLE_ONEDNN_OPTS=1`, on any x86 CPU, as by default on AVX-512 ones) TensorFlow logs
    its start-up notices through absl, which ignores `TF_CPP_MIN_LOG_LEVEL`; the executed notebook stays clean too."""
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # the runner's own setting, not the caller's
    if onednn:
        monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", onednn)
    else:
        monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    make_notebook(project / "notebooks" / "04_pool.ipynb", _POOL_AND_TENSORFLOW)
    capfd.readouterr()
    (result,) = runner.reproduce("smoke", ["04_pool"])
    console = "".join(capfd.readouterr())
    assert "[1/1] 04_pool done in" in console and "Executing:" in console, console
    assert "Traceback" not in console and "KeyboardInterrupt" not in console, console
    assert not TF_LOG_LINE.search(console) and "absl::InitializeLog" not in console, console
    assert "without encryption" not in console, console
    assert "a line of the notebook's own on stderr" in console, console
    executed = result.output.read_text()
    assert "a warning of the notebook's own" in executed  # Python warnings go where they always went
    notebook = nbformat.read(result.output, as_version=4)
    stderr = "".join(o.text for c in notebook.cells if c.cell_type == "code" for o in c.outputs
                     if o.output_type == "stream" and o.name == "stderr")  # fmt: skip
    assert not TF_LOG_LINE.search(stderr) and "absl::InitializeLog" not in stderr, stderr


@pytest.mark.slow
def test_a_notebooks_error_reaches_the_console(project, capfd):
    with pytest.raises(runner.NotebookFailed):
        runner.reproduce("smoke", ["02_fail"])
    console = "".join(capfd.readouterr())
    assert "RuntimeError" in console and "boom" in console, console


def test_the_kernel_drops_its_transport_warning_and_keeps_its_other_messages():
    """`_KERNEL_MAIN` starts ipykernel with a filter on its application's log; here ipykernel's start stands in."""
    stand_in = (
        "import logging; from ipykernel import kernelapp; "
        "log = logging.getLogger('IPKernelApp'); "
        "kernelapp.launch_new_instance = lambda: [log.warning('Kernel is running over TCP without encryption. All "
        "communication is sent in plain text.'), log.error('KeyboardInterrupt caught in kernel.'), "
        "log.warning('another warning of the kernel')]\n"
    )
    out = subprocess.run([sys.executable, "-c", stand_in + runner._KERNEL_MAIN], capture_output=True, text=True,
                         timeout=120, check=True)  # fmt: skip
    assert "another warning of the kernel" in out.stderr and "without encryption" not in out.stderr, out.stderr
    assert "KeyboardInterrupt" not in out.stderr, out.stderr  # Jupyter's shutdown interrupt, on a loaded machine


def test_reproduce_of_the_default_profile_rewrites_the_readme_headline(project):
    """`make reproduce && make test` passes: the run just made becomes the README's headline."""
    from forensiclib.runner.report import readme_headline

    (project / "params" / "default.yaml").write_text(yaml.safe_dump({"time_limit_s": 120, "seed": 0, "notebooks": {}}))
    (project / "README.md").write_text("# X\n\n<!-- headline: written by make reproduce -->\nold headline\n"
                                       "<!-- /headline -->\n\nrest\n")  # fmt: skip
    runner.reproduce("default", ["01_record"])
    text = (project / "README.md").read_text()
    assert "old headline" not in text and text.endswith("<!-- /headline -->\n\nrest\n")
    assert readme_headline(project / "results" / "default" / "report.json") in text
    assert (project / "results" / "REPORT.md").is_file()


def test_a_profile_leaves_notebooks_out_with_a_reason_the_report_and_headline_give(project, capsys):
    """`not_run`: a full run skips the notebook and says why; named explicitly, it runs; the report lists it."""
    from forensiclib.runner.report import collect_report, readme_headline, render_markdown

    (project / "params" / "bad.yaml").write_text(yaml.safe_dump({"not_run": {"02_fail": ""}}))
    with pytest.raises(ParameterError, match="'not_run' must map notebook names to the reason"):
        runner.load_profile("bad")
    (project / "params" / "typo.yaml").write_text(yaml.safe_dump({"not_run": {"02_fial": "why"}}))
    with pytest.raises(ParameterError, match=r"Unknown notebook '02_fial'. Did you mean '02_fail'\?"):
        runner.load_profile("typo")
    slow = "too slow here; run it with make run NB=<notebook>"
    profile = {"time_limit_s": 120, "seed": 0, "not_run": {"02_fail": slow, "03_sleep": slow}}
    (project / "params" / "lean.yaml").write_text(yaml.safe_dump(profile))
    assert runner.load_profile("lean").not_run == profile["not_run"]
    results = runner.reproduce("lean")
    assert [r.notebook for r in results] == ["01_record"]
    printed = capsys.readouterr().out
    assert printed.count("not run by profile") == 1  # one line for the notebooks that share a reason
    assert f"02_fail, 03_sleep: not run by profile lean: {slow}" in printed
    report = collect_report("lean", results_root=project / "results")
    assert [b["notebook"] for b in report["notebooks"]] == ["01_record"]
    assert [(b["notebook"], b["reason"]) for b in report["not_run"]] == list(profile["not_run"].items())
    text = render_markdown(report)
    assert "## Not run by this profile (2 notebooks)" in text
    assert f"| 02_fail, 03_sleep | neither paper | {slow} |" in text and text.count(slow) == 1  # one row per reason
    assert "It does not run 2 notebooks (02_fail, 03_sleep)" in readme_headline(report)
    with pytest.raises(runner.NotebookFailed):  # named, a notebook left out runs under the profile's values
        runner.reproduce("lean", ["02_fail"])
