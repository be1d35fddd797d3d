"""The notebook runner: every notebook under a profile, through papermill.

A profile (`params/<name>.yaml`) sets a time limit per notebook, a seed, and
parameter values per notebook; a notebook's own `parameters` cell holds the
defaults. Before anything runs, every value is checked against the notebook's
`parameters` cell: an unknown name or a value of the wrong type stops the run
with the list of valid parameters. Then each notebook runs

- in a fresh kernel of this environment, started with the seed and the
  determinism settings already in its environment (`PYTHONHASHSEED`,
  `FORENSICLIB_SEED`, `TF_DETERMINISTIC_OPS`, ...),
- from a fixed working directory, `notebooks/` (as in JupyterLab),
- with papermill's progress bar, under the profile's time limit: a notebook
  that runs past it is stopped and reported, its partial output kept,
- into `results/<profile>/<notebook>.ipynb`, recorded in `results/<profile>/manifest.json`
  (parameters, wall time, peak memory, git commit, package versions, SHA-256 of every output;
  see `forensiclib.runner.manifest`).

Runs are incremental: a notebook whose notebook file, parameters, loaded library modules and
package versions are unchanged since its last successful run, and whose outputs are still there
unmodified, is not run again (`force=True` runs it anyway). Datasets, features and trained networks
are cached by content in `.cache/`, so what does run reuses what other notebooks built. At the end
the reviewer's report (`forensiclib.runner.report`) is rebuilt from the manifest and the notebooks' records.

Command line: `python -m forensiclib reproduce --profile smoke [NOTEBOOK ...]`.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from ..cache import write_text_atomic
from ..errors import ParameterError
from ..paths import project_root

__all__ = [
    "Profile",
    "NotebookParameter",
    "RunResult",
    "NotebookFailed",
    "NotebookTimeout",
    "load_profile",
    "list_notebooks",
    "resolve_notebook",
    "notebook_parameters",
    "check_parameters",
    "parameter_values",
    "run_notebook",
    "reproduce",
    "install_kernel",
    "REAL_DATASETS",
]

#: Parameters every notebook declares; the runner sets them from the profile.
INJECTED = ("profile", "seed")
KERNEL_NAME = "forensiclib"
_PROFILE_KEYS = {"description", "time_limit_s", "seed", "checkpoint_each_epoch", "shared", "notebooks"}
#: Settings exported to the kernel's environment before it starts.
DETERMINISM_ENV = {
    "TF_DETERMINISTIC_OPS": "1",
    "TF_CUDNN_DETERMINISTIC": "1",
}
#: TensorFlow's C++ log, off in the kernel unless the caller's environment sets it: its lines (start-up notices,
#: `E0000 ... NodeDef mentions attribute use_unbounded_threadpool` from tf.data pipelines) are not errors of
#: the run, and the kernel echoes its stderr to the runner's console. Errors that matter reach Python as exceptions.
QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
}
#: The kernel's entry point: `ipykernel_launcher`'s (the working folder off `sys.path` while ipykernel loads), with
#: one log message of the kernel dropped, its warning that it runs "over TCP without encryption". Papermill's kernel
#: manager provisions no CurveZMQ keys, and the kernel listens on this machine's loopback only, behind the
#: connection file's signing key; the warning would print at every notebook. The kernel's other messages stay.
_KERNEL_MAIN = (
    "import logging, sys; "
    "sys.path[0] == '' and sys.path.pop(0); "
    "logging.getLogger('IPKernelApp').addFilter("
    "lambda record: not record.getMessage().startswith('Kernel is running over TCP without encryption')); "
    "from ipykernel import kernelapp; "
    "kernelapp.launch_new_instance()"
)


class NotebookFailed(RuntimeError):
    """A notebook raised an error; its executed copy shows where."""


class NotebookTimeout(RuntimeError):
    """A notebook ran past its profile's time limit and was stopped."""


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
    """

    name: str
    description: str
    time_limit_s: float
    seed: int
    notebooks: Mapping[str, Mapping[str, object]]
    checkpoint_each_epoch: bool = False
    shared: Mapping[str, object] = dataclasses.field(default_factory=dict)

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


@dataclasses.dataclass(frozen=True)
class RunResult:
    """One notebook of a run: its output, wall time and peak memory (largest process of the run, MB).

    `skipped` is True when it was up to date and not run again; the times are then the last run's.
    """

    notebook: str
    profile: str
    output: Path
    wall_time_s: float
    peak_rss_mb: float | None = None
    skipped: bool = False


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
    return Profile(
        name=path.stem,
        description=str(data.get("description", "")),
        time_limit_s=float(limit),
        seed=seed,
        notebooks={name: dict(values or {}) for name, values in notebooks.items()},
        checkpoint_each_epoch=checkpoint,
        shared=dict(shared),
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


def install_kernel() -> str:
    """Register this environment's Python as the Jupyter kernel `forensiclib`; returns its name.

    The kernel spec (`kernel.json`, as `ipykernel install` writes it, the kernel started by `_KERNEL_MAIN`) goes
    under `sys.prefix`, so it belongs to this environment only; it is written directly, without importing IPython
    (which would create `~/.ipython`).
    If it cannot be written the default `python3` kernel is used.
    """
    spec = {
        "argv": [sys.executable, "-Xfrozen_modules=off", "-c", _KERNEL_MAIN, "-f", "{connection_file}"],
        "display_name": "Python (forensiclib)",
        "language": "python",
        "metadata": {"debugger": True},
    }
    folder = Path(sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    try:
        if not (folder / "kernel.json").is_file() or json.loads((folder / "kernel.json").read_text()) != spec:
            write_text_atomic(folder / "kernel.json", json.dumps(spec, indent=1))
        return KERNEL_NAME
    except (OSError, ValueError):
        return "python3"


def run_notebook(
    notebook: str | Path,
    *,
    profile: Profile,
    parameters: Mapping[str, object] | None = None,
    results_root: Path | None = None,
    kernel: str | None = None,
    git: dict | None = None,
) -> RunResult:
    """Execute one notebook under a profile (parameters already checked or checked here).

    Raises:
        NotebookFailed: a cell raised; the executed copy shows where.
        NotebookTimeout: it ran past `profile.time_limit_s` and was stopped.
    """
    root = project_root()
    path = resolve_notebook(notebook, root)
    values = {**profile.values_for(path), **(parameters or {})}
    values = check_parameters(path, {**values, "profile": profile.name, "seed": profile.seed})
    out_dir = (results_root or root / "results") / profile.name
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / path.name
    partial = out_dir / f".tmp-{path.name}"  # papermill writes as it goes; renamed to `output` when it stops
    env = {
        **QUIET_ENV,
        **os.environ,
        **DETERMINISM_ENV,
        "PYTHONHASHSEED": str(profile.seed),
        "FORENSICLIB_SEED": str(profile.seed),
        "FORENSICLIB_PROFILE": profile.name,
        "FORENSICLIB_ROOT": str(root),
        "FORENSICLIB_RESULTS": str(out_dir.parent.resolve()),
        "FORENSICLIB_CHECKPOINT": "1" if profile.checkpoint_each_epoch else "0",
        **_tool_folders(),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(values, f)
    usage = Path(f.name).with_suffix(".usage.json")
    command = [
        sys.executable, "-m", "forensiclib.runner._papermill_child", str(usage), "--", str(path), str(partial),
        "--parameters_file", f.name, "--cwd", str(path.parent),
        "--kernel", kernel or install_kernel(), "--progress-bar", "--log-level", "WARNING",
    ]  # fmt: skip
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        code = process.wait(timeout=profile.time_limit_s)
    except subprocess.TimeoutExpired:
        _stop(process)
        raise NotebookTimeout(
            f"{path.stem} ran past the {profile.name} profile's time limit of "
            f"{profile.time_limit_s:g} s and was stopped. Partial output: {output}. "
            f"Raise time_limit_s in the profile or lower the notebook's sizes."
        ) from None
    finally:
        if process.poll() is None:
            _stop(process)
        os.unlink(f.name)
        if partial.exists():  # what ran, complete or not, replaces the last run's copy in one step
            os.replace(partial, output)
    elapsed = time.perf_counter() - start
    try:
        peak = json.loads(usage.read_text())["peak_rss_mb"]
        usage.unlink()
    except (OSError, ValueError, KeyError):
        peak = None
    if code != 0:
        raise NotebookFailed(f"{path.stem} failed under profile {profile.name} (exit {code}); see {output}")
    result = RunResult(path.stem, profile.name, output, elapsed, peak)
    from .manifest import code_state, update_manifest

    update_manifest(profile, result, values, notebook=path, code=git if git is not None else code_state(root),
                    determinism={**DETERMINISM_ENV, "PYTHONHASHSEED": str(profile.seed),
                                 "FORENSICLIB_STRATEGY": os.environ.get("FORENSICLIB_STRATEGY", "") or "default",
                                 "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "") or "default (on)",
                                 "threads": _threads()})  # fmt: skip
    return result


def _threads() -> str:
    """The thread settings the kernel ran with (TensorFlow's and OpenMP's, from the environment)."""
    set_ = {k: os.environ[k] for k in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")
            if os.environ.get(k)}  # fmt: skip
    return ", ".join(f"{k}={v}" for k, v in set_.items()) or f"library defaults on {os.cpu_count()} CPUs"


def _tool_folders() -> dict[str, str]:
    """Where Keras, Matplotlib, IPython and Jupyter keep their own files during a run: under the cache, so that
    a run writes nothing outside the project's results and cache folders (the user's home included)."""
    from ..paths import cache_dir

    tools = cache_dir() / "tools"
    folders = {"KERAS_HOME": "keras", "MPLCONFIGDIR": "matplotlib", "IPYTHONDIR": "ipython",
               "JUPYTER_RUNTIME_DIR": "jupyter-runtime"}  # fmt: skip
    for name in folders.values():
        (tools / name).mkdir(parents=True, exist_ok=True)
    return {variable: str(tools / name) for variable, name in folders.items()}


def _stop(process: subprocess.Popen) -> None:
    """Stop papermill and its children; the kernel exits when its parent goes."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


#: The real datasets `reproduce(data=...)` looks for, as subfolders of the data folder: subfolder -> parameter.
REAL_DATASETS = {
    "ucid_social": "ucid_social_dir",
    "public_social": "public_social_dir",
    "iplab": "iplab_dir",
    "dresden": "dresden_dir",
}


def _real_data_parameters(data: str | Path, paths: Sequence[Path]) -> dict[str, dict[str, str]]:
    """Per notebook, the `<name>_dir` parameters pointing at the subfolders of `data` that exist."""
    folder = Path(data).expanduser().resolve()
    if not folder.is_dir():
        raise ParameterError(f"Expected a folder of real datasets for data. Received: {data} (not a folder)")
    found = {param: str(folder / sub) for sub, param in REAL_DATASETS.items() if (folder / sub).is_dir()}
    if not found:
        listing = sorted(p.name for p in folder.iterdir())[:20]
        raise ParameterError(
            f"{folder} holds none of the expected dataset folders {', '.join(REAL_DATASETS)} "
            f"(found: {', '.join(listing) or 'nothing'}). Put each real dataset in a subfolder of that name."
        )
    out = {}
    for path in paths:
        declared = notebook_parameters(path)
        values = {param: value for param, value in found.items() if param in declared}
        if values:
            out[path.stem] = values
    return out


def reproduce(
    profile: str | Path = "default",
    notebooks: Sequence[str] | None = None,
    *,
    overrides: Mapping[str, object] | None = None,
    time_limit_s: float | None = None,
    results_root: Path | None = None,
    force: bool = False,
    report: bool = True,
    data: str | Path | None = None,
) -> list[RunResult]:
    """Run notebooks (all by default) under a profile, checking every parameter first.

    Args:
        profile: profile name (`smoke`, `default`, `paper`) or YAML path.
        notebooks: names of the notebooks to run; all when None.
        overrides: parameter values applied on top of the profile's.
        time_limit_s: replaces the profile's per-notebook limit.
        results_root: where `<profile>/` goes (default `results/`).
        force: run every selected notebook, up to date or not.
        report: rebuild the report (`forensiclib.runner.report.build_report`) at the end.
        data: a folder of real datasets, one subfolder per dataset (`REAL_DATASETS`); each one present is
            passed to the notebooks that take it (`<name>_dir`), the others stay simulated.

    Returns:
        One `RunResult` per notebook, in order.
    """
    selected = profile if isinstance(profile, Profile) else load_profile(profile)
    if time_limit_s is not None:
        selected = dataclasses.replace(selected, time_limit_s=float(time_limit_s))
    paths = [resolve_notebook(n) for n in notebooks] if notebooks else list_notebooks()
    data_values = _real_data_parameters(data, paths) if data else {}
    extras = {path.stem: {**(overrides or {}), **data_values.get(path.stem, {})} for path in paths}
    for path in paths:  # every check before anything runs
        check_parameters(path, {**selected.values_for(path), **extras[path.stem]})
    from .manifest import code_state, read_manifest, up_to_date
    from .report import build_report

    root = project_root()
    out_dir = (results_root or root / "results") / selected.name
    manifest = read_manifest(out_dir).get("notebooks", {})
    kernel, git, results = None, code_state(root), []
    for i, path in enumerate(paths, 1):
        extra = extras[path.stem]
        values = {**selected.values_for(path), **extra, "profile": selected.name, "seed": selected.seed}
        entry = manifest.get(path.stem)
        fresh, why = (False, "forced") if force else up_to_date(entry, path, values, out_dir)
        if fresh:
            print(f"[{i}/{len(paths)}] {path.stem}: up to date, not run again (last run {entry['wall_time_s']:.1f} s)", flush=True)
            results.append(RunResult(path.stem, selected.name, out_dir / path.name, entry["wall_time_s"],
                                     entry.get("peak_rss_mb"), skipped=True))  # fmt: skip
            continue
        print(f"[{i}/{len(paths)}] {path.stem} (profile {selected.name}; {why})", flush=True)
        kernel = kernel or install_kernel()
        result = run_notebook(path, profile=selected, parameters=extra, results_root=results_root, kernel=kernel,
                              git=git)  # fmt: skip
        print(f"[{i}/{len(paths)}] {path.stem} done in {result.wall_time_s:.1f} s -> {result.output}", flush=True)
        results.append(result)
    if report:
        written = build_report(selected.name, results_root=out_dir.parent)
        print(f"report: {', '.join(str(p) for p in written)}", flush=True)
    return results
