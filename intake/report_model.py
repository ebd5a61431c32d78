"""The figures report as plain data: a period, tables of counts with their definitions, suppressed cells marked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from intake.retention import SCHOOL_YEAR_START_MONTH


class Audience(StrEnum):
    """Who reads the report: everyone (aggregates, small cells suppressed) or the coordinator (`--intern`)."""

    PUBLIC = "publiek"
    INTERNAL = "intern"


class ColumnKind(StrEnum):
    """What a column holds, so every form writes it right (a count, working days, a share, or words)."""

    LABEL = "label"
    COUNT = "aantal"
    DAYS = "werkdagen"
    PERCENT = "procent"
    TEXT = "tekst"


COMPLEMENTARY_MARK = "x"  # as Statbel marks a figure hidden for confidentiality


@dataclass(frozen=True)
class Suppressed:
    """A cell not shown: it counts fewer than threshold (primary), or it would let a reader work one out that does."""

    threshold: int
    # Not compared: a hidden cell is hidden, whichever rule hid it; only its mark differs.
    primary: bool = field(default=True, compare=False)

    def __str__(self) -> str:
        """How every form writes it: "<5" for a small count, "x" for a larger one hidden to protect it (never a false "<5")."""
        return f"<{self.threshold}" if self.primary else COMPLEMENTARY_MARK


Cell = int | float | str | Suppressed | None  # None: not applicable or not known ("–")


@dataclass(frozen=True)
class Column:
    """One column: its key (for JSON and CSV), its Dutch header and its kind."""

    key: str
    label: str
    kind: ColumnKind = ColumnKind.COUNT


@dataclass(frozen=True)
class Row:
    """One row: its Dutch label and one cell per column after the label column."""

    label: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Table:
    """One table of the report; the first column is the row label, `total` the published totals row (if any)."""

    key: str
    title: str
    definition: str  # one Dutch line: what is counted, from when to when
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    total: Row | None = None
    chart: str | None = None  # key of the column the HTML report draws as bars, or None for no chart
    section: str = ""  # the part of the report it belongs to ("Vraag", "Trajecten", …)


@dataclass(frozen=True)
class Period:
    """The days the report covers, both ends included, and how a person names them."""

    start: date
    end: date
    label: str

    @classmethod
    def school_year(cls, first_year: int) -> Period:
        """1 September first_year to 31 August of the year after: "schooljaar 2025-2026"."""
        start = date(first_year, SCHOOL_YEAR_START_MONTH, 1)
        end = date.fromordinal(date(first_year + 1, SCHOOL_YEAR_START_MONTH, 1).toordinal() - 1)
        return cls(start, end, f"schooljaar {first_year}-{first_year + 1}")

    def previous(self) -> Period:
        """The period of the same length just before this one (for the signaalfunctie's comparison)."""
        if self == Period.school_year(self.start.year):
            return Period.school_year(self.start.year - 1)
        length = self.end.toordinal() - self.start.toordinal() + 1
        end = date.fromordinal(self.start.toordinal() - 1)
        start = date.fromordinal(end.toordinal() - length + 1)
        return Period(start, end, f"{start:%d/%m/%Y} – {end:%d/%m/%Y}")


@dataclass(frozen=True)
class Report:
    """The whole report: what it covers, for whom, when it was made, its tables and its notes."""

    title: str
    period: Period
    audience: Audience
    generated_at: datetime  # aware; forms write it in Brussels time
    min_cell: int
    tables: tuple[Table, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)  # Dutch lines: sources, how pupils are counted, suppression
