"""Background work: running an import job (django-tasks, `guanxi worker`)."""

from django_tasks import task

from .jobs import import_run, remove_old_uploads


@task()
def run_import(job_id: int) -> dict:
    """Run one queued import. Claimed by a conditional update, so a duplicate delivery of
    this task does nothing."""
    job = import_run(job_id=job_id)
    return {"job": job.pk, "state": job.state, "created": job.created_count}


@task()
def remove_old_import_files() -> dict:
    """Uploads of imports that ended long ago leave the disk (GUANXI_IMPORT_KEEP_DAYS)."""
    return {"removed": remove_old_uploads()}
