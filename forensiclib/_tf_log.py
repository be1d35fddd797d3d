"""TensorFlow's start-up lines held to `TF_CPP_MIN_LOG_LEVEL`, as its later log lines already are.

While `import tensorflow` loads its C++ library, TensorFlow logs through absl before absl's log is set up, and
those lines ignore `TF_CPP_MIN_LOG_LEVEL`: "WARNING: All log messages before absl::InitializeLog() is called are
written to STDERR" and, on CPUs where oneDNN's custom operations are on (AVX-512 ones, or anywhere with
`TF_ENABLE_ONEDNN_OPTS=1`), "I0000 ... port.cc:...] oneDNN custom operations are on ...". In a Jupyter kernel they
land in the notebook as red stderr, and the kernel echoes them to the runner's console.

`install()` adds an import hook that runs TensorFlow's own `__init__` with file descriptor 2 sent to a temporary
file; afterwards every line is written back except the log lines below the level `TF_CPP_MIN_LOG_LEVEL` asks for
(0 or unset: all kept, as TensorFlow does; 1: INFO dropped; 2: WARNING too; 3: ERROR too) and absl's notice when
no log line is kept. Nothing else changes: oneDNN stays as it is, and whatever else reaches stderr during the import
is written back in order. `import forensiclib` installs it, and so does the runner's kernel before any cell runs.

Once TensorFlow is loaded, its Python logger also drops one warning, "N out of the last M calls to
<function TensorFlowTrainer...> triggered tf.function retracing", and only for Keras' own train, test and predict
step functions. Every network (and every feature extractor built from one) gets its own step functions, traced on
its first batch and at most once more for a shorter last batch (`tests/test_training.py` counts them); TensorFlow
counts traces by the function's code, which all Keras models share, so a notebook that trains or evaluates several
networks sees those first traces as retracing of one function. The warning stays for every other function.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import logging
import os
import re
import sys
import tempfile

__all__ = ["install", "filter_startup_log", "held_stderr", "KerasStepRetracing"]

#: A line of TensorFlow's C++ log: `I0000 00:00:1796401458.012547    4300 port.cc:153] ...`.
LOG_LINE = re.compile(rb"^([IWEF])\d{4} \d+:\d+:\d+(?:\.\d+)? +\d+ [\w./-]+:\d+\] ")
#: absl's notice before its log is set up.
ABSL_NOTICE = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_SEVERITY = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}


def min_log_level() -> int:
    """The level `TF_CPP_MIN_LOG_LEVEL` asks for: 0 (everything) when unset or not a number 0-3."""
    value = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "").strip()
    return int(value) if value in ("0", "1", "2", "3") else 0


def filter_startup_log(data: bytes, level: int) -> bytes:
    """`data` without TensorFlow's log lines below `level` and without absl's notice once no log line is kept.

    Example:
        >>> filter_startup_log(ABSL_NOTICE + b"\\nI0000 00:00:1.5    7 port.cc:153] oneDNN on\\nmine\\n", 1)
        b'mine\\n'
    """
    lines = data.splitlines(keepends=True)
    kept, any_log = [], False
    for line in lines:
        match = LOG_LINE.match(line)
        if match and _SEVERITY[match.group(1)] < level:
            continue
        any_log = any_log or bool(match)
        kept.append(line)
    if not any_log:
        kept = [line for line in kept if line.rstrip(b"\r\n") != ABSL_NOTICE]
    return b"".join(kept)


@contextlib.contextmanager
def held_stderr(level: int | None = None):
    """Send file descriptor 2 to a temporary file for the block, then write it back through
    `filter_startup_log` (at `level`, default `min_log_level()`)."""
    level = min_log_level() if level is None else level
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to hold
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = filter_startup_log(held.read(), level)
            if kept:
                os.write(2, kept)


class _HeldLoader(importlib.abc.Loader):
    """TensorFlow's own loader, its module executed inside `held_stderr`."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.__spec__.loader = module.__loader__ = self._loader  # TensorFlow sees its own loader
        with held_stderr():
            self._loader.exec_module(module)
        _drop_keras_step_retracing()

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` as the path finder does and wraps its loader in `_HeldLoader`."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _HeldLoader(spec.loader)
        return spec


class KerasStepRetracing(logging.Filter):
    """Drops TensorFlow's retracing warning about Keras' own step functions (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("triggered tf.function retracing" in message and "<function TensorFlowTrainer." in message)


def _drop_keras_step_retracing() -> None:
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, KerasStepRetracing) for f in logger.filters):
        logger.addFilter(KerasStepRetracing())


def install() -> None:
    """Add the hook (once per process); with TensorFlow already imported, only the retracing filter."""
    if "tensorflow" in sys.modules:
        _drop_keras_step_retracing()
        return
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
