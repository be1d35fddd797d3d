"""Which platform did an image come from: a trained paper-1 network applied to new files (Sec. III-B, IV).

    identifier = save_identifier(result, "results/default/05_eight_classes/identifier", trained_on="IPLab-like, simulated")
    identifier = load_identifier("results/default/05_eight_classes/identifier")
    for answer in identify(["photo.jpg"], identifier):
        print(answer.describe())

An identifier is a folder with the 1-D CNN (`model.keras`, loaded in Keras' safe mode) and `identifier.json`
(class names, patch size, the data it was trained on, its test accuracy; since version 2 the luminance quantization
tables of its training files with the classes that wrote them, `table_evidence.TableEvidence`; since version 3 the
header traits of its training files with the real sources behind them, `table_evidence.HeaderEvidence`, and the
calibrated weights that combine them with the patch vote, `combination.Combination`).

Each image's patches are classified. A version-3 identifier adds the patch vote and the header's likelihoods
(`combination.combine`): every class keeps a probability, the answer is the likeliest, its probability the
answer's confidence, and below `Combination.min_confidence` the answer is flagged uncertain. A version-2 identifier
takes the majority vote of the patches among the classes that wrote the image's quantization table in training
(`method="restricted"`), as before. `use_tables=False` gives the paper's vote among all classes. The mean of the
patch probabilities and the paper's own vote are reported beside it. Files that cannot be read are answered with
the reason, never by stopping the batch.
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

from .combination import Combination, combine
from .table_evidence import HeaderEvidence, TableEvidence, restricted_vote

__all__ = ["Identifier", "Identification", "Observation", "save_identifier", "load_identifier", "identify",
           "observe", "decide", "find_identifier", "METHODS"]

IDENTIFIER_VERSION = 3
#: Versions `load_identifier` reads: 1 has no quantization tables (the paper's vote alone), 2 the tables alone (the
#: vote restricted to their writers).
READABLE_VERSIONS = (1, 2, 3)
#: How `decide` answers: "soft" (patch vote and header likelihoods, version 3), "restricted" (the vote among the
#: table's writers, version 2), "histograms" (the paper's vote among all classes).
METHODS = ("soft", "restricted", "histograms")


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
        header_evidence: the training files' header traits with their sources, or None (before version 3).
        combination: the calibrated weights of the soft answer, or None (before version 3).
        model: the Keras model (loaded on first use).
    """

    folder: Path
    classes: tuple[str, ...]
    patch_size: int
    trained_on: str
    simulated: bool
    metadata: dict
    table_evidence: TableEvidence | None = None
    header_evidence: HeaderEvidence | None = None
    combination: Combination | None = None
    _model: object = None

    @property
    def method(self) -> str:
        """How it answers by default: "soft" (version 3), "restricted" (version 2) or "histograms" (version 1)."""
        if self.header_evidence is not None and self.combination is not None:
            return "soft"
        return "restricted" if self.table_evidence is not None else "histograms"

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
        if self.method == "soft":
            n_files = sum(n for (_, _, trait, _), n in self.header_evidence.counts.items() if trait == "table")
            c = self.combination
            used = ", ".join(c.traits) if c.traits else "every trait"
            tables = (f"; the header of each image ({used}) "
                      f"weighed against the patch vote by the header traits of {n_files} training files (weights "
                      f"{c.network_weight:g} vote, {c.header_weight:g} header, smoothing {c.smoothing.measured:g}; "
                      f"answers below {100 * c.min_confidence:.0f}% confidence are flagged uncertain)")  # fmt: skip
        elif self.table_evidence is not None:
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

    `votes` is the paper's vote (every patch for its likeliest class). `prediction` is the likeliest class of
    `posterior` (the soft answer, the restricted vote or the paper's vote, see `method`), `confidence` its
    probability, and `uncertain` says that the confidence is below the identifier's threshold (the prediction is
    then the best guess, not an answer). `table_writers`: `{class: training files}` that carried the image's
    quantization table; empty when the table was never seen in training; None when no table was consulted (an
    identifier without tables, `use_tables=False`, or an image that is not a JPEG). `header`: per header trait, the
    log-likelihood of each class (soft answers only). `warnings` holds libjpeg's warnings on a file it read intact
    (e.g. extraneous bytes before a marker).
    """

    path: Path
    prediction: str | None = None
    probabilities: dict[str, float] = dataclasses.field(default_factory=dict)
    votes: dict[str, int] = dataclasses.field(default_factory=dict)
    error: str | None = None
    warnings: tuple[str, ...] = ()
    table_writers: dict[str, int] | None = None
    posterior: dict[str, float] = dataclasses.field(default_factory=dict)
    confidence: float | None = None
    uncertain: bool = False
    method: str | None = None
    header: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)

    def to_record(self) -> dict:
        """JSON-ready, with stable keys: `path`, `prediction` (None when unreadable), `confidence`, `uncertain`,
        `method`, `posterior`, `mean_patch_probability`, `votes`, `table_writers`, `header`, `warnings`, `error`."""
        rounded = lambda values: {c: round(float(v), 6) for c, v in values.items()}  # noqa: E731
        return {"path": str(self.path), "prediction": self.prediction,
                "confidence": None if self.confidence is None else round(float(self.confidence), 6),
                "uncertain": bool(self.uncertain), "method": self.method, "posterior": rounded(self.posterior),
                "mean_patch_probability": rounded(self.probabilities), "votes": dict(self.votes),
                "table_writers": self.table_writers,
                "header": {trait: rounded(values) for trait, values in self.header.items()},
                "warnings": list(self.warnings), "error": self.error}  # fmt: skip

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
            table = f"\n    quantization table written in training by: {writers} (files)" + (
                "; the vote is among them" if self.method == "restricted" else "")
        else:
            table = "\n    quantization table never seen in training" + (
                ": the vote is among all classes" if self.method == "restricted" else "")
        answer = self.prediction
        if self.confidence is not None:
            answer = (f"uncertain (likeliest {self.prediction}, {100 * self.confidence:.0f}%)" if self.uncertain
                      else f"{self.prediction} ({100 * self.confidence:.0f}% confidence)")  # fmt: skip
        header = ""
        if self.header:
            order = sorted(self.posterior, key=self.posterior.get, reverse=True)
            header = f"\n    probability (patch vote and header): " + ", ".join(
                f"{c} {100 * self.posterior[c]:.1f}%" for c in order[:4])
            moved = []
            for trait, values in self.header.items():
                top, bottom = max(values.values()), min(values.values())
                if top - bottom > 0.05:
                    favoured = [c for c, v in values.items() if v >= top - 0.05]
                    lowered = [c for c, v in values.items() if v <= bottom + 0.05]
                    word, named = ("favours", favoured) if len(favoured) <= len(lowered) else ("lowers", lowered)
                    moved.append(f"{trait} ({word} {', '.join(named)}, {top - bottom:.1f} nats)")
            if moved:
                header += "\n    header evidence: " + "; ".join(moved)
        return (f"{self.path}: {answer}\n    mean patch probability: {probabilities}\n"
                f"    patch vote ({n} patches): {votes}{table}{header}{warned}")  # fmt: skip


def save_identifier(result, folder: str | Path, *, trained_on: str, simulated: bool,
                    table_evidence: TableEvidence | None = None, header_evidence: HeaderEvidence | None = None,
                    combination: Combination | None = None, **metadata) -> Identifier:  # fmt: skip
    """Store a `ProvenanceResult`'s network as an identifier (written to a temporary folder, then renamed).

    Args:
        result: a `forensiclib.provenance.experiment.ProvenanceResult` (its `model_path`, classes and accuracies are used).
        folder: the identifier's folder (replaced if it exists).
        trained_on: the training data, in words.
        simulated: whether those data were simulated.
        table_evidence: the quantization tables of the network's training files (`TableEvidence.from_files`); None:
            the identifier votes among all classes, as the paper. With `header_evidence`, its `table_evidence()`
            is kept when none is given.
        header_evidence, combination: the training files' header traits (`HeaderEvidence.from_files`) and the
            calibrated weights (`combination.calibrate`); both or neither. With them the identifier answers softly.
        **metadata: anything else worth keeping (settings, notebook, profile); must be JSON-serialisable.

    Raises:
        ValueError: no `patch_size` in `metadata`, `table_evidence` or `header_evidence` names other classes than
            `result`, or only one of `header_evidence` and `combination` is given.
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
    if (header_evidence is None) != (combination is None):
        raise ValueError("Expected header_evidence and combination together (the soft answer needs both). Received "
                         f"header_evidence={'given' if header_evidence else None}, "
                         f"combination={'given' if combination else None}")  # fmt: skip
    if header_evidence is not None:
        if tuple(header_evidence.classes) != tuple(result.classes):
            raise ValueError(f"Expected header evidence over the network's classes {tuple(result.classes)}. Received "
                             f"{tuple(header_evidence.classes)}")  # fmt: skip
        table_evidence = table_evidence or header_evidence.table_evidence()
        record["header_evidence"] = header_evidence.to_record()
        record["combination"] = combination.to_record()
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
        header, combination = record.pop("header_evidence", None), record.pop("combination", None)
        if record["version"] >= 3 and (header is None) != (combination is None):
            raise ValueError("expected header_evidence and combination together")
        return Identifier(folder=folder, classes=classes, patch_size=int(record["patch_size"]),
                          trained_on=record["trained_on"], simulated=bool(record["simulated"]),
                          metadata=record, table_evidence=evidence,
                          header_evidence=None if header is None else HeaderEvidence.from_record(classes, header),
                          combination=None if combination is None else
                          Combination.from_record(combination))  # fmt: skip
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


@dataclasses.dataclass
class Observation:
    """What `decide` needs of one image: its patches' network outputs and its header (or why it could not be read).

    Attributes:
        path: the file.
        probabilities: `(n_patches, K)` network outputs.
        table: the luminance quantization table, `(8, 8)`, or None (not a JPEG).
        traits: the header traits (`header.JPEGHeader.traits`), empty for an image that is not a JPEG.
        width, height: the image size in pixels.
        warnings: libjpeg's warnings on a file it read intact.
        error: why the file could not be read (the rest is then empty).
    """

    path: Path
    probabilities: np.ndarray | None = None
    table: np.ndarray | None = None
    traits: dict[str, str] = dataclasses.field(default_factory=dict)
    width: int | None = None
    height: int | None = None
    warnings: tuple[str, ...] = ()
    error: str | None = None


def observe(paths: Iterable[str | Path], identifier: Identifier) -> list[Observation]:
    """Read each image, classify its patches with the identifier's network and read its header.

    A file that cannot be read gets an `Observation` with its reason in `error`.
    """
    from ..errors import ImageReadError
    from ..training import predict
    from .features import image_features
    from .header import read_header
    from .jpeg import read_dct

    observations = []
    for path in paths:
        path = Path(path)
        try:
            image = read_dct(path)
            patches = image_features(image, patch_size=identifier.patch_size)
            traits = read_header(path).traits() if image.source == "jpeg" else {}
        except (ImageReadError, OSError, ValueError) as error:
            observations.append(Observation(path, error=str(error)))
            continue
        probabilities = predict(identifier.model, patches.features, batch_size=256)
        observations.append(Observation(path, probabilities=np.asarray(probabilities, dtype=np.float64),
                                        table=image.quantization_table, traits=traits, width=image.width,
                                        height=image.height, warnings=patches.warnings))  # fmt: skip
    return observations


def decide(observation: Observation, identifier: Identifier, *, method: str | None = None,
           header_evidence: HeaderEvidence | None = None, table_evidence: TableEvidence | None = None,
           combination: Combination | None = None) -> Identification:  # fmt: skip
    """The answer for one observed image.

    Args:
        observation: from `observe`.
        identifier: from `load_identifier`.
        method: one of `METHODS` (default: `identifier.method`).
        header_evidence, table_evidence, combination: replace the identifier's own (e.g. a held-out fold's
            `HeaderEvidence.without`, whose `table_evidence()` then serves the restricted vote).

    Raises:
        ValueError: an unknown method, or one the identifier has no evidence for.
    """
    method = method or identifier.method
    if method not in METHODS:
        raise ValueError(f"Expected a method among {METHODS}. Received: {method!r}")
    if observation.error is not None:
        return Identification(observation.path, error=observation.error, method=method)
    classes, probabilities = identifier.classes, observation.probabilities
    header_evidence = header_evidence or identifier.header_evidence
    combination = combination or identifier.combination
    if table_evidence is None:
        table_evidence = identifier.table_evidence if header_evidence is identifier.header_evidence else None
        table_evidence = table_evidence or (header_evidence.table_evidence() if header_evidence else None)
    if method == "soft" and (header_evidence is None or combination is None):
        raise ValueError("Expected a version-3 identifier (header evidence and calibrated weights) for the soft "
                         f"answer. Received: {identifier.folder} (version {identifier.metadata.get('version')})")
    if method == "restricted" and table_evidence is None:
        raise ValueError(f"Expected an identifier with quantization tables for the restricted vote. Received: "
                         f"{identifier.folder} (version {identifier.metadata.get('version')})")
    writers = candidates = None
    if method != "histograms" and table_evidence is not None and observation.table is not None:
        writers = table_evidence.writers(observation.table)
        candidates = table_evidence.candidates(observation.table) if method == "restricted" else None
    label, counts = restricted_vote(probabilities, candidates)
    header: dict[str, np.ndarray] = {}
    if method == "soft":
        size = dict(width=observation.width, height=observation.height, smoothing=combination.smoothing,
                    use=combination.traits or None)  # fmt: skip
        header = header_evidence.likelihoods(observation.traits, **size)
        posterior = combine(probabilities, header_evidence.log_likelihood(observation.traits, **size), combination)
        label = int(np.argmax(posterior))
    else:  # the vote's smoothed shares among the candidates, as a probability
        weights = (np.bincount(probabilities.argmax(axis=1), minlength=len(classes)) if method == "histograms" else
                   counts).astype(np.float64) + 1.0  # fmt: skip
        if candidates is not None:
            weights = np.where(candidates, weights, 0.0)
        posterior = weights / weights.sum()
    threshold = combination.min_confidence if combination is not None else 0.5
    confidence = float(posterior[label])
    paper_votes = np.bincount(probabilities.argmax(axis=1), minlength=len(classes))
    return Identification(
        observation.path, prediction=classes[label],
        probabilities={c: float(p) for c, p in zip(classes, probabilities.mean(axis=0))},
        votes={c: int(n) for c, n in zip(classes, paper_votes)}, warnings=observation.warnings,
        table_writers=writers, posterior={c: float(p) for c, p in zip(classes, posterior)}, confidence=confidence,
        uncertain=confidence < threshold, method=method,
        header={trait: {c: float(v) for c, v in zip(classes, values)} for trait, values in header.items()},
    )  # fmt: skip


def identify(paths: Iterable[str | Path], identifier: Identifier, *, use_tables: bool = True,
             method: str | None = None) -> list[Identification]:  # fmt: skip
    """Classify each image's patches, read its header and answer (`decide`); bad files are answered with their reason.

    Args:
        paths: image files.
        identifier: from `load_identifier`.
        use_tables: False: the paper's vote among all classes (Sec. III-B), whatever the identifier keeps.
        method: one of `METHODS` (default: the identifier's own, `Identifier.method`).
    """
    method = "histograms" if not use_tables else method
    return [decide(observation, identifier, method=method) for observation in observe(paths, identifier)]
