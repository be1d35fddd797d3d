"""Every notebook of the suite runs end to end under the smoke profile, and the run's manifest and report are valid;
the committed notebooks have no outputs and close with a summary and exercises that say what to expect.

One smoke run of the whole suite (what `make smoke` does) into a temporary results folder and cache; the tests
below read what it left.
"""

import json
import re
from pathlib import Path

import jsonschema
import nbformat
import pytest

from forensiclib.runner import reproduce as runner
from forensiclib.runner.report import validate

NOTEBOOKS = [path.stem for path in runner.list_notebooks()]
PATHS = {path.stem: path for path in runner.list_notebooks()}
SCHEMAS = Path(runner.__file__).parent / "schemas"


def _smoke(root):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FORENSICLIB_CACHE", str(root / "cache"))
        # oneDNN's custom operations on, as by default on AVX-512 CPUs: TensorFlow's noisiest start (tests below)
        patch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
        return runner.reproduce("smoke", results_root=root / "results")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("smoke")
    results = _smoke(root)
    again = _smoke(root)
    return root / "results" / "smoke", {r.notebook: r for r in results}, again


def test_there_are_notebooks():
    assert "01_dct_features" in NOTEBOOKS


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_under_smoke_profile(name, smoke_run):
    out, results, _ = smoke_run
    executed = nbformat.read(results[name].output, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert list((out / name).glob("*.png")), "a notebook saves its figures under results/<profile>/<notebook>/"
    record = json.loads((out / name / "session.json").read_text())
    assert record["data"], "a notebook says what data it ran on"


#: A cell tagged so may show Python warnings on stderr (e.g. 01's batch with a text file in it); nothing else.
EXPECTED_WARNING_TAG = "expected-warning"
#: A Python warning as the kernel shows it: `<file>:<line>: <Category>: <message>`, then the line of source.
WARNING_LINE = re.compile(r"^\S+:\d+: \w*Warning: ")
#: Noise no cell may show anywhere: TensorFlow's C++ and absl start-up log, retracing warnings, Keras epoch logs.
NOISE = re.compile(r"^([IWEF]\d{4} \d+:\d+:\d+(\.\d+)? +\d+ [\w./-]+:\d+\]|WARNING: All log messages before absl"
                   r"|.*triggered tf\.function retracing|Epoch \d+/\d+$)", re.MULTILINE)


def unexpected_output(notebook) -> list[str]:
    """The lines of an executed notebook that are noise: any stderr line of a cell not tagged
    `EXPECTED_WARNING_TAG`, any stderr line of a tagged cell that is not part of a Python warning, and `NOISE`
    anywhere (stdout too)."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        streams = [o for o in cell.get("outputs", []) if o.output_type == "stream"]
        text = "".join(o.text for o in streams)
        found += [f"cell {index}: {m.group(0)[:120]}" for m in NOISE.finditer(text.replace("\r", "\n"))]
        lines = "".join(o.text for o in streams if o.name == "stderr").replace("\r", "\n").splitlines()
        tagged = EXPECTED_WARNING_TAG in cell.metadata.get("tags", [])
        previous_was_warning = False
        for line in filter(str.strip, lines):
            is_warning = tagged and (bool(WARNING_LINE.match(line)) or (previous_was_warning and line.startswith(" ")))
            if not is_warning:
                found.append(f"cell {index} stderr: {line[:120]}")
            previous_was_warning = bool(WARNING_LINE.match(line))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_executed_notebooks_show_no_stderr_but_the_warnings_they_mean(name, smoke_run):
    """No TensorFlow or absl log (with oneDNN's custom operations on), no progress bars as red stderr fragments
    (plain text on stdout instead), no retracing warnings, no Keras epoch logs, no library warnings."""
    _, results, _ = smoke_run
    assert unexpected_output(nbformat.read(results[name].output, as_version=4)) == []


def test_the_noise_check_can_fail():
    cell = nbformat.v4.new_code_cell("import forensiclib")
    noisy = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
        "I0000 00:00:1796401458.012547    4300 port.cc:153] oneDNN custom operations are on.\n",
        "\rDCT features:   0%|          | 0/6 [00:00<?, ?img/s]\n",
        "/tmp/ipykernel_1/2.py:13: UserWarning: 2 of 6 files skipped\n  feature_set = fl.extract_features(batch)\n",
    ]
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=t) for t in noisy]
    cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text="Epoch 1/2\n1/1 - 8s - loss: 2.0\n"))
    notebook = nbformat.v4.new_notebook(cells=[cell])
    assert len(unexpected_output(notebook)) == 2 + 3 + 2 + 1  # noise twice (as noise, as stderr), bar, warning, epoch
    cell.metadata["tags"] = [EXPECTED_WARNING_TAG]
    cell.outputs = [cell.outputs[3]]
    assert unexpected_output(notebook) == []


@pytest.mark.slow
def test_manifest_matches_its_schema(smoke_run):
    out, results, _ = smoke_run
    manifest = json.loads((out / "manifest.json").read_text())
    jsonschema.validate(manifest, json.loads((SCHEMAS / "manifest.schema.json").read_text()))
    assert list(manifest["notebooks"]) == NOTEBOOKS
    for name, entry in manifest["notebooks"].items():
        assert entry["wall_time_s"] == pytest.approx(results[name].wall_time_s, abs=0.01)
        assert set(entry["outputs"]) >= {f"{name}.ipynb", f"{name}/session.json"}
    assert manifest["total_wall_time_s"] == pytest.approx(sum(r.wall_time_s for r in results.values()), abs=0.1)


@pytest.mark.slow
def test_report_matches_its_schema_and_covers_every_notebook(smoke_run):
    out, _, _ = smoke_run
    report = json.loads((out / "report.json").read_text())
    validate(report)
    assert [b["notebook"] for b in report["notebooks"]] == NOTEBOOKS
    by_name = {b["notebook"]: b for b in report["notebooks"]}
    # the papers' tables are compared with the published numbers, and their claims checked
    tables = {c["table"].split(":")[0] for b in report["notebooks"] for c in b["comparisons"]}
    assert {"Table I", "Table II", "Table III", "Table IV", "Table V", "Table VI", "Table VII", "Table 2", "Table 3",
            "Sec. 5.1", "Fig. 3"} <= tables
    for name in NOTEBOOKS[2:]:
        # Sec. IV-A and Sec. 5.1 state numbers, not comparisons; 06 goes beyond the paper (findings, not its claims)
        if name not in ("03_patch_level_3_classes", "06_sharing_chains", "07_single_task"):
            assert by_name[name]["claims"], f"{name} checks the paper's claims"
    assert all(b["simulated"] for b in report["notebooks"] if b["notebook"] != "01_dct_features")
    # every notebook that trains a network says how its training ended
    trains = {"03_patch_level_3_classes", "05_eight_classes", "06_sharing_chains", "07_single_task", "08_transfer",
              "09_multitask", "10_deep_feature_trees", "11_limited_data"}
    assert {b["notebook"] for b in report["notebooks"] if b["training"]} == trains
    assert report["training"]["networks"] == sum(len(b["training"]) for b in report["notebooks"])
    text = (out / "REPORT.md").read_text()
    assert "SIMULATED" in text and "## The papers' claims, checked on this run" in text
    for b in report["notebooks"]:
        assert f"[{b['notebook']}.ipynb]({b['notebook']}.ipynb)" in text
        for o in b["outputs"]:
            assert (out / o["file"]).is_file()
    with pytest.raises(jsonschema.ValidationError):  # the schema can fail
        validate({**report, "notebooks": [{**report["notebooks"][0], "claims": [{"claim": "x", "holds": "yes", "detail": ""}]}]})


@pytest.mark.slow
def test_second_run_with_nothing_changed_runs_nothing(smoke_run):
    _, _, again = smoke_run
    assert [r.notebook for r in again] == NOTEBOOKS and all(r.skipped for r in again)


@pytest.mark.slow
def test_a_second_run_from_scratch_gives_identical_tables(smoke_run, tmp_path):
    """Determinism: seeds, deterministic ops, and no state shared through the cache (a fresh one here)."""
    first, _, _ = smoke_run
    _smoke(tmp_path)
    second = tmp_path / "results" / "smoke"
    tables = sorted(p.relative_to(first) for p in first.glob("*/*") if p.suffix in (".md", ".csv"))
    assert len(tables) > 40
    differing = [str(t) for t in tables if (first / t).read_text() != (second / t).read_text()]
    assert not differing, f"tables that differ between two runs: {differing}"
    a, b = (json.loads((folder / "report.json").read_text()) for folder in (first, second))
    assert [n["comparisons"] for n in a["notebooks"]] == [n["comparisons"] for n in b["notebooks"]]
    assert [n["claims"] for n in a["notebooks"]] == [n["claims"] for n in b["notebooks"]]


@pytest.mark.slow
def test_notebook_05_leaves_an_identifier_for_the_command_line(smoke_run):
    out, _, _ = smoke_run
    record = json.loads((out / "05_eight_classes" / "identifier" / "identifier.json").read_text())
    assert len(record["classes"]) == 8 and record["simulated"] is True and "simulated" in record["trained_on"]


def test_committed_notebooks_have_no_outputs():
    for path in runner.list_notebooks():
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code"), path


def _markdown_cells(path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]


#: A numbered exercise: `1. **Title.** text`, up to the next one or the end of the cell.
EXERCISE = re.compile(r"^\d+\. \*\*.+?(?=^\d+\. |\Z)", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_ends_with_a_summary_then_exercises(name):
    """The last cells: a "## Summary" heading, the code that writes it from the run's own variables, "## Exercises"."""
    cells = nbformat.read(PATHS[name], as_version=4).cells
    assert len(cells) >= 3, name
    summary, code, exercises = cells[-3:]
    assert summary.cell_type == "markdown" and summary.source.startswith("## Summary"), f"{name}: {summary.source[:40]!r}"
    assert code.cell_type == "code" and "display(Markdown(" in code.source, f"{name}: the summary is printed by code"
    assert exercises.cell_type == "markdown" and exercises.source.startswith("## Exercises"), name
    assert all("## Summary" not in c.source and "## Exercises" not in c.source for c in cells[:-3]), name


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_exercise_says_what_to_expect(name):
    text = _markdown_cells(PATHS[name])[-1]
    exercises = EXERCISE.findall(text)
    assert exercises, f"{name}: no numbered exercise in its last cell"
    missing = [e.split("**")[1] for e in exercises if "Expect" not in e]
    assert not missing, f"{name}: exercises that do not say what to expect: {missing}"


def test_the_exercise_check_can_fail():
    text = "## Exercises\n\n1. **One.** Do this. Expect that.\n2. **Two.** Do that,\n   over two lines.\n"
    exercises = EXERCISE.findall(text)
    assert len(exercises) == 2 and "Expect" in exercises[0] and "Expect" not in exercises[1]


def test_every_cell_has_an_id_of_its_own():
    """nbformat 4.5 cells carry ids (a cell without one makes papermill warn, and later nbformat versions fail)."""
    for path in runner.list_notebooks():
        ids = [c.get("id") for c in nbformat.read(path, as_version=4).cells]
        assert all(ids) and len(set(ids)) == len(ids), path


@pytest.mark.parametrize("name", ["03_patch_level_3_classes", "07_single_task"])
def test_each_paper_s_first_training_notebook_trains_a_network_in_view(name):
    code = [c.source for c in nbformat.read(PATHS[name], as_version=4).cells if c.cell_type == "code"]
    assert any("fl.train(" in s and "plots.plot_training_history(demo.history" in s for s in code), name
