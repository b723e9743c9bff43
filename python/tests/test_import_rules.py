"""docs/architecture.md states which module of tfbridge_worker may import which; this reads every
import in python/tfbridge_worker (module level and inside functions alike) and holds the code to that
table, and keeps the module graph free of cycles."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "python" / "tfbridge_worker"
HEADER = "| module | may import |"
# Every module may import these; they import nothing of the worker's (checked below).
SHARED = {"errors", "protocol"}


def rule_table(markdown: str) -> dict[str, set[str]]:
    """The rows of the table headed HEADER: each module → the modules it may import."""
    lines = markdown.split("\n")
    start = next(i for i, line in enumerate(lines) if " ".join(line.split()) == HEADER)
    rules = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        unit, allowed = (cell.strip() for cell in line.split("|")[1:3])
        for name in re.findall(r"`([^`]+)`", unit):
            rules[name] = set(re.findall(r"`([^`]+)`", allowed))
    return rules


def module_name(path: Path) -> str:
    """`codec`, `models.files`, `models` (for models/__init__.py), `__main__`."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or "__init__"


def imports_of(path: Path, source: str) -> set[str]:
    """The worker's modules `source` imports, as module names (a name imported from a package that is
    a module of it counts as that module)."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
            elif (node.module or "").split(".")[0] == "tfbridge_worker":
                base = []
            else:
                continue
            module = (node.module or "").split(".")
            if not node.level:
                module = module[1:]
            target = base + [m for m in module if m]
            for alias in node.names:
                candidate = target + [alias.name]
                as_module = PACKAGE.joinpath(*candidate).with_suffix(".py")
                found.add(".".join(candidate) if as_module.exists() else ".".join(target) or "__init__")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tfbridge_worker."):
                    found.add(alias.name.removeprefix("tfbridge_worker."))
    return found


def unit(module: str) -> str:
    """A module's row in the table: the models package is one."""
    return module.split(".")[0]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if state.get(node) == "done":
            return None
        if state.get(node) == "open":
            return path[path.index(node) :] + [node]
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            cycle = visit(nxt)
            if cycle:
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        cycle = visit(node)
        if cycle:
            return cycle
    return None


RULES = rule_table((ROOT / "docs" / "architecture.md").read_text())
GRAPH = {module_name(p): imports_of(p, p.read_text()) for p in sorted(PACKAGE.rglob("*.py"))}


def test_reads_relative_absolute_and_function_level_imports():
    source = "\n".join([
        "from .codec import encode",
        "from . import strings",
        "from .models.files import load",
        "from tfbridge_worker.regions import Regions",
        "import numpy as np",
        "def f():",
        "    from .ops import Ops",
    ])
    assert imports_of(PACKAGE / "link.py", source) == {"codec", "strings", "models.files", "regions", "ops"}
    assert imports_of(PACKAGE / "models" / "walk.py", "from .schema import x\nfrom ..errors import y") == {"models.schema", "errors"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_every_module_has_a_row():
    units = {unit(m) for m in GRAPH} - SHARED - {"__init__"}
    assert sorted(units - RULES.keys()) == []


def test_each_module_imports_only_what_its_row_allows():
    broken = []
    for module, imports in GRAPH.items():
        source = unit(module)
        for target in imports:
            to = unit(target)
            if to == source:
                continue
            allowed = set() if source in SHARED else RULES.get(source, set()) | SHARED
            if to not in allowed:
                broken.append(f"{module} imports {target} ({source} → {to})")
    assert broken == []


def test_no_module_imports_itself_through_others():
    assert find_cycle(GRAPH) is None
