"""The report's SQL: GROUP BY queries over the figures tables for a range of submission days; aggregates only, never rows.

Every query counts the referrals (and imported trajectories) submitted from `start` to `end`, both included.
Keys come back as stored (codes); desk.report turns them into Dutch labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Unpack

from sqlalchemy import ColumnElement, Date, Select, and_, case, extract, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import KeyedColumnElement

from store.dispatch_models import DispatchItem
from store.figure_models import DispatchAnswer, FigureProblemArea, ReferralFigures

F = ReferralFigures
Key = tuple[object, ...]
# Statuses of a referral that got a provider and is still with it: what a provider's "in progress" load counts.
IN_PROGRESS = ("accepted", "round_table_planned", "in_progress")


@dataclass(frozen=True)
class Tally:
    """How many referrals and how many distinct pupils."""

    referrals: int
    pupils: int


def in_period(start: date, end: date) -> ColumnElement[bool]:
    """Submitted from start to end, both included."""
    return F.submitted_on.between(start, end)


def pupils(condition: ColumnElement[bool] | None = None) -> ColumnElement[int]:
    """Distinct pupils: distinct keys, plus one for every row without a key (pseudonymised or unknown)."""
    if condition is None:
        keyed = func.count(func.distinct(F.pupil_key))
        unkeyed = func.sum(case((F.pupil_key.is_(None), 1), else_=0))
    else:
        keyed = func.count(func.distinct(case((condition, F.pupil_key))))
        unkeyed = func.sum(case((and_(condition, F.pupil_key.is_(None)), 1), else_=0))
    return keyed + func.coalesce(unkeyed, 0)


def _tallies(session: Session, query: Select[Unpack[tuple[Any, ...]]], width: int) -> dict[Key, Tally]:
    """Run a query whose first `width` columns are the key and whose last two are referrals and pupils."""
    return {tuple(row[:width]): Tally(int(row[width]), int(row[width + 1])) for row in session.execute(query)}


def tally_by(session: Session, start: date, end: date, *columns: InstrumentedAttribute[object]) -> dict[Key, Tally]:
    """Referrals and pupils per value (or combination of values) of figures columns."""
    query = select(*columns, func.count(), pupils()).where(in_period(start, end)).group_by(*columns)
    return _tallies(session, query, len(columns))


def tally_total(session: Session, start: date, end: date) -> Tally:
    """All referrals and pupils of the period."""
    row = session.execute(select(func.count(), pupils()).where(in_period(start, end))).one()
    return Tally(int(row[0]), int(row[1] or 0))


def tally_by_problem(session: Session, start: date, end: date, *columns: InstrumentedAttribute[object]) -> dict[Key, Tally]:
    """Referrals and pupils per problem area (and further figures columns): a referral counts once in each of its areas."""
    keys = (FigureProblemArea.problem_area, *columns)
    query = (select(*keys, func.count(), pupils()).join(FigureProblemArea, FigureProblemArea.figures_id == F.id)
             .where(in_period(start, end)).group_by(*keys))
    return _tallies(session, query, len(keys))


@dataclass(frozen=True)
class ServiceFlow:
    """Per source and service the referral went to last: referrals, pupils and how far they got."""

    referrals: int
    pupils: int
    accepted: int
    round_table: int
    started: int
    completed: int


@dataclass(frozen=True)
class DemandGroup:
    """The period's referrals with one source, preference, first suggestion and last service, and how far they got."""

    source: str
    preferred: str | None
    suggested: str | None
    service: str | None
    referrals: int
    accepted: int
    round_table: int
    started: int
    completed: int


def demand_groups(session: Session, start: date, end: date) -> list[DemandGroup]:
    """One pass for the demand table's counts: a few hundred groups at most (services × services × services)."""
    keys = (F.source, F.preferred_service, F.suggested_service, F.service)
    query = (select(*keys, func.count(), func.count(F.accepted_at), func.count(F.round_table_at), func.count(F.started_at),
                    func.count(F.completed_at)).where(in_period(start, end)).group_by(*keys))
    return [DemandGroup(row[0], row[1], row[2], row[3], *(int(v) for v in row[4:])) for row in session.execute(query)]


def pupils_by_service(session: Session, start: date, end: date) -> dict[tuple[str, str | None], int]:
    """Distinct pupils per (source, last service)."""
    query = select(F.source, F.service, pupils()).where(in_period(start, end)).group_by(F.source, F.service)
    return {(str(source), service): int(number) for source, service, number in session.execute(query)}


def dispatch_outcomes(session: Session, start: date, end: date) -> dict[tuple[str, bool | None, str | None], int]:
    """Dispatch items of the period's referrals per (service, answer: accepted / declined / none yet, decline reason), in one join.

    The period's referrals as an IN list: SQLite then reads only their items (by the referral index) instead of joining all.
    """
    referrals = select(F.referral_id).where(in_period(start, end), F.referral_id.is_not(None))
    query = (select(DispatchItem.service_id, DispatchAnswer.accepted, DispatchAnswer.decline_reason, func.count())
             .select_from(DispatchItem).outerjoin(DispatchAnswer, DispatchAnswer.dispatch_item_id == DispatchItem.id)
             .where(DispatchItem.referral_id.in_(referrals))
             .group_by(DispatchItem.service_id, DispatchAnswer.accepted, DispatchAnswer.decline_reason))
    return {(str(s), None if a is None else bool(a), r): int(n) for s, a, r, n in session.execute(query)}


def _local_day_parts(column: InstrumentedAttribute[object]) -> tuple[KeyedColumnElement[object] | ColumnElement[object], ColumnElement[object]]:
    """A UTC timestamp as its UTC date and, for 22:00–23:59, its hour: enough to know its Brussels date exactly.

    Brussels is UTC+1 or +2, and summer time changes at 01:00 UTC, so only those two hours can fall on the next
    day in Brussels; grouping on the date alone keeps the groups few.
    """
    hour = extract("hour", column)
    return func.date(column, type_=Date), case((hour >= 22, hour), else_=0)


def milestone_pairs(session: Session, start: date, end: date, first: str, second: str) -> list[tuple[Key, Key, int]]:
    """How many of the period's referrals reached milestone `second` after `first`, per pair of (day, late hour) parts.

    `first` and `second` name figures columns ("submitted_on", "dispatched_at", …); a date column gives (date, 0).
    """
    parts: list[ColumnElement[object]] = []
    for name in (first, second):
        column = getattr(F, name)
        parts.extend((column,) if name == "submitted_on" else _local_day_parts(column))
    query = (select(*parts, func.count()).where(in_period(start, end), getattr(F, first).is_not(None), getattr(F, second).is_not(None))
             .group_by(*parts))
    found: list[tuple[Key, Key, int]] = []
    for row in session.execute(query):
        values = list(row)
        if first == "submitted_on":
            values.insert(1, 0)
        found.append(((values[0], values[1]), (values[2], values[3]), int(values[4])))
    return found


def tally_where(session: Session, start: date, end: date, conditions: Sequence[ColumnElement[bool]]) -> list[Tally]:
    """Referrals and pupils matching each condition, all in one pass over the period."""
    columns: list[ColumnElement[int]] = []
    for condition in conditions:
        columns.extend((func.coalesce(func.sum(case((condition, 1), else_=0)), 0), pupils(condition)))
    row = session.execute(select(*columns).where(in_period(start, end))).one()
    return [Tally(int(row[2 * i]), int(row[2 * i + 1] or 0)) for i in range(len(conditions))]


def compare_periods(session: Session, column: InstrumentedAttribute[object], now: tuple[date, date], before: tuple[date, date],
                    limit: int) -> list[tuple[object, int, int]]:
    """The `limit` values of column with the most referrals now: (value, referrals now, referrals in the period before)."""
    current = func.sum(case((in_period(*now), 1), else_=0))
    earlier = func.sum(case((in_period(*before), 1), else_=0))
    query = (select(column, current, earlier).where(in_period(before[0], now[1]), column.is_not(None))
             .group_by(column).having(current > 0).order_by(current.desc(), column).limit(limit))
    return [(value, int(n), int(p)) for value, n, p in session.execute(query)]


def in_progress_by_service(session: Session) -> dict[str, int]:
    """Referrals a provider has accepted and not finished, per service, now (whenever they were submitted)."""
    query = select(F.service, func.count()).where(F.status.in_(IN_PROGRESS), F.service.is_not(None)).group_by(F.service)
    return {str(service): int(number) for service, number in session.execute(query)}


def trajectories(session: Session, start: date, end: date) -> dict[tuple[str, str | None], tuple[int, int]]:
    """(source, outcome) → (trajectories started, trajectories completed) of the period's referrals."""
    query = (select(F.source, F.outcome, func.count(F.started_at), func.count(F.completed_at))
             .where(in_period(start, end)).group_by(F.source, F.outcome))
    return {(str(source), outcome): (int(started), int(completed)) for source, outcome, started, completed in session.execute(query)}
