"""The report as one self-contained HTML file: inline CSS and SVG charts, no scripts, nothing fetched; prints to A4."""

from __future__ import annotations

from typing import Any

from intake.report_model import Audience, Column, Report, Row, Table
from intake.texts import render
from meldpunt.report_forms.cells import NUMERIC, audience_line, cell_text, generated_at, period_line, value_columns
from meldpunt.report_forms.charts import bar_chart


def _cells(row: Row, columns: tuple[Column, ...]) -> list[dict[str, Any]]:
    """A row's cells as text, each marked numeric (right-aligned) or not."""
    return [{"text": cell_text(cell, column.kind), "numeric": column.kind in NUMERIC}
            for cell, column in zip(row.cells, columns, strict=False)]


def _table(table: Table) -> dict[str, Any]:
    """What the template needs of one table: headings, rows and totals as text, and its chart (or None)."""
    columns = value_columns(table)
    return {
        "key": table.key, "title": table.title, "definition": table.definition, "section": table.section,
        "label": table.columns[0].label, "columns": [{"label": c.label, "numeric": c.kind in NUMERIC} for c in columns],
        "rows": [{"label": row.label, "cells": _cells(row, columns)} for row in table.rows],
        "total": {"label": table.total.label, "cells": _cells(table.total, columns)} if table.total is not None else None,
        "chart": bar_chart(table) if table.chart else None,
    }


def render_html(report: Report) -> str:
    """The whole report as an HTML page (autoescaped: labels from the catalogue are text, never markup)."""
    return render(
        "report/form_report.html.j2", title=report.title, period=period_line(report), audience=audience_line(report),
        internal=report.audience is Audience.INTERNAL, generated=generated_at(report),
        tables=[_table(table) for table in report.tables], notes=report.notes,
    )
