"""Import jobs: upload, map, run (in the worker or the CLI), run again. Admins and managers."""

import hashlib
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from guanxi.core.errors import FieldError, Forbidden, NotFound, ValidationFailed
from guanxi.core.models import User

from .customer_import import eligible_owners
from .fields import (
    IGNORE,
    auto_mapping,
    header_signature,
    normalise_header,
    target_keys,
    targets_for,
)
from .jobs import job_is_stale
from .models import ImportJob, ImportMapping
from .parser import ENCODINGS, UnreadableFile, file_format, inspect
from .permissions import can_import, sees_every_job
from .runner import (
    DEFAULT_OPTIONS,
    error_report_path,
    import_dir,
    read_progress,
)
from .tasks import run_import


def _require_importer(actor: User) -> None:
    if not can_import(actor):
        raise Forbidden(_("Only administrators and managers may import."))


def import_jobs_for(user: User) -> QuerySet[ImportJob]:
    jobs = ImportJob.objects.select_related("created_by")
    return jobs if sees_every_job(user) else jobs.filter(created_by=user)


def import_job_get(*, viewer: User, pk: int) -> ImportJob:
    job = import_jobs_for(viewer).filter(pk=pk).first()
    if job is None:
        raise NotFound(_("Import not found."))
    return job


def same_file_jobs(job: ImportJob) -> QuerySet[ImportJob]:
    """Earlier imports of the very same file (same SHA-256) that wrote something: a job
    never run, rejected or failed without writing is no "imported before"."""
    wrote = Q(created_count__gt=0) | Q(updated_count__gt=0) | Q(state=ImportJob.State.SUCCEEDED)
    return ImportJob.objects.filter(sha256=job.sha256, id__lt=job.id).filter(wrote).order_by("-id")


def job_progress(job: ImportJob) -> dict:
    """How far a job is, as the progress page and the API show it: percent, phase (the
    running step, else the state), whether its process died, whether it is worth polling,
    and whether an error report can be downloaded."""
    progress = read_progress(job) if job.is_running else None
    stale = job_is_stale(job)
    percent = 100 if job.is_finished else 0
    phase = job.state
    if progress and not job.is_finished:
        percent = int(progress.get("fraction", 0) * 100)
        phase = progress["state"]
    return {
        "progress": progress,
        "percent": percent,
        "phase": phase,
        "stale": stale,
        "polling": job.is_running and not stale,
        "has_report": job.error_count > 0 and error_report_path(job).exists(),
    }


def import_upload(
    *, actor: User, name: str, stream, kind: str = ImportJob.Kind.CUSTOMERS
) -> ImportJob:
    """Store the file under var/imports/, hash it, find its header row, propose a mapping
    (the user's remembered one for these headers, else recognised from the header words)."""
    _require_importer(actor)
    if kind not in ImportJob.Kind.values:
        raise ValidationFailed.single("kind", "invalid_choice", _("Unknown kind of import."))
    name = Path(name or "upload").name[:255]
    try:
        fmt = file_format(name)
    except UnreadableFile as exc:
        raise ValidationFailed.single(
            "file", "invalid_format", _("Upload a .csv, .xlsx or .xls file.")
        ) from exc
    stored = f"{uuid.uuid4().hex}.{fmt}"
    path = import_dir() / stored
    digest = hashlib.sha256()
    size = 0
    limit = settings.GUANXI_IMPORT_MAX_BYTES
    with open(path, "wb") as out:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > limit:
                out.close()
                path.unlink(missing_ok=True)
                raise ValidationFailed.single(
                    "file",
                    "too_large",
                    _("The file is larger than %(mb)s MB.") % {"mb": limit // (1 << 20)},
                )
            digest.update(chunk)
            out.write(chunk)
    refused = _refuse_by_content(path, fmt)
    if refused:
        path.unlink(missing_ok=True)
        raise ValidationFailed.single("file", refused[0], refused[1])
    try:
        info = inspect(path, name, kind)
    except UnreadableFile as exc:
        path.unlink(missing_ok=True)
        raise ValidationFailed.single(
            "file", "unreadable", _("This file cannot be read as a table: %s") % exc
        ) from exc
    remembered = ImportMapping.objects.filter(
        user=actor, kind=kind, signature=header_signature(info.headers)
    ).first()
    mapping = remembered.mapping if remembered else auto_mapping(kind, info.headers)
    return ImportJob.objects.create(
        kind=kind,
        created_by=actor,
        file_name=name,
        file_path=stored,
        file_size=size,
        sha256=digest.hexdigest(),
        file_format=info.file_format,
        encoding=info.encoding,
        encoding_sure=info.encoding_sure,
        delimiter=info.delimiter if info.file_format == "csv" else "",
        sheet=info.sheet,
        sheets=info.sheets,
        header_line=info.header_line,
        headers=info.headers,
        preview=info.preview,
        mapping=mapping,
        options=dict(DEFAULT_OPTIONS),
    )


def _uploaded_job_locked(actor: User, job_id: int) -> ImportJob:
    """The actor's job, row-locked, while it is still only uploaded (mapping it is allowed)."""
    job = import_job_get(viewer=actor, pk=job_id)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.state != ImportJob.State.UPLOADED:
        raise ValidationFailed.single(
            "state", "already_started", _("This import has already been started.")
        )
    return job


def import_reread(*, actor: User, job_id: int, encoding: str = "", sheet: str = "") -> ImportJob:
    """Read an uploaded file again with the encoding or the sheet the user chose on the
    mapping page: new headers, preview and proposed mapping."""
    _require_importer(actor)
    with transaction.atomic():
        job = _uploaded_job_locked(actor, job_id)
        if encoding and (job.file_format != "csv" or encoding not in ENCODINGS):
            raise ValidationFailed.single("encoding", "invalid_choice", _("Unknown encoding."))
        if sheet and sheet not in job.sheets:
            raise ValidationFailed.single(
                "sheet", "invalid_choice", _("The workbook has no visible sheet of that name.")
            )
        path = import_dir() / job.file_path
        try:
            info = inspect(
                path,
                job.file_name,
                job.kind,
                encoding=encoding or (job.encoding if job.file_format == "csv" else ""),
                sheet=sheet or job.sheet,
            )
        except (UnreadableFile, LookupError, UnicodeError) as exc:
            raise ValidationFailed.single(
                "file", "unreadable", _("This file cannot be read as a table: %s") % exc
            ) from exc
        remembered = ImportMapping.objects.filter(
            user=actor, kind=job.kind, signature=header_signature(info.headers)
        ).first()
        job.mapping = remembered.mapping if remembered else auto_mapping(job.kind, info.headers)
        if encoding:
            job.encoding, job.encoding_sure = encoding, True
        if job.file_format == "csv":
            job.delimiter = info.delimiter
        job.sheet = info.sheet
        job.header_line, job.headers, job.preview = info.header_line, info.headers, info.preview
        job.save(
            update_fields=[
                "mapping",
                "encoding",
                "encoding_sure",
                "delimiter",
                "sheet",
                "header_line",
                "headers",
                "preview",
            ]
        )
    return job


def duplicate_headers(job: ImportJob) -> list[tuple[str, list[int]]]:
    """(header, 1-based column numbers) of the headers the file has more than once."""
    seen: dict[str, list[int]] = {}
    for index, header in enumerate(job.headers):
        key = normalise_header(header)
        if key:
            seen.setdefault(key, []).append(index)
    return [
        (job.headers[cols[0]], [c + 1 for c in cols]) for cols in seen.values() if len(cols) > 1
    ]


_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _refuse_by_content(path: Path, fmt: str) -> tuple[str, str] | None:
    """(code, sentence) when the file's first bytes say it is not what its name says."""
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if fmt == "csv":
        if head.startswith(_ZIP):
            return "workbook_named_csv", _(
                "This file is an Excel workbook (.xlsx) with a .csv name. Rename it to .xlsx, "
                "or save it from Excel as “CSV UTF-8”, and upload it again."
            )
        if head.startswith(_OLE2):
            return "workbook_named_csv", _(
                "This file is an old Excel workbook (.xls) with a .csv name. Rename it to .xls "
                "and upload it again."
            )
        text_like = head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00\x00" not in head
        if not text_like or (b"\x00" in head and not _utf16_without_bom(head)):
            return "binary_file", _(
                "This file is not a table: it holds binary data (a picture, a program or an "
                "archive?). Upload a .csv, .xlsx or .xls file."
            )
    elif fmt == "xlsx" and not head.startswith(_ZIP):
        return "not_a_workbook", _(
            "This file is not an Excel workbook, although its name ends in .xlsx. Open it in "
            "Excel and save it again as .xlsx or as CSV."
        )
    return None


def _utf16_without_bom(head: bytes) -> bool:
    """Text in UTF-16 without a byte-order mark: every other byte of Latin text is zero."""
    sample = head[: len(head) // 2 * 2]
    if len(sample) < 4:
        return False
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    return max(even, odd) > half * 0.2 and min(even, odd) < half * 0.05


def import_upload_path(
    *, actor: User, path: Path, kind: str = ImportJob.Kind.CUSTOMERS
) -> ImportJob:
    with open(path, "rb") as stream:
        return import_upload(actor=actor, name=Path(path).name, stream=stream, kind=kind)


def _check_mapping(job: ImportJob, mapping: dict) -> dict[str, str]:
    known = target_keys(job.kind)
    multiple = {t.key for t in targets_for(job.kind) if t.multiple}
    clean, used, errors = {}, set(), []
    for index, target in mapping.items():
        if target in ("", IGNORE, None):
            continue
        if target not in known:
            errors.append(
                FieldError(f"mapping.{index}", "invalid_choice", _("Unknown field: %s") % target)
            )
            continue
        if not str(index).isdigit() or int(index) >= len(job.headers):
            errors.append(
                FieldError(f"mapping.{index}", "invalid_column", _("Unknown column: %s") % index)
            )
            continue
        if target in used and target not in multiple:
            errors.append(
                FieldError(
                    f"mapping.{index}",
                    "duplicate_target",
                    _("Two columns are mapped to the same field: %s") % target,
                )
            )
        used.add(target)
        clean[str(int(index))] = target
    if job.kind == ImportJob.Kind.CUSTOMERS and "name" not in used:
        errors.append(FieldError("mapping", "required", _("Map a column to Name.")))
    if job.kind == ImportJob.Kind.INTERACTIONS:
        if not used & {"customer_phone", "customer_email", "customer_ref"}:
            errors.append(
                FieldError("mapping", "required", _("Map a column that names the customer."))
            )
        if "summary" not in used:
            errors.append(FieldError("mapping", "required", _("Map a column to Summary.")))
        if "occurred_at" not in used:
            errors.append(FieldError("mapping", "required", _("Map a column to When.")))
    if errors:
        raise ValidationFailed(errors)
    return clean


def _check_options(actor: User, job: ImportJob, options: dict, mapping: dict) -> dict:
    merged = {**DEFAULT_OPTIONS, **{k: v for k, v in options.items() if v is not None}}
    errors = []
    if merged["mode"] not in ("all", "skip_bad"):
        errors.append(FieldError("mode", "invalid_choice", _("Unknown mode.")))
    if merged["duplicates"] not in ("skip", "update"):
        errors.append(FieldError("duplicates", "invalid_choice", _("Unknown duplicate rule.")))
    if merged["owner_mode"] not in ("column", "fixed", "rotation", "none"):
        errors.append(FieldError("owner_mode", "invalid_choice", _("Unknown owner rule.")))
    owner_id = merged.get("owner_id")
    if owner_id in ("", None):
        merged["owner_id"] = None
    else:
        try:
            merged["owner_id"] = int(owner_id)
        except (TypeError, ValueError):
            merged["owner_id"] = -1
        if not eligible_owners(actor).filter(pk=merged["owner_id"]).exists():
            errors.append(
                FieldError(
                    "owner_id",
                    "invalid_owner",
                    _("The owner must be an active salesperson or manager you may assign."),
                )
            )
    if job.kind == ImportJob.Kind.CUSTOMERS:
        if merged["owner_mode"] == "fixed" and merged["owner_id"] is None:
            errors.append(FieldError("owner_id", "required", _("Choose the owner.")))
        if merged["owner_mode"] == "column" and "owner" not in mapping.values():
            errors.append(
                FieldError(
                    "owner_mode", "required", _("Map a column to Owner, or choose another rule.")
                )
            )
        unowned = merged["owner_mode"] in ("none", "column") and merged["owner_id"] is None
        if unowned and actor.org_unit_id is None:
            message = _("You have no unit: choose an owner.")
            errors.append(FieldError("owner_id", "required", message))
    try:
        merged["batch_size"] = max(50, min(int(merged.get("batch_size") or 2000), 20000))
    except (TypeError, ValueError):
        merged["batch_size"] = 2000
    if errors:
        raise ValidationFailed(errors)
    return merged


def import_configure(
    *, actor: User, job_id: int, mapping: dict, options: dict, start: bool = True
) -> ImportJob:
    """Save the mapping (remembered for these headers) and the options; queue the job."""
    _require_importer(actor)
    with transaction.atomic():
        job = _uploaded_job_locked(actor, job_id)
        if job.file_removed_at is not None:
            raise ValidationFailed.single(
                "file",
                "file_removed",
                _(
                    "The uploaded file was removed from the server some days after the import "
                    "ended. Upload it again to import it."
                ),
            )
        job.mapping = _check_mapping(job, mapping)
        job.options = _check_options(actor, job, options, job.mapping)
        # The worker reports errors in the language of whoever started the import.
        job.options["language"] = get_language() or settings.LANGUAGE_CODE
        job.state = ImportJob.State.QUEUED if start else ImportJob.State.UPLOADED
        job.save(update_fields=["mapping", "options", "state"])
        ImportMapping.objects.update_or_create(
            user=actor,
            kind=job.kind,
            signature=header_signature(job.headers),
            defaults={"headers": job.headers, "mapping": job.mapping, "updated_at": timezone.now()},
        )
        if start:
            transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    run_import.enqueue(job_id)


def import_rerun(*, actor: User, job_id: int) -> ImportJob:
    """Run a finished, failed or interrupted job again. Idempotent by design: rows already
    imported are matched (by import key, phone or e-mail), never created twice."""
    _require_importer(actor)
    with transaction.atomic():
        job = import_job_get(viewer=actor, pk=job_id)
        if job.is_running and not job_is_stale(job):
            raise ValidationFailed.single("state", "running", _("This import is still running."))
        if job.state == ImportJob.State.UPLOADED:
            raise ValidationFailed.single("state", "not_mapped", _("Map the columns first."))
        if job.file_removed_at is not None:
            raise ValidationFailed.single(
                "file",
                "file_removed",
                _(
                    "The uploaded file was removed from the server some days after the import "
                    "ended. Upload it again to import it."
                ),
            )
        ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED)
        job.state = ImportJob.State.QUEUED
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def import_file_delete(job: ImportJob) -> None:
    """Remove a job's stored upload (kept by default: it is what a re-run reads)."""
    (import_dir() / job.file_path).unlink(missing_ok=True)
