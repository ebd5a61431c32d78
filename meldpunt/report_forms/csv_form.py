"""The report as one CSV file for Excel in Belgium: ";" between fields, a decimal comma, UTF-8 with a byte order mark."""

from __future__ import annotations

import csv
import io

from intake.report_model import Column, Report, Row, Table
from meldpunt.report_forms.cells import audience_line, cell_text, generated_at, period_line, value_columns, word


def _row(row: Row, columns: tuple[Column, ...]) -> list[str]:
    """A row's label and cells as the sheet shows them."""
    return [row.label, *(cell_text(cell, column.kind) for cell, column in zip(row.cells, columns, strict=False))]


def _block(table: Table) -> list[list[str]]:
    """One table: its title, its definition, the header, the rows, the totals row, then a blank line."""
    columns = value_columns(table)
    lines = [[table.title], [table.definition], [column.label for column in table.columns]]
    lines += [_row(row, columns) for row in table.rows]
    if table.total is not None:
        lines.append(_row(table.total, columns))
    return [*lines, []]


def render_csv(report: Report) -> bytes:
    """The whole report: what it covers and for whom, a block per table, the notes; Excel opens it with a double click."""
    buffer = io.StringIO()
    # Excel's list separator in Belgium is ";"; CRLF is what it writes itself.
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows([[report.title], [word("heading_period"), period_line(report)], [word("heading_audience"), audience_line(report)],
                      [word("heading_generated"), generated_at(report)], []])
    for table in report.tables:
        writer.writerows(_block(table))
    if report.notes:
        writer.writerows([[word("heading_notes")], *([note] for note in report.notes)])
    # The byte order mark tells Excel the file is UTF-8 (without it, "ë" shows as "Ã«").
    return buffer.getvalue().encode("utf-8-sig")
