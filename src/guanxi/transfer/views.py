"""Import pages (upload → mapping with preview → progress) and the customer list export."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core.audit import audit_record
from guanxi.core.errors import DomainError
from guanxi.customers.selectors import CustomerFilter

from . import export
from .customer_import import eligible_owners
from .fields import IGNORE, targets_for
from .models import ImportJob
from .runner import error_report_path
from .services import (
    can_import,
    duplicate_headers,
    import_configure,
    import_job_get,
    import_jobs_for,
    import_reread,
    import_rerun,
    import_upload,
    job_is_stale,
    job_progress,
    same_file_jobs,
)

# The encodings a user may choose when the detector was unsure (parser.ENCODINGS).
ENCODING_CHOICES = [
    ("utf-8", gettext_lazy("UTF-8 (most systems, Excel “CSV UTF-8”)")),
    ("gb18030", gettext_lazy("GBK / GB18030 (Excel on simplified-Chinese Windows)")),
    ("cp950", gettext_lazy("Big5 (Taiwan, Hong Kong)")),
    ("utf-16-le", gettext_lazy("UTF-16 little-endian (Excel “Unicode text”)")),
    ("utf-16-be", gettext_lazy("UTF-16 big-endian")),
]


def _require_importer(request) -> None:
    if not can_import(request.user):
        raise Http404


def _job_or_404(request, pk: int) -> ImportJob:
    return import_job_get(viewer=request.user, pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request):
    _require_importer(request)
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Choose a file.")
        else:
            try:
                job = import_upload(
                    actor=request.user,
                    name=upload.name,
                    stream=upload,
                    kind=request.POST.get("kind") or ImportJob.Kind.CUSTOMERS,
                )
            except DomainError as exc:
                error = exc.message
            else:
                return redirect("transfer:mapping", pk=job.pk)
    return render(
        request,
        "transfer/import_list.html",
        {
            "jobs": _with_stale(import_jobs_for(request.user)[:50]),
            "kinds": ImportJob.Kind.choices,
            "error": error,
        },
    )


def _with_stale(jobs) -> list[ImportJob]:
    """A job whose process died is never listed as running (until the reaper marks it)."""
    jobs = list(jobs)
    for job in jobs:
        job.stale = job_is_stale(job)
    return jobs


def _owner_choices(user):
    return eligible_owners(user).order_by("display_name", "username")


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request, pk: int):
    _require_importer(request)
    job = _job_or_404(request, pk)
    if job.state != ImportJob.State.UPLOADED:
        return redirect("transfer:job", pk=job.pk)
    errors: list[str] = []
    mapping = dict(job.mapping)
    options = dict(job.options)
    if request.method == "POST" and "reread" in request.POST:
        # The sheet or encoding chooser: read the file again, then show the new columns.
        try:
            import_reread(
                actor=request.user,
                job_id=job.pk,
                encoding=request.POST.get("encoding", ""),
                sheet=request.POST.get("sheet", ""),
            )
        except DomainError as exc:
            for e in exc.errors or []:
                messages.error(request, e.message)
        return redirect("transfer:mapping", pk=job.pk)
    if request.method == "POST":
        mapping = {str(i): request.POST.get(f"col_{i}", IGNORE) for i in range(len(job.headers))}
        options = {
            "mode": "skip_bad" if request.POST.get("skip_bad") else "all",
            "duplicates": request.POST.get("duplicates", "skip"),
            "owner_mode": request.POST.get("owner_mode", "none"),
            "owner_id": request.POST.get("owner_id") or None,
        }
        try:
            import_configure(actor=request.user, job_id=job.pk, mapping=mapping, options=options)
        except DomainError as exc:
            errors = [e.message for e in exc.errors] or [exc.message]
        else:
            messages.success(request, _("Import started."))
            return redirect("transfer:job", pk=job.pk)
    columns = [
        {
            "index": i,
            "header": header,
            "target": mapping.get(str(i), IGNORE),
            "samples": [row[i] for row in job.preview if i < len(row) and row[i]][:3],
        }
        for i, header in enumerate(job.headers)
    ]
    return render(
        request,
        "transfer/import_mapping.html",
        {
            "job": job,
            "columns": columns,
            "targets": targets_for(job.kind),
            "options": options,
            "owners": _owner_choices(request.user) if job.kind == ImportJob.Kind.CUSTOMERS else [],
            "errors": errors,
            "earlier": same_file_jobs(job).first(),
            "duplicates": [
                {"header": header, "columns": ", ".join(str(c) for c in columns)}
                for header, columns in duplicate_headers(job)
            ],
            "encodings": ENCODING_CHOICES,
        },
    )


def _progress_context(job: ImportJob) -> dict:
    return {"job": job, **job_progress(job)}


@login_required
def import_job_view(request, pk: int):
    _require_importer(request)
    job = _job_or_404(request, pk)
    context = _progress_context(job)
    context["earlier"] = same_file_jobs(job).first()
    return render(request, "transfer/import_job.html", context)


@login_required
def import_progress(request, pk: int):
    """The progress fragment; htmx polls it every second while the job runs."""
    _require_importer(request)
    job = _job_or_404(request, pk)
    return render(request, "transfer/import_job.html#progress", _progress_context(job))


@login_required
def import_error_report(request, pk: int):
    _require_importer(request)
    job = _job_or_404(request, pk)
    path = error_report_path(job)
    if not path.exists():
        raise Http404
    return FileResponse(
        open(path, "rb"),
        as_attachment=True,
        filename=f"import-{job.pk}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )


@login_required
@require_POST
def import_rerun_view(request, pk: int):
    _require_importer(request)
    job = _job_or_404(request, pk)
    try:
        import_rerun(actor=request.user, job_id=job.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("transfer:job", pk=job.pk)


def export_response(user, params):
    """The export of the list `params` describe (the list page's own query string)."""
    filters = CustomerFilter.from_params(params)
    rows = export.export_rows(user, filters)
    # Every export of customer data is on the audit log: who, when, which list (C8).
    audit_record(
        actor=user,
        verb="customer.export",
        target=user,
        note=(params.urlencode() if hasattr(params, "urlencode") else str(params))[:500],
    )
    if params.get("format") == "xlsx":
        response = StreamingHttpResponse(
            export.xlsx_chunks(rows),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{export.file_name("xlsx")}"'
        return response
    encoding = params.get("encoding") or "utf-8"
    response = StreamingHttpResponse(
        export.csv_chunks(rows, encoding=encoding),
        content_type="text/csv; charset=" + ("gb18030" if encoding != "utf-8" else "utf-8"),
    )
    response["Content-Disposition"] = f'attachment; filename="{export.file_name("csv")}"'
    return response


@login_required
def customer_export(request):
    try:
        return export_response(request.user, request.GET)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("customers:list")
