"""The package's shape: products in subpackages, imports that flow one way.

Every import between rnnspec's own modules, at the top of a module or inside a
function (not those under ``if TYPE_CHECKING``), is read from the source; the graph
they make has no cycle, and no module imports names back from the package face
``rnnspec/__init__.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import rnnspec

ROOT = Path(rnnspec.__file__).parent
PRODUCTS = ("run", "seed", "bench", "claims", "modes", "cli", "laws", "reference", "peers")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(name: str) -> set[str]:
    """The rnnspec modules ``name`` imports (``from pkg import mod`` counts as ``pkg.mod``)."""
    found: set[str] = set()
    tree = ast.parse(MODULES[name].read_text())
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        for inner in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:  # read by type checkers only: no import at run time
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("rnnspec"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rnnspec"):
            module = node.module or ""
            subs = {f"{module}.{a.name}" for a in node.names} & MODULES.keys()
            found.update(subs or {module})
    return found - {name}


GRAPH = {name: _imports(name) for name in MODULES}


def test_the_products_are_subpackages() -> None:
    for product in PRODUCTS:
        assert (ROOT / product / "__init__.py").is_file(), product


def test_no_module_imports_the_package_face() -> None:
    offenders = sorted(
        name for name, deps in GRAPH.items() if "rnnspec" in deps and name != "rnnspec"
    )
    assert offenders == []


def test_the_import_graph_has_no_cycle() -> None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for dep in sorted(GRAPH.get(name, ())):
            if dep not in GRAPH:
                continue
            if state.get(dep) == 1:
                cycle = path[path.index(dep) :] + [dep]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        path.pop()
        state[name] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)


def test_only_the_shells_import_the_command_line() -> None:
    # the command line sits on top: the plugin shares its options, nothing below reaches up
    shells = {"rnnspec.plugin"}
    offenders = sorted(
        name
        for name, deps in GRAPH.items()
        if not name.startswith("rnnspec.cli") and name not in shells
        and any(dep.startswith("rnnspec.cli") for dep in deps)
    )  # fmt: skip
    assert offenders == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_imports(name: str) -> None:
    __import__(name)


def test_the_readme_architecture_names_every_module() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Architecture", 1)[1].split("```", 2)[1]
    top = {p.name for p in ROOT.iterdir() if p.name != "__pycache__" and p.name != "py.typed"}
    missing = sorted(name for name in top if (name + "/" if "." not in name else name) not in block)
    assert missing == [], "README's Architecture block does not name these"
    for package in PRODUCTS:
        modules = {p.name for p in (ROOT / package).iterdir() if p.name.endswith(".py")}
        modules |= {
            p.name + "/" for p in (ROOT / package).iterdir() if (p / "__init__.py").exists()
        }
        unnamed = sorted(m for m in modules - {"__init__.py"} if m not in block)
        assert unnamed == [], f"README's Architecture block does not name {package}/{unnamed}"
