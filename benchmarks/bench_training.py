"""Training throughput of MISLnet (paper 2) and the 1-D DCT CNN (paper 1) on this machine.

Prints samples/s, the effective FLOP/s of training (counted from the layer shapes:
forward multiply-adds x 2, and x 3 for forward + backward), and that as a fraction
of a float32 matrix-multiply peak measured in the same run. Each network is timed two
ways, epochs interleaved: `fit(x, y)` as Keras feeds arrays (tf.data autotuning on),
and as `forensiclib.train` feeds them (`training.fit_dataset`: the same batches,
autotuning off). With PyTorch installed (an optional benchmark dependency, `pip install ".[bench]"`), a PyTorch
network of the same shapes and optimiser (`benchmarks/_torch_models.py`) is timed in the same loop on the same
batches, and the ratio of `train()` to it is printed. Medians over the repeats.
Run: `.venv/bin/python benchmarks/bench_training.py [--repeats 7 --steps 12 --networks mislnet64 ...] [--no-torch]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import forensiclib as fl  # noqa: E402  (first: it holds TensorFlow's start-up log lines to the level above)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from forensiclib import training  # noqa: E402

# Keras warns that `shuffle` is ignored when `fit` gets a tf.data pipeline; the pipelines timed here shuffle themselves.
warnings.filterwarnings("ignore", message="`shuffle=True` was passed", category=UserWarning)


def forward_flops(model: keras.Model) -> float:
    """FLOPs of one forward pass of one sample: 2 x multiply-adds of the conv and dense layers."""
    total = 0.0
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv1D)):
            out = np.prod(layer.output.shape[1:-1])
            total += 2.0 * np.prod(layer.kernel.shape) * out
        elif isinstance(layer, keras.layers.Dense):
            total += 2.0 * np.prod(layer.kernel.shape)
    return total


def matmul_peak(n: int = 2048, repeats: int = 10) -> float:
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    tf.linalg.matmul(a, b).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        tf.linalg.matmul(a, b).numpy()
        times.append(time.perf_counter() - start)
    return 2.0 * n**3 / min(times)


def training_rates(model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int, repeats: int,
                   twin=None) -> tuple:  # fmt: skip
    """Median samples/s of one epoch fed by Keras from arrays, fed by `training.fit_dataset`, and of the PyTorch
    `twin` (`(module, optimizer)`, or None), epochs interleaved."""
    ours = training.fit_dataset(x, y, batch_size=batch_size)
    model.fit(x[:batch_size], y[:batch_size], batch_size=batch_size, epochs=1, verbose=0)  # compile and warm up
    model.fit(ours, epochs=1, verbose=0)
    ways = {"keras": lambda: model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=False),
            "ours": lambda: model.fit(ours, epochs=1, verbose=0)}  # fmt: skip
    if twin is not None:
        import torch
        from _torch_models import train_epoch

        module, optimizer = twin
        xt = torch.from_numpy(np.moveaxis(x, -1, 1).copy() if x.ndim == 4 else x)
        yt = torch.from_numpy(y.astype(np.int64))
        train_epoch(module, optimizer, xt[:batch_size], yt[:batch_size], batch_size)  # warm up
        ways["torch"] = lambda: train_epoch(module, optimizer, xt, yt, batch_size)
    times: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(repeats):
        for way, epoch in ways.items():
            start = time.perf_counter()
            epoch()
            times[way].append(time.perf_counter() - start)
    return tuple(len(x) / statistics.median(times[way]) if way in times else None for way in ("keras", "ours", "torch"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed epochs per network and way (median reported)")
    parser.add_argument("--steps", type=int, default=12, help="batches per timed epoch")
    parser.add_argument("--networks", nargs="+", default=["mislnet64", "mislnet128", "mislnet256", "dct"],
                        choices=["mislnet64", "mislnet128", "mislnet256", "dct"], help="which networks to time")
    parser.add_argument("--no-torch", action="store_true", help="leave out the PyTorch comparison")
    args = parser.parse_args()
    twins = None
    if not args.no_torch:
        try:
            import torch
            import _torch_models as twins  # noqa: F811 (beside this file)

            torch.set_num_threads(os.cpu_count() or 1)
            torch.manual_seed(0)
        except ImportError:
            print('PyTorch is not installed: no comparison (pip install ".[bench]")')
            twins = None
    rng = np.random.default_rng(0)
    peak = matmul_peak()
    print(f"float32 matmul peak (2048x2048, best of 10): {peak / 1e9:.1f} GFLOP/s, {os.cpu_count()} cores\n")
    cases = {"mislnet64": ("MISLnet 64x64", lambda: fl.compile_mislnet(fl.mislnet(6, input_size=64)), (64, 64, 1), 40),
             "mislnet128": ("MISLnet 128x128", lambda: fl.compile_mislnet(fl.mislnet(6, input_size=128)), (128, 128, 1), 40),
             "mislnet256": ("MISLnet 256x256", lambda: fl.compile_mislnet(fl.mislnet(6)), (256, 256, 1), 40),
             "dct": ("DCT CNN 909", lambda: fl.dct_cnn(8), (909,), 128)}  # fmt: skip
    print(f"{'network':16s} {'batch':>5s} {'GFLOP/sample':>12s} | {'fit(x, y): samples/s':>20s} {'of peak':>7s} | "
          f"{'train(): samples/s':>18s} {'of peak':>7s} | {'ratio':>5s}"
          + (f" | {'PyTorch: samples/s':>18s} {'of peak':>7s} | {'train()/PyTorch':>15s}" if twins else ""))
    peak_after = []
    for key in args.networks:
        name, build, shape, batch = cases[key]
        keras.utils.set_random_seed(0)
        model = build()
        n = batch * args.steps
        x = rng.uniform(0, 255, (n, *shape)).astype("float32")
        y = rng.integers(0, model.output_shape[-1], n)
        twin = None
        if twins:
            classes = model.output_shape[-1]
            module = twins.dct_cnn_torch(classes) if key == "dct" else twins.mislnet_torch(classes, shape[0])
            twin = (module, twins.optimizer_for(key, module))
        keras_rate, our_rate, torch_rate = training_rates(model, x, y, batch, args.repeats, twin)
        flops = 3 * forward_flops(model)
        line = (f"{name:16s} {batch:5d} {flops / 1e9:12.3f} | {keras_rate:20.1f} {keras_rate * flops / peak:7.1%} | "
                f"{our_rate:18.1f} {our_rate * flops / peak:7.1%} | {our_rate / keras_rate:4.2f}x")
        if torch_rate:
            line += f" | {torch_rate:18.1f} {torch_rate * flops / peak:7.1%} | {our_rate / torch_rate:14.2f}x"
        print(line, flush=True)
        peak_after.append(matmul_peak(repeats=3))
    print(f"\nmatmul peak re-measured after each network: {[round(p / 1e9, 1) for p in peak_after]} GFLOP/s")


if __name__ == "__main__":
    main()
