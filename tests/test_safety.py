"""Safety: caches hold no pickles, networks load in Keras' safe mode, runs write only to results and cache."""

import json
import os
from pathlib import Path

import keras
import numpy as np
import pytest

from forensiclib import cache
from forensiclib.runner import reproduce as runner

ROOT = Path(runner.__file__).parents[2]


def test_a_pickle_in_the_cache_is_a_miss_never_loaded(tmp_path):
    np.savez(tmp_path / "entry.npz", meta=np.array([{"a": 1}], dtype=object))  # an object array is a pickle
    assert cache.load_arrays(tmp_path / "entry.npz") is None
    cache.save_arrays(tmp_path / "good.npz", x=np.arange(3))
    assert cache.load_arrays(tmp_path / "good.npz")["x"].tolist() == [0, 1, 2]


def test_a_cached_network_with_arbitrary_code_is_refused(tmp_path):
    """A `.keras` file with a Lambda layer (Python code) is not run: the cache treats it as a miss."""
    from forensiclib.unified.common import _load_trained

    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda t: t * 2)])
    model.save(tmp_path / "model.keras")
    cache.save_arrays(tmp_path / "trained.npz", meta=np.array(json.dumps({"history": {}})))
    assert _load_trained(tmp_path) is None
    with pytest.raises(ValueError, match="safe_mode"):
        keras.models.load_model(tmp_path / "model.keras")  # what the library calls (safe mode is the default)


def test_identifier_loads_in_safe_mode(tmp_path):
    from forensiclib.provenance.identifier import load_identifier

    model = keras.Sequential([keras.Input((909,)), keras.layers.Lambda(lambda t: t * 2)])
    model.save(tmp_path / "model.keras")
    (tmp_path / "identifier.json").write_text(json.dumps({"version": 1, "classes": ["a"], "patch_size": 64,
                                                          "trained_on": "x", "simulated": True}))
    with pytest.raises(ValueError, match="safe_mode"):
        load_identifier(tmp_path).model


def _listing(folder: Path, skip=()) -> dict[str, int]:
    out = {}
    for directory, subfolders, names in os.walk(folder):
        subfolders[:] = [d for d in subfolders if d not in skip]
        for name in names:
            path = Path(directory, name)
            out[str(path.relative_to(folder))] = path.stat().st_mtime_ns
    return out


@pytest.mark.slow
def test_a_notebook_run_writes_only_to_results_and_cache(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("FORENSICLIB_CACHE", str(tmp_path / "cache"))
    for variable in ("KERAS_HOME", "MPLCONFIGDIR", "IPYTHONDIR", "JUPYTER_RUNTIME_DIR"):
        monkeypatch.delenv(variable, raising=False)
    skip = {".venv", ".git", ".cache", "results", "__pycache__", ".pytest_cache", ".ipynb_checkpoints"}
    before = _listing(ROOT, skip)
    runner.reproduce("smoke", ["01_dct_features"], results_root=tmp_path / "results")
    assert (tmp_path / "results" / "smoke" / "01_dct_features.ipynb").is_file()
    assert _listing(ROOT, skip) == before, "the run wrote into the project outside results/ and the cache"
    assert not any(home.rglob("*")), f"the run wrote into the home folder: {sorted(home.rglob('*'))[:10]}"
