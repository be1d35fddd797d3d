"""What a notebook calls first: seeds, output folder, and where figures go.

    session = start_session("01_dct_features", profile=profile, seed=seed)
    session.save_figure(fig, "quantization_table")

The notebook runner (`forensiclib.reproduce`) also exports the seed and
determinism settings to the kernel's environment before the kernel starts;
`start_session` applies them inside the kernel, so a notebook stepped through
by hand in JupyterLab gets the same numbers as one run by `make reproduce`.
"""

from __future__ import annotations

import dataclasses
import random
import sys
from pathlib import Path

import numpy as np

from .paths import results_dir

__all__ = ["Session", "start_session", "seed_everything"]


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


@dataclasses.dataclass(frozen=True)
class Session:
    """A notebook's run: its name, profile, seed and output folder.

    Attributes:
        notebook: notebook name without extension, e.g. `"01_dct_features"`.
        profile: `"smoke"`, `"default"`, `"paper"` or a custom name.
        seed: the run's seed.
        output_dir: `results/<profile>/<notebook>/`, created.
    """

    notebook: str
    profile: str
    seed: int
    output_dir: Path

    def save_figure(self, figure, name: str, *, dpi: int = 120) -> Path:
        """Save a matplotlib figure as `<output_dir>/<name>.png`; returns the path."""
        path = self.output_dir / f"{name}.png"
        figure.savefig(path, dpi=dpi, bbox_inches="tight")
        return path

    def save_confusion(self, matrix, class_names, name: str, *, published=None) -> Path:
        """Save a percent confusion matrix as `<name>.csv` and `<name>.md` (with the paper's numbers if given)."""
        from .evaluate import confusion_table

        rows = [",".join(["true/predicted", *class_names])]
        rows += [",".join([c, *(f"{v:.2f}" for v in row)]) for c, row in zip(class_names, np.asarray(matrix))]
        (self.output_dir / f"{name}.csv").write_text("\n".join(rows) + "\n")
        return self.save_text(confusion_table(matrix, class_names, published=published) + "\n", f"{name}.md")

    def save_text(self, text: str, name: str) -> Path:
        """Save a text/markdown/csv output as `<output_dir>/<name>`; returns the path."""
        path = self.output_dir / name
        path.write_text(text)
        return path


def start_session(notebook: str, *, profile: str = "default", seed: int = 0) -> Session:
    """Seed everything and prepare `results/<profile>/<notebook>/`.

    Args:
        notebook: the notebook's name, without extension.
        profile: the run profile (names the output folder).
        seed: seed for every generator the notebook uses.

    Example:
        >>> session = start_session("01_dct_features", profile="smoke", seed=0)  # doctest: +SKIP
    """
    seed_everything(seed)
    output_dir = results_dir(profile) / notebook
    output_dir.mkdir(parents=True, exist_ok=True)
    return Session(notebook=notebook, profile=profile, seed=seed, output_dir=output_dir)
