"""Where the project keeps results and caches.

`project_root()` is the folder holding `pyproject.toml` and `notebooks/`: the one
named by the `FORENSICLIB_ROOT` environment variable (the notebook runner sets it),
else the nearest such ancestor of the working directory, else of this package.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["project_root", "results_dir", "cache_dir"]


def _is_root(folder: Path) -> bool:
    return (folder / "pyproject.toml").is_file() and (folder / "notebooks").is_dir()


def project_root() -> Path:
    """The project folder (see module docstring); the working directory if none is found."""
    if os.environ.get("FORENSICLIB_ROOT"):
        return Path(os.environ["FORENSICLIB_ROOT"]).resolve()
    for start in (Path.cwd().resolve(), Path(__file__).resolve().parent):
        for folder in (start, *start.parents):
            if _is_root(folder):
                return folder
    return Path.cwd().resolve()


def results_dir(profile: str) -> Path:
    """`<results root>/<profile>/` (not created); the root is `FORENSICLIB_RESULTS` if set, else `results/`."""
    root = os.environ.get("FORENSICLIB_RESULTS")
    return (Path(root).resolve() if root else project_root() / "results") / profile


def cache_dir() -> Path:
    """The cache folder: `FORENSICLIB_CACHE` if set, else `.cache/` under the project root.

    Everything in it is keyed by a hash of what determines its content and is
    safe to delete.
    """
    if os.environ.get("FORENSICLIB_CACHE"):
        return Path(os.environ["FORENSICLIB_CACHE"]).resolve()
    return project_root() / ".cache"
