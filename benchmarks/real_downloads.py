"""How the platform identifier does on real files: downloads from social networks and camera originals.

Paper 1 (Amerini et al. 2017, Sec. IV) tells apart images downloaded from seven platforms and camera originals. The
identifier that notebook 05 trains (`forensiclib.provenance.identifier`) learns from simulated platforms and cameras; this
benchmark runs it on real files, laid out as

    DIR/social/<platform>/...   downloads from one platform (facebook, instagram, twitter, whatsapp, telegram, ...)
    DIR/cameras/<model>/...     camera originals, one folder per camera model (class "original")

and prints, per class present, how many files the identifier put in the right class (majority vote of the
patches, Sec. III-B, among the classes whose training files carried the file's quantization table; with
`--histograms-only` among all classes, the paper's vote), what it took the others for, and the balanced accuracy
(mean of the per-class accuracies).
A file it cannot read counts as wrong and is listed. The files are only read: nothing is trained on them.

Run: `.venv/bin/python benchmarks/real_downloads.py --data DIR [--model FOLDER] [--files] [--histograms-only]`.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import sys
from pathlib import Path

#: The folder of camera originals and the class its files belong to.
CAMERAS_FOLDER, ORIGINAL_CLASS = "cameras", "original"
SOCIAL_FOLDER = "social"


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


def evaluate(files: dict[str, list[Path]], identifier, *,
             use_tables: bool = True) -> tuple[dict[str, ClassResult], list]:  # fmt: skip
    """Identify every file; per class, the right answers and what the wrong ones were taken for.

    `use_tables=False`: the paper's vote among all classes, ignoring the quantization tables the identifier keeps.

    Returns:
        `({class: ClassResult}, [Identification, ...])` in the order of `files`.
    """
    from forensiclib.provenance.identifier import identify

    results, answers = {}, []
    for name, paths in files.items():
        result = results[name] = ClassResult(name)
        for answer in identify(paths, identifier, use_tables=use_tables):
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


def report(results: dict[str, ClassResult], estimate=None) -> str:
    """Per-class accuracy with file counts, the classes the wrong answers went to and how many files carried a
    quantization table seen in training, then balanced accuracy (with its interval when `estimate` is given, a
    `balanced_estimate`)."""
    lines = ["| class | files | right | accuracy | taken for | table seen in training |", "|---|---|---|---|---|---|"]
    for result in results.values():
        wrong = ", ".join(f"{label} {count}" for label, count in result.predicted.most_common() if label != result.name)
        lines.append(f"| {result.name} | {result.n_files} | {result.n_correct} | {100 * result.accuracy:.0f}% | "
                     f"{wrong or '-'} | {result.n_table_seen} |")  # fmt: skip
    n_files = sum(result.n_files for result in results.values())
    n_correct = sum(result.n_correct for result in results.values())
    lines.append("")
    interval = "" if estimate is None else f" [{estimate.low:.1f}, {estimate.high:.1f}] (95%, files resampled)"
    lines.append(f"balanced accuracy over {len(results)} classes: {100 * balanced_accuracy(results):.1f}%{interval} "
                 f"(chance {100 / len(results):.1f}%); {n_correct} of {n_files} files right")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder with social/<platform>/ and cameras/<model>/")
    parser.add_argument("--model", help="identifier folder (default: the one notebook 05 kept under results/)")
    parser.add_argument("--files", action="store_true", help="also print each file's answer")
    parser.add_argument("--histograms-only", action="store_true",
                        help="ignore the quantization tables the identifier keeps: the paper's vote among all classes")
    args = parser.parse_args(argv)

    from forensiclib.provenance.identifier import find_identifier, load_identifier

    try:
        files = list_real_files(args.data)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    folder = args.model or find_identifier()
    if folder is None:
        parser.error("Expected a trained identifier. Received: none under results/<profile>/05_eight_classes/"
                     "identifier/ (run notebook 05 first: python -m forensiclib reproduce 05_eight_classes, or pass "
                     "--model FOLDER)")  # fmt: skip
    try:
        identifier = load_identifier(folder)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    unknown = sorted(set(files) - set(identifier.classes))
    print(identifier.describe())
    if unknown:
        print(f"note: classes the identifier does not know (always wrong): {', '.join(unknown)}")
    results, answers = evaluate(files, identifier, use_tables=not args.histograms_only)
    if args.files:
        for name, answer in answers:
            print(f"[{name}] {answer.describe()}")
    unreadable = [(name, answer) for name, answer in answers if answer.error is not None]
    for name, answer in unreadable:
        print(f"unreadable [{name}]: {answer.path}: {answer.error}")
    print(report(results, balanced_estimate(answers, results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
