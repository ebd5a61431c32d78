"""The report's period rows: a temporary copy of the figures rows submitted in a range of days, and its folded counts.

Every period query (store.figure_tallies, store.figure_signal, store.figure_lead_times) counts the referrals (and imported
trajectories) submitted from `start` to `end`, both included, from this copy, made once per report and lane (period_rows),
so the figures table is read once per lane.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    case,
    func,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy.orm import Session

from store.db import upsert_into
from store.figure_counting import NO_VALUE
from store.figure_models import FigureProblemArea, ReferralFigures

F = ReferralFigures
Key = tuple[object, ...]
# The figures columns the period's tables count: copied once per report lane into a temporary table (PeriodRows).
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
MMAP_BYTES = 2**31 - 2**16  # SQLite's largest map by default (SQLITE_MAX_MMAP_SIZE): a million referrals take 1.3 GB


@dataclass(frozen=True)
class PeriodRows:
    """The period's figures rows: copied once into a temporary table every query of the report groups (period_rows), or
    for the demand table alone read in place (direct_rows).

    The folds (PROBLEMS, CUBE, FLOW) and the copy's bounds are made on first use: each lane of a report (desk.report) makes
    only those its tables read.
    """

    session: Session
    start: date
    end: date
    copied: bool = True
    # PostgreSQL: the tallies of every grouping in GROUPINGS, from one GROUPING SETS query over CUBE at the first tally_by.
    folded: dict[tuple[str, ...], dict[Key, Any]] = field(default_factory=dict, compare=False)
    made: dict[str, Any] = field(default_factory=dict, compare=False)  # the folds made so far, and the bounds once read

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

    @property
    def referrals(self) -> tuple[int, int] | None:
        """The copy's first and last referral id (None: no referral, or read in place)."""
        return self._bounds().referrals if self.copied else None

    @property
    def moments(self) -> tuple[object, ...]:
        """The copy's first moment of each of MILESTONES, then the last of each (None: not there); () when read in place."""
        return self._bounds().moments if self.copied else ()

    def fold(self, table: Table) -> Table:
        """PROBLEMS, CUBE or FLOW, counted from ROWS the first time a query asks for it."""
        if table.name not in self.made:
            connection = self.session.connection()
            table.create(connection)  # here, not with ROWS: a query that forgot to fold fails instead of counting nothing
            if table is PROBLEMS:
                ids = self._bounds().ids
                stretch = FigureProblemArea.figures_id.between(*ids) if ids else true()
                joined = select().join(FigureProblemArea, FigureProblemArea.figures_id == R.id).where(stretch)
                _count_into(connection, PROBLEMS, (FigureProblemArea.__table__.c.problem_area, R.region, R.pupil), joined)
            elif table is CUBE:
                _count_into(connection, CUBE, [R[name] for name in CUBED] + [R.pupil], select().select_from(ROWS).where(true()))
            else:
                keys = [R[name] for name in FLOWED] + [R.pupil]
                _count_into(connection, FLOW, keys, select().select_from(ROWS).where(true()), [R[name] for name in REACHED])
            self.made[table.name] = True
        return table

    def _bounds(self) -> Bounds:
        """The copy's id and referral-id ranges and its milestones' first and last moments: one pass, on first use."""
        if "bounds" not in self.made:
            self.made["bounds"] = _read_bounds(self.session.connection())
        return self.made["bounds"]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Bounds:
    """What _read_bounds found: (first, last) figures id and referral id (None: no rows), and the milestones' moments."""

    ids: tuple[int, int] | None
    referrals: tuple[int, int] | None
    moments: tuple[object, ...]


def _read_bounds(connection: Connection) -> Bounds:
    """The copy's id and referral id ranges and the first and last moment of each milestone, in one pass over ROWS.

    The ranges, as values: redundant for the results, they let the figures_id and referral_id indexes read only the period's
    stretch (ids follow time), and as values (not subqueries) PostgreSQL estimates the stretch's size, so it hashes instead of
    sorting. The moments bound the lead times' day table (milestone_span).
    """
    ends = (func.min(R.id), func.max(R.id), func.min(R.referral_id), func.max(R.referral_id),
            *(func.min(R[name]) for name in MILESTONES), *(func.max(R[name]) for name in MILESTONES))
    spans = connection.execute(select(*ends)).one()
    ids, referrals = ((int(spans[i]), int(spans[i + 1])) if spans[i] is not None else None for i in (0, 2))
    return Bounds(ids, referrals, tuple(spans[4:]))


def direct_rows(session: Session, start: date, end: date) -> PeriodRows:
    """The period's rows read in place: only for DemandFacts' queries (demand_groups, pupils_by_service, dispatch_outcomes, tally_total)."""
    return PeriodRows(session, start, end, copied=False)


@contextmanager
def period_rows(session: Session, start: date, end: date, *, internal: bool = True,
                columns: Collection[str] | None = None) -> Iterator[PeriodRows]:
    """Copy the rows submitted from start to end (both included) into ROWS; dropped again, with the folds, on leaving.

    One range scan of the figures table and one grouping of the pupil numbers instead of one per table of the report.
    Without `internal` the copy leaves out the school and CLB columns (only the internal report's), and with `columns` every
    column of COPIED not named there: a narrower copy is a faster one, and a query on a column left out fails, never counts
    empty values.
    """
    connection = session.connection()
    _drop(connection)
    names = [name for name in COPIED if (internal or name not in INTERNAL_ONLY) and (columns is None or name in columns)]
    Table(ROWS.name, MetaData(), *(ROWS.c[name]._copy() for name in [*names, "pupil"]), prefixes=["TEMPORARY"]).create(connection)
    _tune(connection)
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
        # sorts where it should hash. Before the folds, which join and group it. Only the join columns: analysing every
        # column costs more than it saves.
        connection.exec_driver_sql(f"ANALYZE {ROWS.name} ({', '.join(name for name in ('id', 'referral_id') if name in names)})")
    try:
        yield PeriodRows(session, start, end)
    finally:
        _drop(session.connection())
        _untune(session.connection())


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
        # Read the file memory-mapped: with two lanes on two connections (desk.report_lanes), plain reads of one file make
        # their copies take turns. Back to none when the report ends (_untune): the connection returns to the pool.
        connection.exec_driver_sql(f"PRAGMA mmap_size = {MMAP_BYTES}")


def _untune(connection: Connection) -> None:
    """Undo what _tune set for the connection (PostgreSQL's settings end with the transaction by themselves)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA mmap_size = 0")


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
    upsert = upsert_into("sqlite", keyed).from_select(names, alone)
    sums = names[len(keys):]
    connection.execute(upsert.on_conflict_do_update(set_={name: keyed.c[name] + upsert.excluded[name] for name in sums}))
    groups = select(*(func.nullif(keyed.c[name], NO_VALUE) for name in names[:len(keys)]), *(keyed.c[name] for name in sums))
    connection.execute(insert(table).from_select(names, groups))


def _drop(connection: Connection) -> None:
    """Drop the temporary tables (a run that failed half-way may have left them on a pooled connection)."""
    for table in reversed(META.sorted_tables):  # also those of store.figure_lead_times
        table.drop(connection, checkfirst=True)


def in_period(start: date, end: date) -> ColumnElement[bool]:
    """Submitted from start to end, both included."""
    return F.submitted_on.between(start, end)
