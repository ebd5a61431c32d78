"""The report's "Onvervulde vraag" and "Signaalfunctie" queries over the period's copied rows (store.figure_queries).

Aggregates only, as every figures query: keys come back as stored (codes); desk.report_signal labels them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, Integer, case, func, literal, select, union_all
from sqlalchemy.orm import InstrumentedAttribute, Session

from store.figure_queries import CUBE, CUBED, F, PeriodRows, R, in_period
from store.figure_tallies import Tally

# Statuses of a referral that got a provider and is still with it: what a provider's "in progress" load counts.
IN_PROGRESS = ("accepted", "round_table_planned", "in_progress")


def tally_where(rows: PeriodRows, conditions: Sequence[ColumnElement[bool]]) -> list[Tally]:
    """Referrals and pupils matching each condition, all in one pass over the period.

    First per pupil number, how many of its rows match each condition (the rows without a number together, a pupil each):
    one GROUP BY instead of a COUNT(DISTINCT) per condition. Then a numbered pupil counts once if any of its rows match.
    """
    sums = [func.sum(case((condition, 1), else_=0)).label(f"n{i}") for i, condition in enumerate(conditions)]
    if rows.session.connection().dialect.name == "postgresql":  # hashes every row at once
        inner = select(R.pupil, *sums).group_by(R.pupil).subquery("report_per_pupil")
    else:  # sorts to group: only the numbered rows, the others added up in one row
        alone = select(literal(None, Integer).label("pupil"), *sums).where(R.pupil.is_(None))
        inner = union_all(alone, select(R.pupil, *sums).where(R.pupil.is_not(None)).group_by(R.pupil)).subquery("report_per_pupil")
    columns: list[ColumnElement[int]] = []
    for i in range(len(conditions)):
        matching = inner.c[f"n{i}"]
        pupils_matching = case((inner.c.pupil.is_(None), matching), (matching > 0, 1), else_=0)
        columns.extend((func.coalesce(func.sum(matching), 0), func.coalesce(func.sum(pupils_matching), 0)))
    row = rows.session.execute(select(*columns)).one()
    return [Tally(int(row[2 * i]), int(row[2 * i + 1])) for i in range(len(conditions))]


def compare_periods(rows: PeriodRows, name: str, before: tuple[date, date], limit: int) -> list[tuple[object, int, int]]:
    """The `limit` values of figures column `name` with the most referrals now: (value, referrals now, referrals in the period before).

    The period before is counted for those values only, by the (column, submitted_on) index of migration 0014.
    """
    value = rows.fold(CUBE).c[name] if name in CUBED else R[name]  # the folded rows when they hold the column: fewer to group
    current = func.sum(CUBE.c.referrals) if name in CUBED else func.count()
    top = select(value, current).where(value.is_not(None)).group_by(value).order_by(current.desc(), value).limit(limit)
    found = [(value, int(n)) for value, n in rows.session.execute(top)]
    column: InstrumentedAttribute[object] = getattr(F, name)
    query = select(column, func.count()).where(column.in_([value for value, _ in found]), in_period(*before)).group_by(column)
    earlier = {value: int(n) for value, n in rows.session.execute(query)} if found else {}
    return [(value, n, earlier.get(value, 0)) for value, n in found]


def in_progress_by_service(session: Session) -> dict[str, int]:
    """Referrals a provider has accepted and not finished, per service, now (whenever they were submitted)."""
    query = select(F.service, func.count()).where(F.status.in_(IN_PROGRESS), F.service.is_not(None)).group_by(F.service)
    return {str(service): int(number) for service, number in session.execute(query)}

