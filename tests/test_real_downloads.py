"""benchmarks/real_downloads.py: the layout it reads, its accuracy figures and its errors (no network needed)."""

import importlib.util
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "real_downloads", Path(__file__).resolve().parents[1] / "benchmarks" / "real_downloads.py"
)
real_downloads = sys.modules["real_downloads"] = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(real_downloads)


def _layout(root: Path) -> Path:
    for relative in ("social/facebook/a.jpg", "social/facebook/b.jpg", "social/telegram/c.jpg",
                     "cameras/Nikon_D40/d.jpg", "cameras/Canon_G2/sub/e.jpg", "cameras/.hidden/f.jpg",
                     "MANIFEST.tsv", "social/empty_platform/.keep"):  # fmt: skip
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(b"x")
    return root


def test_files_are_listed_by_class_with_every_camera_model_as_original(tmp_path):
    files = real_downloads.list_real_files(_layout(tmp_path))
    assert {name: [path.name for path in paths] for name, paths in files.items()} == {
        "facebook": ["a.jpg", "b.jpg"],
        "telegram": ["c.jpg"],
        "original": ["e.jpg", "d.jpg"],
    }


def test_balanced_accuracy_is_the_mean_of_the_class_accuracies():
    results = {
        "facebook": real_downloads.ClassResult("facebook", n_files=4, n_correct=1, n_table_seen=3),
        "original": real_downloads.ClassResult("original", n_files=20, n_correct=20),
    }
    results["facebook"].predicted.update({"facebook": 1, "twitter": 3})
    assert real_downloads.balanced_accuracy(results) == pytest.approx(0.625)
    text = real_downloads.report(results)
    assert "| facebook | 4 | 1 | 25% | twitter 3 | 3 |" in text
    assert "balanced accuracy over 2 classes: 62.5% (chance 50.0%); 21 of 24 files right" in text


def test_missing_folder_and_empty_layout_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Expected a folder laid out as social/<platform>/.*no such folder"):
        real_downloads.list_real_files(tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"Expected files under .*/social/<platform>/ .*holding none there"):
        real_downloads.list_real_files(tmp_path)


def test_command_line_errors_are_clear(tmp_path, capsys):
    with pytest.raises(SystemExit):
        real_downloads.main(["--data", str(tmp_path / "nowhere")])
    assert "no such folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        real_downloads.main(["--data", str(_layout(tmp_path)), "--model", str(tmp_path / "no_identifier")])
    assert "is not an identifier folder: expected identifier.json in it" in capsys.readouterr().err


def test_the_balanced_accuracy_comes_with_an_interval_over_the_files():
    from forensiclib.provenance.identifier import Identification

    answers = [("facebook", Identification("a", prediction="facebook"))] * 3 + \
              [("facebook", Identification("b", prediction="twitter")), ("facebook", Identification("c", error="bad"))] + \
              [("original", Identification("d", prediction="original"))] * 5  # fmt: skip
    estimate = real_downloads.balanced_estimate(answers, ["facebook", "original"])
    assert estimate.value == pytest.approx(80.0) and estimate.n == 10  # (3/5 + 5/5) / 2
    assert estimate.low < 80.0 <= estimate.high <= 100.0
    results = {"facebook": real_downloads.ClassResult("facebook", n_files=5, n_correct=3),
               "original": real_downloads.ClassResult("original", n_files=5, n_correct=5)}  # fmt: skip
    assert f"80.0% [{estimate.low:.1f}, {estimate.high:.1f}] (95%, files resampled)" in real_downloads.report(
        results, estimate)


def _manifest(root: Path) -> Path:
    rows = ["local_path\trepo", "social/facebook/a.jpg\tuser/one", "social/facebook/b.jpg\tuser/two",
            "social/telegram/c.jpg\tuser/three", "cameras/Nikon_D40/d.jpg\tcollection/cams",
            "cameras/Canon_G2/sub/e.jpg\tcollection/cams"]  # fmt: skip
    (root / "MANIFEST.tsv").write_text("\n".join(rows) + "\n")
    return root


def test_sources_are_repositories_for_downloads_and_models_for_cameras(tmp_path):
    root = _manifest(_layout(tmp_path))
    files = real_downloads.list_real_files(root)
    sources = {path.name: source for path, source in real_downloads.read_sources(root, files).items()}
    assert sources == {"a.jpg": "user/one", "b.jpg": "user/two", "c.jpg": "user/three", "d.jpg": "Nikon_D40",
                       "e.jpg": "Canon_G2"}  # fmt: skip
    (root / "MANIFEST.tsv").write_text("local_path\trepo\nsocial/facebook/a.jpg\tuser/one\n")
    with pytest.raises(ValueError, match="Expected every file in .*MANIFEST.tsv. Received: .*b.jpg"):
        real_downloads.read_sources(root, files)
    (root / "MANIFEST.tsv").unlink()
    with pytest.raises(FileNotFoundError, match="MANIFEST.tsv .* to hold out one source at a time"):
        real_downloads.read_sources(root, files)


def test_the_held_out_evaluation_never_uses_facts_measured_on_the_held_out_source(tmp_path, monkeypatch):
    import types

    import numpy as np

    from forensiclib.provenance import identifier as identifier_module
    from forensiclib.provenance.identifier import Identification, Observation
    from forensiclib.provenance.table_evidence import HeaderEvidence

    root = _manifest(_layout(tmp_path))
    files = real_downloads.list_real_files(root)
    sources = real_downloads.read_sources(root, files)
    classes = ("facebook", "telegram", "original")
    counts = {("facebook", ("user/one",), "table", "t1"): 4, ("facebook", ("user/two",), "table", "t2"): 1,
              ("facebook", ("user/one", "user/two"), "table", "t3"): 2, ("telegram", ("user/three",), "table", "t4"): 6,
              ("original", ("Nikon_D40",), "table", "t5"): 3}  # fmt: skip
    evidence = HeaderEvidence(classes, counts, original="original",
                              camera_tables={"t5": ("Nikon_D40",), "t6": ("Canon_G2", "Nikon_D40")})  # fmt: skip
    stub = types.SimpleNamespace(header_evidence=evidence, classes=classes, folder=tmp_path, metadata={"version": 3})
    seen = {}

    def decide(observation, identifier, *, method=None, header_evidence=None, **_):
        seen[observation.path] = header_evidence
        return Identification(observation.path, prediction="facebook", confidence=0.9, method=method)

    monkeypatch.setattr(identifier_module, "decide", decide)
    observations = {path: Observation(path, probabilities=np.full((2, 3), 1 / 3)) for paths in files.values()
                    for path in paths}  # fmt: skip
    results, answers = real_downloads.evaluate(files, stub, sources=sources, observations=observations)
    for name, paths in files.items():
        for path in paths:
            held = seen[path]
            kept = [origin for (c, origin, _, _), _ in held.counts.items() if c == name]
            assert (sources[path],) not in kept  # nothing its source alone established ...
            if name == "original":
                assert all(sources[path] not in models or len(models) > 1 for models in held.camera_tables.values())
    shared = ("facebook", ("user/one", "user/two"), "table", "t3")
    assert shared in seen[files["facebook"][0]].counts  # ... what another source also showed stays
    canon = next(path for path in files["original"] if path.name == "e.jpg")
    assert seen[canon].camera_tables == {"t5": ("Nikon_D40",), "t6": ("Nikon_D40",)}  # Canon_G2's table out
    _, in_sample = real_downloads.evaluate(files, stub, observations=observations)
    assert all(seen[path] is None for path in observations)  # in-sample: the identifier's own evidence
    no_evidence = types.SimpleNamespace(header_evidence=None, folder=tmp_path, metadata={"version": 2})
    with pytest.raises(ValueError, match="version-3 identifier .* to hold sources out"):
        real_downloads.evaluate(files, no_evidence, sources=sources, observations=observations)


def test_accuracy_against_coverage_counts_the_answers_at_or_above_each_confidence():
    from forensiclib.provenance.identifier import Identification

    answers = [("a", Identification("1", prediction="a", confidence=0.95)),
               ("a", Identification("2", prediction="b", confidence=0.55)),
               ("b", Identification("3", prediction="b", confidence=0.75)),
               ("b", Identification("4", error="unreadable"))]  # fmt: skip
    rows = {row["min_confidence"]: row for row in real_downloads.coverage(answers, levels=(0.0, 0.6, 0.9, 0.99))}
    assert (rows[0.0]["answered"], rows[0.0]["right"], rows[0.0]["files"]) == (3, 2, 4)
    assert (rows[0.6]["answered"], rows[0.6]["accuracy"], rows[0.6]["balanced_accuracy"]) == (2, 1.0, 1.0)
    assert rows[0.9]["answered"] == 1 and rows[0.99]["accuracy"] is None
    assert "| 60% | 2 of 4 | 2 | 100% | 100% |" in real_downloads.coverage_table(list(rows.values()))


def test_class_estimates_resample_whole_sources_when_held_out():
    from forensiclib.provenance.identifier import Identification

    answers = [("a", Identification(f"a{i}", prediction="a")) for i in range(4)] + \
              [("b", Identification(f"b{i}", prediction="a" if i < 2 else "b")) for i in range(4)]  # fmt: skip
    sources = {Path(f"a{i}"): "s1" for i in range(4)} | {Path(f"b{i}"): f"s{2 + i // 2}" for i in range(4)}
    mean, rates = real_downloads.class_estimates(answers, ["a", "b"], sources)
    assert mean.value == pytest.approx(75.0) and rates["a"].value == 100.0 and rates["b"].value == 50.0
    assert mean.n == 3  # three sources: s1 (a), s2 and s3 (b)
