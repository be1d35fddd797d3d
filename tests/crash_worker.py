"""Build a dataset, extract its features and train paper 1's network, in one cache: run by test_crash_safety.py.

`python -m tests.crash_worker CACHE OUT` runs the three stages (each cached and written atomically) and writes a
digest of every result to OUT: the dataset's file bytes, the features, the network's test predictions. Killed at any
point and run again, it must end with the digest of an uninterrupted run.
"""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np


def digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def main(cache: Path, out: Path) -> None:
    import forensiclib as fl
    from forensiclib.data.builders import build_controlled_social

    dataset = build_controlled_social(4, size=(192, 256), qualities=(60, 90), random_state=0, cache_dir=cache / "datasets",
                                      n_jobs=2, progress=False)
    features = fl.extract_features(list(dataset.files), cache_dir=cache / "features", n_jobs=2, progress=False)
    result = fl.run_provenance(dataset, fl.ProvenanceSettings(epochs=3, max_patches_per_image=4, baseline_trees=10),
                               cache_dir=cache / "provenance", progress=False, verbose=0)
    files = hashlib.sha256(b"".join(Path(f).read_bytes() for f in dataset.files)).hexdigest()
    out.write_text(json.dumps({
        "dataset": files,
        "features": digest(features.features, features.image_index),
        "predictions": digest(result.patch_probabilities, result.image_votes, result.baseline_predictions),
    }))


if __name__ == "__main__":  # worker processes (spawn) import this module
    main(Path(sys.argv[1]), Path(sys.argv[2]))
