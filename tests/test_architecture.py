"""The architecture's rules, checked: the layer contracts in pyproject.toml (import-linter) hold and
catch a violation, and the rules import-linter cannot express hold too.

- no import cycle anywhere in arfilter/, imports inside functions included;
- no `_private` name imported from another file;
- no module-level environment writes outside arfilter/apps (a library wing must not change the
  process for whoever imports it).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = PROJECT_ROOT / "arfilter"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

grimp = pytest.importorskip("grimp", reason="import-linter (and its grimp) come with the test extras: pip install -e '.[test]'")


def python_files(*roots: Path) -> list[Path]:
    return sorted(path for root in roots for path in root.rglob("*.py"))


def run_lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                          timeout=120, check=False)


def test_the_layer_contracts_hold() -> None:
    completed = run_lint_imports(PROJECT_ROOT)
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.parametrize(("module", "violation", "contract"), [
    ("vision/labels.py", "import arfilter.core.types", "Wings are layered"),
    ("render/overlay.py", "from arfilter.io import paths", "Wings are layered"),
    ("apps/window/options.py", "from arfilter.apps.web import options", "independent front ends"),
])
def test_a_deliberate_violation_breaks_the_contracts(tmp_path: Path, module: str, violation: str, contract: str) -> None:
    """The contracts are not vacuous: one forbidden import, even a lazy one inside a function, fails the check."""
    copy = tmp_path / "project"
    shutil.copytree(PACKAGE, copy / "arfilter", ignore=shutil.ignore_patterns("models", "assets", "__pycache__"))
    shutil.copytree(PROJECT_ROOT / "training", copy / "training", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT_ROOT / "pyproject.toml", copy / "pyproject.toml")
    target = copy / "arfilter" / module
    target.write_text(target.read_text() + f"\n\ndef _sneaky() -> None:\n    {violation}\n")
    completed = run_lint_imports(copy)
    assert completed.returncode != 0
    assert contract in completed.stdout and "BROKEN" in completed.stdout


def test_no_import_cycle_in_the_package() -> None:
    graph = grimp.build_graph("arfilter")
    modules = sorted(graph.modules)
    index = {module: number for number, module in enumerate(modules)}
    edges = {module: sorted(graph.find_modules_directly_imported_by(module) & set(modules)) for module in modules}
    # Tarjan's strongly connected components, iteratively (the graph is small; recursion would do too).
    counter, stack, on_stack = 0, [], set()
    low, order, cycles = {}, {}, []

    def connect(start: str) -> None:
        nonlocal counter
        work = [(start, iter(edges[start]))]
        order[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == order[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
            elif child not in order:
                order[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(edges[child])))
            elif child in on_stack:
                low[node] = min(low[node], order[child])

    for module in sorted(modules, key=index.__getitem__):
        if module not in order:
            connect(module)
    assert cycles == [], f"import cycles: {cycles}"


def imported_names(tree: ast.AST) -> list[tuple[str, str, int]]:
    return [(node.module or "", alias.name, node.lineno) for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) for alias in node.names]


def test_no_private_name_is_imported_from_another_file() -> None:
    offenders = [f"{path.relative_to(PROJECT_ROOT)}:{line} imports {name} from {module}"
                 for path in python_files(PACKAGE, PROJECT_ROOT / "training", PROJECT_ROOT / "bench")
                 for module, name, line in imported_names(ast.parse(path.read_text()))
                 if module.startswith(("arfilter", "training", "bench")) and name.startswith("_") and not name.startswith("__")]
    assert offenders == []


def writes_environment(statement: ast.stmt) -> bool:
    """A module-level statement that sets or changes an environment variable."""
    for node in ast.walk(statement):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return False  # runs only when called, by whoever decides to
        if isinstance(node, ast.Attribute) and node.attr in ("putenv", "unsetenv"):
            return True
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("setdefault", "update", "pop", "__setitem__")
                and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "environ"):
            return True
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute)
                   and target.value.attr == "environ" for target in targets):
                return True
    return False


def module_level_statements(tree: ast.Module) -> list[ast.stmt]:
    """Statements that run at import: the module body, into ifs, trys and withs, not into defs or classes."""
    found: list[ast.stmt] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody", "handlers"):
            for child in getattr(statement, field, []):
                pending.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])
        found.append(statement)
    return found


def test_no_environment_writes_at_import_outside_apps() -> None:
    offenders = [str(path.relative_to(PROJECT_ROOT)) for path in python_files(PACKAGE)
                 if "apps" not in path.relative_to(PACKAGE).parts
                 and any(writes_environment(statement) for statement in module_level_statements(ast.parse(path.read_text())))]
    assert offenders == []


def test_the_checks_catch_what_they_look_for() -> None:
    """The AST checks above are not vacuous."""
    assert any(writes_environment(s) for s in module_level_statements(ast.parse("import os\nos.environ.setdefault('A', '1')")))
    assert any(writes_environment(s) for s in module_level_statements(ast.parse("import os\nif True:\n    os.environ['A'] = '1'")))
    assert not any(writes_environment(s) for s in module_level_statements(ast.parse("import os\ndef f():\n    os.environ['A'] = '1'")))
    assert imported_names(ast.parse("from arfilter.x import _y")) == [("arfilter.x", "_y", 1)]
