"""Paper 2's notebooks in one call each: the tasks' patches, their cached single-task networks, the share-depth
sweeps over seeds, and the flags of numbers from networks that hit their epoch cap (Mayer et al. 2018, Sec. 5).

    setup = paper2_setup(session, settings, manipulation_images=150, camera_images_per_device=6)
    setup.data["camera"]            # (train, test) PatchSets
    setup.single["camera"]          # its single-task network (trained once, then cached)
    sweep = share_depth_sweep(setup, seeds=[0, 1, 2], share_depths=SHARE_DEPTHS)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from ..seeding import check_seeds
from ..stats import every_claim  # combining verdicts lives in stats; the name stays importable from here
from .common import Evaluation, SingleTaskResult, UnifiedSettings
from .multitask import multitask_sweep
from .patches import PatchSet, paper2_patches
from .single_task import train_single_task
from .transfer import transfer_sweep

__all__ = ["Paper2Setup", "paper2_setup", "single_task_seeds", "ShareDepthSweep", "share_depth_sweep", "capped_mark",
           "seed_claim", "every_claim", "TARGETS", "TEST_UNITS", "single_task_accuracy", "short_of_target",
           "resting_on"]

#: The accuracy (%) a single-task network must be shown to reach before a claim of notebooks 08-11 may rest on it:
#: the suite's bar, well below the paper's own 99.6% (manipulation, 6 classes) and 97.5% (camera, 20 models).
TARGETS = {"manipulation": 90.0, "camera": 50.0}
#: What a single-task network's test interval resamples: the independent unit of each task's test set.
TEST_UNITS = {"manipulation": "source images", "camera": "images"}

#: Which network's features each target task is transferred from (Sec. 5.2).
_SOURCE = {"camera": "manipulation", "manipulation": "camera"}


@dataclasses.dataclass
class Paper2Setup:
    """What a paper-2 notebook starts from.

    Attributes:
        settings: the training settings (seed included).
        data: task -> `(train, test)` PatchSets (`"manipulation"`, `"camera"`, and `"camera_limited"` if asked).
        single: task -> its single-task network (`train_single_task`, cached), for the tasks in `trained`.
        description: the data in words (what `session.record_data` recorded).
        options: how the patches were made (to make the same patches for another seed).
    """

    settings: UnifiedSettings
    data: dict[str, tuple[PatchSet, PatchSet]]
    single: dict[str, SingleTaskResult]
    description: str
    options: dict


def paper2_setup(
    session,
    settings: UnifiedSettings,
    *,
    manipulation_images: int,
    blocks_per_image: int,
    camera_images_per_device: int,
    image_side: int,
    patches_per_image: int,
    limited_images_per_device: int | None = None,
    camera_test_patches_per_model: int = 0,
    dresden_dir: str = "",
    n_jobs: int = 1,
    patches_on_disk: bool = False,
    trained: Sequence[str] = ("manipulation", "camera"),
    verbose: int | str = 0,
) -> Paper2Setup:
    """Build (or load) the tasks' patches, record the data on the session, and train (or load) single-task networks.

    Args:
        session: the notebook's `Session` (`start_session`); the data are recorded on it.
        settings: training settings; `settings.seed` also seeds the data and splits.
        manipulation_images, blocks_per_image: task A (`paper2_patches("manipulation", ...)`).
        camera_images_per_device, image_side, patches_per_image: task B (20 models, 2 devices each).
        limited_images_per_device: task C (5 other models) when given.
        camera_test_patches_per_model: task B's test patches kept per model (0: all; paper: 1,500).
        dresden_dir: a real Dresden folder for task B ("" simulates it).
        n_jobs: processes for building the simulated data.
        patches_on_disk: stream the patches from `.npy` files (paper profile).
        trained: the tasks whose single-task network to train (or load from the cache).
        verbose: Keras training verbosity (0, the default: no per-epoch log; the history is returned to plot).

    Returns:
        A `Paper2Setup`.
    """
    options = dict(patch_size=settings.patch_size, random_state=settings.seed, n_jobs=n_jobs, on_disk=patches_on_disk)
    data = {"manipulation": paper2_patches("manipulation", size=manipulation_images, blocks_per_image=blocks_per_image,
                                           **options),
            "camera": paper2_patches("camera", size=camera_images_per_device, image_side=image_side,
                                     patches_per_image=patches_per_image, data_dir=dresden_dir,
                                     test_patches_per_class=camera_test_patches_per_model or None, **options)}  # fmt: skip
    if limited_images_per_device is not None:
        data["camera_limited"] = paper2_patches("camera_limited", size=limited_images_per_device,
                                                image_side=image_side, patches_per_image=patches_per_image, **options)  # fmt: skip
    parts = []
    for task, (train, test) in data.items():
        images = lambda p: len(set(p.units.tolist()))  # noqa: E731
        origin = "real Dresden folder" if task == "camera" and dresden_dir else "simulated"
        parts.append(f"{task} ({origin}): {len(train.classes)} classes, {len(train)} training patches from "
                     f"{images(train)} images, {len(test)} test patches from {images(test)} images, "
                     f"{settings.patch_size}x{settings.patch_size}")  # fmt: skip
    description = "; ".join(parts)
    session.record_data(simulated=not dresden_dir, description=description)
    single = {task: train_single_task(*data[task], settings, verbose=verbose) for task in trained}
    return Paper2Setup(settings, data, single, description,
                       dict(options, manipulation_images=manipulation_images, blocks_per_image=blocks_per_image,
                            camera_images_per_device=camera_images_per_device, image_side=image_side,
                            patches_per_image=patches_per_image, dresden_dir=dresden_dir,
                            camera_test_patches_per_model=camera_test_patches_per_model))  # fmt: skip


def single_task_seeds(
    setup: Paper2Setup,
    seeds: Sequence[int],
    *,
    tasks: Sequence[str] = ("manipulation", "camera"),
    verbose: int | str = 0,
) -> dict[int, dict[str, SingleTaskResult]]:
    """The single-task networks of `tasks` (Sec. 5.1) trained once per seed on the setup's data; cached.

    A seed sets the initialisation, the batch order and the validation split (`dataclasses.replace(settings,
    seed=s)`); the data's images and the train/test split stay those of the setup, so every seed is tested on the
    same patches and `stats.pooled_accuracy` can pool them. `share_depth_sweep` trains the same networks, so the two
    find each other's in the cache.

    Returns:
        seed -> task -> `SingleTaskResult`.
    """
    seeds = check_seeds(seeds)
    unknown = [t for t in tasks if t not in setup.data]
    if unknown:
        raise ValueError(f"Expected tasks among the setup's {sorted(setup.data)}. Received: {unknown}")
    return {seed: {task: train_single_task(*setup.data[task], dataclasses.replace(setup.settings, seed=seed),
                                           verbose=verbose) for task in tasks}
            for seed in seeds}  # fmt: skip


@dataclasses.dataclass
class ShareDepthSweep:
    """Fig. 3 at several seeds: per seed, the single-task networks, transfer and multitask evaluations.

    Attributes:
        seeds: the seeds run (each seeds initialisation, batch order, the validation split and patch sampling; the
            data's images and the train/test split stay those of the setup).
        single: seed -> task -> `SingleTaskResult`.
        transfer: seed -> target task -> share depth -> `Evaluation` (features from the other task's network).
        multitask: seed -> share depth -> task -> `Evaluation` (empty without multitask depths).
    """

    seeds: list[int]
    single: dict[int, dict[str, SingleTaskResult]]
    transfer: dict[int, dict[str, dict[str, Evaluation]]]
    multitask: dict[int, dict[str, dict[str, Evaluation]]]


def share_depth_sweep(
    setup: Paper2Setup,
    *,
    seeds: Sequence[int],
    share_depths: Sequence[str],
    multitask_depths: Sequence[str] = (),
    verbose: int | str = 0,
) -> ShareDepthSweep:
    """Transfer (both directions) at `share_depths` and multitask at `multitask_depths`, once per seed; cached.

    Each seed trains its own single-task source networks (`dataclasses.replace(settings, seed=s)`), so the
    spread over seeds includes that of the networks the features come from.
    """
    seeds = list(seeds)
    data = setup.data
    single = single_task_seeds(setup, seeds, tasks=tuple(_SOURCE), verbose=verbose)
    transfer, multitask = {}, {}
    for seed in seeds:
        settings = dataclasses.replace(setup.settings, seed=seed)
        transfer[seed] = {target: transfer_sweep(single[seed][source], *data[target], settings,
                                                 share_depths=share_depths, verbose=verbose)
                          for target, source in _SOURCE.items()}  # fmt: skip
        multitask[seed] = {} if not multitask_depths else multitask_sweep(
            {task: data[task][0] for task in ("manipulation", "camera")},
            {task: data[task][1] for task in ("manipulation", "camera")},
            settings, share_depths=multitask_depths, verbose=verbose)  # fmt: skip
    return ShareDepthSweep(seeds, single, transfer, multitask)


def single_task_accuracy(runs: Mapping[int, Mapping[str, SingleTaskResult]], task: str):
    """A task's single-task accuracy over seeds: the mean, with an interval over the seeds and the test units
    together (`stats.pooled_accuracy`); `runs` is seed -> task -> network, as `single_task_seeds` returns."""
    from .. import stats

    if not runs or any(task not in networks for networks in runs.values()):
        raise ValueError(f"Expected a {task!r} network at every seed. Received: "
                         f"{ {s: sorted(n) for s, n in runs.items()} }")  # fmt: skip
    evaluations = [networks[task].evaluation for networks in runs.values()]
    return stats.pooled_accuracy([e.labels for e in evaluations], [e.predictions for e in evaluations],
                                 units=evaluations[0].units, unit_name=TEST_UNITS.get(task, "sources"))


def short_of_target(runs: Mapping[int, Mapping[str, SingleTaskResult]],
                    targets: Mapping[str, float] = TARGETS) -> dict[str, str]:  # fmt: skip
    """The single-task networks not shown to reach their target, each with one line saying what it reached.

    A network is shown to reach its target when the low end of its accuracy's 95% interval over seeds and test units
    (`single_task_accuracy`) is at or above the target. One that did not learn at some seed falls short whatever
    its mean. `runs` is seed -> task -> network (`single_task_seeds`, `ShareDepthSweep.single`, or
    `{seed: setup.single}`); tasks without a target are not checked.

    Returns:
        task -> e.g. "camera network 45.0% [35.0, 55.0] over 3 seeds, not shown to reach the 50% target: an
        interval as wide would need a mean of 60.0%"; empty when every network reaches its target.
    """
    bad = {t: v for t, v in targets.items() if not 0 < float(v) <= 100}
    if bad:
        raise ValueError(f"Expected targets in (0, 100] percent. Received: {bad}")
    short = {}
    for task, target in targets.items():
        if not runs or task not in next(iter(runs.values())):
            continue
        estimate = single_task_accuracy(runs, task)
        failed = [s for s, networks in runs.items() if getattr(networks[task].status, "learned", None) is False]
        if estimate.low < target or failed:
            seeds = f"{len(runs)} seed{'s' if len(runs) > 1 else ''}"
            need = target + (estimate.value - estimate.low)  # the mean whose interval, as wide, would clear it
            reach = (f": an interval as wide would need a mean of {need:.1f}%" if need <= 100 else
                     ": no mean clears it with an interval as wide (more seeds or test units narrow it)")  # fmt: skip
            why = (f"did not learn at seed {', '.join(map(str, failed))}" if failed else
                   f"below the {target:g}% target" if estimate.high < target else
                   f"not shown to reach the {target:g}% target{reach}")  # fmt: skip
            short[task] = (f"{task} network {estimate.value:.1f}% [{estimate.low:.1f}, {estimate.high:.1f}] over "
                           f"{seeds}, {why}")  # fmt: skip
    return short


def resting_on(verdict, short: Mapping[str, str]):
    """A claim's verdict given the single-task networks it rests on: `verdict` itself when none falls short of its
    target (`short_of_target` empty), else "not meaningful at this size", naming them, with the claim's own
    evidence kept in the reason (what it would say, were its networks able to do their tasks)."""
    from .. import stats

    if not short:
        return verdict
    return stats.Verdict("not meaningful at this size",
                         f"rests on networks short of their targets ({'; '.join(short.values())}); its own evidence: "
                         f"{verdict.verdict} ({verdict.reason})", estimate=verdict.estimate,
                         relation=verdict.relation, boundary=verdict.boundary)  # fmt: skip


def capped_mark(*results) -> str:
    """`" (capped)"` when any of the networks behind a number hit its epoch cap instead of a plateau, else `""`.

    Accepts `Evaluation`s, `SingleTaskResult`s and `MultitaskNetwork`s (anything with a `status`).
    """
    for result in results:
        status = getattr(result, "status", None)
        if status is not None and not status.plateaued and not getattr(status, "fixed", False):
            return " (capped)"
    return ""


def seed_claim(pairs: dict[int, tuple[Evaluation, Evaluation]], relation: str = ">", *, margin: float = 0.0,
               names: tuple[str, str] = ("a", "b")):  # fmt: skip
    """A claim "a `relation` b" about two evaluations on the same test patches, decided on every seed's evidence
    pooled.

    The number decided is the mean over seeds of the paired difference a - b, with an interval over the seeds and
    the test images together (`stats.pooled_difference`: one resample of the images serves a and b). The compared
    numbers, pooled the same way (`stats.pooled_accuracy`), are checked against chance; a network behind a or b
    that did not learn (`TrainingStatus.learned`) makes the claim not meaningful at this size, named. With one seed
    the claim is inconclusive: one training run cannot decide it.

    Returns:
        `(verdict, per_seed)`: the pooled `stats.Verdict` and `{seed: Verdict}`, each seed's own verdict (shown,
        not used to decide).
    """
    from .. import stats

    if not pairs:
        raise ValueError("Expected the evaluations of at least one seed. Received: none")
    per_seed = {}
    for seed, (a, b) in pairs.items():
        per_seed[seed] = stats.verdict(a.difference(b), relation, margin=margin,
                                       compared={names[0]: a.estimate(), names[1]: b.estimate()},
                                       chance={names[0]: a.chance, names[1]: b.chance})  # fmt: skip
    failed = [f"{name} at seed {seed}: the network {e.status}" for seed, pair in pairs.items()
              for name, e in zip(names, pair) if getattr(e.status, "learned", None) is False]  # fmt: skip
    if failed:
        return stats.Verdict("not meaningful at this size", "; ".join(failed)), per_seed
    firsts, seconds = [p[0] for p in pairs.values()], [p[1] for p in pairs.values()]
    common = dict(units=[e.units for e in firsts], unit_name="sources")
    labels = [e.labels for e in firsts]
    difference = stats.pooled_difference(labels, [e.predictions for e in firsts], [e.predictions for e in seconds],
                                         **common)  # fmt: skip
    compared = {name: stats.pooled_accuracy(labels, [e.predictions for e in evals], **common)
                for name, evals in zip(names, (firsts, seconds))}  # fmt: skip
    decided = stats.verdict(difference, relation, margin=margin, compared=compared,
                            chance={names[0]: firsts[0].chance, names[1]: seconds[0].chance})  # fmt: skip
    alone = ", ".join(f"{v.verdict} at seed {s}" for s, v in per_seed.items())
    return stats.Verdict(decided.verdict, f"{decided.reason} (alone: {alone})", estimate=difference,
                         relation=decided.relation, boundary=decided.boundary), per_seed

