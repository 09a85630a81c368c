"""The import graph, read from the source: no cycles (counting imports inside functions and under
TYPE_CHECKING), skills reach claw only through ``claw.skill``, and claw names no plugin of its own."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("claw", "memory", "skills")
#: Built-in plugins: registered as entry points; only their own package and the tests name them.
PLUGINS = ("claw.providers.anthropic", "claw.providers.openai", "claw.channels.web", "claw.channels.whatsapp")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imported(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """The modules of ours that ``name`` imports by name (a package's own ``__init__`` re-exporting its
    submodules is not counted against them; a submodule importing its package's names is)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        for target in targets:
            parts = target.split(".")
            found = next((".".join(parts[:i]) for i in range(len(parts), 0, -1) if ".".join(parts[:i]) in known), None)
            if found is not None and found != name:
                yield found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: set(imported(name, path, known)) for name, path in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
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

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_skills_reach_claw_only_through_the_sdk() -> None:
    bad = {f"{m} -> {t}" for m, targets in graph().items() if m.startswith("skills")
           for t in targets if t.startswith("claw") and t not in ("claw", "claw.skill")}
    assert bad == set()


def test_memory_knows_nothing_of_claw_or_skills() -> None:
    bad = {f"{m} -> {t}" for m, targets in graph().items() if m.startswith("memory")
           for t in targets if t.split(".")[0] in ("claw", "skills")}
    assert bad == set()


def test_claw_names_no_skill_and_no_built_in_plugin_outside_its_own_package() -> None:
    bad = set()
    for m, targets in graph().items():
        if not m.startswith("claw"):
            continue
        for t in targets:
            owner = next((p for p in PLUGINS if t == p or t.startswith(p + ".")), None)
            if t.startswith("skills") or (owner and not (m == owner or m.startswith(owner + "."))):
                bad.add(f"{m} -> {t}")
    assert bad == set()


def test_the_checks_see_a_cycle_and_a_back_door() -> None:
    """The guards above would fail on a cycle or a skill importing claw internals."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    edges = graph()
    assert "claw.skill" in edges["skills.tasks"] and edges["claw.app"] & {"claw.core.inbox", "claw.skillset"}
