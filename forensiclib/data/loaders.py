"""Loaders of the real datasets: each reads a folder you downloaded into an `ImageDataset`.

No real dataset ships with the suite (none is redistributable). Each `load_<name>(path)`
checks the folder against the layout its docstring documents and returns the same
structure as the simulated builders, with the same class names (those of
`forensiclib.data.synth.platforms.PLATFORMS`: `"facebook"`, `"google_plus"`, `"original"`, ...),
so a notebook switches from simulated to real data with one parameter.

Common behaviour:
- Files are listed recursively (links followed, each folder once, so a link loop ends;
  folders whose name starts with a dot are not read). Image files are recognised by their
  first bytes (JPEG `FF D8 FF`, PNG, TIFF), whatever their extension. Every other file, and
  every file that cannot be opened (permissions, broken or looping links), is skipped with
  its reason in `ImageDataset.skipped`; the description says how many and names a few.
  Loading reads eight bytes per file and decodes nothing: a truncated or corrupt image is
  found, and skipped with its reason, when its features are extracted.
- Folder names are compared ignoring case and every character but letters and digits
  (`+` reads "plus"), so `Google+`, `google_plus` and `GooglePlus` are one name.
- A missing path raises `FileNotFoundError`. A folder that does not match its layout
  raises `ValueError` naming the layout and everything that differs: missing classes,
  classes without a readable image, unexpected folders (a few named, then "and N more").
"""

from __future__ import annotations

import csv as csv_module
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

from ..paper import PAPER1_CLASSES_3, PAPER1_CLASSES_8
from ._folders import (
    _DEVICE_FOLDER,
    _child,
    _class_folders,
    _device_folders,
    _lookup,
    _normal,
    _Record,
    _some,
    _start,
    _subfolders,
)
from .datasets import ImageDataset

__all__ = [
    "SOCIAL_CLASSES",
    "IPLAB_CLASSES",
    "VISION_KINDS",
    "FODB_PLATFORMS",
    "load_ucid_social",
    "load_public_social",
    "load_iplab",
    "load_dresden",
    "load_vision",
    "load_fodb",
]

#: UCID social and Public social (paper 1, Tables I-II).
SOCIAL_CLASSES = PAPER1_CLASSES_3
#: Paper 1, Table VII, in its order; `original` is the camera's own JPEG.
IPLAB_CLASSES = PAPER1_CLASSES_8
#: VISION image folders and the class each becomes with `label="platform"` (`flat`: flat-field shots).
VISION_KINDS = {
    "flat": "flat", "nat": "original", "natFBH": "facebook_high", "natFBL": "facebook_low", "natWA": "whatsapp",
}
#: FODB: the camera original and its five social-network versions.
FODB_PLATFORMS = ("original", "facebook", "instagram", "telegram", "twitter", "whatsapp")

_BY_NAME = "Groups: by file name (one per file; a name repeated across class folders is taken as one source)."
_UCID_IMAGES = 1338  # UCID's source images are numbered 1..1338
_DRESDEN_FOLDER = re.compile(r"^(?P<model>.+)_(?P<instance>\d+)$")


def load_ucid_social(path: str | Path) -> ImageDataset:
    """UCID social (paper 1, Sec. IV): UCID images as JPEG at QF 50..95, shared on three platforms.

    Layout: `path/facebook/`, `path/flickr/`, `path/twitter/` (any case), image files
    anywhere below each (sub-folders per quality are fine). Classes: `SOCIAL_CLASSES`.

    Groups: the UCID source image, read from each file name: the digits after "ucid"
    (`ucid00017_qf50.jpg` -> 17), else the first number in the name (`17_50.jpg` -> 17).
    The official file naming is not documented in the paper; this rule is an assumption.
    It is used only when every file yields a number in 1..1338 (UCID's range); otherwise
    files are grouped by file name (a name repeated across platform folders is one group,
    else one group per file) and the description says so.

    Example:
        >>> data = load_ucid_social("~/data/ucid_social")  # doctest: +SKIP
        >>> split_by_group(data, random_state=0)["test"].class_counts()  # doctest: +SKIP
    """
    scan = _class_folders(path, "the UCID social layout: folders facebook/, flickr/, twitter/ of images",
                          SOCIAL_CLASSES)
    numbers = [_ucid_number(r.file.stem) for r in scan.records]
    if scan.records and None not in numbers:
        for record, number in zip(scan.records, numbers):
            record.group = f"ucid{number}"
        rule = (f"Groups: the UCID source number in each file name ({len(set(numbers))} sources), so all "
                "platforms and qualities of one source stay together.")
    else:
        bad = [r.file.name for r, n in zip(scan.records, numbers) if n is None]
        rule = (f"Groups: {len(bad)} file names carry no UCID number in 1..{_UCID_IMAGES} (e.g. {_some(bad)}), "
                "so files are grouped by file name only (one group per file unless a name repeats across "
                "folders); copies of one source on several platforms may straddle splits.")
    return scan.dataset("ucid_social", SOCIAL_CLASSES, f"UCID social (real data, Amerini et al. 2017). {rule}")


def load_public_social(path: str | Path) -> ImageDataset:
    """Public social (paper 1, Sec. IV): images downloaded from three platforms, uncontrolled.

    Layout: `path/facebook/`, `path/flickr/`, `path/twitter/` (any case), image files
    anywhere below each. Classes: `SOCIAL_CLASSES`. Groups: by file name, i.e. one group
    per file unless the same name occurs in several folders (then taken as one source).

    Example:
        >>> data = load_public_social("~/data/public_social")  # doctest: +SKIP
        >>> data.class_counts()  # doctest: +SKIP
        {'facebook': 1000, 'flickr': 1000, 'twitter': 1000}
    """
    scan = _class_folders(path, "the Public social layout: folders facebook/, flickr/, twitter/ of images",
                          SOCIAL_CLASSES)
    return scan.dataset("public_social", SOCIAL_CLASSES,
                        f"Public social (real data, Amerini et al. 2017). {_BY_NAME}")


def load_iplab(path: str | Path) -> ImageDataset:
    """IPLab (paper 1, Sec. IV, Table VII): camera JPEGs and their copies from 7 platforms.

    Layout: one folder per class in `path`, any of `IPLAB_CLASSES` in any common
    spelling: `Facebook`, `Flickr`, `Google+` (`google_plus`, `GooglePlus`, `G+`),
    `Instagram`, `Original` (`orig`), `Telegram`, `Twitter`, `WhatsApp`. Classes keep
    Table VII's order. A subset is accepted if at least two classes are present; the
    missing ones are named in the description and in a warning. Groups: by file name
    (a name repeated across platform folders is taken as one source image).

    Example:
        >>> data = load_iplab("~/data/iplab")  # doctest: +SKIP
        >>> data.select_classes(["facebook", "flickr", "twitter"])  # Tables III and VI  # doctest: +SKIP
    """
    layout = "the IPLab layout: one folder per platform among " + ", ".join(f"{c}/" for c in IPLAB_CLASSES)
    scan = _class_folders(path, layout, IPLAB_CLASSES, minimum=2)
    present = tuple(c for c in IPLAB_CLASSES if c in scan.found)
    missing = [c for c in IPLAB_CLASSES if c not in present]
    relabel = {IPLAB_CLASSES.index(c): i for i, c in enumerate(present)}
    for record in scan.records:
        record.label = relabel[record.label]
    note = f" Classes missing from the folder (left out): {', '.join(missing)}." if missing else ""
    data = scan.dataset("iplab", present, f"IPLab (real data, Giudice et al. 2017).{note} {_BY_NAME}")
    if missing:
        warnings.warn(f"IPLab at {scan.root}: no folder for {missing}; loaded {list(present)} only", stacklevel=2)
    return data


def load_dresden(path: str | Path, *, csv: str | Path | None = None) -> ImageDataset:
    """The Dresden Image Database (paper 2, Sec. 5): camera models with several devices each.

    Two layouts:
    - `csv=None`: one folder per device in `path`, named `<Brand>_<Model>_<instance>`
      (`Canon_Ixus70_0`, `Olympus_mju_1050SW_1`): the model is the name up to the last
      `_`, the instance the final number. Image files anywhere below each folder.
    - `csv=`: the database's CSV list; columns `filename`, `brand`, `model` and
      `instance` (or `device`), any case, other columns ignored (assumed from the
      official list). Files are found by name anywhere under `path` (e.g. the flat
      download folder); rows whose file is absent and images not listed are counted
      in the description. The model is `<brand>_<model>`.

    Classes: camera models, sorted. `devices`: one id per (model, instance). Groups: one
    per file (Dresden's scenes are shared by all cameras; hold devices out with
    `split_by_device`, as paper 2 does).

    Example:
        >>> data = load_dresden("~/data/dresden")  # doctest: +SKIP
        >>> split_by_device(data, random_state=0)  # one device per model held out  # doctest: +SKIP
    """
    if csv is not None:
        return _dresden_from_csv(path, Path(csv).expanduser())
    scan = _start(path, "the Dresden layout: one folder per device named <Brand>_<Model>_<instance>, "
                        "e.g. Canon_Ixus70_0/")
    scan.loose_files("outside the device folders (for the flat download with its CSV, pass csv=)")
    folders = [(f, _DRESDEN_FOLDER.match(f.name)) for f in _subfolders(scan.root)]
    scan.problem("unexpected folders", [f"{f.name}/" for f, match in folders if match is None])
    devices = [(f, match["model"]) for f, match in folders if match is not None]
    scan.problem("device folders", [] if devices else ["none found"])
    classes = sorted({model for _, model in devices})
    for folder, model in devices:
        images = scan.images(folder)
        scan.problem("device folders without a readable image", [] if images else [folder.name])
        scan.records += [_Record(f, classes.index(model), str(f), folder.name) for f in images]
    return scan.dataset("dresden", classes, "Dresden Image Database (real data, Gloe and Boehme 2010), "
                        "device folders. Groups: one per file.", devices=True)


def load_vision(path: str | Path, *, kinds: Sequence[str] = ("nat",), label: str = "model") -> ImageDataset:
    """VISION (Shullani et al. 2017): 35 smartphones, native images and their shared copies.

    Layout: one folder per device in `path`, named `D<number>_<Brand>_<Model>`
    (`D01_Samsung_GalaxyS3Mini`), holding `images/<kind>/` for each kind in `kinds`:
    `flat`, `nat` (native), `natFBH`, `natFBL` (Facebook high / low quality), `natWA`
    (WhatsApp). Other folders (`videos/`, kinds not asked for) are not read. A device
    without any of `kinds` is an error; one with some of them is named in the description.

    Args:
        path: the folder holding the device folders.
        kinds: which image folders to read (any case).
        label: `"model"`: classes are camera models (`Samsung_GalaxyS3Mini`, sorted),
            for camera identification; `"platform"`: classes are the kinds, in the
            order given, named by `VISION_KINDS` (`nat` -> `original`, `natWA` ->
            `whatsapp`), for provenance (two kinds at least, `flat` excluded).

    `devices`: one id per device folder. Groups: one photograph and its shared copies,
    assuming VISION's naming `D01_I_<kind>_0001.jpg`, where the same number in another
    kind folder is the copy of the same native image: the group is the device and the
    file name without the kind (`D01_I_0001`). A file named otherwise is grouped with
    files of the same name in the device's other kind folders.

    Example:
        >>> data = load_vision("~/data/VISION", kinds=("nat", "natFBH", "natFBL", "natWA"),
        ...                    label="platform")  # doctest: +SKIP
    """
    kinds = _vision_kinds(kinds, label)
    scan = _start(path, "the VISION layout: one folder per device named D<number>_<Brand>_<Model>, each with "
                        + ", ".join(f"images/{k}/" for k in kinds))
    scan.loose_files("outside the device folders")
    devices = _device_folders(scan)
    classes = [VISION_KINDS[k] for k in kinds] if label == "platform" else sorted({m for _, m in devices})
    partial, without = [], []
    for folder, model in devices:
        images_folder = _child(folder, "images")
        found = {_normal(f.name): f for f in _subfolders(images_folder)} if images_folder else {}
        present = [k for k in kinds if _normal(k) in found]
        partial += [f"{folder.name}/images/{k}" for k in kinds if k not in present]
        without += [] if present else [folder.name]
        for kind in present:
            target = classes.index(VISION_KINDS[kind] if label == "platform" else model)
            for file in scan.images(found[_normal(kind)]):
                photo = "_".join(t for t in file.stem.lower().split("_") if t != kind.lower())
                scan.records.append(_Record(file, target, f"{folder.name}/{photo}", folder.name))
    scan.problem("device folders without " + " or ".join(f"images/{k}" for k in kinds), without)
    note = f" Missing kind folders: {_some(partial)}." if partial else ""
    description = (f"VISION (real data, Shullani et al. 2017), kinds {', '.join(kinds)}, classes by {label}."
                   f"{note} Groups: a photograph and its shared copies.")
    return scan.dataset("vision", classes, description, devices=True)


def load_fodb(path: str | Path, *, label: str = "platform") -> ImageDataset:
    """FODB, the Forchheim image database (Hadwiger and Riess 2021): originals and 5 platform copies.

    Layout (assumed; two variants accepted): one folder per device in `path`, named
    `D<number>` or `D<number>_<Brand>_<Model>` (`D01_Motorola_E3`); below it, each
    image's platform is named either by a folder (`orig/`, `facebook/`, ...) or by a
    token of its file name (`D01_img_orig_0001.jpg`, `D01_img_WA_0001.jpg`). Platform
    spellings: `orig`/`original`, `facebook`/`fb`, `instagram`/`ig`, `telegram`/`tg`,
    `twitter`/`tw`, `whatsapp`/`wa`, any case. All six platforms must be present.

    Args:
        path: the folder holding the device folders.
        label: `"platform"`: classes are `FODB_PLATFORMS` (provenance); `"model"`:
            camera models from the folder names, sorted (camera identification).

    `devices`: one id per device folder. Groups: the scene, i.e. the file name without
    the device id and the platform (`D01_img_orig_0001` -> `img_0001`), shared across
    platforms and across devices: FODB's devices photographed the same scenes, and
    keeping a scene out of training on every device removes the content side channel.
    If scene numbers were not shared across devices, these groups are coarser than
    needed but still never leak.

    Example:
        >>> data = load_fodb("~/data/FODB")  # doctest: +SKIP
        >>> data.summary()  # doctest: +SKIP
    """
    if label not in ("platform", "model"):
        raise ValueError(f"Expected label 'platform' or 'model'. Received: {label!r}")
    scan = _start(path, "the FODB layout: one folder per device named D<number>[_<Brand>_<Model>], each "
                        f"image's platform ({', '.join(FODB_PLATFORMS)}) named by a sub-folder or a file-name token")
    scan.loose_files("outside the device folders")
    devices = _device_folders(scan)
    classes = FODB_PLATFORMS if label == "platform" else tuple(sorted({m for _, m in devices}))
    lookup = _lookup(FODB_PLATFORMS)
    platforms, unnamed, ambiguous, platform_folders = set(), [], [], set()
    for folder, model in devices:
        device_id = _DEVICE_FOLDER.match(folder.name)["device"].lower()
        platform_folders |= {lookup[_normal(f.name)] for f in _subfolders(folder) if _normal(f.name) in lookup}
        for file in scan.images(folder):
            named = {lookup[_normal(p)] for p in file.relative_to(folder).parts[:-1] if _normal(p) in lookup}
            tokens = [t.lower() for t in re.split(r"[^0-9A-Za-z]+", file.stem) if t]
            named = named or {lookup[t] for t in tokens if t in lookup}
            if len(named) != 1:
                (ambiguous if named else unnamed).append(str(file.relative_to(scan.root)))
                continue
            platform = named.pop()
            platforms.add(platform)
            scene = "_".join(t for t in tokens if t not in lookup and t != device_id)
            target = classes.index(platform if label == "platform" else model)
            scan.records.append(_Record(file, target, scene or str(file), folder.name))
    scan.problem("images whose platform no folder or file-name token names", unnamed)
    scan.problem("images named with several platforms", ambiguous)
    scan.missing_classes("missing platforms", [p for p in FODB_PLATFORMS if p not in platforms | platform_folders])
    if label == "model":  # platforms are not the classes here: name the empty ones
        scan.problem("platforms without a readable image",
                     [p for p in FODB_PLATFORMS if p in platform_folders - platforms])
    return scan.dataset("fodb", classes, f"FODB (real data, Hadwiger and Riess 2021), classes by {label}. "
                        "Groups: the scene across platforms and devices.", devices=True)


def _dresden_from_csv(path: str | Path, csv_path: Path) -> ImageDataset:
    columns_wanted = "filename, brand, model, instance (or device)"
    if not csv_path.is_file():
        raise FileNotFoundError(f"Expected the Dresden CSV list with columns {columns_wanted}. "
                                f"Received: {csv_path} (no such file)")
    text = csv_path.read_text(encoding="utf-8-sig")
    try:
        dialect = csv_module.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv_module.Error:
        dialect = csv_module.excel
    reader = csv_module.DictReader(text.splitlines(), dialect=dialect)
    columns = {_normal(c): c for c in reader.fieldnames or ()}
    aliases = {"filename": ("filename", "file"), "brand": ("brand", "make"), "model": ("model",),
               "instance": ("instance", "device")}
    chosen = [next((columns[a] for a in names if a in columns), None) for names in aliases.values()]
    if None in chosen:
        raise ValueError(f"Expected a Dresden CSV with columns {columns_wanted}. "
                         f"Received: {csv_path} with columns {reader.fieldnames}")
    scan = _start(path, f"the Dresden layout: images under the folder, listed by name in {csv_path.name}")
    by_name: dict[str, list[Path]] = {}
    for file in scan.images(scan.root):
        by_name.setdefault(file.name.lower(), []).append(file)
    scan.problem("several images of one name", [files[0].name for files in by_name.values() if len(files) > 1])
    listed, bad_rows, absent = {}, [], []
    for line, row in enumerate(reader, start=2):
        name, brand, model, instance = (str(row.get(column) or "").strip() for column in chosen)
        name = Path(name).name
        if not (name and brand and model and instance):
            bad_rows.append(f"line {line}")
        elif name.lower() in by_name:
            listed[name.lower()] = (f"{brand}_{model}", f"{brand}_{model}_{instance}")
        else:
            absent.append(name)
    scan.problem("rows with an empty filename, brand, model or instance", bad_rows)
    scan.problem("images listed in the CSV and found under the folder", [] if listed else ["none"])
    classes = sorted({model for model, _ in listed.values()})
    for key, (model, device) in listed.items():
        scan.records.append(_Record(by_name[key][0], classes.index(model), key, device))
    unlisted = [str(files[0].relative_to(scan.root)) for key, files in by_name.items() if key not in listed]
    description = f"Dresden Image Database (real data, Gloe and Boehme 2010), listed by {csv_path}."
    if absent:
        description += f" {len(absent)} files listed in the CSV are not under the folder (e.g. {_some(absent)})."
    if unlisted:
        description += f" {len(unlisted)} images not listed in the CSV were left out ({_some(unlisted)})."
    return scan.dataset("dresden", classes, description + " Groups: one per file.", devices=True)


def _vision_kinds(kinds: Sequence[str], label: str) -> tuple[str, ...]:
    """The kinds, spelled as in `VISION_KINDS`, after checking them against `label`."""
    if label not in ("platform", "model"):
        raise ValueError(f"Expected label 'platform' or 'model'. Received: {label!r}")
    spelling = {k.lower(): k for k in VISION_KINDS}
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    lowered = [str(k).lower() for k in kinds]
    if not kinds or len(set(lowered)) < len(kinds) or any(k not in spelling for k in lowered):
        raise ValueError(f"Expected distinct kinds among {list(VISION_KINDS)}. Received: {list(kinds)}")
    kinds = tuple(spelling[k] for k in lowered)
    if label == "platform" and (len(kinds) < 2 or "flat" in kinds):
        raise ValueError("Expected at least two kinds other than 'flat' to tell platforms apart, e.g. "
                         f"kinds=('nat', 'natFBH', 'natFBL', 'natWA'). Received: {list(kinds)}")
    return kinds


def _ucid_number(stem: str) -> int | None:
    """The UCID source number in a file name, or None (see `load_ucid_social`)."""
    match = re.search(r"ucid0*(\d+)", stem, re.IGNORECASE) or re.search(r"(\d+)", stem)
    number = int(match.group(1)) if match else 0
    return number if 1 <= number <= _UCID_IMAGES else None

