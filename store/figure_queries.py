"""The report's SQL: GROUP BY queries over the figures tables for a range of submission days; aggregates only, never rows.

Every period query counts the referrals (and imported trajectories) submitted from `start` to `end`, both included,
from temporary copies of those rows made once per report (period_rows), so the figures table is read once.
Keys come back as stored (codes); desk.report turns them into Dutch labels.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Unpack

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    func,
    insert,
    literal,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.dispatch_models import DispatchItem
from store.figure_counting import NO_VALUE, count_groups
from store.figure_models import DispatchAnswer, FigureProblemArea, ReferralFigures

F = ReferralFigures
Key = tuple[object, ...]
# The figures columns the period's tables count: copied once per report into a temporary table (PeriodRows).
COPIED = ("id", "referral_id", "source", "submitted_on", "status", "eligible", "ineligible_reason", "region", "municipality", "school", "clb", "age",
          "age_band", "school_level", "school_grade", "education_form", "urgency", "referrer_role", "preferred_service",
          "suggested_service", "service", "set_aside", "coordinator_declined", "provider_declines", "no_offer_in_region",
          "dispatched_at", "accepted_at", "round_table_at", "started_at", "completed_at", "outcome")
# Columns only the internal report groups on (per school, per CLB): the public report's copy leaves them out.
INTERNAL_ONLY = ("school", "clb")
META = MetaData()  # the report's temporary tables
# One row per figures row of the period. `pupil` is a small number per pupil key, only for the pupils with more than one row
# in the period; NULL for a pupil's only row and for a row without a key: such a row is a pupil of its own (see pupils()).
# So COUNT(DISTINCT) compares integers instead of 64-character keys, and only for the few rows that can repeat a pupil.
ROWS = Table("report_period", META, *(Column(name, F.__table__.c[name].type) for name in COPIED), Column("pupil", Integer),
             prefixes=["TEMPORARY"])
# Per (problem area, region, pupil number): how many period rows name that area. The rows without a pupil number (see ROWS)
# fold into one row per area and region, so the problem tables group a few thousand rows instead of one per row and area.
PROBLEMS = Table("report_period_problems", META, Column("problem_area", String(32)), Column("region", String(16)),
                 Column("pupil", Integer), Column("referrals", Integer), prefixes=["TEMPORARY"])
# The columns the "Regio en school" and eligibility tables group on (each alone, or region with municipality, or eligible with
# reason). CUBE holds the period's rows counted per combination of them and pupil number: the rows without a number fold
# together, so those tables group a few thousand rows instead of every row of the period.
CUBED = ("region", "municipality", "age_band", "school_level", "school_grade", "education_form", "urgency", "referrer_role",
         "eligible", "ineligible_reason")
CUBE = Table("report_period_cube", META, *(Column(name, F.__table__.c[name].type) for name in CUBED), Column("pupil", Integer),
             Column("referrals", Integer), prefixes=["TEMPORARY"])


def _keyed(table: Table) -> Table:
    """SQLite only: a fold table's twin keyed by its grouping columns (those before referrals), counted into by _count_into."""
    names = [column.name for column in table.c]
    keys = (Column(c.name, c.type, primary_key=True, autoincrement=False) for c in table.c if names.index(c.name) < names.index("referrals"))
    counts = (Column(name, Integer) for name in names[names.index("referrals"):])
    return Table(f"{table.name}_keys", META, *keys, *counts, prefixes=["TEMPORARY"], sqlite_with_rowid=False)


# The groupings of CUBE the report tallies (tables "Regio en school", eligibility, region links): one query on PostgreSQL.
GROUPINGS = (("region",), ("municipality",), ("age_band",), ("school_level",), ("school_grade",), ("education_form",), ("urgency",),
             ("referrer_role",), ("eligible",), ("region", "municipality"), ("eligible", "ineligible_reason"))
# The demand and trajectories tables' columns: FLOW holds the period's rows counted per combination of them and pupil number,
# with how many of them reached each milestone.
# Again the rows without a number fold together: the demand queries group tens of thousands of rows, not every row.
FLOWED = ("source", "preferred_service", "suggested_service", "service", "outcome")
MILESTONES = ("submitted_on", "dispatched_at", "accepted_at", "round_table_at", "started_at", "completed_at")
REACHED = MILESTONES[2:]  # accepted, round table, started, completed: counted per group
FLOW = Table("report_period_flow", META, *(Column(name, F.__table__.c[name].type) for name in FLOWED), Column("pupil", Integer),
             Column("referrals", Integer), *(Column(f"n_{name}", Integer) for name in REACHED), prefixes=["TEMPORARY"])
KEYED = {table.name: _keyed(table) for table in (PROBLEMS, CUBE, FLOW)}
R = ROWS.c
WORK_MEM = "64MB"  # PostgreSQL's memory for each sort and hash of the report's transaction


@dataclass(frozen=True)
class PeriodRows:
    """The period's figures rows: copied once into temporary tables every query of the report groups (period_rows), or
    for the demand table alone read in place (direct_rows)."""

    session: Session
    start: date
    end: date
    copied: bool = True
    referrals: tuple[int, int] | None = None  # the copy's first and last referral id (None: no referral, or read in place)
    moments: tuple[object, ...] = ()  # the copy's first moment of each of MILESTONES, then the last of each (None: not there)
    # PostgreSQL: the tallies of every grouping in GROUPINGS, from one GROUPING SETS query over CUBE at the first tally_by.
    folded: dict[tuple[str, ...], dict[Key, Tally]] = field(default_factory=dict, compare=False)

    @property
    def table(self) -> Table:
        """ROWS, or the figures table itself."""
        return ROWS if self.copied else ReferralFigures.__table__  # type: ignore[return-value]

    @property
    def where(self) -> ColumnElement[bool]:
        """What picks the period's rows from `table`: ROWS holds nothing else."""
        return true() if self.copied else in_period(self.start, self.end)

    @property
    def pupil(self) -> ColumnElement[Any]:
        """The column pupils() counts: ROWS's numbers of repeated pupils, or every row's pupil number (a row without one counts once)."""
        return R.pupil if self.copied else F.__table__.c.pupil_number


def direct_rows(session: Session, start: date, end: date) -> PeriodRows:
    """The period's rows read in place: only for DemandFacts' queries (demand_groups, pupils_by_service, dispatch_outcomes, tally_total)."""
    return PeriodRows(session, start, end, copied=False)


@contextmanager
def period_rows(session: Session, start: date, end: date, *, internal: bool = True) -> Iterator[PeriodRows]:
    """Copy the rows submitted from start to end (both included) into ROWS and PROBLEMS; dropped again on leaving.

    One range scan of the figures table and one grouping of the pupil numbers instead of one per table of the report.
    Without `internal` the school and CLB columns (only the internal report's) stay empty: a narrower copy.
    """
    connection = session.connection()
    _drop(connection)
    ROWS.create(connection)
    PROBLEMS.create(connection)
    _tune(connection)
    names = COPIED if internal else tuple(name for name in COPIED if name not in INTERNAL_ONLY)
    # Only the pupils with more than one row keep their number: one GROUP BY of the stored numbers (integers), a few rows.
    number = F.pupil_number
    repeated = (select(number.label("pupil")).where(F.submitted_on.between(start, end), number.is_not(None))
                .group_by(number).having(func.count() > 1).subquery("repeated"))
    picked = (select(*(getattr(F, name) for name in names), repeated.c.pupil)
              .where(F.submitted_on.between(start, end), *_id_stretch(connection, start, end))
              .outerjoin(repeated, repeated.c.pupil == number))
    connection.execute(insert(ROWS).from_select([*names, "pupil"], picked))
    if connection.dialect.name == "postgresql":
        # Autovacuum never analyses a temporary table: without statistics the planner guesses its size (a tenth of it) and
        # sorts where it should hash. Before the folds below, which join and group it. Only the join columns: analysing every
        # column costs more than it saves.
        connection.exec_driver_sql(f"ANALYZE {ROWS.name} (id, referral_id)")
    # The copy's id and referral id ranges, as values: redundant for the results, they let the figures_id and referral_id
    # indexes read only the period's stretch (ids follow time), and as values (not subqueries) PostgreSQL estimates the
    # stretch's size, so it hashes instead of sorting.
    # In the same pass: the first and last moment of each milestone, for the lead times' day table (milestone_span).
    ends = (func.min(R.id), func.max(R.id), func.min(R.referral_id), func.max(R.referral_id),
            *(func.min(R[name]) for name in MILESTONES), *(func.max(R[name]) for name in MILESTONES))
    spans = connection.execute(select(*ends)).one()
    ids, referrals = ((int(spans[i]), int(spans[i + 1])) if spans[i] is not None else None for i in (0, 2))
    stretch = FigureProblemArea.figures_id.between(*ids) if ids else true()
    joined = select().join(FigureProblemArea, FigureProblemArea.figures_id == R.id).where(stretch)
    _count_into(connection, PROBLEMS, (FigureProblemArea.__table__.c.problem_area, R.region, R.pupil), joined)
    CUBE.create(connection)
    _count_into(connection, CUBE, [R[name] for name in CUBED] + [R.pupil], select().select_from(ROWS).where(true()))
    _fold_flow(connection)
    try:
        yield PeriodRows(session, start, end, referrals=referrals, moments=tuple(spans[4:]))
    finally:
        _drop(session.connection())


def _tune(connection: Connection) -> None:
    """The database's settings for the report's transaction (PostgreSQL) or connection (SQLite)."""
    if connection.dialect.name == "postgresql":
        # The copy and the counts sort the period's rows: in memory, not in files (the default 4 MB spills to disk).
        connection.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")
        # Compiling the report's short queries to machine code costs more than it saves (tens of ms each).
        connection.exec_driver_sql("SET LOCAL jit = off")
    else:
        # secure_delete (store.db) zeroes each page a DROP frees: the temporary tables live in memory and never reach a file
        # (set once they exist: before, the temp schema is not there and the pragma does nothing).
        connection.exec_driver_sql("PRAGMA temp.secure_delete = OFF")


def _id_stretch(connection: Connection, start: date, end: date) -> list[ColumnElement[bool]]:
    """SQLite: the period's first and last figures id as bounds, so the copy reads that stretch of the table in order (ids
    follow time) instead of a row lookup per entry of the submission-day index; the bounds come from that index alone."""
    if connection.dialect.name != "sqlite":
        return []
    first, last = connection.execute(select(func.min(F.id), func.max(F.id)).where(F.submitted_on.between(start, end))).one()
    return [] if first is None else [F.id.between(first, last)]


def _count_into(connection: Connection, table: Table, keys: Sequence[ColumnElement[Any]], rows: Select[Any],
                counted: Sequence[ColumnElement[Any]] = ()) -> None:
    """Fill a fold table (its columns: the keys, referrals, then one per `counted`) with `rows` counted per combination of
    the keys: how many, and how many have each `counted` value.

    SQLite groups by sorting, slow for a few hundred thousand rows: it counts the rows without a pupil number (the last key)
    into the keyed twin (KEYED) instead, an upsert per row with NULL keys as NO_VALUE, then copies those groups over. The
    numbered rows (a pupil's rows seldom share every key) go in as they are, a row each: the folds' readers only add up.
    `rows` needs a WHERE: SQLite would read the upsert's ON CONFLICT as a join's ON otherwise.
    """
    names = [column.name for column in table.c]
    if connection.dialect.name == "postgresql":
        grouped = rows.add_columns(*keys, func.count(), *(func.count(value) for value in counted)).group_by(*keys)
        connection.execute(insert(table).from_select(names, grouped))
        return
    keyed, pupil = KEYED[table.name], keys[-1]
    keyed.create(connection)
    ones = [literal(1), *(case((value.is_not(None), 1), else_=0) for value in counted)]
    connection.execute(insert(table).from_select(names, rows.add_columns(*keys, *ones).where(pupil.is_not(None))))
    alone = rows.add_columns(*(func.coalesce(key, NO_VALUE) for key in keys), *ones).where(pupil.is_(None))
    upsert = sqlite_insert(keyed).from_select(names, alone)
    sums = names[len(keys):]
    connection.execute(upsert.on_conflict_do_update(set_={name: keyed.c[name] + upsert.excluded[name] for name in sums}))
    groups = select(*(func.nullif(keyed.c[name], NO_VALUE) for name in names[:len(keys)]), *(keyed.c[name] for name in sums))
    connection.execute(insert(table).from_select(names, groups))


def _fold_flow(connection: Connection) -> None:
    """Fill FLOW from ROWS: one count for the demand and trajectories tables and the period's total."""
    FLOW.create(connection)
    keys = [R[name] for name in FLOWED] + [R.pupil]
    _count_into(connection, FLOW, keys, select().select_from(ROWS).where(true()), [R[name] for name in REACHED])


def _drop(connection: Connection) -> None:
    """Drop the temporary tables (a run that failed half-way may have left them on a pooled connection)."""
    for table in reversed(META.sorted_tables):  # also those of store.figure_lead_times
        table.drop(connection, checkfirst=True)


@dataclass(frozen=True)
class Tally:
    """How many referrals and how many distinct pupils."""

    referrals: int
    pupils: int


def in_period(start: date, end: date) -> ColumnElement[bool]:
    """Submitted from start to end, both included."""
    return F.submitted_on.between(start, end)


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
            rows.folded.update(_grouping_sets(rows.session))
        return rows.folded.get(names, {})
    if all(column.name in CUBED for column in columns):
        keys = [CUBE.c[column.name] for column in columns]
        query = select(*keys, *_folded_counts(CUBE)).group_by(*keys)
    else:
        query = select(*columns, func.count(), pupils()).group_by(*columns)
    return _tallies(rows.session, query, len(columns))


def _grouping_sets(session: Session) -> dict[tuple[str, ...], dict[Key, Tally]]:
    """PostgreSQL: every grouping of GROUPINGS over CUBE in one statement; GROUPING() tells which grouping a row is of."""
    names = [name for name in CUBED if any(name in grouping for grouping in GROUPINGS)]
    columns = [CUBE.c[name] for name in names]
    sets = func.grouping_sets(*(tuple_(*(CUBE.c[name] for name in grouping)) for grouping in GROUPINGS))
    # GROUPING(a, b, …) sets a column's bit (the first column the highest) when the row's grouping leaves it out.
    masks = {sum(1 << (len(names) - 1 - i) for i, name in enumerate(names) if name not in grouping): grouping for grouping in GROUPINGS}
    found: dict[tuple[str, ...], dict[Key, Tally]] = {grouping: {} for grouping in GROUPINGS}
    for row in session.execute(select(*columns, *_folded_counts(CUBE), func.grouping(*columns)).group_by(sets)):
        grouping = masks[int(row[-1])]
        key = tuple(row[names.index(name)] for name in grouping)
        found[grouping][key] = Tally(int(row[-3]), int(row[-2]))
    return found


def tally_total(rows: PeriodRows) -> Tally:
    """All referrals and pupils of the period."""
    if rows.copied:
        return _tallies(rows.session, select(*_folded_counts(FLOW)), 0).get((), Tally(0, 0))
    row = rows.session.execute(select(func.count(), pupils(pupil=rows.pupil)).select_from(rows.table).where(rows.where)).one()
    return Tally(int(row[0]), int(row[1] or 0))


def tally_by_problem(rows: PeriodRows) -> dict[Key, Tally]:
    """Referrals and pupils per problem area: a referral counts once in each of its areas.

    Pupils as pupils() counts them: the folded rows without a number (a pupil each) plus the distinct numbers.
    """
    p = PROBLEMS.c
    alone = func.sum(case((p.pupil.is_(None), p.referrals), else_=0))
    query = select(p.problem_area, func.sum(p.referrals), alone + func.count(func.distinct(p.pupil))).group_by(p.problem_area)
    return _tallies(rows.session, query, 1)


def referrals_by_problem_and_region(rows: PeriodRows) -> dict[Key, int]:
    """Referrals per (problem area, region), without pupils: the signaalfunctie's table shows referrals only."""
    keys = (PROBLEMS.c.problem_area, PROBLEMS.c.region)
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
        f = FLOW.c
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
