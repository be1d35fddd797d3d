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

import dataclasses
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

from .. import ONEDNN_DEFAULT
from ..cache import write_text_atomic
from ..errors import ParameterError
from ..paths import project_root
from .profiles import (
    NotebookParameter,
    Profile,
    check_parameters,
    list_notebooks,
    load_profile,
    notebook_parameters,
    parameter_values,
    resolve_notebook,
)

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

#: Name of the Jupyter kernel the runner installs in the virtual environment and runs every notebook in.
KERNEL_NAME = "forensiclib"
#: Settings exported to the kernel's environment before it starts.
DETERMINISM_ENV = {
    "TF_DETERMINISTIC_OPS": "1",
    "TF_CUDNN_DETERMINISTIC": "1",
}
#: TensorFlow's oneDNN kernels on every x86 CPU unless the caller's environment says otherwise (`import forensiclib`
#: sets the same default).
KERNEL_DEFAULT_ENV = {"TF_ENABLE_ONEDNN_OPTS": ONEDNN_DEFAULT}
#: TensorFlow's C++ log, off in the kernel unless the caller's environment sets it: its lines (start-up notices,
#: `E0000 ... NodeDef mentions attribute use_unbounded_threadpool` from tf.data pipelines) are not errors of
#: the run, and the kernel echoes its stderr to the runner's console. Errors that matter reach Python as exceptions.
QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    # Jupyter stops a kernel with SIGINT first, then a shutdown request, then SIGTERM and SIGKILL 2.5 and 5 s later.
    # On a loaded machine the feature workers' pool is not always shut down by then, and multiprocessing's resource
    # tracker (which then removes the pool's semaphores itself) warns of "leaked semaphore objects" on the console.
    "PYTHONWARNINGS": "ignore:resource_tracker:UserWarning",
}
#: The kernel's entry point: `ipykernel_launcher`'s (the working folder off `sys.path` while ipykernel loads), with
#: one log message of the kernel dropped, its warning that it runs "over TCP without encryption". Papermill's kernel
#: manager provisions no CurveZMQ keys, and the kernel listens on this machine's loopback only, behind the
#: connection file's signing key; the warning would print at every notebook. The kernel's other messages stay.
#: The kernel's "KeyboardInterrupt caught in kernel" is dropped too: a notebook run by the runner is never interrupted
#: through Jupyter, and Jupyter's shutdown begins with an interrupt, which a loaded machine can deliver while the
#: kernel still finishes its last reply (the runner stops a notebook past its time limit with SIGTERM, not SIGINT).
#: Before any cell runs it also holds TensorFlow's start-up log to `TF_CPP_MIN_LOG_LEVEL` (`forensiclib._tf_log`),
#: for a notebook that imports TensorFlow or Keras before `forensiclib`.
_KERNEL_MAIN = (
    "import logging, sys; "
    "sys.path[0] == '' and sys.path.pop(0)\n"
    "try:\n    from forensiclib._tf_log import install; install()\nexcept ImportError:\n    pass\n"
    "logging.getLogger('IPKernelApp').addFilter("
    "lambda record: not record.getMessage().startswith(('Kernel is running over TCP without encryption', "
    "'KeyboardInterrupt caught in kernel'))); "
    "from ipykernel import kernelapp; "
    "kernelapp.launch_new_instance()"
)


class NotebookFailed(RuntimeError):
    """A notebook raised an error; its executed copy shows where."""


class NotebookTimeout(RuntimeError):
    """A notebook ran past its profile's time limit and was stopped."""


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
        **KERNEL_DEFAULT_ENV,
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
                                 "TF_ENABLE_ONEDNN_OPTS": env["TF_ENABLE_ONEDNN_OPTS"],
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
        notebooks: names of the notebooks to run; when None, all but those the profile leaves out (`not_run`).
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
    paths = [resolve_notebook(n) for n in notebooks] if notebooks else \
        [p for p in list_notebooks() if p.stem not in selected.not_run]
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
    if not notebooks:
        grouped: dict[str, list[str]] = {}  # notebooks that share a reason are named on one line
        for name, reason in selected.not_run.items():
            grouped.setdefault(reason, []).append(name)
        for reason, names in grouped.items():
            print(f"{', '.join(names)}: not run by profile {selected.name}: {reason}", flush=True)
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
        written = build_report(selected.name, results_root=results_root)  # None: the project's own (README headline)
        print(f"report: {', '.join(str(p) for p in written)}", flush=True)
    return results
