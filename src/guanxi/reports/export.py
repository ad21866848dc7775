"""Every report table can be downloaded as CSV or Excel; cells that a spreadsheet would
run as a formula are written as text (OWASP CSV injection)."""

import csv
import io
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


class _Echo:
    def write(self, value):
        return value


def csv_response(rows: list[list], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    body = (writer.writerow([_safe(v) for v in row]) for row in rows)
    response = StreamingHttpResponse(("\ufeff", *body), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(rows: list[list], filename: str) -> HttpResponse:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=float(value) if isinstance(value, Decimal) else value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def table_response(request, rows: list[list], filename: str):
    """The download the request asks for (?export=csv or xlsx), or None."""
    kind = request.GET.get("export")
    if kind == "csv":
        return csv_response(rows, filename)
    if kind == "xlsx":
        return xlsx_response(rows, filename)
    return None
