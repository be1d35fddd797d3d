"""Fuzzing the feature extractor with random and mutated JPEG bytes: run as a child process by test_hostile.py.

`python -m tests.fuzz_jpeg SEED COUNT FOLDER` writes COUNT files (random bytes, bit flips, truncations, spliced and
repeated chunks, marker damage) derived from real JPEGs into FOLDER and runs `image_features` on each. Every file must
either give exactly what an independent computation from jpeglib's coefficients gives, or raise `ImageReadError`;
anything else is printed and the exit status is 1. A crash of the process itself shows as a signal to the parent.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    data = bytearray(data)
    kind = rng.integers(6)
    if kind == 0:  # random bytes, sometimes with a JPEG signature
        out = bytearray(rng.bytes(int(rng.integers(0, 4000))))
        return bytes(b"\xff\xd8\xff" + out if rng.random() < 0.5 else out)
    if kind == 1:  # bit flips
        for _ in range(int(rng.integers(1, 20))):
            i = int(rng.integers(len(data)))
            data[i] ^= 1 << int(rng.integers(8))
    elif kind == 2:  # truncation
        data = data[: int(rng.integers(2, len(data)))]
    elif kind == 3:  # a chunk repeated or moved
        i, j = sorted(int(v) for v in rng.integers(0, len(data), 2))
        data = data[:j] + data[i:j] + data[j:]
    elif kind == 4:  # damage in the headers (markers, tables, sizes)
        for _ in range(int(rng.integers(1, 6))):
            data[int(rng.integers(2, min(len(data), 700)))] = int(rng.integers(256))
    else:  # a run of zero or 0xFF bytes
        i = int(rng.integers(len(data)))
        data[i : i + int(rng.integers(1, 200))] = bytes([0 if rng.random() < 0.5 else 0xFF]) * int(rng.integers(1, 200))
    return bytes(data)


def main(seed: int, count: int, folder: Path) -> int:

    import forensiclib as fl
    from forensiclib import ImageReadError
    from tests.test_features import independent_features

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    seeds = []
    for name, size in (("chelsea", 160), ("coffee", 200)):
        rgb = fl.load_photo(name)[:size, :size]
        for quality, subsampling in ((75, "4:2:0"), (90, "4:4:4")):
            seeds.append(fl.encode_jpeg(rgb, folder / f"seed_{name}_{quality}.jpg", quality=quality,
                                        subsampling=subsampling).read_bytes())  # fmt: skip
    outcomes = {"ok": 0, "refused": 0}
    failures = []
    start = time.perf_counter()
    for i in range(count):
        path = folder / f"fuzz_{i:04d}.jpg"
        path.write_bytes(mutate(seeds[i % len(seeds)], rng))
        try:
            got = fl.image_features(path).features
        except ImageReadError:
            outcomes["refused"] += 1
            continue
        except Exception as error:  # noqa: BLE001 - the point is to find these
            failures.append(f"{path.name}: {type(error).__name__}: {error}")
            continue
        if not fl.is_jpeg(path):  # Pillow read something else from these bytes: no coefficients to compare
            outcomes["ok"] += 1
            continue
        try:
            expected = independent_features(path)
            jpeglib_ok = True
        except Exception:  # noqa: BLE001
            jpeglib_ok = False
        if not jpeglib_ok or not np.array_equal(got, expected):
            failures.append(f"{path.name}: features differ from the independent computation")
        else:
            outcomes["ok"] += 1
    outcomes["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps({"outcomes": outcomes, "failures": failures}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])))
