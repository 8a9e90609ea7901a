"""The layout's rules (docs/adr/0017-layout-of-the-cli-and-its-contracts.md), read from
the source: which package may import which, and no import circle.

Read with `ast`, not by importing, so a rule broken inside a function (a lazy import)
counts too, and nothing is executed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("infra", "functions", "dashboards", "crudops_local", "tools", "loadtests",
            "benchmarks")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES
            for path in (ROOT / package).rglob("*.py")}


def imported(path: Path, module: str, known: set[str]) -> Iterator[str]:
    """The project modules `path` imports, anywhere in it (lazy imports included),
    except under `if TYPE_CHECKING:` (no import happens there)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for name in names:
            if name in known:
                yield name


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    modules = project_modules()
    known = set(modules)
    g = nx.DiGraph()
    g.add_nodes_from(known)
    for module, path in modules.items():
        g.add_edges_from((module, target) for target in imported(path, module, known)
                         if target != module)
    return g


def imports_between(g: nx.DiGraph, source: str, target: str) -> list[tuple[str, str]]:
    def inside(module: str, package: str) -> bool:
        return module == package or module.startswith(package + ".")
    return sorted((a, b) for a, b in g.edges if inside(a, source) and inside(b, target))


def test_the_emulator_imports_nothing_of_the_cli(graph: nx.DiGraph) -> None:
    assert imports_between(graph, "crudops_local", "tools") == []


def test_the_dashboards_import_nothing_of_the_stack(graph: nx.DiGraph) -> None:
    assert imports_between(graph, "dashboards", "infra") == []


def test_the_functions_import_only_themselves(graph: nx.DiGraph) -> None:
    """The Lambda package ships `functions/` alone."""
    outside = [(a, b) for a, b in graph.edges
               if a.startswith("functions") and not b.startswith("functions")]
    assert outside == []


def test_no_import_circle(graph: nx.DiGraph) -> None:
    # A package's __init__ importing its own modules is not a circle a reader trips over.
    g = graph.copy()
    g.remove_edges_from([(a, b) for a, b in graph.edges if b.startswith(a + ".")])
    assert sorted(sorted(cycle) for cycle in nx.simple_cycles(g)) == []
