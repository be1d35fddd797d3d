"""What a notebook calls first: seeds, output folder, and a record of what the notebook produced.

    session = start_session("03_patch_level_3_classes", profile=profile, seed=seed)
    session.record_data(simulated=True, description="UCID-social-like set, 16 sources")
    session.save_figure(fig, "quantization_table", title="The file's quantization table")
    session.save_confusion(matrix, classes, "table_I", published=paper_matrix, title="Table I: UCID social, patch level")
    session.compare("Sec. 5.1: single task", [("manipulation", accuracy_estimate(y, pred), 0.996)])
    session.save_claims([("The controlled set is the easiest", verdict(paired_difference(...)), "92.5% vs 72.7%")])

Everything saved goes to `results/<profile>/<notebook>/`, each file written to a temporary name and renamed;
`start_session` empties that folder first, so it holds this run's outputs only. Besides the files, the session keeps `session.json` up to date: the
data the notebook ran on, each figure and table in the order saved, every number compared with the
paper's (with its interval and test size when given as a `stats.Estimate`; "no interval" otherwise), each
claim with its verdict and the evidence that decided it (a `stats.Verdict`), how each network's training ended
(`record_training`), and the `forensiclib` modules the kernel had loaded (what the
runner's incremental re-runs depend on). `forensiclib.runner.report` builds the reviewer's report from it.

The notebook runner (`forensiclib.runner.reproduce`) also exports the seed and determinism settings to the
kernel's environment before the kernel starts; `start_session` applies them inside the kernel, so a
notebook stepped through by hand in JupyterLab gets the same numbers as one run by `make reproduce`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..cache import write_atomic, write_text_atomic
from ..paths import results_dir
from ..seeding import seed_everything

__all__ = ["Session", "start_session", "seed_everything", "SESSION_FILE", "claims_markdown", "comparison_record",
           "claim_record"]

#: The record each notebook keeps in its output folder.
SESSION_FILE = "session.json"

#: What a comparison record holds about its number's uncertainty (None when the notebook gave a plain number).
INTERVAL_FIELDS = ("low", "high", "confidence", "method", "n", "n_label", "n_units", "units_label", "n_seeds")
_CLAIM_LABELS = {"held": "HELD", "not held": "NOT HELD", "inconclusive": "INCONCLUSIVE",
                 "not meaningful at this size": "NOT MEANINGFUL AT THIS SIZE", "not tested": "NOT TESTED"}


def _number(value) -> float | None:
    """A finite float, or None for None/NaN (JSON has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _rounded(value) -> float | None:
    value = _number(value)
    return None if value is None else round(value, 4)


def comparison_record(table: str, what, ours, paper, *, scale: float = 1.0) -> dict:
    """One number beside the paper's, as `session.json` keeps it.

    `ours` is a plain number (multiplied by `scale`; its interval fields are None: "no interval") or a
    `stats.Estimate` (in percent or points already; its interval and test sizes are kept). `paper` may be None.
    """
    from ..stats import Estimate

    paper = _number(paper)
    paper = None if paper is None else round(paper * scale, 4)
    if not isinstance(ours, Estimate):
        ours = _number(ours)
        return {"table": str(table), "item": str(what), "ours": None if ours is None else round(ours * scale, 4),
                "paper": paper, **dict.fromkeys(INTERVAL_FIELDS)}  # fmt: skip
    return {"table": str(table), "item": str(what), "ours": _rounded(ours.value), "paper": paper,
            "low": _rounded(ours.low), "high": _rounded(ours.high), "confidence": ours.confidence,
            "method": ours.method, "n": int(ours.n), "n_label": ours.n_label,
            "n_units": None if ours.n_units is None else int(ours.n_units),
            "units_label": None if ours.n_units is None else ours.units_label,
            "n_seeds": None if ours.n_seeds is None else int(ours.n_seeds)}  # fmt: skip


def claim_record(claim: str, verdict, detail: str = "") -> dict:
    """One claim as `session.json` keeps it: `verdict` a `stats.Verdict` (decided by its evidence), or, from a
    notebook that does not pass one yet, a bool (`"held"` / `"not held"` without evidence) or None (not tested)."""
    from ..stats import Verdict

    record = {"claim": str(claim), "detail": str(detail)}
    if isinstance(verdict, Verdict):
        return {**record, "verdict": verdict.verdict, "holds": verdict.holds, "evidence": verdict.reason,
                "estimate": None if verdict.estimate is None else verdict.estimate.to_dict()}  # fmt: skip
    if verdict is not None and not isinstance(verdict, (bool, np.bool_)):
        raise ValueError(f"Expected a stats.Verdict, a bool or None (not tested) for {claim!r}. "
                         f"Received: {verdict!r}")  # fmt: skip
    name = "not tested" if verdict is None else "held" if verdict else "not held"
    return {**record, "verdict": name, "holds": None if verdict is None else bool(verdict), "evidence": None,
            "estimate": None}  # fmt: skip


def claims_markdown(claims: Sequence[dict]) -> str:
    """The claims as a markdown list: `- HELD: claim (detail). Evidence: ...`; a verdict given without
    evidence reads `(no evidence)`."""
    lines = []
    for c in claims:
        name = c.get("verdict") or {True: "held", False: "not held"}.get(c.get("holds"), "not tested")
        label = _CLAIM_LABELS.get(name, name.upper())
        if not c.get("evidence") and name != "not tested":
            label += " (no evidence)"
        line = f"- {label}: {c['claim']}" + (f" ({c['detail']})" if c.get("detail") else "")
        lines.append(line + (f". Evidence: {c['evidence']}" if c.get("evidence") else ""))
    return "\n".join(lines)


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

    def save_confusion(self, matrix, class_names, name: str, *, published=None, title: str = "",
                       mean_diagonal=None, rates=None, mean_label: str = "mean of the diagonal") -> Path:  # fmt: skip
        """Save a percent confusion matrix as `<name>.csv` and `<name>.md` (with the paper's numbers if given).

        With `published`, the mean of the diagonal (ours and the paper's) is also recorded as a comparison
        under `title`, as is each class's true-positive rate. `mean_diagonal` and `rates` (from
        `stats.class_rate_estimates`) give those numbers their intervals and test sizes; given without
        `published`, they are recorded with no paper number. `mean_label` names the mean's record: say there when
        the paper's mean is *derived* (computed from its table) rather than stated in its text.
        """
        from ..evaluate import confusion_table
        from ..stats import Estimate

        matrix = np.asarray(matrix, dtype=float)
        diagonal = np.diag(matrix)
        if mean_diagonal is not None and not (isinstance(mean_diagonal, Estimate)
                                              and np.isclose(mean_diagonal.value, np.nanmean(diagonal), atol=0.01)):
            raise ValueError(f"Expected mean_diagonal an Estimate of the matrix's mean diagonal "
                             f"({np.nanmean(diagonal):.2f}). Received: {mean_diagonal}")  # fmt: skip
        if rates is not None:
            values = [r.value if isinstance(r, Estimate) else None for r in rates]
            if len(values) != len(class_names) or any(
                    v is None or not np.isclose(v, d, atol=0.01, equal_nan=True) for v, d in zip(values, diagonal)):
                raise ValueError(f"Expected rates: one Estimate per class ({len(class_names)}) of the matrix's "
                                 f"diagonal {np.round(diagonal, 2).tolist()}. Received: {values}")  # fmt: skip
        rows = [",".join(["true/predicted", *class_names])]
        rows += [",".join([c, *(f"{v:.2f}" for v in row)]) for c, row in zip(class_names, matrix)]
        write_text_atomic(self.output_dir / f"{name}.csv", "\n".join(rows) + "\n")
        title = title or name.replace("_", " ")
        if published is not None or mean_diagonal is not None or rates is not None:
            paper = np.diag(np.asarray(published, dtype=float)) if published is not None else [None] * len(diagonal)
            ours = [mean_diagonal or np.nanmean(diagonal), *(rates or diagonal)]
            items = [(mean_label, ours[0], None if published is None else np.mean(paper))]
            items += [(f"TPR {c}", ours[1 + i], paper[i]) for i, c in enumerate(class_names)]
            self.compare(title, items, unit="%")
        return self.save_text(confusion_table(matrix, class_names, published=published) + "\n", f"{name}.md", title=title)

    def save_text(self, text: str, name: str, *, title: str = "") -> Path:
        """Save a text/markdown/csv output as `<output_dir>/<name>`; returns the path."""
        path = write_text_atomic(self.output_dir / name, text)
        self._add("outputs", {"kind": "table" if name.endswith(".md") else "file", "file": name,
                              "title": title or Path(name).stem.replace("_", " ")})  # fmt: skip
        return path

    def save_table(self, columns: Sequence[str], rows: Sequence[Sequence], name: str, *, title: str = "",
                   digits: int = 1) -> str:
        """Save a table as `<name>.md` (`tables.markdown_table`: numbers, `stats.Estimate`s with their intervals,
        None as `-`); returns its markdown (for `display(Markdown(...))`)."""
        from ..tables import markdown_table

        text = markdown_table(columns, rows, digits=digits)
        self.save_text(text + "\n", f"{name}.md", title=title)
        return text

    def compare(self, table: str, items: Sequence[tuple], *, unit: str = "fraction") -> None:
        """Record numbers beside the paper's: `items` are `(what, ours, paper)`; `paper` may be None.

        `ours` is a `stats.Estimate` (its interval and test sizes are recorded; it is in percent already) or a
        plain number, recorded with "no interval". `unit` is that of the plain numbers and of `paper`:
        `"fraction"` (0..1, shown in percent) or `"%"`; the report lists every comparison with its difference in
        percentage points.
        """
        if unit not in ("fraction", "%"):
            raise ValueError(f"Expected unit 'fraction' or '%'. Received: {unit!r}")
        scale = 100.0 if unit == "fraction" else 1.0
        for what, ours, paper in items:
            self._add("comparisons", comparison_record(table, what, ours, paper, scale=scale))

    def record_training(self, network: str, status) -> None:
        """Record how one network's training ended (a `training.TrainingStatus`): on a plateau of its validation
        loss or at its epoch cap, and whether it learned at all (`learned`: False when its validation accuracy never
        left its chance interval, None when not known). The report lists every network of the run this way."""
        from ..training import TrainingStatus

        if not isinstance(status, TrainingStatus):
            raise ValueError(f"Expected status a training.TrainingStatus for {network!r}. Received: {status!r}")
        self._add("training", {"network": str(network), "epochs_run": int(status.epochs_run),
                               "max_epochs": int(status.max_epochs),
                               "best_epoch": None if status.best_epoch is None else int(status.best_epoch),
                               "plateaued": bool(status.plateaued), "learned": status.learned,
                               **({"fixed": True} if status.fixed else {})})  # fmt: skip

    def save_claims(self, claims: Sequence[tuple]) -> str:
        """Record the paper's claims checked on this run: `(claim, verdict, detail)`.

        `verdict` is a `stats.Verdict` (held, not held, inconclusive or not meaningful at this size, with the
        evidence line that decided it); a bool or None is still accepted and recorded as a verdict without
        evidence. Writes `claims.md` and returns its markdown (for `display(Markdown(...))`).
        """
        entries = [claim_record(claim, verdict, detail) for claim, verdict, detail in claims]
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
