"""Export and import over the API.

Export: GET /api/v1/customers/export?format=csv (or xlsx), with the list's filters as query
parameters. Same visibility and masking as the list.

Import (issue 13, item 8), the web flow's steps through the same services, so the same
people may do the same things with the same checks (administrators and managers; owners
they may assign; the upload size limit; refused file types):

    POST /api/v1/imports                  upload (multipart: `file`, `kind`) → the columns found
    POST /api/v1/imports/{id}/reread      read again with another `encoding` or `sheet`
    POST /api/v1/imports/{id}/start       map columns to fields, choose options, start
    GET  /api/v1/imports/{id}             state, counts and progress (poll while `polling`)
    GET  /api/v1/imports/{id}/errors.csv  the error report: every refused row and why
    POST /api/v1/imports/{id}/rerun       run a finished or failed import again
    GET  /api/v1/imports                  your imports (an administrator's: everyone's)

A job of another user answers 404, like one that does not exist.
"""

from datetime import datetime
from typing import Literal

from django.http import FileResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import ConfigDict, Field

from guanxi.core.errors import Forbidden, NotFound
from guanxi.core.models import User

from . import services
from .fields import targets_for
from .models import ImportJob
from .parser import ENCODINGS
from .runner import error_report_path
from .views import export_response

router = Router()
imports_router = Router()


@router.get("/export", include_in_schema=True, summary="Export the visible customers")
def customer_export(request, format: str = "csv"):
    """CSV (streamed; `encoding=gbk` for older Excel) or `format=xlsx`. Filters: q, segment,
    stage, relationship, owner, tag, org_unit, archived — as GET /customers."""
    return export_response(request.user, request.GET)


# ---- import ---------------------------------------------------------------------------------


class TargetOut(Schema):
    key: str = Field(description="What to put in `mapping` for a column that holds this.")
    label: str
    multiple: bool = Field(description="Several columns may be mapped to it (phones).")


class DuplicateHeaderOut(Schema):
    header: str
    columns: list[int] = Field(description="1-based column numbers with this header.")


class CountsOut(Schema):
    rows: int
    empty: int
    created: int
    updated: int
    unchanged: int
    skipped_duplicates: int
    errors: int


class ImportJobOut(Schema):
    id: int
    kind: str
    state: str = Field(
        description="uploaded (map it next), queued, importing, succeeded, rejected "
        "(all-or-nothing and a row was bad: nothing written), failed."
    )
    phase: str = Field(description="The running step while importing, else the state.")
    percent: int
    polling: bool = Field(description="Still running: ask again in a second or two.")
    stale: bool = Field(description="Its process died; it will be marked failed shortly.")
    message: str
    file_name: str
    file_format: str
    file_size: int
    encoding: str
    encoding_sure: bool = Field(
        description="False: the detector was unsure; check the preview, or reread with "
        "another encoding."
    )
    encodings: list[str] = Field(description="The encodings `reread` accepts (CSV only).")
    sheet: str
    sheets: list[str] = Field(description="The workbook's visible sheets (`reread` by name).")
    header_line: int
    headers: list[str]
    preview: list[list[str]]
    mapping: dict[str, str] = Field(
        description="Column index (as a string) → target key: the proposed mapping after "
        "the upload, the one used once started."
    )
    targets: list[TargetOut]
    duplicate_headers: list[DuplicateHeaderOut]
    options: dict
    counts: CountsOut
    errors_preview: list
    has_error_report: bool
    error_report_url: str | None
    earlier_import_id: int | None = Field(
        description="An earlier import of the very same file that wrote something."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportJobListOut(Schema):
    items: list[ImportJobOut]


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")


class RereadIn(StrictIn):
    encoding: str = Field(default="", max_length=20, description="One of `encodings` (CSV).")
    sheet: str = Field(default="", max_length=255, description="One of `sheets` (workbook).")


class OptionsIn(StrictIn):
    mode: Literal["all", "skip_bad"] = Field(
        default="all",
        description="all: nothing is written if any row is bad; skip_bad: good rows are "
        "written, bad ones reported.",
    )
    duplicates: Literal["skip", "update"] = "skip"
    owner_mode: Literal["none", "column", "fixed", "rotation"] = Field(
        default="none",
        description="none: you own them (in your unit); column: the Owner column; fixed: "
        "`owner_id`; rotation: your team in turn.",
    )
    owner_id: int | None = None


class StartIn(StrictIn):
    mapping: dict[str, str] = Field(
        description='Column index → target key, e.g. {"0": "name", "1": "phone"}; '
        'unmapped columns (or "ignore") are not imported.'
    )
    options: OptionsIn = OptionsIn()


def _require_importer(user: User) -> None:
    if not services.can_import(user):
        raise Forbidden(_("Only administrators and managers may import."))


def _job(user: User, job_id: int) -> ImportJob:
    _require_importer(user)
    return services.import_job_get(viewer=user, pk=job_id)


def _out(job: ImportJob) -> dict:
    progress = services.job_progress(job)
    earlier = services.same_file_jobs(job).values_list("pk", flat=True).first()
    return {
        "id": job.pk,
        "kind": job.kind,
        "state": job.state,
        "phase": progress["phase"],
        "percent": progress["percent"],
        "polling": progress["polling"],
        "stale": progress["stale"],
        "message": job.message,
        "file_name": job.file_name,
        "file_format": job.file_format,
        "file_size": job.file_size,
        "encoding": job.encoding,
        "encoding_sure": job.encoding_sure,
        "encodings": list(ENCODINGS) if job.file_format == "csv" else [],
        "sheet": job.sheet,
        "sheets": job.sheets,
        "header_line": job.header_line,
        "headers": [str(h) for h in job.headers],
        "preview": [[str(cell) for cell in row] for row in job.preview],
        "mapping": job.mapping,
        "targets": [
            {"key": t.key, "label": str(t.label), "multiple": t.multiple}
            for t in targets_for(job.kind)
        ],
        "duplicate_headers": [
            {"header": header, "columns": columns}
            for header, columns in services.duplicate_headers(job)
        ],
        "options": {k: v for k, v in job.options.items() if k != "language"},
        "counts": {
            "rows": job.total_rows,
            "empty": job.empty_rows,
            "created": job.created_count,
            "updated": job.updated_count,
            "unchanged": job.unchanged_count,
            "skipped_duplicates": job.skipped_count,
            "errors": job.error_count,
        },
        "errors_preview": job.errors_preview,
        "has_error_report": progress["has_report"],
        "error_report_url": f"/api/v1/imports/{job.pk}/errors.csv"
        if progress["has_report"]
        else None,
        "earlier_import_id": earlier,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


@imports_router.post("", response={201: ImportJobOut}, summary="Upload a file to import")
def import_upload(
    request,
    file: File[UploadedFile],
    kind: Form[Literal["customers", "interactions"]] = "customers",
):
    """Multipart upload of a .csv, .xlsx or .xls file (at most GUANXI_IMPORT_MAX_MB). The
    answer has the header row found, a preview, the detected encoding or sheet, and a
    proposed mapping; nothing is imported until `start`.

    Refused with 422 and `field: "file"`: `invalid_format` (another extension),
    `too_large`, `binary_file`, `workbook_named_csv`, `not_a_workbook`, `unreadable`.
    403 `forbidden` for anyone but administrators and managers."""
    job = services.import_upload(
        actor=request.user, name=file.name or "upload", stream=file, kind=kind
    )
    return Status(201, _out(job))


@imports_router.get("", response=ImportJobListOut, summary="Your imports, newest first")
def import_list(request):
    _require_importer(request.user)
    jobs = services.import_jobs_for(request.user).order_by("-id")[:50]
    return {"items": [_out(job) for job in jobs]}


@imports_router.get("/{int:job_id}", response=ImportJobOut, summary="An import and its progress")
def import_get(request, job_id: int):
    """Poll this while `polling` is true; `percent` and `phase` say how far it is, `counts`
    what it did, `has_error_report` whether `errors.csv` has rows to fix."""
    return _out(_job(request.user, job_id))


@imports_router.post(
    "/{int:job_id}/reread", response=ImportJobOut, summary="Read the file again differently"
)
def import_reread(request, job_id: int, payload: RereadIn):
    """Another `encoding` (CSV, one of `encodings`) or `sheet` (a workbook's, one of
    `sheets`): new headers, preview and proposed mapping. Only before `start`."""
    _job(request.user, job_id)
    job = services.import_reread(
        actor=request.user, job_id=job_id, encoding=payload.encoding, sheet=payload.sheet
    )
    return _out(job)


@imports_router.post(
    "/{int:job_id}/start", response={202: ImportJobOut}, summary="Map the columns and start"
)
def import_start(request, job_id: int, payload: StartIn):
    """Checked as on the mapping page: every target must be one of `targets` (422
    `invalid_choice`, `field: "mapping.<column>"`), a column index must exist
    (`invalid_column`), a field takes one column unless `multiple` (`duplicate_target`),
    Name must be mapped (`required`); the owner must be one you may assign
    (`invalid_owner`). 422 `already_started` once started. The worker runs it: poll
    GET /imports/{id}."""
    _job(request.user, job_id)
    job = services.import_configure(
        actor=request.user,
        job_id=job_id,
        mapping=payload.mapping,
        options=payload.options.dict(),
    )
    return Status(202, _out(job))


@imports_router.post(
    "/{int:job_id}/rerun", response={202: ImportJobOut}, summary="Run an import again"
)
def import_rerun(request, job_id: int):
    """Idempotent: rows already imported are matched, never created twice."""
    _job(request.user, job_id)
    return Status(202, _out(services.import_rerun(actor=request.user, job_id=job_id)))


@imports_router.get(
    "/{int:job_id}/errors.csv",
    summary="Download the error report",
    openapi_extra={
        "responses": {
            200: {
                "description": "CSV (UTF-8 with BOM): line, column, value, reason, code.",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def import_errors(request, job_id: int):
    """Every refused row of the import with its line, column, value and reason. 404
    `not_found` when the import had no bad rows."""
    job = _job(request.user, job_id)
    path = error_report_path(job)
    if not path.exists():
        raise NotFound(_("This import has no error report."), code="no_report")
    return FileResponse(
        open(path, "rb"),
        as_attachment=True,
        filename=f"import-{job.pk}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )
