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


# --- soft header evidence (identifier version 3) ---------------------------------------------------------------------

from forensiclib.provenance.combination import Combination, calibrate, CalibrationItem, combine  # noqa: E402
from forensiclib.provenance.header import table_key  # noqa: E402
from forensiclib.provenance.table_evidence import HeaderEvidence, Smoothing  # noqa: E402

SOFT = ("facebook", "whatsapp", "instagram", "original")
CUSTOM = tuple(range(1, 65))  # a table no IJG quality gives
HEADER = {"coding": "progressive", "subsampling": "4:2:0", "exif": "no", "iptc": "no"}


def _counts(rows):
    """{(class, sources, trait, value): files} from (class, source, table, {trait: value}, files) rows."""
    counts = {}
    for name, source, table, traits, n in rows:
        for trait, value in {"table": table_key(table), **traits}.items():
            key = (name, (source,) if source else (), trait, value)
            counts[key] = counts.get(key, 0) + n
    return counts


def _evidence(rows, **kwargs):
    return HeaderEvidence(SOFT, _counts(rows), **kwargs)


def test_a_table_seen_only_with_another_class_lowers_the_truth_without_vetoing_it():
    # WhatsApp files at a quality only the simulated Instagram writes; the patches say WhatsApp
    q92 = fl.ijg_quantization_table(92)
    evidence = _evidence([("instagram", "ig", q92, {**HEADER, "iptc": "yes"}, 40),
                          ("whatsapp", "wa", fl.ijg_quantization_table(70), HEADER, 40),
                          ("facebook", "fb", np.array(CUSTOM), {**HEADER, "iptc": "yes"}, 40)])  # fmt: skip
    rng = np.random.default_rng(1)
    probabilities = rng.dirichlet([1, 6, 1, 1], size=60)  # most patches vote WhatsApp
    traits = {"table": table_key(q92), **HEADER}
    restricted = restricted_vote(probabilities, evidence.table_evidence().candidates(q92))[0]
    assert SOFT[restricted] == "instagram"  # version 2: the table's writers alone, the truth excluded
    header = evidence.likelihoods(traits)
    assert header["table"][SOFT.index("whatsapp")] < header["table"][SOFT.index("instagram")]  # lowered
    assert np.isfinite(header["table"]).all()  # ... but never removed
    posterior = combine(probabilities, evidence.log_likelihood(traits), Combination(network_weight=1.0,
                                                                                     header_weight=1.0))
    assert SOFT[int(posterior.argmax())] == "whatsapp" and posterior.min() > 0
    # without the IPTC block Instagram always writes, the header alone says less for Instagram than the table does
    assert header["iptc"][SOFT.index("whatsapp")] > header["iptc"][SOFT.index("instagram")]


def test_a_generic_ijg_table_weighs_less_than_one_only_one_platform_writes():
    ijg, own = fl.ijg_quantization_table(85), np.array(CUSTOM)
    for table in (ijg, own):
        evidence = _evidence([("facebook", "fb", table, HEADER, 40), ("whatsapp", "wa", fl.ijg_quantization_table(70),
                                                                        HEADER, 40)])  # fmt: skip
        gap = evidence.likelihoods({"table": table_key(table)})["table"]
        if table is ijg:
            generic = gap[0] - gap[1]
        else:
            specific = gap[0] - gap[1]
    assert 0 < generic < specific  # both favour Facebook; the IJG table by far less


def test_a_class_whose_facts_are_all_held_out_falls_back_to_the_background():
    q87 = fl.ijg_quantization_table(87)
    evidence = _evidence([("instagram", "ig", q87, HEADER, 30), ("whatsapp", "wa", fl.ijg_quantization_table(70),
                                                                 HEADER, 30)])  # fmt: skip
    traits = {"table": table_key(q87), **HEADER}
    held = evidence.without("instagram", "ig")
    assert "instagram" not in held.sources() and held.sources()["whatsapp"] == ("wa",)
    with_facts, without = evidence.likelihoods(traits)["table"], held.likelihoods(traits)["table"]
    i = SOFT.index("instagram")
    assert without[i] < with_facts[i]  # the held-out class no longer has its own table's support
    assert without[i] > without[SOFT.index("whatsapp")]  # but a class that never wrote it is still lower
    shared = HeaderEvidence(SOFT, {("instagram", ("ig", "other"), "table", table_key(q87)): 5})
    assert shared.without("instagram", "ig") == shared  # a fact also measured on another source stays


def test_originals_a_table_no_platform_writes_counts_for_an_original():
    cameras = {table_key(np.arange(2, 66)): ("cam_a",), table_key(np.arange(3, 67)): ("cam_b",)}
    evidence = _evidence([("facebook", "fb", fl.ijg_quantization_table(80), HEADER, 40),
                          ("whatsapp", "wa", fl.ijg_quantization_table(70), HEADER, 40)],
                         original="original", camera_tables=cameras)  # fmt: skip
    unseen = evidence.likelihoods({"table": table_key(np.arange(5, 69))})["table"]
    assert unseen.argmax() == SOFT.index("original")
    seen = evidence.likelihoods({"table": table_key(np.arange(2, 66))})["table"]
    assert seen[SOFT.index("original")] > unseen[SOFT.index("original")]
    held = evidence.without("original", "cam_a")
    assert held.camera_tables == {table_key(np.arange(3, 67)): ("cam_b",)}


def test_size_limits_lower_a_platform_whose_files_are_never_that_large():
    evidence = HeaderEvidence(SOFT, {}, size_limits={"whatsapp": (1600, None), "instagram": (None, 1080)})
    assert evidence.likelihoods({}, width=4000, height=3000, smoothing=Smoothing(0.1))["size"].tolist() == \
        pytest.approx([0, np.log(0.1), np.log(0.1), 0])
    assert evidence.likelihoods({}, width=1000, height=1500)["size"].tolist() == [0, 0, 0, 0]


def test_header_evidence_round_trips_through_its_json_record():
    import json

    evidence = _evidence([("facebook", "fb", np.array(CUSTOM), HEADER, 3)], assumed=("instagram",),
                         original="original", camera_tables={table_key(np.arange(2, 66)): ("cam",)},
                         size_limits={"facebook": (2048, None)})  # fmt: skip
    again = HeaderEvidence.from_record(SOFT, json.loads(json.dumps(evidence.to_record())))
    assert again == evidence
    with pytest.raises(ValueError, match="classes among"):
        HeaderEvidence.from_record(("a",), evidence.to_record())
    with pytest.raises(ValueError, match="smoothing `measured` in"):
        Smoothing(measured=0)


def test_calibration_picks_weights_from_the_simulated_items_and_says_so():
    q92, q70 = fl.ijg_quantization_table(92), fl.ijg_quantization_table(70)
    evidence = _evidence([("instagram", "ig", q92, {**HEADER, "iptc": "yes"}, 20),
                          ("whatsapp", "wa", q70, HEADER, 20)])  # fmt: skip
    rng = np.random.default_rng(0)
    items = [CalibrationItem(rng.dirichlet(np.where(np.arange(4) == label, 5.0, 1.0), size=30),
                             {"table": table_key(table), **HEADER, "iptc": iptc}, 640, 480, label, (source,))
             for label, table, iptc, source in ((1, q70, "no", "wa"), (2, q92, "yes", "ig")) for _ in range(5)]
    combination = calibrate(items, evidence, description="ten toy images")
    assert combination.calibrated_on.startswith("ten toy images")
    assert 0 < combination.smoothing.measured < 1 and combination.header_weight > 0
    again = Combination.from_record(combination.to_record())
    assert again == combination
    with pytest.raises(ValueError, match="to calibrate on"):
        calibrate([], evidence)


def test_fact_sources_name_the_downloads_each_simulated_table_came_from():
    from forensiclib.data.synth.camera_tables import CAMERA_SOURCES, CAMERA_TABLES
    from forensiclib.data.synth.platform_catalogue import SOURCES, fact_sources

    assert fact_sources("telegram", fl.ijg_quantization_table(87)) == SOURCES["telegram"]
    assert fact_sources("whatsapp", fl.ijg_quantization_table(92)) == ("Godwinsamuel4/snsptravels",)
    assert fact_sources("facebook", fl.ijg_quantization_table(70)) == ("maritzaida-music/maritzaida-website",)
    assert fact_sources("flickr", fl.ijg_quantization_table(94)) == ()  # assumed: nothing measured
    assert set(fact_sources("original", CAMERA_TABLES["HTC_One"][0])) == {"HTC_One", "HMD_Nokia_8.3_5G"}
    assert set(CAMERA_SOURCES) == set(CAMERA_TABLES)
    with pytest.raises(ValueError, match="Expected a class among"):
        fact_sources("myspace", fl.ijg_quantization_table(87))
