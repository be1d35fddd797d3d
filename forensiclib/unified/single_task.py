"""Single-task MISLnet training (paper 2, Sec. 5.1): the baseline every other experiment compares with."""

from __future__ import annotations

from pathlib import Path

from .. import training
from .common import (
    SingleTaskResult,
    UnifiedSettings,
    _cached_evaluation,
    _callbacks,
    _check_pair,
    _check_settings,
    _folder,
    _load_trained,
    _n_validation_units,
    _predict,
    _store_trained,
    _validation_split,
)
from .mislnet import compile_mislnet, mislnet
from .patches import PatchSet

__all__ = ["train_single_task"]

# --- single task (Sec. 5.1) --------------------------------------------------------------------


def train_single_task(
    train_set: PatchSet,
    test_set: PatchSet,
    settings: UnifiedSettings = UnifiedSettings(),
    *,
    cache_dir: str | Path | None = None,
    verbose: int | str = 0,
) -> SingleTaskResult:
    """Train MISLnet on one task and evaluate it on test patches (paper 2, Sec. 5.1); cached.

    SGD with momentum 0.9 at `settings.learning_rate`, halved every `settings.halving_every`
    epochs, `settings.batch_size` patches per step, for at most `settings.epochs` epochs: a share of the
    training images (`settings.validation_fraction`, `validation_split`) is held out, and training stops when
    their loss has not improved for `settings.patience` epochs, keeping the best epoch's weights
    (`result.status` says whether it stopped on that plateau or hit the cap). The network is cached under `<cache>/unified/<key>/model.keras`, the key hashing
    the training patches and labels, the training settings and `UNIFIED_VERSION`; the test
    predictions are cached next to it, per test set.

    Args:
        train_set: training patches (`patches_from_dataset`).
        test_set: test patches of the same classes.
        settings: see `UnifiedSettings`.
        cache_dir: folder for the results (default `<cache>/unified/`).
        verbose: Keras training verbosity (0, the default: no per-epoch log; the history is returned to plot).

    Returns:
        A `SingleTaskResult` (network, history, test evaluation).

    Example:
        >>> camera = train_single_task(b_train, b_test, UnifiedSettings(epochs=30))  # doctest: +SKIP
        >>> camera.accuracy, camera.evaluation.confusion()  # doctest: +SKIP
    """
    _check_settings(settings)
    _check_pair(train_set, test_set, settings.patch_size)
    folder = _folder(cache_dir, "single", train_set.digest(), settings._training())
    loaded = _load_trained(folder)
    if loaded is not None:
        model, meta = loaded
        history, from_cache = meta["history"], True
    else:
        n_classes, size = len(train_set.classes), settings.patch_size
        fit, validation = _validation_split(settings, train_set)
        result = training.train(
            lambda: compile_mislnet(mislnet(n_classes, input_size=size), learning_rate=settings.learning_rate),
            fit.x, fit.y, validation_data=(validation.x, validation.y), epochs=settings.epochs,
            batch_size=settings.batch_size, callbacks=_callbacks(settings), seed=settings.seed, verbose=verbose,
            backup_dir=training.checkpoint_dir(folder),
        )  # fmt: skip
        model, history, from_cache = result.model, result.history, False
        _store_trained(folder, model, {"history": history, "classes": list(train_set.classes)})
    status = settings.status(history, n_classes=len(train_set.classes),
                             n_validation=_n_validation_units(settings, train_set))  # fmt: skip
    evaluation = _cached_evaluation(
        folder / f"test-{test_set.digest()[:24]}.npz", train_set.classes,
        lambda: (test_set.y, _predict(model, test_set.x)), units=test_set.units, status=status,
    )  # fmt: skip
    return SingleTaskResult(train_set.classes, model, folder / "model.keras", history, evaluation, from_cache, status)
