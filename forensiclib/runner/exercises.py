"""Teachers' exercises: a notebook, a short brief and parameter changes, run into `results/exercises/<name>/`.

An exercise is `exercises/<name>.yaml`:

    notebook: 03_patch_level_3_classes
    brief: |
      Train on 32x32 patches instead of 64x64: what happens to accuracy, and why?
    parameters:
      patch_size: 32

`run_exercise(name)` checks every parameter against the notebook's `parameters` cell before anything runs (a
misspelled name stops with the closest valid name and the full list), then runs the notebook with the default
profile's values plus the exercise's, as profile `<name>`, into `results/exercises/<name>/` with its own report.
Command line: `python -m forensiclib exercise NAME` (`make exercise EX=NAME`); without a name, the list.
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path

import yaml

from ..cache import write_text_atomic
from ..errors import ParameterError
from ..paths import project_root

__all__ = ["Exercise", "list_exercises", "load_exercise", "run_exercise"]

_KEYS = {"notebook", "brief", "parameters"}


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One exercise: its name, the notebook it runs, the brief for students and the parameter values."""

    name: str
    notebook: str
    brief: str
    parameters: dict


def list_exercises(root: Path | None = None) -> list[str]:
    """Names of the exercises in `exercises/`, sorted."""
    return sorted(p.stem for p in (root or project_root()).joinpath("exercises").glob("*.yaml"))


def load_exercise(name: str, root: Path | None = None) -> Exercise:
    """Read and check `exercises/<name>.yaml` (a path to a YAML file works too).

    Raises:
        ParameterError: unknown exercise (with the list), bad file, unknown notebook, or a parameter the notebook
            does not declare or of the wrong type (with the valid list).
    """
    from .reproduce import check_parameters, resolve_notebook

    root = root or project_root()
    path = Path(name)
    if path.suffix not in (".yaml", ".yml"):
        path = root / "exercises" / f"{name}.yaml"
    if not path.is_file():
        known = list_exercises(root)
        hint = difflib.get_close_matches(str(name), known, n=1)
        raise ParameterError(f"Unknown exercise {str(name)!r}." + (f" Did you mean {hint[0]!r}?" if hint else "")
                             + f" Exercises: {', '.join(known) or '(none)'}")  # fmt: skip
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping with keys {sorted(_KEYS)}, found {type(data).__name__}")
    if set(data) - _KEYS or "notebook" not in data or "brief" not in data:
        raise ParameterError(f"{path}: expected the keys notebook, brief and parameters; found {sorted(data)}")
    parameters = data.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise ParameterError(f"{path}: 'parameters' must map parameter names to values, found {parameters!r}")
    notebook = resolve_notebook(data["notebook"], root)
    try:
        check_parameters(notebook, parameters)
    except ParameterError as error:
        raise ParameterError(f"Exercise {path.stem}: {error}") from None
    return Exercise(path.stem, notebook.stem, str(data["brief"]).strip(), dict(parameters))


def run_exercise(name: str, *, base_profile: str = "default", force: bool = False, results_root: Path | None = None):
    """Run an exercise (see the module docstring) into `<results_root>/<name>/` (default `results/exercises/`).

    Returns the `RunResult`. `base_profile` gives the values the exercise changes (`smoke` for a quick check).
    """
    from .reproduce import load_profile, reproduce

    root = project_root()
    exercise = load_exercise(name, root)
    profile = dataclasses.replace(load_profile(base_profile, root), name=exercise.name)
    out = Path(results_root) if results_root else root / "results" / "exercises"
    print(f"Exercise {exercise.name} ({exercise.notebook}, {base_profile} profile + {exercise.parameters}):\n"
          f"{exercise.brief}\n", flush=True)  # fmt: skip
    write_text_atomic(out / exercise.name / "BRIEF.md", 
        f"# Exercise: {exercise.name}\n\nNotebook `{exercise.notebook}`, the {base_profile} profile's values plus:\n\n"
        + "".join(f"- `{k} = {v!r}`\n" for k, v in exercise.parameters.items()) + f"\n{exercise.brief}\n"
    )
    (result,) = reproduce(profile, [exercise.notebook], overrides=exercise.parameters, results_root=out, force=force)
    return result
