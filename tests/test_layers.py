import math

import keras
import numpy as np
import pytest

import forensiclib as fl
from forensiclib.unified.layers import BayarConstraint, CeilPooling2D

from .helpers import snapshot


def assert_bayar(kernel, atol=1e-5):
    kernel = np.asarray(kernel)
    kh, kw = kernel.shape[:2]
    centre = kernel[kh // 2, kw // 2]
    off_sum = kernel.sum(axis=(0, 1)) - centre
    np.testing.assert_allclose(centre, -1.0, atol=atol)
    np.testing.assert_allclose(off_sum, 1.0, atol=atol)


def test_projection_matches_its_definition():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(5, 5, 1, 3)).astype("float32")
    projected = np.asarray(BayarConstraint()(w))
    for f in range(3):
        expected = w[:, :, 0, f].copy()
        expected[2, 2] = 0
        expected = expected / expected.sum()
        expected[2, 2] = -1
        np.testing.assert_allclose(projected[:, :, 0, f], expected, rtol=1e-5, atol=1e-6)


def test_even_kernel_is_refused():
    with pytest.raises(ValueError, match=r"Expected a kernel with odd sides \(it needs a centre\). Received shape \(4, 4, 1, 1\)"):
        BayarConstraint()(np.ones((4, 4, 1, 1), "float32"))


@pytest.mark.slow
def test_constraint_holds_at_initialisation_after_training_and_after_reload(tmp_path):
    keras.utils.set_random_seed(0)
    model = fl.compile_mislnet(fl.mislnet(3, input_size=32), learning_rate=0.05)
    constr = model.get_layer("constr")
    before = snapshot(constr.kernel)
    assert_bayar(before)  # before any update: projected at build time
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, size=(400, 32, 32, 1)).astype("float32")
    y = rng.integers(0, 3, size=400)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)  # 50 steps
    after = snapshot(constr.kernel)
    assert np.abs(after - before).max() > 1e-3, "the kernel must have moved for the test to mean anything"
    assert_bayar(after)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.get_layer("constr"), fl.ConstrainedConv2D)
    assert_bayar(loaded.get_layer("constr").kernel)
    np.testing.assert_array_equal(snapshot(loaded.get_layer("constr").kernel), after)
    np.testing.assert_allclose(loaded.predict(x[:4], verbose=0), model.predict(x[:4], verbose=0), atol=1e-6)
    loaded.fit(x[:80], y[:80], batch_size=8, epochs=1, verbose=0)  # the reloaded layer keeps its constraint
    assert_bayar(loaded.get_layer("constr").kernel)


def caffe_pool(x, size, stride, mode):
    """Caffe's pooling (ceil mode, windows clipped at the border), written out in loops."""
    n, h, w, c = x.shape
    out_h = math.ceil((h - size) / stride) + 1
    out_w = math.ceil((w - size) / stride) + 1
    out = np.zeros((n, out_h, out_w, c), np.float32)
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, i * stride : min(i * stride + size, h), j * stride : min(j * stride + size, w)]
            out[:, i, j] = window.max(axis=(1, 2)) if mode == "max" else window.mean(axis=(1, 2))
    return out


@pytest.mark.parametrize("size, mode", [(126, "max"), (63, "max"), (31, "max"), (15, "average"), (8, "average"), (3, "average")])
def test_ceil_pooling_matches_caffe(size, mode):
    x = np.random.default_rng(size).uniform(-1, 1, size=(2, size, size, 3)).astype("float32") - 0.8
    result = np.asarray(CeilPooling2D(3, 2, mode=mode)(x))
    if mode == "max":  # the maxima themselves, exactly
        np.testing.assert_array_equal(result, caffe_pool(x, 3, 2, mode))
    else:
        np.testing.assert_allclose(result, caffe_pool(x, 3, 2, mode), rtol=1e-6, atol=1e-6)
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(CeilPooling2D(3, 2, mode=mode)(x))
    gradient = tape.gradient(total, x).numpy()  # every output's gradient reaches pixels of the image, none is lost
    assert np.isfinite(gradient).all() and gradient.sum() == pytest.approx(result.size, rel=1e-5)


def test_ceil_pooling_validates_mode():
    with pytest.raises(ValueError, match="Expected mode \"max\" or \"average\". Received: 'min'"):
        CeilPooling2D(mode="min")
