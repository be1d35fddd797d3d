"""What a notebook calls first: seeds, output folder, and a record of what the notebook produced.

    session = start_session("03_patch_level_3_classes", profile=profile, seed=seed)
    session.record_data(simulated=True, description="UCID-social-like set, 16 sources")
    session.save_figure(fig, "quantization_table", title="The file's quantization table")
    session.save_confusion(matrix, classes, "table_I", published=paper_matrix, title="Table I: UCID social, patch level")
    session.compare("Sec. 5.1: single task", [("manipulation", 0.51, 0.996)])
    session.save_claims([("The controlled set is the easiest", True, "92.5% vs 72.7%")])

Everything saved goes to `results/<profile>/<notebook>/`, each file written to a temporary name and renamed;
`start_session` empties that folder first, so it holds this run's outputs only. Besides the files, the session keeps `session.json` up to date: the
data the notebook ran on, each figure and table in the order saved, every number compared with the
paper's, each claim with its verdict, and the `forensiclib` modules the kernel had loaded (what the
runner's incremental re-runs depend on). `forensiclib.runner.report` builds the reviewer's report from it.

The notebook runner (`forensiclib.runner.reproduce`) also exports the seed and determinism settings to the
kernel's environment before the kernel starts; `start_session` applies them inside the kernel, so a
notebook stepped through by hand in JupyterLab gets the same numbers as one run by `make reproduce`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..cache import write_atomic, write_text_atomic
from ..paths import results_dir

__all__ = ["Session", "start_session", "seed_everything", "SESSION_FILE", "claims_markdown"]

#: The record each notebook keeps in its output folder.
SESSION_FILE = "session.json"


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


def _number(value) -> float | None:
    """A finite float, or None for None/NaN (JSON has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def claims_markdown(claims: Sequence[dict]) -> str:
    """The claims as a markdown list: `- HOLDS: claim (detail)`."""
    verdict = {True: "HOLDS", False: "DOES NOT HOLD", None: "NOT TESTED"}
    return "\n".join(
        f"- {verdict[c['holds']]}: {c['claim']}" + (f" ({c['detail']})" if c["detail"] else "") for c in claims
    )


@dataclasses.dataclass
class Session:
    """A notebook's run: its name, profile, seed, output folder and the record of its outputs.

    Attributes:
        notebook: notebook name without extension, e.g. `"01_dct_features"`.
        profile: `"smoke"`, `"default"`, `"paper"` or a custom name.
        seed: the run's seed.
        output_dir: `results/<profile>/<notebook>/`, created.
        record: what `session.json` holds (see the module docstring).
    """

    notebook: str
    profile: str
    seed: int
    output_dir: Path
    record: dict = dataclasses.field(default_factory=dict)

    def _add(self, kind: str, item) -> None:
        self.record.setdefault(kind, []).append(item)
        self._write()

    def _write(self) -> None:
        self.record["modules"] = sorted(m for m in sys.modules if m == "forensiclib" or m.startswith("forensiclib."))
        write_text_atomic(self.output_dir / SESSION_FILE, json.dumps(self.record, indent=1))

    def record_data(self, *, simulated: bool, description: str) -> None:
        """Say what data the notebook ran on: simulated (the suite's simulators) or a named real dataset."""
        if not isinstance(simulated, bool):
            raise ValueError(f"Expected simulated a bool. Received: {simulated!r}")
        self._add("data", {"simulated": simulated, "description": str(description)})

    def save_figure(self, figure, name: str, *, title: str = "", dpi: int = 100) -> Path:
        """Save a matplotlib figure as `<output_dir>/<name>.png`; returns the path."""
        path = write_atomic(self.output_dir / f"{name}.png",
                            lambda tmp: figure.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png"))
        self._add("outputs", {"kind": "figure", "file": path.name, "title": title or name.replace("_", " ")})
        return path

    def save_confusion(self, matrix, class_names, name: str, *, published=None, title: str = "") -> Path:
        """Save a percent confusion matrix as `<name>.csv` and `<name>.md` (with the paper's numbers if given).

        With `published`, the mean of the diagonal (ours and the paper's) is also recorded as a comparison
        under `title`, as is each class's true-positive rate.
        """
        from ..evaluate import confusion_table

        matrix = np.asarray(matrix, dtype=float)
        rows = [",".join(["true/predicted", *class_names])]
        rows += [",".join([c, *(f"{v:.2f}" for v in row)]) for c, row in zip(class_names, matrix)]
        write_text_atomic(self.output_dir / f"{name}.csv", "\n".join(rows) + "\n")
        title = title or name.replace("_", " ")
        if published is not None:
            paper = np.asarray(published, dtype=float)
            items = [("mean of the diagonal", np.nanmean(np.diag(matrix)), np.mean(np.diag(paper)))]
            items += [(f"TPR {c}", matrix[i, i], paper[i, i]) for i, c in enumerate(class_names)]
            self.compare(title, items, unit="%")
        return self.save_text(confusion_table(matrix, class_names, published=published) + "\n", f"{name}.md", title=title)

    def save_text(self, text: str, name: str, *, title: str = "") -> Path:
        """Save a text/markdown/csv output as `<output_dir>/<name>`; returns the path."""
        path = write_text_atomic(self.output_dir / name, text)
        self._add("outputs", {"kind": "table" if name.endswith(".md") else "file", "file": name,
                              "title": title or Path(name).stem.replace("_", " ")})  # fmt: skip
        return path

    def compare(self, table: str, items: Sequence[tuple], *, unit: str = "fraction") -> None:
        """Record numbers beside the paper's: `items` are `(what, ours, paper)`; `paper` may be None.

        `unit` is `"fraction"` (0..1, shown in percent) or `"%"`; the report lists every comparison with
        its difference in percentage points.
        """
        if unit not in ("fraction", "%"):
            raise ValueError(f"Expected unit 'fraction' or '%'. Received: {unit!r}")
        scale = 100.0 if unit == "fraction" else 1.0
        for what, ours, paper in items:
            ours, paper = _number(ours), _number(paper)
            self._add("comparisons", {
                "table": table, "item": str(what),
                "ours": None if ours is None else round(ours * scale, 4),
                "paper": None if paper is None else round(paper * scale, 4),
            })  # fmt: skip

    def save_claims(self, claims: Sequence[tuple]) -> str:
        """Record the paper's claims checked on this run: `(claim, holds, detail)` with `holds` a bool.

        Writes `claims.md` and returns its markdown (for `display(Markdown(...))`).
        """
        entries = []
        for claim, holds, detail in claims:
            if holds is not None and not isinstance(holds, (bool, np.bool_)):
                raise ValueError(f"Expected holds a bool (or None if not tested) for {claim!r}. Received: {holds!r}")
            entries.append({"claim": str(claim), "holds": None if holds is None else bool(holds), "detail": str(detail)})
        self.record.setdefault("claims", []).extend(entries)
        text = claims_markdown(self.record["claims"])
        write_text_atomic(self.output_dir / "claims.md", text + "\n")
        self._write()
        return claims_markdown(entries)


def start_session(notebook: str, *, profile: str = "default", seed: int = 0) -> Session:
    """Seed everything and prepare an empty `results/<profile>/<notebook>/`.

    Args:
        notebook: the notebook's name, without extension.
        profile: the run profile (names the output folder).
        seed: seed for every generator the notebook uses.

    Example:
        >>> session = start_session("01_dct_features", profile="smoke", seed=0)  # doctest: +SKIP
    """
    seed_everything(seed)
    output_dir = results_dir(profile) / notebook
    if output_dir.is_dir():
        shutil.rmtree(output_dir)  # a fresh run's outputs only: nothing stale for the report or the manifest
    output_dir.mkdir(parents=True, exist_ok=True)
    session = Session(notebook=notebook, profile=profile, seed=seed, output_dir=output_dir,
                      record={"notebook": notebook, "profile": profile, "seed": seed})  # fmt: skip
    session._write()
    return session
