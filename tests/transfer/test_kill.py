"""Killing `guanxi import` half way leaves no partial batch; running it again imports each
customer exactly once. Real processes, SIGKILL, on a SQLite database file of their own
(whatever database the rest of the suite runs on)."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from guanxi.transfer import runner

ROWS = 20_000
BATCH = 200
NOTE = "老客户介绍，来过两次展厅，对三居室有兴趣"


def guanxi(env, *args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "guanxi.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A migrated database with an organisation and an administrator, copied per test."""
    work = tmp_path_factory.mktemp("kill-template")
    db = work / "template.sqlite3"
    env = environment(db, work)
    result = guanxi(env, "migrate", "-v0")
    assert result.returncode == 0, result.stderr
    setup = (
        "from guanxi.core.models import OrgUnit, User, UserRole, Role\n"
        "hq = OrgUnit.objects.create(name='总部', kind='head_office')\n"
        "admin = User.objects.create_user('admin', password='x', org_unit=hq)\n"
        "UserRole.objects.create(user=admin, role=Role.ADMIN)\n"
    )
    result = guanxi(env, "shell", "-c", setup)
    assert result.returncode == 0, result.stderr
    return db


def environment(db: Path, work: Path) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{db}",
        GUANXI_VAR_DIR=str(work),
        GUANXI_IMPORT_DIR=str(work / "imports"),
        SECRET_KEY="kill-test-secret-key",
        DJANGO_SETTINGS_MODULE="guanxi.settings",
    )
    return env


@pytest.fixture
def workspace(template, tmp_path):
    db = tmp_path / "guanxi.sqlite3"
    shutil.copyfile(template, db)
    csv_path = tmp_path / "big.csv"
    with open(csv_path, "w", encoding="gb18030", newline="") as out:
        out.write("姓名,手机,城市,备注\r\n")
        for i in range(ROWS):
            out.write(f"客户{i},139{i:08d},北京,{NOTE}\r\n")
    assert csv_path.stat().st_size > runner.PARALLEL_FROM_BYTES  # checked in forked processes
    return db, environment(db, tmp_path), csv_path, tmp_path / "imports"


def counts(db: Path) -> dict:
    with sqlite3.connect(db) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "customers": one("SELECT count(*) FROM customers_customer"),
            "distinct_phones": one("SELECT count(DISTINCT primary_phone) FROM customers_customer"),
            "phones": one("SELECT count(*) FROM customers_customerphone"),
            "without_phone": one(
                "SELECT count(*) FROM customers_customer c WHERE NOT EXISTS "
                "(SELECT 1 FROM customers_customerphone p WHERE p.customer_id = c.id)"
            ),
            "keys": one("SELECT count(*) FROM transfer_importkey"),
            "integrity": one("PRAGMA integrity_check"),
            # What users see: rows of an unpublished load batch are hidden from every read.
            "visible": one(
                "SELECT count(*) FROM customers_customer WHERE load_batch IS NULL OR "
                "load_batch IN (SELECT id FROM customers_loadbatch WHERE published_at IS NOT NULL)"
            ),
            "indexes": one("SELECT count(*) FROM sqlite_master WHERE type = 'index'"),
        }


def checking_processes(csv_path: Path) -> list[int]:
    """Processes still running `guanxi import` of this file (the importer's forked checkers
    carry its command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(csv_path).encode() in command and b"guanxi.cli" in command:
                found.append(int(entry.name))
    return found


def kill_while_writing(env, csv_path, imports: Path, *extra, written_at_least: int = 1) -> None:
    """Start `guanxi import`, SIGKILL it once it has written rows; its checking processes
    must go too."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "guanxi.cli",
            "import",
            str(csv_path),
            "--as",
            "admin",
            "--quiet",
            "--batch-size",
            str(BATCH),
            *extra,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    progress = imports / "job-1.progress.json"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            assert process.poll() is None, "the import finished before it could be killed"
            try:
                data = json.loads(progress.read_text())
            except (OSError, ValueError):
                data = {}
            if data.get("written", 0) >= written_at_least:
                assert len(checking_processes(csv_path)) > 1, "no checking process was forked"
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
                for _ in range(100):
                    if not checking_processes(csv_path):
                        return
                    time.sleep(0.05)
                pytest.fail(
                    f"checking processes outlived the importer: {checking_processes(csv_path)}"
                )
            time.sleep(0.01)
        pytest.fail("the import never started writing")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_killed_all_or_nothing_import_shows_nothing_and_reruns_exactly_once(workspace):
    """All-or-nothing writes in short steps into a hidden batch: a kill -9 half way shows
    nobody any of its rows; the reaper (run by `guanxi scheduler`) marks the job failed and
    deletes them; a re-run imports each customer exactly once."""
    db, env, csv_path, imports = workspace
    indexes = counts(db)["indexes"]
    kill_while_writing(env, csv_path, imports, written_at_least=BATCH * 3)
    after_kill = counts(db)
    assert after_kill["integrity"] == "ok"
    assert after_kill["customers"] >= BATCH * 3  # written in steps, committed…
    assert after_kill["visible"] == 0  # …and seen by nobody

    reap = guanxi(
        env,
        "shell",
        "-c",
        "from guanxi.transfer.jobs import reap_dead_imports; print(reap_dead_imports())",
    )
    assert reap.returncode == 0, reap.stderr
    assert reap.stdout.strip().endswith("[1]")
    cleaned = counts(db)
    assert cleaned["customers"] == cleaned["phones"] == cleaned["keys"] == 0
    assert cleaned["indexes"] == indexes
    with sqlite3.connect(db) as conn:
        state, message = conn.execute("SELECT state, message FROM transfer_importjob").fetchone()
    assert state == "failed" and ("interrupted" in message or "中断" in message)

    first = guanxi(env, "import", str(csv_path), "--as", "admin", "--quiet")
    assert first.returncode == 0, first.stdout + first.stderr
    done = counts(db)
    assert done["customers"] == done["distinct_phones"] == done["phones"] == ROWS
    assert done["without_phone"] == 0

    second = guanxi(env, "import", str(csv_path), "--as", "admin", "--quiet")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "created 0" in second.stdout
    assert counts(db)["customers"] == ROWS


def test_killed_skip_mode_import_keeps_whole_batches_and_finishes_on_rerun(workspace):
    db, env, csv_path, imports = workspace
    kill_while_writing(env, csv_path, imports, "--skip-bad-rows", written_at_least=BATCH * 3)
    after_kill = counts(db)
    assert after_kill["integrity"] == "ok"
    assert 0 < after_kill["customers"] < ROWS
    assert after_kill["customers"] % BATCH == 0  # whole batches only
    assert after_kill["without_phone"] == 0  # no customer without its phone row
    assert after_kill["keys"] == after_kill["customers"]

    rerun = guanxi(env, "import", str(csv_path), "--as", "admin", "--quiet", "--skip-bad-rows")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    done = counts(db)
    assert done["customers"] == done["distinct_phones"] == ROWS
    assert f"skipped {after_kill['customers']:,}" in rerun.stdout
