"""One worker of a MultiWorkerMirroredStrategy run, started by test_distributed.py.

`python -m tests.mwms_worker INDEX PORTS OUT`: INDEX is this worker's index (-1: a single process under the same
strategy class with no cluster), PORTS the comma-separated ports of all workers on 127.0.0.1. Trains a small
network on a toy problem with `forensiclib.train` and writes the history, a weight checksum and the accuracy to OUT.
"""

import json
import os
import sys

index, ports, out = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3]
if index >= 0:
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    os.environ["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import forensiclib as fl  # noqa: E402

rng = np.random.default_rng(0)
y, y_val = rng.integers(0, 2, 768), rng.integers(0, 2, 256)
signal = np.zeros(909, dtype="float32")
signal[100:160] = 0.4  # the two classes differ in 60 of the 909 bins
x = (rng.normal(size=(768, 909)) + np.outer(y, signal)).astype("float32")
x_val = (rng.normal(size=(256, 909)) + np.outer(y_val, signal)).astype("float32")
import keras  # noqa: E402


def build():
    """Without dropout or batch norm, so that two workers must make exactly the single worker's updates."""
    model = keras.Sequential([keras.Input((909,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy")
    return model


strategy = tf.distribute.MultiWorkerMirroredStrategy()
result = fl.train(build, x, y, validation_data=(x_val, y_val), epochs=4, batch_size=64,
                  callbacks=[fl.early_stopping(10)], strategy=strategy, seed=0, verbose=0)
weights = result.model.get_weights()
with open(out, "w") as f:
    json.dump({"history": result.history, "replicas": strategy.num_replicas_in_sync,
               "checksum": float(sum(np.sum(np.abs(w)) for w in weights))}, f)
