"""C8 (issue 13 item 7): uploads of refused or finished imports are removed from disk on a
schedule; the job, its counts and its error report stay, and "run again" says why it cannot."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from guanxi.core.errors import ValidationFailed
from guanxi.transfer.jobs import remove_old_uploads
from guanxi.transfer.models import ImportJob
from guanxi.transfer.runner import error_report_path
from guanxi.transfer.services import import_rerun

from .helpers import csv_bytes, import_file, upload

GOOD = [["姓名", "手机"], ["王五", "13900001111"]]
BAD = [["姓名", "手机"], ["王五", "12345"]]


def upload_file(job: ImportJob):
    return settings.GUANXI_IMPORT_DIR / job.file_path


def test_the_daily_cleanup_is_scheduled():
    paths = [path for path, _seconds in settings.GUANXI_PERIODIC_TASKS]
    assert "guanxi.transfer.tasks.remove_old_import_files" in paths


def test_finished_and_refused_uploads_leave_the_disk_after_the_keeping_days(admin_user):
    done = import_file(admin_user, "好.csv", csv_bytes(GOOD))
    refused = import_file(admin_user, "坏.csv", csv_bytes(BAD))
    assert (done.state, refused.state) == (ImportJob.State.SUCCEEDED, ImportJob.State.REJECTED)
    recent = upload(admin_user, "新.csv", csv_bytes([*GOOD, ["赵六", "13900002222"]]))
    assert remove_old_uploads() == 0  # nothing is old yet
    later = timezone.now() + timedelta(days=settings.GUANXI_IMPORT_KEEP_DAYS, hours=1)
    assert remove_old_uploads(now=later) == 3  # the upload never mapped is as old: gone too
    assert not upload_file(done).exists() and not upload_file(refused).exists()
    assert not upload_file(recent).exists()
    assert error_report_path(refused).exists()  # the report the user still needs stays
    refused.refresh_from_db()
    assert refused.file_removed_at is not None and refused.error_count == 1
    assert remove_old_uploads(now=later) == 0  # idempotent


def test_a_queued_job_keeps_its_file(admin_user):
    job = import_file(admin_user, "好.csv", csv_bytes(GOOD))
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED)
    later = timezone.now() + timedelta(days=settings.GUANXI_IMPORT_KEEP_DAYS + 1)
    remove_old_uploads(now=later)
    assert upload_file(job).exists()


def test_a_stray_file_of_an_interrupted_upload_is_removed(admin_user, import_dir):
    import_dir.mkdir(parents=True, exist_ok=True)
    stray = import_dir / ("a" * 32 + ".csv")
    stray.write_bytes(b"half an upload")
    later = timezone.now() + timedelta(days=2)
    assert remove_old_uploads(now=later) == 1
    assert not stray.exists()


def test_run_again_after_the_file_is_gone_says_so(admin_client, admin_user):
    job = import_file(admin_user, "坏.csv", csv_bytes(BAD))
    remove_old_uploads(now=timezone.now() + timedelta(days=settings.GUANXI_IMPORT_KEEP_DAYS + 1))
    with pytest.raises(ValidationFailed) as caught:
        import_rerun(actor=admin_user, job_id=job.pk)
    assert caught.value.errors[0].code == "file_removed"
    page = admin_client.get(reverse("transfer:job", args=[job.pk])).content.decode()
    assert "The uploaded file was removed from the server on" in page
    assert "Run again" not in page
