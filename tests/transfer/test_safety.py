"""C8: what users see around a running, killed or unpublished import, and the admin's view
of the background processes."""

import json
import time

from guanxi.customers.models import Customer, LoadBatch
from guanxi.customers.services import load_batch_open, load_batch_publish
from guanxi.transfer.jobs import reap_dead_imports
from guanxi.transfer.models import ImportJob
from guanxi.transfer.runner import progress_path
from guanxi.transfer.services import import_rerun
from tests.conftest import new_customer

from .helpers import csv_bytes, import_file, upload

ROWS = [["姓名", "手机"], ["王五", "13900001111"], ["赵六", "13900002222"]]


def test_customers_of_an_unpublished_load_are_seen_by_nobody(client, admin_user, owner):
    shown = new_customer(owner, "张三", ("13812345678",))
    hidden = new_customer(owner, "李四", ("13912345678",))
    batch = load_batch_open(label="test")
    Customer.objects.filter(pk=hidden.pk).update(load_batch=batch)
    for user in (owner, admin_user):
        client.force_login(user)
        items = client.get("/api/v1/customers").json()["items"]
        assert [c["id"] for c in items] == [shown.pk]
        assert client.get(f"/api/v1/customers/{hidden.pk}").status_code == 404
        assert client.get(f"/customers/{hidden.pk}/").status_code == 404
        exported = b"".join(client.get("/customers/export/").streaming_content).decode()
        assert "张三" in exported and "李四" not in exported
    load_batch_publish(batch_id=batch)  # published: everyone who may see it sees it
    client.force_login(owner)
    assert len(client.get("/api/v1/customers").json()["items"]) == 2


def _dead_job(admin_user) -> ImportJob:
    """An import 'running' in a process that no longer exists (pid 2**22 + 1 is never used)."""
    job = upload(admin_user, "客户.csv", csv_bytes(ROWS))
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.IMPORTING)
    progress_path(job).write_text(
        json.dumps(
            {"state": "importing", "pid": 4194305, "host": __import__("socket").gethostname()}
        )
    )
    return ImportJob.objects.get(pk=job.pk)


def test_job_list_never_shows_a_killed_job_as_running(client, admin_user):
    job = _dead_job(admin_user)
    client.force_login(admin_user)
    page = client.get("/imports/").content.decode()
    assert "<td>Interrupted</td>" in page and "<td>Importing</td>" not in page
    assert job.pk in reap_dead_imports()
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    assert "interrupted" in job.message
    assert "Failed" in client.get("/imports/").content.decode()


def test_a_killed_job_can_be_run_again_at_once(admin_user, django_capture_on_commit_callbacks):
    job = _dead_job(admin_user)
    ImportJob.objects.filter(pk=job.pk).update(
        mapping={"0": "name", "1": "phone"}, options={"mode": "all"}
    )
    with django_capture_on_commit_callbacks(execute=False):
        import_rerun(actor=admin_user, job_id=job.pk)  # no waiting for a timeout
    job.refresh_from_db()
    assert job.state == ImportJob.State.QUEUED


def test_a_heartbeat_that_stops_means_dead_within_seconds(admin_user):
    import os

    job = upload(admin_user, "客户.csv", csv_bytes(ROWS))
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.IMPORTING)
    path = progress_path(job)
    path.write_text(json.dumps({"state": "importing", "pid": 1, "host": "elsewhere"}))
    assert reap_dead_imports() == []  # alive: its file moves
    old = time.time() - 11
    os.utime(path, (old, old))
    assert reap_dead_imports() == [job.pk]


def test_a_never_run_upload_is_not_imported_before(client, admin_user):
    data = csv_bytes(ROWS)
    first = upload(admin_user, "客户.csv", data)
    second = upload(admin_user, "客户.csv", data)
    client.force_login(admin_user)
    assert (
        "was imported before" not in client.get(f"/imports/{second.pk}/mapping/").content.decode()
    )
    assert first.state == ImportJob.State.UPLOADED
    done = import_file(admin_user, "客户.csv", data)
    assert done.state == ImportJob.State.SUCCEEDED
    third = upload(admin_user, "客户.csv", data)
    page = client.get(f"/imports/{third.pk}/mapping/").content.decode()
    assert f"import #{done.pk}" in page


def test_an_all_or_nothing_import_publishes_its_batch(admin_user):
    job = import_file(admin_user, "客户.csv", csv_bytes(ROWS))
    assert job.state == ImportJob.State.SUCCEEDED and job.created_count == 2
    batch = LoadBatch.objects.get(pk=job.load_batch)
    assert batch.published_at is not None
    assert set(Customer.objects.values_list("load_batch", flat=True)) == {batch.pk}


def test_a_rejected_import_leaves_no_rows_and_no_batch(admin_user):
    job = import_file(admin_user, "客户.csv", csv_bytes([*ROWS, ["坏", "12345"]]))
    assert job.state == ImportJob.State.REJECTED
    assert not Customer.objects.exists() and not LoadBatch.objects.exists()


def test_admin_home_shows_the_background_processes(client, admin_user, owner, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    client.force_login(admin_user)
    page = client.get("/").content.decode()
    assert "Background processes" in page and "Not supervised" in page
    now = time.time()
    (tmp_path / "serve-health.json").write_text(
        json.dumps(
            {
                "at": now,
                "children": [
                    {
                        "name": "worker",
                        "running": True,
                        "restarts": 2,
                        "last_exit": -9,
                        "last_exit_at": now - 30,
                    },
                    {"name": "scheduler", "running": False, "restarts": 0, "restart_at": now + 4},
                ],
            }
        )
    )
    page = client.get("/").content.decode()
    assert "Background worker" in page and "Running" in page and "restarted 2 times" in page
    assert "Stopped; restarting in 4 s" in page or "Stopped; restarting in 3 s" in page
    client.force_login(owner)
    assert "Background processes" not in client.get("/").content.decode()
