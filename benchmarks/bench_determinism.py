"""Run-to-run reproducibility of MISLnet training on this CPU, with TensorFlow's oneDNN kernels on and off.

Each trial is a fresh process: seeded weights, one seeded batch, one training step's gradients (a
`tf.function`, as `fit` runs it); the trial prints a digest of the gradients and, from a short training, the
patches/s. With oneDNN on (TensorFlow's default), the gradient of a convolution over large maps (MISLnet's first
layers at 128x128 and up) can be summed in another order in another process: the digests then differ although
the seed is the same. `TF_ENABLE_ONEDNN_OPTS=0` (set before TensorFlow is imported, e.g. in front of
`make reproduce`) gives the same digest every time, at the speed printed here.
Run: `.venv/bin/python benchmarks/bench_determinism.py [--size 128] [--trials 6]`.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys

TRIAL = """
import hashlib, os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import forensiclib as fl  # first: it holds TensorFlow's start-up log lines to the level above
import keras, numpy as np, tensorflow as tf
size = int(sys.argv[1])
fl.seed_everything(0)
model = fl.compile_mislnet(fl.mislnet(5, input_size=size))
rng = np.random.default_rng(0)
x = tf.constant(rng.uniform(0, 255, (40, size, size, 1)).astype("float32"))
y = tf.constant(rng.integers(0, 5, 40))

@tf.function
def gradients():
    with tf.GradientTape() as tape:
        loss = keras.losses.sparse_categorical_crossentropy(y, model(x, training=True))
    return tape.gradient(loss, model.trainable_variables)

digest = hashlib.sha256(b"".join(g.numpy().tobytes() for g in gradients())).hexdigest()[:12]
n = max(40, 40 * (256 // size) ** 2)
xs, ys = rng.uniform(0, 255, (n, size, size, 1)).astype("float32"), rng.integers(0, 5, n)
fl.train(lambda: fl.compile_mislnet(fl.mislnet(5, input_size=size)), xs[:40], ys[:40], epochs=1, batch_size=40)
start = time.perf_counter()
fl.train(lambda: fl.compile_mislnet(fl.mislnet(5, input_size=size)), xs, ys, epochs=2, batch_size=40, verbose=0)
print(digest, 2 * n / (time.perf_counter() - start))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128, help="patch side (default 128)")
    parser.add_argument("--trials", type=int, default=6, help="fresh processes per setting (default 6)")
    args = parser.parse_args()
    results = collections.defaultdict(list)
    for _ in range(args.trials):
        for onednn in ("1", "0"):  # alternating, side by side
            env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn}
            out = subprocess.run([sys.executable, "-c", TRIAL, str(args.size)], env=env, capture_output=True,
                                 text=True, check=True)  # fmt: skip
            digest, rate = out.stdout.split()[-2:]
            results[onednn].append((digest, float(rate)))
    print(f"MISLnet {args.size}x{args.size}, one seeded batch of 40, {args.trials} fresh processes per setting")
    for onednn, label in (("1", "oneDNN on (default)"), ("0", "TF_ENABLE_ONEDNN_OPTS=0")):
        digests = collections.Counter(d for d, _ in results[onednn])
        rates = sorted(r for _, r in results[onednn])
        print(f"{label:<24} {len(digests)} distinct gradient digest(s) {dict(digests)}; "
              f"training {rates[len(rates) // 2]:.1f} patches/s (median)")


if __name__ == "__main__":
    main()
