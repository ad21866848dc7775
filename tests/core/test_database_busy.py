"""C8: a save that finds SQLite's write lock held past the busy timeout (a big job, a backup)
is told "busy, try again" — a 503 with code `busy` and Retry-After, never a 500 — and nothing
of it is written; once the lock is free the same request succeeds.

A real gunicorn server on a SQLite file of its own, the lock held by another connection.
"""

import re
import sqlite3

import httpx
import pytest

from tests.live_server import gunicorn
from tests.transfer.test_kill import environment, guanxi

SETUP = (
    "from guanxi.core.models import OrgUnit, User, UserRole, Role\n"
    "from guanxi.core.services import token_create\n"
    "hq = OrgUnit.objects.create(name='总部', kind='head_office')\n"
    "admin = User.objects.create_user('admin', password='pw-of-admin', org_unit=hq)\n"
    "UserRole.objects.create(user=admin, role=Role.ADMIN)\n"
    "print('TOKEN', token_create(actor=admin, name='busy')[1])\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("busy")
    db = tmp_path / "guanxi.sqlite3"
    env = environment(db, tmp_path) | {
        "GUANXI_HTTPS": "0",
        "GUANXI_SQLITE_BUSY_SECONDS": "1",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    assert guanxi(env, "migrate", "-v0").returncode == 0
    assert guanxi(env, "collectstatic", "--noinput", "-v0").returncode == 0  # pages, DEBUG off
    made = guanxi(env, "shell", "-c", SETUP)
    assert made.returncode == 0, made.stderr
    token = made.stdout.split("TOKEN ")[1].split()[0]
    with gunicorn(env, tmp_path / "gunicorn.log", workers=1, threads=2) as base:
        yield {"db": db, "base": base, "token": token}


def hold_write_lock(db) -> sqlite3.Connection:
    conn = sqlite3.connect(db, isolation_level=None, timeout=5)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def customers_named(db, name: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT count(*) FROM customers_customer WHERE name = ?", (name,)
        ).fetchone()[0]


def test_api_save_against_a_held_lock_is_a_503_busy_and_succeeds_when_retried(server):
    headers = {"Authorization": f"Bearer {server['token']}"}
    body = {"name": "王芳", "phones": ["13900001111"]}
    lock = hold_write_lock(server["db"])
    try:
        refused = httpx.post(f"{server['base']}/api/v1/customers", json=body, headers=headers)
    finally:
        lock.rollback()
        lock.close()
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "busy" and refused.json()["field"] is None
    assert refused.headers["Retry-After"] == "2"
    assert customers_named(server["db"], "王芳") == 0

    retried = httpx.post(f"{server['base']}/api/v1/customers", json=body, headers=headers)
    assert retried.status_code == 201, retried.text
    assert customers_named(server["db"], "王芳") == 1


def test_page_save_against_a_held_lock_says_busy_in_the_readers_language(server):
    with httpx.Client(base_url=server["base"], headers={"Accept-Language": "zh-hans"}) as web:
        form = web.get("/login/")
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert found, (form.status_code, form.headers, form.text[:500])
        token = found.group(1)
        login = {"username": "admin", "password": "pw-of-admin", "csrfmiddlewaretoken": token}
        lock = hold_write_lock(server["db"])
        try:
            refused = web.post("/login/", data=login, headers={"Referer": server["base"]})
        finally:
            lock.rollback()
            lock.close()
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "2"
        assert "数据库繁忙" in refused.text and "Traceback" not in refused.text
        accepted = web.post("/login/", data=login, headers={"Referer": server["base"]})
        assert accepted.status_code == 302
