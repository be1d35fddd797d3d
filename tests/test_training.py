import keras
import numpy as np
import pytest
import tensorflow as tf

import forensiclib as fl
from forensiclib import training

from .helpers import snapshot


def test_halving_schedule():
    schedule = fl.halving_schedule(1e-3)
    rates = [schedule.schedule(epoch) for epoch in range(7)]
    np.testing.assert_allclose(rates, [1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 5e-4, 2.5e-4])
    with pytest.raises(ValueError, match="Expected a positive rate"):
        fl.halving_schedule(0)


def build():
    return fl.compile_mislnet(fl.mislnet(3, input_size=32), learning_rate=0.01)


@pytest.mark.slow
def test_same_seed_same_weights_and_a_strategy_argument():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 255, (48, 32, 32, 1)).astype("float32"), rng.integers(0, 3, 48)
    runs = [fl.train(build, x, y, epochs=2, batch_size=16, seed=3, verbose=0) for _ in range(2)]
    for a, b in zip(runs[0].model.weights, runs[1].model.weights):
        np.testing.assert_array_equal(snapshot(a), snapshot(b))
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    result = fl.train(build, x, y, epochs=1, batch_size=16, seed=3, strategy=strategy, verbose=0)
    assert result.model.distribute_strategy is strategy and result.epochs_run == 1


@pytest.mark.slow
def test_early_stopping_restores_the_best_weights():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 909)).astype("float32"), rng.integers(0, 2, 64)
    xv, yv = rng.normal(size=(32, 909)).astype("float32"), rng.integers(0, 2, 32)  # noise: val loss soon rises
    result = fl.train(lambda: fl.dct_cnn(2), x, y, validation_data=(xv, yv), epochs=30, batch_size=16,
                      callbacks=[fl.early_stopping(patience=2)], verbose=0)  # fmt: skip
    assert result.epochs_run < 30
    best = min(result.history["val_loss"])
    assert result.model.evaluate(xv, yv, verbose=0)[0] == pytest.approx(best, rel=1e-4)


@pytest.mark.slow
def test_train_feeds_fit_the_batches_fit_would_make_itself():
    """`train` hands `fit` Keras' own batches with autotuning off: same weights and history as `fit(x, y)`."""
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 255, (70, 32, 32, 1)).astype("float32"), rng.integers(0, 3, 70)  # a partial last batch
    validation = (x[:20], y[:20])
    training.seed_everything(5)
    tf.config.experimental.enable_op_determinism()
    model = build()
    reference = model.fit(x, y, validation_data=validation, epochs=3, batch_size=16, shuffle=True, verbose=0)
    result = fl.train(build, x, y, validation_data=validation, epochs=3, batch_size=16, seed=5, verbose=0,
                      batch_norm_batches=0)  # Keras's own statistics, as fit(x, y) keeps them
    for a, b in zip(model.weights, result.model.weights):
        np.testing.assert_array_equal(snapshot(a), snapshot(b))
    assert result.history == {k: [float(v) for v in vs] for k, vs in reference.history.items()}
    dataset = training.fit_dataset(x, y, batch_size=16, shuffle=True)
    assert dataset.options().autotune.enabled is False and int(dataset.cardinality()) == 5
    np.testing.assert_array_equal(training.predict(model, x, batch_size=16), model.predict(x, batch_size=16, verbose=0))


@pytest.mark.slow
def test_the_train_step_is_traced_once():
    """Optimizer slots and metric variables exist before `fit`, so no trace creates variables (which would make
    tf.function trace the step a second time)."""
    traces = []

    def counted_build():
        model = build()
        step = model.train_step
        model.train_step = lambda data: traces.append(1) or step(data)
        return model

    x, y = np.zeros((24, 32, 32, 1), "float32"), np.arange(24) % 3
    fl.train(counted_build, x, y, epochs=2, batch_size=16, seed=0, verbose=0)  # a full and a partial batch
    assert len(traces) == 1


def bn_statistics(model):
    return [snapshot(w) for w in model.weights if "moving" in w.path]


@pytest.mark.slow
def test_train_reestimates_batch_norm_statistics_and_changes_no_weight():
    """`PreciseBatchNorm` leaves every training step alone (the trainable weights are those of a run without it) and
    leaves the statistics `recalibrate_batch_norm` computes for the final weights; validation sees them."""
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 255, (96, 32, 32, 1)).astype("float32"), rng.integers(0, 3, 96)
    validation = (x[:24], y[:24])
    plain = fl.train(build, x, y, validation_data=validation, epochs=2, batch_size=16, seed=3, verbose=0,
                     batch_norm_batches=0)
    precise = fl.train(build, x, y, validation_data=validation, epochs=2, batch_size=16, seed=3, verbose=0,
                       batch_norm_batches=4)
    for a, b in zip(plain.model.trainable_weights, precise.model.trainable_weights):
        np.testing.assert_array_equal(snapshot(a), snapshot(b))
    assert plain.history["loss"] == precise.history["loss"]  # the training steps are the same
    assert plain.history["val_loss"] != precise.history["val_loss"]  # validation is not
    before = bn_statistics(plain.model)
    assert training.recalibrate_batch_norm(plain.model, x, batch_size=16, batches=4, seed=3) == 4
    after = bn_statistics(plain.model)
    assert any(not np.allclose(a, b) for a, b in zip(before, after))
    for a, b in zip(after, bn_statistics(precise.model)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    logged = precise.model.evaluate(*validation, verbose=0, return_dict=True)["loss"]
    assert logged == pytest.approx(precise.history["val_loss"][-1], rel=1e-5)


@pytest.mark.slow
def test_train_reads_no_batch_from_a_training_pipeline():
    """A dataset `x` is the training pipeline: without `batch_norm_data` nothing is re-estimated (reading it would
    move its shuffles); with it, the statistics move and the weights do not."""
    rng = np.random.default_rng(4)
    x, y = rng.uniform(0, 255, (64, 32, 32, 1)).astype("float32"), rng.integers(0, 3, 64)
    runs = {}
    cases = {"off": dict(batch_norm_batches=0), "pipeline": {}, "given": dict(batch_norm_data=x, batch_size=16)}
    for name, options in cases.items():
        stream = training.fit_dataset(x, y, batch_size=16)  # in order: the same batches every run
        runs[name] = fl.train(build, stream, epochs=2, seed=1, verbose=0, **options).model
    for a, b in zip(bn_statistics(runs["off"]), bn_statistics(runs["pipeline"])):
        np.testing.assert_array_equal(a, b)
    assert any(not np.allclose(a, b) for a, b in zip(bn_statistics(runs["off"]), bn_statistics(runs["given"])))
    for a, b in zip(runs["off"].trainable_weights, runs["given"].trainable_weights):
        np.testing.assert_array_equal(snapshot(a), snapshot(b))
    with pytest.raises(ValueError, match="Expected batch_size with array batch_norm_data"):
        fl.train(build, training.fit_dataset(x, y, batch_size=16), epochs=1, verbose=0, batch_norm_data=x)


def test_recalibrate_batch_norm_averages_the_batch_statistics():
    """The moving mean and variance become the means of the batches' own (biased) statistics; the momentum and the
    trainable weights are as before; a model without batch normalisation is left alone."""
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.BatchNormalization(momentum=0.99, name="bn")(inputs))
    rng = np.random.default_rng(0)
    batches = [rng.normal(k, k + 1, (8, 3)).astype("float32") for k in range(3)]
    dataset = tf.data.Dataset.from_tensor_slices((np.concatenate(batches), np.zeros(24))).batch(8)
    gamma = snapshot(model.get_layer("bn").gamma)
    assert training.recalibrate_batch_norm(model, dataset, batches=5) == 3  # the dataset holds 3
    layer = model.get_layer("bn")
    np.testing.assert_allclose(snapshot(layer.moving_mean), np.mean([b.mean(0) for b in batches], 0), rtol=1e-5)
    np.testing.assert_allclose(snapshot(layer.moving_variance), np.mean([b.var(0) for b in batches], 0), rtol=1e-5)
    assert layer.momentum == 0.99
    np.testing.assert_array_equal(snapshot(layer.gamma), gamma)
    dense = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    assert training.recalibrate_batch_norm(dense, batches[0], batch_size=4) == 0
    with pytest.raises(ValueError, match="Expected a positive batch_size for array input. Received: None"):
        training.recalibrate_batch_norm(model, batches[0])
    with pytest.raises(ValueError, match="Expected batches a positive integer. Received: 0"):
        training.recalibrate_batch_norm(model, dataset, batches=0)


def test_train_validates_epochs():
    with pytest.raises(ValueError, match="Expected epochs a positive integer. Received: 0"):
        fl.train(build, np.zeros((1, 32, 32, 1)), np.zeros(1), epochs=0)
    with pytest.raises(ValueError, match="Expected batch_norm_batches a non-negative integer. Received: -1"):
        fl.train(build, np.zeros((1, 32, 32, 1)), np.zeros(1), epochs=1, batch_norm_batches=-1)


def test_default_strategy_follows_the_environment(monkeypatch):
    import tensorflow as tf

    from forensiclib.training import default_strategy

    monkeypatch.delenv("FORENSICLIB_STRATEGY", raising=False)
    assert default_strategy() is tf.distribute.get_strategy()
    monkeypatch.setenv("FORENSICLIB_STRATEGY", "mirrored")
    assert isinstance(default_strategy(), tf.distribute.MirroredStrategy)
    monkeypatch.setenv("FORENSICLIB_STRATEGY", "mirrorred")
    with pytest.raises(ValueError, match="Expected FORENSICLIB_STRATEGY among default, mirrored, multiworker"):
        default_strategy()
    monkeypatch.setenv("FORENSICLIB_STRATEGY", "default")
    assert default_strategy() is tf.distribute.get_strategy()


def test_training_status_tells_a_plateau_from_a_cap():
    from forensiclib import training_status

    plateau = training_status({"loss": [3, 2, 1, 1, 1], "val_loss": [2.0, 1.0, 1.2, 1.3, 1.4]}, 40)
    assert plateau.plateaued and plateau.best_epoch == 2 and plateau.epochs_run == 5
    assert "plateau after 5 of at most 40 epochs (best: 2)" in str(plateau)
    capped = training_status({"loss": [3, 2, 1], "val_loss": [2.0, 1.5, 1.0]}, 3)
    assert not capped.plateaued and capped.best_epoch == 3 and "hit the cap of 3 epochs" in str(capped)
    assert training_status({"loss": [1.0, 0.5]}, 2).best_epoch is None
    with pytest.raises(ValueError, match="Expected max_epochs a positive integer. Received: 0"):
        training_status({"loss": [1.0]}, 0)


def test_training_status_knowing_the_patience_counts_a_stop_at_the_last_epoch_as_a_plateau():
    from forensiclib import training_status

    history = {"loss": [3, 2, 1, 1, 1], "val_loss": [2.0, 1.0, 1.2, 1.3, 1.4]}
    assert not training_status(history, 5).plateaued
    assert training_status(history, 5, patience=3).plateaued
    assert not training_status(history, 5, patience=4).plateaued


def test_a_network_whose_validation_accuracy_stays_within_chance_did_not_learn():
    from forensiclib.training import chance_bound, training_status

    assert chance_bound(5, 25) == pytest.approx(100 * (0.2 + 1.96 * (0.2 * 0.8 / 25) ** 0.5))
    flat = {"val_loss": [1.61, 1.60, 1.61, 1.62], "val_accuracy": [0.2, 0.2, 0.2, 0.2]}
    status = training_status(flat, 15, patience=3, n_classes=5, n_validation=25)
    assert status.plateaued and status.learned is False
    assert str(status).startswith("did not learn: validation accuracy never above 20.0%")
    assert status.to_dict()["learned"] is False
    learning = {"val_loss": [1.5, 1.0, 0.8], "val_accuracy": [0.3, 0.6, 0.7]}
    assert training_status(learning, 15, n_classes=5, n_validation=25).learned is True
    assert training_status(flat, 15).learned is None  # classes and validation size not given: not known
    with pytest.raises(ValueError, match="Expected n_validation a positive integer. Received: 0"):
        training_status(flat, 15, n_classes=5, n_validation=0)
    with pytest.raises(ValueError, match="Expected n_classes a positive integer of at least 2. Received: 1"):
        chance_bound(1, 10)


def test_patience_zero_trains_a_fixed_schedule_neither_plateau_nor_cap():
    from forensiclib.training import training_status
    from forensiclib.unified.common import UnifiedSettings, _callbacks

    status = training_status({"val_loss": [1.0, 0.8, 0.9, 1.0]}, 4, patience=0)
    assert status.fixed and not status.plateaued
    assert str(status) == "trained its fixed 4 of 4 epochs (no early stopping)"
    assert fl.capped_mark(type("R", (), {"status": status})()) == ""
    paper = UnifiedSettings(patience=0, halving_every=3)
    assert not any(isinstance(c, keras.callbacks.EarlyStopping) for c in _callbacks(paper))
    assert any(isinstance(c, keras.callbacks.EarlyStopping) for c in _callbacks(UnifiedSettings()))
    with pytest.raises(ValueError, match=r"Expected patience a non-negative integer \(0: no early stopping\)"):
        UnifiedSettings(patience=-1)


def test_a_network_s_predict_step_is_traced_at_most_twice_whatever_the_lengths():
    """Full batches and one shorter last batch: the retracing warnings `_tf_log` drops are first traces of new
    networks, not retracing of one."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    x = np.random.default_rng(0).normal(size=(37, 4)).astype("float32")
    training.predict(model, x, batch_size=10)
    step = model.predict_function
    for n in (23, 37, 5, 30):
        training.predict(model, x[:n], batch_size=10)
    assert model.predict_function is step and step.experimental_get_tracing_count() <= 2


def test_check_seeds_returns_plain_ints_and_names_what_it_received():
    from forensiclib.seeding import check_seeds

    assert check_seeds((np.int64(3), 0)) == [3, 0]
    assert all(type(s) is int for s in check_seeds([np.int32(1)]))
    for seeds in ([], [1, 1], [-1], [True], [1.0], ["2"]):
        with pytest.raises(ValueError, match=r"Expected one or more distinct non-negative integer seeds. Received: "):
            check_seeds(seeds)
