"""The rows of an overview file as text cells with their row number: a CSV (";" or ",", UTF-8) or the first sheet of an XLSX."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time

XLSX_MAGIC = b"PK\x03\x04"  # an XLSX is a zip archive
# What the archive may unpack to: openpyxl reads the shared strings whole, so a small zip of repeated text could
# fill the memory. A school year's overview unpacks to well under a megabyte.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024


class SheetError(Exception):
    """The file cannot be read as an overview: not UTF-8, or no valid CSV or XLSX (from row, when known)."""

    def __init__(self, reason: str, row: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.row = reason, row


def sheet_rows(data: bytes, *, max_columns: int) -> Iterator[tuple[int, list[str]]]:
    """Every row of the file (1 = the first), empty ones included so the numbers match what a spreadsheet shows."""
    if data.startswith(XLSX_MAGIC):
        return xlsx_rows(data, max_columns=max_columns)
    return csv_rows(data)


def csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """The records of a CSV in UTF-8 (with or without BOM), separated by ";" or by "," as its first line says."""
    if b"\x00" in data:  # UTF-16 (another "Unicode" CSV) or no text at all
        raise SheetError("not_utf8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SheetError("not_utf8") from None
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    return _records(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _records(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """The reader's records numbered from 1; a broken record stops the file with its number."""
    number = 0
    try:
        for number, record in enumerate(reader, start=1):  # noqa: B007 — the number names a broken record below
            yield number, record
    except csv.Error:
        raise SheetError("unreadable", row=number + 1) from None


def xlsx_rows(data: bytes, *, max_columns: int) -> Iterator[tuple[int, list[str]]]:
    """The rows of the workbook's first sheet as text, one column past max_columns read so a wider sheet is noticed."""
    from openpyxl import load_workbook

    if unpacked_size(data) > MAX_UNPACKED_BYTES:
        raise SheetError("too_large_unpacked")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged or foreign zip: openpyxl raises many kinds
        raise SheetError("unreadable") from None
    try:
        sheet = workbook.worksheets[0]
        number = 0
        try:
            for number, values in enumerate(sheet.iter_rows(max_col=max_columns + 1, values_only=True), start=1):  # noqa: B007
                yield number, [cell_text(value) for value in values]
        except Exception:  # damaged XML inside the archive
            raise SheetError("unreadable", row=number + 1) from None
    finally:
        workbook.close()


def unpacked_size(data: bytes) -> int:
    """What a zip archive says its members unpack to (zipfile never hands out more than that); 0 when it is no zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        return 0  # openpyxl says it cannot read it


def cell_text(value: object) -> str:
    """A spreadsheet value as the overview writes it: dates dd/mm/jjjj, whole numbers without ".0", ja/nee."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)
