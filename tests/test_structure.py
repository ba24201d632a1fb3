"""The package's shape: imports point down, so no module imports one that imports it back."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).parents[1] / "zeronas"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.AST, module: str, is_package: bool, modules: dict[str, Path]) -> set[str]:
    """zeronas modules that ``tree`` imports when it runs: at module level or inside functions (lazy imports
    close a circle too), but not under ``if TYPE_CHECKING:``."""
    found: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules else base)
        stack.extend(ast.iter_child_nodes(node))
    return {m for m in found if m in modules and m != module}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: _imported(ast.parse(path.read_text()), name, path.name == "__init__.py", modules)
        for name, path in modules.items()
    }


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each as its sorted modules: graphlib reports one circle at a time, so each
    one found is recorded and broken (one of its imports dropped) until the graph sorts."""
    remaining = {module: set(imports) for module, imports in graph.items()}
    circles: list[list[str]] = []
    while True:
        try:
            TopologicalSorter(remaining).prepare()
            return circles
        except CycleError as err:
            cycle = err.args[1]  # [m0, m1, ..., m0]: each module is imported by the next one
            circles.append(sorted(set(cycle)))
            remaining[cycle[1]].discard(cycle[0])


def test_the_import_graph_sees_lazy_imports_and_skips_type_only_ones():
    graph = import_graph()
    assert "zeronas.pipeline._training_driver" in graph["zeronas.pipeline._driver"]  # imported inside a function
    assert "zeronas.pipeline._run_config" not in graph["zeronas.pipeline._training_stage"]  # TYPE_CHECKING only
    assert import_circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    two = import_circles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c", "a"}, "e": set()})
    assert sorted(two) == [["a", "b"], ["c", "d"]]
    assert import_circles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_one_that_imports_it_back():
    circles = import_circles(import_graph())
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


def test_pipeline_reads_spec_then_driver_then_stages_then_results():
    graph = import_graph()
    below_the_stages = {"zeronas.pipeline._spec", "zeronas.pipeline._results", "zeronas.pipeline._run_config"}
    stages = {"zeronas.pipeline._proposal", "zeronas.pipeline._training_stage", "zeronas.pipeline._training_driver"}
    for module in below_the_stages:
        assert not graph[module] & (stages | {"zeronas.pipeline._driver"}), module
    assert graph["zeronas.pipeline._run_config"] == set()
