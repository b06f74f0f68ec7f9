"""The layout's promises (docs/architecture.md): click only in the command layer, and no import circle
between kbengine's modules."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

from tests.conftest import REPO

PACKAGE = REPO / "kbengine"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}


def _is_type_checking(node: ast.If) -> bool:
    return (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING") or (
        isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")


def _skipped(node: ast.stmt, top_level_only: bool) -> bool:
    if isinstance(node, ast.If) and _is_type_checking(node):
        return True
    return top_level_only and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)


def imports(path: Path, *, top_level_only: bool) -> set[str]:
    """Modules `path` imports; with top_level_only, only those run on import (not in functions or
    under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif _skipped(node, top_level_only):
                continue
            elif hasattr(node, "body"):
                for field in ("body", "orelse", "finalbody", "handlers"):
                    visit(getattr(node, field, []) or [])

    visit(tree.body)
    return found


def test_no_module_outside_the_command_layer_imports_click() -> None:
    offenders = sorted(name for name, path in modules().items()
                       if not name.startswith("kbengine.cli")
                       and any(i == "click" or i.startswith("click.")
                               for i in imports(path, top_level_only=False)))
    assert offenders == []


def test_no_import_circle_between_kbengine_modules() -> None:
    known = modules()
    graph = nx.DiGraph()
    for name, path in known.items():
        graph.add_node(name)
        for target in imports(path, top_level_only=True):
            if target in known and target != name:
                graph.add_edge(name, target)
    circles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert circles == []


def test_services_can_be_imported_without_click() -> None:
    import subprocess
    import sys

    probe = ("import sys; import kbengine.services.new, kbengine.services.listing, kbengine.walk.recording, "
             "kbengine.walk.store, kbengine.search, kbengine.report; "
             "assert 'click' not in sys.modules, 'click was imported'")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
