"""Permission predicates live in one place per app (issue #10 item 3): a role or unit check
written in a service, view, API handler or home panel is a rule the next reader cannot find.

Allowed homes: each app's `permissions.py`; `core/visibility.py` (who sees which customer,
and masking); selectors (they turn the rules into queries); the user model that defines the
primitives."""

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "guanxi"
ROLE_CHECK = re.compile(r"\.has_role\(|\bmanaged_unit_ids\b|\bbranch_unit_ids\b")
ALLOWED = {"permissions.py", "selectors.py"}
ALLOWED_PATHS = {SRC / "core" / "visibility.py", SRC / "core" / "models.py"}
CHECKED_APPS = [
    "core",
    "notifications",
    "customers",
    "interactions",
    "reception",
    "sales",
    "loyalty",
    "service",
    "insights",
    "marketing",
    "reports",
    "transfer",
]


def role_checks_outside_permissions(app: str) -> list[str]:
    found = []
    for path in sorted((SRC / app).rglob("*.py")):
        if path.name in ALLOWED or path in ALLOWED_PATHS or "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ROLE_CHECK.search(line):
                found.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    return found


@pytest.mark.parametrize("app", CHECKED_APPS)
def test_role_and_unit_checks_live_in_the_apps_permissions_module(app):
    assert role_checks_outside_permissions(app) == []


def test_the_check_finds_a_role_test_written_in_a_view(tmp_path, monkeypatch):
    """The scan bites: a view deciding by role on its own is reported."""
    app = tmp_path / "someapp"
    app.mkdir()
    (app / "views.py").write_text(
        "def view(request):\n    if request.user.has_role('manager'):\n        pass\n"
    )
    (app / "permissions.py").write_text("def ok(user):\n    return user.has_role('manager')\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["SRC"]), "SRC", tmp_path)
    assert role_checks_outside_permissions("someapp") == [
        "someapp/views.py:2: if request.user.has_role('manager'):"
    ]


def test_admin_or_manager_of_a_unit_is_written_once():
    """`unit in user.managed_unit_ids` appears in core/permissions.py's manages_unit, and no
    other permissions module repeats it."""
    pattern = re.compile(r"in \w+\.managed_unit_ids")
    homes = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts
        and path.name != "selectors.py"
        and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert homes == ["core/permissions.py"]
