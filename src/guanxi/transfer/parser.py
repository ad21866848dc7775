"""Reading uploaded tables: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030), .xlsx and .xls.

The encoding is detected, never asked: a byte-order mark decides; else the whole file is
tried as strict UTF-8 (an incremental decoder, 1 MiB at a time); else it is GB18030, the
superset of GBK and GB2312 that Excel writes on Chinese Windows.

The header row is found, not assumed: exports often start with a title row merged across
the sheet, or two header rows (a merged group such as 联系方式 above 手机 / 电话). The row
naming the most known columns wins; a header cell left empty by a vertical merge takes the
text above it, and (in Excel) one left empty by a horizontal merge takes the text to its left.
"""

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from .fields import IGNORE, guess_target

SCAN_ROWS = 20  # rows searched for the header
PREVIEW_ROWS = 8
DELIMITERS = ",\t;|"


class UnreadableFile(Exception):
    pass


@dataclass
class TableInfo:
    file_format: str  # csv, xlsx, xls
    encoding: str = ""
    delimiter: str = ","
    header_line: int = 1  # 1-based line (CSV) or row (Excel) of the header
    headers: list[str] = field(default_factory=list)
    preview: list[list[str]] = field(default_factory=list)


def file_format(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".xls":
        return "xls"
    raise UnreadableFile(suffix or name)


def detect_encoding(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        sample = handle.read(8192)
        sample = sample[: len(sample) // 2 * 2]
        if len(sample) >= 4 and b"\x00" in sample:
            # UTF-16 without a byte-order mark: the ASCII characters of a table (digits,
            # commas, line ends) leave a zero in every other byte, on one side only.
            even, odd = sample[0::2].count(0), sample[1::2].count(0)
            half = len(sample) // 2
            if odd > half * 0.2 and even < half * 0.05:
                return "utf-16-le"
            if even > half * 0.2 and odd < half * 0.05:
                return "utf-16-be"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


class _CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read: progress while the CSV is parsed."""

    def __init__(self, raw):
        self.raw, self.count = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


def _sniff_delimiter(sample: str) -> str:
    counts = {d: sample.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def cell_text(value) -> str:
    """A cell as text, the way a person reads it (13812345678, not 13812345678.0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M:%S") if value.time() != time() else f"{value:%Y-%m-%d}"
        )
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return str(value).strip()


def is_empty(cells) -> bool:
    """No cell holds anything but white space (CSV rows: one join, no Python loop)."""
    try:
        return not "".join(cells).strip()
    except TypeError:  # numbers, dates or None from a spreadsheet
        return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


# ---- raw row iterators: (line number, cells) -------------------------------------------------


def _csv_rows(
    path: Path, encoding: str, delimiter: str = "", progress: Callable[[int], None] | None = None
):
    counter = _CountingReader(open(path, "rb", buffering=0))  # noqa: SIM115 - closed below
    text = io.TextIOWrapper(
        io.BufferedReader(counter, buffer_size=1 << 20), encoding=encoding, newline=""
    )
    line = 1
    try:
        if not delimiter:
            delimiter = _sniff_delimiter(text.readline())
            text.seek(0)
        reader = csv.reader(text, delimiter=delimiter)
        for n, record in enumerate(reader):
            yield line, record
            line = reader.line_num + 1
            if progress is not None and n % 5000 == 0:
                progress(counter.count)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"line {line}: {exc}") from exc
    except csv.Error as exc:
        raise UnreadableFile(f"line {line}: {exc}") from exc
    finally:
        text.close()


def _xlsx_rows(path: Path, progress=None):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise UnreadableFile(str(exc)) from exc
    try:
        sheet = workbook.worksheets[0]
        for n, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield n, list(row)
            if progress is not None and n % 5000 == 0:
                progress(n)
    finally:
        workbook.close()


def _xls_rows(path: Path, progress=None):
    from python_calamine import CalamineWorkbook

    try:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own error types
        raise UnreadableFile(str(exc)) from exc
    start_row = (sheet.start or (0, 0))[0]
    for n, row in enumerate(sheet.to_python(skip_empty_area=False), start=1):
        if n <= start_row and is_empty(row):
            continue
        yield n, list(row)
        if progress is not None and n % 5000 == 0:
            progress(n)


def raw_rows(path: Path, info: TableInfo, progress=None) -> Iterator[tuple[int, list]]:
    if info.file_format == "csv":
        return _csv_rows(path, info.encoding, info.delimiter, progress)
    if info.file_format == "xlsx":
        return _xlsx_rows(path, progress)
    return _xls_rows(path, progress)


def xlsx_row_count(path: Path) -> int:
    """Rows an .xlsx declares (its dimension), for the progress bar; 0 when unknown."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        return workbook.worksheets[0].max_row or 0
    finally:
        workbook.close()


# ---- inspection: header row, headers, preview ----------------------------------------------


def inspect(path: Path, name: str, kind: str) -> TableInfo:
    info = TableInfo(file_format=file_format(name))
    if info.file_format == "csv":
        info.encoding = detect_encoding(path)
        with open(path, encoding=info.encoding, newline="") as handle:
            info.delimiter = _sniff_delimiter("".join(handle.readline() for _ in range(SCAN_ROWS)))
    head: list[tuple[int, list]] = []
    for line, cells in raw_rows(path, info):
        if not is_empty(cells):
            head.append((line, cells))
        if len(head) >= SCAN_ROWS + PREVIEW_ROWS:
            break
    if not head:
        raise UnreadableFile("empty")
    scored = []
    for position, (_line, cells) in enumerate(head[:SCAN_ROWS]):
        texts = [cell_text(c) for c in cells if cell_text(c)]
        exact = sum(1 for t in texts if guess_target(kind, t, exact=True) != IGNORE)
        known = sum(1 for t in texts if guess_target(kind, t) != IGNORE)
        scored.append((exact, known, len(texts), -position))
    best = max(range(len(scored)), key=lambda i: scored[i])
    if scored[best][1] == 0:
        best = 0
    width = max(len(cells) for _line, cells in head)
    headers = [cell_text(c) for c in head[best][1]] + [""] * (width - len(head[best][1]))
    # A second header row below (手机 / 电话 under a merged 联系方式): every filled cell of
    # it is exactly a known header word. Its words win; the row above fills its empty cells.
    if best + 1 < len(head):
        below = [cell_text(c) for c in head[best + 1][1]]
        filled = [t for t in below if t]
        if filled and all(guess_target(kind, t, exact=True) != IGNORE for t in filled):
            best += 1
            headers = [
                (below[i] if i < len(below) and below[i] else headers[i]) for i in range(width)
            ]
    info.header_line = head[best][0]
    above = [cells for _line, cells in head[:best]]
    data = [cells for _line, cells in head[best + 1 :]]
    for index in range(width):
        if headers[index]:
            continue
        for cells in reversed(above):  # a vertical merge: the text sits in a row above
            if index < len(cells) and cell_text(cells[index]):
                headers[index] = cell_text(cells[index])
                break
        has_data = any(index < len(c) and cell_text(c[index]) for c in data)
        if not headers[index] and info.file_format != "csv" and index and has_data:
            left = headers[index - 1]  # a horizontal merge: the text sits to the left
            if left:
                headers[index] = left
    # Trailing columns with neither header nor data are dropped.
    while headers and not headers[-1]:
        headers.pop()
    info.headers = headers
    info.preview = [[cell_text(c) for c in cells[: len(headers)]] for cells in data[:PREVIEW_ROWS]]
    return info
