"""`identify` and the command line: a trained network answers for images from the platform simulator."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

import forensiclib as fl
from forensiclib.data.synth.platforms import share

CLASSES = ("facebook", "flickr", "twitter")


@dataclasses.dataclass
class FakeResult:
    """What `save_identifier` reads of a `ProvenanceResult`: a saved network, its classes and accuracies."""

    model_path: Path
    classes: tuple = CLASSES
    n_train_patches: int = 10
    n_train_images: int = 2

    def accuracies(self):
        return {"patch": 0.5, "image": 0.75, "baseline": float("nan")}


@pytest.fixture(scope="module")
def identifier_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("identifier")
    model = fl.dct_cnn(len(CLASSES))
    model.save(folder / "trained.keras")
    return fl.save_identifier(FakeResult(folder / "trained.keras"), folder / "identifier", patch_size=64,
                              trained_on="a test set (simulated)", simulated=True, notebook="test").folder


@pytest.fixture(scope="module")
def shared_image(tmp_path_factory):
    return share(fl.load_photo("chelsea"), "twitter", tmp_path_factory.mktemp("shared") / "twitter.jpg")


def test_identifier_round_trip(identifier_dir):
    identifier = fl.load_identifier(identifier_dir)
    assert identifier.classes == CLASSES and identifier.patch_size == 64 and identifier.simulated
    record = json.loads((identifier_dir / "identifier.json").read_text())
    assert record["test_accuracy"] == {"patch": 0.5, "image": 0.75, "baseline": None} and record["notebook"] == "test"
    assert "trained on a test set (simulated)" in identifier.describe()
    assert not any(p.name.startswith(".tmp-") for p in identifier_dir.parent.iterdir())


def test_identify_votes_over_the_patches(identifier_dir, shared_image):
    identifier = fl.load_identifier(identifier_dir)
    (answer,) = fl.identify([shared_image], identifier)
    n_patches = len(fl.image_features(shared_image).features)
    assert answer.error is None and answer.prediction in CLASSES
    assert sum(answer.votes.values()) == n_patches
    assert answer.votes[answer.prediction] == max(answer.votes.values())
    assert sum(answer.probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_identify_answers_bad_files_and_keeps_going(identifier_dir, shared_image, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    answers = fl.identify([text, tmp_path / "missing.jpg", shared_image], fl.load_identifier(identifier_dir))
    assert [a.error is None for a in answers] == [False, False, True]
    assert "expected a JPEG, PNG or TIFF" in answers[0].error
    assert "skipped" in answers[0].describe()


def test_missing_or_foreign_identifier_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="expected identifier.json"):
        fl.load_identifier(tmp_path)
    (tmp_path / "identifier.json").write_text(json.dumps({"version": 99}))
    (tmp_path / "model.keras").write_text("")
    with pytest.raises(ValueError, match="not a valid identifier record"):
        fl.load_identifier(tmp_path)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "forensiclib", *map(str, args)], capture_output=True, text=True)


@pytest.mark.slow
def test_command_line_identify(identifier_dir, shared_image, tmp_path):
    out = _cli("identify", "--model", identifier_dir, shared_image)
    assert out.returncode == 0, out.stderr
    assert f"{shared_image}: " in out.stdout and "patch vote" in out.stdout and "SIMULATED" in out.stdout
    out = _cli("identify", "--model", identifier_dir, "--histograms-only", shared_image)
    assert out.returncode == 0 and "quantization table" not in out.stdout, out.stderr
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    out = _cli("identify", "--model", identifier_dir, text)
    assert out.returncode == 1
    assert f"{text}: skipped:" in out.stderr and "expected a JPEG, PNG or TIFF" in out.stderr
    out = _cli("identify", "--model", tmp_path, shared_image)
    assert out.returncode == 2 and "is not an identifier folder" in out.stderr


def test_command_line_measure_platform(tmp_path):
    for name in ("chelsea", "coffee"):
        share(fl.load_photo(name), "telegram", tmp_path / f"{name}.jpg")
    out = _cli("measure-platform", tmp_path, "--suggest", "mine")
    assert out.returncode == 0, out.stderr
    assert "Measured 2 JPEGs" in out.stdout and "Suggested profile" in out.stdout and "mine" in out.stdout
    out = _cli("measure-platform", tmp_path / "nowhere")
    assert out.returncode == 2 and "no such folder" in out.stderr


@pytest.mark.slow
def test_command_line_build_data(tmp_path):
    env_cache = {"FORENSICLIB_CACHE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "forensiclib", "build-data", "manipulations", "--size", "1"],
                         capture_output=True, text=True, env={**__import__("os").environ, **env_cache})
    assert out.returncode == 0, out.stderr
    assert "6 classes (simulated data)" in out.stdout and str(tmp_path) in out.stdout
    out = _cli("build-data", "manipulation")
    assert out.returncode == 2 and "unknown dataset 'manipulation'" in out.stderr and "manipulations" in out.stderr


@pytest.mark.parametrize("command", ["reproduce", "report", "exercise", "identify", "measure-platform", "build-data",
                                     "features", "kernel"])
def test_every_command_has_help(command):
    out = _cli(command, "--help")
    assert out.returncode == 0 and "usage: forensiclib" in out.stdout and len(out.stdout) > 100


def test_find_identifier_needs_the_network_too(identifier_dir, tmp_path):
    from forensiclib.provenance.identifier import find_identifier

    folder = tmp_path / "smoke" / "05_eight_classes" / "identifier"
    folder.mkdir(parents=True)
    (folder / "identifier.json").write_text((identifier_dir / "identifier.json").read_text())
    assert find_identifier(tmp_path) is None  # as on a fresh clone: the record is committed, the network is not
    (folder / "model.keras").write_bytes((identifier_dir / "model.keras").read_bytes())
    assert find_identifier(tmp_path) == folder


@pytest.fixture(scope="module")
def table_identifier_dir(tmp_path_factory, shared_image):
    """An identifier whose training files say: the shared image's table was written by Flickr alone."""
    folder = tmp_path_factory.mktemp("table_identifier")
    model = fl.dct_cnn(len(CLASSES))
    model.save(folder / "trained.keras")
    evidence = fl.TableEvidence.from_files([shared_image], [CLASSES.index("flickr")], CLASSES, ignore=["facebook"])
    return fl.save_identifier(FakeResult(folder / "trained.keras"), folder / "identifier", patch_size=64,
                              trained_on="a test set (simulated)", simulated=True,
                              table_evidence=evidence).folder  # fmt: skip


def test_the_vote_is_among_the_classes_that_wrote_the_table(table_identifier_dir, shared_image):
    identifier = fl.load_identifier(table_identifier_dir)
    assert identifier.table_evidence is not None and "quantization tables of 1 training files" in identifier.describe()
    assert identifier.table_evidence.ignored == ("facebook",) and "tables of facebook not counted" in identifier.describe()
    (answer,) = fl.identify([shared_image], identifier)
    assert answer.prediction == "flickr" and answer.table_writers == {"flickr": 1}
    assert "written in training by: flickr 1 (files); the vote is among them" in answer.describe()
    (paper,) = fl.identify([shared_image], identifier, use_tables=False)
    assert paper.table_writers is None and paper.votes == answer.votes
    assert paper.prediction == max(paper.votes, key=paper.votes.get)


def test_a_table_never_seen_leaves_the_papers_vote(table_identifier_dir, tmp_path):
    other = fl.encode_jpeg(fl.load_photo("coffee")[:256, :256], tmp_path / "q60.jpg", quality=60)
    identifier = fl.load_identifier(table_identifier_dir)
    (answer,) = fl.identify([other], identifier)
    (paper,) = fl.identify([other], identifier, use_tables=False)
    assert answer.table_writers == {} and answer.prediction == paper.prediction
    assert "never seen in training: the vote is among all classes" in answer.describe()


def test_version_1_identifiers_still_load_without_tables(identifier_dir, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(identifier_dir, old)
    record = json.loads((old / "identifier.json").read_text())
    record["version"] = 1
    (old / "identifier.json").write_text(json.dumps(record))
    assert fl.load_identifier(old).table_evidence is None


def test_table_evidence_over_other_classes_is_refused(identifier_dir, shared_image):
    evidence = fl.TableEvidence.from_files([shared_image], [0], ("a", "b"))
    with pytest.raises(ValueError, match="table evidence over the network's classes"):
        fl.save_identifier(FakeResult(identifier_dir / "model.keras"), identifier_dir.parent / "other", patch_size=64,
                           trained_on="x", simulated=True, table_evidence=evidence)  # fmt: skip


# --- version 3: the patch vote and the header's evidence, with a confidence ------------------------------------------


@pytest.fixture(scope="module")
def soft_identifier_dir(tmp_path_factory):
    """A version-3 identifier: an untrained network, header evidence from shared files, fixed weights."""
    from forensiclib.provenance.combination import Combination
    from forensiclib.provenance.header_vote import simulator_evidence

    folder = tmp_path_factory.mktemp("soft_identifier")
    model = fl.dct_cnn(len(CLASSES))
    model.save(folder / "trained.keras")
    photo = fl.load_photo("coffee")[:192, :256]
    files, labels = [], []
    for label, name in enumerate(CLASSES):
        for seed in range(2):
            files.append(share(photo, name, folder / "train" / f"{name}{seed}.jpg", random_state=seed))
            labels.append(label)
    evidence = simulator_evidence(files, labels, CLASSES)
    combination = Combination(network_weight=0.5, header_weight=0.5, min_confidence=0.6, calibrated_on="a test")
    return fl.save_identifier(FakeResult(folder / "trained.keras"), folder / "identifier", patch_size=64,
                              trained_on="a test set (simulated)", simulated=True, header_evidence=evidence,
                              combination=combination).folder  # fmt: skip


def test_version_3_answers_with_a_confidence_and_flags_the_unsure(soft_identifier_dir, shared_image):
    identifier = fl.load_identifier(soft_identifier_dir)
    assert identifier.method == "soft" and identifier.metadata["version"] == 3
    assert "weighed against the patch vote" in identifier.describe() and "60% confidence" in identifier.describe()
    (answer,) = fl.identify([shared_image], identifier)
    assert answer.method == "soft" and sum(answer.posterior.values()) == pytest.approx(1.0)
    assert answer.prediction == max(answer.posterior, key=answer.posterior.get)
    assert answer.confidence == pytest.approx(answer.posterior[answer.prediction])
    assert answer.uncertain == (answer.confidence < 0.6) and set(answer.header) >= {"table", "coding", "iptc"}
    assert ("uncertain (likeliest" in answer.describe()) == answer.uncertain
    (restricted,) = fl.identify([shared_image], identifier, method="restricted")
    (paper,) = fl.identify([shared_image], identifier, use_tables=False)
    assert restricted.method == "restricted" and paper.method == "histograms" and paper.table_writers is None
    assert paper.votes == answer.votes  # the same patches
    with pytest.raises(ValueError, match="Expected a method among"):
        fl.identify([shared_image], identifier, method="vote")


def test_older_versions_still_load_and_answer_as_they_did(table_identifier_dir, identifier_dir, shared_image, tmp_path):
    import shutil

    old = tmp_path / "v2"
    shutil.copytree(table_identifier_dir, old)
    record = json.loads((old / "identifier.json").read_text())
    record["version"] = 2
    (old / "identifier.json").write_text(json.dumps(record))
    identifier = fl.load_identifier(old)
    assert identifier.method == "restricted" and identifier.header_evidence is None
    (answer,) = fl.identify([shared_image], identifier)
    assert answer.prediction == "flickr" and answer.method == "restricted" and answer.confidence is not None
    assert fl.load_identifier(identifier_dir).method == "histograms"
    with pytest.raises(ValueError, match="version-3 identifier"):
        fl.identify([shared_image], identifier, method="soft")


def test_header_evidence_needs_its_weights(identifier_dir, shared_image):
    from forensiclib.provenance.header_vote import simulator_evidence

    evidence = simulator_evidence([shared_image], [2], CLASSES)
    with pytest.raises(ValueError, match="header_evidence and combination together"):
        fl.save_identifier(FakeResult(identifier_dir / "model.keras"), identifier_dir.parent / "other", patch_size=64,
                           trained_on="x", simulated=True, header_evidence=evidence)  # fmt: skip


#: The keys of one answer in `identify --json`: scripts may rely on them.
ANSWER_KEYS = {"path", "prediction", "confidence", "uncertain", "method", "posterior", "mean_patch_probability",
               "votes", "table_writers", "header", "warnings", "error"}


@pytest.mark.slow
def test_command_line_json_is_valid_and_stable(soft_identifier_dir, shared_image, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    out = _cli("identify", "--model", soft_identifier_dir, "--json", shared_image, text)
    assert out.returncode == 1  # one file skipped
    record = json.loads(out.stdout)
    assert set(record) == {"identifier", "answers", "skipped"} and record["skipped"] == 1
    assert record["identifier"]["method"] == "soft" and record["identifier"]["classes"] == list(CLASSES)
    good, bad = record["answers"]
    assert set(good) == ANSWER_KEYS == set(bad)
    assert good["path"] == str(shared_image) and good["prediction"] in CLASSES and good["error"] is None
    assert 0 < good["confidence"] <= 1 and set(good["posterior"]) == set(CLASSES)
    assert bad["prediction"] is None and "expected a JPEG, PNG or TIFF" in bad["error"]
    again = _cli("identify", "--model", soft_identifier_dir, "--json", shared_image, text)
    assert again.stdout == out.stdout  # the same files give the same bytes
    strict = json.loads(_cli("identify", "--model", soft_identifier_dir, "--json", "--min-confidence", "1",
                             shared_image).stdout)  # fmt: skip
    assert strict["answers"][0]["uncertain"] and strict["identifier"]["min_confidence"] == 1.0
    out = _cli("identify", "--model", soft_identifier_dir, "--min-confidence", "2", shared_image)
    assert out.returncode == 2 and "expected a number in 0..1" in out.stderr
