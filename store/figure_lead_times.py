"""The report's lead times in SQL: working days between two milestones of the period's rows, counted per number of days.

Each milestone moment is looked up once in the working days by its Brussels day (PostgreSQL: an array parameter; SQLite: a
small temporary table, DAY_KEYS), and the steps are grouped on the differences; only the few (step, days) groups come back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    CTE,
    Column,
    ColumnElement,
    Date,
    FromClause,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import Grouping

from intake.brussels import BRUSSELS
from store.figure_counting import count_groups
from store.figure_queries import META, ROWS, PeriodRows, R

# SQLite (no time zones): the stored UTC text cut to its day, or to its day and hour for 22:00–23:59 (see _sqlite_key), →
# working days up to that moment's Brussels day. Cutting text is much cheaper than date() and strftime() per milestone.
DAY_KEYS = Table("report_period_day_keys", META, Column("key", String(13), primary_key=True), Column("worked", Integer),
                 prefixes=["TEMPORARY"], sqlite_with_rowid=False)


def _sqlite_key(column: Column[Any]) -> ColumnElement[Any]:
    """A stored UTC moment ('YYYY-MM-DD HH:MM:SS…') as 'YYYY-MM-DD', or 'YYYY-MM-DD HH' from 22:00: enough for its Brussels day.

    Brussels is UTC+1 or +2, and summer time changes at 01:00 UTC, so only those two hours can fall on the next day there.
    """
    return case((func.substr(column, 12, 2) >= "22", func.substr(column, 1, 13)), else_=func.substr(column, 1, 10))


def milestone_span(rows: PeriodRows) -> tuple[object, object] | None:
    """The first and last UTC day any milestone of the period's rows falls on (None when there are no rows)."""
    # The first and last moments (found by period_rows), then their days: the same as the least and greatest day, without a
    # date() per row.
    days = [value.date() if isinstance(value, datetime) else value for value in rows.moments if value is not None]
    return (min(days, key=str), max(days, key=str)) if days else None


@dataclass(frozen=True)
class WorkedDays:
    """What fill_days made: on PostgreSQL the working-day numbers themselves, one per Brussels day from `first` on."""

    first: date | None = None
    numbers: tuple[int | None, ...] = ()
    most: int = 0  # SQLite: the highest working-day number in DAY_KEYS less the lowest (no step takes longer)


def fill_days(rows: PeriodRows, worked: dict[tuple[date, int], int], local: dict[tuple[date, int], date]) -> WorkedDays:
    """The day table from (UTC day, late hour or 0) → working days up to that moment's Brussels day (`local`: that day).

    PostgreSQL gets the numbers as one array parameter (a milestone indexes it by its Brussels day: no join per milestone);
    SQLite, without arrays, a temporary table DAY_KEYS.
    """
    connection = rows.session.connection()
    if connection.dialect.name == "postgresql":
        by_day = {local[key]: number for key, number in worked.items()}
        first, last = min(by_day), max(by_day)
        return WorkedDays(first, tuple(by_day.get(first + timedelta(days=i)) for i in range((last - first).days + 1)))
    DAY_KEYS.create(connection)
    keys = [{"key": day.isoformat() if not hour else f"{day.isoformat()} {hour:02d}", "worked": number}
            for (day, hour), number in worked.items()]
    connection.execute(insert(DAY_KEYS), keys)
    return WorkedDays(most=max(worked.values(), default=0) - min(worked.values(), default=0))


def _worked_on_postgresql(days: WorkedDays, name: str) -> ColumnElement[Any]:
    """A milestone's working-day number on PostgreSQL: the array indexed by its Brussels day (NULL without the milestone)."""
    # In brackets: PostgreSQL only indexes a parameter that way ($1::INTEGER[][i] is a syntax error).
    numbers = Grouping(cast(bindparam("report_worked_days", list(days.numbers), type_=ARRAY(Integer)), ARRAY(Integer)))
    # Stored as UTC without a zone: to Brussels time, then its day; submitted_on is a Brussels day already.
    day = R.submitted_on if name == "submitted_on" else func.date(func.timezone(BRUSSELS.key, func.timezone("UTC", R[name])))
    return numbers[cast(day - bindparam("report_first_day", days.first, Date), Integer) + 1]


def _looked_up(name: str) -> tuple[FromClause, ColumnElement[bool]]:
    """SQLite: the day table aliased for a milestone, and its join condition."""
    table = DAY_KEYS.alias(f"days_{name}")
    # submitted_on is a Brussels day already; cut too: a DATE column next to a text key would scan the table instead of seeking.
    key = func.substr(R.submitted_on, 1, 10) if name == "submitted_on" else _sqlite_key(R[name])
    return table, table.c.key == key


def lead_times(rows: PeriodRows, steps: Sequence[tuple[str, str]], days: WorkedDays) -> list[dict[int, int]]:
    """Per step (first, second): working days from milestone `first` to `second` → how many referrals took that long (needs fill_days).

    Milestones name figures columns ("submitted_on", "dispatched_at", …). Counted in SQL in one statement: each milestone
    is looked up once in the day table, and the rows are grouped on the steps' differences (NULL when a step's milestones
    are not both there); a negative difference is 0.
    """
    postgresql = days.first is not None
    names = list(dict.fromkeys(name for step in steps for name in step))
    # Only rows that have both milestones of some step: the others (never dispatched nor started) count in no step.
    counted = or_(*(and_(R[first].is_not(None), R[second].is_not(None)) for first, second in steps))
    worked: dict[str, ColumnElement[Any]] = {}
    query = select().select_from(ROWS).where(counted)
    for name in names:
        if postgresql:
            worked[name] = _worked_on_postgresql(days, name)
            continue
        table, condition = _looked_up(name)
        query = query.outerjoin(table, condition)
        worked[name] = table.c.worked
    if postgresql:  # each milestone's number once per row (a step's difference would look it up again)
        return _apart(rows, query.add_columns(*(worked[name].label(f"w_{name}") for name in names)).cte("report_worked"), steps)
    return _counted_on_sqlite(rows, [worked[b] - worked[a] for a, b in steps], query, days.most)


def _counted_on_sqlite(rows: PeriodRows, differences: Sequence[ColumnElement[Any]], query: Select[Any], most: int) -> list[dict[int, int]]:
    """SQLite: count the rows per combination of the steps' differences (a few thousand), then add those up per step.

    The combination is one integer: each difference (at least 0, and at most `most`) plus one (0: not both milestones there)
    as a digit in base most + 2, so each row's upsert compares one number instead of five values.
    """
    counts: list[dict[int, int]] = [{} for _ in differences]
    base = most + 2
    if base ** len(differences) >= 2 ** 63:  # beyond SQLite's integers: one key per difference
        digits = [func.max(difference, 0) + 1 for difference in differences]
    else:
        ones: list[ColumnElement[Any]] = [func.coalesce(func.max(difference, 0) + 1, 0) for difference in differences]
        encoded = ones[0]
        for digit in ones[1:]:
            encoded = encoded * base + digit
        digits = [encoded]
    for row in count_groups(rows.session.connection(), digits, query, "report_period_steps"):
        taken = [int(value or 0) for value in row[:-1]]
        if len(taken) == 1:
            taken = _digits(taken[0], base, len(differences))
        for found, plus_one in zip(counts, taken, strict=True):
            if plus_one:
                found[plus_one - 1] = found.get(plus_one - 1, 0) + int(row[-1])
    return counts


def _digits(number: int, base: int, width: int) -> list[int]:
    """`number`'s last `width` digits in `base`, the most significant first."""
    found = []
    for _ in range(width):
        number, digit = divmod(number, base)
        found.append(digit)
    return found[::-1]


def _apart(rows: PeriodRows, ends: CTE, steps: Sequence[tuple[str, str]]) -> list[dict[int, int]]:
    """PostgreSQL (hashing): each step's differences under one another, grouped on (step, difference): only ~100 groups return."""
    parts = [select(literal(i).label("step"), (ends.c[f"w_{b}"] - ends.c[f"w_{a}"]).label("days"))
             .where(ends.c[f"w_{a}"].is_not(None), ends.c[f"w_{b}"].is_not(None)) for i, (a, b) in enumerate(steps)]
    both = union_all(*parts).subquery()
    counts: list[dict[int, int]] = [{} for _ in steps]
    for step, taken, number in rows.session.execute(select(both.c.step, both.c.days, func.count()).group_by(both.c.step, both.c.days)):
        found = counts[int(step)]
        found[max(int(taken), 0)] = found.get(max(int(taken), 0), 0) + int(number)
    return counts
