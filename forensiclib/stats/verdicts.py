"""Verdicts on the papers' claims: held, not held, inconclusive, or not meaningful at this size; combined over the
points of a claim made at several (`every_claim`). Over seeds a claim is decided on the pooled evidence
(`stats.pooled`: `pooled_verdict`, `over_seeds`); `seed_verdict` (agreement of the seeds' own verdicts) is kept for
reading, not for deciding."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np

from .estimates import Estimate

__all__ = ["VERDICTS", "Verdict", "SeedSummary", "verdict", "across_seeds", "seed_verdict", "every_claim"]

#: The verdicts a claim can receive on evidence.
VERDICTS = ("held", "not held", "inconclusive", "not meaningful at this size")
_RELATIONS = {">": "above", ">=": "above", "<": "below", "<=": "below"}


@dataclasses.dataclass(frozen=True)
class Verdict:
    """A claim's verdict on this run and the evidence that decided it.

    Attributes:
        verdict: one of `VERDICTS`.
        reason: one line a reader understands: the number, its interval, and what it was compared with.
        estimate: the difference (or the number) the claim is about; None for a verdict combined over seeds.
        relation: `">"`, `">="`, `"<"` or `"<="`; None for a verdict combined over seeds.
        boundary: the value the interval had to exclude.
    """

    verdict: str
    reason: str
    estimate: Estimate | None = None
    relation: str | None = None
    boundary: float | None = None

    @property
    def holds(self) -> bool | None:
        """True when held, False when not held, None otherwise."""
        return {"held": True, "not held": False}.get(self.verdict)

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return {"verdict": self.verdict, "reason": self.reason, "relation": self.relation, "boundary": self.boundary,
                "estimate": None if self.estimate is None else self.estimate.to_dict()}  # fmt: skip

    def __str__(self) -> str:
        return f"{self.verdict}: {self.reason}"


@dataclasses.dataclass(frozen=True)
class SeedSummary:
    """A number over several seeds: mean, standard deviation (None for one seed), smallest and largest."""

    mean: float
    sd: float | None
    min: float
    max: float
    n_seeds: int
    values: tuple[float, ...]
    unit: str = "%"

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return {**dataclasses.asdict(self), "values": list(self.values)}

    def __str__(self) -> str:
        unit = "%" if self.unit == "%" else " points"
        spread = f" ± {self.sd:.1f} sd" if self.sd is not None else ""
        return f"{self.mean:.1f}{unit}{spread} over {self.n_seeds} seeds (min {self.min:.1f}, max {self.max:.1f})"


# ----------------------------------------------------------------------------------------------- verdicts


def _fmt(value: float) -> str:
    return f"{value:g}" if value == round(value, 1) else f"{value:.1f}"


def verdict(estimate: Estimate, relation: str = ">", *, threshold: float = 0.0, margin: float = 0.0,
            compared: Mapping[str, Estimate] | None = None,
            chance: float | Mapping[str, float] | None = None) -> Verdict:  # fmt: skip
    """Decide a claim from the interval of the number it is about.

    A claim "A > B" passes the paired difference A - B with `relation=">"`; "A is at least as accurate as B"
    passes it with `relation=">="` and a `margin` in points (non-inferiority: A may be up to `margin` worse);
    "A > 95%" passes A's own estimate with `threshold=95`. The claim is *held* when the interval lies beyond the
    boundary (`threshold`, less `margin` for `">="`, plus `margin` for `"<="`) on the claimed side, *not held*
    when it lies beyond it on the other side, and *inconclusive* when it contains the boundary. Before any of
    that, when a number being compared reaches down to its chance level within its interval, the comparison is
    *not meaningful at this size* (as when one has no interval, e.g. a class without test items). A mean over
    seeds (`stats.pooled_difference`) of a single seed is inconclusive: one training run cannot decide. With
    `relation=">="` and no margin, a difference of exactly 0 on every resample (both methods right on every
    item) is inconclusive: the data cannot show that A is not slightly worse; state a margin.

    Args:
        estimate: the difference (points) or number (percent) the claim is about.
        relation: `">"`, `">="`, `"<"` or `"<="`.
        threshold: the value compared against (0 for a difference).
        margin: points of tolerance for `">="` and `"<="`.
        compared: the numbers the claim compares, by name, to check against chance.
        chance: their chance level in percent (see `chance_level`), one for all or one per name.

    Returns:
        A `Verdict`.

    Example:
        >>> gain = Estimate(8.3, 2.1, 14.0, n=36, unit="points")
        >>> verdict(gain, ">").verdict
        'held'
    """
    if not isinstance(estimate, Estimate):
        raise ValueError(f"Expected estimate an Estimate. Received: {type(estimate).__name__}")
    if relation not in _RELATIONS:
        raise ValueError(f"Expected relation one of {', '.join(_RELATIONS)}. Received: {relation!r}")
    for name, value in (("threshold", threshold), ("margin", margin)):
        if not isinstance(value, (int, float, np.number)) or isinstance(value, bool) or not math.isfinite(value):
            raise ValueError(f"Expected {name} a finite number. Received: {value!r}")
    if margin < 0 or (margin and relation in (">", "<")):
        raise ValueError(f"Expected margin a non-negative number, and only with '>=' or '<='. "
                         f"Received: margin={margin!r} with {relation!r}")  # fmt: skip
    compared = dict(compared or {})
    if bool(compared) != (chance is not None):
        raise ValueError("Expected compared and chance together (the numbers to check and their chance level). "
                         f"Received: compared={sorted(compared)}, chance={chance!r}")  # fmt: skip
    levels = chance if isinstance(chance, Mapping) else {name: chance for name in compared}
    if set(levels) != set(compared):
        raise ValueError(f"Expected a chance level for each compared number {sorted(compared)}. Received: {sorted(levels)}")
    for name, number in compared.items():
        if not isinstance(number, Estimate):
            raise ValueError(f"Expected compared[{name!r}] an Estimate. Received: {type(number).__name__}")

    boundary = float(threshold - margin if relation == ">=" else threshold + margin if relation == "<=" else threshold)
    kwargs = {"estimate": estimate, "relation": relation, "boundary": boundary}
    near_chance = [f"{name} {number} has no interval" if not number.has_interval else
                   f"{name} {number} reaches chance ({_fmt(levels[name])}%)" for name, number in compared.items()
                   if not number.has_interval or number.low <= levels[name]]  # fmt: skip
    if near_chance:
        return Verdict("not meaningful at this size", "; ".join(near_chance), **kwargs)
    what = "difference" if estimate.unit == "points" else "value"
    tolerance = f" (a {_fmt(margin)}-point margin)" if margin else ""
    if estimate.n_seeds == 1:
        return Verdict("inconclusive", f"{what} {estimate}: one training run; the seeds' variance is unknown, so "
                       "it cannot decide", **kwargs)  # fmt: skip
    if not estimate.has_interval:
        return Verdict("inconclusive", f"{what} {estimate} has no interval", **kwargs)
    claimed_above = _RELATIONS[relation] == "above"
    above, below = estimate.low > boundary, estimate.high < boundary
    level = f"{estimate.confidence:.0%} interval"
    if above or below:
        side = "above" if above else "below"
        decided = "held" if above == claimed_above else "not held"
        return Verdict(decided, f"{what} {estimate}: the {level} lies {side} {_fmt(boundary)}{tolerance}", **kwargs)
    return Verdict("inconclusive", f"{what} {estimate}: the {level} contains {_fmt(boundary)}{tolerance}", **kwargs)


def across_seeds(values: Sequence[Estimate | float]) -> SeedSummary:
    """Mean, standard deviation, smallest and largest of one number over seeds.

    Args:
        values: the number at each seed, as `Estimate`s (their values are used) or plain numbers.

    Example:
        >>> str(across_seeds([70.0, 72.0, 74.0]))
        '72.0% ± 2.0 sd over 3 seeds (min 70.0, max 74.0)'
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"Expected a non-empty sequence of numbers or Estimates, one per seed. Received: {values!r}")
    units = {v.unit for v in values if isinstance(v, Estimate)}
    if len(units) > 1:
        raise ValueError(f"Expected Estimates in one unit. Received: {sorted(units)}")
    numbers = []
    for v in values:
        number = v.value if isinstance(v, Estimate) else v
        if not isinstance(number, (int, float, np.number)) or isinstance(number, bool) or not math.isfinite(number):
            raise ValueError(f"Expected a finite number or Estimate for each seed. Received: {v!r}")
        numbers.append(float(number))
    array = np.array(numbers)
    sd = float(array.std(ddof=1)) if len(array) > 1 else None
    return SeedSummary(float(array.mean()), sd, float(array.min()), float(array.max()), len(array), tuple(numbers),
                       unit=units.pop() if units else "%")  # fmt: skip


def seed_verdict(verdicts: Sequence[Verdict | str], *, seeds: Sequence[int] | None = None) -> Verdict:
    """One verdict from a claim's verdicts at several seeds: theirs when all agree, else *inconclusive*.

    A claim that holds at one seed and not (or not decidedly) at another is not decided by this run.

    Args:
        verdicts: the verdict at each seed (`Verdict`s or their strings).
        seeds: the seeds, for the reason (default: 0, 1, ...).

    Example:
        >>> seed_verdict(["held", "held", "inconclusive"]).verdict
        'inconclusive'
    """
    if isinstance(verdicts, (str, bytes)) or not isinstance(verdicts, Sequence) or not verdicts:
        raise ValueError(f"Expected a non-empty sequence of verdicts, one per seed. Received: {verdicts!r}")
    names = [v.verdict if isinstance(v, Verdict) else v for v in verdicts]
    unknown = [v for v in names if v not in VERDICTS]
    if unknown:
        raise ValueError(f"Expected verdicts among {', '.join(VERDICTS)}. Received: {unknown!r}")
    seeds = list(range(len(names))) if seeds is None else list(seeds)
    if len(seeds) != len(names):
        raise ValueError(f"Expected one seed per verdict ({len(names)}). Received: {len(seeds)}")
    if len(set(names)) == 1:
        return Verdict(names[0], f"{names[0]} at each of {len(names)} seeds ({', '.join(map(str, seeds))})")
    listed = ", ".join(f"{v} at seed {s}" for s, v in zip(seeds, names))
    return Verdict("inconclusive", f"differs between seeds ({listed}): not decided by this run")


def every_claim(verdicts: Mapping[str, Verdict]) -> Verdict:
    """One verdict for a claim made at several points (e.g. "at every share depth"): not held if it is not held
    at some point; held if held at all; not meaningful at this size if some point is and none is not held;
    otherwise inconclusive."""
    names = {point: v.verdict for point, v in verdicts.items()}
    listed = "; ".join(f"{point}: {verdict}" for point, verdict in verdicts.items())
    if "not held" in names.values():
        result = "not held"
    elif all(name == "held" for name in names.values()):
        result = "held"
    elif "not meaningful at this size" in names.values():
        result = "not meaningful at this size"
    else:
        result = "inconclusive"
    return Verdict(result, listed)
