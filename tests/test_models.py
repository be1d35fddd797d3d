import numpy as np
import pytest

import forensiclib as fl

PROTOTXT_SHAPES = {  # paper 2's network at 256x256 (Caffe rounds pooled sizes up)
    "constr": (252, 252, 3), "conv1": (126, 126, 96), "conv1_pool": (63, 63, 96), "conv2": (63, 63, 64),
    "conv2_pool": (31, 31, 64), "conv3": (31, 31, 64), "conv3_pool": (15, 15, 64), "conv4": (15, 15, 128),
    "conv4_pool": (7, 7, 128), "flatten": (6272,), "fc1": (200,), "fc2": (200,), "output": (6,),
}  # fmt: skip


def test_mislnet_at_256_has_the_prototxt_shapes():
    model = fl.mislnet(6)
    for name, shape in PROTOTXT_SHAPES.items():
        assert tuple(model.get_layer(name).output.shape[1:]) == shape, name
    assert model.get_layer("fc1").kernel.shape == (6272, 200)
    assert model.get_layer("constr").kernel.shape == (5, 5, 1, 3) and not model.get_layer("constr").use_bias
    assert model.get_layer("conv1").kernel.shape == (7, 7, 3, 96)


@pytest.mark.slow
def test_mislnet_at_64_builds_and_trains():
    model = fl.compile_mislnet(fl.mislnet(4, input_size=64))
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 255, (40, 64, 64, 1)).astype("float32")
    history = model.fit(x, rng.integers(0, 4, 40), batch_size=20, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.get_layer("fc1").kernel.shape == (128, 200)


def test_builders_validate():
    with pytest.raises(ValueError, match="Expected n_classes an integer of at least 2. Received: 1"):
        fl.mislnet(1)
    with pytest.raises(ValueError, match="Expected input_size an integer of at least 16. Received: 8"):
        fl.mislnet(3, input_size=8)
    with pytest.raises(ValueError, match="Expected n_classes an integer of at least 2. Received: 0"):
        fl.dct_cnn(0)


def toy_histograms(n, rng):
    """Two classes of 909-vectors: peaked at even values (class 0) or spread (class 1)."""
    y = rng.integers(0, 2, n)
    values = np.arange(-50, 51)
    x = np.zeros((n, 9, 101), np.float32)
    for i, label in enumerate(y):
        scale = 3.0 if label == 0 else 6.0
        samples = np.rint(rng.laplace(0, scale, size=(9, 64))).astype(int)
        if label == 0:
            samples = 2 * (samples // 2)
        for mode in range(9):
            x[i, mode] = np.histogram(samples[mode], bins=np.append(values, 51) - 0.5)[0] / 64
    return x.reshape(n, 909), y


@pytest.mark.slow
def test_dct_cnn_learns_a_separable_toy_problem():
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = toy_histograms(500, rng)
    xt, yt = toy_histograms(200, rng)
    model = fl.dct_cnn(2)
    assert model.get_layer("conv1").filters == 100 and model.get_layer("fc1").units == 256
    model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    assert fl.accuracy(yt, model.predict(xt, verbose=0)) > 0.9
