"""Content-keyed, atomically written array caches (no pickles).

A cache entry is an `.npz` file (or a `.keras` model) named by the SHA-256 of
everything that determines its content. It is written to a temporary name in the same folder
and renamed, so an interrupted write never leaves a file a later run would trust;
a damaged entry reads as a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["cache_key", "file_digest", "save_arrays", "load_arrays", "save_model", "write_atomic", "write_text_atomic"]


def cache_key(*parts) -> str:
    """SHA-256 hex digest of JSON-serialisable parts (dict keys sorted)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def file_digest(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomic(path: str | Path, write: Callable[[str], object]) -> Path:
    """Write `path` in one step: `write(temporary_path)` fills a hidden temporary file in the same folder
    (`.tmp-*`, same suffix), which is then renamed to `path`; on any failure it is removed. Returns `path`.

    Every file the project writes goes through here, so an interrupted write never leaves a file a reader
    (or a later run) would trust.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes owner-only files; these are ordinary ones
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """`write_atomic` for a text file."""
    return write_atomic(path, lambda tmp: Path(tmp).write_text(text))


def save_arrays(path: str | Path, **arrays: np.ndarray) -> None:
    """Write arrays to `path` (.npz) atomically: a temporary file, then a rename."""
    write_atomic(path, lambda tmp: np.savez(tmp, **arrays))


def load_arrays(path: str | Path) -> dict[str, np.ndarray] | None:
    """Read an entry written by `save_arrays`; None if it is missing or damaged."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError):
        return None


def save_model(model, path: str | Path) -> None:
    """Save a Keras model as a `.keras` file atomically (a temporary name in the same folder, then a rename)."""
    write_atomic(path, model.save)
