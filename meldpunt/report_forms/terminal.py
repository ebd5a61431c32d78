"""The report as terminal text: each table under its title and definition, numbers right-aligned under their header."""

from __future__ import annotations

from typing import Any

from intake.report_model import Column, Report, Row, Table
from intake.texts import render
from meldpunt.report_forms.cells import NUMERIC, audience_line, cell_text, generated_at, period_line, value_columns

GAP = "  "


def _texts(row: Row, columns: tuple[Column, ...]) -> list[str]:
    """The label and every cell of a row as text."""
    return [row.label, *(cell_text(cell, column.kind) for cell, column in zip(row.cells, columns, strict=False))]


def table_lines(table: Table) -> list[str]:
    """Header, a rule, the rows, and (when published) a rule and the totals row, every column as wide as its widest text."""
    columns = value_columns(table)
    header = [table.columns[0].label, *(column.label for column in columns)]
    body = [_texts(row, columns) for row in table.rows]
    total = _texts(table.total, columns) if table.total is not None else None
    every = [header, *body, *([total] if total else [])]
    widths = [max(len(line[index]) for line in every if index < len(line)) for index in range(len(header))]
    right = [False, *(column.kind in NUMERIC for column in columns)]

    def line(texts: list[str]) -> str:
        """One line: labels and words to the left, numbers to the right."""
        cells = [text.rjust(width) if right[i] else text.ljust(width) for i, (text, width) in enumerate(zip(texts, widths, strict=False))]
        return GAP.join(cells).rstrip()

    rule = GAP.join("-" * width for width in widths)
    lines = [line(header), rule, *(line(texts) for texts in body)]
    if total is not None:
        lines += [rule, line(total)]
    return lines


def render_terminal(report: Report) -> str:
    """The whole report as text for the terminal: period and audience at the top, then each table, then the notes."""
    tables: list[dict[str, Any]] = [
        {"title": table.title, "definition": table.definition, "section": table.section, "lines": table_lines(table)}
        for table in report.tables
    ]
    return render(
        "report/cli_report.txt.j2", title=report.title, period=period_line(report), audience=audience_line(report),
        generated=generated_at(report), tables=tables, notes=report.notes,
    )

