"""Profiles and notebook parameters: what a run gives each notebook, checked before anything runs.

A profile (`params/<name>.yaml`) has a description, a time limit per notebook, a seed, optional `shared` values (each
notebook receives those it declares) and per-notebook values. A notebook declares its parameters in one cell tagged
`parameters`; every value is checked against those names and the defaults' types, and a misspelled name fails at once
with the closest valid name and the full list.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from ..errors import ParameterError
from ..paths import project_root

__all__ = [
    "Profile",
    "NotebookParameter",
    "INJECTED",
    "load_profile",
    "list_notebooks",
    "resolve_notebook",
    "notebook_parameters",
    "check_parameters",
    "parameter_values",
]

#: Parameters every notebook declares and the runner sets.
INJECTED = ("profile", "seed")
_PROFILE_KEYS = {"description", "time_limit_s", "seed", "checkpoint_each_epoch", "shared", "notebooks", "not_run"}


@dataclasses.dataclass(frozen=True)
class Profile:
    """A run profile, read from `params/<name>.yaml`.

    Attributes:
        name: profile name; results go to `results/<name>/`.
        description: what the profile is for.
        time_limit_s: wall-clock limit for each notebook, in seconds.
        seed: the seed every notebook receives.
        notebooks: per notebook (name without extension), parameter values.
        shared: values for parameters several notebooks declare (the same patch size for every notebook that
            trains on patches, say): each notebook receives those it declares; a notebook's own values win.
        checkpoint_each_epoch: long training runs keep a per-epoch checkpoint and resume from it when run
            again after an interruption (`FORENSICLIB_CHECKPOINT=1` in the kernel's environment).
        not_run: notebooks a run of every notebook leaves out, each with the reason and how to run it; the
            report lists them. Named explicitly (`make run NB=...`), such a notebook runs with this profile's values.
    """

    name: str
    description: str
    time_limit_s: float
    seed: int
    notebooks: Mapping[str, Mapping[str, object]]
    checkpoint_each_epoch: bool = False
    shared: Mapping[str, object] = dataclasses.field(default_factory=dict)
    not_run: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def values_for(self, notebook: str | Path) -> dict[str, object]:
        """The values this profile gives one notebook: the shared ones it declares, then its own."""
        path = Path(notebook)
        declared = notebook_parameters(path) if self.shared else {}
        return {**{k: v for k, v in self.shared.items() if k in declared}, **self.notebooks.get(path.stem, {})}


@dataclasses.dataclass(frozen=True)
class NotebookParameter:
    """One assignment of a notebook's `parameters` cell."""

    name: str
    default: object
    help: str


def list_notebooks(root: Path | None = None) -> list[Path]:
    """The suite's notebooks, `notebooks/[0-9]*.ipynb`, in order."""
    return sorted((root or project_root()).joinpath("notebooks").glob("[0-9]*.ipynb"))


def resolve_notebook(name: str | Path, root: Path | None = None) -> Path:
    """A notebook by name (`01_dct_features`), file name or path; error lists the valid ones."""
    notebooks = list_notebooks(root)
    stem = Path(name).name.removesuffix(".ipynb")
    for path in notebooks:
        if path.stem == stem:
            return path
    hint = difflib.get_close_matches(stem, [p.stem for p in notebooks], n=1)
    raise ParameterError(
        f"Unknown notebook {str(name)!r}."
        + (f" Did you mean {hint[0]!r}?" if hint else "")
        + f" Valid notebooks: {', '.join(p.stem for p in notebooks) or '(none found)'}"
    )


def load_profile(profile: str | Path, root: Path | None = None) -> Profile:
    """Read and check a profile: a name in `params/` or a path to a YAML file."""
    root = root or project_root()
    path = Path(profile)
    if path.suffix not in (".yaml", ".yml"):
        path = root / "params" / f"{profile}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (root / "params").glob("*.yaml"))
        raise ParameterError(f"Unknown profile {str(profile)!r}: no file {path}. Known profiles: {', '.join(known)}")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping at the top level, found {type(data).__name__}")
    unknown = set(data) - _PROFILE_KEYS
    if unknown:
        raise ParameterError(f"{path}: unknown keys {sorted(unknown)}; valid keys: {sorted(_PROFILE_KEYS)}")
    limit, seed = data.get("time_limit_s", 1800), data.get("seed", 0)
    if not isinstance(limit, (int, float)) or isinstance(limit, bool) or limit <= 0:
        raise ParameterError(f"{path}: time_limit_s must be a positive number of seconds, found {limit!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ParameterError(f"{path}: seed must be a non-negative integer, found {seed!r}")
    checkpoint = data.get("checkpoint_each_epoch", False)
    if not isinstance(checkpoint, bool):
        raise ParameterError(f"{path}: checkpoint_each_epoch must be true or false, found {checkpoint!r}")
    notebooks = data.get("notebooks") or {}
    if not isinstance(notebooks, dict) or not all(isinstance(v or {}, dict) for v in notebooks.values()):
        raise ParameterError(f"{path}: 'notebooks' must map notebook names to parameter mappings")
    for name in notebooks:
        resolve_notebook(name, root)
    shared = data.get("shared") or {}
    if not isinstance(shared, dict):
        raise ParameterError(f"{path}: 'shared' must map parameter names to values, found {type(shared).__name__}")
    if shared:
        _check_shared(path, shared, list_notebooks(root))
    not_run = data.get("not_run") or {}
    if not isinstance(not_run, dict) or not all(isinstance(v, str) and v.strip() for v in not_run.values()):
        raise ParameterError(f"{path}: 'not_run' must map notebook names to the reason each is left out, found "
                             f"{not_run!r}")
    for name in not_run:
        resolve_notebook(name, root)
    return Profile(
        name=path.stem,
        description=str(data.get("description", "")),
        time_limit_s=float(limit),
        seed=seed,
        notebooks={name: dict(values or {}) for name, values in notebooks.items()},
        checkpoint_each_epoch=checkpoint,
        shared=dict(shared),
        not_run={resolve_notebook(name, root).stem: " ".join(reason.split()) for name, reason in not_run.items()},
    )


def _check_shared(path: Path, shared: Mapping[str, object], notebooks: Sequence[Path]) -> None:
    """Every shared key is some notebook's parameter, of the type each declaring notebook expects."""
    declared = {nb: notebook_parameters(nb) for nb in notebooks}
    every = sorted({name for parameters in declared.values() for name in parameters})
    for key, value in shared.items():
        users = [nb for nb, parameters in declared.items() if key in parameters]
        if not users:
            hint = difflib.get_close_matches(key, every, n=1)
            raise ParameterError(
                f"{path}: shared parameter {key!r} is declared by no notebook."
                + (f" Did you mean {hint[0]!r}?" if hint else "")
                + f" Parameters of the notebooks: {', '.join(every)}"
            )
        for nb in users:
            check_parameters(nb, {key: value})


def notebook_parameters(notebook: str | Path) -> dict[str, NotebookParameter]:
    """The assignments of a notebook's `parameters`-tagged cell, with their defaults and comments."""
    import nbformat

    path = Path(notebook)
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ParameterError(f"{path}: expected exactly one cell tagged 'parameters', found {len(cells)}")
    source = cells[0].source
    lines = source.splitlines()
    parameters = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, (ast.Assign, ast.AnnAssign))):
            continue
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        if not isinstance(target, ast.Name):
            continue
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            raise ParameterError(f"{path}: parameter {target.id} must have a literal default") from None
        rest = lines[node.end_lineno - 1][node.value.end_col_offset :]
        comment = rest.split("#", 1)[1].strip() if "#" in rest else ""
        parameters[target.id] = NotebookParameter(target.id, default, comment)
    missing = [name for name in INJECTED if name not in parameters]
    if missing:
        raise ParameterError(f"{path}: its parameters cell must declare {', '.join(missing)}")
    return parameters


def parameter_values(notebook: str | Path, profile: str | Profile = "default") -> dict[str, object]:
    """A notebook's parameters as a profile runs it: the `parameters` cell's defaults, then the profile's values."""
    path = resolve_notebook(notebook)
    selected = profile if isinstance(profile, Profile) else load_profile(profile)
    defaults = {name: p.default for name, p in notebook_parameters(path).items()}
    return {**defaults, **selected.values_for(path)}


def _type_matches(value, default) -> bool:
    if default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(default))


def check_parameters(notebook: str | Path, values: Mapping[str, object]) -> dict[str, object]:
    """Check parameter values against a notebook's `parameters` cell.

    Raises:
        ParameterError: a name the notebook does not declare (with the closest
            valid name and the full list), or a value whose type differs from the
            default's (an int is accepted where the default is a float).
    """
    declared = notebook_parameters(notebook)
    name = Path(notebook).stem
    for key, value in values.items():
        if key not in declared:
            hint = difflib.get_close_matches(key, declared, n=1)
            raise ParameterError(
                f"{key!r} is not a parameter of notebook {name}."
                + (f" Did you mean {hint[0]!r}?" if hint else "")
                + f" Valid parameters: {', '.join(declared)}"
            )
        default = declared[key].default
        if not _type_matches(value, default):
            raise ParameterError(
                f"Parameter {key!r} of notebook {name} expects a {type(default).__name__} like its "
                f"default {default!r} ({declared[key].help or 'no description'}). Received: {value!r}"
            )
    return dict(values)
