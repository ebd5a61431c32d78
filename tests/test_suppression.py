"""Small-cell suppression: primary and complementary on small tables, and the attacker's rank test that nothing hidden can be solved for."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from intake.suppression import Line, derivable, margins_lines, protect, protect_grid


def extended(grid: list[list[int]]) -> dict[tuple[int, int], int]:
    """The grid with a totals column and a totals row (grand total bottom right), as {position: value}."""
    values = {(r, c): v for r, row in enumerate(grid) for c, v in enumerate(row)}
    width = len(grid[0])
    for r, row in enumerate(grid):
        values[(r, width)] = sum(row)
    for c in range(width + 1):
        values[(len(grid), c)] = sum(values[(r, c)] for r in range(len(grid)))
    return values


def test_nothing_small_nothing_hidden_and_zero_is_shown() -> None:
    assert protect_grid([[10, 0], [7, 12]], 5) == frozenset()


def test_one_small_cell_takes_three_more_with_it_the_cheapest_ones() -> None:
    # 3 is primary. Its row and column each need a second hidden cell: the smallest, 6 and 7; then 8 closes the rectangle.
    grid = [[3, 6, 20], [7, 8, 30], [40, 50, 60]]
    assert protect_grid(grid, 5) == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_a_small_row_total_is_hidden_too() -> None:
    # Row 0 adds up to 4: its total is a small count itself, and so are both its cells.
    hidden = protect_grid([[1, 3], [10, 12]], 5)
    assert {(0, 0), (0, 1), (0, 2)} <= hidden
    assert derivable(margins_lines(3, 3), hidden) == frozenset()


def test_the_attacker_solves_a_lonely_hidden_cell_and_cannot_solve_a_rectangle() -> None:
    lines = margins_lines(3, 3)  # a 2×2 table with its totals
    assert derivable(lines, {(0, 0)}) == {(0, 0)}
    assert derivable(lines, {(0, 0), (0, 1)}) == {(0, 0), (0, 1)}  # the column totals give each one
    assert derivable(lines, {(0, 0), (0, 1), (1, 0), (1, 1)}) == frozenset()


def test_two_hidden_per_line_is_not_enough_when_a_cell_bridges_two_rectangles() -> None:
    # Rows 0-1 × columns 0-1 and rows 2-3 × columns 2-3 are safe rectangles; (1, 2) joins them and is the only hidden
    # cell linking the two groups: every line has two or more hidden cells, yet the sums pin it down.
    lines = margins_lines(5, 5)
    rectangles = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3)}
    assert derivable(lines, rectangles) == frozenset()
    assert derivable(lines, rectangles | {(1, 2)}) == {(1, 2)}
    values = {position: 9 for position in [(r, c) for r in range(5) for c in range(5)]}
    values[(1, 2)] = 2
    hidden = protect(values, lines, 5)
    assert (1, 2) in hidden and derivable(lines, hidden) == frozenset()


def test_a_single_column_with_a_total() -> None:
    # Regions: 13, 6, 1 and the total 20: hiding 1 alone is undone by 20 − 13 − 6, so 6 (the cheaper) goes too.
    line = Line(((0, 0), (1, 0), (2, 0)), (3, 0))
    hidden = protect({(0, 0): 13, (1, 0): 6, (2, 0): 1, (3, 0): 20}, [line], 5)
    assert hidden == {(1, 0), (2, 0)}


def test_a_hidden_zero_is_the_last_resort() -> None:
    line = Line(((0, 0), (1, 0), (2, 0)), (3, 0))
    assert protect({(0, 0): 2, (1, 0): 0, (2, 0): 30, (3, 0): 32}, [line], 5) == {(0, 0), (2, 0)}
    assert protect({(0, 0): 2, (1, 0): 0, (3, 0): 2}, [line], 5) == {(0, 0), (3, 0)}


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5).flatmap(lambda rows: st.integers(1, 5).flatmap(
    lambda columns: st.lists(st.lists(st.integers(0, 12), min_size=columns, max_size=columns), min_size=rows, max_size=rows))),
    st.integers(2, 6))
def test_random_tables_never_leak_a_hidden_cell(grid: list[list[int]], min_cell: int) -> None:
    hidden = protect_grid(grid, min_cell)
    values = extended(grid)
    rows, columns = len(grid) + 1, len(grid[0]) + 1
    # Every small count is hidden, every shown count is 0 or at least min_cell …
    assert {p for p, v in values.items() if 0 < v < min_cell} <= hidden
    # … and the attacker, knowing every published cell and every sum, can solve for none of the hidden ones.
    assert derivable(margins_lines(rows, columns), hidden) == frozenset()
    # Each line shows either no hidden cell or at least two.
    for line in margins_lines(rows, columns):
        assert sum(p in hidden for p in line.members) != 1
