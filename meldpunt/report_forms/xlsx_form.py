"""The report as an Excel workbook: a sheet "Definities" first, then a sheet per table with bold Dutch headers and a frozen header row."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from intake.report_model import Cell, ColumnKind, Report, Row, Suppressed, Table
from meldpunt.report_forms.cells import audience_line, generated_at, is_number, period_line, value_columns, word

# Excel's rules for a sheet name: at most 31 characters, none of []:*?/\, not starting or ending with an apostrophe.
SHEET_NAME_LENGTH = 31
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
NUMBER_FORMATS = {ColumnKind.COUNT: "0", ColumnKind.DAYS: "0.0", ColumnKind.PERCENT: "0%"}
BOLD = Font(bold=True)
RIGHT = Alignment(horizontal="right")
WIDEST, NARROWEST = 60, 8


def sheet_names(titles: list[str], taken: set[str]) -> list[str]:
    """A valid, unique sheet name per title (Excel compares names without regard to case)."""
    seen = {name.casefold() for name in taken}
    names = []
    for title in titles:
        base = " ".join(_FORBIDDEN.sub(" ", title).split()).strip("'").strip() or word("sheet_fallback")
        name, number = base[:SHEET_NAME_LENGTH].rstrip("' "), 1
        while name.casefold() in seen:
            number += 1
            suffix = f" ({number})"
            name = base[: SHEET_NAME_LENGTH - len(suffix)].rstrip("' ") + suffix
        seen.add(name.casefold())
        names.append(name)
    return names


def _write_cell(sheet: Worksheet, row: int, column: int, cell: Cell, kind: ColumnKind) -> None:
    """One value: a number with its format, "<5" as right-aligned text, "–" when not known."""
    target = sheet.cell(row=row, column=column)
    if isinstance(cell, Suppressed) or cell is None:
        target.value = str(cell) if cell is not None else word("none_mark")
        target.alignment = RIGHT
    elif is_number(cell):
        target.value = cell
        target.number_format = NUMBER_FORMATS.get(kind, "General")
    else:
        target.value = cell


def _write_row(sheet: Worksheet, number: int, row: Row, table: Table, *, bold: bool = False) -> None:
    """A row's label and its cells on line `number`."""
    sheet.cell(row=number, column=1, value=row.label).font = Font(bold=bold)
    for index, (cell, column) in enumerate(zip(row.cells, value_columns(table), strict=False), start=2):
        _write_cell(sheet, number, index, cell, column.kind)
        if bold:
            sheet.cell(row=number, column=index).font = BOLD


def _fit_widths(sheet: Worksheet) -> None:
    """Every column as wide as its widest text (numbers count as their shown length), within reason."""
    for index, column in enumerate(sheet.iter_cols(), start=1):
        longest = max((len(str(cell.value)) for cell in column if cell.value is not None), default=0)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(longest + 2, NARROWEST), WIDEST)


def _table_sheet(sheet: Worksheet, table: Table) -> None:
    """A table's sheet: bold headers on the first line (frozen with the label column), the rows, the totals in bold."""
    for index, column in enumerate(table.columns, start=1):
        sheet.cell(row=1, column=index, value=column.label).font = BOLD
    for number, row in enumerate(table.rows, start=2):
        _write_row(sheet, number, row, table)
    if table.total is not None:
        _write_row(sheet, len(table.rows) + 2, table.total, table, bold=True)
    sheet.freeze_panes = "B2"
    _fit_widths(sheet)


def _definitions_sheet(sheet: Worksheet, report: Report, names: list[str]) -> None:
    """What the report covers, for whom and when it was made, each table's definition and sheet, and the notes."""
    sheet.append([report.title])
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    for heading, value in ((word("heading_period"), period_line(report)), (word("heading_audience"), audience_line(report)),
                           (word("heading_generated"), generated_at(report)), (word("heading_min_cell"), report.min_cell)):
        sheet.append([heading, value])
        sheet.cell(row=sheet.max_row, column=1).font = BOLD
    sheet.append([])
    sheet.append([word("heading_table"), word("heading_sheet"), word("heading_definition")])
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD
    for table, name in zip(report.tables, names, strict=True):
        sheet.append([table.title, name, table.definition])
    if report.notes:
        sheet.append([])
        sheet.append([word("heading_notes")])
        sheet.cell(row=sheet.max_row, column=1).font = BOLD
        for note in report.notes:
            sheet.append([note])
    _fit_widths(sheet)


def render_xlsx(report: Report) -> bytes:
    """The workbook as the bytes of an .xlsx file."""
    workbook = Workbook()
    definitions = workbook.active
    assert definitions is not None  # a new workbook always has its first sheet
    definitions.title = word("sheet_definitions")
    names = sheet_names([table.title for table in report.tables], {definitions.title})
    _definitions_sheet(definitions, report, names)
    for table, name in zip(report.tables, names, strict=True):
        _table_sheet(workbook.create_sheet(title=name), table)
    workbook.properties.creator = report.title
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
