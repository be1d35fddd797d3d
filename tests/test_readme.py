"""The README's "Where is..." table points at things that exist."""

import ast
import re
from pathlib import Path

import forensiclib

ROOT = Path(__file__).resolve().parents[1]


def _where_is_rows():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Where is...", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| paper")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def _defined_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_the_where_is_table_names_notebooks_functions_and_modules_that_exist():
    rows = _where_is_rows()
    assert len(rows) >= 15
    for section, notebook, functions, module in rows:
        path = ROOT / module.strip("`")
        assert path.is_file(), f"{section}: no module {module}"
        for name in re.findall(r"`notebooks?/?(\w+)`|`(\d\d_\w+)`", notebook):
            assert (ROOT / "notebooks" / f"{name[1] or name[0]}.ipynb").is_file(), f"{section}: no notebook {name}"
        names = re.findall(r"`(\w+)`", functions)
        assert names, f"{section}: no function named"
        for name in names:
            assert hasattr(forensiclib, name) or any(
                name in _defined_names(p) for p in (ROOT / "forensiclib").rglob("*.py")
            ), f"{section}: {name} is defined nowhere in forensiclib"
        assert any(name in _defined_names(path) for name in names), f"{section}: none of {names} is in {module}"


def test_the_headline_is_the_committed_report_s():
    from forensiclib.runner.report import readme_headline

    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- headline:[^>]*-->\n(.*?)<!-- /headline -->", text, re.S)
    assert block, "README.md has lost its headline markers"
    report = ROOT / "results" / "default" / "report.json"
    assert block.group(1) == readme_headline(report), "run `make report` to refresh the README's headline"
