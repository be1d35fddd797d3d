"""Arrays on disk, read a batch at a time: paper 2 at the paper's sizes (Sec. 5: 400,000 patches of 256x256 per task).

At the paper's sizes a task's training patches are 26 GB as bytes and 105 GB as float32, more than a workstation
holds. `ArrayFile` is a `.npy` file (any shape, uint8 or float32) that behaves like the float32 array the
networks take: `len`, `shape`, indexing and `chunks()` read only the rows asked for, with `os.pread`, so
neither the file nor its pages become part of the process (a memory map's pages would count in its resident
memory as they are touched). `forensiclib.training.fit_dataset` turns one into a tf.data pipeline (a batch is
read while the previous one trains), so `train`, `predict` and the experiments of `forensiclib.unified` take an
`ArrayFile` where they take an array; `write_rows` writes one from chunks (e.g. `patches_from_dataset(...,
on_disk=...)`), `write_row_sets` several in one pass (frozen features at several depths, computed once).

    x = ArrayFile("train.npy")            # (400000, 256, 256, 1) uint8 on disk
    x.shape, x.dtype                      # ((400000, 256, 256, 1), dtype('float32'))
    x[[5, 17]]                            # two patches as float32, read from disk
    sum(len(c) for c in x.chunks(1024))   # 400000, never more than 1024 rows in memory
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

__all__ = ["ArrayFile", "write_rows", "write_row_sets"]

_MAGIC = b"\x93NUMPY\x01\x00"
_HEADER = 128  # bytes before the data, a multiple of 64 as the .npy format asks


def _header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    text = repr({"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": tuple(shape)})
    body = text.encode("latin1")
    pad = _HEADER - len(_MAGIC) - 2 - len(body) - 1
    if pad < 0:
        raise ValueError(f"Expected a shape whose .npy header fits {_HEADER} bytes. Received: {shape}")
    return _MAGIC + (_HEADER - len(_MAGIC) - 2).to_bytes(2, "little") + body + b" " * pad + b"\n"


class ArrayFile:
    """A `.npy` file of rows (uint8 or float32, C order) read on demand as float32.

    Args:
        path: the file (written by `write_rows` or `numpy.save`).
        rows: which of the file's rows this array shows, in order (default all); `take` makes such views.

    Attributes:
        path: the file.
        shape: `(n, *row_shape)` of the rows shown.
        dtype: always float32 (what reads return); `stored_dtype` is the file's.
    """

    dtype = np.dtype(np.float32)

    def __init__(self, path: str | Path, rows: np.ndarray | None = None):
        self.path = Path(path)
        with open(self.path, "rb") as f:
            try:
                version = np.lib.format.read_magic(f)
                read_header = {(1, 0): np.lib.format.read_array_header_1_0}.get(version, np.lib.format.read_array_header_2_0)
                shape, fortran, stored = read_header(f)
            except ValueError as error:
                raise ValueError(f"Expected a .npy file. Received {self.path}: {error}") from None
            self._offset = f.tell()
        if fortran or stored not in (np.dtype(np.uint8), np.dtype(np.float32)) or len(shape) < 1:
            raise ValueError(
                f"Expected a C-order .npy array of uint8 or float32 with at least one axis. Received {self.path}: "
                f"dtype {stored}, shape {shape}, {'Fortran' if fortran else 'C'} order"
            )
        size = os.path.getsize(self.path)
        self.stored_dtype, self._file_rows, self._row_shape = stored, int(shape[0]), tuple(int(s) for s in shape[1:])
        self._row_bytes = int(np.prod(self._row_shape, dtype=np.int64)) * stored.itemsize
        if size < self._offset + self._file_rows * self._row_bytes:
            raise ValueError(f"Expected {self._file_rows} rows in {self.path}. Received a file of {size} bytes")
        if rows is None:
            self._rows = None
        else:
            self._rows = np.asarray(rows, dtype=np.int64)
            if self._rows.ndim != 1 or (len(self._rows) and (self._rows.min() < 0 or self._rows.max() >= self._file_rows)):
                raise ValueError(f"Expected row numbers in 0..{self._file_rows - 1}. Received shape {self._rows.shape}")

    # --- array-like -----------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self), *self._row_shape)

    @property
    def ndim(self) -> int:
        return 1 + len(self._row_shape)

    @property
    def nbytes(self) -> int:
        """Bytes the rows would take in memory as float32."""
        return len(self) * int(np.prod(self._row_shape, dtype=np.int64)) * 4

    def __len__(self) -> int:
        return self._file_rows if self._rows is None else len(self._rows)

    def __repr__(self) -> str:
        return f"ArrayFile({str(self.path)!r}, shape={self.shape}, stored as {self.stored_dtype})"

    def _file_row_numbers(self, key) -> np.ndarray:
        positions = np.arange(*key.indices(len(self))) if isinstance(key, slice) else np.asarray(key)
        if positions.dtype == bool:
            if positions.shape != (len(self),):
                raise IndexError(f"Expected a boolean mask of shape ({len(self)},). Received: {positions.shape}")
            positions = np.flatnonzero(positions)
        if positions.ndim > 1 or not np.issubdtype(positions.dtype, np.integer):
            raise IndexError(f"Expected an integer, a slice, or a 1-D array of row numbers. Received: {key!r}")
        positions = np.where(positions < 0, positions + len(self), positions)
        if len(positions.reshape(-1)) and (positions.min() < 0 or positions.max() >= len(self)):
            raise IndexError(f"Expected row numbers in 0..{len(self) - 1}. Received: {key!r}")
        return positions if self._rows is None else self._rows[positions]

    def __getitem__(self, key) -> np.ndarray:
        """Rows as a float32 array: `x[3]`, `x[10:20]`, `x[[4, 1, 7]]`, `x[mask]`."""
        if isinstance(key, (int, np.integer)):
            return self.read(self._file_row_numbers([key]))[0]
        return self.read(self._file_row_numbers(key))

    def __array__(self, dtype=None, copy=None):
        """Every row in memory (for small files; `chunks` reads a large one piece by piece)."""
        array = self[:]
        return array if dtype is None else array.astype(dtype)

    def take(self, positions) -> ArrayFile:
        """A view of some rows, nothing read: `x.take(np.flatnonzero(y < 5))`."""
        return ArrayFile(self.path, self._file_row_numbers(positions))

    def chunks(self, rows: int = 1024) -> Iterator[np.ndarray]:
        """The rows in order, `rows` at a time, as float32 arrays."""
        for start in range(0, len(self), rows):
            yield self[start : start + rows]

    # --- reading --------------------------------------------------------------------------------

    def read(self, file_rows: np.ndarray) -> np.ndarray:
        """Rows of the file by their numbers in it, as float32 (consecutive rows are read in one call)."""
        file_rows = np.asarray(file_rows, dtype=np.int64).reshape(-1)
        out = np.empty((len(file_rows), self._row_bytes), dtype=np.uint8)
        if len(file_rows):
            breaks = np.flatnonzero(np.diff(file_rows) != 1) + 1
            fd = os.open(self.path, os.O_RDONLY)
            try:
                for run in np.split(np.arange(len(file_rows)), breaks):
                    first, count = int(file_rows[run[0]]), len(run)
                    view = memoryview(out[run[0] : run[0] + count].reshape(-1))
                    done = 0
                    while done < len(view):  # pread may return fewer bytes than asked
                        got = os.preadv(fd, [view[done:]], self._offset + first * self._row_bytes + done)
                        if got == 0:
                            raise OSError(f"{self.path} ended early (row {first}, byte {done} of {len(view)})")
                        done += got
            finally:
                os.close(fd)
        return out.view(self.stored_dtype).reshape(len(file_rows), *self._row_shape).astype(np.float32, copy=False)


def write_rows(path: str | Path, chunks: Iterable[np.ndarray], *, n_rows: int, row_shape, dtype) -> ArrayFile:
    """Write `n_rows` rows, given as chunks of `(k, *row_shape)`, to the `.npy` file `path`; return it as an
    `ArrayFile`. The file is written under a temporary name and renamed when complete, so a killed run leaves no
    partial file under `path`. Only one chunk is in memory at a time.

    Raises:
        ValueError: a chunk of another row shape, or a total other than `n_rows`.
    """
    chunks = ((chunk,) for chunk in chunks)
    return write_row_sets([path], chunks, n_rows=n_rows, row_shapes=[row_shape], dtype=dtype)[0]


def write_row_sets(paths, chunks: Iterable[Sequence[np.ndarray]], *, n_rows: int, row_shapes, dtype) -> list[ArrayFile]:
    """`write_rows` for several files filled in one pass: each chunk holds one array per file, the same rows of
    each (e.g. a batch's outputs at several depths of a network). Every file is written under a temporary name,
    and all are renamed once every row is written.

    Raises:
        ValueError: a chunk with another number of arrays, rows or row shape, or a total other than `n_rows`.
    """
    dtype, paths = np.dtype(dtype), [Path(p) for p in paths]
    row_shapes = [tuple(int(s) for s in shape) for shape in row_shapes]
    if dtype not in (np.dtype(np.uint8), np.dtype(np.float32)):
        raise ValueError(f"Expected dtype uint8 or float32. Received: {dtype}")
    if not paths or len(paths) != len(row_shapes):
        raise ValueError(f"Expected one row shape per path, at least one. Received: {len(paths)} paths, "
                         f"{len(row_shapes)} row shapes")  # fmt: skip

    def write(tmps):
        written = 0
        with contextlib.ExitStack() as stack:
            files = [stack.enter_context(open(tmp, "wb")) for tmp in tmps]
            for f, shape in zip(files, row_shapes):
                f.write(_header(dtype, (int(n_rows), *shape)))
            for chunk in chunks:
                parts = [np.asarray(part) for part in chunk]
                if len(parts) != len(files) or len({len(part) for part in parts}) != 1:
                    raise ValueError(f"Expected chunks of {len(files)} arrays of as many rows. "
                                     f"Received: {[part.shape for part in parts]}")  # fmt: skip
                for f, part, shape in zip(files, parts, row_shapes):
                    if part.shape[1:] != shape:
                        raise ValueError(f"Expected chunks of rows shaped {shape}. Received: {part.shape[1:]}")
                    f.write(np.ascontiguousarray(part, dtype=dtype).data)
                written += len(parts[0])
        if written != n_rows:
            raise ValueError(f"Expected {n_rows} rows for {', '.join(map(str, paths))}. Received: {written}")

    _write_atomic_together(paths, write)
    return [ArrayFile(path) for path in paths]


def _write_atomic_together(paths: list[Path], write, tmps: tuple = ()) -> None:
    """`cache.write_atomic` for several files: `write(temporary paths)` fills them all; none is renamed to its
    path unless the whole write succeeds, and every temporary file is removed on failure."""
    from ..cache import write_atomic

    if len(tmps) == len(paths):
        write(list(tmps))
        return
    write_atomic(paths[len(paths) - len(tmps) - 1], lambda tmp: _write_atomic_together(paths, write, (tmp, *tmps)))
