"""C8: `guanxi serve` supervises instead of dying. The worker is killed (SIGKILL) while it
runs an import: the web server keeps answering, the worker is back within seconds (with a
log line), the killed job is marked failed within seconds (heartbeat), and "run again"
imports every row once. Real processes on a SQLite file of their own."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest

from tests.live_server import free_port

from .test_kill import NOTE, environment, guanxi

ROWS = 20_000


def wait_for(what, condition, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"{what}: not within {seconds} s")


def job_state(db) -> tuple[str, str, int]:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute(
            "SELECT state, message, created_count FROM transfer_importjob WHERE id = 1"
        ).fetchone()


def test_killed_worker_is_restarted_and_its_job_failed_then_rerun(tmp_path):
    db = tmp_path / "guanxi.sqlite3"
    env = environment(db, tmp_path) | {"GUANXI_HTTPS": "0", "WEB_WORKERS": "1"}
    assert guanxi(env, "migrate", "-v0").returncode == 0
    csv_path = tmp_path / "big.csv"
    with open(csv_path, "w", encoding="utf-8", newline="") as out:
        out.write("姓名,手机,城市,备注\r\n")
        for i in range(ROWS):
            out.write(f"客户{i},139{i:08d},北京,{NOTE}\r\n")
    port = free_port()
    log = open(tmp_path / "serve.log", "w+")  # noqa: SIM115
    serve = subprocess.Popen(
        [sys.executable, "-m", "guanxi.cli", "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    health = tmp_path / "serve-health.json"

    def up() -> bool:
        try:
            return httpx.get(base + "/healthz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def children() -> dict:
        try:
            return {c["name"]: c for c in json.loads(health.read_text())["children"]}
        except (OSError, ValueError, KeyError):
            return {}

    try:
        wait_for("the web server answers", up, 60)
        # An import queued for the worker, as the web page queues it (batches of 200).
        setup = (
            "from guanxi.core.models import OrgUnit, User, UserRole, Role\n"
            "from guanxi.transfer.services import import_configure, import_upload_path\n"
            "hq = OrgUnit.objects.create(name='总部', kind='head_office')\n"
            "admin = User.objects.create_user('admin', password='x', org_unit=hq)\n"
            "UserRole.objects.create(user=admin, role=Role.ADMIN)\n"
            f"job = import_upload_path(actor=admin, path='{csv_path}')\n"
            "import_configure(actor=admin, job_id=job.pk, mapping=job.mapping,"
            " options={'batch_size': 200})\n"
        )
        result = guanxi(env, "shell", "-c", setup)
        assert result.returncode == 0, result.stderr
        progress = tmp_path / "imports" / "job-1.progress.json"

        def writing() -> bool:
            try:
                return json.loads(progress.read_text()).get("written", 0) >= 600
            except (OSError, ValueError):
                return False

        wait_for("the worker imports", writing, 120)
        worker = children()["worker"]["pid"]
        os.kill(worker, signal.SIGKILL)
        killed_at = time.monotonic()

        assert up()  # the web server stays up
        back = wait_for(
            "the worker is restarted",
            lambda: (c := children().get("worker")) and c["running"] and c["pid"] != worker and c,
            15,
        )
        assert back["restarts"] == 1 and back["last_exit"] == -signal.SIGKILL
        failed = wait_for("the killed job is failed", lambda: job_state(db)[0] == "failed", 15)
        assert failed and time.monotonic() - killed_at < 15
        _state, message, created = job_state(db)
        assert ("interrupted" in message or "中断" in message) and created == 0
        assert serve.poll() is None and up()
        log.seek(0)
        assert f"the worker (pid {worker}) exited with code -9" in log.read()

        rerun = guanxi(
            env,
            "shell",
            "-c",
            "from guanxi.core.models import User\n"
            "from guanxi.transfer.services import import_rerun\n"
            "import_rerun(actor=User.objects.get(username='admin'), job_id=1)\n",
        )
        assert rerun.returncode == 0, rerun.stderr
        wait_for("the re-run succeeds", lambda: job_state(db)[0] == "succeeded", 240)
        assert job_state(db)[2] == ROWS
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM customers_customer").fetchone()[0] == ROWS
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
        log.close()
    assert not health.exists()  # removed when serve stops
