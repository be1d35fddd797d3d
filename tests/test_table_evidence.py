"""The quantization tables an identifier keeps: read from headers, counted per class, and the vote among writers."""

import numpy as np
import pytest

import forensiclib as fl
from forensiclib.evaluate import majority_vote
from forensiclib.provenance.table_evidence import TableEvidence, luminance_table, restricted_vote

CLASSES = ("facebook", "twitter", "original")


@pytest.fixture(scope="module")
def jpegs(tmp_path_factory):
    """Three JPEGs at IJG 85, one at IJG 75 and one with a custom table, plus a PNG."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("tables")
    photo = fl.load_photo("chelsea")[:128, :128]
    paths = {}
    for name, quality in (("a85", 85), ("b85", 85), ("c85", 85), ("d75", 75)):
        paths[name] = fl.encode_jpeg(photo, folder / f"{name}.jpg", quality=quality)
    custom = np.arange(1, 65, dtype=np.uint16).reshape(8, 8)
    tables = np.stack([custom, custom])
    paths["custom"] = fl.encode_jpeg(photo, folder / "custom.jpg", quality=75, quantization_tables=tables)
    paths["png"] = folder / "image.png"
    Image.fromarray(photo).save(paths["png"])
    return paths


def test_the_header_table_is_the_one_read_dct_reads(jpegs):
    for name in ("a85", "d75", "custom"):
        assert np.array_equal(luminance_table(jpegs[name]), fl.read_dct(jpegs[name]).quantization_table)
    assert np.array_equal(luminance_table(jpegs["a85"]), fl.ijg_quantization_table(85))
    assert luminance_table(jpegs["png"]) is None
    with pytest.raises(FileNotFoundError):
        luminance_table(jpegs["png"].parent / "missing.jpg")


def test_tables_are_counted_per_class_and_a_table_never_seen_leaves_every_class(jpegs):
    evidence = TableEvidence.from_files([jpegs[n] for n in ("a85", "b85", "c85", "d75", "png")], [1, 1, 2, 0, 0],
                                        CLASSES)  # fmt: skip
    assert evidence.writers(fl.ijg_quantization_table(85)) == {"twitter": 2, "original": 1}
    assert evidence.writers(fl.ijg_quantization_table(75)) == {"facebook": 1}
    assert evidence.candidates(fl.ijg_quantization_table(85)).tolist() == [False, True, True]
    assert evidence.writers(fl.ijg_quantization_table(95)) == {} and evidence.writers(None) == {}
    assert evidence.candidates(fl.ijg_quantization_table(95)).tolist() == [True, True, True]
    assert sum(map(sum, evidence.counts.values())) == 4  # the PNG carries no table


def test_table_evidence_round_trips_through_its_json_record(jpegs):
    evidence = TableEvidence.from_files([jpegs["a85"], jpegs["custom"]], [1, 0], CLASSES)
    again = TableEvidence.from_record(CLASSES, evidence.to_record())
    assert again == evidence
    assert {"table": list(range(1, 65)), "files": {"facebook": 1}} in evidence.to_record()


def test_bad_labels_and_records_are_refused_with_what_was_expected(jpegs):
    with pytest.raises(ValueError, match="one label per file. Received 2 files and 1 labels"):
        TableEvidence.from_files([jpegs["a85"], jpegs["b85"]], [0], CLASSES)
    with pytest.raises(ValueError, match=r"labels in 0..2 .* Received \[3\]"):
        TableEvidence.from_files([jpegs["a85"]], [3], CLASSES)
    with pytest.raises(ValueError, match=r"writers among .* Received \['flickr'\]"):
        TableEvidence.from_record(CLASSES, [{"table": [1] * 64, "files": {"flickr": 2}}])
    with pytest.raises(ValueError, match="64 values. Received 3"):
        TableEvidence.from_record(CLASSES, [{"table": [1, 2, 3], "files": {"twitter": 2}}])


def test_the_vote_among_candidates_is_the_papers_vote_restricted():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet([4, 2, 1], size=50)  # class 0 leads most patches
    label, counts = restricted_vote(probabilities)
    assert label == majority_vote(probabilities, np.zeros(50, dtype=np.int64))[1][0] == 0
    assert counts.tolist() == np.bincount(probabilities.argmax(1), minlength=3).tolist()
    label, counts = restricted_vote(probabilities, np.array([False, True, True]))
    assert label == 1 and counts[0] == 0 and counts.sum() == 50  # every patch votes for class 1 or 2
    assert restricted_vote(probabilities, np.array([False, False, True]))[0] == 2


def test_ignored_classes_are_not_counted_and_survive_the_record(jpegs):
    evidence = TableEvidence.from_files([jpegs["a85"], jpegs["b85"], jpegs["d75"]], [1, 2, 0], CLASSES,
                                        ignore=["original"])  # fmt: skip
    assert evidence.ignored == ("original",)
    assert evidence.writers(fl.ijg_quantization_table(85)) == {"twitter": 1}
    assert TableEvidence.from_record(CLASSES, evidence.to_record(), evidence.ignored) == evidence
    with pytest.raises(ValueError, match=r"classes to ignore among .* Received \['flickr'\]"):
        TableEvidence.from_files([jpegs["a85"]], [0], CLASSES, ignore=["flickr"])


def test_only_platforms_whose_tables_were_measured_count_as_evidence():
    measured = {name: profile.tables_measured for name, profile in fl.PLATFORMS.items()}
    assert measured == {"facebook": True, "flickr": False, "twitter": True, "instagram": True, "google_plus": False,
                        "whatsapp": True, "telegram": True, "original": True}  # fmt: skip
    assert not fl.PlatformProfile(name="mine", quality=80).tables_measured
    noted = fl.PlatformProfile(name="mine", quality=80, notes={"quality": "measured on 3 downloads: ..."})
    assert noted.tables_measured
