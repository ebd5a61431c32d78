"""The report as JSON for programs: Dutch keys, numbers as numbers, a suppressed cell as the string "<5", dates in ISO form."""

from __future__ import annotations

import json
from typing import Any

from intake.brussels import BRUSSELS
from intake.report_model import Audience, Cell, Report, Row, Suppressed, Table
from meldpunt.report_forms.cells import value_columns


def _value(cell: Cell) -> int | float | str | None:
    """A cell as JSON holds it: a suppressed one as its text ("<5"), an unknown one as null."""
    return str(cell) if isinstance(cell, Suppressed) else cell


def _row(row: Row) -> dict[str, Any]:
    """A row: its label and its values in the order of "kolommen"."""
    return {"label": row.label, "waarden": [_value(cell) for cell in row.cells]}


def _table(table: Table) -> dict[str, Any]:
    """One table; "kolommen" are the value columns (after the label), "totaal" is null when no totals are published."""
    return {
        "sleutel": table.key, "titel": table.title, "definitie": table.definition, "deel": table.section,
        "label": table.columns[0].label,
        "kolommen": [{"sleutel": c.key, "titel": c.label, "soort": c.kind.value} for c in value_columns(table)],
        "rijen": [_row(row) for row in table.rows], "totaal": _row(table.total) if table.total is not None else None,
    }


def report_data(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data."""
    period = report.period
    return {
        "titel": report.title,
        "periode": {"van": period.start.isoformat(), "tot": period.end.isoformat(), "naam": period.label},
        "publiek": report.audience is Audience.PUBLIC,
        "gemaakt": report.generated_at.astimezone(BRUSSELS).isoformat(timespec="seconds"),
        "min_cel": report.min_cell,
        "tabellen": [_table(table) for table in report.tables],
        "opmerkingen": list(report.notes),
    }


def render_json(report: Report) -> str:
    """The report as indented JSON, accents as they are (UTF-8)."""
    return json.dumps(report_data(report), ensure_ascii=False, indent=2)
