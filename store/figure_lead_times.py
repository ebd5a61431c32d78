"""The report's lead times in SQL: working days between two milestones of the period's rows, counted per number of days.

Each milestone moment is looked up once in a small temporary table of working days (DAYS) by its Brussels day, and
the steps are grouped on the differences; only the few (step, days) groups come back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, Date, FromClause, Integer, String, Table, and_, case, func, insert, literal, or_, select, union_all

from intake.brussels import BRUSSELS
from store.figure_queries import FLOW, META, MILESTONES, ROWS, PeriodRows, R

# PostgreSQL: a milestone's Brussels day (converted by the server's time zone data) → working days from the table's first day.
DAYS = Table("report_period_days", META, Column("day", Date, primary_key=True), Column("worked", Integer), prefixes=["TEMPORARY"])
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
    # The first and last moments, then their days: the same as the least and greatest day, without a date() per row.
    found = rows.session.execute(select(*(func.min(FLOW.c[f"first_{name}"]) for name in MILESTONES),
                                        *(func.max(FLOW.c[f"last_{name}"]) for name in MILESTONES))).one()
    days = [value.date() if isinstance(value, datetime) else value for value in found if value is not None]
    return (min(days, key=str), max(days, key=str)) if days else None


def fill_days(rows: PeriodRows, worked: dict[tuple[date, int], int], local: dict[tuple[date, int], date]) -> None:
    """Write the day table from (UTC day, late hour or 0) → working days up to that moment's Brussels day (`local`: that day)."""
    connection = rows.session.connection()
    if connection.dialect.name == "postgresql":
        DAYS.create(connection)
        by_day = {local[key]: number for key, number in worked.items()}
        connection.execute(insert(DAYS), [{"day": day, "worked": number} for day, number in by_day.items()])
        # Its size known, the planner hashes the day table for each milestone's look-up instead of sorting the period's rows.
        connection.exec_driver_sql(f"ANALYZE {DAYS.name}")
        return
    DAY_KEYS.create(connection)
    keys = [{"key": day.isoformat() if not hour else f"{day.isoformat()} {hour:02d}", "worked": number}
            for (day, hour), number in worked.items()]
    connection.execute(insert(DAY_KEYS), keys)


def _looked_up(postgresql: bool, name: str) -> tuple[FromClause, ColumnElement[Any], ColumnElement[Any]]:
    """The day table aliased for a milestone, and the two sides of its join: the table's key and the milestone's."""
    table = (DAYS if postgresql else DAY_KEYS).alias(f"days_{name}")
    key = table.c.day if postgresql else table.c.key
    if name == "submitted_on":  # already a Brussels day; on SQLite cut too: a DATE column next to a text key would scan the table
        return table, key, R.submitted_on if postgresql else func.substr(R.submitted_on, 1, 10)
    if postgresql:  # stored as UTC without a zone: to Brussels time, then its day
        return table, key, func.date(func.timezone(BRUSSELS.key, func.timezone("UTC", R[name])))
    return table, key, _sqlite_key(R[name])


def lead_times(rows: PeriodRows, steps: Sequence[tuple[str, str]]) -> list[dict[int, int]]:
    """Per step (first, second): working days from milestone `first` to `second` → how many referrals took that long (needs fill_days).

    Milestones name figures columns ("submitted_on", "dispatched_at", …). Counted in SQL in one statement: each milestone
    is looked up once in the day table, and the steps are grouped on the differences; a negative one is 0.
    """
    postgresql = rows.session.connection().dialect.name == "postgresql"
    names = list(dict.fromkeys(name for step in steps for name in step))
    # Only rows that have both milestones of some step: the others (never dispatched nor started) count in no step.
    counted = or_(*(and_(R[first].is_not(None), R[second].is_not(None)) for first, second in steps))
    worked, query = [], select().select_from(ROWS).where(counted)
    for name in names:
        table, key, moment = _looked_up(postgresql, name)
        query = query.outerjoin(table, key == moment)
        worked.append(table.c.worked.label(f"w_{name}"))
    ends = query.add_columns(*worked).cte("report_worked")
    parts = [select(literal(i).label("step"), (ends.c[f"w_{b}"] - ends.c[f"w_{a}"]).label("days"))
             .where(ends.c[f"w_{a}"].is_not(None), ends.c[f"w_{b}"].is_not(None)) for i, (a, b) in enumerate(steps)]
    both = union_all(*parts).subquery()
    counts: list[dict[int, int]] = [{} for _ in steps]
    for step, days, number in rows.session.execute(select(both.c.step, both.c.days, func.count()).group_by(both.c.step, both.c.days)):
        found = counts[int(step)]
        found[max(int(days), 0)] = found.get(max(int(days), 0), 0) + int(number)
    return counts
