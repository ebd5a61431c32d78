"""What every form shares: a cell as a person reads it ("<5", "–", a decimal comma), the header lines, the value columns."""

from __future__ import annotations

from typing import Any, TypeGuard

from intake.report_model import Audience, Cell, Column, ColumnKind, Report, Suppressed, Table
from intake.texts import brussels_time, message

TEXTS = "report/form_texts.txt.j2"
NUMERIC = frozenset({ColumnKind.COUNT, ColumnKind.DAYS, ColumnKind.PERCENT})


def word(name: str, /, **context: Any) -> str:
    """A word or line of the report forms (templates/report/form_texts.txt.j2)."""
    return message(name, source=TEXTS, **context)


def value_columns(table: Table) -> tuple[Column, ...]:
    """The columns after the row label: one per cell of each row."""
    return table.columns[1:]


def decimal(value: float, places: int = 1) -> str:
    """A number with a decimal comma, as Belgian readers and Excel in Belgium expect: 12,5."""
    return f"{value:.{places}f}".replace(".", ",")


def cell_text(cell: Cell, kind: ColumnKind) -> str:
    """A cell as written in a text form: "<5" when suppressed, "–" when not known or not applicable."""
    if isinstance(cell, Suppressed):
        return str(cell)
    if cell is None:
        return word("none_mark")
    if isinstance(cell, str):
        return cell
    if kind is ColumnKind.PERCENT:  # a share between 0 and 1
        return f"{int(cell * 100 + 0.5)}%"  # half up, as people round
    if isinstance(cell, float) and (kind is ColumnKind.DAYS or not cell.is_integer()):
        return decimal(cell)
    return str(int(cell))


def is_number(cell: Cell) -> TypeGuard[int | float]:
    """Whether a cell holds a number (a bool never counts)."""
    return isinstance(cell, int | float) and not isinstance(cell, bool)


def audience_line(report: Report) -> str:
    """"Publiek rapport: kleine aantallen verborgen …" or "Intern rapport: niet verspreiden"."""
    if report.audience is Audience.INTERNAL:
        return word("audience_intern")
    return word("audience_publiek", min_cell=report.min_cell)


def period_line(report: Report) -> str:
    """The period's name and its first and last day: "schooljaar 2025-2026 (01/09/2025 – 31/08/2026)"."""
    if all(f"{day:%d/%m/%Y}" in report.period.label for day in (report.period.start, report.period.end)):
        return report.period.label  # "van 01/10/2026 tot en met 15/11/2026" names its days already
    return word("period", label=report.period.label, start=report.period.start, end=report.period.end)


def generated_at(report: Report) -> str:
    """When the report was made, in Brussels: dd/mm/jjjj HH:MM."""
    return brussels_time(report.generated_at)
