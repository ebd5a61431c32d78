"""The report's counts: GROUP BY queries over the period's rows and their folds (store.figure_queries); aggregates only.

Keys come back as stored (codes); desk.report turns them into Dutch labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Unpack

from sqlalchemy import Column, ColumnElement, Select, Table, and_, case, func, select, true, tuple_
from sqlalchemy.orm import Session

from store.dispatch_models import DispatchItem
from store.figure_counting import count_groups
from store.figure_models import DispatchAnswer
from store.figure_queries import CUBE, CUBED, FLOW, FLOWED, GROUPINGS, PROBLEMS, REACHED, Key, PeriodRows, R


@dataclass(frozen=True)
class Tally:
    """How many referrals and how many distinct pupils."""

    referrals: int
    pupils: int


def pupils(condition: ColumnElement[bool] | None = None, pupil: ColumnElement[int] = R.pupil) -> ColumnElement[int]:
    """Distinct pupils of ROWS (or PROBLEMS): the rows without a `pupil` number (one pupil each) plus the distinct numbers.

    Also right for the figures table itself with pupil_number (a row without one is a pupil of its own).
    """
    if condition is None:
        return func.count() - func.count(pupil) + func.count(func.distinct(pupil))
    alone = func.coalesce(func.sum(case((and_(condition, pupil.is_(None)), 1), else_=0)), 0)
    return alone + func.count(func.distinct(case((condition, pupil))))


def _tallies(session: Session, query: Select[Unpack[tuple[Any, ...]]], width: int) -> dict[Key, Tally]:
    """Run a query whose first `width` columns are the key and whose last two are referrals and pupils."""
    return {tuple(row[:width]): Tally(int(row[width]), int(row[width + 1])) for row in session.execute(query)}


def _folded_counts(table: Table) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """Referrals and pupils of a folded table's rows (CUBE, PROBLEMS, FLOW): a row without a pupil number is that many pupils."""
    c = table.c
    alone = func.sum(case((c.pupil.is_(None), c.referrals), else_=0))  # a pupil each, as in pupils()
    return func.coalesce(func.sum(c.referrals), 0), func.coalesce(alone, 0) + func.count(func.distinct(c.pupil))


def tally_by(rows: PeriodRows, *columns: Column[Any]) -> dict[Key, Tally]:
    """Referrals and pupils per value (or combination of values) of ROWS columns; from CUBE when it holds them all."""
    names = tuple(column.name for column in columns)
    if names in GROUPINGS and rows.session.connection().dialect.name == "postgresql":
        if not rows.folded:
            rows.folded.update(_grouping_sets(rows))
        return rows.folded.get(names, {})
    if all(column.name in CUBED for column in columns):
        keys = [rows.fold(CUBE).c[column.name] for column in columns]
        query = select(*keys, *_folded_counts(CUBE)).group_by(*keys)
    else:
        query = select(*columns, func.count(), pupils()).group_by(*columns)
    return _tallies(rows.session, query, len(columns))


def _grouping_sets(rows: PeriodRows) -> dict[tuple[str, ...], dict[Key, Tally]]:
    """PostgreSQL: every grouping of GROUPINGS over CUBE in one statement; GROUPING() tells which grouping a row is of."""
    rows.fold(CUBE)
    names = [name for name in CUBED if any(name in grouping for grouping in GROUPINGS)]
    columns = [CUBE.c[name] for name in names]
    sets = func.grouping_sets(*(tuple_(*(CUBE.c[name] for name in grouping)) for grouping in GROUPINGS))
    # GROUPING(a, b, …) sets a column's bit (the first column the highest) when the row's grouping leaves it out.
    masks = {sum(1 << (len(names) - 1 - i) for i, name in enumerate(names) if name not in grouping): grouping for grouping in GROUPINGS}
    found: dict[tuple[str, ...], dict[Key, Tally]] = {grouping: {} for grouping in GROUPINGS}
    for row in rows.session.execute(select(*columns, *_folded_counts(CUBE), func.grouping(*columns)).group_by(sets)):
        grouping = masks[int(row[-1])]
        key = tuple(row[names.index(name)] for name in grouping)
        found[grouping][key] = Tally(int(row[-3]), int(row[-2]))
    return found


def tally_total(rows: PeriodRows) -> Tally:
    """All referrals and pupils of the period."""
    if rows.copied:
        return _tallies(rows.session, select(*_folded_counts(rows.fold(FLOW))), 0).get((), Tally(0, 0))
    row = rows.session.execute(select(func.count(), pupils(pupil=rows.pupil)).select_from(rows.table).where(rows.where)).one()
    return Tally(int(row[0]), int(row[1] or 0))


def tally_by_problem(rows: PeriodRows) -> dict[Key, Tally]:
    """Referrals and pupils per problem area: a referral counts once in each of its areas.

    Pupils as pupils() counts them: the folded rows without a number (a pupil each) plus the distinct numbers.
    """
    p = rows.fold(PROBLEMS).c
    alone = func.sum(case((p.pupil.is_(None), p.referrals), else_=0))
    query = select(p.problem_area, func.sum(p.referrals), alone + func.count(func.distinct(p.pupil))).group_by(p.problem_area)
    return _tallies(rows.session, query, 1)


def referrals_by_problem_and_region(rows: PeriodRows) -> dict[Key, int]:
    """Referrals per (problem area, region), without pupils: the signaalfunctie's table shows referrals only."""
    keys = (rows.fold(PROBLEMS).c.problem_area, PROBLEMS.c.region)
    query = select(*keys, func.sum(PROBLEMS.c.referrals)).group_by(*keys)
    return {(area, region): int(n) for area, region, n in rows.session.execute(query)}


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
    """The period's referrals with one source, preference, first suggestion, last service and outcome, and how far they got."""

    source: str
    preferred: str | None
    suggested: str | None
    service: str | None
    outcome: str | None
    referrals: int
    accepted: int
    round_table: int
    started: int
    completed: int


def demand_groups(rows: PeriodRows) -> list[DemandGroup]:
    """One pass for the demand and trajectories tables' counts: a few thousand groups at most (services³ × outcomes)."""
    if rows.copied:
        f = rows.fold(FLOW).c
        keys = tuple(f[name] for name in FLOWED)
        query = select(*keys, func.sum(f.referrals), *(func.sum(f[f"n_{name}"]) for name in REACHED)).group_by(*keys)
    else:
        c = rows.table.c
        keys = (c.source, c.preferred_service, c.suggested_service, c.service, c.outcome)
        query = (select(*keys, func.count(), *(func.count(c[name]) for name in REACHED)).where(rows.where).group_by(*keys))
    return [DemandGroup(row[0], row[1], row[2], row[3], row[4], *(int(v) for v in row[5:])) for row in rows.session.execute(query)]


def pupils_by_service(rows: PeriodRows) -> dict[tuple[str, str | None], int]:
    """Distinct pupils per (source, last service)."""
    if rows.copied:
        rows.fold(FLOW)
        query = select(FLOW.c.source, FLOW.c.service, _folded_counts(FLOW)[1]).group_by(FLOW.c.source, FLOW.c.service)
    else:
        c = rows.table.c
        query = select(c.source, c.service, pupils(pupil=rows.pupil)).where(rows.where).group_by(c.source, c.service)
    return {(str(source), service): int(number) for source, service, number in rows.session.execute(query)}


def dispatch_outcomes(rows: PeriodRows) -> dict[tuple[str, bool | None, str | None], int]:
    """Dispatch items of the period's referrals per (service, answer: accepted / declined / none yet, decline reason), in one join."""
    referral = rows.table.c.referral_id
    # Redundant for the result, but it lets PostgreSQL's referral_id index read only the period's stretch of dispatch items (ids
    # follow time) instead of the whole table. Only on the copy: on the figures table itself the bounds cost a second range scan.
    # Not on SQLite: it looks each referral's items up anyway, and the bounds turn its covering (referral_id, service_id) index
    # into a row lookup per item (0.16 -> 0.24 s on the bench).
    postgresql = rows.session.connection().dialect.name == "postgresql"
    stretch = DispatchItem.referral_id.between(*rows.referrals) if rows.referrals and postgresql else true()
    items, answers = DispatchItem.__table__.c, DispatchAnswer.__table__.c
    keys = (items.service_id, answers.accepted, answers.decline_reason)
    joined = (select().select_from(rows.table).join(DispatchItem, DispatchItem.referral_id == referral)
              .outerjoin(DispatchAnswer, DispatchAnswer.dispatch_item_id == DispatchItem.id).where(rows.where, stretch))
    found = count_groups(rows.session.connection(), keys, joined, "report_period_dispatch_counts")
    return {(str(s), None if a is None else bool(a), r): int(n) for s, a, r, n in found}
