"""Seeds for what does not take a `random_state`: Python's, NumPy's legacy global generator, TensorFlow/Keras.

Below the library's training code and the notebook runner alike: `training.train` seeds each run with it, and
`runner.session.start_session` (which re-exports it) seeds a notebook's kernel.
"""

from __future__ import annotations

import random
import sys

import numpy as np

__all__ = ["check_seeds", "seed_everything"]


def check_seeds(seeds) -> list[int]:
    """`seeds` as a list of ints, after checking that there is at least one, each a non-negative integer, none twice.

    Raises:
        ValueError: naming what was received.
    """
    seeds = list(seeds)
    if (not seeds or len(set(seeds)) != len(seeds)
            or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in seeds)):
        raise ValueError(f"Expected one or more distinct non-negative integer seeds. Received: {seeds!r}")
    return [int(s) for s in seeds]


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy's legacy global generator and, if imported, TensorFlow/Keras.

    Library functions never draw from global generators (each takes a
    `random_state`); this covers notebook code and third-party defaults. With
    TensorFlow loaded it also turns on deterministic ops.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"Expected seed a non-negative integer. Received: {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if "tensorflow" in sys.modules or "keras" in sys.modules:
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()
