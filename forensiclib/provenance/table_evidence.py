"""Which classes wrote a JPEG's luminance quantization table in the training data: the identifier's candidates.

Paper 1's network (Sec. III) sees histograms of *quantized* coefficients. On uncontrolled content their width
mixes two things, the quantization step and how busy the image is, so images written at neighbouring IJG qualities
(Instagram 80-92, Twitter 85, Telegram 87 in the measured profiles) look alike to it when the content differs. The
table itself is written in the file's header and is the first thing a forensic examiner reads. An identifier keeps,
for every table its training files carry, how many files of each class wrote it (`TableEvidence`); `identify` then
lets the paper's patch vote choose among the classes that wrote the file's table, and among all classes when the
table was never seen in training (so the answer is the paper's own whenever the table says nothing).

The tables come from the training files only; they are never read from real downloads (which is where the
simulated platform profiles took theirs from, see `forensiclib.data.synth.platform_catalogue`).

Example:
    >>> evidence = TableEvidence.from_files(["a.jpg", "b.jpg"], [0, 1], ("facebook", "twitter"))  # doctest: +SKIP
    >>> evidence.writers(luminance_table("c.jpg"))  # doctest: +SKIP
    {'twitter': 1}
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["TableEvidence", "HeaderEvidence", "Smoothing", "SOURCE_TABLE", "luminance_table", "restricted_vote"]


def luminance_table(path: str | Path) -> np.ndarray | None:
    """The `(8, 8)` luminance quantization table of a JPEG in natural (row-major) order; None for other images.

    Read from the header alone (Pillow), so it costs a fraction of a millisecond; the table is the one the first
    component (luminance) selects, the same as `read_dct(path).quantization_table`.

    Raises:
        FileNotFoundError: no such file.
        OSError: the file is not an image Pillow can open.
    """
    from PIL import Image

    with Image.open(path) as image:
        tables = getattr(image, "quantization", None)
        if image.format != "JPEG" or not tables:
            return None
        selector = image.layer[0][3] if getattr(image, "layer", None) else min(tables)
        return np.asarray(tables[selector], dtype=np.uint16).reshape(8, 8)


def _key(table: np.ndarray | Sequence[int]) -> tuple[int, ...]:
    values = np.asarray(table).ravel()
    if values.size != 64:
        raise ValueError(f"Expected a quantization table of 64 values. Received {values.size} values")
    return tuple(int(v) for v in values)


def _check_labels(paths: list, labels: list[int], classes: tuple[str, ...]) -> None:
    """One label per file, each an index of `classes`."""
    if len(paths) != len(labels):
        raise ValueError(f"Expected one label per file. Received {len(paths)} files and {len(labels)} labels")
    bad = sorted({label for label in labels if not 0 <= label < len(classes)})
    if bad:
        raise ValueError(f"Expected labels in 0..{len(classes) - 1} (one per class of {classes}). Received {bad}")


@dataclasses.dataclass(frozen=True)
class TableEvidence:
    """For each luminance table seen in training, how many training files of each class carried it.

    Attributes:
        classes: class names, in the network's output order.
        counts: `{table (64 values, row-major): files per class (one count per class)}`.
        ignored: classes whose files were not counted (their tables are no evidence, e.g. a simulated platform
            whose tables are assumed rather than measured on real downloads); they never narrow a vote.
    """

    classes: tuple[str, ...]
    counts: Mapping[tuple[int, ...], tuple[int, ...]]
    ignored: tuple[str, ...] = ()

    @classmethod
    def from_files(cls, paths: Iterable[str | Path], labels: Iterable[int], classes: Sequence[str], *,
                   ignore: Sequence[str] = ()) -> TableEvidence:  # fmt: skip
        """Count the tables of training files (`labels` index `classes`); files without a table are left out.

        Args:
            paths, labels: the training files and their classes.
            classes: class names.
            ignore: classes whose files are not counted (see `ignored`).

        Raises:
            ValueError: `paths` and `labels` differ in length, a label is not an index of `classes`, or `ignore`
                names a class not in `classes`.
        """
        paths, labels, classes = list(paths), [int(label) for label in labels], tuple(classes)
        ignored = tuple(c for c in classes if c in set(ignore))
        unknown = sorted(set(ignore) - set(classes))
        if unknown:
            raise ValueError(f"Expected classes to ignore among {classes}. Received {unknown}")
        _check_labels(paths, labels, classes)
        counts: dict[tuple[int, ...], np.ndarray] = {}
        for path, label in zip(paths, labels):
            if classes[label] in ignored:
                continue
            table = luminance_table(path)
            if table is not None:
                counts.setdefault(_key(table), np.zeros(len(classes), dtype=np.int64))[label] += 1
        return cls(classes, {table: tuple(int(n) for n in row) for table, row in sorted(counts.items())}, ignored)

    def writers(self, table: np.ndarray | Sequence[int] | None) -> dict[str, int]:
        """`{class: training files}` for the classes that wrote `table`; empty for a table never seen (or None)."""
        row = None if table is None else self.counts.get(_key(table))
        return {} if row is None else {c: n for c, n in zip(self.classes, row) if n}

    def candidates(self, table: np.ndarray | Sequence[int] | None) -> np.ndarray:
        """A boolean mask over `classes`: the classes that wrote `table`, or every class for a table never seen."""
        writers = self.writers(table)
        if not writers:
            return np.ones(len(self.classes), dtype=bool)
        return np.array([c in writers for c in self.classes])

    def to_record(self) -> list[dict]:
        """JSON-ready: one `{"table": [64 values], "files": {class: n}}` per table."""
        return [{"table": list(table), "files": {c: n for c, n in zip(self.classes, row) if n}}
                for table, row in self.counts.items()]  # fmt: skip

    @classmethod
    def from_record(cls, classes: Sequence[str], record: Iterable[Mapping], ignored: Sequence[str] = ()) -> TableEvidence:
        """The inverse of `to_record` (with `ignored` kept beside it).

        Raises:
            ValueError: a table is not 64 values, or names a class not in `classes`.
        """
        classes, counts = tuple(classes), {}
        for entry in record:
            unknown = sorted(set(entry["files"]) - set(classes))
            if unknown:
                raise ValueError(f"Expected table writers among {classes}. Received {unknown}")
            counts[_key(entry["table"])] = tuple(int(entry["files"].get(c, 0)) for c in classes)
        return cls(classes, counts, tuple(ignored))


def restricted_vote(probabilities: np.ndarray, candidates: np.ndarray | None = None) -> tuple[int, np.ndarray]:
    """Paper 1's majority vote of patches (Sec. III-B), each patch voting for its likeliest class among `candidates`.

    Args:
        probabilities: `(n_patches, K)` network outputs of one image.
        candidates: boolean mask over the K classes (None: all, which is the paper's vote).

    Returns:
        `(class index, vote counts per class)`; a tie goes as in `evaluate.majority_vote` (the larger summed
        probability).
    """
    from ..evaluate import majority_vote

    probabilities = np.asarray(probabilities, dtype=np.float64)
    if candidates is not None:
        probabilities = np.where(np.asarray(candidates, dtype=bool), probabilities, -1.0)
    _, (label,) = majority_vote(probabilities, np.zeros(len(probabilities), dtype=np.int64))
    return int(label), np.bincount(probabilities.argmax(axis=1), minlength=probabilities.shape[1])


# --- soft header evidence -------------------------------------------------------------------------------------------

#: The pseudo-value of the "table" trait for a training file whose platform handed back its source's own table (a
#: `keep_jpeg` behaviour): such a platform may carry any table its uploads carry, as likely as a camera's.
SOURCE_TABLE = "source"
#: What an unknown platform is assumed to write (the background of a platform's table likelihood): an IJG table with
#: this probability, spread evenly over the 100 qualities, else one of `_OTHER_TABLES` other tables, evenly.
PLATFORM_IJG_SHARE = 0.7
_OTHER_TABLES = 1000
_FLOOR = 0.05  # share of a non-table trait's background spread evenly over its values, so none has probability 0


@dataclasses.dataclass(frozen=True)
class HeaderEvidence:
    """What the headers of the training files say about each class, with where each fact came from.

    Every training file adds its header traits (`header.JPEGHeader.traits`) to its class, tagged with the real
    sources whose measurements made the simulator write them (`platform_catalogue.fact_sources`). `likelihoods`
    turns the counts into smoothed likelihoods; `without` drops what one source alone established, for a held-out
    evaluation.

    Attributes:
        classes: class names, in the network's output order.
        counts: `{(class, sources, trait, value): files}`; `sources` a sorted tuple (empty: no measured source).
        assumed: classes whose simulated profile is assumed rather than measured: their files count, but their
            likelihoods are smoothed with `Smoothing.assumed` (a weaker claim).
        original: the class of camera originals, or None. Its table likelihood comes from `camera_tables` (the real
            cameras' tables, tagged with their camera models), not from the training files.
        camera_tables: `{table key: camera models that write it}` for `original`.
        size_limits: `{class: (longest side, widest width)}` in pixels a platform's files never exceed (None: no
            limit), from the simulator's profiles (commonly reported or measured limits).
    """

    classes: tuple[str, ...]
    counts: Mapping[tuple[str, tuple[str, ...], str, str], int]
    assumed: tuple[str, ...] = ()
    original: str | None = None
    camera_tables: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    size_limits: Mapping[str, tuple[int | None, int | None]] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_files(cls, paths: Iterable[str | Path], labels: Iterable[int], classes: Sequence[str], *,
                   sources=None, kept=None, assumed: Sequence[str] = (), original: str | None = None,
                   camera_tables: Mapping[str, Sequence[str]] | None = None,
                   size_limits: Mapping[str, tuple[int | None, int | None]] | None = None
                   ) -> HeaderEvidence:  # fmt: skip
        """Count the header traits of training files; files that are not JPEGs are left out.

        Args:
            paths, labels: the training files and their classes (indices of `classes`).
            classes: class names.
            sources: `sources(class name, luminance table) -> tuple of source names` (default: none recorded).
            kept: `kept(class name, luminance table) -> bool`, whether the file carries its source's own table (its
                table is then counted as `SOURCE_TABLE`); default: never.
            assumed, original, camera_tables, size_limits: as the attributes.

        Raises:
            ValueError: `paths` and `labels` differ in length, a label is not an index of `classes`, or `assumed`,
                `original` or `size_limits` name a class not in `classes`.
        """
        from .header import read_header, table_key

        paths, labels, classes = list(paths), [int(label) for label in labels], tuple(classes)
        unknown = sorted((set(assumed) | set(size_limits or {}) | ({original} - {None})) - set(classes))
        if unknown:
            raise ValueError(f"Expected class names among {classes}. Received {unknown}")
        _check_labels(paths, labels, classes)
        counts: dict = {}
        for path, label in zip(paths, labels):
            name = classes[label]
            try:
                header = read_header(path)
            except ValueError:
                continue
            traits = header.traits()
            table = header.luminance_table
            origin = () if sources is None or table is None else tuple(sorted(set(sources(name, table))))
            if kept is not None and table is not None and kept(name, table):
                traits["table"] = SOURCE_TABLE
            for trait, value in traits.items():
                key = (name, origin, trait, value)
                counts[key] = counts.get(key, 0) + 1
        tables = {key: tuple(sorted(models)) for key, models in (camera_tables or {}).items()}
        limits = {name: tuple(limit) for name, limit in (size_limits or {}).items()}
        return cls(classes, dict(sorted(counts.items())), tuple(c for c in classes if c in set(assumed)), original,
                   tables, limits)  # fmt: skip

    def without(self, name: str, source: str) -> HeaderEvidence:
        """The evidence without what `source` alone established for class `name` (a held-out fold).

        Counts of `name` whose sources are `source` alone are dropped, and for the originals' class the tables only
        camera `source` writes; counts also measured on another source stay (that source would have shown them).
        """
        counts = {key: n for key, n in self.counts.items() if not (key[0] == name and key[1] == (source,))}
        tables = self.camera_tables
        if name == self.original:
            tables = {key: tuple(m for m in models if m != source) for key, models in tables.items()}
            tables = {key: models for key, models in tables.items() if models}
        return dataclasses.replace(self, counts=counts, camera_tables=tables)

    def sources(self) -> dict[str, tuple[str, ...]]:
        """`{class: sources}` the evidence holds facts from (camera models for the originals)."""
        found: dict[str, set] = {}
        for name, origin, _, _ in self.counts:
            found.setdefault(name, set()).update(origin)
        if self.original is not None:
            found.setdefault(self.original, set()).update(m for models in self.camera_tables.values() for m in models)
        return {name: tuple(sorted(found[name])) for name in self.classes if name in found}

    def table_evidence(self) -> TableEvidence:
        """The table counts as a `TableEvidence` (the restricted vote of identifier version 2): the files of the
        assumed classes are not counted, and a file that kept its source's table counts nothing."""
        rows: dict[tuple[int, ...], np.ndarray] = {}
        for (name, _, trait, value), n in self.counts.items():
            if trait != "table" or value in (SOURCE_TABLE, "none") or name in self.assumed:
                continue
            key = tuple(int(v) for v in value.split(","))
            rows.setdefault(key, np.zeros(len(self.classes), dtype=np.int64))[self.classes.index(name)] += n
        return TableEvidence(self.classes, {t: tuple(int(n) for n in row) for t, row in sorted(rows.items())},
                             self.assumed)  # fmt: skip

    def log_likelihood(self, traits: Mapping[str, str], *, width: int | None = None, height: int | None = None,
                       smoothing: Smoothing | None = None, use: Sequence[str] | None = None) -> np.ndarray:  # fmt: skip
        """The log-likelihood of a file's header under each class, `(K,)` float64.

        A class writes its files in one of a few ways, one per real source behind its training files (a platform's
        client or encoder, a camera's layout): its *behaviours*, each the training files of the class that share
        their sources, weighted by their number. A file's header is likely under a class when one behaviour
        explains all its traits together:

            P(header | class) = (1 - e) * sum over behaviours of share * product over traits of P(value | behaviour)
                                + e * product over traits of P(value | an unknown behaviour),

        `e` the smoothing (`Smoothing.measured`, `.assumed` for an assumed class): the chance that the class wrote
        the file in a way none of its training files shows. So a table seen only with other classes lowers a class
        by `e` without removing it, and a behaviour never seen costs `e` once, not once per trait. Within a
        behaviour each value is smoothed by one file of the background. The unknown behaviour draws each trait from
        the background: for a platform, what the platforms' training files do, with tables from `_background_table`
        (an IJG table at any quality, which any software may write, is far likelier than another table, so a
        standard IJG table lowers the classes that did not write it far less than a table only one platform
        writes); for the originals, what the cameras' files do. A class whose behaviours are all held out
        (`without`) has the unknown one alone. The originals' table is scored apart: the share of `camera_tables`'
        cameras writing it, with the Good-Turing chance that a new camera writes a table none of them writes
        (cameras seen once, over all cameras) spread over unseen tables, so a table no platform writes counts for an
        original. A platform that keeps its uploads' tables (`SOURCE_TABLE` files) gives those files the originals'
        table likelihood. With `width` and `height`, a file larger than a class's size limit lowers it by the
        smoothing.

        Args:
            traits: the file's `JPEGHeader.traits()`.
            width, height: its size in pixels (None: no size evidence).
            smoothing: the `Smoothing` (default: `Smoothing()`).
            use: the traits to use (default: every one in `traits`, and "size").
        """
        joint, _ = self._score(traits, width, height, smoothing or Smoothing(), use)
        return joint

    def likelihoods(self, traits: Mapping[str, str], *, width: int | None = None, height: int | None = None,
                    smoothing: Smoothing | None = None,
                    use: Sequence[str] | None = None) -> dict[str, np.ndarray]:  # fmt: skip
        """Each trait's own log-likelihood under each class, `{trait: (K,)}`: the same model as `log_likelihood`,
        one trait at a time (what each trait says, to explain an answer; the answer uses the joint one)."""
        _, marginals = self._score(traits, width, height, smoothing or Smoothing(), use)
        return marginals

    # -- the model

    def _score(self, traits, width, height, smoothing, use):
        use = tuple(use) if use is not None else (*traits, "size")
        observed = {trait: traits[trait] for trait in use if trait in traits and trait != "size"}
        k = len(self.classes)
        model = self._model()
        joint, marginals = np.zeros(k), {trait: np.zeros(k) for trait in observed}
        camera = self._camera_table(observed["table"]) if "table" in observed else 1.0
        for index, name in enumerate(self.classes):
            kind = "original" if name == self.original else "platform"
            background = {t: self._background(model, kind, t, v, camera) for t, v in observed.items()
                          if not (kind == "original" and t == "table")}  # fmt: skip
            epsilon = smoothing.assumed if name in self.assumed else smoothing.measured
            groups = model["groups"].get(name, [])
            total = sum(n for n, _ in groups)
            components, per_trait = [], {t: [] for t in background}
            for n, values in groups:
                log_p = {t: np.log(self._within(values, t, v, background[t], camera)) for t, v in observed.items()
                         if t in background}  # fmt: skip
                components.append(np.log(n / total) + sum(log_p.values()))
                for t in background:
                    per_trait[t].append((n / total) * np.exp(log_p[t]))
            unknown = sum(np.log(p) for p in background.values())
            if components:
                known = np.logaddexp.reduce(components)
                joint[index] = np.logaddexp(np.log1p(-epsilon) + known, np.log(epsilon) + unknown)
                for t in background:
                    marginals[t][index] = np.log((1 - epsilon) * sum(per_trait[t]) + epsilon * background[t])
            else:
                joint[index] = unknown
                for t in background:
                    marginals[t][index] = np.log(background[t])
            if kind == "original" and "table" in observed:
                joint[index] += np.log(camera)
                marginals["table"][index] = np.log(camera)
        if "size" in use and width is not None and height is not None and self.size_limits:
            marginals["size"] = self._size(width, height, smoothing)
            joint = joint + marginals["size"]
        return joint, marginals

    def _model(self) -> dict:
        """Behaviours (`{class: [(files, {trait: {value: files}})]}`) and background shares
        (`{"platform" | "original": {trait: {value: share}}}`), counted once per evidence."""
        cached = self.__dict__.get("_cached_model")
        if cached is not None:
            return cached
        behaviours: dict[tuple[str, tuple[str, ...]], dict[str, dict[str, int]]] = {}
        for (name, origin, trait, value), n in self.counts.items():
            values = behaviours.setdefault((name, origin), {}).setdefault(trait, {})
            values[value] = values.get(value, 0) + n
        groups: dict[str, list] = {}
        pooled: dict[str, dict[str, dict[str, float]]] = {"platform": {}, "original": {}}
        for (name, _), values in behaviours.items():
            n = max(sum(v.values()) for v in values.values())
            groups.setdefault(name, []).append((n, values))
            if name in self.assumed:
                continue
            kind = "original" if name == self.original else "platform"
            for trait, counts in values.items():
                target = pooled[kind].setdefault(trait, {})
                for value, count in counts.items():
                    target[value] = target.get(value, 0) + count
        model = {"groups": groups, "pooled": pooled}
        object.__setattr__(self, "_cached_model", model)
        return model

    @staticmethod
    def _background(model, kind, trait, value, camera) -> float:
        """An unknown behaviour's probability of a trait value (see `log_likelihood`)."""
        if trait == "table":
            return camera if value == SOURCE_TABLE else _background_table(value, ijg_share=PLATFORM_IJG_SHARE)
        counts = model["pooled"][kind].get(trait) or model["pooled"]["platform"].get(trait) or {}
        n_values = len(counts) + (value not in counts)
        total = sum(counts.values())
        if not total:
            return 1.0 / n_values
        return (1 - _FLOOR) * counts.get(value, 0) / total + _FLOOR / n_values

    @staticmethod
    def _within(values, trait, value, background, camera) -> float:
        """A behaviour's probability of a trait value: its files' share, smoothed by one file of the background;
        its `SOURCE_TABLE` files carry any table as an original would."""
        counts = values.get(trait, {})
        total = sum(counts.values())
        seen = counts.get(value, 0)
        if trait == "table" and value != SOURCE_TABLE:
            seen = seen + counts.get(SOURCE_TABLE, 0) * camera
        return (seen + background) / (total + 1)

    def _camera_table(self, value: str) -> float:
        """The originals' likelihood of a table: the seen cameras' share, plus the Good-Turing mass of unseen ones."""
        from .jpeg import estimate_quality

        models = sorted({m for ms in self.camera_tables.values() for m in ms})
        if not models or value in (SOURCE_TABLE, "none"):
            return _background_table(value, ijg_share=PLATFORM_IJG_SHARE)
        singletons = sum(len(ms) == 1 for ms in self.camera_tables.values())
        unseen = max(singletons, 1) / (len(models) + 1)
        ijg = sum(_is_ijg(key) for key in self.camera_tables) / len(self.camera_tables)
        seen = len(self.camera_tables.get(value, ())) / len(models)
        return (1 - unseen) * seen + unseen * _background_table(value, ijg_share=ijg)

    def _size(self, width: int, height: int, smoothing: Smoothing) -> np.ndarray:
        out = np.zeros(len(self.classes))
        for index, name in enumerate(self.classes):
            longest, widest = self.size_limits.get(name, (None, None))
            over = (longest is not None and max(width, height) > longest) or (widest is not None and width > widest)
            out[index] = np.log(smoothing.measured) if over else 0.0
        return out

    # -- JSON

    def to_record(self) -> dict:
        """JSON-ready."""
        return {
            "counts": [{"class": name, "sources": list(origin), "trait": trait, "value": value, "files": n}
                       for (name, origin, trait, value), n in self.counts.items()],
            "assumed": list(self.assumed), "original": self.original,
            "camera_tables": [{"table": key, "cameras": list(models)} for key, models in self.camera_tables.items()],
            "size_limits": {name: list(limit) for name, limit in self.size_limits.items()},
        }  # fmt: skip

    @classmethod
    def from_record(cls, classes: Sequence[str], record: Mapping) -> HeaderEvidence:
        """The inverse of `to_record`.

        Raises:
            ValueError: a count names a class not in `classes`.
        """
        classes = tuple(classes)
        counts = {}
        for entry in record["counts"]:
            if entry["class"] not in classes:
                raise ValueError(f"Expected classes among {classes}. Received {entry['class']!r}")
            counts[(entry["class"], tuple(entry["sources"]), entry["trait"], entry["value"])] = int(entry["files"])
        return cls(classes, counts, tuple(record.get("assumed", ())), record.get("original"),
                   {e["table"]: tuple(e["cameras"]) for e in record.get("camera_tables", ())},
                   {name: tuple(limit) for name, limit in record.get("size_limits", {}).items()})  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Smoothing:
    """How much a class's likelihoods trust its training files.

    Attributes:
        measured: the chance that a platform whose profile was measured writes a value its training files never
            carry (another client, a changed encoder), 0..1; calibrated on simulated held-out data
            (`identifier.calibrate`).
        assumed: the same for a class whose profile is assumed (Flickr, Google+): a weaker claim.
    """

    measured: float = 0.1
    assumed: float = 0.5

    def __post_init__(self):
        for name in ("measured", "assumed"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 < value <= 1:
                raise ValueError(f"Expected smoothing `{name}` in (0, 1]. Received: {value!r}")


def _background_table(value: str, *, ijg_share: float) -> float:
    """What an unknown writer's probability of a table is: `ijg_share` over the 100 IJG tables, the rest over
    `_OTHER_TABLES` others."""
    if value in (SOURCE_TABLE, "none"):
        return (1 - ijg_share) / _OTHER_TABLES
    return ijg_share / 100 if _is_ijg(value) else (1 - ijg_share) / _OTHER_TABLES


@functools.lru_cache(maxsize=4096)
def _is_ijg(value: str) -> bool:
    """Whether a table key is exactly an IJG table at some quality."""
    from .jpeg import estimate_quality

    return estimate_quality(np.array(value.split(","), dtype=np.int64).reshape(8, 8)).exact
