"""No hidden imports between the project's modules (issue #10 item 1): every `guanxi` import is
at the top of its module, where import-linter's layer contracts and a reader both see it. A
function-level import hides a dependency (and often a layer violation or an import cycle).

Allowed inside a function: `AppConfig.ready()` in an app's apps.py (apps load before their
models, and registering needs the models) and management commands (loaded by name, one at a
time). A cycle is broken by moving the shared piece down a layer or through a registry."""

import ast
from pathlib import Path

import guanxi

SOURCE = Path(guanxi.__file__).parent


def _is_project_import(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] == "guanxi"
    return any(alias.name.split(".")[0] == "guanxi" for alias in node.names)


def hidden_imports(tree: ast.AST, relative: str) -> list[str]:
    """`relative:line: import …` for each project import inside a function of the module."""
    found = []

    def walk(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = (
                child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else None
            )
            if (
                function
                and isinstance(child, ast.Import | ast.ImportFrom)
                and _is_project_import(child)
                and not (function == "ready" and relative.endswith("apps.py"))
            ):
                found.append(f"{relative}:{child.lineno}: {ast.unparse(child)}")
            walk(child, inner or function)

    walk(tree, None)
    return found


def project_hidden_imports() -> list[str]:
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE).as_posix()
        if "/migrations/" in relative or "/management/commands/" in relative:
            continue
        found += hidden_imports(ast.parse(path.read_text(encoding="utf-8")), relative)
    return found


def test_no_module_imports_a_guanxi_module_inside_a_function():
    assert project_hidden_imports() == []


def test_the_scan_finds_an_import_inside_a_function_or_method():
    code = (
        "from guanxi.core.models import User\n"
        "def view(request):\n"
        "    from guanxi.sales.models import Deal\n"
        "class Service:\n"
        "    def run(self):\n"
        "        if True:\n"
        "            from .models import Ticket\n"
        "        import guanxi.customers.selectors\n"
        "    def ready(self):\n"
        "        from .models import Ticket\n"
        "def helper():\n"
        "    import json\n"
        "    from django.db import transaction\n"
    )
    assert hidden_imports(ast.parse(code), "service/services.py") == [
        "service/services.py:3: from guanxi.sales.models import Deal",
        "service/services.py:7: from .models import Ticket",
        "service/services.py:8: import guanxi.customers.selectors",
        "service/services.py:10: from .models import Ticket",
    ]


def test_ready_in_apps_py_may_import_what_it_registers():
    code = "class Config:\n    def ready(self):\n        from .timeline import events\n"
    assert hidden_imports(ast.parse(code), "sales/apps.py") == []
