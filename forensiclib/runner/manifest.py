"""`results/<profile>/manifest.json`: what each notebook run was made from and what it wrote.

Per notebook: the resolved parameters (seed included), wall time, peak memory, the git commit and whether the
tree was dirty, the package versions, the machine, the determinism settings, the `forensiclib` modules the
kernel loaded, a fingerprint of everything the run depended on, and a SHA-256 of every output file (the
executed notebook and everything under `results/<profile>/<notebook>/`). Running one notebook updates its entry
and keeps the others. `forensiclib/schemas/manifest.schema.json` is its schema.

The fingerprint is what incremental runs compare (`up_to_date`): the notebook file's bytes, its parameters, the
source of the library modules it loaded, and the Python and package versions. Datasets, features and trained
models need no entry here: they live in `.cache/`, keyed by their own content.
"""

from __future__ import annotations

import ast
import datetime
import functools
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

from ..cache import cache_key, file_digest, write_text_atomic

#: The `forensiclib` package folder (this module lives in its `runner/` subpackage).
_PACKAGE = Path(__file__).resolve().parents[1]

__all__ = ["update_manifest", "read_manifest", "environment", "fingerprint", "up_to_date", "code_state", "dependencies", "MANIFEST_FILE"]

MANIFEST_VERSION = 2
MANIFEST_FILE = "manifest.json"


def code_state(root: Path) -> dict:
    """The git commit of `root` and whether tracked files outside `results/` differ from it (None outside git)."""

    def run(*args):
        try:
            out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    # results/ is left out: a run rewrites the committed report and figures as it goes
    status = run("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results") if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status)}


@functools.lru_cache(maxsize=1)
def environment() -> dict:
    """Python, machine and the versions of this package's dependencies."""
    from importlib import metadata

    packages = {}
    for requirement in metadata.requires("forensiclib") or []:
        name = re.match(r"[A-Za-z0-9_.\-]+", requirement).group(0)
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "packages": dict(sorted(packages.items())),
    }


def _module_file(name: str) -> Path | None:
    """The source file of a `forensiclib` module, or None if there is none."""
    base = _PACKAGE.joinpath(*name.split(".")[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports_of(name: str, path: Path) -> set[str]:
    """The `forensiclib` modules a module's source imports anywhere (function-level imports included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target.split(".")[0] == "forensiclib":
                parts = target.split(".")
                found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))  # parent packages run too
                found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "forensiclib")
    return {m for m in found if _module_file(m) is not None}


def dependencies(modules: list[str]) -> list[str]:
    """`modules` and every `forensiclib` module they import, transitively, read from the sources.

    A kernel's loaded modules miss what only worker processes import (the simulators a dataset builder runs in
    its pool); the sources' import statements, function-level ones included, name them.
    """
    seen, todo = set(), list(modules)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(name)
        if path is not None:
            todo.extend(_imports_of(name, path) - seen)
    return sorted(seen)


def _module_files(modules: list[str] | None) -> list[Path]:
    """Source files of `modules` and their dependencies (the whole package when `modules` is None or empty)."""
    package = _PACKAGE
    if not modules:
        return sorted(package.rglob("*.py"))
    files = []
    for name in dependencies(modules):
        # a module gone since the run hashes as missing, so the fingerprint changes
        files.append(_module_file(name) or package.joinpath(*name.split(".")[1:]))
    return sorted(files)


def fingerprint(notebook: Path, parameters: dict, modules: list[str] | None) -> dict:
    """SHA-256 of what a notebook run depends on: notebook, parameters, library modules, environment."""
    package = _PACKAGE
    library = {
        str(p.relative_to(package)) if p.is_relative_to(package) else str(p): file_digest(p) if p.is_file() else None
        for p in _module_files(modules)
    }
    env = environment()
    return {
        "notebook": file_digest(notebook),
        "parameters": cache_key(parameters),
        "library": cache_key(library),
        "environment": cache_key({"python": env["python"], "packages": env["packages"]}),
    }


def read_manifest(out_dir: Path) -> dict:
    """The manifest of `results/<profile>/` (an empty one if missing, damaged or of another version)."""
    try:
        manifest = json.loads((Path(out_dir) / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) and manifest.get("version") == MANIFEST_VERSION else {}


def up_to_date(entry: dict | None, notebook: Path, parameters: dict, out_dir: Path) -> tuple[bool, str]:
    """Whether a manifest entry still describes what running `notebook` now would give, and why not."""
    if not entry:
        return False, "never run under this profile"
    old, new = entry.get("fingerprint") or {}, fingerprint(notebook, parameters, entry.get("modules"))
    changed = [k for k in new if old.get(k) != new[k]]
    if changed:
        return False, f"changed since the last run: {', '.join(changed)}"
    for name, digest in (entry.get("outputs") or {}).items():
        path = out_dir / name
        if not path.is_file() or file_digest(path) != digest:
            return False, f"output {name} is missing or was modified"
    return True, "up to date"


def update_manifest(profile, result, parameters: dict, *, notebook: Path, code: dict, determinism: dict) -> Path:
    """Add or replace `result`'s notebook entry in `<results>/<profile>/manifest.json` (written atomically)."""
    out_dir = result.output.parent
    path = out_dir / MANIFEST_FILE
    manifest = read_manifest(out_dir)
    own = out_dir / result.notebook
    outputs = [result.output] + sorted(p for p in own.rglob("*") if p.is_file() and not p.name.startswith(".tmp-"))
    try:
        modules = json.loads((own / "session.json").read_text()).get("modules") or []
    except (OSError, ValueError):
        modules = []
    manifest.update(
        version=MANIFEST_VERSION,
        profile={"name": profile.name, "description": profile.description, "time_limit_s": profile.time_limit_s,
                 "seed": profile.seed, "checkpoint_each_epoch": profile.checkpoint_each_epoch},  # fmt: skip
    )
    manifest.setdefault("notebooks", {})[result.notebook] = {
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "parameters": parameters,
        "seed": profile.seed,
        "determinism": determinism,
        "wall_time_s": round(result.wall_time_s, 2),
        "peak_rss_mb": result.peak_rss_mb,
        "code": code,
        "environment": environment(),
        "modules": modules,
        "fingerprint": fingerprint(notebook, parameters, modules),
        "outputs": {str(p.relative_to(out_dir)): file_digest(p) for p in outputs},
    }
    manifest["notebooks"] = dict(sorted(manifest["notebooks"].items()))
    entries = manifest["notebooks"].values()
    manifest["total_wall_time_s"] = round(sum(e["wall_time_s"] for e in entries), 2)
    peaks = [e["peak_rss_mb"] for e in entries if e.get("peak_rss_mb") is not None]
    manifest["max_peak_rss_mb"] = max(peaks) if peaks else None
    return write_text_atomic(path, json.dumps(manifest, indent=1))
