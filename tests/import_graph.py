"""The package's import graph, read from the source (no import runs): cycles and upward arrows.

    python tests/import_graph.py        # prints the stage order, the upward arrows and the cycles

Every ``import`` and ``from ... import`` counts, function-local ones included (they are edges
too); imports under ``if TYPE_CHECKING:`` do not (annotations only). A stage may import the
stages before it in STAGES, never one after it; the top-level modules (entry points, startup)
may import anything.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "srgan_keras"
# The order of the stages: files -> networks -> running them -> scoring -> training -> export.
STAGES = ("data", "nn", "inference", "evaluation", "training", "export")


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    out = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skip


def edges(package: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the package modules it imports."""
    mods = modules(package)
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_nodes(tree)
        pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                    base = ".".join(parent + ([node.module] if node.module else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in mods and t not in (name, "srgan_keras"))
    return graph


def stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def upward_arrows(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted((a, b) for a, bs in graph.items() for b in bs
                  if stage(a) and stage(b) and STAGES.index(stage(b)) > STAGES.index(stage(a)))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
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
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


if __name__ == "__main__":
    g = edges()
    print("stages:", " < ".join(STAGES))
    arrows, loops = upward_arrows(g), cycles(g)
    print(f"upward arrows: {len(arrows)}")
    for a, b in arrows:
        print(f"  {a} -> {b}")
    print(f"cycles: {len(loops)}")
    for c in loops:
        print("  " + " <-> ".join(c))
    sys.exit(1 if arrows or loops else 0)
