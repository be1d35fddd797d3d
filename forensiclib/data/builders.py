"""Simulated datasets that mirror the papers' datasets, built on disk and cached.

Each builder writes real image files plus a `manifest.json` into
`<cache>/datasets/<name>-<hash>/`, where the hash covers every parameter (and
the builder version): the same parameters reuse the folder, changed ones build
a new one. A build happens in a temporary folder renamed into place at the end,
so an interrupted build leaves nothing a later run would trust. Every item
draws from its own seed, derived from `random_state` and its index, so the files
are the same bytes whether built by one process or several.

| builder | mirrors | classes | groups (never split apart) |
|---|---|---|---|
| `build_controlled_social` | UCID social (paper 1): uncompressed sources, JPEG at QF 50..95, then each platform | facebook, flickr, twitter | source image |
| `build_uncontrolled_social` | Public social (paper 1): different images per platform, varied sizes, cameras and qualities | facebook, flickr, twitter | image |
| `build_iplab_like` | IPLab (paper 1): camera originals at two resolutions, each shared on 7 platforms | Table VII's 8 classes | source image |
| `build_manipulations` | paper 2's manipulation set: central green blocks of camera JPEGs, six operations | the 6 manipulations | source image |
| `build_sharing_chains` | paper 1's future work: camera originals shared on one platform, then another | "a_then_b" pairs | source image |
| `build_cameras` | paper 2's camera sets: task "B" (20 models) or "C" (5 disjoint models), 2+ devices each | camera models | image (devices in `devices`) |

These are simulations: camera and platform models are approximations (see
`forensiclib.data.synth`), and results on them are never the papers' results.
"""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from .. import cache
from .._heap import tune_heap
from .._progress import progress_bar
from ..paper import PAPER1_CLASSES_3, PAPER1_CLASSES_8
from ..provenance.jpeg import encode_jpeg
from .datasets import ImageDataset, load_manifest, write_manifest

__all__ = [
    "PAPER1_PLATFORMS",
    "IPLAB_CLASSES",
    "build_controlled_social",
    "build_uncontrolled_social",
    "build_iplab_like",
    "build_manipulations",
    "build_cameras",
    "build_sharing_chains",
    "BUILDERS",
    "build_dataset",
]

#: Bump when a builder's output changes, so cached datasets are rebuilt. The simulators' and the encoder's source
#: files are part of every dataset's key too (`_simulator_digest`), so changing a simulator rebuilds on its own.
BUILDERS_VERSION = 1
PAPER1_PLATFORMS = PAPER1_CLASSES_3
#: Paper 1, Table VII, in its order; `original` is the camera's own JPEG.
IPLAB_CLASSES = PAPER1_CLASSES_8


@dataclasses.dataclass(frozen=True)
class _Record:
    path: str  # relative to the dataset root
    label: int
    group: int
    device: int = -1


def _item_seed(random_state: int, index: int) -> int:
    return int(np.random.SeedSequence([random_state, index]).generate_state(1)[0])


def _check_positive(name: str, value) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"Expected {name} a positive integer. Received: {value!r}")


def _check_size(name: str, size) -> tuple[int, int]:
    if not (isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(s, int) and s >= 64 for s in size)):
        raise ValueError(f"Expected {name} a (height, width) pair of integers >= 64. Received: {size!r}")
    return tuple(size)


def _build(
    name: str,
    classes: Sequence[str],
    parameters: dict,
    worker: Callable[[tuple], list[_Record]],
    items: list[tuple],
    *,
    description: str,
    with_devices: bool,
    cache_dir: str | Path | None,
    n_jobs: int,
    progress: bool,
) -> ImageDataset:
    """Run `worker((root, item))` for every item into a temporary folder, write the manifest, rename into place."""
    from ..paths import cache_dir as default_cache_dir

    key = cache.cache_key("dataset", name, BUILDERS_VERSION, _simulator_digest(), parameters)
    datasets = Path(cache_dir) if cache_dir is not None else default_cache_dir() / "datasets"
    root = datasets / f"{name}-{key[:16]}"
    if (root / "manifest.json").is_file():
        return load_manifest(root)
    datasets.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=datasets, prefix=f".building-{name}-"))
    try:
        for class_name in classes:
            (building / class_name).mkdir()
        jobs = [(building, item) for item in items]
        bar = progress_bar(len(jobs), desc=f"building {name}", unit="item", disable=not progress)
        records: list[_Record] = []
        if n_jobs == 1:
            tune_heap()
            for job in jobs:
                records += worker(job)
                bar.update()
        else:
            workers = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(workers, mp_context=context, initializer=tune_heap) as executor:
                for result in executor.map(worker, jobs, chunksize=max(1, len(jobs) // (8 * workers))):
                    records += result
                    bar.update()
        bar.close()
        dataset = ImageDataset(
            name=name,
            classes=tuple(classes),
            files=tuple(root / r.path for r in records),
            labels=np.array([r.label for r in records], dtype=np.int64),
            groups=np.array([r.group for r in records], dtype=np.int64),
            devices=np.array([r.device for r in records], dtype=np.int64) if with_devices else None,
            description=description,
            simulated=True,
        )
        write_manifest(dataclasses.replace(dataset, files=tuple(building / r.path for r in records)), building,
                       parameters=parameters)  # fmt: skip
        os.replace(building, root)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return load_manifest(root)


def _scene(size: tuple[int, int], seed: int) -> np.ndarray:
    """A mixed scene; sizes no shipped photo can give become dead leaves (see `synth.scenes`), silently here."""
    import warnings

    from .synth.scenes import make_scenes

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No photo among", category=UserWarning)
        return make_scenes(1, size=size, kind="mixed", random_state=seed)[0]


def _device(task: str, model_index: int, device_index: int, n_devices: int = 2):
    from .synth.cameras import camera_devices, camera_models

    return camera_devices(camera_models(task)[model_index], n_devices)[device_index]


# --- paper 1 -----------------------------------------------------------------------------------


def _controlled_item(job) -> list[_Record]:
    from .synth.cameras import capture
    from .synth.platforms import share

    root, (index, seed, size, qualities, per_source, platforms) = job
    rng = np.random.default_rng(seed)
    source = capture(_scene(size, int(rng.integers(2**31))), _device("B", 0, 0), random_state=rng)
    if per_source is not None:  # a random subset of the qualities, in their order
        qualities = tuple(sorted(rng.choice(qualities, size=per_source, replace=False).tolist()))
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for quality in qualities:
            compressed = encode_jpeg(source, Path(tmp) / f"q{quality}.jpg", quality=quality)
            for label, platform in enumerate(platforms):
                relative = f"{platform}/{index:05d}_q{quality}.jpg"
                share(compressed, platform, root / relative, random_state=int(rng.integers(2**31)))
                records.append(_Record(relative, label, index))
    return records


def build_controlled_social(
    n_sources: int,
    *,
    size: tuple[int, int] = (384, 512),
    qualities: Sequence[int] = tuple(range(50, 100, 5)),
    qualities_per_source: int | None = None,
    platforms: Sequence[str] = PAPER1_PLATFORMS,
    random_state: int = 0,
    cache_dir: str | Path | None = None,
    n_jobs: int = 1,
    progress: bool = True,
) -> ImageDataset:
    """A controlled set like UCID social: `n_sources x len(qualities) x len(platforms)` JPEGs.

    Each source is an uncompressed capture of a scene by one simulated camera
    (UCID: 1338 uncompressed 512x384 TIFFs from one camera), compressed at every
    quality, and every compressed version shared on every platform.

    `qualities_per_source` (None: all, as in UCID social) compresses each source at that many of `qualities`, drawn
    at random per source: the same number of images then come from more sources, and a test split drawn by source
    (every version of a photo on one side) holds more independent photos (`n_sources x qualities_per_source x
    len(platforms)` JPEGs).
    """
    _check_positive("n_sources", n_sources)
    size = _check_size("size", size)
    qualities = tuple(int(q) for q in qualities)
    if qualities_per_source is not None and not (isinstance(qualities_per_source, (int, np.integer))
                                                 and 1 <= qualities_per_source <= len(qualities)):  # fmt: skip
        raise ValueError(f"Expected qualities_per_source None or an integer in 1..{len(qualities)} (the number of "
                         f"qualities). Received: {qualities_per_source!r}")
    per_source = None if qualities_per_source is None else int(qualities_per_source)
    parameters = dict(n_sources=n_sources, size=size, qualities=list(qualities), platforms=list(platforms),
                      random_state=random_state, **({} if per_source is None else {"qualities_per_source": per_source}))
    items = [(i, _item_seed(random_state, i), size, qualities, per_source, tuple(platforms)) for i in range(n_sources)]
    description = (f"simulated, like UCID social: {n_sources} uncompressed {size[1]}x{size[0]} sources, JPEG at "
                   + (f"QF {min(qualities)}..{max(qualities)}" if per_source is None else
                      f"{per_source} of QF {min(qualities)}..{max(qualities)} per source (at random)")
                   + f", then {', '.join(platforms)}")  # fmt: skip
    return _build("controlled_social", platforms, parameters, _controlled_item, items, description=description,
                  with_devices=False, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress)  # fmt: skip


def _uncontrolled_item(job) -> list[_Record]:
    from .synth.cameras import camera_models, capture, write_camera_jpeg
    from .synth.platforms import share

    root, (index, seed, label, platform, long_sides) = job
    rng = np.random.default_rng(seed)
    long_side = int(rng.integers(long_sides[0], long_sides[1] + 1)) // 8 * 8
    ratio = rng.choice([3 / 4, 2 / 3, 9 / 16, 1.0])
    short_side = max(64, int(long_side * ratio) // 8 * 8)
    size = (short_side, long_side) if rng.random() < 0.7 else (long_side, short_side)
    device = _device("B", int(rng.integers(len(camera_models("B")))), int(rng.integers(2)))
    image = capture(_scene(size, int(rng.integers(2**31))), device, random_state=rng)
    relative = f"{platform}/{index:05d}.jpg"
    with tempfile.TemporaryDirectory() as tmp:
        camera_jpeg = write_camera_jpeg(image, Path(tmp) / "camera.jpg", device)
        if rng.random() < 0.5:  # edited and re-saved by its owner before the upload
            camera_jpeg = encode_jpeg(image, Path(tmp) / "edited.jpg", quality=int(rng.integers(60, 99)),
                                      subsampling=str(rng.choice(["4:4:4", "4:2:0"])))  # fmt: skip
        share(camera_jpeg, platform, root / relative, random_state=int(rng.integers(2**31)))
    return [_Record(relative, label, index)]


def build_uncontrolled_social(
    n_per_class: int,
    *,
    long_side: tuple[int, int] = (480, 1280),
    platforms: Sequence[str] = PAPER1_PLATFORMS,
    random_state: int = 0,
    cache_dir: str | Path | None = None,
    n_jobs: int = 1,
    progress: bool = True,
) -> ImageDataset:
    """An uncontrolled set like Public social: different images on each platform.

    Every image is its own scene, captured by a random simulated camera model and
    device at a random size (long side in `long_side`, varied aspect ratios and
    orientations), re-saved by its owner at a random quality half of the time,
    then shared on one platform.
    """
    _check_positive("n_per_class", n_per_class)
    parameters = dict(n_per_class=n_per_class, long_side=list(long_side), platforms=list(platforms),
                      random_state=random_state)  # fmt: skip
    items = []
    for label, platform in enumerate(platforms):
        for j in range(n_per_class):
            index = label * n_per_class + j
            items.append((index, _item_seed(random_state, index), label, platform, tuple(long_side)))
    description = (f"simulated, like Public social: {n_per_class} different images per platform, long side "
                   f"{long_side[0]}..{long_side[1]} px, random cameras and owner re-saves")  # fmt: skip
    return _build("uncontrolled_social", platforms, parameters, _uncontrolled_item, items, description=description,
                  with_devices=False, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress)  # fmt: skip


def _phone_original(path: Path, size: tuple[int, int], n_phones: int, rng: np.random.Generator) -> Path:
    """A camera original of a new scene by a random device of one of the first `n_phones` task-B models."""
    from .synth.cameras import capture_jpeg

    device = _device("B", int(rng.integers(n_phones)), int(rng.integers(2)))
    return capture_jpeg(_scene(size, int(rng.integers(2**31))), device, path, random_state=rng)


def _iplab_item(job) -> list[_Record]:
    from .synth.platforms import share

    root, (index, seed, size, n_phones) = job
    rng = np.random.default_rng(seed)
    original = f"original/{index:05d}.jpg"
    _phone_original(root / original, size, n_phones, rng)
    records = [_Record(original, IPLAB_CLASSES.index("original"), index)]
    for label, platform in enumerate(IPLAB_CLASSES):
        if platform != "original":
            relative = f"{platform}/{index:05d}.jpg"
            share(root / original, platform, root / relative, random_state=int(rng.integers(2**31)))
            records.append(_Record(relative, label, index))
    return records


def build_iplab_like(
    n_sources: int,
    *,
    high_size: tuple[int, int] = (768, 1024),
    low_size: tuple[int, int] = (480, 640),
    n_phones: int = 6,
    random_state: int = 0,
    cache_dir: str | Path | None = None,
    n_jobs: int = 1,
    progress: bool = True,
) -> ImageDataset:
    """An 8-class set like IPLab: camera originals at two resolutions, each shared on the 7 platforms.

    Half the sources are captured at `high_size`, half at `low_size` (IPLab: the
    highest and lowest resolution of each smartphone), by `n_phones` simulated models.
    """
    _check_positive("n_sources", n_sources)
    sizes = (_check_size("high_size", high_size), _check_size("low_size", low_size))
    parameters = dict(n_sources=n_sources, high_size=sizes[0], low_size=sizes[1], n_phones=n_phones,
                      random_state=random_state)  # fmt: skip
    items = [(i, _item_seed(random_state, i), sizes[i % 2], n_phones) for i in range(n_sources)]
    description = (f"simulated, like IPLab: {n_sources} camera originals ({sizes[0][1]}x{sizes[0][0]} and "
                   f"{sizes[1][1]}x{sizes[1][0]}) from {n_phones} camera models, each shared on 7 platforms")  # fmt: skip
    return _build("iplab_like", IPLAB_CLASSES, parameters, _iplab_item, items, description=description,
                  with_devices=False, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress)  # fmt: skip


# --- paper 2 -----------------------------------------------------------------------------------


def _manipulation_item(job) -> list[_Record]:
    from PIL import Image

    from .synth.cameras import camera_models, capture_jpeg
    from .synth.manipulations import MANIPULATIONS, green_blocks, manipulate_blocks

    root, (index, seed, block_size, n_blocks) = job
    rng = np.random.default_rng(seed)
    side = block_size * int(np.ceil(np.sqrt(n_blocks))) + 2 * block_size
    device = _device("B", int(rng.integers(len(camera_models("B")))), int(rng.integers(2)))
    with tempfile.TemporaryDirectory() as tmp:
        path = capture_jpeg(_scene((side, side), int(rng.integers(2**31))), device, Path(tmp) / "c.jpg",
                            random_state=rng)  # fmt: skip
        image = np.asarray(Image.open(path).convert("RGB"))
    blocks = green_blocks(image, block_size=block_size, n_blocks=n_blocks)
    images, labels = manipulate_blocks(blocks, random_state=rng)
    records = []
    for k, (block, label) in enumerate(zip(images, labels)):
        relative = f"{MANIPULATIONS[label]}/{index:05d}_{k // len(MANIPULATIONS):02d}.png"
        Image.fromarray(block).save(root / relative)
        records.append(_Record(relative, int(label), index))
    return records


def build_manipulations(
    n_images: int,
    *,
    block_size: int = 64,
    blocks_per_image: int = 4,
    random_state: int = 0,
    cache_dir: str | Path | None = None,
    n_jobs: int = 1,
    progress: bool = True,
) -> ImageDataset:
    """Paper 2's manipulation set: central green-channel blocks of camera JPEGs, each in six versions.

    Blocks are PNG files (lossless), one folder per manipulation; all versions of
    all blocks of one camera image share a group (paper 2 cut training and test
    blocks from separate images). `blocks_per_image` is a square number (a central grid);
    the paper: 256x256 blocks, nine central ones per image (Sec. 5; 25 in the authors' code).
    """
    from .synth.manipulations import MANIPULATIONS

    for name, value in (("n_images", n_images), ("block_size", block_size), ("blocks_per_image", blocks_per_image)):
        _check_positive(name, value)
    if int(np.sqrt(blocks_per_image)) ** 2 != blocks_per_image:
        raise ValueError(f"Expected blocks_per_image a perfect square (1, 4, 9, ...). Received: {blocks_per_image!r}")
    parameters = dict(n_images=n_images, block_size=block_size, blocks_per_image=blocks_per_image,
                      random_state=random_state)  # fmt: skip
    items = [(i, _item_seed(random_state, i), block_size, blocks_per_image) for i in range(n_images)]
    description = (f"simulated manipulation set: {n_images} camera JPEGs x {blocks_per_image} central green "
                   f"{block_size}x{block_size} blocks x 6 manipulations")  # fmt: skip
    return _build("manipulations", MANIPULATIONS, parameters, _manipulation_item, items, description=description,
                  with_devices=False, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress)  # fmt: skip


def _camera_item(job) -> list[_Record]:
    from .synth.cameras import capture_jpeg

    root, (index, seed, task, model_index, device_index, n_devices, size, model_name) = job
    rng = np.random.default_rng(seed)
    device = _device(task, model_index, device_index, n_devices)
    relative = f"{model_name}/{device.serial}/{index:05d}.jpg"
    (root / relative).parent.mkdir(parents=True, exist_ok=True)
    capture_jpeg(_scene(size, int(rng.integers(2**31))), device, root / relative, random_state=rng)
    return [_Record(relative, model_index, index, model_index * n_devices + device_index)]


def build_cameras(
    task: str,
    n_images_per_device: int,
    *,
    n_devices: int = 2,
    size: tuple[int, int] = (256, 256),
    random_state: int = 0,
    cache_dir: str | Path | None = None,
    n_jobs: int = 1,
    progress: bool = True,
) -> ImageDataset:
    """Paper 2's camera-model sets: task `"B"` (20 simulated models) or `"C"` (5 disjoint models).

    Every device of every model captures `n_images_per_device` different scenes
    as camera JPEGs (the model's own quality and subsampling); `devices` holds a
    unique id per device so that tests can use a device never seen in training.
    """
    from .synth.cameras import camera_models

    models = camera_models(task)
    _check_positive("n_images_per_device", n_images_per_device)
    if not isinstance(n_devices, int) or n_devices < 2:
        raise ValueError(f"Expected n_devices an integer of at least 2 (one is held out). Received: {n_devices!r}")
    size = _check_size("size", size)
    parameters = dict(task=task, n_images_per_device=n_images_per_device, n_devices=n_devices, size=size,
                      random_state=random_state)  # fmt: skip
    items, index = [], 0
    for m, model in enumerate(models):
        for d in range(n_devices):
            for _ in range(n_images_per_device):
                items.append((index, _item_seed(random_state, index), task, m, d, n_devices, size, model.name))
                index += 1
    description = (f"simulated camera set {task}: {len(models)} models x {n_devices} devices x "
                   f"{n_images_per_device} JPEGs of {size[1]}x{size[0]}")  # fmt: skip
    return _build(f"cameras_{task}", [m.name for m in models], parameters, _camera_item, items,
                  description=description, with_devices=True, cache_dir=cache_dir, n_jobs=n_jobs,
                  progress=progress)  # fmt: skip


def _chain_item(job) -> list[_Record]:
    from .synth.platforms import share_chain

    root, (index, seed, size, pairs, n_phones) = job
    rng = np.random.default_rng(seed)
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        original = _phone_original(Path(tmp) / "camera.jpg", size, n_phones, rng)
        for label, (first, last) in enumerate(pairs):
            relative = f"{first}_then_{last}/{index:05d}.jpg"
            share_chain(original, [first, last], root / relative, random_state=int(rng.integers(2**31)))
            records.append(_Record(relative, label, index))
    return records


def build_sharing_chains(
    n_sources: int,
    *,
    platforms: Sequence[str] = PAPER1_PLATFORMS,
    size: tuple[int, int] = (480, 640),
    n_phones: int = 6,
    random_state: int = 0,
    cache_dir: str | Path | None = None,
    n_jobs: int = 1,
    progress: bool = True,
) -> ImageDataset:
    """Sharing chains: each camera original shared on one platform, downloaded, and shared on another.

    Every ordered pair of different platforms gets a copy of every source, so the
    classes are `"<first>_then_<last>"`; `ImageDataset.relabel` turns them into
    "last platform" or "first platform" tasks (paper 1, Sec. V, future work).
    """
    _check_positive("n_sources", n_sources)
    size = _check_size("size", size)
    pairs = tuple((a, b) for a in platforms for b in platforms if a != b)
    if not pairs:
        raise ValueError(f"Expected at least two platforms. Received: {list(platforms)}")
    parameters = dict(n_sources=n_sources, platforms=list(platforms), size=size, n_phones=n_phones,
                      random_state=random_state)  # fmt: skip
    items = [(i, _item_seed(random_state, i), size, pairs, n_phones) for i in range(n_sources)]
    description = (f"simulated sharing chains: {n_sources} camera originals ({size[1]}x{size[0]}), each shared on "
                   f"every ordered pair of {', '.join(platforms)}")  # fmt: skip
    return _build("sharing_chains", [f"{a}_then_{b}" for a, b in pairs], parameters, _chain_item, items,
                  description=description, with_devices=False, cache_dir=cache_dir, n_jobs=n_jobs,
                  progress=progress)  # fmt: skip


#: Builders by name, for notebooks that take the dataset as a parameter.
BUILDERS: dict[str, Callable[..., ImageDataset]] = {
    "controlled_social": build_controlled_social,
    "uncontrolled_social": build_uncontrolled_social,
    "iplab_like": build_iplab_like,
    "manipulations": build_manipulations,
    "cameras": build_cameras,
    "sharing_chains": build_sharing_chains,
}


@functools.lru_cache(maxsize=1)
def _simulator_digest() -> str:
    """SHA-256 over the source files that decide a simulated dataset's bytes: the simulators, this module and the
    JPEG encoder. A cached dataset built by other simulators is then a miss, never silently reused."""
    package = Path(__file__).resolve().parents[1]
    files = sorted((package / "data" / "synth").glob("*.py")) + [Path(__file__).resolve(), package / "provenance" / "jpeg.py"]
    return cache.cache_key(*[(str(f.relative_to(package)), cache.file_digest(f)) for f in files])


def build_dataset(name: str, **parameters) -> ImageDataset:
    """Build (or load from the cache) a simulated dataset by name; see `BUILDERS`."""
    if name not in BUILDERS:
        raise ValueError(f"Expected a dataset among {sorted(BUILDERS)}. Received: {name!r}")
    return BUILDERS[name](**parameters)
