"""The house: imports run one way (no import circle among o2lite's modules), modules stay small."""

import ast
import os
import re
from typing import Dict, List, Set

import pytest

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "o2lite")

# Circles a type annotation truly needs (each edge is an ``if TYPE_CHECKING:`` import): none yet.
TYPE_ONLY_CIRCLES: List[Set[str]] = []
# Function-level circles still being taken apart (issue 18): listed here so that a new one fails.
PENDING: List[Set[str]] = []


def _modules() -> Dict[str, str]:
    out = {}
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, os.path.dirname(ROOT))[:-3].replace(os.sep, ".")
                out[rel[: -len(".__init__")] if rel.endswith(".__init__") else rel] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _graph(with_type_checking: bool) -> Dict[str, Set[str]]:
    mods = _modules()
    graph: Dict[str, Set[str]] = {}
    for mod, path in mods.items():
        package = mod if path.endswith("__init__.py") else mod.rsplit(".", 1)[0]
        tree = ast.parse(open(path, encoding="utf-8").read())
        skip: Set[int] = set()
        if not with_type_checking:
            for node in ast.walk(tree):
                if isinstance(node, ast.If) and _is_type_checking(node):
                    skip |= {id(n) for child in node.body for n in ast.walk(child)}
        deps: Set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    if f"{target}.{alias.name}" in mods:
                        deps.add(f"{target}.{alias.name}")
                    elif target in mods:
                        deps.add(target)
            elif isinstance(node, ast.Import):
                deps |= {alias.name for alias in node.names if alias.name in mods}
        graph[mod] = deps - {mod}
    return graph


def _circles(graph: Dict[str, Set[str]]) -> List[Set[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    out: List[Set[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        out.append(component)
    return out


def test_the_circle_finder_finds_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_at_run_time():
    assert [c for c in _circles(_graph(with_type_checking=False)) if c not in PENDING] == []


def test_type_checking_imports_close_no_other_circle():
    allowed = TYPE_ONLY_CIRCLES + PENDING
    assert [c for c in _circles(_graph(with_type_checking=True)) if c not in allowed] == []


@pytest.mark.parametrize("path", sorted(_modules().values()))
def test_modules_stay_readable(path):
    with open(path, encoding="utf-8") as handle:
        lines = sum(1 for _ in handle)
    assert lines <= 450, f"{os.path.relpath(path, ROOT)} has {lines} lines: split it by what it holds"


WINGS = ("cli", "streams", "sandbox", "bridge", "ccxt")


def _layout_section() -> str:
    readme = open(os.path.join(os.path.dirname(ROOT), "README.rst"), encoding="utf-8").read()
    return readme.split("\nLayout\n------\n", 1)[1].split("\nLicense:", 1)[0]


def test_the_readme_layout_names_every_module_and_wing():
    """The map in the README is whole: a reader finds every module of ``o2lite/`` there (by its
    plain name, in double back-quotes), and every wing by its folder."""
    named = set(re.findall(r"``([\w/.]+)``", _layout_section()))
    missing = []
    for mod in sorted(_modules()):
        parts = mod.split(".")[1:]
        if not parts or parts[-1] == "__main__":
            continue
        if len(parts) == 1 and parts[0] in WINGS:
            folder = f"o2lite/{parts[0]}/"
            if folder not in named:
                missing.append(folder)
        elif parts[-1] not in named:
            missing.append(mod)
    assert missing == []


def test_the_package_docstring_names_every_wing():
    import o2lite

    doc = o2lite.__doc__ or ""
    assert [wing for wing in WINGS if f"``o2lite/{wing}/``" not in doc] == []
