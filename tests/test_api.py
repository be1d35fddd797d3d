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


def _import_graph() -> dict[str, set[str]]:
    """Every `forensiclib` module -> the `forensiclib` modules it imports, at module level or inside a function."""
    import ast
    from pathlib import Path

    package = Path(forensiclib.__file__).parent
    modules = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in modules.items():
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(here[: len(here) - node.level + 1] + [node.module or ""]).strip(".") if node.level else node.module
                targets = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target not in (name, "forensiclib"):
                    found.add(target)
        graph[name] = found
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of a graph: its strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                on_stack.discard(w)
                component.append(w)
            on_stack.discard(v)
            if component:
                found.append(sorted([v, *component]))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_library_has_no_import_circle_and_does_not_import_the_runner():
    graph = _import_graph()
    assert {"forensiclib.training", "forensiclib.stats.estimates", "forensiclib.runner.session"} <= set(graph)
    assert _cycles(graph) == []
    outside = {m: sorted(d for d in deps if d.startswith("forensiclib.runner")) for m, deps in graph.items()
               if not m.startswith("forensiclib.runner") and m != "forensiclib.__main__"}
    assert not {m: deps for m, deps in outside.items() if deps}, "the library imports the notebook runner"
    # the check can fail: the circles this package once had
    old = {**graph, "forensiclib.training": graph["forensiclib.training"] | {"forensiclib.runner.session"},
           "forensiclib.stats.estimates": graph["forensiclib.stats.estimates"] | {"forensiclib.evaluate"}}
    assert sorted(map(tuple, _cycles(old))) == [
        ("forensiclib.evaluate", "forensiclib.stats", "forensiclib.stats.estimates", "forensiclib.stats.pooled",
         "forensiclib.stats.verdicts", "forensiclib.tables"),
        ("forensiclib.runner.session", "forensiclib.training"),
    ]
