"""Building blocks of the report's tables: Dutch words from the template, code → label, and suppression of a draft table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from intake.report_model import Audience, Cell, Column, ColumnKind, Row, Suppressed, Table
from intake.retention import AGE_BANDS
from intake.suppression import Line, Position, protect
from intake.texts import message
from intake.vocabulary import Labelled

TEXTS = "report/labels.txt.j2"
# Stored values of the providers' decline reasons (intake.figures.DeclineReason), in the order the report lists them.
DECLINE_REASONS = ("volzet", "buiten-regio", "buiten-doelgroep", "leerling-of-gezin", "andere")
_REASON_WORDS = {"volzet": "volzet_reden"}


def text(name: str, **context: Any) -> str:
    """One macro of the report's texts."""
    return message(name, source=TEXTS, **context)


def word(key: str) -> str:
    """A column header or fixed row label by its key."""
    return text("word", key=key)


def reason_label(reason: str | None) -> str:
    """The Dutch words of a stored decline reason."""
    if reason is None or reason not in DECLINE_REASONS:
        return word("reden_onbekend")
    return word(_REASON_WORDS.get(reason, reason))


def enum_label(enum: type[Labelled], value: object) -> str:
    """The Dutch label of a stored closed-set value; a value outside the set is shown as not known, never as its code."""
    for member in enum:
        if member.value == value:
            return member.label
    return text("unknown")


def band_label(band: object) -> str:
    """An age band ("-12", "12-13", "18+") in words."""
    lowest = {name: low for low, name in AGE_BANDS}
    if band not in lowest:
        return text("unknown")
    low = lowest[str(band)]
    if low == 0:
        return text("band_under")
    if str(band).endswith("+"):
        return text("band_over", van=low)
    return text("band_range", van=low, tot=str(band).split("-")[1])


def count_column(key: str) -> Column:
    """A count column whose header is word(key)."""
    return Column(key, word(key), ColumnKind.COUNT)


@dataclass
class Draft:
    """A table before publication: counts as plain ints, which columns add up to the totals row, which cells add up across.

    `additive`: column positions (in `cells`) whose rows sum to the totals row. `across`: (parts, whole) column
    positions where, in every row and the totals row, the parts sum to the whole. `companions`: (count, companion)
    positions where a hidden count also hides the companion in that row (pupils nearly always equal referrals).
    `down`: (parts, whole) row positions whose count cells add up in every column. `exempt`: count columns that are
    no count of people (a catalogue's free places, a difference) and never hidden for being small, only to protect another.
    """

    key: str
    section: str
    columns: tuple[Column, ...]
    rows: list[Row] = field(default_factory=list)
    total: Row | None = None
    additive: tuple[int, ...] = ()
    across: tuple[tuple[tuple[int, ...], int], ...] = ()
    companions: tuple[tuple[int, int], ...] = ()
    down: tuple[tuple[tuple[int, ...], int], ...] = ()
    exempt: tuple[int, ...] = ()
    chart: str | None = None
    context: dict[str, Any] = field(default_factory=dict)

    def add(self, label: str, cells: Iterable[Cell]) -> None:
        """Append a row."""
        self.rows.append(Row(label, tuple(cells)))


def publish(draft: Draft, audience: Audience, min_cell: int) -> Table:
    """The finished table: for the public with small cells (and what would reveal them) suppressed, as is for INTERNAL."""
    rows, total = draft.rows, draft.total
    if audience is Audience.PUBLIC:
        rows, total = _suppressed(draft, min_cell)
    return Table(key=draft.key, title=text(f"title_{draft.key}"), definition=text(f"def_{draft.key}", **draft.context),
                 columns=draft.columns, rows=tuple(rows), total=total, chart=draft.chart, section=draft.section)


def _suppressed(draft: Draft, min_cell: int) -> tuple[list[Row], Row | None]:
    """Rows and totals row with the hidden cells replaced by Suppressed."""
    grid = [*draft.rows, *([draft.total] if draft.total else [])]
    counts = {i for i, column in enumerate(draft.columns[1:]) if column.kind is ColumnKind.COUNT}
    values: dict[Position, int] = {(r, c): int(v) for r, row in enumerate(grid) for c, v in enumerate(row.cells)
                                   if c in counts and isinstance(v, int)}
    exempt = {position for position in values if position[1] in draft.exempt}
    hidden = set(protect(values, lines_of(draft, len(grid)), min_cell, exempt=exempt))
    hidden |= {(r, companion) for r, c in hidden for count, companion in draft.companions if c == count}
    marked = [Row(row.label, tuple(Suppressed(min_cell) if (r, c) in hidden else v for c, v in enumerate(row.cells)))
              for r, row in enumerate(grid)]
    return (marked[:-1], marked[-1]) if draft.total else (marked, None)


def lines_of(draft: Draft, height: int) -> list[Line]:
    """The sums a reader knows hold in the draft: additive columns down to the totals row, and sums across each row."""
    lines = []
    if draft.total is not None:
        lines += [Line(tuple((r, c) for r in range(height - 1)), (height - 1, c)) for c in draft.additive]
    lines += [Line(tuple((r, p) for p in parts), (r, whole)) for parts, whole in draft.across for r in range(height)]
    columns = range(len(draft.columns) - 1)
    lines += [Line(tuple((r, c) for r in parts), (whole, c)) for parts, whole in draft.down for c in columns]
    return lines


def labelled_rows(enum: type[Labelled], found: Mapping[tuple[object, ...], Sequence[int]], width: int) -> list[Row]:
    """One row per member of a closed set (0 when none), then values outside it and unknowns together as "Niet gekend"."""
    rows = [Row(member.label, tuple(found.get((member.value,), (0,) * width))) for member in enum]
    known = {member.value for member in enum}
    rest = [values for key, values in found.items() if key[0] not in known]
    if rest:
        rows.append(Row(text("unknown"), tuple(sum(v[i] for v in rest) for i in range(width))))
    return rows
