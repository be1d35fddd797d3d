"""The README's "Where is..." table holds: each function in its module and called in its notebook."""

import ast
import json
import re
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def _where_is_rows():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Where is...", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| paper")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def _defined_names(path: Path) -> dict[str, str]:
    """A module's top-level names: `"callable"` for functions and classes, `"value"` for assignments."""
    tree = ast.parse(path.read_text())
    names = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names[node.name] = "callable"
        elif isinstance(node, ast.Assign):
            names.update({t.id: "value" for t in node.targets if isinstance(t, ast.Name)})
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = "value"
    return names


def _notebook_uses(notebook: Path) -> tuple[set[str], set[str]]:
    """The names a notebook's code calls (`fl.name(...)`, `name(...)`) and every name it mentions (IPython magics
    and shell lines left out)."""
    cells = json.loads(notebook.read_text())["cells"]
    code = "\n".join(line for cell in cells if cell["cell_type"] == "code"
                     for line in "".join(cell["source"]).splitlines() if not line.lstrip().startswith(("%", "!")))  # fmt: skip
    calls, mentioned = set(), set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call):
            calls.add(node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", ""))
        elif isinstance(node, ast.Attribute):
            mentioned.add(node.attr)
        elif isinstance(node, ast.Name):
            mentioned.add(node.id)
        elif isinstance(node, ast.ImportFrom):
            mentioned.update(alias.name for alias in node.names)
    return calls, mentioned | calls


def row_problems(section: str, notebook: str, functions: str, module: str) -> list[str]:
    """What is wrong with one row: a module or notebook that does not exist, a function not defined in the module
    or not called in the notebook (a value, such as a table of published numbers, must be read there)."""
    path = ROOT / module.strip("`")
    notebooks = re.findall(r"`(\d\d_\w+)`", notebook)
    names = re.findall(r"`(\w+)`", functions)
    if not path.is_file():
        return [f"{section}: no module {module}"]
    if len(notebooks) != 1 or not (ROOT / "notebooks" / f"{notebooks[0]}.ipynb").is_file():
        return [f"{section}: expected one notebook that exists, found {notebook!r}"]
    if not names:
        return [f"{section}: no function named"]
    defined = _defined_names(path)
    calls, mentioned = _notebook_uses(ROOT / "notebooks" / f"{notebooks[0]}.ipynb")
    problems = [f"{section}: {name} is not defined in {module}" for name in names if name not in defined]
    for name in names:
        if defined.get(name) == "callable" and name not in calls:
            problems.append(f"{section}: {notebooks[0]} never calls {name}")
        elif defined.get(name) == "value" and name not in mentioned:
            problems.append(f"{section}: {notebooks[0]} never reads {name}")
    return problems


def test_every_function_of_a_where_is_row_is_in_its_module_and_called_in_its_notebook():
    rows = _where_is_rows()
    assert len(rows) >= 15
    problems = [problem for row in rows for problem in row_problems(*row)]
    assert not problems, "\n".join(problems)


def test_the_row_check_can_fail():
    module, notebook = "`forensiclib/unified/transfer.py`", "`08_transfer`"
    assert row_problems("ok", notebook, "`transfer_model`", module) == []
    assert row_problems("x", notebook, "`transfer_model`, `run_transfer`", module) == ["x: 08_transfer never calls run_transfer"]
    assert row_problems("x", notebook, "`share_depth_sweep`", module) == [
        "x: share_depth_sweep is not defined in `forensiclib/unified/transfer.py`"]
    assert row_problems("x", "every notebook", "`train`", "`forensiclib/training.py`") == [
        "x: expected one notebook that exists, found 'every notebook'"]
    assert row_problems("x", "`03_patch_level_3_classes`", "`PAPER2`", "`forensiclib/paper.py`") == [
        "x: 03_patch_level_3_classes never reads PAPER2"]


def test_the_headline_is_the_committed_report_s():
    from forensiclib.runner.report import readme_headline

    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- headline:[^>]*-->\n(.*?)<!-- /headline -->", text, re.S)
    assert block, "README.md has lost its headline markers"
    report = ROOT / "results" / "default" / "report.json"
    assert block.group(1) == readme_headline(report), "run `make report` to refresh the README's headline"
