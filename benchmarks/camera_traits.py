"""Can the simulated camera models be told apart from their files alone? A linear probe per trait, device held out.

For each of task B's 20 simulated models (paper 2, Sec. 5), `--images` scenes are captured by device 0 and other
scenes by device 1, and written as the model's JPEGs; a linear classifier (`camera_traits.probe`) is trained on
device 0's files and tested on device 1's, as the paper tests camera models on a device never seen in training.
Each trait's statistic is probed alone, then all together, on the green channel (what MISLnet sees) and on all
three channels. Chance is 1/20. A trait the probe reads well is in the files; if the constrained CNN then scores
far below the probe, the network or its training data, not the simulator, is what falls short.

Run: `.venv/bin/python benchmarks/camera_traits.py [--images 8] [--size 64] [--seed 0]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def measure(n_images: int, size: int, seed: int) -> tuple[dict[str, float], int]:
    """`({statistic: device-held-out accuracy}, n_models)`."""
    from PIL import Image
    from tqdm import tqdm

    from forensiclib.data.synth import camera_traits as traits
    from forensiclib.data.synth.cameras import camera_devices, camera_models, capture, write_camera_jpeg
    from forensiclib.data.synth.scenes import make_scenes

    models = camera_models("B")
    scenes = make_scenes(2 * n_images, size=(size, size), random_state=seed)
    rows: dict[str, list] = {"demosaicing (green)": [], "demosaicing (RGB)": [], "colour": [], "JPEG table": []}
    labels, devices = [], []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "image.jpg"
        for k, model in enumerate(tqdm(models, desc="models", unit="model")):
            for d, device in enumerate(camera_devices(model, 2)):
                for n in range(n_images):
                    rgb = capture(scenes[d * n_images + n], device, random_state=seed * 10**6 + k * 1000 + d * 100 + n)
                    write_camera_jpeg(rgb, path, device)
                    with Image.open(path) as opened:
                        decoded = np.asarray(opened.convert("RGB"))
                    rows["demosaicing (green)"].append(traits.demosaicing_statistics(decoded))
                    rows["demosaicing (RGB)"].append(traits.demosaicing_statistics(decoded, channels=(0, 1, 2)))
                    rows["colour"].append(traits.colour_statistics(decoded))
                    rows["JPEG table"].append(traits.quantization_statistics(path))
                    labels.append(k)
                    devices.append(d)
    labels, devices = np.array(labels), np.array(devices)
    features = {name: np.array(values) for name, values in rows.items()}
    features["all (green, colour, table)"] = np.hstack([features[n] for n in ("demosaicing (green)", "colour",
                                                                             "JPEG table")])  # fmt: skip
    train, test = devices == 0, devices == 1
    return {name: traits.probe(x[train], labels[train], x[test], labels[test]) for name, x in features.items()}, len(models)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=8, help="scenes per device (default 8)")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels, even (default 64, as the patches)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the scenes and the sensor noise")
    args = parser.parse_args(argv)
    if args.images < 2 or args.size < 16 or args.size % 2:
        parser.error(f"expected --images >= 2 and an even --size >= 16; received {args.images} and {args.size}")
    start = time.perf_counter()
    accuracies, n_models = measure(args.images, args.size, args.seed)
    print(f"Simulated task B ({n_models} models), {args.images} JPEGs of {args.size}x{args.size} per device: linear probe "
          f"trained on device 0, tested on device 1 (chance {100 / n_models:.1f}%)")
    print("| statistic | device-held-out accuracy |\n|---|---|")
    for name, accuracy in accuracies.items():
        print(f"| {name} | {100 * accuracy:.1f}% |")
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
