"""Every moment a person reads is Brussels time, written dd/mm/jjjj HH:MM (issue 12, point 11).

The stored moments are UTC; each test picks one whose Brussels day or hour differs from UTC's,
so a UTC or ISO stamp cannot pass for a local one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.dialogue import Intake
from intake.lifecycle import Status
from intake.texts import brussels_time
from store import questions, referrals
from store import staff as staff_repo
from store.mail_models import OutboxMessage
from store.models import Staff
from tests.dispatch_fixtures import add_staff as add_dispatch_staff
from tests.dispatch_fixtures import intake_for, queue_referrals, twelve_provider_catalogue
from tests.mail_harness import Clock
from tests.telegram_harness import COORDINATOR_CHAT, COORDINATOR_USER, running_chat
from tests.test_cli_review import Runner, run  # noqa: F401 — `run` is a fixture
from tests.test_decisions import ELS, add_staff, make_referral
from tests.test_dispatch import COORDINATOR, brussels, dispatcher, services

# 22:30 UTC on 1 July is 00:30 on 2 July in Brussels (summer time): another day and another hour.
LATE_EVENING = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)
# Any ISO stamp (2026-07-01T22:30…, 2026-07-01 22:30) or a UTC offset.
ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\+00:00")


def test_the_helper_writes_brussels_time_in_summer_and_winter() -> None:
    assert brussels_time(LATE_EVENING) == "02/07/2026 00:30"
    assert brussels_time(datetime(2026, 12, 2, 8, 0, tzinfo=UTC)) == "02/12/2026 09:00"
    assert brussels_time(LATE_EVENING.isoformat()) == "02/07/2026 00:30", "the ISO form of a JSON-ready row"
    assert brussels_time(None) == "-"


def test_referrals_show_prints_creation_and_history_in_brussels_time(run: Runner, session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        reference = make_referral(session, Status.DISPATCHED, staff=add_staff(session), now=LATE_EVENING).reference or ""
    shown = run("referrals", "show", reference).output
    assert "aangemaakt: 02/07/2026 00:30" in shown
    history = shown[shown.index("Geschiedenis:"):]
    assert history.count("02/07/2026 00:30") == len(history.strip().splitlines()) - 1, "every line of the history"
    assert not ISO.search(shown), shown


def test_questions_list_prints_brussels_time(run: Runner, session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        questions.open_question(session, asker_email=ELS, staff_id=None, channel="email", text="Is er plaats?", context=None, now=LATE_EVENING)
    listed = run("questions", "list").output
    assert "02/07/2026 00:30" in listed and "01/07/2026" not in listed, listed


async def test_the_coordinators_open_questions_in_telegram_are_in_brussels_time(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    async with running_chat(session_factory, tmp_path) as h:
        with session_factory.begin() as session:
            questions.open_question(session, asker_email=ELS, staff_id=None, channel="email", text="Is er plaats?", context=None, now=LATE_EVENING)
        listed = (await h.say(COORDINATOR_USER, "/vragen", chat_id=COORDINATOR_CHAT, chat_type="supergroup"))[-1].text
    assert "02/07/2026 00:30" in listed, listed


def _set_aside_mail(session_factory: sessionmaker[Session], intake: Intake, clock: Clock, *, manual: bool) -> tuple[OutboxMessage, str]:
    """Queue one referral that can go out and one that cannot (its service takes referrals directly); run a batch."""
    staff: Staff = add_dispatch_staff(session_factory)
    good, unplaced = queue_referrals(intake, session_factory, staff, 2, service_ids=services(intake)[:1], now=clock() - timedelta(days=1))
    with session_factory.begin() as session:
        other = referrals.get_referral(session, unplaced)
        assert other is not None
        other.assigned_service_id = "groene-zorg"  # referrals go there directly, never through the Meldpunt
    runner = dispatcher(session_factory, intake, clock)
    runner.run_now("cli:test") if manual else runner.tick()
    with session_factory() as session:
        alarm = session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == COORDINATOR)).one()
        referral = referrals.get_referral(session, good)
        assert referral is not None
        note = referrals.status_history(session, referral)[-1].note or ""
        session.expunge(alarm)
    return alarm, note


def test_a_set_aside_mail_and_the_dispatch_note_name_the_batch_in_brussels_time(session_factory: sessionmaker[Session]) -> None:
    clock = Clock(brussels(2026, 12, 2, 9, 0))
    alarm, note = _set_aside_mail(session_factory, intake_for(twelve_provider_catalogue()), clock, manual=False)
    assert "02/12/2026 09:00" in alarm.subject and not ISO.search(alarm.subject), alarm.subject
    assert not ISO.search(alarm.body_text)
    assert "02/12/2026 09:00" in note and not ISO.search(note), note


def test_a_manual_batch_is_named_by_its_brussels_time_too(session_factory: sessionmaker[Session]) -> None:
    clock = Clock(datetime(2026, 7, 1, 22, 30, 15, tzinfo=UTC))  # `dispatch --now` late in the evening
    alarm, note = _set_aside_mail(session_factory, intake_for(twelve_provider_catalogue()), clock, manual=True)
    assert "02/07/2026 00:30" in alarm.subject and not ISO.search(alarm.subject), alarm.subject
    assert "02/07/2026 00:30" in note and not ISO.search(note), note


def test_staff_list_says_when_access_ended_in_brussels_time(run: Runner, session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        add_staff(session)
        assert staff_repo.remove_staff(session, ELS, now=LATE_EVENING)
    listed = run("staff", "list", "--all").output
    assert "verwijderd op 02/07/2026 00:30" in listed, listed
