"""Progress bars: tqdm's on a terminal, plain text on stdout in a Jupyter kernel."""

import io
import sys
import types

from forensiclib import _progress


def test_outside_a_kernel_the_bar_is_tqdm_s_on_stderr(capsys):
    assert not _progress.in_notebook()
    bar = _progress.progress_bar(3, desc="work", unit="item")
    bar.update(3)
    bar.close()
    out, err = capsys.readouterr()
    assert out == "" and "work: 100%" in err


def test_in_a_kernel_the_bar_is_plain_text_on_stdout(monkeypatch, capsys):
    kernel_stream = type("OutStream", (io.StringIO,), {"__module__": "ipykernel.iostream"})()
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setattr(sys, "stdout", kernel_stream)
    assert _progress.in_notebook()
    bar = _progress.progress_bar(3, desc="work", unit="item")
    bar.update(3)
    bar.close()
    text = kernel_stream.getvalue()
    assert capsys.readouterr().err == ""
    assert "work: 100%|" in text and "#" in text and text.isascii()
    assert _progress.progress_bar(3, desc="work", unit="item", disable=True).disable
