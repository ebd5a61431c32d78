"""Building blocks of the report's tables: Dutch words from the template, code → label, and suppression of a draft table."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from intake.figures import DeclineReason
from intake.report_model import Audience, Cell, Column, ColumnKind, Row, Suppressed, Table
from intake.retention import AGE_BANDS
from intake.suppression import Line, Position, protect
from intake.texts import message
from intake.vocabulary import Labelled

TEXTS = "report/labels.txt.j2"
# Stored values of the providers' decline reasons (intake.figures.DeclineReason), in the order the report lists them.
DECLINE_REASONS = tuple(reason.value for reason in DeclineReason)
# The report's own words per reason (templates/report/labels.txt.j2) keyed by the value; "volzet" is taken by a header.
_REASON_WORDS = {DeclineReason.VOLZET.value: "volzet_reden"}


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
    # The same number published in more tables (a municipality's referrals, the period's total) has one name here,
    # so it is hidden everywhere or nowhere: (row, column), the totals row being row len(rows) → a shared name.
    facts: dict[tuple[int, int], Hashable] = field(default_factory=dict)

    def add(self, label: str, cells: Iterable[Cell]) -> None:
        """Append a row."""
        self.rows.append(Row(label, tuple(cells)))


def publish(drafts: Sequence[Draft], audience: Audience, min_cell: int, links: Sequence[tuple[tuple[Hashable, ...], Hashable]] = ()) -> list[Table]:
    """The finished tables: for the public with small cells (and what would reveal them) suppressed, as is for INTERNAL.

    The public tables are protected together: a number two tables share is one unknown, and `links` adds sums
    between tables (the municipalities of a region add up to the region's count).
    """
    hidden: set[Hashable] = set()
    if audience is Audience.PUBLIC:
        hidden = _hidden_facts(drafts, min_cell, links)
    return [_table(draft, hidden, min_cell) for draft in drafts]


def _grid(draft: Draft) -> list[Row]:
    """The rows and the totals row."""
    return [*draft.rows, *([draft.total] if draft.total else [])]


def fact(draft: Draft, position: tuple[int, int]) -> Hashable:
    """The name of the number in a cell: shared when the draft says so, else the table's own."""
    return draft.facts.get(position, (draft.key, *position))


def _hidden_facts(drafts: Sequence[Draft], min_cell: int, links: Sequence[tuple[tuple[Hashable, ...], Hashable]]) -> set[Hashable]:
    """Joint suppression of every count of every draft, over numbered facts (intake.suppression works on positions).

    A sum of one part (a region with one municipality) says two facts are one number: they become one unknown, so
    hiding one hides the other instead of hiding a third cell to protect the pair.
    """
    sums = [(tuple(fact(d, p) for p in line.parts), fact(d, line.total)) for d in drafts for line in lines_of(d, len(_grid(d)))]
    sums += list(links)
    same: dict[Hashable, Hashable] = {}

    def root(name: Hashable) -> Hashable:
        while name in same:
            name = same[name]
        return name

    for parts, whole in sums:
        if len(parts) == 1 and root(parts[0]) != root(whole):
            same[root(parts[0])] = root(whole)
    number: dict[Hashable, Position] = {}

    def at(name: Hashable) -> Position:
        return number.setdefault(root(name), (len(number), 0))

    values: dict[Position, int] = {}
    exempt: set[Position] = set()
    for draft in drafts:
        counts = {i for i, column in enumerate(draft.columns[1:]) if column.kind is ColumnKind.COUNT}
        for r, row in enumerate(_grid(draft)):
            for c, value in enumerate(row.cells):
                if c in counts and isinstance(value, int):
                    values[at(fact(draft, (r, c)))] = value
                    if c in draft.exempt:
                        exempt.add(at(fact(draft, (r, c))))
    lines = [Line(tuple(at(part) for part in parts), at(whole)) for parts, whole in sums if len(parts) > 1 and root(whole) in number]
    protected = protect(values, lines, min_cell, exempt=exempt)
    hidden_roots = {root_name for root_name, position in number.items() if position in protected}
    for draft in drafts:  # a hidden count hides its companion (pupils nearly always equal referrals)
        hidden_roots |= {root(fact(draft, (r, companion))) for r in range(len(_grid(draft))) for count, companion in draft.companions
                         if root(fact(draft, (r, count))) in hidden_roots}
    return {fact(draft, (r, c)) for draft in drafts for r in range(len(_grid(draft))) for c in range(len(draft.columns) - 1)
            if root(fact(draft, (r, c))) in hidden_roots}


def _table(draft: Draft, hidden: set[Hashable], min_cell: int) -> Table:
    """The draft as a Table, its hidden cells as Suppressed."""
    marked = [Row(row.label, tuple(_hidden(v, min_cell) if fact(draft, (r, c)) in hidden else v for c, v in enumerate(row.cells)))
              for r, row in enumerate(_grid(draft))]
    rows, total = (marked[:-1], marked[-1]) if draft.total else (marked, None)
    return Table(key=draft.key, title=text(f"title_{draft.key}"), definition=text(f"def_{draft.key}", **draft.context),
                 columns=draft.columns, rows=tuple(rows), total=total, chart=draft.chart, section=draft.section)


def _hidden(value: Cell, min_cell: int) -> Suppressed:
    """A hidden cell: "<5" when it is the small count itself, "x" when it is larger and hidden only to protect one."""
    return Suppressed(min_cell, primary=isinstance(value, int) and value < min_cell)


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
