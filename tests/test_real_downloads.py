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
