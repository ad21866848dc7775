"""An import job's life outside a request: the worker claims and runs it, the scheduler reaps
the ones whose process died and clears old uploads. Below transfer.services and
transfer.tasks, so the task and the service that queues it do not import each other."""

import os
import socket
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.customers.models import LoadBatch

from .customer_import import discard_leftovers, runner_for
from .models import ImportJob
from .runner import DEAD_AFTER_SECONDS, import_dir, read_progress

CLAIM_GRACE_SECONDS = 30  # claimed, no progress file yet: starting, not dead


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child its parent has not reaped yet is a zombie: dead
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def job_is_stale(job: ImportJob) -> bool:
    """Importing, but its process is gone: the process on this machine no longer exists, or
    the progress file (touched every second while it runs: a heartbeat) stopped moving."""
    if job.state != ImportJob.State.IMPORTING:
        return False
    progress = read_progress(job)
    if progress is None:
        reference = job.started_at or job.created_at
        return (timezone.now() - reference).total_seconds() > CLAIM_GRACE_SECONDS
    here = progress.get("host") == socket.gethostname() and progress.get("pid")
    if here and not _process_alive(int(progress["pid"])):
        return True
    return progress["age"] > DEAD_AFTER_SECONDS


def reap_dead_imports() -> list[int]:
    """Mark imports whose process died as failed (a conditional UPDATE: a live one is never
    touched twice), then clean up after them: the rows of their unpublished load are deleted
    and the indexes they dropped built again. Run every few seconds by `guanxi scheduler`
    and before each import; idempotent."""
    running = ImportJob.objects.filter(state=ImportJob.State.IMPORTING)
    dead = [job for job in running if job_is_stale(job)]
    reaped = []
    for job in dead:
        language = job.options.get("language") or settings.LANGUAGE_CODE
        with translation.override(language):
            message = _(
                "The import was interrupted (its process stopped); nothing was written. "
                "Run it again."
            )
        if ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.IMPORTING).update(
            state=ImportJob.State.FAILED,
            finished_at=timezone.now(),
            created_count=0,
            updated_count=0,
            unchanged_count=0,
            skipped_count=0,
            message=message,
        ):
            reaped.append(job.pk)
    if reaped or _has_leftovers():
        discard_leftovers()
    return reaped


def _has_leftovers() -> bool:
    alive = ImportJob.objects.filter(
        state=ImportJob.State.IMPORTING, load_batch__isnull=False
    ).values("load_batch")
    leftovers = LoadBatch.objects.filter(published_at__isnull=True).exclude(id__in=alive)
    dropped = ImportJob.objects.exclude(dropped_indexes=[]).exclude(state=ImportJob.State.IMPORTING)
    return leftovers.exists() or dropped.exists()


def import_run(*, job_id: int, on_progress: Callable[[dict], None] | None = None) -> ImportJob:
    """Run a queued job here and now (the worker's task, and `guanxi import`).

    The job is claimed by a conditional UPDATE (queued → importing), so a task delivered
    twice runs once.
    """
    reap_dead_imports()  # a killed run's hidden rows go before this one matches anything
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(
        state=ImportJob.State.IMPORTING, started_at=timezone.now()
    )
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job
    return runner_for(job, on_progress=on_progress).run()


# States whose upload no longer serves anyone after a while: finished (a re-run of a
# succeeded import only matches), refused (rejected rows, failed), or never mapped.
_DONE_WITH_FILE = (
    ImportJob.State.SUCCEEDED,
    ImportJob.State.REJECTED,
    ImportJob.State.FAILED,
    ImportJob.State.UPLOADED,
)


def remove_old_uploads(*, now=None) -> int:
    """Remove from disk the uploads of jobs that ended (or were left unmapped) more than
    GUANXI_IMPORT_KEEP_DAYS ago, and files in the import folder no job refers to (an upload
    cut off mid-way) older than a day. The job, its counts and its error report stay. Run
    daily by `guanxi scheduler`; idempotent. Returns the number of files removed."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.GUANXI_IMPORT_KEEP_DAYS)
    removed = 0
    old = ImportJob.objects.filter(state__in=_DONE_WITH_FILE, file_removed_at__isnull=True).filter(
        Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    )
    for job in old.only("pk", "file_path"):
        # A conditional UPDATE first: a job re-run meanwhile (now queued) keeps its file.
        if ImportJob.objects.filter(pk=job.pk, state__in=_DONE_WITH_FILE).update(
            file_removed_at=now
        ):
            path = import_dir() / job.file_path
            if path.exists():
                path.unlink(missing_ok=True)
                removed += 1
    folder = import_dir()
    if folder.is_dir():
        known = set(ImportJob.objects.values_list("file_path", flat=True))
        stray_before = (now - timedelta(days=1)).timestamp()
        for path in folder.iterdir():
            # Uploads are <uuid hex>.<format>; progress files and error reports are kept.
            stem, _dot, suffix = path.name.partition(".")
            if suffix not in ("csv", "xlsx", "xls") or len(stem) != 32 or path.name in known:
                continue
            if path.is_file() and path.stat().st_mtime < stray_before:
                path.unlink(missing_ok=True)
                removed += 1
    return removed
