"""Exporting the customer list the viewer sees, to CSV or Excel, streamed (C8).

The rows are exactly the list's: `customer_queryset(viewer, filters)` applies visibility and
the list's filters, and every row is masked for the viewer as the list masks it
(`sees_unmasked`). Rows are read with `.iterator(chunk_size=2000)`, so memory stays flat
whatever the count: CSV and Excel are both written to the response as they are read.

Formulas never travel out (the OWASP CSV-injection rule): in CSV a text cell that starts with
`=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe, so spreadsheet
programs show it as text (the importer removes that apostrophe again); in Excel every text
is a string cell (`t="inlineStr"`), never a formula, whatever it starts with.
"""

import contextlib
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from xml.sax.saxutils import escape

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.bulkload import sqlite_pragmas
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
EXCEL_MAX_CHARS = 32_767  # per cell
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A CSV cell spreadsheet programs cannot run: text that starts like a formula gets a
    leading apostrophe (OWASP, CSV injection). Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


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
    with sqlite_pragmas(mmap_size=0, cache_size=EXPORT_CACHE_KIB):
        yield


def _rows(viewer, filters, labels, segments, owners, moment):
    for c in export_queryset(viewer, filters).iterator(chunk_size=CHUNK):
        clear = sees_unmasked(viewer, c)
        hidden = hides_contact_details(viewer, c)
        phone = c.primary_phone
        if phone:
            phone = display_phone(phone, compact=True) if clear else mask_phone(phone)
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
        writer.writerow([neutralise(value) for value in row])
        pending += 1
        if pending >= 500:
            yield buffer.getvalue().encode(codec, errors="replace")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode(codec, errors="replace")


class _Sink:
    """Where the zip is written: collects bytes until the generator hands them on. No tell()
    nor seek(): zipfile then writes each entry's sizes after its data (streaming mode)."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _column_letters(count: int) -> list[str]:
    letters = []
    for n in range(1, count + 1):
        name = ""
        while n:
            n, rest = divmod(n - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


def _row_xml(number: int, values: list, letters: list[str]) -> str:
    cells = []
    for letter, value in zip(letters, values, strict=False):
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            cells.append(f'<c r="{letter}{number}" t="b"><v>{int(value)}</v></c>')
        elif isinstance(value, int | float):
            cells.append(f'<c r="{letter}{number}"><v>{value}</v></c>')
        else:
            text = str(value)
            if len(text) > EXCEL_MAX_CHARS:
                text = text[:EXCEL_MAX_CHARS]
            text = escape(_NOT_XML.sub("", text))
            # A string cell: Excel shows "=1+2" as those four characters, never computes it.
            cells.append(
                f'<c r="{letter}{number}" t="inlineStr"><is><t xml:space="preserve">{text}</t>'
                "</is></c>"
            )
    return f'<row r="{number}">{"".join(cells)}</row>'


_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def _package_parts(sheet_names: list[str]) -> list[tuple[str, str]]:
    """The small parts that describe the workbook, written after its sheets."""
    sheets = "".join(
        f'<sheet name="{escape(name)}" sheetId="{n}" r:id="rId{n}"/>'
        for n, name in enumerate(sheet_names, start=1)
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, len(sheet_names) + 1)
    )
    styles_id = len(sheet_names) + 1
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_SHEET_TYPE}"/>'
        for n in range(1, len(sheet_names) + 1)
    )
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    return [
        (
            "xl/workbook.xml",
            f'{head}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
            f"<sheets>{sheets}</sheets></workbook>",
        ),
        (
            "xl/_rels/workbook.xml.rels",
            f'{head}<Relationships xmlns="{_PKG_REL}">{sheet_rels}'
            f'<Relationship Id="rId{styles_id}" Type="{_REL}/styles" Target="styles.xml"/>'
            "</Relationships>",
        ),
        (
            "xl/styles.xml",
            f'{head}<styleSheet xmlns="{_MAIN}">'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            "</borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            "</cellStyleXfs>"
            '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            "</cellXfs>"
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>",
        ),
        (
            "_rels/.rels",
            f'{head}<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        ),
        (
            "[Content_Types].xml",
            f"{head}"
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>",
        ),
    ]


def xlsx_chunks(rows: Iterator[list], rows_per_chunk: int = 500) -> Iterator[bytes]:
    """An .xlsx written as the rows are read: the first bytes leave at once, memory stays
    flat (a few hundred rows at a time), nothing goes to disk.

    openpyxl's write-only workbook keeps memory flat too, but assembles the file only when
    it is saved, after the last row: a million-row export would send its first byte after a
    minute. Here the zip is streamed (each entry's sizes follow its data), the sheet holds
    inline strings (no shared-string table to keep), and the parts that name the sheets are
    written last. Past Excel's 1,048,576 rows a second sheet continues.
    """
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5)
    header = columns()
    letters = _column_letters(len(header))
    names: list[str] = []
    entry = None
    number = EXCEL_MAX_ROWS + 1
    pending: list[str] = []

    def open_sheet():
        names.append(_("Customers") + (f" {len(names) + 1}" if names else ""))
        handle = archive.open(f"xl/worksheets/sheet{len(names)}.xml", "w")
        handle.write((_SHEET_HEAD + _row_xml(1, header, letters)).encode())
        return handle

    def write_pending():
        if pending:
            entry.write("".join(pending).encode())
            pending.clear()

    yield b""  # the response starts before the first query
    for row in rows:
        if number > EXCEL_MAX_ROWS:
            if entry is not None:
                write_pending()
                entry.write(_SHEET_TAIL.encode())
                entry.close()
            entry = open_sheet()
            number = 1
        number += 1
        pending.append(_row_xml(number, row, letters))
        if len(pending) >= rows_per_chunk:
            write_pending()
            if data := sink.take():
                yield data
    if entry is None:
        entry = open_sheet()
    write_pending()
    entry.write(_SHEET_TAIL.encode())
    entry.close()
    for name, text in _package_parts(names):
        archive.writestr(name, text)
    archive.close()
    yield sink.take()


def file_name(extension: str) -> str:
    return f"customers-{timezone.localtime():%Y%m%d-%H%M}.{extension}"
