"""The import pages: upload, mapping with preview, progress, error report; and the nav."""

from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.customers.models import Customer
from guanxi.transfer.jobs import import_run
from guanxi.transfer.models import ImportJob, ImportMapping

from .helpers import csv_bytes


def gbk_file(rows, name="客户.csv"):
    return SimpleUploadedFile(name, csv_bytes(rows, "gbk"), content_type="text/csv")


def test_upload_map_run_and_read_the_outcome(client, manager, owner):
    client.force_login(manager)
    response = client.post(
        "/imports/",
        {
            "file": gbk_file(
                [
                    ["姓名", "手机", "生日"],
                    ["张三", "13812345678", "1985年3月2日"],
                    ["李四", "bad", ""],
                ]
            ),
            "kind": "customers",
        },
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/mapping/"
    page = client.get(f"/imports/{job.pk}/mapping/").content.decode()
    assert "13812345678" in page  # the preview
    assert 'value="phone" selected' in page  # recognised from 手机
    response = client.post(
        f"/imports/{job.pk}/mapping/",
        {
            "col_0": "name",
            "col_1": "phone",
            "col_2": "birthday",
            "duplicates": "skip",
            "skip_bad": "1",
            "owner_mode": "fixed",
            "owner_id": owner.pk,
        },
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == ImportJob.State.QUEUED
    assert ImportMapping.objects.filter(user=manager).exists()
    running = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in running  # polls while queued or running
    import_run(job_id=job.pk)
    done = client.get(f"/imports/{job.pk}/progress/", headers={"HX-Request": "true"})
    text = done.content.decode()
    assert "every 1s" not in text  # stops polling when finished
    assert "100%" in text
    report = client.get(f"/imports/{job.pk}/errors.csv")
    body = b"".join(report.streaming_content).decode("utf-8-sig")
    assert "\r\n3," in body or "\n3," in body  # line 3 of the file: the bad phone
    assert Customer.objects.get().owner == owner


def test_mapping_errors_are_shown(client, manager):
    client.force_login(manager)
    client.post("/imports/", {"file": gbk_file([["甲", "乙"], ["张三", "1"]]), "kind": "customers"})
    job = ImportJob.objects.get()
    response = client.post(f"/imports/{job.pk}/mapping/", {"col_0": "ignore", "col_1": "ignore"})
    assert response.status_code == 200
    assert "Name" in response.content.decode()
    job.refresh_from_db()
    assert job.state == ImportJob.State.UPLOADED


def test_salesperson_sees_no_import_pages(client, owner):
    client.force_login(owner)
    assert client.get("/imports/").status_code == 404
    assert "/imports/" not in client.get("/customers/").content.decode()


def test_other_managers_jobs_are_hidden(client, manager, sh_manager):
    client.force_login(manager)
    client.post("/imports/", {"file": gbk_file([["姓名"], ["张三"]]), "kind": "customers"})
    job = ImportJob.objects.get()
    client.force_login(sh_manager)
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    assert client.get(f"/imports/{job.pk}/mapping/").status_code == 404


def test_nav_and_export_buttons(client, manager):
    client.force_login(manager)
    page = client.get("/customers/").content.decode()
    assert 'href="/imports/"' in page
    assert 'id="export-csv"' in page and 'id="export-xlsx"' in page


def test_stale_job_offers_a_rerun(client, manager, import_dir):
    from django.utils import timezone

    client.force_login(manager)
    client.post("/imports/", {"file": gbk_file([["姓名"], ["张三"]]), "kind": "customers"})
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.IMPORTING, started_at=timezone.now() - timezone.timedelta(hours=1)
    )
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Run again" in page and "every 1s" not in page
    assert client.post(f"/imports/{job.pk}/rerun/").status_code == 302
    job.refresh_from_db()
    assert job.state == ImportJob.State.QUEUED


def test_running_job_shows_its_progress_with_grouped_counts(client, manager, import_dir):
    """While the worker imports, the page polls the progress file: the phase, the share
    done and the counts as people read them (1,234,567, not 1234567)."""
    import json

    from django.utils import timezone

    from guanxi.transfer.runner import progress_path

    client.force_login(manager)
    client.post("/imports/", {"file": gbk_file([["姓名"], ["张三"]]), "kind": "customers"})
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.IMPORTING, started_at=timezone.now()
    )
    progress = {"state": "importing", "fraction": 0.5, "errors": 3, "total": 1234567}
    progress_path(job).write_text(json.dumps({**progress, "written": 1200000}))
    page = client.get(f"/imports/{job.pk}/progress/", headers={"HX-Request": "true"})
    text = page.content.decode()
    assert "checking and writing rows" in text and "50%" in text and "every 1s" in text
    assert "1,234,567" in text and "1,200,000" in text
    progress_path(job).write_text(json.dumps({**progress, "state": "finishing"}))
    page = client.get(f"/imports/{job.pk}/progress/", headers={"HX-Request": "true"})
    assert "rebuilding the search indexes" in page.content.decode()
