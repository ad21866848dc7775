"""C8: a big import never stops anyone else. 300,000 rows, all-or-nothing, on SQLite, while
20 threads create and edit customers through the API of a real server: every API write
succeeds (no 5xx, no "database is locked"), the import's rows appear all at once, and a
kill -9 of an import half way leaves none of them (docs/decisions/0004-imports-in-steps.md).

Real processes on a SQLite file of their own, whatever database the rest of the suite uses.
"""

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.live_server import gunicorn

from .busy_office import BusyOffice, failures
from .test_kill import environment, guanxi

ROWS = 300_000
VISIBLE_IMPORTED = (
    "SELECT count(*) FROM customers_customer WHERE name LIKE '导入%' AND (load_batch IS NULL "
    "OR load_batch IN (SELECT id FROM customers_loadbatch WHERE published_at IS NOT NULL))"
)


@pytest.fixture
def office(tmp_path):
    """A migrated database with an administrator and an API token, served by gunicorn."""
    db = tmp_path / "guanxi.sqlite3"
    env = environment(db, tmp_path) | {"GUANXI_HTTPS": "0"}
    assert guanxi(env, "migrate", "-v0").returncode == 0
    setup = (
        "from guanxi.core.models import OrgUnit, User, UserRole, Role\n"
        "from guanxi.core.services import token_create\n"
        "hq = OrgUnit.objects.create(name='总部', kind='head_office')\n"
        "admin = User.objects.create_user('admin', password='x', org_unit=hq)\n"
        "UserRole.objects.create(user=admin, role=Role.ADMIN)\n"
        "print('TOKEN', token_create(actor=admin, name='office')[1])\n"
    )
    result = guanxi(env, "shell", "-c", setup)
    assert result.returncode == 0, result.stderr
    token = result.stdout.split("TOKEN ")[1].split()[0]
    csv_path = tmp_path / "big.csv"
    with open(csv_path, "w", encoding="utf-8", newline="") as out:
        out.write("姓名,手机,城市\r\n")
        for i in range(ROWS):
            out.write(f"导入{i},139{i:08d},北京\r\n")
    with gunicorn(env, tmp_path / "gunicorn.log") as base:
        yield {"db": db, "env": env, "csv": csv_path, "base": base, "token": token}


class Watcher(threading.Thread):
    """Counts the imported customers another connection sees, over and over."""

    def __init__(self, db: Path):
        super().__init__(daemon=True)
        self.db, self.seen, self.done = db, set(), threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.db, timeout=60)
        try:
            while not self.done.is_set():
                self.seen.add(conn.execute(VISIBLE_IMPORTED).fetchone()[0])
                time.sleep(0.1)
        finally:
            conn.close()


def start_import(office, *extra) -> subprocess.Popen:
    command = ["guanxi.cli", "import", str(office["csv"]), "--as", "admin", "--quiet", *extra]
    return subprocess.Popen(
        [sys.executable, "-m", *command],
        env=office["env"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_big_import_never_stops_the_office_and_shows_its_rows_all_at_once(office):
    db = office["db"]
    busy = BusyOffice(
        office["base"], office["token"], threads=20, pause=1.0
    ).start()  # < gunicorn's 2 s keep-alive
    watcher = Watcher(db)
    watcher.start()
    try:
        # 1. kill -9 half way: nothing of it is seen, and the reaper removes its rows.
        killed = start_import(office)
        progress = db.parent / "imports" / "job-1.progress.json"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert killed.poll() is None, killed.communicate()
            try:
                written = json.loads(progress.read_text()).get("written", 0)
            except (OSError, ValueError):
                written = 0
            if written >= 20_000:
                break
            time.sleep(0.05)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        with sqlite3.connect(db) as conn:
            assert (
                conn.execute(
                    "SELECT count(*) FROM customers_customer WHERE name LIKE '导入%'"
                ).fetchone()[0]
                >= 20_000
            )
            assert conn.execute(VISIBLE_IMPORTED).fetchone()[0] == 0
        listed = httpx.get(
            office["base"] + "/api/v1/customers",
            params={"q": "导入1"},
            headers={"Authorization": f"Bearer {office['token']}"},
        )
        assert listed.status_code == 200 and listed.json()["items"] == []

        # 2. The whole file, all-or-nothing, while the office keeps saving. The import first
        # deletes what the killed run left (hidden all along).
        started = time.monotonic()
        full = start_import(office)
        out, err = full.communicate(timeout=1800)
        import_seconds = time.monotonic() - started
        assert full.returncode == 0, out + err
        assert f"created {ROWS:,}" in out, out
        time.sleep(0.5)
    finally:
        outcomes = busy.stop()
        watcher.done.set()
        watcher.join()
    print(f"import of {ROWS:,} rows beside the office: {import_seconds:.1f} s")
    bad = failures(outcomes)
    assert not bad, [(o.what, o.status, o.body) for o in bad[:5]]
    during = [o for o in outcomes if o.started >= started]
    assert len(during) >= 20, (len(during), import_seconds)  # the office did work meanwhile
    assert watcher.seen <= {0, ROWS}, sorted(watcher.seen)[:10]  # never a part of the file
    assert ROWS in watcher.seen
    with sqlite3.connect(db) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM customers_customer WHERE name LIKE '导入%'"
            ).fetchone()[0]
            == ROWS
        )
        made = conn.execute("SELECT count(*) FROM customers_customer WHERE name LIKE '同事%'")
        assert made.fetchone()[0] == sum(1 for o in outcomes if o.what == "create")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
