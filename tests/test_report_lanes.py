"""The report counts in two lanes: two connections on one snapshot (store.snapshot), the same figures as one lane.

On the hand-counted data set of test_report_engine; real SQLite files and a real PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from pydantic import PrivateAttr
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from desk.report import build_report
from desk.report_lanes import SideCounts, side_lane
from intake.report_model import Audience, Report
from intake.workhours import WorkCalendar
from store.audit import AuditAction
from store.db import create_db_engine, make_session_factory
from store.figure_models import ReferralFigures
from store.figure_queries import PeriodRows, period_rows
from store.models import AuditEntry
from store.snapshot import second_reader
from tests.test_report_engine import NOW, YEAR, catalogue, insert_data_set

COORDINATOR = "coordinator@meldpunt.example"
ON_SQLITE = pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)  # in-memory files and SQLite's write lock


def made(session: Session, audience: Audience, *, parallel: bool = True, calendar: WorkCalendar | None = None) -> Report:
    """The data set's school-year report."""
    return build_report(session, period=YEAR, audience=audience, min_cell=5, now=NOW, catalogue=catalogue(), waiting_days=10,
                        actor=COORDINATOR, calendar=calendar or WorkCalendar(), parallel=parallel)


def figures_rows(session: Session) -> int:
    """How many figures rows the session sees."""
    return int(session.scalar(select(func.count()).select_from(ReferralFigures)) or 0)


def another_figures_row(factory: sessionmaker[Session]) -> None:
    """Someone else commits a referral's figures row (as the bot or an import would, while a report runs)."""
    with factory() as other:
        other.add(ReferralFigures(source="groene_zorg", import_key="later", submitted_on=date(2026, 3, 2), status="completed",
                                  updated_at=NOW))
        other.commit()


@pytest.mark.parametrize("audience", [Audience.PUBLIC, Audience.INTERNAL])
def test_two_lanes_make_the_same_report_as_one(session: Session, audience: Audience) -> None:
    insert_data_set(session)
    with second_reader(session) as second:
        assert second is not None  # nothing open (and SQLite: a file in WAL mode): the report below does count in two lanes
    session.rollback()
    assert made(session, audience).tables == made(session, audience, parallel=False).tables
def test_the_second_reader_sees_what_the_first_sees_and_no_later_commit(session: Session, session_factory: sessionmaker[Session]) -> None:
    insert_data_set(session)
    before = figures_rows(session)
    session.rollback()  # that count's transaction ends: the second reader starts with the next
    with second_reader(session) as second:
        assert second is not None
        another_figures_row(session_factory)
        assert (figures_rows(session), figures_rows(second)) == (before, before)
    session.commit()
    assert figures_rows(session) == before + 1
def test_no_second_reader_while_the_session_has_written(session: Session) -> None:
    session.add(ReferralFigures(source="groene_zorg", import_key="pending", submitted_on=date(2026, 3, 2), status="completed",
                                  updated_at=NOW))
    session.flush()  # written, not committed: a second connection could not see it
    with second_reader(session) as second:
        assert second is None


def test_no_second_reader_for_an_in_memory_database() -> None:
    engine = create_db_engine("sqlite://")
    with make_session_factory(engine)() as session, second_reader(session) as second:
        assert second is None
    engine.dispose()
@ON_SQLITE
def test_no_second_reader_while_another_connection_keeps_the_write_lock(session: Session, db_engine: Engine) -> None:
    holder = db_engine.raw_connection()
    holder.cursor().execute("BEGIN IMMEDIATE")
    try:
        with second_reader(session) as second:  # waits out the busy timeout (store.db), then counts in one lane
            assert second is None
    finally:
        holder.rollback()
        holder.close()


def test_an_error_in_the_second_lane_reaches_the_report(session: Session) -> None:
    insert_data_set(session)

    def failing(rows: PeriodRows) -> SideCounts:
        raise LookupError("tweede baan")

    with side_lane(session, YEAR, failing) as lanes, period_rows(session, YEAR.start, YEAR.end, columns=lanes.columns) as rows:
        assert lanes.columns is not None  # the first lane copies its own columns only: the second one counts
        with pytest.raises(LookupError, match="tweede baan"):
            lanes.side(rows)


class CommittingCalendar(WorkCalendar):
    """Weekends and holidays as usual; the first time it is asked, someone else commits (the report is half-way then)."""

    _commit: Callable[[], None] = PrivateAttr()
    _asked: list[bool] = PrivateAttr(default_factory=list)

    def is_working_day(self, day: date) -> bool:
        """Commit once, then answer as WorkCalendar does."""
        if not self._asked:
            self._asked.append(True)
            self._commit()
        return super().is_working_day(day)


@pytest.mark.parametrize("parallel", [True, False], ids=["two-lanes", "one-lane"])
def test_a_commit_elsewhere_during_the_report_does_not_stop_its_audit_row(session: Session, session_factory: sessionmaker[Session],
                                                                          parallel: bool) -> None:
    insert_data_set(session)
    calendar = CommittingCalendar()
    calendar._commit = lambda: another_figures_row(session_factory)
    report = made(session, Audience.PUBLIC, parallel=parallel, calendar=calendar)
    assert calendar._asked and report.tables
    audits = session.scalars(select(AuditEntry).where(AuditEntry.action == AuditAction.REPORT.value)).all()
    assert [entry.actor for entry in audits] == [COORDINATOR]
