"""The session's records of numbers and claims, and the report built from them, on synthetic records."""

import json

import jsonschema
import numpy as np
import pytest

import forensiclib as fl
from forensiclib.runner.report import check_complete, collect_report, render_markdown, validate


@pytest.fixture
def results(tmp_path, monkeypatch):
    """An empty project whose results go to `tmp_path/results`."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.setenv("FORENSICLIB_ROOT", str(tmp_path))
    monkeypatch.setenv("FORENSICLIB_RESULTS", str(tmp_path / "results"))
    return tmp_path


def _test_set(seed=0):
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(12), 8)
    y_true = np.repeat(np.arange(3), 4)[groups]
    good = np.where(rng.random(96) < 0.9, y_true, (y_true + 1) % 3)
    poor = np.where(rng.random(96) < 0.4, y_true, (y_true + 2) % 3)
    return y_true, good, poor, groups


def _report(root, books):
    """Write a manifest for `books` ({notebook: session}) and collect the report."""
    manifest = {"profile": {"name": "smoke", "seed": 0}, "notebooks": {name: {"finished": "2024-01-01T00:00:00"}
                                                                        for name in books}}  # fmt: skip
    (root / "results" / "smoke" / "manifest.json").write_text(json.dumps(manifest))
    report = collect_report("smoke", results_root=root / "results", root=root)
    validate(report)
    return report


def test_numbers_and_claims_with_their_evidence(results):
    y_true, good, poor, groups = _test_set()
    session = fl.start_session("04_quick", profile="smoke", seed=0)
    patch = fl.accuracy_estimate(y_true, good, groups=groups)
    session.compare("Table X", [("patch level", patch, 80.0)], unit="%")
    mean, rates = fl.class_rate_estimates(y_true, good, groups=groups)
    matrix = fl.confusion_matrix_percent(y_true, good)
    session.save_confusion(matrix, ["a", "b", "c"], "table_x", published=np.eye(3) * 90, mean_diagonal=mean, rates=rates)
    gain = fl.paired_difference(y_true, good, poor, groups=groups)
    claim = fl.verdict(gain, ">", compared={"good": patch, "poor": fl.accuracy_estimate(y_true, poor, groups=groups)},
                       chance=fl.chance_level(y_true))  # fmt: skip
    text = session.save_claims([("good beats poor", claim, "the detail")])
    assert text.startswith(f"- {claim.verdict.upper()}: good beats poor (the detail). Evidence: {claim.reason}")

    record = json.loads((session.output_dir / "session.json").read_text())
    first = record["comparisons"][0]
    assert first["ours"] == pytest.approx(patch.value) and first["paper"] == 80.0
    assert (first["low"], first["high"]) == (pytest.approx(patch.low), pytest.approx(patch.high))
    assert (first["n"], first["n_label"], first["n_units"], first["units_label"]) == (12, "images", 96, "patches")
    diagonal = record["comparisons"][1]
    assert diagonal["item"] == "mean of the diagonal" and diagonal["ours"] == pytest.approx(np.mean(np.diag(matrix)))
    assert diagonal["paper"] == 90.0 and diagonal["low"] == pytest.approx(mean.low)
    assert [c["n"] for c in record["comparisons"][2:]] == [r.n for r in rates]
    (saved,) = record["claims"]
    assert saved["verdict"] == claim.verdict and saved["evidence"] == claim.reason
    assert saved["estimate"]["value"] == pytest.approx(gain.value) and saved["holds"] is claim.holds

    report = _report(results, {"04_quick": session})
    assert check_complete(report) == []
    validate(report, complete=True)
    (book,) = report["notebooks"]
    assert book["verdicts"][claim.verdict] == 1 and report["verdicts"][claim.verdict] == 1
    markdown = render_markdown(report)
    ours = f"{first['ours']:.2f} [{first['low']:.2f}, {first['high']:.2f}]"
    assert f"| Table X | patch level | 80.00 | {ours} | 12 images, 96 patches | {first['ours'] - 80:+.2f} | 04_quick |" in markdown
    assert f"| good beats poor | {claim.verdict} | {claim.reason} | the detail | 04_quick |" in markdown
    assert f"Of 1 claims on this run: 1 {claim.verdict}." in markdown
    assert "lack an interval" not in markdown


def test_plain_numbers_and_bool_claims_read_no_interval_and_are_listed(results):
    session = fl.start_session("04_quick", profile="smoke", seed=0)
    session.compare("Table X", [("a", 0.5, 0.75), ("not computed", None, 0.5)])
    session.save_confusion([[100.0, 0.0], [25.0, 75.0]], ["p", "q"], "table_x", published=[[90, 10], [0, 100]])
    text = session.save_claims([("p is easy", True, "100%"), ("q is easy", False, "75%"), ("r", None, "")])
    assert text.splitlines() == ["- HELD (no evidence): p is easy (100%)", "- NOT HELD (no evidence): q is easy (75%)",
                                 "- NOT TESTED: r"]  # fmt: skip
    report = _report(results, {"04_quick": session})
    (book,) = report["notebooks"]
    assert {"table": "Table X", "item": "a", "ours": 50.0, "paper": 75.0} == {k: book["comparisons"][0][k]
                                                                            for k in ("table", "item", "ours", "paper")}
    assert book["comparisons"][0]["low"] is None and book["comparisons"][0]["n"] is None
    assert book["claims_held"] == 1 and book["verdicts"] == {"held": 1, "not held": 1, "inconclusive": 0,
                                                             "not meaningful at this size": 0, "not tested": 1}
    gaps = check_complete(report)
    assert "04_quick: Table X / a: no interval, no test size" in gaps
    assert not any("not computed" in gap for gap in gaps)  # no number, nothing to lack
    assert "04_quick: claim 'p is easy': held without evidence" in gaps and "04_quick: claim 'r': not tested" in gaps
    assert len(gaps) == 1 + 3 + 3  # a, the mean diagonal and two TPRs; three claims
    with pytest.raises(ValueError, match=r"Expected every number with an interval and a test size, and every claim "
                                         r"decided by evidence. Received 7 without: 04_quick: Table X / a"):  # fmt: skip
        validate(report, complete=True)
    markdown = render_markdown(report)
    assert "| Table X | a | 75.00 | 50.00 (no interval) | not given | -25.00 | 04_quick |" in markdown
    assert "| p is easy | held (no evidence) |  | 100% | 04_quick |" in markdown
    assert "| q is easy | **not held** (no evidence) |" in markdown
    assert "Of 3 claims on this run: 1 held, 1 not held, 1 not tested; 2 decided without evidence" in markdown
    assert "7 numbers or claims of this run lack an interval, a test size or evidence" in markdown


def test_records_written_before_intervals_still_make_a_report(results):
    """A session.json of an earlier version (claims with `holds` only, comparisons without intervals)."""
    folder = results / "results" / "smoke" / "04_quick"
    folder.mkdir(parents=True)
    old = {"comparisons": [{"table": "T", "item": "a", "ours": 50.0, "paper": 75.0}],
           "claims": [{"claim": "c", "holds": False, "detail": "d"}]}  # fmt: skip
    (folder / "session.json").write_text(json.dumps(old))
    report = _report(results, {"04_quick": None})
    (book,) = report["notebooks"]
    assert book["claims"][0]["verdict"] == "not held" and book["claims"][0]["evidence"] is None
    assert book["comparisons"][0]["high"] is None and len(check_complete(report)) == 2


def test_the_schema_rejects_an_unknown_verdict(results):
    session = fl.start_session("04_quick", profile="smoke", seed=0)
    session.save_claims([("p", True, "")])
    report = _report(results, {"04_quick": session})
    book = report["notebooks"][0]
    bad = {**book, "claims": [{**book["claims"][0], "verdict": "probably"}]}
    with pytest.raises(jsonschema.ValidationError):
        validate({**report, "notebooks": [bad]})
    assert check_complete({"notebooks": [bad]}) == ["04_quick: claim 'p': probably"]


def test_record_errors(results):
    y_true, good, _, groups = _test_set()
    session = fl.start_session("04_quick", profile="smoke", seed=0)
    with pytest.raises(ValueError, match=r"Expected a stats.Verdict, a bool or None \(not tested\) for 'p'. Received: 'held'"):
        session.save_claims([("p", "held", "")])
    matrix = fl.confusion_matrix_percent(y_true, good)
    mean, rates = fl.class_rate_estimates(y_true, good, groups=groups)
    other = fl.accuracy_estimate(y_true, y_true, groups=groups)  # 100%, not this matrix's mean diagonal
    with pytest.raises(ValueError, match=r"Expected mean_diagonal an Estimate of the matrix's mean diagonal \(\d+\.\d\d\)"):
        session.save_confusion(matrix, ["a", "b", "c"], "t", mean_diagonal=other)
    with pytest.raises(ValueError, match=r"Expected rates: one Estimate per class \(3\) of the matrix's diagonal"):
        session.save_confusion(matrix, ["a", "b", "c"], "t", rates=rates[:2])
    with pytest.raises(ValueError, match=r"Expected rates: one Estimate per class \(3\)"):
        session.save_confusion(matrix, ["a", "b", "c"], "t", rates=[mean, mean, mean])


def test_each_networks_training_end_is_listed_with_the_totals(results):
    from forensiclib.training import training_status

    session = fl.start_session("04_quick", profile="smoke", seed=0)
    plateau = training_status({"val_loss": [1.0, 0.5, 0.6, 0.7, 0.8]}, 30, patience=3)
    capped = training_status({"val_loss": [1.0, 0.9, 0.8]}, 3, patience=3)
    # 5 classes, 25 validation images: chance is 20%, its interval reaches 35.7%
    guessing = training_status({"val_loss": [1.6, 1.6, 1.6], "val_accuracy": [0.2, 0.2, 0.2]}, 30, patience=2,
                               n_classes=5, n_validation=25)  # fmt: skip
    session.record_training("net A", plateau)
    session.record_training("net B", capped)
    session.record_training("net D", guessing)
    session.record_training("net E", training_status({"val_loss": [1.0, 0.9]}, 2, patience=0))  # the paper's schedule
    with pytest.raises(ValueError, match=r"Expected status a training.TrainingStatus for 'net C'. Received: 'capped'"):
        session.record_training("net C", "capped")
    report = _report(results, {"04_quick": session})
    assert report["training"] == {"networks": 4, "plateaued": 2, "capped": 1, "did not learn": 1}
    assert [t["network"] for t in report["notebooks"][0]["training"]] == ["net A", "net B", "net D", "net E"]
    markdown = render_markdown(report)
    assert "4 networks behind this run's numbers: 2 stopped on a plateau" in markdown
    assert "| 04_quick | net E | 2 | 2 | 2 | fixed schedule |" in markdown
    assert "1 did not learn (their validation accuracy never left its chance interval)" in markdown
    assert "| 04_quick | net A | 5 | 2 | 30 | plateau |" in markdown
    assert "| 04_quick | net B | 3 | 3 | 3 | **CAP** |" in markdown
    assert "| 04_quick | net D | 3 | 1 | 30 | **DID NOT LEARN** |" in markdown


def test_a_run_without_training_records_has_no_training_section(results):
    session = fl.start_session("04_quick", profile="smoke", seed=0)
    session.save_claims([("p", True, "")])
    report = _report(results, {"04_quick": session})
    assert report["training"] == {"networks": 0, "plateaued": 0, "capped": 0, "did not learn": 0}
    assert "How each network's training ended" not in render_markdown(report)
