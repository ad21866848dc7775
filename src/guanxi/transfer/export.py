"""Exporting the customer list the viewer sees, to CSV or Excel, streamed (C8).

The rows are exactly the list's: `customer_queryset(viewer, filters)` applies visibility and
the list's filters, and every row is masked for the viewer as the list masks it
(`sees_unmasked`). Rows are read with `.iterator(chunk_size=2000)`, so memory stays flat
whatever the count: CSV is written to the response as it is read; Excel (openpyxl
write-only mode) is written to a temporary file, then streamed from it.
"""

import contextlib
import csv
import io
import tempfile
from collections.abc import Iterator

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.models import User
from guanxi.core.visibility import (
    MASKED,
    hides_contact_details,
    mask_id_number,
    mask_phone,
    sees_unmasked,
)
from guanxi.customers.models import Customer, display_phone
from guanxi.customers.selectors import CustomerFilter, customer_queryset

CHUNK = 2000
EXPORT_CACHE_KIB = -2048  # SQLite page cache while exporting: 2 MiB
EXCEL_MAX_ROWS = 1_048_575  # per sheet, after the header row


def columns() -> list[str]:
    # Header words the importer recognises, so an export imports back as it is.
    return [
        _("ID"),
        _("Name"),
        _("Phone"),
        _("E-mail"),
        _("Company"),
        _("Job title"),
        _("Gender"),
        _("Birthday"),
        _("Province"),
        _("City"),
        _("District"),
        _("Address"),
        _("Segment"),
        _("Stage"),
        _("Relationship"),
        _("Source"),
        _("Owner"),
        _("WeChat ID"),
        _("ID number"),
        _("Annual income (CNY)"),
        _("Last contact"),
        _("Next follow-up"),
        _("Created"),
    ]


def export_queryset(viewer: User, filters: CustomerFilter):
    return (
        customer_queryset(viewer=viewer, filters=filters)
        .select_related("owner", "segment")
        .order_by("id")
    )


def export_rows(viewer: User, filters: CustomerFilter) -> Iterator[list]:
    """One list per visible customer, masked for `viewer`."""
    labels = {
        "gender": dict(Customer.Gender.choices),
        "stage": dict(Customer.Stage.choices),
        "relationship": dict(Customer.Relationship.choices),
        "source": dict(Customer.Source.choices),
    }
    labels = {name: {k: str(v) for k, v in table.items()} for name, table in labels.items()}
    zone = timezone.get_current_timezone()
    segments: dict[int, str] = {}
    owners: dict[int, str] = {}

    def moment(value):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    with _streaming_reads():
        yield from _rows(viewer, filters, labels, segments, owners, moment)


@contextlib.contextmanager
def _streaming_reads():
    """A full export reads every page of the table once and never again. With SQLite's
    memory-mapped I/O (settings: mmap_size 256 MB) each page read would stay mapped into this
    worker, and the page cache (64 MB) would fill with pages nobody reads twice: both count
    in the worker's resident memory. Plain reads through a small cache keep it flat."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA mmap_size")
        mmap_size = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size")
        cache_size = cursor.fetchone()[0]
        cursor.execute("PRAGMA mmap_size=0")
        cursor.execute(f"PRAGMA cache_size={EXPORT_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA mmap_size={int(mmap_size)}")
            cursor.execute(f"PRAGMA cache_size={int(cache_size)}")


def _rows(viewer, filters, labels, segments, owners, moment):
    for c in export_queryset(viewer, filters).iterator(chunk_size=CHUNK):
        clear = sees_unmasked(viewer, c)
        hidden = hides_contact_details(viewer, c)
        phone = c.primary_phone
        if phone:
            phone = display_phone(phone).replace(" ", "") if clear else mask_phone(phone)
        if c.segment_id and c.segment_id not in segments:
            segments[c.segment_id] = str(c.segment)
        if c.owner_id and c.owner_id not in owners:
            owners[c.owner_id] = str(c.owner)
        income = ""
        if c.annual_income is not None:
            income = str(c.annual_income) if clear else MASKED
        yield [
            c.pk,
            c.name,
            phone,
            MASKED if hidden and c.email else c.email,
            c.company,
            c.title,
            labels["gender"].get(c.gender, "") if c.gender else "",
            c.birthday.isoformat() if c.birthday else "",
            c.province,
            c.city,
            c.district,
            MASKED if hidden and c.address else c.address,
            segments.get(c.segment_id, ""),
            labels["stage"].get(c.stage, c.stage),
            labels["relationship"].get(c.relationship, "") if c.relationship else "",
            labels["source"].get(c.source, c.source),
            owners.get(c.owner_id, ""),
            MASKED if hidden and c.wechat_id else c.wechat_id,
            (c.id_number if clear else mask_id_number(c.id_number)) if c.id_number else "",
            income,
            moment(c.last_contact_at),
            moment(c.next_follow_up_at),
            moment(c.created_at),
        ]


def csv_chunks(rows: Iterator[list], encoding: str = "utf-8") -> Iterator[bytes]:
    """CSV bytes, a few hundred rows at a time. UTF-8 starts with a BOM so that Excel reads
    the Chinese right; "gbk" writes GB18030 for older Excel on Chinese Windows."""
    codec = "gb18030" if encoding.lower() in ("gbk", "gb18030", "gb2312") else "utf-8"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if codec == "utf-8":
        yield "\ufeff".encode()
    writer.writerow(columns())
    pending = 0
    for row in rows:
        writer.writerow(row)
        pending += 1
        if pending >= 500:
            yield buffer.getvalue().encode(codec, errors="replace")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode(codec, errors="replace")


def xlsx_file(rows: Iterator[list]):
    """An .xlsx in a temporary file (deleted when closed), rewound, ready to stream.

    Write-only mode keeps one row in memory at a time; past Excel's 1,048,576 rows a second
    sheet continues.
    """
    from openpyxl import Workbook

    from guanxi.core.validation import strip_control

    workbook = Workbook(write_only=True)
    header = columns()
    sheet, count, number = None, EXCEL_MAX_ROWS, 0
    for row in rows:
        if count >= EXCEL_MAX_ROWS:
            number += 1
            sheet = workbook.create_sheet(_("Customers") + (f" {number}" if number > 1 else ""))
            sheet.append(header)
            count = 0
        # A control character from an old import would make openpyxl refuse the whole file.
        sheet.append([strip_control(v) if isinstance(v, str) else v for v in row])
        count += 1
    if sheet is None:
        workbook.create_sheet(_("Customers")).append(header)
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it
    workbook.save(handle)
    handle.seek(0)
    return handle


def file_name(extension: str) -> str:
    return f"customers-{timezone.localtime():%Y%m%d-%H%M}.{extension}"
