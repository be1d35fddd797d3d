"""Which platform did an image come from: a trained paper-1 network applied to new files (Sec. III-B, IV).

    identifier = save_identifier(result, "results/default/05_eight_classes/identifier", trained_on="IPLab-like, simulated")
    identifier = load_identifier("results/default/05_eight_classes/identifier")
    for answer in identify(["photo.jpg"], identifier):
        print(answer.describe())

An identifier is a folder with the 1-D CNN (`model.keras`, loaded in Keras' safe mode) and `identifier.json`
(class names, patch size, the data it was trained on, its test accuracy and, since version 2, the luminance
quantization tables of its training files with the classes that wrote them: `table_evidence.TableEvidence`). Each
image's patches are classified and the image takes the majority vote of its patches, as in the paper, among the
classes that wrote the image's quantization table in training (all classes when that table was never seen, or with
`use_tables=False`: then the answer is the paper's vote). The mean of the patch probabilities and the paper's own
vote are reported beside it. Files that cannot be read are answered with the reason, never by stopping the batch.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .table_evidence import TableEvidence, restricted_vote

__all__ = ["Identifier", "Identification", "save_identifier", "load_identifier", "identify", "find_identifier"]

IDENTIFIER_VERSION = 2
#: Versions `load_identifier` reads: 1 has no quantization tables (the paper's vote alone).
READABLE_VERSIONS = (1, 2)


@dataclasses.dataclass
class Identifier:
    """A trained platform classifier and what it was trained on.

    Attributes:
        folder: where it is stored.
        classes: class names, in the network's output order.
        patch_size: patch side in pixels of its features.
        trained_on: the training data, in words (says "simulated" for simulated data).
        simulated: whether the training data were simulated.
        metadata: the rest of `identifier.json` (accuracies, source notebook, settings).
        table_evidence: the training files' quantization tables and the classes that wrote them, or None (an
            identifier of version 1).
        model: the Keras model (loaded on first use).
    """

    folder: Path
    classes: tuple[str, ...]
    patch_size: int
    trained_on: str
    simulated: bool
    metadata: dict
    table_evidence: TableEvidence | None = None
    _model: object = None

    @property
    def model(self):
        if self._model is None:
            import keras

            self._model = keras.models.load_model(self.folder / "model.keras", safe_mode=True, compile=False)
        return self._model

    def describe(self) -> str:
        accuracy = self.metadata.get("test_accuracy", {})
        scores = ", ".join(f"{k} {100 * v:.1f}%" for k, v in accuracy.items() if v is not None)
        tables = ""
        if self.table_evidence is not None:
            n_files = sum(map(sum, self.table_evidence.counts.values()))
            tables = (f"; quantization tables of {n_files} training files ({len(self.table_evidence.counts)} "
                      "distinct) narrow each vote to the classes that wrote the image's table")  # fmt: skip
            if self.table_evidence.ignored:
                tables += f" (tables of {', '.join(self.table_evidence.ignored)} not counted: assumed, not measured)"
        return (f"model {self.folder / 'model.keras'}: {len(self.classes)} classes ({', '.join(self.classes)}); "
                f"trained on {self.trained_on}" + (f"; test accuracy {scores}" if scores else "") + tables)  # fmt: skip


@dataclasses.dataclass
class Identification:
    """One image's answer: a predicted class with probabilities and the per-patch vote, or an error.

    `votes` is the paper's vote (every patch for its likeliest class); `prediction` the vote among the classes in
    `table_writers` when that is not empty. `table_writers`: `{class: training files}` that carried the image's
    quantization table; empty when the table was never seen in training; None when no table was consulted (an
    identifier without tables, `use_tables=False`, or an image that is not a JPEG). `warnings` holds libjpeg's
    warnings on a file it read intact (e.g. extraneous bytes before a marker).
    """

    path: Path
    prediction: str | None = None
    probabilities: dict[str, float] = dataclasses.field(default_factory=dict)
    votes: dict[str, int] = dataclasses.field(default_factory=dict)
    error: str | None = None
    warnings: tuple[str, ...] = ()
    table_writers: dict[str, int] | None = None

    def describe(self) -> str:
        if self.error is not None:
            return f"{self.path}: skipped: {self.error}"
        n = sum(self.votes.values())
        order = sorted(self.probabilities, key=self.probabilities.get, reverse=True)
        probabilities = ", ".join(f"{c} {100 * self.probabilities[c]:.1f}%" for c in order)
        votes = ", ".join(f"{c} {self.votes[c]}" for c in order if self.votes.get(c))
        warned = "".join(f"\n    libjpeg warning (coefficients intact): {text}" for text in self.warnings)
        if self.table_writers is None:
            table = ""
        elif self.table_writers:
            writers = ", ".join(f"{c} {n}" for c, n in sorted(self.table_writers.items(), key=lambda x: -x[1]))
            table = f"\n    quantization table written in training by: {writers} (files); the vote is among them"
        else:
            table = "\n    quantization table never seen in training: the vote is among all classes"
        return (f"{self.path}: {self.prediction}\n    mean patch probability: {probabilities}\n"
                f"    patch vote ({n} patches): {votes}{table}{warned}")  # fmt: skip


def save_identifier(result, folder: str | Path, *, trained_on: str, simulated: bool,
                    table_evidence: TableEvidence | None = None, **metadata) -> Identifier:
    """Store a `ProvenanceResult`'s network as an identifier (written to a temporary folder, then renamed).

    Args:
        result: a `forensiclib.provenance.experiment.ProvenanceResult` (its `model_path`, classes and accuracies are used).
        folder: the identifier's folder (replaced if it exists).
        trained_on: the training data, in words.
        simulated: whether those data were simulated.
        table_evidence: the quantization tables of the network's training files (`TableEvidence.from_files`); None:
            the identifier votes among all classes, as the paper.
        **metadata: anything else worth keeping (settings, notebook, profile); must be JSON-serialisable.

    Raises:
        ValueError: no `patch_size` in `metadata`, or `table_evidence` names other classes than `result`.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    patch_size = metadata.pop("patch_size", None)
    if patch_size is None:
        raise ValueError("Expected patch_size=... (the patch side the network was trained on)")
    record = {
        "version": IDENTIFIER_VERSION,
        "classes": list(result.classes),
        "patch_size": int(patch_size),
        "trained_on": str(trained_on),
        "simulated": bool(simulated),
        "test_accuracy": {k: (None if np.isnan(v) else float(v)) for k, v in result.accuracies().items()},
        "n_train_patches": int(result.n_train_patches),
        "n_train_images": int(result.n_train_images),
        **metadata,
    }
    if table_evidence is not None:
        if tuple(table_evidence.classes) != tuple(result.classes):
            raise ValueError(f"Expected table evidence over the network's classes {tuple(result.classes)}. Received "
                             f"{tuple(table_evidence.classes)}")  # fmt: skip
        record["table_evidence"] = table_evidence.to_record()
        record["table_evidence_ignores"] = list(table_evidence.ignored)
    import keras

    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".tmp-{folder.name}-"))
    os.chmod(tmp, 0o755)
    # loaded without its training state, the file holds the weights only (a third of the cached model's size)
    keras.models.load_model(result.model_path, compile=False).save(tmp / "model.keras")
    (tmp / "identifier.json").write_text(json.dumps(record, indent=1) + "\n")
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)
    return load_identifier(folder)


def load_identifier(folder: str | Path) -> Identifier:
    """Read an identifier folder written by `save_identifier`.

    Raises:
        FileNotFoundError: the folder, its model or its `identifier.json` is missing.
        ValueError: `identifier.json` is not one this version writes.
    """
    folder = Path(folder)
    for name in ("identifier.json", "model.keras"):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder} is not an identifier folder: expected {name} in it (written by "
                                    f"save_identifier, e.g. by notebook 05_eight_classes)")  # fmt: skip
    try:
        record = json.loads((folder / "identifier.json").read_text())
        if record.get("version") not in READABLE_VERSIONS:
            raise ValueError(f"version {record.get('version')!r}, expected one of {READABLE_VERSIONS}")
        classes = tuple(record["classes"])
        tables, ignored = record.pop("table_evidence", None), record.pop("table_evidence_ignores", ())
        evidence = None if tables is None else TableEvidence.from_record(classes, tables, ignored)
        return Identifier(folder=folder, classes=classes, patch_size=int(record["patch_size"]),
                          trained_on=record["trained_on"], simulated=bool(record["simulated"]),
                          metadata=record, table_evidence=evidence)  # fmt: skip
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{folder / 'identifier.json'} is not a valid identifier record: {error}") from None


def find_identifier(results_root: str | Path | None = None, profiles: Sequence[str] = ("default", "paper", "smoke")):
    """The identifier notebook 05 wrote under the first of `profiles` that has one, or None.

    The network itself is not kept in git: on a fresh clone there is none until notebook 05 has run.
    """
    from ..paths import project_root

    root = Path(results_root) if results_root else project_root() / "results"
    for profile in profiles:
        folder = root / profile / "05_eight_classes" / "identifier"
        if (folder / "identifier.json").is_file() and (folder / "model.keras").is_file():
            return folder
    return None


def identify(paths: Iterable[str | Path], identifier: Identifier, *, use_tables: bool = True) -> list[Identification]:
    """Classify each image's patches and vote (paper 1, Sec. III-B); bad files are answered with their reason.

    Args:
        paths: image files.
        identifier: from `load_identifier`.
        use_tables: vote among the classes that wrote the image's quantization table in training (when the
            identifier has its tables and the table was seen); False: the paper's vote among all classes.
    """
    from ..errors import ImageReadError
    from ..training import predict
    from .features import image_features
    from .jpeg import read_dct

    evidence = identifier.table_evidence if use_tables else None
    answers = []
    for path in paths:
        path = Path(path)
        try:
            image = read_dct(path)
            patches = image_features(image, patch_size=identifier.patch_size)
            features = patches.features
        except (ImageReadError, OSError) as error:
            answers.append(Identification(path, error=str(error)))
            continue
        probabilities = predict(identifier.model, features, batch_size=256)
        writers = candidates = None  # no table consulted: the paper's vote
        if evidence is not None and image.quantization_table is not None:
            table = image.quantization_table
            writers, candidates = evidence.writers(table), evidence.candidates(table)
        label, _ = restricted_vote(probabilities, candidates)
        counts = np.bincount(probabilities.argmax(axis=1), minlength=len(identifier.classes))
        mean = probabilities.mean(axis=0)
        answers.append(Identification(
            path, prediction=identifier.classes[label],
            probabilities={c: float(p) for c, p in zip(identifier.classes, mean)},
            votes={c: int(n) for c, n in zip(identifier.classes, counts)}, warnings=patches.warnings,
            table_writers=writers,
        ))  # fmt: skip
    return answers
