"""Every notebook of the suite runs end to end under the smoke profile (what `make run ... PROFILE=smoke` does)."""

import nbformat
import pytest

from forensiclib import reproduce as runner

NOTEBOOKS = [path.stem for path in runner.list_notebooks()]


def test_there_are_notebooks():
    assert "01_dct_features" in NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_under_smoke_profile(name, tmp_path, monkeypatch):
    monkeypatch.setenv("FORENSICLIB_CACHE", str(tmp_path / "cache"))
    (result,) = runner.reproduce("smoke", [name], results_root=tmp_path / "results")
    executed = nbformat.read(result.output, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    figures = list((tmp_path / "results" / "smoke" / name).glob("*.png"))
    assert figures, "a notebook saves its figures under results/<profile>/<notebook>/"


def test_committed_notebooks_have_no_outputs():
    for path in runner.list_notebooks():
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code"), path
