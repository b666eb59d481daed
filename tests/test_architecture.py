"""The house plan (ARCHITECTURE.md): every import points down a floor, there is no import circle, and
``import features`` (and the other light floors) stay cheap.

Oracle: the source itself, read with ``ast`` (every import statement, also those inside functions, which are
still dependencies), and a fresh interpreter's ``sys.modules``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: The floors of ARCHITECTURE.md. A module may import modules of a lower floor and of its own package; never
#: a sibling package on its own floor, never a floor above. The core modules of floor 1 form one unit (they
#: may import each other; the circle test keeps them acyclic).
FLOORS = {
    1: ("ltr", "ltr.errors", "ltr.schema", "ltr.naming", "ltr.text", "ltr.collection", "ltr.ranking",
        "ltr.atomic", "ltr.params"),
    2: ("ltr.io", "ltr.objectives", "ltr.stats"),
    3: ("ltr.datasets", "features"),
    4: ("ltr.metrics",),
    5: ("ltr.models", "ltr.report"),
    6: ("ltr.pipeline", "ltr.clicks"),
    7: ("ltr.experiment", "ltr.interop"),
    8: ("ltr.cli",),
}
UNIT = {name: floor for floor, names in FLOORS.items() for name in names}


def unit_of(module: str) -> str | None:
    """The floor unit (package or core module) a module belongs to: the longest prefix in FLOORS."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in UNIT and (prefix != "ltr" or n == len(parts)):
            return prefix
    return None


def modules() -> dict[str, Path]:
    out = {}
    for root in ("ltr", "features"):
        for path in sorted((REPO / root).rglob("*.py")):
            rel = path.relative_to(REPO).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def imports_of(module: str, path: Path) -> list[tuple[str, int]]:
    """Every (imported module, line) of a file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            known = set(modules())
            submodules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
            found += [(m, node.lineno) for m in submodules]
            if len(submodules) < len(node.names):   # names defined by the module itself
                found.append((target, node.lineno))
    known = set(modules())
    return [(name, line) for name, line in found if name in known or name.rpartition(".")[0] in known
            and unit_of(name) is not None]


def test_every_module_has_a_floor():
    missing = [m for m in modules() if unit_of(m) is None]
    assert not missing, f"add these modules to FLOORS and ARCHITECTURE.md: {missing}"


def test_imports_point_only_down():
    """A module imports from a lower floor or from its own package; never a floor above, never a sibling
    package on its own floor."""
    bad = []
    for module, path in modules().items():
        own = unit_of(module)
        for target, line in imports_of(module, path):
            other = unit_of(target)
            if other is None or other == own:
                continue
            if UNIT[own] == UNIT[other] == 1:
                continue
            if UNIT[other] >= UNIT[own] and not (other == "ltr" and target == "ltr"):
                bad.append(f"{path.relative_to(REPO)}:{line}: {module} (floor {UNIT[own]}) imports {target} "
                           f"(floor {UNIT[other]})")
    assert not bad, "imports that point up or sideways:\n" + "\n".join(bad)


def test_no_import_circle_between_modules():
    graph: dict[str, set[str]] = {}
    mods = modules()
    for module, path in mods.items():
        graph[module] = {t if t in mods else t.rpartition(".")[0] for t, _ in imports_of(module, path)} - {module}
    # package __init__ re-exports make package -> submodule edges; a circle must pass through two modules
    # that are not each other's package
    seen, stack, cycles = set(), [], []

    def visit(node):
        if node in stack:
            cycle = stack[stack.index(node):] + [node]
            if not all(b.startswith(a + ".") or a.startswith(b + ".") for a, b in zip(cycle, cycle[1:])):
                cycles.append(" -> ".join(cycle))
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        stack.pop()

    for module in sorted(graph):
        visit(module)
    assert not cycles, "import circles:\n" + "\n".join(cycles[:10])


@pytest.mark.parametrize("statement, absent", [
    ("import features", ["ltr.datasets.loaders", "ltr.datasets.synthetic", "sklearn", "scipy", "matplotlib",
                         "lightgbm", "xgboost", "numba", "ltr.models", "ltr.pipeline", "ltr.experiment"]),
    ("import ltr.metrics", ["ltr.datasets", "sklearn", "matplotlib", "lightgbm", "xgboost"]),
    ("import ltr.io", ["ltr.datasets", "sklearn", "matplotlib", "lightgbm", "xgboost", "numba"]),
    ("import ltr.datasets", ["ltr.datasets.loaders", "ltr.datasets.synthetic", "sklearn"]),
])
def test_light_floors_load_nothing_heavy(statement, absent):
    """A fresh interpreter: what an import pulls in (issue 10: `import features` loaded the loaders, the
    synthetic-web generator, scikit-learn and scipy)."""
    code = f"import sys; {statement}; print(sorted(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    loaded = set(eval(out.stdout))  # noqa: S307 - our own printed list
    assert not [m for m in absent if m in loaded], f"{statement} loads {[m for m in absent if m in loaded]}"
