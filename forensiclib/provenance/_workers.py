"""The processes that extract features in parallel (`features.extract_features`): one pool kept between calls
of the same size and shut down at exit; workers that ignore SIGINT (Jupyter interrupts the kernel's whole process
group before every shutdown), exit when their parent is gone, and tune glibc's heap (`forensiclib._heap`).
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor

from .._heap import tune_heap

_pool_lock = threading.Lock()
_pool: tuple[int, ProcessPoolExecutor] | None = None


def _worker_pool(n_workers: int) -> ProcessPoolExecutor:
    """The process pool of `extract_features`, kept between calls: workers start (spawn) once per process and size."""
    global _pool
    with _pool_lock:
        if _pool is not None and _pool[0] != n_workers:
            _pool[1].shutdown(cancel_futures=True)
            _pool = None
        if _pool is None:
            context = multiprocessing.get_context("spawn")
            _pool = (n_workers, ProcessPoolExecutor(n_workers, mp_context=context, initializer=_start_worker))
        return _pool[1]


def _start_worker() -> None:
    """Initializer of the pool's workers: they ignore SIGINT, exit with their parent and tune glibc's heap.

    The workers share the process group of the process that started them, and a Jupyter kernel's manager sends
    SIGINT to the kernel's whole group (to interrupt a cell, and before every shutdown): each idle worker then
    died in `KeyboardInterrupt` and printed its traceback. An interruption is the parent's to handle: it sees
    `KeyboardInterrupt` and shuts the pool down (`extract_features`, `_discard_pool`), which lets the workers
    finish their current chunk and exit. Workers start with SIGINT blocked (`_sigint_blocked`), so one that is
    still starting when the signal comes holds it, and drops it here.

    A worker also exits when its parent is gone without shutting the pool down: a kernel whose papermill was
    stopped (a notebook past its time limit) leaves with `os._exit`, past `atexit`, and its idle workers, which
    hold both ends of their task queue, waited for work for ever.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True, name="parent-watch").start()
    tune_heap()


def _exit_with_parent(parent: int) -> None:
    """A worker's watch: end the process once its parent has gone (it is then re-parented)."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


@contextlib.contextmanager
def _sigint_blocked():
    """SIGINT blocked in this thread (not ignored: one that comes meanwhile is raised on leaving), while the pool
    starts its workers on demand: the processes it starts inherit the mask, and keep SIGINT blocked until their
    initializer ignores it."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no process groups to signal
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@atexit.register
def _discard_pool() -> None:
    """Shut the worker pool down (at exit, or after an interruption)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool[1].shutdown(cancel_futures=True)
            _pool = None
