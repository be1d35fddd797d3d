"""Loaders of the real datasets, on small trees laid out like each dataset, with tiny real JPEGs."""

from __future__ import annotations

import os
import re
import shutil

import numpy as np
import pytest

from forensiclib.data.datasets import split_by_device, split_by_group
from forensiclib.data.loaders import (
    FODB_PLATFORMS,
    IPLAB_CLASSES,
    load_dresden,
    load_fodb,
    load_iplab,
    load_public_social,
    load_ucid_social,
    load_vision,
)
from forensiclib.provenance.jpeg import encode_jpeg

_RNG = np.random.default_rng(0)


def jpeg(path):
    """A 16x16 random-colour JPEG at `path` (folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return encode_jpeg(_RNG.integers(0, 256, (16, 16, 3), dtype=np.uint8), path, quality=90)


def text(path, content="not an image"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return path


def by_name(dataset):
    """{file name: (class name, group, device or None)}."""
    return {
        f.name: (dataset.classes[label], group, None if dataset.devices is None else dataset.devices[i])
        for i, (f, label, group) in enumerate(zip(dataset.files, dataset.labels, dataset.groups))
    }


def ucid_number(path):
    return int(re.search(r"ucid(\d+)", path.name).group(1))


def check_common(dataset, root, name, n_files, n_skipped):
    assert dataset.name == name
    assert dataset.simulated is False
    assert len(dataset) == n_files
    assert str(root) in dataset.description
    assert all(f.is_absolute() and f.is_file() for f in dataset.files)
    assert len(dataset.skipped) == n_skipped
    if n_skipped:
        assert f"Skipped {n_skipped} files" in dataset.description
    else:
        assert "Skipped" not in dataset.description


# ---- UCID social and Public social -------------------------------------------------------------


def ucid_tree(root):
    for platform in ("facebook", "flickr", "twitter"):
        for number in (1, 2, 3):
            for quality in (50, 90):
                jpeg(root / platform / f"QF{quality}" / f"ucid{number:05d}_qf{quality}.jpg")
    text(root / "flickr" / "notes.txt")
    text(root / "README.md")
    return root


def test_ucid_social_groups_sources_across_platforms_and_qualities(tmp_path):
    data = load_ucid_social(ucid_tree(tmp_path))
    check_common(data, tmp_path, "ucid_social", 18, 2)
    assert data.classes == ("facebook", "flickr", "twitter")
    assert data.class_counts() == {"facebook": 6, "flickr": 6, "twitter": 6}
    assert data.devices is None
    for f, label, group in zip(data.files, data.labels, data.groups):
        assert f.relative_to(tmp_path).parts[0] == data.classes[label]
        same_source = [ucid_number(g) == ucid_number(f) for g in data.files]
        assert set(data.groups[same_source]) == {group}
    assert len(np.unique(data.groups)) == 3
    assert "UCID source number" in data.description


def test_ucid_social_without_numbers_falls_back_to_file_names(tmp_path):
    for platform in ("facebook", "flickr", "twitter"):
        jpeg(tmp_path / platform / f"photo_{platform}.jpg")
        jpeg(tmp_path / platform / "shared.jpg")
    data = load_ucid_social(tmp_path)
    assert "no UCID number" in data.description
    groups = {name: group for name, (_, group, _) in by_name(data).items()}
    assert len(np.unique(data.groups)) == 4  # three unique names + "shared" across folders
    assert len({groups["photo_facebook.jpg"], groups["photo_flickr.jpg"], groups["photo_twitter.jpg"]}) == 3
    shared = data.groups[[f.name == "shared.jpg" for f in data.files]]
    assert len(shared) == 3 and len(set(shared)) == 1


def test_ucid_number_after_ucid_wins_over_a_leading_quality(tmp_path):
    for platform in ("facebook", "flickr", "twitter"):
        jpeg(tmp_path / platform / "QF50_ucid00007.jpg")
        jpeg(tmp_path / platform / "ucid00007_QF90.jpg")
        jpeg(tmp_path / platform / "QF50_ucid00008.jpg")
    data = load_ucid_social(tmp_path)
    seven = [f.name.endswith(("ucid00007.jpg", "ucid00007_QF90.jpg")) for f in data.files]
    assert len(set(data.groups[seven])) == 1 and len(np.unique(data.groups)) == 2


def test_ucid_number_out_of_range_falls_back(tmp_path):
    for platform in ("facebook", "flickr", "twitter"):
        jpeg(tmp_path / platform / "ucid00001.jpg")
        jpeg(tmp_path / platform / "13900301_10153863542651478_n.jpg")  # a platform's own name
    assert "no UCID number" in load_ucid_social(tmp_path).description


def test_split_by_group_keeps_ucid_sources_together(tmp_path):
    data = load_ucid_social(ucid_tree(tmp_path))
    splits = split_by_group(data, (0.34, 0.33, 0.33), random_state=0)
    assert sum(len(s) for s in splits.values()) == len(data)
    seen = [set(s.groups.tolist()) for s in splits.values()]
    assert all(seen) and not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    for split in splits.values():  # every platform and quality of a source lands together
        for group in np.unique(split.groups):
            assert np.sum(split.groups == group) == 6


def test_public_social_case_insensitive_folders_one_group_per_file(tmp_path):
    for folder, names in (("Facebook", "ab"), ("FLICKR", "cd"), ("twitter", "ef")):
        for name in names:
            jpeg(tmp_path / folder / f"{name}.jpg")
    encode_png = tmp_path / "twitter" / "g.png"
    from PIL import Image

    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(encode_png)
    text(tmp_path / "twitter" / "fake.jpg")  # named like a JPEG, is not one
    jpeg(tmp_path / "twitter" / ".ipynb_checkpoints" / "e-checkpoint.jpg")  # hidden folders are not read
    data = load_public_social(tmp_path)
    check_common(data, tmp_path, "public_social", 7, 1)
    assert "fake.jpg" in data.description
    assert data.classes == ("facebook", "flickr", "twitter")
    assert [data.classes[i] for i in data.labels] == ["facebook"] * 2 + ["flickr"] * 2 + ["twitter"] * 3
    assert len(np.unique(data.groups)) == 7


@pytest.mark.parametrize("loader", [load_ucid_social, load_public_social])
def test_social_errors(loader, tmp_path):
    with pytest.raises(FileNotFoundError, match="facebook/, flickr/, twitter/.*no such folder"):
        loader(tmp_path / "absent")
    jpeg(tmp_path / "facebook" / "ucid00001.jpg")
    jpeg(tmp_path / "instagram" / "ucid00001.jpg")
    text(tmp_path / "twitter" / "readme.txt")
    with pytest.raises(ValueError, match="unexpected folders: instagram/") as error:
        loader(tmp_path)
    message = str(error.value)
    assert "missing class folders: flickr" in message
    assert "classes without a readable image: twitter" in message  # flickr is reported once, as missing
    assert message.startswith("Expected the ")


def test_social_error_for_a_file_and_loose_images(tmp_path):
    with pytest.raises(ValueError, match="a file, not a folder"):
        load_public_social(jpeg(tmp_path / "x.jpg"))
    for platform in ("facebook", "flickr", "twitter"):
        jpeg(tmp_path / platform / "a.jpg")
    with pytest.raises(ValueError, match="images outside the class folders: x.jpg"):
        load_public_social(tmp_path)


def test_unreadable_files_are_skipped_with_their_reasons(tmp_path):
    for platform in ("facebook", "flickr", "twitter"):
        jpeg(tmp_path / platform / "a.jpg")
    for i in range(7):
        os.symlink(tmp_path / f"nowhere{i}", tmp_path / "flickr" / f"broken{i}.jpg")
    os.symlink("loop.jpg", tmp_path / "twitter" / "loop.jpg")  # a link to itself
    os.symlink(tmp_path / "twitter", tmp_path / "twitter" / "again")  # a folder loop
    (tmp_path / "facebook" / "empty.jpg").write_bytes(b"")
    data = load_public_social(tmp_path)
    assert len(data) == 3
    reasons = dict(data.skipped)
    assert len(reasons) == 9
    assert reasons["flickr/broken0.jpg"].startswith("broken or looping link")
    assert reasons["twitter/loop.jpg"].startswith("broken or looping link")
    assert reasons["facebook/empty.jpg"] == "empty file"
    assert "Skipped 9 files: " in data.description and "and 4 more" in data.description


# ---- IPLab ---------------------------------------------------------------------------------------

IPLAB_FOLDERS = ("Facebook", "flickr", "Google+", "INSTAGRAM", "Original", "telegram", "Twitter", "whats_app")


def test_iplab_spellings_and_table_vii_order(tmp_path):
    for index, folder in enumerate(IPLAB_FOLDERS):
        for i in range(index % 2 + 1):
            jpeg(tmp_path / folder / f"{folder}_{i}.jpg")
        jpeg(tmp_path / folder / "same_source.jpg")
    text(tmp_path / "Original" / "Thumbs.db")
    data = load_iplab(tmp_path)
    check_common(data, tmp_path, "iplab", 8 + 12, 1)
    assert data.classes == IPLAB_CLASSES
    assert data.classes == (
        "facebook", "flickr", "google_plus", "instagram", "original", "telegram", "twitter", "whatsapp",
    )
    names = by_name(data)
    assert names["Google+_0.jpg"][0] == "google_plus"
    assert names["whats_app_1.jpg"][0] == "whatsapp"
    same = data.groups[[f.name == "same_source.jpg" for f in data.files]]
    assert len(same) == 8 and len(set(same)) == 1


@pytest.mark.parametrize("folder", ["google_plus", "GooglePlus", "Google Plus", "G+"])
def test_iplab_google_plus_spellings(folder, tmp_path):
    jpeg(tmp_path / folder / "a.jpg")
    jpeg(tmp_path / "WhatsApp" / "b.jpg")
    with pytest.warns(UserWarning, match="no folder for"):
        data = load_iplab(tmp_path)
    assert data.classes == ("google_plus", "whatsapp")


def test_iplab_subset_says_which_classes_are_missing(tmp_path):
    jpeg(tmp_path / "Twitter" / "a.jpg")
    jpeg(tmp_path / "Facebook" / "b.jpg")
    with pytest.warns(UserWarning, match="instagram"):
        data = load_iplab(tmp_path)
    assert data.classes == ("facebook", "twitter")
    assert data.labels.tolist() == [0, 1]
    missing = "flickr, google_plus, instagram, original, telegram, whatsapp"
    assert f"Classes missing from the folder (left out): {missing}." in data.description


def test_iplab_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="IPLab layout"):
        load_iplab(tmp_path / "absent")
    jpeg(tmp_path / "Facebook" / "a.jpg")
    missing = "flickr, google_plus, instagram, original, telegram, twitter, whatsapp"  # all named, none cut
    with pytest.raises(ValueError, match=re.escape(f"missing class folders (at least 2 needed): {missing}")):
        load_iplab(tmp_path)
    jpeg(tmp_path / "MySpace" / "a.jpg")
    with pytest.raises(ValueError, match="unexpected folders: MySpace/"):
        load_iplab(tmp_path)
    (tmp_path / "MySpace" / "a.jpg").unlink()
    (tmp_path / "MySpace").rename(tmp_path / "Telegram")
    with pytest.raises(ValueError, match="classes without a readable image: telegram"):
        load_iplab(tmp_path)
    jpeg(tmp_path / "facebook" / "b.jpg")
    jpeg(tmp_path / "Telegram" / "b.jpg")
    with pytest.raises(ValueError, match="several folders for one class: Facebook, facebook"):
        load_iplab(tmp_path)


# ---- Dresden -------------------------------------------------------------------------------------

DRESDEN_DEVICES = ("Canon_Ixus70_0", "Canon_Ixus70_1", "Nikon_D200_0", "Nikon_D200_1", "Olympus_mju_1050SW_0",
                   "Olympus_mju_1050SW_2")


def dresden_tree(root):
    for device in DRESDEN_DEVICES:
        for i in range(3):
            jpeg(root / device / f"{device}_{i}.JPG")
    text(root / "Nikon_D200_0" / "desktop.ini")
    return root


def test_dresden_device_folders(tmp_path):
    data = load_dresden(dresden_tree(tmp_path))
    check_common(data, tmp_path, "dresden", 18, 1)
    assert data.classes == ("Canon_Ixus70", "Nikon_D200", "Olympus_mju_1050SW")
    assert len(np.unique(data.devices)) == 6 and len(np.unique(data.groups)) == 18
    for f, label, device in zip(data.files, data.labels, data.devices):
        assert f.parent.name.rsplit("_", 1)[0] == data.classes[label]
        assert set(data.devices[[g.parent == f.parent for g in data.files]]) == {device}


def test_split_by_device_holds_out_dresden_devices(tmp_path):
    data = load_dresden(dresden_tree(tmp_path))
    splits = split_by_device(data, random_state=0)
    assert len(splits["train"]) + len(splits["test"]) == len(data)
    assert not set(splits["train"].devices.tolist()) & set(splits["test"].devices.tolist())
    assert sorted(set(splits["test"].labels.tolist())) == [0, 1, 2]  # one device per model held out
    assert len(set(splits["test"].devices.tolist())) == 3


def dresden_csv(root):
    lines = ['"filename","url","brand","model","instance","scene"']
    for brand, model, instance in (("Canon", "Ixus70", 0), ("Canon", "Ixus70", 1), ("Nikon", "D200", 0)):
        for i in range(2):
            name = f"{brand}_{model}_{instance}_{i}.JPG"
            jpeg(root / "images" / name)
            lines.append(f'"{name}","http://example.org/{name}","{brand}","{model}","{instance}","1"')
    lines.append('"Nikon_D200_1_0.JPG","u","Nikon","D200","1","1"')  # listed, not downloaded
    jpeg(root / "images" / "holiday.jpg")  # downloaded, not listed
    (root / "dresden.csv").write_text("\n".join(lines) + "\n")
    return root / "dresden.csv"


def test_dresden_csv(tmp_path):
    data = load_dresden(tmp_path, csv=dresden_csv(tmp_path))
    check_common(data, tmp_path, "dresden", 6, 1)  # the CSV itself is a skipped non-image file
    assert data.classes == ("Canon_Ixus70", "Nikon_D200")
    names = by_name(data)
    assert names["Canon_Ixus70_0_1.JPG"][0] == "Canon_Ixus70"
    device = {name: entry[2] for name, entry in names.items()}
    assert device["Canon_Ixus70_0_0.JPG"] == device["Canon_Ixus70_0_1.JPG"] != device["Canon_Ixus70_1_0.JPG"]
    assert len(np.unique(data.devices)) == 3
    assert "1 files listed in the CSV are not under the folder (e.g. Nikon_D200_1_0.JPG)" in data.description
    assert "1 images not listed in the CSV were left out (images/holiday.jpg)" in data.description


def test_dresden_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Canon_Ixus70_0/.*no such folder"):
        load_dresden(tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match="Dresden CSV"):
        load_dresden(tmp_path, csv=tmp_path / "absent.csv")
    dresden_tree(tmp_path)
    jpeg(tmp_path / "natural" / "a.jpg")
    (tmp_path / "Canon_Ixus70_5").mkdir()
    text(tmp_path / "Canon_Ixus70_5" / "notes.txt")
    jpeg(tmp_path / "Canon_Ixus70_0_9.JPG")
    with pytest.raises(ValueError, match="unexpected folders: natural/") as error:
        load_dresden(tmp_path)
    assert "device folders without a readable image: Canon_Ixus70_5" in str(error.value)
    assert "images outside the device folders (for the flat download with its CSV, pass csv=): " \
        "Canon_Ixus70_0_9.JPG" in str(error.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="device folders: none found"):
        load_dresden(empty)


def test_dresden_csv_errors(tmp_path):
    bad = text(tmp_path / "bad.csv", "name,make\nx.jpg,Canon\n")
    with pytest.raises(ValueError, match=r"columns filename, brand, model, instance.*\['name', 'make'\]"):
        load_dresden(tmp_path, csv=bad)
    rows = "File Name;Brand;Model;Device\nnot_here.jpg;Canon;Ixus70;0\nx.jpg;;Ixus70;0\n"
    listing = text(tmp_path / "list.csv", rows)
    with pytest.raises(ValueError, match="empty filename, brand, model or instance: line 3") as error:
        load_dresden(tmp_path, csv=listing)
    assert "images listed in the CSV and found under the folder: none" in str(error.value)


# ---- VISION --------------------------------------------------------------------------------------

VISION_DEVICES = ("D01_Samsung_GalaxyS3Mini", "D26_Samsung_GalaxyS3Mini", "D05_Apple_iPhone5c", "D14_Apple_iPhone5c")


def vision_tree(root):
    for device in VISION_DEVICES:
        number = device.split("_")[0]
        for kind in ("flat", "nat", "natFBH", "natFBL", "natWA"):
            for i in (1, 2):
                jpeg(root / device / "images" / kind / f"{number}_I_{kind}_{i:04d}.jpg")
        text(root / device / "videos" / "flat" / f"{number}_V_flat_0001.mp4")
    text(root / "D01_Samsung_GalaxyS3Mini" / "images" / "nat" / "info.txt")
    return root


def test_vision_camera_models(tmp_path):
    data = load_vision(vision_tree(tmp_path))
    check_common(data, tmp_path, "vision", 8, 1)  # videos/ is not read
    assert data.classes == ("Apple_iPhone5c", "Samsung_GalaxyS3Mini")
    assert all("_nat_" in f.name for f in data.files)
    assert len(np.unique(data.devices)) == 4 and len(np.unique(data.groups)) == 8
    for f, label in zip(data.files, data.labels):
        assert f.relative_to(tmp_path).parts[0].split("_", 1)[1] == data.classes[label]
    splits = split_by_device(data, random_state=1)
    assert not set(splits["train"].devices.tolist()) & set(splits["test"].devices.tolist())
    assert len(splits["test"]) == 4


def test_vision_platforms_share_groups_across_kinds(tmp_path):
    data = load_vision(vision_tree(tmp_path), kinds=("nat", "natFBH", "natFBL", "natWA"), label="platform")
    assert data.classes == ("original", "facebook_high", "facebook_low", "whatsapp")
    assert data.class_counts() == {"original": 8, "facebook_high": 8, "facebook_low": 8, "whatsapp": 8}
    names = by_name(data)
    group = {name: entry[1] for name, entry in names.items()}
    assert group["D01_I_nat_0001.jpg"] == group["D01_I_natWA_0001.jpg"] == group["D01_I_natFBL_0001.jpg"]
    assert group["D01_I_nat_0001.jpg"] != group["D01_I_nat_0002.jpg"]
    assert group["D01_I_nat_0001.jpg"] != group["D26_I_nat_0001.jpg"]  # another phone's photograph
    assert len(np.unique(data.groups)) == 8
    splits = split_by_group(data, (0.5, 0.25, 0.25), random_state=0)
    parts = [set(s.groups.tolist()) for s in splits.values()]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert all(np.sum(split.groups == g) == 4 for split in splits.values() for g in split.groups)


def test_vision_kinds_in_given_order_and_partial_devices(tmp_path):
    vision_tree(tmp_path)
    for f in (tmp_path / "D14_Apple_iPhone5c" / "images" / "natWA").iterdir():
        f.unlink()
    (tmp_path / "D14_Apple_iPhone5c" / "images" / "natWA").rmdir()
    data = load_vision(tmp_path, kinds=["natwa", "NAT"], label="platform")
    assert data.classes == ("whatsapp", "original")
    assert data.class_counts() == {"whatsapp": 6, "original": 8}
    assert "Missing kind folders: D14_Apple_iPhone5c/images/natWA" in data.description


def test_vision_groups_stay_within_a_device(tmp_path):
    for device in ("D01_Samsung_GalaxyS3Mini", "D26_Samsung_GalaxyS3Mini"):
        for kind in ("nat", "natWA"):
            jpeg(tmp_path / device / "images" / kind / f"IMG_{kind}_0001.jpg")  # no device prefix in names
    data = load_vision(tmp_path, kinds=("nat", "natWA"), label="platform")
    assert len(np.unique(data.groups)) == 2
    for device in np.unique(data.devices):
        assert len(set(data.groups[data.devices == device])) == 1


def test_vision_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="VISION layout"):
        load_vision(tmp_path / "absent")
    with pytest.raises(ValueError, match="label 'platform' or 'model'"):
        load_vision(tmp_path, label="camera")
    with pytest.raises(ValueError, match="distinct kinds among"):
        load_vision(tmp_path, kinds=("nat", "natIG"))
    with pytest.raises(ValueError, match="at least two kinds"):
        load_vision(tmp_path, kinds=("nat",), label="platform")
    with pytest.raises(ValueError, match="at least two kinds other than 'flat'"):
        load_vision(tmp_path, kinds=("flat", "nat"), label="platform")
    vision_tree(tmp_path)
    jpeg(tmp_path / "Samsung_GalaxyS3Mini" / "images" / "nat" / "x.jpg")
    with pytest.raises(ValueError, match="unexpected folders: Samsung_GalaxyS3Mini/"):
        load_vision(tmp_path)
    shutil.rmtree(tmp_path / "Samsung_GalaxyS3Mini")
    (tmp_path / "D40_Sony_Z5" / "videos").mkdir(parents=True)
    with pytest.raises(ValueError, match="device folders without images/nat: D40_Sony_Z5") as error:
        load_vision(tmp_path)
    assert "classes without a readable image: Sony_Z5" in str(error.value)
    text(tmp_path / "D40_Sony_Z5" / "images" / "nat" / "x.txt")
    with pytest.raises(ValueError, match="classes without a readable image: Sony_Z5") as error:
        load_vision(tmp_path)
    assert "device folders without" not in str(error.value)


def test_vision_empty_platform_class(tmp_path):
    vision_tree(tmp_path)
    for device in VISION_DEVICES:
        for f in (tmp_path / device / "images" / "natFBL").iterdir():
            f.unlink()
    with pytest.raises(ValueError, match="classes without a readable image: facebook_low"):
        load_vision(tmp_path, kinds=("nat", "natFBL"), label="platform")


# ---- FODB ----------------------------------------------------------------------------------------

FODB_TOKENS = {
    "original": "orig", "facebook": "FB", "instagram": "IG", "telegram": "TG", "twitter": "TW", "whatsapp": "WA",
}
FODB_DEVICES = ("D01_Motorola_E3", "D02_LG_G6", "D03_LG_G6")


def fodb_tree(root, *, folders=False):
    for device in FODB_DEVICES:
        number = device.split("_")[0]
        for platform, token in FODB_TOKENS.items():
            for scene in (1, 2):
                if folders:
                    jpeg(root / device / platform.capitalize() / f"{number}_img_{scene:04d}.jpg")
                else:
                    jpeg(root / device / f"{number}_img_{token}_{scene:04d}.jpg")
    text(root / "D01_Motorola_E3" / "checksums.md5")
    return root


@pytest.mark.parametrize("folders", [False, True], ids=["file-name tokens", "platform folders"])
def test_fodb_platforms_and_scene_groups(folders, tmp_path):
    data = load_fodb(fodb_tree(tmp_path, folders=folders))
    check_common(data, tmp_path, "fodb", 36, 1)
    assert data.classes == FODB_PLATFORMS
    assert FODB_PLATFORMS == ("original", "facebook", "instagram", "telegram", "twitter", "whatsapp")
    assert data.class_counts() == dict.fromkeys(FODB_PLATFORMS, 6)
    assert len(np.unique(data.devices)) == 3
    assert len(np.unique(data.groups)) == 2  # scene 1 and scene 2, on every platform and device
    for f, label, group in zip(data.files, data.labels, data.groups):
        relative = str(f.relative_to(tmp_path))
        platform = data.classes[label]
        assert (platform.capitalize() in relative) if folders else (f"_{FODB_TOKENS[platform]}_" in relative)
        assert data.groups[[g.stem[-4:] == f.stem[-4:] for g in data.files]].tolist() == [group] * 18


def test_fodb_camera_models_and_device_split(tmp_path):
    data = load_fodb(fodb_tree(tmp_path), label="model")
    assert data.classes == ("LG_G6", "Motorola_E3")
    assert data.class_counts() == {"LG_G6": 24, "Motorola_E3": 12}
    test = split_by_device(data.select_classes(["LG_G6"]), random_state=0)
    assert not set(test["train"].devices.tolist()) & set(test["test"].devices.tolist())
    assert len(test["train"]) == len(test["test"]) == 12


def test_fodb_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="FODB layout"):
        load_fodb(tmp_path / "absent")
    with pytest.raises(ValueError, match="label 'platform' or 'model'"):
        load_fodb(tmp_path, label="scene")
    fodb_tree(tmp_path)
    jpeg(tmp_path / "extras" / "a.jpg")
    jpeg(tmp_path / "D02_LG_G6" / "D02_img_0009.jpg")
    jpeg(tmp_path / "D02_LG_G6" / "D02_img_FB_WA_0009.jpg")
    with pytest.raises(ValueError, match="unexpected folders: extras/") as error:
        load_fodb(tmp_path)
    message = str(error.value)
    assert "images whose platform no folder or file-name token names: D02_LG_G6/D02_img_0009.jpg" in message
    assert "images named with several platforms: D02_LG_G6/D02_img_FB_WA_0009.jpg" in message


def test_fodb_missing_and_empty_platforms(tmp_path):
    fodb_tree(tmp_path)
    for f in tmp_path.rglob("*_TG_*.jpg"):
        f.unlink()
    with pytest.raises(ValueError, match="missing platforms: telegram") as error:
        load_fodb(tmp_path)
    assert "without a readable image" not in str(error.value)
    text(tmp_path / "D03_LG_G6" / "Telegram" / "README.txt")
    with pytest.raises(ValueError, match="classes without a readable image: telegram") as error:
        load_fodb(tmp_path)
    assert "missing platforms" not in str(error.value)
    with pytest.raises(ValueError, match="platforms without a readable image: telegram"):
        load_fodb(tmp_path, label="model")
