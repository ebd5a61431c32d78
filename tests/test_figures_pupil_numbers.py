"""Pupil numbers (migration 0019): a figures row with a pupil key carries that key's small number; the report counts numbers.

Fresh writes and the migration's backfill of older rows number the same pupils alike, so the report says the same; a key
stays in figure_pupils no longer than a figures row has it (SQLite and PostgreSQL).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from desk.report import build_report
from desk.retention import Retention
from intake.catalogue_loader import load_catalogue
from intake.questionnaire import load_questionnaire
from intake.report_model import Audience, Period, Table
from intake.retention import RetentionPeriods
from intake.workhours import WorkCalendar
from store.db import alembic_config, upgrade_database
from store.figure_models import FigurePupil, ReferralFigures
from store.models import Referral
from tests.mail_harness import DOMAIN, NOW
from tests.test_decisions import add_staff, eligible_answers
from tests.test_figures_data import submit
from tests.test_privacy_rights import rights
from tests.test_report_through_the_flow import story
from tests.test_serve_start import wait_for

F = ReferralFigures
LOTTE = {**eligible_answers(), "pupil_first_name": "Lotte", "pupil_last_name": "Maes", "pupil_birth_date": "2010-05-02"}


def grouping(session: Session, column: Any) -> tuple[set[frozenset[int]], set[int]]:
    """Which referrals share a value of column (each group once), and which have none."""
    groups: dict[object, set[int]] = defaultdict(set)
    without: set[int] = set()
    for referral_id, value in session.execute(select(F.referral_id, column)):
        (groups[value] if value is not None else without).add(referral_id)
    return {frozenset(group) for group in groups.values()}, without


def numbering(session: Session) -> tuple[set[frozenset[int]], set[int]]:
    """Which referrals share a pupil number."""
    return grouping(session, F.pupil_number)


def by_key(session: Session) -> tuple[set[frozenset[int]], set[int]]:
    """The same grouping by the pupil keys themselves."""
    return grouping(session, F.pupil_key)


def tables(session: Session) -> tuple[Table, ...]:
    """Every table of the internal report of the story's school year."""
    return build_report(session, period=Period.school_year(2026), audience=Audience.INTERNAL, min_cell=5, now=NOW + timedelta(days=60),
                        catalogue=load_catalogue(), waiting_days=10, actor="test", calendar=WorkCalendar()).tables


def kept_keys(session: Session) -> set[str]:
    """The pupil keys figure_pupils holds."""
    return set(session.scalars(select(FigurePupil.pupil_key)))


def test_the_backfill_numbers_older_rows_as_fresh_writes_do(database_url: str, db_engine: Engine, session_factory: sessionmaker[Session]) -> None:
    story(session_factory)
    with session_factory() as session:
        fresh, report = numbering(session), tables(session)
        assert fresh == by_key(session)
        assert any(len(group) == 3 for group in fresh[0])  # Zoë, referred three times: one number
    db_engine.dispose()  # PostgreSQL's prepared statements would outlive the dropped column
    command.downgrade(alembic_config(database_url), "0018")
    upgrade_database(database_url)
    with session_factory() as session:
        assert numbering(session) == fresh
        assert kept_keys(session) == {key for key in session.scalars(select(F.pupil_key)) if key is not None}
        assert tables(session) == report


def test_a_pupil_key_is_kept_only_while_a_figures_row_has_it(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        add_staff(session)
        zoe = [submit(session), submit(session, now=NOW + timedelta(days=30))]
        lotte = submit(session, LOTTE)
        zoe_key, lotte_key = (session.scalars(select(F.pupil_key).where(F.referral_id == r.id)).one() for r in (zoe[0], lotte))
        assert kept_keys(session) == {zoe_key, lotte_key}
    rights(session_factory).erase(lotte.reference or "", reason="vraag van de ouders", actor="cli:coordinator")
    retention = Retention(session_factory, periods=RetentionPeriods(), questionnaire=load_questionnaire(), domain=DOMAIN, clock=lambda: NOW)
    with session_factory.begin() as session:
        assert kept_keys(session) == {zoe_key}
        retention.pseudonymise(session, session.get_one(Referral, zoe[0].id), now=NOW + 700 * timedelta(days=1), actor="bewaartermijn")
        assert kept_keys(session) == {zoe_key}  # her other referral still has it
        retention.pseudonymise(session, session.get_one(Referral, zoe[1].id), now=NOW + 700 * timedelta(days=1), actor="bewaartermijn")
        assert kept_keys(session) == set()
        assert session.scalars(select(F.pupil_number).where(F.pupil_number.is_not(None))).all() == []


@pytest.mark.parametrize("empty_database_url", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True)
def test_a_key_released_while_another_referral_of_the_pupil_is_written_stays_for_that_referral(
    db_engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    with session_factory.begin() as session:
        add_staff(session)
        first = submit(session, LOTTE)
        key = session.scalars(select(F.pupil_key).where(F.referral_id == first.id)).one()
    writer = session_factory()
    try:
        second = submit(writer, LOTTE, now=NOW + timedelta(days=30))  # written, not yet committed: the key is this writer's too
        erased: list[BaseException | None] = []

        def erase_the_first() -> None:
            try:
                rights(session_factory).erase(first.reference or "", reason="vraag van de ouders", actor="cli:coordinator")
                erased.append(None)
            except BaseException as error:  # told to the test below, not lost in the thread
                erased.append(error)

        eraser = threading.Thread(target=erase_the_first)
        eraser.start()
        # The erasure either waits for the writer (the key's row is locked) or, without that lock, is already done.
        wait_for(lambda: erased or waiting_on_a_lock(db_engine), timeout=120, what="the erasure waits or ends")
        writer.commit()
        eraser.join(timeout=120)
        assert erased == [None]
    finally:
        writer.close()
    with session_factory() as session:
        number = session.scalars(select(F.pupil_number).where(F.referral_id == second.id)).one()
        assert session.scalars(select(FigurePupil.pupil_key).where(FigurePupil.number == number)).all() == [key]
        assert numbering(session) == by_key(session)


def waiting_on_a_lock(engine: Engine) -> bool:
    """Whether another connection of the database waits for a row lock (PostgreSQL's own view of its backends)."""
    with engine.connect() as connection:
        query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        return bool(connection.exec_driver_sql(query).scalar_one())
