"""Only an app writes its own models (issue #10 items 1–2): another app's rows change through
that app's services (customers.services.purchase_record, follow_up_save, household_join…),
so a rule about them has one home. A static scan: in every app's code, no
`Model.objects….update/delete/create…` and no `customer.save(` on a model of another app.

The demo generator (guanxi.demo) builds a whole office and is exempt; migrations are too.
So, for now, are the importers of `transfer` (listed in BULK_LOADERS with the reason): they
load hundreds of thousands of rows through core.bulkload at ≥ 20,000 rows/s, which the
per-record services cannot. Moving the customer importer into the customers app (issue #10
item 6) takes that exemption away."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "guanxi"
WRITES = {
    "update",
    "delete",
    "create",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
}
EXEMPT_APPS = {"demo"}
BULK_LOADERS = {
    "transfer/customer_import.py": "the customer importer: rows, phones and tags in bulk",
    "transfer/interactions.py": "the interaction-history importer: contacts in bulk",
}
APPS = sorted(
    p.name for p in SRC.iterdir() if (p / "models.py").exists() and p.name not in EXEMPT_APPS
)


def _foreign_models(tree: ast.AST, app: str) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith(".models"):
            parts = node.module.split(".")
            if parts[0] == "guanxi" and len(parts) == 3 and parts[1] != app:
                names |= {alias.asname or alias.name for alias in node.names}
    return names


def _root(node: ast.AST) -> tuple[str | None, bool]:
    """The name a call chain starts from, and whether it goes through `.objects`."""
    through_objects = False
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            through_objects |= node.attr == "objects"
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            break
    return (node.id if isinstance(node, ast.Name) else None), through_objects


def foreign_writes(app: str, root: Path = SRC) -> list[str]:
    found = []
    for path in sorted((root / app).rglob("*.py")):
        if "migrations" in path.parts or str(path.relative_to(root)) in BULK_LOADERS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        foreign = _foreign_models(tree, app)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name, through_objects = _root(node.func.value)
            writes_model = node.func.attr in WRITES and through_objects and name in foreign
            saves_customer = app != "customers" and node.func.attr == "save" and name == "customer"
            if writes_model or saves_customer:
                found.append(f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)[:90]}")
    return found


@pytest.mark.parametrize("app", APPS)
def test_an_app_writes_only_its_own_models(app):
    assert foreign_writes(app) == []


def test_the_scan_finds_a_write_to_another_apps_model(tmp_path):
    """The check bites on the patterns it is for."""
    app = tmp_path / "sales"
    app.mkdir()
    (app / "services.py").write_text(
        "from guanxi.customers.models import Customer\n"
        "from .models import Deal\n"
        "def pay(deal, customer):\n"
        "    Deal.objects.filter(pk=1).update(amount=2)\n"
        "    Customer.objects.filter(pk=deal.customer_id).update(revenue=1)\n"
        "    customer.save(update_fields=['revenue'])\n"
    )
    assert [line.split(": ", 1)[0] for line in foreign_writes("sales", tmp_path)] == [
        "sales/services.py:5",
        "sales/services.py:6",
    ]
