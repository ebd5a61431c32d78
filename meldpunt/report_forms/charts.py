"""Horizontal bar charts for the HTML report, as geometry only: the template draws them as inline SVG (escaped there)."""

from __future__ import annotations

from dataclasses import dataclass

from intake.report_model import Suppressed, Table
from meldpunt.report_forms.cells import cell_text, is_number, value_columns, word

WIDTH = 720  # viewBox units; the SVG scales to the page, so this is a proportion, not pixels
ROW, BAR, TOP = 26, 16, 6
CHAR = 7  # about the width of a character at 13 px in a sans-serif font
LABEL_MIN, LABEL_MAX = 80, 300
VALUE_ROOM = 56  # room right of the longest bar for its number


@dataclass(frozen=True)
class Bar:
    """One row of the chart: its label (shortened to fit), the bar's place and length, and the number beside it."""

    label: str
    full_label: str
    y: int
    length: float  # 0: no bar (a suppressed, zero or unknown value)
    value: str  # as written beside the bar: "12", "4,5", "<5", "–"
    suppressed: bool

    @property
    def text_y(self) -> int:
        """The baseline of the label and the number, centred on the bar."""
        return self.y + BAR - 3


@dataclass(frozen=True)
class BarChart:
    """A chart of one column of a table: what it shows (for the SVG's <title>), its size and its bars."""

    key: str
    title: str
    width: int
    height: int
    label_width: int
    bars: tuple[Bar, ...]


def _shorten(label: str, room: int) -> str:
    """The label, cut with "…" when it would not fit in room characters (the table below gives it whole)."""
    return label if len(label) <= room else label[: max(room - 1, 1)].rstrip() + "…"


def bar_chart(table: Table) -> BarChart | None:
    """The chart of table's `chart` column over its rows (the totals row is no bar), or None when it has none."""
    columns = value_columns(table)
    index = next((i for i, column in enumerate(columns) if column.key == table.chart), None)
    if index is None:
        return None
    kind = columns[index].kind
    cells = [row.cells[index] if index < len(row.cells) else None for row in table.rows]
    largest = max((float(cell) for cell in cells if is_number(cell)), default=0.0)
    label_width = min(max(max((len(row.label) for row in table.rows), default=0) * CHAR + 12, LABEL_MIN), LABEL_MAX)
    room = WIDTH - label_width - VALUE_ROOM
    bars = []
    for number, (row, cell) in enumerate(zip(table.rows, cells, strict=True)):
        length = float(cell) / largest * room if is_number(cell) and largest > 0 else 0.0
        bars.append(Bar(label=_shorten(row.label, (label_width - 12) // CHAR), full_label=row.label, y=TOP + number * ROW,
                        length=round(max(length, 0.0), 1), value=cell_text(cell, kind), suppressed=isinstance(cell, Suppressed)))
    title = word("chart_title", title=table.title, column=columns[index].label)
    return BarChart(key=table.key, title=title, width=WIDTH, height=TOP * 2 + len(bars) * ROW, label_width=label_width, bars=tuple(bars))
