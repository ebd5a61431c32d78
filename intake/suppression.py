"""Small-cell suppression of published counts: primary (1 ≤ n < min_cell) and complementary, with the attacker's check.

A table is a grid of counts; a `Line` says that some of its cells add up to another published cell (a total).
Primary suppression hides every count from 1 to min_cell − 1 (0 stays shown: nobody is in it). Complementary
suppression then hides more cells until no hidden cell can be recomputed from the published cells and the lines:
first every line with a hidden cell gets at least two, then the exact rank test (`derivable`) finds what a
reader could still solve for, and the smallest published cell on one of its lines is hidden too, until stable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

Position = tuple[int, int]  # (row, column) in the grid; the totals row is a row like any other


@dataclass(frozen=True)
class Line:
    """Published cells that add up to another published cell: sum(parts) == total."""

    parts: tuple[Position, ...]
    total: Position

    @property
    def members(self) -> tuple[Position, ...]:
        """Every cell of the line, the total last."""
        return (*self.parts, self.total)


def primary(values: Mapping[Position, int], min_cell: int) -> set[Position]:
    """The cells that count at least one and fewer than min_cell."""
    return {position for position, value in values.items() if 1 <= value < min_cell}


def margins_lines(rows: int, columns: int) -> list[Line]:
    """The lines of a rows × columns grid whose last row and last column are the totals (grand total bottom right)."""
    across = [Line(tuple((r, c) for c in range(columns - 1)), (r, columns - 1)) for r in range(rows)]
    down = [Line(tuple((r, c) for r in range(rows - 1)), (rows - 1, c)) for c in range(columns)]
    return across + down


def protect(values: Mapping[Position, int], lines: Sequence[Line], min_cell: int, *,
            exempt: Iterable[Position] = ()) -> frozenset[Position]:
    """The cells to hide: primary ones (not among exempt: no counts of people), plus complementary ones until none is derivable."""
    hidden = primary(values, min_cell) - set(exempt)
    if not hidden:
        return frozenset()
    totals = {line.total for line in lines}
    while True:
        if _pair_lines(values, lines, hidden, totals):
            continue
        exposed = derivable(lines, hidden)
        if not exposed:
            return frozenset(hidden)
        cell = min(exposed)
        choices = [p for line in lines if cell in line.members for p in line.members if p not in hidden]
        if not choices:  # cannot happen for a consistent table; hide everything rather than publish a leak
            return frozenset(p for line in lines for p in line.members) | frozenset(hidden)
        hidden.add(min(choices, key=lambda p: _cost(values, totals, p)))


def _pair_lines(values: Mapping[Position, int], lines: Sequence[Line], hidden: set[Position], totals: set[Position]) -> bool:
    """Give every line with exactly one hidden cell a second one (the cheapest); True when something changed."""
    changed = False
    for line in lines:
        if sum(p in hidden for p in line.members) == 1:
            choices = [p for p in line.members if p not in hidden]
            if choices:
                hidden.add(min(choices, key=lambda p: _cost(values, totals, p)))
                changed = True
    return changed


def _cost(values: Mapping[Position, int], totals: set[Position], position: Position) -> tuple[bool, bool, int, Position]:
    """Which published cell to hide first: a non-zero one (a hidden 0 protects little), not a total, the smallest."""
    value = abs(values.get(position, 0))
    return (value == 0, position in totals, value, position)


def derivable(lines: Sequence[Line], hidden: Iterable[Position]) -> frozenset[Position]:
    """The hidden cells a reader can recompute exactly from the published ones and the lines (rank test over ℚ).

    Unknowns are the hidden cells; each line gives one equation over them (published cells are constants). A
    hidden cell is derivable when its unit vector lies in the row space of those equations: in reduced row
    echelon form, some row has its only non-zero entry in that cell's column.
    """
    unknowns = sorted(set(hidden))
    index = {position: i for i, position in enumerate(unknowns)}
    equations = []
    for line in lines:
        row = [Fraction(0)] * len(unknowns)
        for position, sign in [*((p, 1) for p in line.parts), (line.total, -1)]:
            if position in index:
                row[index[position]] += sign
        if any(row):
            equations.append(row)
    reduced = _reduced_row_echelon(equations, len(unknowns))
    solved = {next(i for i, v in enumerate(row) if v) for row in reduced if sum(1 for v in row if v) == 1}
    return frozenset(unknowns[i] for i in solved)


def _reduced_row_echelon(rows: list[list[Fraction]], width: int) -> list[list[Fraction]]:
    """Gauss-Jordan elimination with exact fractions; returns the non-zero rows."""
    rows = [list(row) for row in rows]
    pivot_row = 0
    for column in range(width):
        found = next((r for r in range(pivot_row, len(rows)) if rows[r][column]), None)
        if found is None:
            continue
        rows[pivot_row], rows[found] = rows[found], rows[pivot_row]
        pivot = rows[pivot_row][column]
        rows[pivot_row] = [v / pivot for v in rows[pivot_row]]
        for r in range(len(rows)):
            if r != pivot_row and rows[r][column]:
                factor = rows[r][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[pivot_row], strict=True)]
        pivot_row += 1
    return rows[:pivot_row]


def protect_grid(grid: Sequence[Sequence[int]], min_cell: int) -> frozenset[Position]:
    """Suppression of a plain table given without margins: hidden cells of the grid with its row, column and grand totals.

    Positions refer to the grid extended with a totals column (index len(row)) and a totals row (index len(grid)).
    """
    rows, columns = len(grid) + 1, (len(grid[0]) if grid else 0) + 1
    values: dict[Position, int] = {}
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            values[(r, c)] = value
        values[(r, columns - 1)] = sum(row)
    for c in range(columns):
        values[(rows - 1, c)] = sum(values[(r, c)] for r in range(rows - 1))
    return protect(values, margins_lines(rows, columns), min_cell)
