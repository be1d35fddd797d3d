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


def test_the_type_stub_names_every_public_name_where_it_lives():
    """Editors follow `fl.name` through `__init__.pyi`; it must list exactly the lazy exports, from their modules."""
    import ast
    from pathlib import Path

    stub = ast.parse((Path(forensiclib.__file__).parent / "__init__.pyi").read_text())
    listed = {alias.name: node.module for node in stub.body if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert listed == forensiclib._EXPORTS


def test_the_package_is_grouped_by_paper_and_concept():
    from pathlib import Path

    package = Path(forensiclib.__file__).parent
    assert {"provenance", "unified", "data", "runner"} <= {p.name for p in package.iterdir() if p.is_dir()}
    for sub in ("provenance", "unified", "data", "runner"):
        assert (package / sub / "__init__.py").read_text().startswith('"""'), f"{sub}/__init__.py says what it holds"


def test_no_module_is_longer_than_about_500_lines():
    from pathlib import Path

    package = Path(forensiclib.__file__).parent
    long = {str(p.relative_to(package)): n for p in package.rglob("*.py") if (n := len(p.read_text().splitlines())) > 520}
    assert not long, f"split these modules along their seams: {long}"
