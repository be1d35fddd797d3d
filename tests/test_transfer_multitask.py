"""Transfer by share depth and tied-weight multitask networks (paper 2, Sec. 4)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import forensiclib as fl
from forensiclib.unified.mislnet import SHARE_DEPTHS, block_layers

from .helpers import snapshot

SIZE = 32


def data(n, n_classes, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, (n, SIZE, SIZE, 1)).astype("float32"), rng.integers(0, n_classes, n)


@pytest.fixture(scope="module")
def source():
    keras.utils.set_random_seed(0)
    model = fl.compile_mislnet(fl.mislnet(3, input_size=SIZE), learning_rate=0.01)
    model.fit(*data(64, 3, 0), batch_size=16, epochs=1, verbose=0)
    return model


def weights_of(model, depths, suffix=""):
    return [snapshot(w) for d in depths for layer in block_layers(model, d, suffix=suffix) for w in layer.weights]


@pytest.mark.slow
@pytest.mark.parametrize("share_depth", ["constr", "conv2", "fc2"])
def test_transfer_freezes_everything_up_to_the_share_depth(source, share_depth):
    frozen = SHARE_DEPTHS[: SHARE_DEPTHS.index(share_depth) + 1]
    above = [d for d in SHARE_DEPTHS if d not in frozen] + ["output"]
    source_before = [w.copy() for w in weights_of(source, SHARE_DEPTHS)]
    model = fl.compile_mislnet(fl.transfer_model(source, share_depth, 4), learning_rate=0.05)
    for a, b in zip(weights_of(model, frozen), weights_of(source, frozen)):
        np.testing.assert_array_equal(a, b)  # copied
    frozen_before = weights_of(model, frozen)
    above_before = weights_of(model, above)
    model.fit(*data(64, 4, 1), batch_size=16, epochs=2, verbose=0)
    for a, b in zip(weights_of(model, frozen), frozen_before):  # includes BN moving statistics
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(weights_of(model, above), above_before))
    for a, b in zip(weights_of(source, SHARE_DEPTHS), source_before):
        np.testing.assert_array_equal(a, b)  # the source network is untouched
    assert model.output_shape == (None, 4)


@pytest.mark.slow
def test_unknown_share_depth(source):
    with pytest.raises(ValueError, match=r"Expected a share depth among \['constr', .*'fc2'\]. Received: 'conv5'"):
        fl.transfer_model(source, "conv5", 3)


@pytest.mark.slow
def test_deep_features_are_the_block_outputs(source):
    x, _ = data(10, 3, 2)
    fc2 = fl.deep_features(source, x, depth="fc2", batch_size=4)
    manual = keras.Model(source.inputs, source.get_layer("fc2").output).predict(x, verbose=0)
    assert fc2.shape == (10, 200) and fc2.dtype == np.float32
    np.testing.assert_allclose(fc2, manual, atol=1e-5)
    assert fl.deep_features(source, x, depth="conv1").shape == (10, 7 * 7 * 96)


TASKS = {"A": 3, "B": 5}


def count_variables(layers):
    return sum(len(layer.weights) for layer in layers)


@pytest.mark.parametrize("share_depth", ["constr", "conv3", "fc2"])
def test_multitask_holds_one_copy_of_each_shared_variable(share_depth):
    model = fl.multitask_model(TASKS, share_depth, input_size=SIZE)
    last = SHARE_DEPTHS.index(share_depth)
    single = fl.mislnet(3, input_size=SIZE)
    shared = sum(count_variables(block_layers(single, d)) for d in SHARE_DEPTHS[: last + 1])
    per_task = sum(count_variables(block_layers(single, d)) for d in (*SHARE_DEPTHS[last + 1 :], "output"))
    assert len(model.weights) == shared + 2 * per_task
    assert len({id(v) for v in model.weights}) == len(model.weights)
    leg_a = fl.feature_extractor(model, share_depth, task="A")
    leg_b = fl.feature_extractor(model, share_depth, task="B")
    assert leg_a.get_layer("constr").kernel is leg_b.get_layer("constr").kernel
    assert model.output_names == ["output_A", "output_B"]


def test_a_step_on_task_a_alone_moves_the_shared_weights_seen_by_leg_b():
    keras.utils.set_random_seed(0)
    model = fl.multitask_model(TASKS, "conv2", input_size=SIZE)
    leg_b = fl.feature_extractor(model, "output", task="B")
    shared_kernel = leg_b.get_layer("conv1").kernel
    own_kernel = leg_b.get_layer("fc1_B").kernel
    shared_before, own_before = snapshot(shared_kernel), snapshot(own_kernel)
    x, y = data(8, 3, 3)
    optimizer = keras.optimizers.SGD(learning_rate=0.1)
    with tf.GradientTape() as tape:
        probabilities = fl.feature_extractor(model, "output", task="A")(x, training=True)
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, probabilities))
    variables = model.trainable_variables
    gradients = dict(zip([v.path for v in variables], tape.gradient(loss, variables)))
    assert gradients["conv1/kernel"] is not None and gradients["fc1_B/kernel"] is None
    optimizer.apply_gradients([(g, v) for g, v in zip(gradients.values(), variables) if g is not None])
    assert np.abs(snapshot(shared_kernel) - shared_before).max() > 0
    np.testing.assert_array_equal(snapshot(own_kernel), own_before)


@pytest.mark.slow
def test_multitask_trains_both_tasks_with_summed_losses():
    keras.utils.set_random_seed(0)
    model = fl.compile_mislnet(fl.multitask_model(TASKS, "conv1", input_size=SIZE))
    xa, ya = data(48, 3, 4)
    xb, yb = data(32, 5, 5)
    dataset, steps = fl.paired_dataset({"A": xa, "B": xb}, {"A": ya, "B": yb}, batch_size=16, random_state=0)
    assert steps == 3
    history = model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0).history
    assert {"output_A_loss", "output_B_loss", "loss"} <= set(history)
    np.testing.assert_allclose(history["loss"][0], history["output_A_loss"][0] + history["output_B_loss"][0], rtol=1e-3)


def test_multitask_arguments_are_validated():
    with pytest.raises(ValueError, match=r"Expected at least two tasks named by identifiers. Received: \['A'\]"):
        fl.multitask_model({"A": 3}, "conv1")
    with pytest.raises(ValueError, match="Expected the same tasks in patches and labels"):
        fl.paired_dataset({"A": np.zeros((2, 4, 4, 1))}, {"B": np.zeros(2)})


def _untied(tasks, input_size):
    """Two legs with the same architecture and no layer in common (suffix `_<task>` on every block)."""
    from forensiclib.unified.mislnet import apply_layers, mislnet_blocks

    inputs, outputs = [], []
    for task, n_classes in tasks.items():
        blocks = mislnet_blocks(n_classes, suffix=f"_{task}")
        x = patch = keras.Input((input_size, input_size, 1), name=f"patch_{task}")
        for depth in (*SHARE_DEPTHS, "output"):
            x = apply_layers(x, blocks[depth])
        inputs.append(patch)
        outputs.append(x)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("share_depth", ["constr", "conv2", "fc2"])
def test_the_tie_check_counts_shared_and_own_layers_and_fails_on_an_untied_network(share_depth):
    model = fl.multitask_model(TASKS, share_depth, input_size=SIZE)
    tied = fl.check_tied_legs(model, TASKS, share_depth)
    last = SHARE_DEPTHS.index(share_depth)
    single = fl.mislnet(3, input_size=SIZE)
    assert list(tied.shared) == [layer.name for d in SHARE_DEPTHS[: last + 1] for layer in block_layers(single, d)]
    assert tied.own["B"] == tuple(layer.name for d in (*SHARE_DEPTHS[last + 1 :], "output")
                                  for layer in block_layers(model, d, suffix="_B"))  # fmt: skip
    assert tied.shared_weights == sum(int(np.prod(w.shape)) for d in SHARE_DEPTHS[: last + 1]
                                      for layer in block_layers(single, d) for w in layer.weights)  # fmt: skip
    assert tied.leg_weights == {"A": single.count_params(), "B": fl.mislnet(5, input_size=SIZE).count_params()}
    assert tied.weights == model.count_params() == sum(tied.leg_weights.values()) - tied.shared_weights
    assert tied.outputs == ("output_A", "output_B")
    with pytest.raises(ValueError, match=rf"Expected legs tied up to {share_depth} in '\w+'. Received: shared by "
                                         r"every leg: \[\], expected \['constr'"):
        fl.check_tied_legs(_untied(TASKS, SIZE), TASKS, share_depth)
    deeper = SHARE_DEPTHS[min(last + 1, len(SHARE_DEPTHS) - 1)] if share_depth != "fc2" else "fc1"
    with pytest.raises(ValueError, match=r"Expected legs tied up to"):
        fl.check_tied_legs(model, TASKS, deeper)
    with pytest.raises(ValueError, match=r"Expected a network with an input patch_<task> and an output "
                                         r"output_<task> for each of at least two tasks \['A', 'C'\]"):
        fl.check_tied_legs(model, ["A", "C"], share_depth)
