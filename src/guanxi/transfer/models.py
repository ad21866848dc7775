"""Import jobs, remembered column mappings and import provenance (C8)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One uploaded file and its import: mapping, options, progress and outcome.

    The file stays under var/imports/ (named by the job), with its SHA-256, so a second upload
    of the same file is recognised. Progress of a running job is also written to a small file
    beside it: an all-or-nothing import holds one transaction, invisible to other connections
    until it commits.
    """

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        INTERACTIONS = "interactions", _("Interactions")

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("Waiting for the column mapping")
        QUEUED = "queued", _("Queued")
        IMPORTING = "importing", _("Importing")
        SUCCEEDED = "succeeded", _("Done")
        REJECTED = "rejected", _("Rejected: nothing written")
        FAILED = "failed", _("Failed")

    RUNNING_STATES = (State.QUEUED, State.IMPORTING)

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.CUSTOMERS)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_jobs"
    )
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    file_name = models.CharField(_("file name"), max_length=255)
    file_path = models.CharField(max_length=500)  # relative to settings.GUANXI_IMPORT_DIR
    file_size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    file_format = models.CharField(max_length=10)  # csv, xlsx, xls
    encoding = models.CharField(max_length=20, blank=True)
    encoding_sure = models.BooleanField(default=True)  # False: the mapping page asks
    delimiter = models.CharField(max_length=1, blank=True)  # CSV; found at upload
    sheet = models.CharField(max_length=255, blank=True)  # the workbook sheet read
    sheets = models.JSONField(default=list, blank=True)  # the workbook's visible sheets
    # When the uploaded file was removed from disk (transfer.jobs.remove_old_uploads).
    file_removed_at = models.DateTimeField(null=True, blank=True, editable=False)
    header_line = models.PositiveIntegerField(default=1)
    headers = models.JSONField(default=list)
    preview = models.JSONField(default=list)

    mapping = models.JSONField(default=dict)  # {"<column index>": "<target field>"}
    options = models.JSONField(default=dict)

    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.UPLOADED
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    empty_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped duplicates"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    errors_preview = models.JSONField(default=list)  # the first errors, for the page
    message = models.TextField(blank=True)
    # An all-or-nothing customer import writes in short steps into a customers.LoadBatch,
    # published at the end; and records the indexes a big load dropped, so that a killed
    # run's are built again (docs/decisions/0004-imports-in-steps.md).
    load_batch = models.BigIntegerField(null=True, blank=True, editable=False)
    dropped_indexes = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"

    @property
    def is_running(self) -> bool:
        return self.state in self.RUNNING_STATES

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.REJECTED, self.State.FAILED)


class ImportMapping(models.Model):
    """A user's column mapping for one set of headers, offered again for the next such file."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_mappings"
    )
    kind = models.CharField(max_length=20, choices=ImportJob.Kind.choices)
    signature = models.CharField(max_length=64)  # SHA-1 of the normalised header row
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "signature"], name="unique_import_mapping"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} {self.signature[:8]}"


class ImportKey(models.Model):
    """Import provenance, and what makes a re-import idempotent.

    One row per imported record: its key (the file's external ID column, else a hash of the
    row's normalised content), the record, and the job and line it came from. A later row
    with the same key updates or skips that record; it never creates a second one.
    """

    key = models.CharField(max_length=80, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    object_id = models.BigIntegerField(null=True, blank=True)  # e.g. the interaction
    job = models.ForeignKey(
        ImportJob,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    line = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("import key")
        verbose_name_plural = _("import keys")

    def __str__(self) -> str:
        return self.key
