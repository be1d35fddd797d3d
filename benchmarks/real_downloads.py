"""How the platform identifier does on real files: downloads from social networks and camera originals.

Paper 1 (Amerini et al. 2017, Sec. IV) tells apart images downloaded from seven platforms and camera originals. The
identifier that notebook 05 trains (`forensiclib.provenance.identifier`) learns from simulated platforms and cameras; this
benchmark runs it on real files, laid out as

    DIR/social/<platform>/...   downloads from one platform (facebook, instagram, twitter, whatsapp, telegram, ...)
    DIR/cameras/<model>/...     camera originals, one folder per camera model (class "original")

and prints, per class present, how many files the identifier put in the right class (its answer: the patch vote and
the header's evidence combined, for a version-3 identifier; `--method restricted`: the majority vote of the patches,
Sec. III-B, among the classes whose training files carried the file's quantization table; `--histograms-only`: the
paper's vote among all classes), what it took the others for, and the balanced accuracy (mean of the per-class
accuracies) with a 95% interval; then accuracy against coverage: how many files it answers at or above each
confidence, and how many of those it gets right.
A file it cannot read counts as wrong and is listed. The files are only read: nothing is trained on them.

`--held-out` is the honest estimate on files from a source the identifier has never seen. The simulators were
calibrated on these very files (platform tables and qualities, camera tables), so the plain figure is in-sample.
With `--held-out`, `DIR/MANIFEST.tsv` groups the files by source (one account's repository for a platform, one camera
model for the originals) and each file is answered without the facts measured on its own source: the header
evidence of its class that came from that source alone is left out (`HeaderEvidence.without`). The network itself
is not retrained per source (too expensive here): it learned from simulators calibrated with every source, which
this estimate does not undo. The interval then resamples whole sources, not files.

Run: `.venv/bin/python benchmarks/real_downloads.py --data DIR [--held-out] [--model FOLDER] [--files]
[--histograms-only | --method soft|restricted|histograms] [--json]`.
"""

from __future__ import annotations

import argparse
import collections
import csv
import dataclasses
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up log off (forensiclib._tf_log)

import numpy as np  # noqa: E402

#: The folder of camera originals and the class its files belong to.
CAMERAS_FOLDER, ORIGINAL_CLASS = "cameras", "original"
SOCIAL_FOLDER = "social"
MANIFEST = "MANIFEST.tsv"
#: Confidences at which `coverage` reports how many files are answered and how many of those are right.
COVERAGE_LEVELS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
HELD_OUT_NOTE = ("held out: each file answered without the header facts measured on its own source (MANIFEST.tsv: one "
                 "account's repository, or one camera model); the network is not retrained per source: it learned from "
                 "simulators calibrated with every source")


@dataclasses.dataclass
class ClassResult:
    """One class's files and the identifier's answers on them."""

    name: str
    n_files: int = 0
    n_correct: int = 0
    n_unreadable: int = 0
    n_table_seen: int = 0
    predicted: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    @property
    def accuracy(self) -> float:
        return self.n_correct / self.n_files if self.n_files else float("nan")


def list_real_files(data: str | Path) -> dict[str, list[Path]]:
    """The files of a real-data folder by class: `{platform: [...], ..., "original": [...]}`, classes sorted.

    Raises:
        FileNotFoundError: `data` does not exist.
        ValueError: it is not a folder, or holds no file under `social/<platform>/` or `cameras/<model>/`.
    """
    data = Path(data)
    if not data.exists():
        raise FileNotFoundError(
            f"Expected a folder laid out as social/<platform>/ and cameras/<model>/. Received: {data} (no such folder)"
        )
    if not data.is_dir():
        raise ValueError(f"Expected a folder laid out as social/<platform>/ and cameras/<model>/. Received: {data} "
                         "(a file)")  # fmt: skip
    files: dict[str, list[Path]] = {}
    social = data / SOCIAL_FOLDER
    for folder in sorted(social.iterdir()) if social.is_dir() else []:
        if folder.is_dir() and not folder.name.startswith("."):
            files[folder.name] = _files_in(folder)
    cameras = data / CAMERAS_FOLDER
    for folder in sorted(cameras.iterdir()) if cameras.is_dir() else []:
        if folder.is_dir() and not folder.name.startswith("."):
            files.setdefault(ORIGINAL_CLASS, []).extend(_files_in(folder))
    files = {name: paths for name, paths in files.items() if paths}
    if not files:
        raise ValueError(f"Expected files under {data}/social/<platform>/ or {data}/cameras/<model>/. Received: "
                         f"{data} holding none there")  # fmt: skip
    return files


def _files_in(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file() and not path.name.startswith("."))


def read_sources(data: str | Path, files: dict[str, list[Path]]) -> dict[Path, str]:
    """The source of each listed file from `DIR/MANIFEST.tsv`: the repository for a platform's download, the camera
    model (its folder) for an original.

    Raises:
        FileNotFoundError: no `MANIFEST.tsv` in `data`.
        ValueError: it lacks the columns `local_path` and `repo`, or a listed file is not in it.
    """
    data = Path(data)
    manifest = data / MANIFEST
    if not manifest.is_file():
        raise FileNotFoundError(f"Expected {manifest} (columns local_path, repo) to hold out one source at a time. "
                                "Received: no such file")  # fmt: skip
    with open(manifest, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    if rows and not {"local_path", "repo"} <= set(rows[0]):
        raise ValueError(f"Expected columns local_path and repo in {manifest}. Received: {sorted(rows[0])}")
    repos = {(data / row["local_path"]).resolve(): row["repo"] for row in rows}
    sources = {}
    for name, paths in files.items():
        for path in paths:
            if path.resolve() not in repos:
                raise ValueError(f"Expected every file in {manifest}. Received: {path} (not listed)")
            sources[path] = path.relative_to(data).parts[1] if name == ORIGINAL_CLASS else repos[path.resolve()]
    return sources


def evaluate(files: dict[str, list[Path]], identifier, *, use_tables: bool = True, method: str | None = None,
             sources: dict[Path, str] | None = None, observations=None,
             combination=None) -> tuple[dict[str, ClassResult], list]:  # fmt: skip
    """Identify every file; per class, the right answers and what the wrong ones were taken for.

    Args:
        files: `{class: [path, ...]}` (`list_real_files`).
        identifier: from `load_identifier`.
        use_tables: False: the paper's vote among all classes, ignoring what the identifier keeps of the headers.
        method: one of `identifier.METHODS` (default: the identifier's own).
        sources: `{path: source}` (`read_sources`): hold each file's source out (its class's header facts that came
            from that source alone are not used); needs a version-3 identifier. None: in-sample.
        observations: `{path: Observation}` already made (`identifier.observe`), so that several evaluations share
            the network's work; missing files are observed here.
        combination: replaces the identifier's calibrated weights (`combination.Combination`), or None.

    Returns:
        `({class: ClassResult}, [(class, Identification), ...])` in the order of `files`.

    Raises:
        ValueError: `sources` with an identifier that keeps no header evidence.
    """
    from forensiclib.provenance.identifier import decide, observe

    method = "histograms" if not use_tables else method
    evidence = identifier.header_evidence
    if sources is not None and evidence is None:
        raise ValueError(f"Expected a version-3 identifier (header evidence with its sources) to hold sources out. "
                         f"Received: {identifier.folder} (version {identifier.metadata.get('version')})")  # fmt: skip
    observations = dict(observations or {})
    missing = [path for paths in files.values() for path in paths if path not in observations]
    observations.update(zip(missing, observe(missing, identifier)))
    results, answers = {}, []
    for name, paths in files.items():
        result = results[name] = ClassResult(name)
        for path in paths:
            fold = None if sources is None else evidence.without(name, sources[path])
            extra = {} if combination is None else {"combination": combination}
            answer = decide(observations[path], identifier, method=method, header_evidence=fold, **extra)
            answers.append((name, answer))
            result.n_files += 1
            if answer.error is not None:
                result.n_unreadable += 1
                result.predicted["(unreadable)"] += 1
                continue
            result.predicted[answer.prediction] += 1
            result.n_correct += answer.prediction == name
            result.n_table_seen += bool(answer.table_writers)
    return results, answers


def class_estimates(answers: list, classes, sources: dict[Path, str] | None = None):
    """Balanced accuracy and each class's accuracy in percent with 95% percentile-bootstrap intervals
    (`stats.class_rate_estimates`). The balanced accuracy resamples whole sources when `sources` are given, else
    files; each class's accuracy resamples its files (a class with one source would otherwise get no interval at
    all), which is optimistic: files of one account are not independent.

    Returns:
        `(balanced Estimate, {class: Estimate})`.
    """
    from forensiclib import stats

    classes = list(classes)
    truth = [classes.index(name) for name, _ in answers]
    wrong = len(classes)
    predicted = [classes.index(a.prediction) if a.error is None and a.prediction in classes else wrong
                 for _, a in answers]  # fmt: skip
    groups = None if sources is None else [sources[Path(a.path)] + "|" + name for name, a in answers]
    mean, _ = stats.class_rate_estimates(truth, predicted, groups=groups, n_classes=len(classes) + 1,
                                         item_name="files", group_name="sources")  # fmt: skip
    _, rates = stats.class_rate_estimates(truth, predicted, n_classes=len(classes) + 1, item_name="files")
    present = sorted(set(truth))
    rates = {classes[k]: rates[k] for k in present}
    return mean, rates


def coverage(answers: list, levels=COVERAGE_LEVELS) -> list[dict]:
    """Accuracy against coverage: per confidence level, the files answered at or above it and the right ones.

    Returns:
        One `{"min_confidence", "answered", "files", "right", "accuracy", "balanced_accuracy"}` per level
        (`balanced_accuracy`: over the classes with an answered file; None when nothing is answered).
    """
    rows = []
    for level in levels:
        kept = [(name, a) for name, a in answers if a.error is None and (a.confidence or 0.0) >= level]
        right = sum(a.prediction == name for name, a in kept)
        by_class: dict[str, list[bool]] = {}
        for name, a in kept:
            by_class.setdefault(name, []).append(a.prediction == name)
        balanced = float(np.mean([np.mean(v) for v in by_class.values()])) if by_class else None
        rows.append({"min_confidence": level, "answered": len(kept), "files": len(answers), "right": right,
                     "accuracy": right / len(kept) if kept else None, "balanced_accuracy": balanced})  # fmt: skip
    return rows


def coverage_table(rows: list[dict]) -> str:
    """`coverage` as a markdown table."""
    lines = ["| confidence at least | files answered | right | accuracy | balanced accuracy |", "|---|---|---|---|---|"]
    for row in rows:
        accuracy = "-" if row["accuracy"] is None else f"{100 * row['accuracy']:.0f}%"
        balanced = "-" if row["balanced_accuracy"] is None else f"{100 * row['balanced_accuracy']:.0f}%"
        lines.append(f"| {100 * row['min_confidence']:.0f}% | {row['answered']} of {row['files']} | {row['right']} | "
                     f"{accuracy} | {balanced} |")  # fmt: skip
    return "\n".join(lines)


def balanced_accuracy(results: dict[str, ClassResult]) -> float:
    """The mean of the per-class accuracies over the classes that have files."""
    accuracies = [result.accuracy for result in results.values() if result.n_files]
    return sum(accuracies) / len(accuracies)


def balanced_estimate(answers: list, classes) -> object:
    """Balanced accuracy with a 95% percentile-bootstrap interval over the files (`stats.accuracy_estimate`).

    `answers` are `(true class, Identification)` pairs as `evaluate` returns them; an unreadable file, or an answer
    naming a class not in `classes`, counts as wrong. The files are resampled as if independent; files from one
    account or one source are not, so the interval is narrower than it should be.
    """
    from forensiclib import stats

    classes = list(classes)
    truth = [classes.index(name) for name, _ in answers]
    wrong = len(classes)  # an index no true label has
    predicted = [classes.index(a.prediction) if a.error is None and a.prediction in classes else wrong
                 for _, a in answers]  # fmt: skip
    return stats.accuracy_estimate(truth, predicted, metric="balanced", item_name="files")


def report(results: dict[str, ClassResult], estimate=None, rates=None, *, resampled: str = "files") -> str:
    """Per-class accuracy with file counts (and its interval when `rates`, `{class: Estimate}`, are given), the
    classes the wrong answers went to and how many files carried a quantization table seen in training, then
    balanced accuracy (with its interval when `estimate` is given: what `resampled` says was resampled)."""
    accuracy = "accuracy" if rates is None else "accuracy [95%, files resampled]"
    lines = [f"| class | files | right | {accuracy} | taken for | table seen in training |",
             "|---|---|---|---|---|---|"]
    for result in results.values():
        wrong = ", ".join(f"{label} {count}" for label, count in result.predicted.most_common() if label != result.name)
        rate = f"{100 * result.accuracy:.0f}%"
        if rates is not None and result.name in rates:
            rate += f" [{rates[result.name].low:.0f}, {rates[result.name].high:.0f}]"
        lines.append(f"| {result.name} | {result.n_files} | {result.n_correct} | {rate} | "
                     f"{wrong or '-'} | {result.n_table_seen} |")  # fmt: skip
    n_files = sum(result.n_files for result in results.values())
    n_correct = sum(result.n_correct for result in results.values())
    lines.append("")
    interval = "" if estimate is None else f" [{estimate.low:.1f}, {estimate.high:.1f}] (95%, {resampled} resampled)"
    lines.append(f"balanced accuracy over {len(results)} classes: {100 * balanced_accuracy(results):.1f}%{interval} "
                 f"(chance {100 / len(results):.1f}%); {n_correct} of {n_files} files right")  # fmt: skip
    return "\n".join(lines)


def summary(results: dict[str, ClassResult], answers: list, estimate, rates, *, identifier, held_out: bool,
            method: str) -> dict:  # fmt: skip
    """The evaluation as a JSON-ready dict with stable keys."""
    interval = lambda e: {"value": round(e.value, 2), "low": round(e.low, 2), "high": round(e.high, 2)}  # noqa: E731
    return {
        "identifier": str(identifier.folder), "method": method, "held_out": held_out,
        "note": HELD_OUT_NOTE if held_out else "in-sample: the simulators were calibrated on these files",
        "balanced_accuracy": interval(estimate), "resampled": "sources" if held_out else "files",
        "classes": {r.name: {"files": r.n_files, "right": r.n_correct, "accuracy": interval(rates[r.name]),
                             "taken_for": {k: v for k, v in r.predicted.items() if k != r.name}}
                    for r in results.values()},
        "coverage": coverage(answers),
        "files": [{"class": name, **answer.to_record()} for name, answer in answers],
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder with social/<platform>/ and cameras/<model>/")
    parser.add_argument("--model", help="identifier folder (default: the one notebook 05 kept under results/)")
    parser.add_argument("--files", action="store_true", help="also print each file's answer")
    parser.add_argument("--histograms-only", action="store_true",
                        help="ignore what the identifier keeps of the headers: the paper's vote among all classes")
    parser.add_argument("--method", choices=("soft", "restricted", "histograms"),
                        help="soft: patch vote and header evidence (version 3); restricted: the vote among the "
                        "table's writers (version 2); histograms: the paper's vote (default: the identifier's own)")
    parser.add_argument("--held-out", action="store_true",
                        help="answer each file without the facts measured on its own source (DIR/MANIFEST.tsv); "
                        "the honest estimate on sources never seen")
    parser.add_argument("--json", action="store_true", help="print the evaluation as JSON (for scripts)")
    args = parser.parse_args(argv)

    from forensiclib.provenance.identifier import find_identifier, load_identifier

    try:
        files = list_real_files(args.data)
        sources = read_sources(args.data, files) if args.held_out else None
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    folder = args.model or find_identifier()
    if folder is None:
        parser.error("Expected a trained identifier. Received: none under results/<profile>/05_eight_classes/"
                     "identifier/ (run notebook 05 first: python -m forensiclib reproduce 05_eight_classes, or pass "
                     "--model FOLDER)")  # fmt: skip
    try:
        identifier = load_identifier(folder)
        method = "histograms" if args.histograms_only else (args.method or identifier.method)
        results, answers = evaluate(files, identifier, method=method, sources=sources)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    known = [c for c in identifier.classes if c in results] + sorted(set(results) - set(identifier.classes))
    estimate, rates = class_estimates(answers, known, sources)
    if args.json:
        print(json.dumps(summary(results, answers, estimate, rates, identifier=identifier,
                                 held_out=args.held_out, method=method), indent=1))  # fmt: skip
        return 0
    unknown = sorted(set(files) - set(identifier.classes))
    print(identifier.describe())
    print(f"answers: {method}; " + (HELD_OUT_NOTE if args.held_out else
                                     "in-sample: the simulators were calibrated on these very files"))  # fmt: skip
    if unknown:
        print(f"note: classes the identifier does not know (always wrong): {', '.join(unknown)}")
    if args.files:
        for name, answer in answers:
            print(f"[{name}] {answer.describe()}")
    unreadable = [(name, answer) for name, answer in answers if answer.error is not None]
    for name, answer in unreadable:
        print(f"unreadable [{name}]: {answer.path}: {answer.error}")
    print(report(results, estimate, rates, resampled="sources" if args.held_out else "files"))
    print("\naccuracy against coverage (files answered at or above a confidence):")
    print(coverage_table(coverage(answers)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
