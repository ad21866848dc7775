"""Reading uploaded tables: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030, Big5, UTF-16), .xlsx
and .xls.

The encoding is detected: a byte-order mark decides; else the whole file is tried as strict
UTF-8 (an incremental decoder, 1 MiB at a time); else charset-normalizer chooses among
GB18030 (the superset of GBK and GB2312 that Excel writes on Chinese Windows), Big5 (cp950,
Taiwan and Hong Kong) and UTF-16 without a byte-order mark. When more than one of them reads
the file, the guess is marked unsure and the mapping page offers a chooser.

The delimiter is the one that splits the first lines into the same number of columns, quotes
respected (a `;` file with commas inside its fields is a `;` file).

In a workbook the sheet read is the active one, or the first visible one when the active sheet
is hidden; the mapping page names it and offers the other visible sheets. Its rows are read as
the cells are, whatever dimension the file states. A cell that cannot be read (an Excel error
such as #REF!, or bytes that are not text in the file's encoding) arrives as an UnreadableCell:
the row is reported, never stored without it.

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


ENCODINGS = ("utf-8", "gb18030", "cp950", "utf-16-le", "utf-16-be")  # the chooser's choices
_DETECTOR_NAMES = {"gb18030": "gb18030", "big5": "cp950", "cp950": "cp950", "big5hkscs": "cp950"}
_DETECT_SAMPLE = 1 << 16
# What Excel shows in a cell whose formula failed: the value cannot be read.
EXCEL_ERRORS = frozenset(
    ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")
)


class UnreadableFile(Exception):
    pass


class UnreadableCell:
    """A cell whose value cannot be read; `why` is the text shown in the error report."""

    __slots__ = ("why",)

    def __init__(self, why: str):
        self.why = why

    def __str__(self) -> str:
        return self.why


@dataclass
class TableInfo:
    file_format: str  # csv, xlsx, xls
    encoding: str = ""
    delimiter: str = ","
    header_line: int = 1  # 1-based line (CSV) or row (Excel) of the header
    encoding_sure: bool = True
    sheet: str = ""  # the sheet read (workbooks)
    sheets: list[str] = field(default_factory=list)  # the visible sheets (workbooks)
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
    return detect_encoding_sure(path)[0]


def detect_encoding_sure(path: Path) -> tuple[str, bool]:
    """(encoding, sure): sure is False when another encoding would read the file too."""
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig", True
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", True
        handle.seek(0)
        sample = handle.read(8192)
        sample = sample[: len(sample) // 2 * 2]
        if len(sample) >= 4 and b"\x00" in sample:
            # UTF-16 without a byte-order mark: the ASCII characters of a table (digits,
            # commas, line ends) leave a zero in every other byte, on one side only.
            even, odd = sample[0::2].count(0), sample[1::2].count(0)
            half = len(sample) // 2
            if odd > half * 0.2 and even < half * 0.05:
                return "utf-16-le", True
            if even > half * 0.2 and odd < half * 0.05:
                return "utf-16-be", True
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            handle.seek(0)
            return _guess_legacy(handle.read(_DETECT_SAMPLE))
    return "utf-8", True


def _guess_legacy(sample: bytes) -> tuple[str, bool]:
    """GB18030, Big5 or UTF-16 without a mark, by charset-normalizer; GB18030 when unsure."""
    import charset_normalizer

    # A sample cut inside a character or a quoted line: up to its last line end.
    cut = sample.rfind(b"\n")
    if cut > 0 and len(sample) == _DETECT_SAMPLE:
        sample = sample[: cut + 1]
    results = charset_normalizer.from_bytes(
        sample, cp_isolation=["gb18030", "big5", "utf_16_le", "utf_16_be"]
    )
    found = []
    for match in results:
        name = match.encoding.replace("_", "-")
        found.append(_DETECTOR_NAMES.get(name, name if name in ENCODINGS else ""))
    found = [name for name in dict.fromkeys(found) if name]
    if not found:
        return "gb18030", False
    best = results.best()
    best_name = best.encoding.replace("_", "-") if best else found[0]
    best_name = _DETECTOR_NAMES.get(best_name, best_name)
    if best_name not in ENCODINGS:
        best_name = found[0]
    return best_name, len(found) == 1 and best is not None and best.chaos < 0.2


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
    """The delimiter that splits most lines into the same number (> 1) of columns, quoted
    fields respected; among equals the one giving more columns, then the earlier in
    DELIMITERS (comma first)."""
    lines = sample.splitlines(keepends=True)[:SCAN_ROWS]
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        if delimiter not in sample:
            continue
        try:
            widths = [len(r) for r in csv.reader(lines, delimiter=delimiter) if len(r) > 1]
        except csv.Error:
            continue
        if not widths:
            continue
        modal = max(set(widths), key=lambda w: (widths.count(w), w))
        score = (widths.count(modal), modal)
        if score > best_score:
            best, best_score = delimiter, score
    return best


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


_BAD_BYTES = "\ufffd"


def _unreadable_cells(record: list[str]) -> list:
    return [UnreadableCell(cell) if _BAD_BYTES in cell else cell for cell in record]


def _csv_rows(
    path: Path, encoding: str, delimiter: str = "", progress: Callable[[int], None] | None = None
):
    # A cell is never too big to read: one far longer than its field allows is that row's
    # error ("too long"), not a refused file. The upload limit bounds the memory.
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))
    counter = _CountingReader(open(path, "rb", buffering=0))  # noqa: SIM115 - closed below
    # Bytes that are not text in this encoding (a wrong encoding chosen, a damaged file)
    # become U+FFFD, and their cell an UnreadableCell: that row is reported. The check is one
    # join and one search per row (about 0.2-0.9 us, under 2 % of a row's import time).
    text = io.TextIOWrapper(
        io.BufferedReader(counter, buffer_size=1 << 20),
        encoding=encoding,
        errors="replace",
        newline="",
    )
    line = 1
    try:
        if not delimiter:
            delimiter = _sniff_delimiter(text.readline())
            text.seek(0)
        reader = csv.reader(text, delimiter=delimiter)
        for n, record in enumerate(reader):
            if _BAD_BYTES in "".join(record):
                record = _unreadable_cells(record)
            yield line, record
            line = reader.line_num + 1
            if progress is not None and n % 5000 == 0:
                progress(counter.count)
    except csv.Error as exc:
        raise UnreadableFile(f"line {line}: {exc}") from exc
    finally:
        text.close()


def _xlsx_sheet(workbook, name: str = ""):
    """The named sheet; else the active one, or the first visible one if it is hidden."""
    visible = [ws for ws in workbook.worksheets if ws.sheet_state == "visible"]
    if name:
        for ws in visible:
            if ws.title == name:
                return ws
        raise UnreadableFile(name)
    active = workbook.active
    if active is not None and active.sheet_state == "visible":
        return active
    if not visible:
        raise UnreadableFile("no visible sheet")
    return visible[0]


def xlsx_visible_sheets(path: Path) -> list[str]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        return [ws.title for ws in workbook.worksheets if ws.sheet_state == "visible"]
    finally:
        workbook.close()


def _xlsx_rows(path: Path, progress=None, sheet_name: str = ""):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise UnreadableFile(str(exc)) from exc
    try:
        sheet = _xlsx_sheet(workbook, sheet_name)
        # The dimension a file states (A1:B2) may be wrong (written by hand-made exporters):
        # without it the rows are read as the cells are.
        sheet.reset_dimensions()
        errors = EXCEL_ERRORS
        for n, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = list(row)
            for i, cell in enumerate(cells):
                if cell.__class__ is str and cell in errors:
                    cells[i] = UnreadableCell(cell)
            yield n, cells
            if progress is not None and n % 5000 == 0:
                progress(n)
    finally:
        workbook.close()


def _xls_sheet(workbook, name: str = ""):
    visible = [m.name for m in workbook.sheets_metadata if str(m.visible).endswith("Visible")]
    if name:
        if name not in visible:
            raise UnreadableFile(name)
        return workbook.get_sheet_by_name(name)
    return workbook.get_sheet_by_name(visible[0]) if visible else workbook.get_sheet_by_index(0)


def xls_visible_sheets(path: Path) -> list[str]:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    return [m.name for m in workbook.sheets_metadata if str(m.visible).endswith("Visible")]


def _xls_rows(path: Path, progress=None, sheet_name: str = ""):
    from python_calamine import CalamineWorkbook

    try:
        sheet = _xls_sheet(CalamineWorkbook.from_path(str(path)), sheet_name)
    except UnreadableFile:
        raise
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
        return _xlsx_rows(path, progress, info.sheet)
    return _xls_rows(path, progress, info.sheet)


def xlsx_row_count(path: Path, sheet_name: str = "") -> int:
    """Rows an .xlsx declares (its dimension), for the progress bar; 0 when unknown."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        return _xlsx_sheet(workbook, sheet_name).max_row or 0
    except UnreadableFile:
        return 0
    finally:
        workbook.close()


# ---- inspection: header row, headers, preview ----------------------------------------------


def _default_sheet(path: Path, info: TableInfo) -> str:
    if info.file_format == "xlsx":
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True)
        try:
            return _xlsx_sheet(workbook).title
        finally:
            workbook.close()
    return info.sheets[0] if info.sheets else ""


def inspect(path: Path, name: str, kind: str, *, encoding: str = "", sheet: str = "") -> TableInfo:
    """The header row, headers and preview; `encoding` or `sheet` when the user chose one."""
    info = TableInfo(file_format=file_format(name))
    if info.file_format == "csv":
        if encoding:
            info.encoding = encoding
        else:
            info.encoding, info.encoding_sure = detect_encoding_sure(path)
        with open(path, encoding=info.encoding, errors="replace", newline="") as handle:
            info.delimiter = _sniff_delimiter("".join(handle.readline() for _ in range(SCAN_ROWS)))
    else:
        try:
            if info.file_format == "xlsx":
                info.sheets = xlsx_visible_sheets(path)
            else:
                info.sheets = xls_visible_sheets(path)
        except Exception as exc:  # a damaged workbook: openpyxl and calamine raise many kinds
            raise UnreadableFile(str(exc)) from exc
        if sheet and sheet not in info.sheets:
            raise UnreadableFile(sheet)
        info.sheet = sheet or _default_sheet(path, info)
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
