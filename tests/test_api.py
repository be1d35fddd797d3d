import subprocess
import sys

import forensiclib


def test_every_public_name_resolves():
    for name in forensiclib.__all__:
        assert getattr(forensiclib, name) is not None


def test_import_is_light():
    """`import forensiclib` and the feature code do not pull in TensorFlow (worker processes stay cheap)."""
    code = "import sys, forensiclib; forensiclib.image_features; print('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_command_line_help():
    out = subprocess.run([sys.executable, "-m", "forensiclib", "reproduce", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--profile" in out.stdout
