"""Train with a per-epoch checkpoint, optionally killing itself after an epoch: run by test_crash_safety.py.

`python -m tests.resume_worker BACKUP OUT [KILL_AFTER_EPOCH]` trains paper 1's 1-D CNN on a toy problem for 6 epochs
with `train(..., backup_dir=BACKUP)` and writes the history to OUT; with KILL_AFTER_EPOCH it SIGKILLs itself once
that epoch's checkpoint is written.
"""

import json
import os
import signal
import sys

import keras
import numpy as np

import forensiclib as fl

backup, out = sys.argv[1], sys.argv[2]
kill_after = int(sys.argv[3]) if len(sys.argv) > 3 else None


class Kill(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):  # runs after BackupAndRestore has saved this epoch
        if kill_after is not None and epoch + 1 == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)


rng = np.random.default_rng(0)
y = rng.integers(0, 2, 512)
signal_bins = np.zeros(909, dtype="float32")
signal_bins[100:160] = 0.4
x = (rng.normal(size=(512, 909)) + np.outer(y, signal_bins)).astype("float32")
result = fl.train(lambda: fl.dct_cnn(2), x, y, epochs=6, batch_size=64, callbacks=[Kill()], seed=0, verbose=0,
                  backup_dir=backup)
with open(out, "w") as f:
    json.dump(result.history, f)
